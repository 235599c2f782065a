#!/usr/bin/env bash
# Mutation fuzzing of every reader through the qpack commands (Sources/qpack-fuzz; docs/testing.md).
#
#   scripts/fuzz.sh [CASES_PER_TARGET] [SEED] [TARGET...]
#
# Runs CASES_PER_TARGET cases (default 200) of each target (default: all) from SEED (default 1).
# A crash or a hang does not end the run: its case files are kept in .build/fuzz-findings/
# <target>-<seed>-<case>/ with the command that failed, and fuzzing resumes at the next case.
# Exits 1 when anything was found (crashes, hangs, undocumented exit codes, partial output).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cases="${1:-200}"
seed="${2:-1}"
shift $(($# > 2 ? 2 : $#))
# QPACK_FUZZ_BUILD=debug uses the debug build (CI's short run, beside `swift build`).
configuration="${QPACK_FUZZ_BUILD:-release}"
swift build -c "$configuration" --product qpack-fuzz >/dev/null || exit 1
fuzz="$root/.build/$configuration/qpack-fuzz"
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <("$fuzz" --list); fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
findings="$root/.build/fuzz-findings"
found=0
for target in "${targets[@]}"; do
    start=0
    while [ "$start" -lt "$cases" ]; do
        "$fuzz" --fixtures "$root/Fixtures" --work "$work" --seed "$seed" --target "$target" \
            --start "$start" --iterations $((cases - start))
        rc=$?
        [ "$rc" -eq 0 ] && break
        found=1
        [ "$rc" -eq 1 ] && break  # findings without a crash: reported, the target is done
        # A crash (signal) or a hang (3): keep the case, resume after it.
        read -r _ at _ < "$work/current" || at="$start"
        dest="$findings/$target-$seed-$at"
        rm -rf "$dest" && mkdir -p "$dest" && cp -r "$work/case/." "$dest/" && cp "$work/current" "$dest/current"
        echo "fuzz: $target case $at (exit $rc) kept in $dest" >&2
        start=$((at + 1))
    done
done
exit "$found"
