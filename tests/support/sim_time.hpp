#pragma once
// Simulated time for deterministic tests: a manual clock plus the TimerQueue; advance(d) fires
// every due timer in (deadline, sequence) order, moving the clock to each deadline first.

#include <chrono>

#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::test {

/// A clock that moves only when told to.
class ManualTimeSource final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  WallTime wall_now() const override { return wall_base_ + (now_ - TimePoint{}); }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_{std::chrono::hours(1)};
  WallTime wall_base_{std::chrono::seconds(1'767'225'600)};  // 2026-01-01T00:00:00Z
};

/// The clock and the timer queue, advanced together.
struct SimTime {
  ManualTimeSource clock;
  TimerQueue timers;

  /// Moves time forward by d, firing due timers in order ("any applicable timers are fired").
  void advance(Duration d) {
    const auto end = clock.now() + d;
    while (auto next = timers.next_deadline()) {
      if (*next > end) break;
      clock.set(*next);
      timers.run_due(*next);
    }
    clock.set(end);
  }
  /// Fires what is due now without moving the clock.
  void settle() { timers.run_due(clock.now()); }
};

}  // namespace emu::test
