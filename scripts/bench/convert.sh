#!/usr/bin/env bash
# Conversion throughput and peak memory on a synthetic Llama-shaped checkpoint (2.99 GB F32,
# 1.49 GB F16; generated once into .cache/bench by make-synthetic-llama.py), next to the PyPI
# gguf package's numpy quantizer on the same linear weights, measured in the same run.
# Prints a Markdown table for docs/performance.md.   scripts/bench/convert.sh [JOBS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
jobs="${1:-2}"
cd "$root"
scripts/make-venv.sh >/dev/null
py="$root/.venv/bin/python"
bench="$root/.cache/bench"
for dt in f32 f16; do
  [ -f "$bench/llama-$dt/model.safetensors.index.json" ] || "$py" scripts/bench/make-synthetic-llama.py "$bench/llama-$dt" "$dt"
done
swift build -c release --product qpack >/dev/null
qpack="$(swift build -c release --show-bin-path)/qpack"
out="$bench/out.qpack"

run() { # label model search
  local label="$1" model="$2" search="$3"
  sync
  local stats
  stats="$( { /usr/bin/time -f '%e %M' "$qpack" convert "$model" -o "$out" --force --quiet --jobs "$jobs" --search "$search" >/dev/null; } 2>&1 | tail -1)"
  local secs="${stats% *}" rss="${stats#* }"
  local params bytes
  params=$("$qpack" inspect "$out" --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["parameter_count"])')
  bytes=$(du -cb "$(dirname "$model")"/*.safetensors | tail -1 | cut -f1)
  "$py" - "$label" "$secs" "$rss" "$params" "$bytes" <<'PY'
import sys
label, secs, rss, params, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"| {label} | {secs:.2f} s | {params / secs / 1e6:.0f} M/s | {size / secs / 1e9:.2f} GB/s | {rss / 1024:.0f} MiB |")
PY
}

echo "| qpack convert ($jobs jobs, release) | time | source params/s | source GB/s | peak RSS |"
echo "|---|---|---|---|---|"
run "F32 2.99 GB, int4 absmax (RTN)" "$bench/llama-f32/model.safetensors.index.json" absmax
run "F32 2.99 GB, default (MSE clip search)" "$bench/llama-f32/model.safetensors.index.json" mse
run "F16 1.49 GB, int4 absmax (RTN)" "$bench/llama-f16/model.safetensors.index.json" absmax
run "F16 1.49 GB, default (MSE clip search)" "$bench/llama-f16/model.safetensors.index.json" mse
echo
echo "| gguf 0.19.0 numpy quantizer, same linear weights (F32) | params | time | params/s |"
echo "|---|---|---|---|"
"$py" scripts/bench/gguf-quantize.py "$bench/llama-f32/model.safetensors.index.json" | while read -r q p s; do
  "$py" -c "print(f'| {\"$q\"} | {$p} | {$s} s | {$p / $s / 1e6:.0f} M/s |')"
done
rm -f "$out"
