#!/usr/bin/env bash
# Installs what qpack's build, demo and tests need on a fresh Debian 12 machine with Swift:
# Debian packages (only those missing; apt-get update first), the Python venv with the
# reference tools (gguf-py, safetensors, numpy), and the real models.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# The arm64 libzstd and json-c link the runtime's examples statically for AArch64 (run under qemu).
packages=(pkg-config libzstd-dev libjson-c-dev python3-venv libsimde-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  qemu-user clang-format libzstd-dev:arm64 libjson-c-dev:arm64)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "bootstrap: adding the arm64 architecture (for libzstd-dev:arm64, libjson-c-dev:arm64)"
  $sudo dpkg --add-architecture arm64
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

"$root/scripts/make-venv.sh"
"$root/scripts/fetch-models.sh"
"$root/scripts/make-hf-llama.sh"
