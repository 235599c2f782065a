#!/usr/bin/env bash
# Reproduces the calibration tables of docs/accuracy.md: converts each configuration, then
# measures it with `qpack eval` on held-out text (licenses:evaluation) and prints one markdown
# row per configuration. Usage: scripts/accuracy/table.sh [minilm|smollm2|all]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
swift build -c release --product qpack >/dev/null
qpack="$(swift build -c release --show-bin-path)/qpack"
out="$root/.cache/accuracy"
mkdir -p "$out"
minilm="$root/.cache/models/all-MiniLM-L6-v2/model.safetensors"
smollm="$root/.cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
smollm_q4_0="$root/.cache/models/SmolLM2-135M-Instruct-q4_0/SmolLM2-135M-Instruct.Q4_0.gguf" # scripts/make-hf-llama.sh
cal=(--calibration licenses:calibration --samples 16 --seq-len 96)
evalopts=(--dataset licenses:evaluation --samples 32 --seq-len 128 --json -q)

row() { # name model file -- convert options...
    local name="$1" model="$2" file="$3"; shift 3
    "$qpack" convert "$model" -o "$file" --force -q "$@"
    local json
    json="$("$qpack" eval "$file" --source "$model" "${evalopts[@]}")"
    python3 - "$name" "$json" "$*" <<'PY'
import json, sys
name, j, cmd = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
bpw = f"{j['bits_per_weight']:.2f}"
if j.get('mean_kl') is not None:
    print(f"| {name} | {bpw} | {j['mean_kl']:.4f} | {100 * j['top1_agreement']:.1f}% | {j['perplexity_float']:.3f} / {j['perplexity_packed']:.3f} | `{cmd}` |")
else:
    print(f"| {name} | {bpw} | {j['mean_cosine']:.5f} | {j['minimum_cosine']:.5f} | `{cmd}` |")
PY
}

which="${1:-all}"
if [[ "$which" == minilm || "$which" == all ]]; then
    echo "| MiniLM | bits/weight | mean cosine | min cosine | convert options |"
    echo "|---|---|---|---|---|"
    row "all-int8 (dynamic)" "$minilm" "$out/m-int8.qpack" --rules Fixtures/rules/all-int8.yaml
    row "default (int8 linears, f16 attention output)" "$minilm" "$out/m-default.qpack"
    row "all-int4 (dynamic)" "$minilm" "$out/m-int4.qpack" --rules Fixtures/rules/all-int4.yaml
    row "all-int4, importance search" "$minilm" "$out/m-int4-imp.qpack" --rules Fixtures/rules/all-int4.yaml "${cal[@]}" --search importance
    row "all-qai4 (asymmetric int4, blocks of 32)" "$minilm" "$out/m-qai4.qpack" --rules Fixtures/rules/all-qai4.yaml
    row "all-qai4, importance search" "$minilm" "$out/m-qai4-imp.qpack" --rules Fixtures/rules/all-qai4.yaml "${cal[@]}" --search importance
    row "all-int4 incl. embeddings, importance search" "$minilm" "$out/m-int4e-imp.qpack" --rules Fixtures/rules/all-int4-embeddings-int4.yaml "${cal[@]}" --search importance
    row "static int8 (minmax, no smoothing)" "$minilm" "$out/m-static-minmax.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer minmax --smooth 0
    row "static int8 (mse)" "$minilm" "$out/m-static-mse.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer mse
    row "static int8 (percentile 99.99)" "$minilm" "$out/m-static-pct.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer percentile
    row "static int8 (entropy)" "$minilm" "$out/m-static-ent.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer entropy
    row "static int8 (minmax), smoothing 0.6" "$minilm" "$out/m-static-smooth06.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer minmax --smooth 0.6
    row "static int8 (minmax), smoothing 0.75" "$minilm" "$out/m-static-smooth075.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer minmax --smooth 0.75
    row "static int8 (minmax), smoothing 0.8" "$minilm" "$out/m-static-smooth08.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer minmax --smooth 0.8
    row "static int8 (minmax, no smoothing) but FFN down projection dynamic" "$minilm" "$out/m-static-mixed.qpack" --rules Fixtures/rules/static-int8-ffn-down-dynamic.yaml "${cal[@]}" --observer minmax --smooth 0
    row "budget: min cosine 0.995 from all-int4, importance" "$minilm" "$out/m-budget.qpack" --rules Fixtures/rules/all-int4.yaml "${cal[@]}" --search importance --min-cosine 0.995
    row "budget: 6 bits per weight from all-int4 incl. embeddings, importance" "$minilm" "$out/m-budget-bpw.qpack" --rules Fixtures/rules/all-int4-embeddings-int4.yaml "${cal[@]}" --search importance --target-bpw 6
    echo
