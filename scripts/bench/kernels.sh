#!/usr/bin/env bash
# Kernel throughput on x86 (scalar, NEON through SIMDe, a native AVX2 int8 loop as yardstick)
# and AArch64 instructions per weight under qemu (../shared/tools/qemu-insncount), for
# docs/performance.md. Not a test.   scripts/bench/kernels.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/Sources/CQPackRuntime"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
files=("$src/qp_lhs_quant_pack_qai8dxp_f32.c" "$src/qp_matmul_f32_qai8dxp_scalar.c" "$src/qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod.c"
       "$src/qp_matmul_f32_qai8dxp_cxp_neon_dotprod.c" "$src/qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm.c" "$src/qp_matmul_f32_qai8dxp_cxp_neon_i8mm.c" "$src/qp_dispatch.c" "$src/qp_layouts.c"
       "$src/qp_lhs_quant_pack_qsi8d32p_f32.c" "$src/qp_matmul_f32_qsi8d32p_scalar.c" "$src/qp_matmul_f32_qsi8d32p_neon_dotprod.c"
       "$src/qp_matmul_f32_qsi8d32p_neon_i8mm.c" "$src/qp_linear_f32.c"
       "$root/scripts/bench/qp_kernel_bench.c")
clang="$(dirname "$(command -v swift)")/clang"
echo "## x86 ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), clang -O2, one thread"
"$clang" -std=c11 -O2 -ffp-contract=off -I"$src/include" -I"$src" "${files[@]}" -lm -o "$work/bench"
for shape in "4096 4096 1" "384 384 1" "1536 384 1" "576 1536 1" "4096 4096 4"; do "$work/bench" $shape ${QP_BENCH_REPS:-}; done
tool="$root/../shared/tools/qemu-insncount"
if [ -f "$tool/insncount.c" ]; then
  echo
  echo "## aarch64 instructions per weight (qemu-aarch64 -cpu max, 576x1536 GEMV, one call per kernel:"
  echo "## panel_l4_nr8 is the qsi4c32p (8,8,2) tile, panel_l8_nr8 (8,16,2), qsi8cxp_gemv (4,4,1))"
  gcc -shared -fPIC -O2 "$tool/insncount.c" -o "$work/libinsncount.so"
  aarch64-linux-gnu-gcc -std=c11 -O2 -ffp-contract=off -march=armv8-a -static -I"$src/include" -I"$src" "${files[@]}" -lm -o "$work/bench-a64"
  for sym in panel_l4_nr8 panel_l8_nr8 qsi8cxp_gemv tile_4xnr qp_matmul_f32_qai8dxp_qsi4c32p_scalar qp_matmul_f32_qai8dxp_qsi8cxp_scalar; do
    read -r lo size <<<"$(aarch64-linux-gnu-nm -S "$work/bench-a64" | awk -v s="$sym" '$4==s {print $1, $2; exit}')" || true
    [ -n "${lo:-}" ] || continue
    lo=$((16#$lo)); hi=$((lo + 16#$size))
    calls=1
    qemu-aarch64 -cpu max -d plugin -plugin "$work/libinsncount.so,lo=$lo,hi=$hi" "$work/bench-a64" 576 1536 1 1 2>&1 \
      | awk -v s="$sym" -v c="$calls" '/insncount: range/ {for (i = 1; i <= NF; i++) if ($i == "executed") n = $(i + 1);
          printf "%-40s %12d instructions  %.3f per weight\n", s, n, n / (c * 576 * 1536); exit}'

    lo=""
  done
fi
