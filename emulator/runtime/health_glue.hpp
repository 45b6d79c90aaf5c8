#pragma once
// The probes' side of the wiring: HealthGlue feeds what the HealthMonitor finds into the
// Registry (probe history, observed health), and ProbeFollower keeps the monitor watching
// exactly the tasks that should be probed as the Registry changes. Neither decides anything about
// an unhealthy task: the Registry records, the lifecycle owners (EndpointPolicy, the ECS
// scheduler) act. Core thread only.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/registry.hpp"
#include "emulator/health/health_monitor.hpp"
#include "emulator/health/health_sink.hpp"
#include "emulator/runtime/probe_control.hpp"
#include "emulator/runtime/probe_targets.hpp"

namespace emu::runtime {

/// Feeds probe results and transitions into the registry (Registry::set_health records them,
/// also while the task's health is forced).
class HealthGlue final : public health::HealthSink {
 public:
  explicit HealthGlue(core::Registry& registry) : registry_(registry) {}
  void on_probe_result(const std::string& task_id, const core::ProbeRecord& record) override;
  void on_health_changed(const std::string& task_id, core::Health health,
                         std::string reason) override;
  /// Replays a batch from the prober thread, in order, with one DNS snapshot build for all the
  /// transitions in it (a batch without a transition builds none).
  void apply(std::vector<ProbeReport>& batch);

 private:
  core::Registry& registry_;
};

/// The probe target of a task, or nullopt when it should not be probed: only registered native
/// endpoints and Cloud Map instances with a check of a type other than none (ECS tasks are
/// Docker's to check; simulated ones are never probed).
std::optional<health::Target> probe_target(const core::Task& task);

/// Watches the task `key` when probe_target() says so, else unwatches it (a no-op when nothing
/// changed: the monitor keeps its counters).
void sync_watch(const core::Registry& registry, ProbeTargets& probes, const std::string& key);

/// Keeps the probed set following `registry`: from construction, every task of the registry is
/// synced (probes resume after a restart), then every task a commit changes; a reset unwatches all.
/// Both must outlive every later commit of the registry (it cannot drop observers).
class ProbeFollower {
 public:
  ProbeFollower(core::Registry& registry, ProbeTargets& probes);
  /// Follows with a monitor of the caller's thread (the deterministic tests).
  ProbeFollower(core::Registry& registry, health::HealthMonitor& monitor);
  ProbeFollower(const ProbeFollower&) = delete;
  ProbeFollower& operator=(const ProbeFollower&) = delete;

 private:
  void start();
  void on_commit(const core::CommitInfo& info);
  core::Registry& registry_;
  std::unique_ptr<MonitorTargets> owned_;  // the monitor constructor's adapter
  ProbeTargets& probes_;
};

}  // namespace emu::runtime
