#!/usr/bin/env bash
# Install what is missing, build, and run every test.
#
#   scripts/test.sh                  the debug preset
#   scripts/test.sh --preset asan    under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
preset=debug
if [ "${1:-}" = "--preset" ]; then
	preset="${2:?--preset needs a name}"
fi
scripts/install-deps.sh
scripts/build.sh "$preset"
ctest --preset "$preset" -j"$(nproc)"
