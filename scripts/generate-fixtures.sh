#!/usr/bin/env bash
# Regenerates every fixture from the committed generators with the pinned external tools.
#   scripts/generate-fixtures.sh [OUTPUT_DIR]   (default: Fixtures/, in place)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/Fixtures}"
"$root/scripts/make-venv.sh"
py="$root/.venv/bin/python"
mkdir -p "$out/real-models"
"$py" -W ignore "$root/Fixtures/generate.py" "$out"
"$root/scripts/fetch-models.sh" >/dev/null
"$py" "$root/Fixtures/real-models/generate_expected.py" "$root/.cache/models" "$out/real-models/expected.json"
mkdir -p "$out/tokenizers"
"$py" "$root/Fixtures/tokenizers/generate_expected.py" "$root/.cache/models" "$out/tokenizers/expected.json"
mkdir -p "$out/verify"
"$py" "$root/Fixtures/verify/minilm_reference.py" "$root/.cache/models" "$root/Fixtures/tokenizers/sentences.txt" "$out/verify/minilm.expected.json"
"$py" "$root/Fixtures/verify/smollm2_reference.py" "$root/.cache/models" "$out/verify/smollm2.expected.json" "$out/verify/smollm2.logits.f32" >/dev/null
