#!/usr/bin/env bash
# Builds the C runtime's kernels and self-test natively (x86: NEON through SIMDe) and for
# AArch64 (aarch64-linux-gnu-gcc -static), and runs the AArch64 build under qemu-aarch64 with
# -cpu max (dotprod: the NEON variant runs) and -cpu cortex-a53 (no dotprod: the dispatcher
# falls back to scalar). Every KleidiAI matmul case must be bit-exact in every run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oracle="${QPACK_ORACLE_DIR:-$root/../shared/oracle/kleidiai}"
[ -f "$oracle/index.json" ] || oracle="$root/Fixtures/kleidiai"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$oracle/index.json" > "$work/cases.txt" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["cases"]:
    if c["kind"] != "matmul":
        continue
    p, k = c["params"], c["kernel"]
    fam = "qsi4c32p" if "qsi4c32p" in k else "qsi4cxp" if "qsi4cxp" in k else "qsi8cxp"
    print(fam, p["m"], p["n"], p["k"], p.get("bl", 0), p["mr"], p["nr"], p["kr"], p["sr"],
          p["clamp_min_bits"], p["clamp_max_bits"], c["inputs"]["lhs_packed"]["file"], c["inputs"]["rhs_packed"]["file"], c["output"]["file"],
          c["inputs"]["lhs_f32"]["file"])
PY
src="$root/Sources/CQPackRuntime"
files=("$src/qp_lhs_quant_pack_qai8dxp_f32.c" "$src/qp_matmul_f32_qai8dxp_scalar.c"
       "$src/qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod.c" "$src/qp_dispatch.c" "$root/Tests/CRuntime/qp_runtime_selftest.c")
flags=(-std=c11 -O2 -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter -I"$src/include" -I"$src")
echo "== native ($(uname -m), NEON via SIMDe)"
cc "${flags[@]}" "${files[@]}" -lm -o "$work/selftest-native"
"$work/selftest-native" "$work/cases.txt" "$oracle"
echo "== aarch64, qemu -cpu max"
aarch64-linux-gnu-gcc "${flags[@]}" -march=armv8-a -static "${files[@]}" -lm -o "$work/selftest-aarch64"
qemu-aarch64 -cpu max "$work/selftest-aarch64" "$work/cases.txt" "$oracle"
echo "== aarch64, qemu -cpu cortex-a53 (no dotprod)"
qemu-aarch64 -cpu cortex-a53 "$work/selftest-aarch64" "$work/cases.txt" "$oracle"
