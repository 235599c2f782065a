#!/usr/bin/env bash
# The main job on the bundled default, from a fresh Debian 12 machine with Swift: installs what
# is missing, builds qpack in release mode and inspects both real models.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
swift build -c release --product qpack
qpack="$(swift build -c release --show-bin-path)/qpack"
models="$root/.cache/models"
"$qpack" inspect "$models/all-MiniLM-L6-v2/model.safetensors"
echo
"$qpack" inspect "$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --filter 'blk.0.*' --filter 'token_embd.weight'
echo
"$qpack" inspect "$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --tensor blk.0.attn_q.weight --stats --no-metadata
