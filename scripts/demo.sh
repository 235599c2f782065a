#!/usr/bin/env bash
# The main job on the bundled default, from a fresh Debian 12 machine with Swift: installs what
# is missing, builds qpack in release mode, converts the real MiniLM model with the default
# rules, inspects the result (and one packed tensor against its source), verifies it against
# the float model on sample sentences, then plans, converts, verifies and runs SmolLM2. Outputs go
# to .cache/out.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
swift build -c release --product qpack
qpack="$(swift build -c release --show-bin-path)/qpack"
models="$root/.cache/models"
out="$root/.cache/out"
mkdir -p "$out"
minilm="$models/all-MiniLM-L6-v2/model.safetensors"
smollm="$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"

echo "== qpack inspect (source checkpoint)"
"$qpack" inspect "$minilm" --no-metadata --filter 'encoder.layer.0.*'
echo
echo "== qpack convert MiniLM (default rules, target neon-i8mm)"
"$qpack" convert "$minilm" -o "$out/all-MiniLM-L6-v2.qpack" --force
echo
echo "== qpack inspect (packed)"
"$qpack" inspect "$out/all-MiniLM-L6-v2.qpack" --filter 'encoder.layer.0.*'
echo
echo "== one packed tensor, unpacked and compared with the source"
"$qpack" inspect "$out/all-MiniLM-L6-v2.qpack" --tensor encoder.layer.0.attention.self.query.weight --dequant --source "$minilm" --bins 8
echo
echo "== qpack verify: the packed model against the float model in qpack's runtime"
"$qpack" verify "$out/all-MiniLM-L6-v2.qpack" --source "$minilm" --run-sample "A man is eating food." \
  --run-sample "The capital of France is Paris." | sed -n '1,16p'  # sed reads everything: no SIGPIPE under pipefail
echo
echo "== qpack plan SmolLM2 (coverage)"
"$qpack" plan "$smollm" --target neon-dotprod | sed -n '/^Coverage:/,$p'
echo
echo "== qpack convert SmolLM2"
"$qpack" convert "$smollm" -o "$out/SmolLM2-135M-Instruct.qpack" --target neon-dotprod --force
echo
echo "== qpack verify SmolLM2"
"$qpack" verify "$out/SmolLM2-135M-Instruct.qpack" --source "$smollm" --run-sample "The capital of France is" | sed -n '1,16p'  # sed reads everything: no SIGPIPE under pipefail
echo
echo "== qpack run SmolLM2 through the C runtime's model API (greedy)"
"$qpack" run "$out/SmolLM2-135M-Instruct.qpack" --prompt "The capital of France is" --max-tokens 16
echo
