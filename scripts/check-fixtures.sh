#!/usr/bin/env bash
# Regenerates the fixtures into a temporary directory and fails if any differ from the
# committed ones: the committed files are exactly what the external writers produce.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$root/scripts/generate-fixtures.sh" "$tmp" >/dev/null
status=0
for sub in safetensors gguf malformed hash calibration architectures quant real-models/expected.json tokenizers/expected.json verify/minilm.expected.json verify/smollm2.expected.json verify/smollm2.logits.f32; do
  if ! diff -r --no-dereference "$root/Fixtures/$sub" "$tmp/$sub" >/dev/null; then
    echo "check-fixtures: Fixtures/$sub differs from a fresh generation:" >&2
    diff -r --no-dereference -q "$root/Fixtures/$sub" "$tmp/$sub" >&2 || true
    status=1
  fi
done
[ $status -eq 0 ] && echo "check-fixtures: committed fixtures match a fresh generation"
exit $status
