#!/usr/bin/env bash
# Derives Hugging Face Llama checkpoints from the SmolLM2 GGUF (Fixtures/hf-llama/from_gguf.py:
# gguf-py's dequantized weights, q/k un-permuted, tokenizer.json saved by the tokenizers
# package) into .cache/models, and their independent numpy references
# (Fixtures/hf-llama/reference.py). Plain, and with a Llama 3.1 rope_scaling block. Also a Q4_0
# copy of the GGUF written by gguf-py (Fixtures/real-models/make_q4_0.py).
# Idempotent: skipped when the inputs and generators are unchanged.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
models="${QPACK_MODELS_DIR:-$root/.cache/models}"
py="$root/.venv/bin/python"
gguf="$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
plain="$models/SmolLM2-135M-Instruct-hf"
llama3="$models/SmolLM2-135M-Instruct-hf-llama3"
q4_0="$models/SmolLM2-135M-Instruct-q4_0/SmolLM2-135M-Instruct.Q4_0.gguf"
stamp="$models/.hf-llama-stamp"
want="$(cat "$root/Fixtures/hf-llama/from_gguf.py" "$root/Fixtures/hf-llama/reference.py" "$root/Fixtures/real-models/make_q4_0.py" "$root/.venv/.qpack-requirements" | sha256sum | cut -d' ' -f1) $(stat -c %s "$gguf")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$plain/reference.json" ] && [ -f "$llama3/reference.json" ] && [ -f "$q4_0" ]; then
  echo "make-hf-llama: present in $models"
  exit 0
fi
rm -f "$stamp"
"$py" "$root/Fixtures/hf-llama/from_gguf.py" "$gguf" "$plain"
"$py" "$root/Fixtures/hf-llama/from_gguf.py" "$gguf" "$llama3" --rope-scaling llama3 --weights-from "$plain"
for d in "$plain" "$llama3"; do
  "$py" "$root/Fixtures/hf-llama/reference.py" "$d" "$d/reference.json" "$d/reference.logits.f32"
done
mkdir -p "$(dirname "$q4_0")"
"$py" "$root/Fixtures/real-models/make_q4_0.py" "$gguf" "$q4_0.tmp"
mv "$q4_0.tmp" "$q4_0"
echo "$want" > "$stamp"
