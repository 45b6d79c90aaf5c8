#pragma once
// HealthSink: where HealthMonitor reports. The runtime implements it (registry, events, logs);
// tests record the calls.

#include <cstdint>
#include <string>

#include "emulator/core/model.hpp"
#include "emulator/health/probe.hpp"

namespace emu::health {

/// Receives every probe result and every health transition of watched tasks.
class HealthSink {
 public:
  virtual ~HealthSink() = default;
  /// Every result, in order, for the per-task history (`docker inspect`'s health log). Skipped
  /// results are not results about the task and do not come here (see on_probes_skipped).
  virtual void on_probe_result(const std::string& task_id, const core::ProbeRecord& record) = 0;
  /// A transition of the task's health, with a reason such as `3 failed probes (http 503)`.
  /// May call back into the monitor (unwatch, watch).
  virtual void on_health_changed(const std::string& task_id, core::Health health,
                                 std::string reason) = 0;
  /// Probes that did not run (Outcome::Skipped); the tasks' health is unchanged. Rate-limited by
  /// the monitor: `count` skipped results since the last call for `reason`, the latest one being
  /// `task_id`'s with `detail`. The default writes one warning line to the log.
  virtual void on_probes_skipped(const std::string& task_id, SkipReason reason,
                                 const std::string& detail, std::uint64_t count);
};

}  // namespace emu::health
