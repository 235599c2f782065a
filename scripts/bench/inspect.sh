#!/usr/bin/env bash
# Benchmarks `qpack inspect` (release build) on the real models: wall time (best of N runs) and
# peak resident memory, to show the file is mapped and validated rather than read into memory.
# Results go to docs/performance.md by hand; this script prints a Markdown table.
#   scripts/bench/inspect.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-10}"
cd "$root"
scripts/fetch-models.sh >/dev/null
swift build -c release --product qpack >/dev/null
qpack="$(swift build -c release --show-bin-path)/qpack"
models="$root/.cache/models"

measure() { # label args...
  local label="$1"; shift
  python3 - "$runs" "$label" "$qpack" "$@" <<'PY'
import os, subprocess, sys, time
runs, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
best, rss = float("inf"), 0
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    best = min(best, time.perf_counter() - t0)
    rss = max(rss, usage.ru_maxrss)  # KiB on Linux
    assert os.waitstatus_to_exitcode(status) == 0, cmd
print(f"| {label} | {best * 1000:.1f} ms | {rss / 1024:.1f} MiB |")
PY
}

echo "| command (release, best of $runs) | wall time | peak RSS |"
echo "|---|---|---|"
measure "inspect MiniLM (86.7 MiB safetensors)" inspect "$models/all-MiniLM-L6-v2/model.safetensors"
measure "inspect --json MiniLM" inspect --json "$models/all-MiniLM-L6-v2/model.safetensors"
measure "inspect SmolLM2 (93.8 MiB GGUF)" inspect "$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
measure "inspect --stats MiniLM word embeddings (11.7 M values)" inspect "$models/all-MiniLM-L6-v2/model.safetensors" --tensor embeddings.word_embeddings.weight --stats
measure "inspect --stats SmolLM2 token_embd (Q8_0, 28.3 M values)" inspect "$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --tensor token_embd.weight --stats
