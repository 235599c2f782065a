#!/usr/bin/env bash
# AArch64 instructions per decoded and per prompt token of a .qpack decoder, end to end through
# the installed C runtime (qp_model_generate), under qemu-aarch64 -cpu max with a TCG plugin
# (scripts/bench/insnprofile.c): deterministic counts, split by function. Not a test.
#   scripts/bench/e2e-insncount.sh MODEL.qpack [PROMPT_TOKENS=32] [DECODED_TOKENS=16]
# Per decoded token = (run(1 prompt token, 1 + D new) - run(1, 1)) / D; per prompt token =
# (run(P, 1) - run(1, 1)) / (P - 1): opening the file (section checksums) cancels out.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
model="$1" prompt="${2:-32}" decoded="${3:-16}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
CC=aarch64-linux-gnu-gcc "$root/scripts/install-runtime.sh" "$work/prefix" >/dev/null
flags="$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" \
  PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig pkg-config --static --cflags --libs qpack-runtime)"
# shellcheck disable=SC2086
aarch64-linux-gnu-gcc -O2 -static "$root/scripts/bench/qp_generate_bench.c" $flags -o "$work/bench"
gcc -shared -fPIC -O2 "$root/scripts/bench/insnprofile.c" -o "$work/libinsnprofile.so"
run() { qemu-aarch64 -cpu max -d plugin -plugin "$work/libinsnprofile.so" "$work/bench" "$model" "$1" "$2" 2> "$work/profile.$1.$2" > /dev/null; }
run 1 1
run 1 $((1 + decoded))
run "$prompt" 1
python3 - "$work/bench" "$work" "$prompt" "$decoded" <<'PY'
import bisect, collections, subprocess, sys
binary, work, prompt, decoded = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
symbols = []
for line in subprocess.run(["aarch64-linux-gnu-nm", "-S", "--defined-only", binary], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 4 and f[2] in "tTwW":
        symbols.append((int(f[0], 16), int(f[1], 16), f[3]))
symbols.sort()
starts = [s[0] for s in symbols]
def fold(path):
    c = collections.Counter()
    for line in open(path):
        f = line.split()
        if len(f) != 3 or f[0] != "insnprofile":
            continue
        if f[1] == "outside":
            c["(outside the binary)"] += int(f[2]); continue
        va = int(f[1], 16); i = bisect.bisect_right(starts, va) - 1
        c[symbols[i][2] if i >= 0 and va < symbols[i][0] + max(symbols[i][1], 4) else "(unknown)"] += int(f[2])
    return c
base = fold(f"{work}/profile.1.1")
for title, path, units in [("per decoded token", f"{work}/profile.1.{1 + decoded}", decoded),
                           (f"per prompt token ({prompt}-token prompt in one step)", f"{work}/profile.{prompt}.1", prompt - 1)]:
    c = fold(path)
    per = {n: (c[n] - base[n]) / units for n in set(c) | set(base)}
    total = sum(per.values())
    print(f"{title}: {total / 1e6:.2f} M instructions")
    for n, v in sorted(per.items(), key=lambda t: -t[1])[:8]:
        if v > 0.005 * total:
            print(f"  {v / 1e6:8.2f} M  {100 * v / total:5.1f}%  {n}")
print(f"opening the file (run with 1 prompt token, 1 new): {sum(base.values()) / 1e6:.0f} M instructions")
PY
