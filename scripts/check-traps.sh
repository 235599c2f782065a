#!/usr/bin/env bash
# Fails on Swift code that can trap and is not in an allowlist (one "path: code" line each, the
# code trimmed): force unwraps, `try!` and `as!` (scripts/unwrap-allowlist.txt), and integer
# initializers that trap when the value does not fit, `Int(x)`, `UInt8(x)` and the like
# (scripts/conversion-allowlist.txt; `exactly:`, `clamping:`, `truncatingIfNeeded:`,
# `bitPattern:` and `ascii:` never trap). On data read from a file such a trap is a bug
# (docs/testing.md): new code throws a named error or uses a checked form. `--update` rewrites
# both allowlists.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# "path: code" for every match of a Perl regex in Sources, comment lines skipped.
matches() {
  grep -rnP "$1" --include='*.swift' Sources |
    grep -vE '^[^:]+:[0-9]+: *//' |
    sed -E 's/^([^:]+):[0-9]+: */\1: /' | LC_ALL=C sort
}

check() {  # name, allowlist, regex, advice
  local found new
  found="$(matches "$3")"
  if [ "$update" = 1 ]; then
    printf '%s\n' "$found" > "$2"
    return 0
  fi
  new="$(LC_ALL=C comm -23 <(printf '%s\n' "$found") <(LC_ALL=C sort "$2"))"
  if [ -n "$new" ]; then
    echo "check-traps: $1 not in $2 ($4):" >&2
    printf '%s\n' "$new" >&2
    failed=1
  else
    echo "check-traps: no new $1 ($(wc -l < "$2") allowlisted)"
  fi
}

update=0
[ "${1:-}" = "--update" ] && update=1
failed=0
check "force unwraps" scripts/unwrap-allowlist.txt 'try!|as!|[]A-Za-z0-9_)]!([^=]|$)' \
  "use a guard that throws a named error"
check "trapping integer conversions" scripts/conversion-allowlist.txt \
  '\b(Int|Int8|Int16|Int32|Int64|UInt|UInt8|UInt16|UInt32|UInt64)\((?!exactly:|clamping:|truncatingIfNeeded:|bitPattern:|littleEndian:|bigEndian:|ascii:|\))' \
  "check the range first, or use exactly:/clamping:/truncatingIfNeeded:"
exit "$failed"
