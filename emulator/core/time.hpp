#pragma once
// Time is injected: core code never reads a clock itself. Production uses SteadyTimeSource;
// tests use ManualTimeSource (tests/support/sim_time.hpp) and advance it explicitly.

#include <chrono>
#include <cstdint>

namespace emu {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

/// A source of monotonic time (for deadlines) and wall time (for timestamps users see).
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  /// Monotonic now: deadlines, intervals, timeouts.
  virtual TimePoint now() const = 0;
  /// Wall-clock now: createdAt, event times.
  virtual WallTime wall_now() const = 0;
};

/// The real clocks.
class SteadyTimeSource final : public TimeSource {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

/// Seconds since the epoch with millisecond precision, as AWS JSON timestamps are sent.
inline double epoch_seconds(WallTime t) {
  return static_cast<double>(
             std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
         1000.0;
}

/// Milliseconds since the epoch (what the store keeps).
inline std::int64_t epoch_millis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline WallTime from_epoch_millis(std::int64_t ms) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms))};
}

}  // namespace emu
