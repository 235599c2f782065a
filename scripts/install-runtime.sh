#!/usr/bin/env bash
# Builds qpack's C runtime as a static library with its headers and pkg-config file under PREFIX
# (default .cache/runtime). Cross-compile with CC=aarch64-linux-gnu-gcc (needs the target's
# libzstd and json-c).   scripts/install-runtime.sh [PREFIX]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$(realpath -m "${1:-$root/.cache/runtime}")"
cc="${CC:-cc}"
rt="$root/Sources/CQPackRuntime"
hash="$root/Sources/CQPackHash"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
for f in "$rt"/*.c "$hash/qp_sha256.c"; do
  "$cc" -std=c11 -O2 -ffp-contract=off -I"$rt/include" -I"$rt" -I"$hash/include" -c "$f" -o "$build/$(basename "$f" .c).o"
done
ar rcs "$prefix/lib/libqpack-runtime.a" "$build"/*.o
cp "$rt"/include/*.h "$prefix/include/" # every public header
sed "s|@PREFIX@|$prefix|" "$root/docs/examples/qpack-runtime.pc.in" > "$prefix/lib/pkgconfig/qpack-runtime.pc"
echo "installed $prefix/lib/libqpack-runtime.a; PKG_CONFIG_PATH=$prefix/lib/pkgconfig"
