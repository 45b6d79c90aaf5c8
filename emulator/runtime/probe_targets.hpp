#pragma once
// ProbeTargets: what ProbeFollower tells the prober (which tasks to probe, with what check).
// Implemented by ProbeControl (the prober thread, the daemon) and MonitorTargets (a HealthMonitor
// on the caller's thread, the deterministic tests). Core thread only.

#include <string>

#include "emulator/health/health_monitor.hpp"

namespace emu::runtime {

/// The set of probed tasks, as the owner of the Registry changes it.
class ProbeTargets {
 public:
  virtual ~ProbeTargets() = default;
  /// Probes the task (replaces its check when the target changed; a no-op when it did not).
  virtual void watch(health::Target target) = 0;
  /// Stops probing the task; a no-op for an unknown task.
  virtual void unwatch(const std::string& task_id) = 0;
  /// Stops probing every task.
  virtual void unwatch_all() = 0;
};

/// ProbeTargets on a HealthMonitor of the same thread.
class MonitorTargets final : public ProbeTargets {
 public:
  explicit MonitorTargets(health::HealthMonitor& monitor) : monitor_(monitor) {}
  void watch(health::Target target) override { monitor_.watch(std::move(target)); }
  void unwatch(const std::string& task_id) override { monitor_.unwatch(task_id); }
  void unwatch_all() override {
    for (const auto& id : monitor_.watched()) monitor_.unwatch(id);
  }

 private:
  health::HealthMonitor& monitor_;
};

}  // namespace emu::runtime