fi
if [[ "$which" == smollm2 || "$which" == all ]]; then
    echo "| SmolLM2 | bits/weight | mean KL | top-1 | perplexity float / packed | convert options |"
    echo "|---|---|---|---|---|---|"
    row "all-int8 (dynamic)" "$smollm" "$out/s-int8.qpack" --rules Fixtures/rules/all-int8.yaml
    row "default (Q4_1 linears repacked exactly, f16 attention output, Q8_0 embeddings/head f16)" "$smollm" "$out/s-default.qpack"
    row "Q4_1 linears and attention output repacked exactly, Q8_0 embeddings/head f16" "$smollm" "$out/s-lossless-attn.qpack" --rules Fixtures/rules/lossless-attention-output.yaml
    row "Q4_1 linears repacked exactly, int8 embeddings/head" "$smollm" "$out/s-lossless-int8t.qpack" --rules Fixtures/rules/lossless-int8-tables.yaml
    row "requantized: int4 qsi4c32 linears, int8 embeddings/head (the rules before lossless-first)" "$smollm" "$out/s-requant.qpack" --rules Fixtures/rules/requantize-int4.yaml
    row "requantized int4, importance search" "$smollm" "$out/s-requant-imp.qpack" --rules Fixtures/rules/requantize-int4.yaml "${cal[@]}" --search importance
    row "all-qai4: every linear asymmetric int4 from the dequantized values (qai4c32, mse search)" "$smollm" "$out/s-qai4.qpack" --rules Fixtures/rules/all-qai4.yaml
    row "all-int4 incl. embeddings/head" "$smollm" "$out/s-int4e.qpack" --rules Fixtures/rules/all-int4-embeddings-int4.yaml
    row "all-int4 incl. embeddings/head, importance search" "$smollm" "$out/s-int4e-imp.qpack" --rules Fixtures/rules/all-int4-embeddings-int4.yaml "${cal[@]}" --search importance
    row "static int8 (minmax, no smoothing)" "$smollm" "$out/s-static.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer minmax --smooth 0
    row "static int8 (minmax), smoothing 0.75" "$smollm" "$out/s-static-smooth.qpack" --rules Fixtures/rules/all-int8.yaml "${cal[@]}" --mode static --observer minmax --smooth 0.75
    row "static int8 (no smoothing), FFN down dynamic" "$smollm" "$out/s-static-mixed.qpack" --rules Fixtures/rules/static-int8-ffn-down-dynamic.yaml "${cal[@]}" --observer minmax --smooth 0
    row "budget: 5.5 bits per weight from all-int4 incl. embeddings, importance" "$smollm" "$out/s-budget-bpw.qpack" --rules Fixtures/rules/all-int4-embeddings-int4.yaml "${cal[@]}" --search importance --target-bpw 5.5
    row "budget: max KL 0.05 from all-int4 incl. embeddings, importance" "$smollm" "$out/s-budget-kl.qpack" --rules Fixtures/rules/all-int4-embeddings-int4.yaml "${cal[@]}" --search importance --max-kl 0.05
    echo
    echo "| SmolLM2, Q4_0 copy (gguf-py) | bits/weight | mean KL | top-1 | perplexity float / packed | convert options |"
    echo "|---|---|---|---|---|---|"
    row "default (Q4_0 linears repacked exactly)" "$smollm_q4_0" "$out/s40-default.qpack"
fi
