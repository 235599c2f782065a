#!/usr/bin/env bash
# Fails on a Swift force unwrap, `try!` or `as!` in Sources that is not in
# scripts/unwrap-allowlist.txt (one "path: code" line each, the code trimmed). On data read from a
# file such a trap is a bug (docs/testing.md); the allowlisted ones unwrap values the code built
# itself (keys of its own dictionaries, the built-in rules). `--update` rewrites the allowlist.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
allow=scripts/unwrap-allowlist.txt
found="$(grep -rnE 'try!|as!|[]A-Za-z0-9_)]!([^=]|$)' --include='*.swift' Sources |
  grep -vE '^[^:]+:[0-9]+: *//' |
  sed -E 's/^([^:]+):[0-9]+: */\1: /' | LC_ALL=C sort)"
if [ "${1:-}" = "--update" ]; then
  printf '%s\n' "$found" > "$allow"
  exit 0
fi
new="$(LC_ALL=C comm -23 <(printf '%s\n' "$found") <(LC_ALL=C sort "$allow"))"
if [ -n "$new" ]; then
  echo "check-unwraps: force unwraps not in $allow (use a guard that throws a named error):" >&2
  printf '%s\n' "$new" >&2
  exit 1
fi
echo "check-unwraps: no new force unwraps ($(wc -l < "$allow") allowlisted)"
