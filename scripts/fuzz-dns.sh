#!/usr/bin/env bash
# Builds the DNS libFuzzer target with clang (ASan + UBSan) and runs it for a bounded time.
#   scripts/fuzz-dns.sh [SECONDS]   (default 60; env BUILD_DIR, default build-fuzz)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_TO_RUN=${1:-60}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz}
CORPUS=$BUILD_DIR/dns-corpus
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DEMU_FUZZ=ON -DEMU_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target dns_fuzz -j2
mkdir -p "$CORPUS"
# Seeds: a plain query, one with EDNS, and an SRV query (the fuzzer mutates from these).
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x0bgame-server\x05local\x00\x00\x01\x00\x01' >"$CORPUS/a"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x0bgame-server\x05local\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00' >"$CORPUS/srv-edns"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04DeMo\x05local\x00\x00\x06\x00\x01' >"$CORPUS/soa"
exec "$BUILD_DIR/dns/fuzz/dns_fuzz" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=1024 "$CORPUS"
