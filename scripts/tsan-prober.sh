#!/bin/sh
# scripts/tsan-prober.sh: a ThreadSanitizer build of the prober thread's handoff and everything it runs (health, timer,
# the core pieces they use), with the two tests that cross threads, then runs it. No CMake option
# for TSan: EMU_SANITIZE is ASan+UBSan, and a TSan build of the whole tree is long on 2 cores.
set -eu
cd "$(dirname "$0")/.."
mkdir -p build-tsan-min
out=build-tsan-min
srcs="emulator/runtime/probe_control.cpp emulator/runtime/prober_thread.cpp
 $(ls emulator/health/*.cpp) emulator/timer/asio_timer_driver.cpp emulator/log/log.cpp
 emulator/core/health_tracker.cpp emulator/core/timer_queue.cpp emulator/core/prometheus_text.cpp
 emulator/core/model.cpp
 tests/runtime/probe_control_test.cpp tests/runtime/prober_thread_owner_test.cpp"
objs=""
for s in $srcs; do
  o=$out/$(echo "$s" | tr / _).o
  objs="$objs $o"
  echo "$s" >&2
  ccache c++ -fsanitize=thread -DBOOST_ASIO_NO_DEPRECATED -I. -O1 -g -std=c++20 -DGTEST_HAS_PTHREAD=1 -c "$s" -o "$o" &
  while [ "$(jobs -r | wc -l)" -ge 2 ]; do sleep 0.2; done
done
wait
c++ -fsanitize=thread $objs -o $out/tsan_tests -lgtest_main -lgtest -lgmock -lnghttp2 -pthread
TSAN_OPTIONS=halt_on_error=1 exec "$out/tsan_tests" "$@"
