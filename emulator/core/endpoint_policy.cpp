#include "emulator/core/endpoint_policy.hpp"

namespace emu::core {

std::optional<EndpointStop> endpoint_action(const Service& service, const Task& task) {
  const bool endpoint = task.launch == Launch::External && task.source == TaskSource::Emulator;
  const bool running =
      task.last_status != TaskStatus::Stopped && task.desired_status != TaskStatus::Stopped;
  if (!endpoint || !running || task.service_id != service.id) return std::nullopt;
  if (task.health() != Health::Unhealthy || service.on_unhealthy != OnUnhealthy::Stop)
    return std::nullopt;
  return EndpointStop{kSchedulerStopCode, kHealthStopReason};
}

EndpointPolicy::EndpointPolicy(Registry& registry) : registry_(registry) {
  registry_.add_observer([this](const CommitInfo& info) { on_commit(info); });
}

void EndpointPolicy::on_commit(const CommitInfo& info) {
  for (const auto& key : info.health_changed) {
    const Task* t = registry_.task(key);
    if (!t) continue;
    const Service* s = registry_.service_by_id(t->service_id);
    if (!s) continue;
    if (auto stop = endpoint_action(*s, *t)) {
      // Observers are told of this commit after the current one (Registry::notify). A failed
      // store leaves the task UNHEALTHY and RUNNING; its next change decides again.
      (void)registry_.stop_task(key, std::move(stop->stop_code), std::move(stop->reason));
    }
  }
}

}  // namespace emu::core
