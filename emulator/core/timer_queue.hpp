#pragma once
// TimerQueue: the only place deadlines live. Deterministic: timers fire in (deadline, sequence)
// order, so equal deadlines fire in the order they were scheduled (Envoy's SimulatedTimeSystem).
// Production arms one steady_timer at next_deadline() (timer/asio_timer_driver); tests advance
// a ManualTimeSource and call run_due().

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "emulator/core/time.hpp"

namespace emu {

class TimerQueue {
 public:
  using Id = std::uint64_t;
  using Callback = std::function<void()>;

  /// Schedules fn at `when`; returns an id for cancel().
  Id schedule(TimePoint when, Callback fn);
  /// Cancels a pending timer; a no-op when it already fired or was cancelled.
  void cancel(Id id);
  /// The earliest pending deadline, if any.
  std::optional<TimePoint> next_deadline() const;
  /// Fires every timer due at or before `now`, in order; timers scheduled by callbacks for a time
  /// <= now fire in the same call. Returns how many fired.
  std::size_t run_due(TimePoint now);
  /// Number of pending timers.
  std::size_t size() const { return queue_.size(); }
  /// Called whenever the earliest deadline may have moved earlier (the driver re-arms).
  void on_rearm(std::function<void()> fn) { rearm_ = std::move(fn); }

 private:
  using Key = std::pair<TimePoint, Id>;
  std::map<Key, Callback> queue_;
  std::unordered_map<Id, TimePoint> index_;
  Id next_id_ = 1;
  std::function<void()> rearm_;
};

}  // namespace emu
