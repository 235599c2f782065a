#!/usr/bin/env bash
# Conversion throughput and peak memory on a synthetic Llama-shaped checkpoint (2.99 GB F32,
# 1.49 GB F16; generated once into .cache/bench by make-synthetic-llama.py), next to the PyPI
# gguf package's numpy quantizer on the same linear weights, measured in the same run. Machine
# timings here vary by about 20% from run to run: each row is the median of three.
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

run() { # label model search [extra options]: three runs, median time, largest peak RSS
  local label="$1" model="$2" search="$3"
  shift 3
  local times=() rss=0
  for _ in 1 2 3; do
    rm -f "$out"  # a new output each time (replacing a 0.5 GB file adds its unlink to the run)
    sync
    local stats
    stats="$( { /usr/bin/time -f '%e %M' "$qpack" convert "$model" -o "$out" --quiet --jobs "$jobs" --search "$search" "$@" >/dev/null; } 2>&1 | tail -1)"
    times+=("${stats% *}")
    [ "${stats#* }" -gt "$rss" ] && rss="${stats#* }"
  done
  local params bytes
  params=$("$qpack" inspect "$out" --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["parameter_count"])')
  bytes=$(du -cb "$(dirname "$model")"/*.safetensors | tail -1 | cut -f1)
  "$py" - "$label" "$rss" "$params" "$bytes" "${times[@]}" <<'PY'
import sys
label, rss, params, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
times = sorted(float(t) for t in sys.argv[5:])
secs = times[len(times) // 2]
print(f"| {label} | {secs:.2f} s ({times[0]:.2f}-{times[-1]:.2f}) | {params / secs / 1e6:.0f} M/s | {size / secs / 1e9:.2f} GB/s | {rss / 1024:.0f} MiB |")
PY
}

echo "| qpack convert ($jobs jobs, release) | median of 3 (range) | source params/s | source GB/s | peak RSS |"
echo "|---|---|---|---|---|"
run "F32 2.99 GB, int4 absmax (RTN)" "$bench/llama-f32/model.safetensors.index.json" absmax
run "F32 2.99 GB, default (MSE clip search)" "$bench/llama-f32/model.safetensors.index.json" mse
run "F32 2.99 GB, int4 absmax, --input-digest sha256" "$bench/llama-f32/model.safetensors.index.json" absmax --input-digest sha256
run "F16 1.49 GB, int4 absmax (RTN)" "$bench/llama-f16/model.safetensors.index.json" absmax
run "F16 1.49 GB, default (MSE clip search)" "$bench/llama-f16/model.safetensors.index.json" mse
echo
echo "| gguf 0.19.0 numpy quantizer, same linear weights (F32) | params | time | params/s |"
echo "|---|---|---|---|"
"$py" scripts/bench/gguf-quantize.py "$bench/llama-f32/model.safetensors.index.json" | while read -r q p s; do
  "$py" -c "print(f'| {\"$q\"} | {$p} | {$s} s | {$p / $s / 1e6:.0f} M/s |')"
done
rm -f "$out"
