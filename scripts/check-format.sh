#!/usr/bin/env bash
# Fails when any Swift or C file is not formatted as scripts/format.sh would format it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
swift format lint --strict --parallel --recursive Package.swift Sources Tests || status=1
unformatted=()
while IFS= read -r -d '' f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done < <(git ls-files -z '*.c' '*.h')
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "check-format: not clang-formatted (run scripts/format.sh): ${unformatted[*]}" >&2
  status=1
fi
[ $status -eq 0 ] && echo "check-format: Swift and C sources are formatted"
exit $status
