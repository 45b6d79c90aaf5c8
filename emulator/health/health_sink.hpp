#pragma once
// HealthSink: where HealthMonitor reports. The runtime implements it (registry, events, logs);
// tests record the calls.

#include <string>

#include "emulator/core/model.hpp"

namespace emu::health {

/// Receives every probe result and every health transition of watched tasks.
class HealthSink {
 public:
  virtual ~HealthSink() = default;
  /// Every result, in order, for the per-task history (`docker inspect`'s health log).
  virtual void on_probe_result(const std::string& task_id, const core::ProbeRecord& record) = 0;
  /// A transition of the task's health, with a reason such as `3 failed probes (http 503)`.
  /// May call back into the monitor (unwatch, watch).
  virtual void on_health_changed(const std::string& task_id, core::Health health,
                                 std::string reason) = 0;
};

}  // namespace emu::health
