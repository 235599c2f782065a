#!/usr/bin/env bash
# AArch64 instructions per weight and row of the runtime's matmul kernels, and per value of their
# LHS packers, under qemu-aarch64 -cpu max (deterministic counts), for the tiles qpack writes
# (neon-dotprod and neon-i8mm targets) at M = 1, 4 and 16. Each figure is the difference of
# two runs of scripts/bench/qp_kernel_insn.c (with and without the step). Not a test.
#   scripts/bench/kernel-insncount.sh [N=1536] [K=576]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/Sources/CQPackRuntime"
n="${1:-1536}" k="${2:-576}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
kernels=()
for f in "$src"/qp_*.c; do
  case "$(basename "$f")" in qp_container.c | qp_version.c | qp_model_loader.c | qp_generate.c | qp_tokenizer_container.c) ;; *) kernels+=("$f") ;; esac
done
aarch64-linux-gnu-gcc -std=c11 -O2 -ffp-contract=off -march=armv8-a -static -I"$src/include" -I"$src" "${kernels[@]}" \
  "$root/scripts/bench/qp_kernel_insn.c" -lm -o "$work/bench"
gcc -shared -fPIC -O2 "$root/scripts/bench/insnprofile.c" -o "$work/libinsnprofile.so"
count() { # args of qp_kernel_insn -> total executed instructions
  qemu-aarch64 -cpu max -d plugin -plugin "$work/libinsnprofile.so" "$work/bench" "$@" 2>&1 >/dev/null |
    awk '$1 == "insnprofile" {s += $3} END {print s}'
}
echo "| family | target tile (nr, kr, sr) | M | kernel dispatch ran | kernel per weight·row | LHS packer per value |"
echo "|---|---|---|---|---|---|"
while read -r layout target nr kr sr bl; do
  for m in 1 4 16; do
    args=("$layout" "$nr" "$kr" "$sr" "$bl" "$m" "$n" "$k")
    name="$(qemu-aarch64 -cpu max "$work/bench" "${args[@]}" 0 2>&1 >/dev/null)"
    c0="$(count "${args[@]}" 0)" c1="$(count "${args[@]}" 1)" c2="$(count "${args[@]}" 2)"
    python3 -c "import sys; c0, c1, c2, m, n, k = map(int, sys.argv[1:7]); print(f'| {sys.argv[7]} | {sys.argv[8]} | {m} | {sys.argv[9]} | {(c2 - c1) / (m * n * k):.3f} | {(c1 - c0) / (m * k):.2f} |')" \
      "$c0" "$c1" "$c2" "$m" "$n" "$k" "$layout" "$target ($nr, $kr, $sr)" "$name"
  done
done <<'ROWS'
qai4c32p neon-dotprod 4 8 2 32
qai4c32p neon-i8mm 4 16 2 32
qsi4c32pscalef16 neon-dotprod 4 8 2 32
qsi4c32pscalef16 neon-i8mm 4 16 2 32
qsi4c32p neon-dotprod 8 8 2 32
qsi4c32p neon-i8mm 8 16 2 32
qsi8cxp neon-dotprod 4 4 1 0
qsi8cxp neon-i8mm 4 8 1 0
qsi4cxp neon-dotprod 4 8 2 0
qsi4cxp neon-i8mm 8 16 2 0
ROWS
