#!/usr/bin/env bash
# Runs every test: builds, runs CTest (unit, loopback integration with real dig, AWS CLI v2,
# boto3, the JS SDK, the Docker image and compose on the real engine) and the DNS decoder fuzzer
# for a bounded time.
# Usage: scripts/test.sh            (FUZZ_SECONDS=60 by default; 0 skips the fuzzer)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

if [ "$(id -u)" = 0 ]; then scripts/install-deps.sh; else sudo scripts/install-deps.sh; fi
# The Docker tests need an engine and the debian:bookworm base image (made offline when absent).
scripts/start-dockerd.sh
scripts/docker-base-image.sh
if [ -f tests/js/package.json ] && [ ! -d tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
scripts/build.sh
# The DNS decoder fuzzer first (bounded; its log goes to a file), so CTest's summary closes the run.
if [ "$FUZZ_SECONDS" != 0 ]; then
  fuzz_log=$BUILD_DIR/fuzz-dns.log
  if ! BUILD_DIR="$PWD/build-fuzz" scripts/fuzz-dns.sh "$FUZZ_SECONDS" >"$fuzz_log" 2>&1; then
    tail -60 "$fuzz_log"
    echo "fuzz-dns: FAILED (full log: $fuzz_log)"
    exit 1
  fi
  echo "fuzz-dns: $(grep -E '^Done [0-9]+ runs' "$fuzz_log" | tail -1), no crash (log: $fuzz_log)"
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900
