#!/usr/bin/env bash
# Runs every test: builds, runs CTest (unit, loopback integration with real dig, AWS CLI v2,
# boto3, the JS SDK, the Docker image and compose on the real engine) and the libFuzzer targets
# (DNS, HTTP API, fixtures; scripts/fuzz.sh) for a bounded time each.
# Usage: scripts/test.sh            (FUZZ_SECONDS=60 per fuzz target by default; 0 skips them)
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
# The fuzzers first (bounded, FUZZ_SECONDS each; logs in build-fuzz/), so CTest's summary closes
# the run.
# A fuzz failure still lets CTest run, so one run reports both; the exit status is a failure if
# either failed.
fuzz_failed=0
if [ "$FUZZ_SECONDS" != 0 ]; then
  mkdir -p build-fuzz
  if ! BUILD_DIR="$PWD/build-fuzz" scripts/fuzz.sh "$FUZZ_SECONDS" 2>&1 | tee build-fuzz/fuzz-summary.log; then
    echo "fuzz: FAILED"
    fuzz_failed=1
  fi
fi
ctest_failed=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900 || ctest_failed=1
if [ "$fuzz_failed" = 1 ]; then
  # Repeated here: a CI log is often read from its end, and CTest's output pushed this far up.
  echo "test: what the fuzzers printed (build-fuzz/fuzz-summary.log):"
  tail -n 80 build-fuzz/fuzz-summary.log
  echo "test: the fuzzers FAILED (see 'fuzz:' above; logs in build-fuzz/)"
fi
[ "$fuzz_failed" = 0 ] && [ "$ctest_failed" = 0 ]
