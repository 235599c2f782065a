#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with Swift: installs what is missing,
# checks the sources are formatted (scripts/format.sh), regenerates the fixtures with the
# external writers and checks they match the committed ones, then runs `swift test` with the real models required (tests that need them fail, not skip).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/check-format.sh
scripts/check-traps.sh
scripts/check-fixtures.sh
swift build
export QPACK_REQUIRE_MODELS=1
export QPACK_MODELS_DIR="$root/.cache/models"
swift test 2>&1 | tee .cache/swift-test.log
# A short mutation-fuzzing run over every reader (docs/testing.md; scripts/fuzz.sh N for long runs).
QPACK_FUZZ_BUILD=debug scripts/fuzz.sh 50 1
# The C runtime: kernels natively (NEON through SIMDe) and AArch64 under qemu (max, cortex-a53),
# the loader under ASan/UBSan and its fuzzer.
scripts/test-runtime.sh
