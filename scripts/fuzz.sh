#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan; only the fuzz targets) and runs each for
# a bounded time, one after the other. Fails if any target finds a crash, sanitizer report, leak,
# timeout or OOM; prints each target's `Done N runs` line.
#   scripts/fuzz.sh [SECONDS_EACH] [TARGET...]   (default 60 s; targets dns http fixture, default all)
#   env BUILD_DIR (default build-fuzz)
# Targets: dns (decode -> answer, dns/fuzz), http (HTTP/1.1 bytes -> Router with the native, ECS,
# Cloud Map and Route 53 handlers, api/fuzz), fixture (fixture file -> parse -> apply, twice,
# api/fuzz).
# The corpora grow in BUILD_DIR/corpus/<target> (the seeds in the repo are read, never written);
# a failing input is saved as BUILD_DIR/artifacts/<target>/crash-* (or leak-, timeout-, oom-):
# replay it with `BUILD_DIR/<dir>/<target>_fuzz FILE` (HTTP_FUZZ_TRACE=1 / FIXTURE_FUZZ_TRACE=1
# print what the input did).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(dns http fixture)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz}

binaries=()
for t in "${TARGETS[@]}"; do
  case $t in
    dns | http | fixture) binaries+=("${t}_fuzz") ;;
    *) echo "fuzz: unknown target '$t' (known: dns http fixture)" >&2 && exit 2 ;;
  esac
done

mkdir -p "$BUILD_DIR"
build_log=$BUILD_DIR/fuzz-build.log
if ! { CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DEMU_FUZZ=ON \
  -DEMU_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
  cmake --build "$BUILD_DIR" --target "${binaries[@]}" -j2; } >"$build_log" 2>&1; then
  tail -40 "$build_log"
  echo "fuzz: build FAILED (full log: $build_log)"
  exit 1
fi

# DNS seeds: a plain query, an SRV query with EDNS, and a mixed-case SOA query.
dns_seeds=$BUILD_DIR/seeds/dns
mkdir -p "$dns_seeds"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x0bgame-server\x05local\x00\x00\x01\x00\x01' >"$dns_seeds/a"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x0bgame-server\x05local\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00' >"$dns_seeds/srv-edns"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04DeMo\x05local\x00\x00\x06\x00\x01' >"$dns_seeds/soa"
# The user's record sets of the fuzz snapshot: a CNAME chain, a CNAME loop, a weighted pair, ANY
# at a name with A, TXT and MX, and an empty non-terminal.
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05alias\x05local\x00\x00\x01\x00\x01' >"$dns_seeds/cname"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05loop1\x05local\x00\x00\x01\x00\x01' >"$dns_seeds/cname-loop"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x02ab\x05local\x00\x00\x01\x00\x01' >"$dns_seeds/weighted"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x02db\x05local\x00\x00\xff\x00\x01' >"$dns_seeds/any"
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03sub\x05local\x00\x00\x10\x00\x01' >"$dns_seeds/ent"

failed=0
for t in "${TARGETS[@]}"; do
  case $t in
    dns) bin=$BUILD_DIR/dns/fuzz/dns_fuzz seeds=("$dns_seeds") args=() ;;
    http)
      bin=$BUILD_DIR/api/fuzz/http_fuzz seeds=("$ROOT/api/fuzz/seeds/http")
      # -entropic=0: with this many features, clang 14's entropic bookkeeping took ~2/3 of the
      # time in a profile; without it the target runs ~3x more inputs for the same coverage.
      args=(-dict="$ROOT/api/fuzz/http.dict" -entropic=0)
      ;;
    fixture)
      bin=$BUILD_DIR/api/fuzz/fixture_fuzz seeds=("$ROOT/fixtures" "$ROOT/api/fuzz/seeds/fixture")
      args=(-dict="$ROOT/api/fuzz/fixture.dict")
      ;;
  esac
  corpus=$BUILD_DIR/corpus/$t
  artifacts=$BUILD_DIR/artifacts/$t
  log=$BUILD_DIR/fuzz-$t.log
  mkdir -p "$corpus" "$artifacts"
  # New inputs go to the first folder (the corpus); the seed folders are only read.
  if "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=30 -print_funcs=0 \
    -artifact_prefix="$artifacts/" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    echo "fuzz $t: $(grep -E '^Done [0-9]+ runs' "$log" | tail -1), no crash (log: $log)"
  else
    tail -60 "$log"
    echo "fuzz $t: FAILED (log: $log; input: $(ls -t "$artifacts" | head -1 | sed "s|^|$artifacts/|"))"
    failed=1
  fi
done
exit $failed
