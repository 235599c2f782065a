#!/usr/bin/env bash
# Formats every Swift file (swift-format, .swift-format: 120 columns) and C file (clang-format,
# .clang-format) in place.   scripts/format.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift format format --in-place --parallel --recursive Package.swift Sources Tests
git ls-files -z '*.c' '*.h' | xargs -0 clang-format -i
