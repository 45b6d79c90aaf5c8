#pragma once
// HealthTracker: the per-task health policy as counters and thresholds (Envoy's active health
// checker, dnsdist's submitHealthCheckResult). Pure: no clock, no I/O; `now` is a parameter.
//
// ECS/Docker semantics (SPEC section 5):
// - UNKNOWN until a result counts;
// - the first success makes the task HEALTHY at once, and any success resets the failure count;
// - `retries` consecutive failures make it UNHEALTHY (a timeout is just a failure);
// - failures inside the start period do not count, until the first success or the period's end;
// - a skipped probe (it could not run: the daemon was out of file descriptors, memory or
//   processes, or command probes are disabled) says nothing about the task: it is neither a
//   success nor a failure, and leaves the state and the counters as they are.

#include <algorithm>

#include "emulator/core/model.hpp"
#include "emulator/core/time.hpp"

namespace emu::core {

/// The outcome of one probe, as the policy sees it (a timeout is a Fail; Skipped: the probe did
/// not run, so it observed nothing about the task).
enum class Outcome { Pass, Fail, Skipped };

/// What one result did to the health state (Envoy's HealthTransition).
enum class HealthTransition {
  Unchanged,  ///< state unchanged and nothing counted toward a change
  Pending,    ///< a failure counted, but the threshold is not reached yet
  Changed,    ///< state() changed with this result
};

/// The thresholds of one health check (from HealthCheckSpec, already scaled).
struct HealthPolicy {
  int retries = 3;           ///< consecutive failures before UNHEALTHY (values < 1 mean 1)
  Duration start_period{0};  ///< ECS startPeriod: grace during which failures do not count
};

/// Counters + thresholds for one task; record() reports the transition.
class HealthTracker {
 public:
  /// `started_at` is when the task (or the check) started: the start period runs from there.
  /// `initial` lets a replaced check keep the state it had (Unhealthy counts as retries failures).
  explicit HealthTracker(HealthPolicy policy, TimePoint started_at = {},
                         Health initial = Health::Unknown);

  /// Records one probe outcome observed at `now` (Skipped is always Unchanged and counts nothing).
  [[nodiscard]] HealthTransition record(Outcome outcome, TimePoint now);

  /// The current health: Unknown, Healthy or Unhealthy.
  Health state() const { return state_; }
  /// Consecutive failures counted so far (failures inside the start period are not counted).
  int consecutive_failures() const { return failures_; }
  /// The failure threshold in effect (retries, at least 1).
  int retries() const { return retries_; }
  /// True while failures would be ignored: inside the start period and no success yet.
  bool in_start_period(TimePoint now) const;

 private:
  const int retries_;
  const Duration start_period_;
  const TimePoint started_at_;
  Health state_;
  int failures_ = 0;
  bool succeeded_ = false;  // ECS: the first success ends the start period early
};

}  // namespace emu::core
