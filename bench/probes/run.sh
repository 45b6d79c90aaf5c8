#!/bin/sh
# bench/probes/run.sh: builds emu_health (Release) and probe_bench, then probes N loopback
# endpoints (HTTP and TCP) every second. Arguments go to probe_bench, e.g.
#   bench/probes/run.sh --endpoints 2000 --seconds 30
#   bench/probes/run.sh --endpoints 2000 --burst        # every probe in the same millisecond
# The same through the real daemon (native API registrations, /proc CPU and RSS, dnsperf while
# probing vs idle, probe rate and result spacing); arguments go to daemon_bench.py:
#   bench/probes/run.sh daemon --endpoints 2000 --window 10 --dns-seconds 5
# DAEMON=path picks the ecs-emulator binary (default: build/emulator/ecs-emulator when it exists,
# else one built in $BUILD_DIR).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
mode=prober
if [ "${1:-}" = daemon ]; then
  mode=daemon
  shift
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMU_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target emu_health emu_timer emu_core emu_log -j"${JOBS:-2}" >/dev/null
c++ -std=c++20 -O2 -DNDEBUG -DBOOST_ASIO_NO_DEPRECATED \
  -I"$root" "$root/bench/probes/probe_bench.cpp" -o "$build/probe_bench" \
  "$build/emulator/health/libemu_health.a" "$build/emulator/timer/libemu_timer.a" \
  "$build/emulator/libemu_core.a" \
  "$build/emulator/libemu_log.a" -lnghttp2 -pthread
if [ "$mode" = prober ]; then
  exec "$build/probe_bench" "$@"
fi
daemon=${DAEMON:-}
if [ -z "$daemon" ]; then
  if [ -x "$root/build/emulator/ecs-emulator" ]; then
    daemon=$root/build/emulator/ecs-emulator
  else
    cmake --build "$build" --target ecs-emulator -j"${JOBS:-2}" >/dev/null
    daemon=$build/emulator/ecs-emulator
  fi
fi
exec /usr/bin/python3 "$root/bench/probes/daemon_bench.py" --daemon "$daemon" \
  --probe-bench "$build/probe_bench" "$@"
