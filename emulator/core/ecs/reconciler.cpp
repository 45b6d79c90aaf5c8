#include "emulator/core/ecs/reconciler.hpp"

#include <algorithm>

namespace emu::core::ecs {

std::string scaling_reason(const std::string& deployment_id) {
  return "Scaling activity initiated by (deployment " + deployment_id + ")";
}

namespace {

bool active(const Task& t) {
  return t.desired_status != TaskStatus::Stopped && t.last_status != TaskStatus::Stopped;
}

Action stop(const Task& t, std::string reason) {
  Action a;
  a.kind = Action::Kind::StopTask;
  a.task_id = t.id;
  a.reason = std::move(reason);
  return a;
}

}  // namespace

std::vector<Action> reconcile(const EcsService& service, const std::vector<const Task*>& tasks,
                              TimePoint now) {
  std::vector<Action> out;
  const std::string scaling = scaling_reason(service.primary.id);
  if (service.status != "ACTIVE") {
    // DeleteService drains: every task that still runs is stopped.
    for (const Task* t : tasks) {
      if (active(*t)) out.push_back(stop(*t, scaling));
    }
    return out;
  }
  std::vector<const Task*> primary;
  std::vector<const Task*> old;
  for (const Task* t : tasks) {
    if (!active(*t)) continue;
    // ECS: a service task that reports UNHEALTHY is stopped and replaced.
    if (t->health() == Health::Unhealthy) {
      out.push_back(stop(*t, kHealthStopReason));
      continue;
    }
    (t->started_by == service.primary.id ? primary : old).push_back(t);
  }
  const auto desired = static_cast<std::size_t>(std::max(0, service.desired_count));
  if (primary.size() < desired) {
    const bool throttled = service.throttled_until && now < *service.throttled_until;
    if (!throttled) {
      for (std::size_t i = primary.size(); i < desired; ++i) out.push_back(Action{});
    }
  } else if (primary.size() > desired) {
    // Scale-in: tasks that are not RUNNING yet go first, then the newest.
    std::stable_sort(primary.begin(), primary.end(), [](const Task* a, const Task* b) {
      const bool ar = a->last_status == TaskStatus::Running;
      const bool br = b->last_status == TaskStatus::Running;
      if (ar != br) return !ar;
      return a->created_at > b->created_at;
    });
    for (std::size_t i = 0; i < primary.size() - desired; ++i)
      out.push_back(stop(*primary[i], scaling));
  }
  // A new deployment replaces the old tasks once it runs desiredCount tasks itself.
  const auto running = std::count_if(primary.begin(), primary.end(), [](const Task* t) {
    return t->last_status == TaskStatus::Running;
  });
  if (static_cast<std::size_t>(running) >= desired) {
    for (const Task* t : old) out.push_back(stop(*t, scaling));
  }
  return out;
}

}  // namespace emu::core::ecs
