#!/usr/bin/env bash
# Runs every test: builds, runs CTest (unit, loopback integration with real dig, AWS CLI v2,
# boto3 and the JS SDK), then the DNS decoder fuzzer for a bounded time.
# Usage: scripts/test.sh            (FUZZ_SECONDS=60 by default; 0 skips the fuzzer)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

if [ "$(id -u)" = 0 ]; then scripts/install-deps.sh; else sudo scripts/install-deps.sh; fi
if [ -f tests/js/package.json ] && [ ! -d tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
scripts/build.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 600
if [ "$FUZZ_SECONDS" != 0 ] && [ -x scripts/fuzz-dns.sh ]; then
  FUZZ_SECONDS=$FUZZ_SECONDS scripts/fuzz-dns.sh
fi
