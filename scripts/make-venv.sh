#!/usr/bin/env bash
# Creates .venv with the external reference implementations the fixture generators and
# cross-checks use. Versions are pinned so the fixtures are reproducible.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.qpack-requirements"
requirements="gguf==0.19.0 safetensors==0.8.0 numpy==2.4.6 xxhash==3.5.0 tokenizers==0.22.1"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$requirements" ]; then exit 0; fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet $requirements
echo "$requirements" > "$stamp"
echo "make-venv: $venv ready ($requirements)"
