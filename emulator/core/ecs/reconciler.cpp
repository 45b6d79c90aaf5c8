#include "emulator/core/ecs/reconciler.hpp"

#include <algorithm>
#include <iterator>

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

std::vector<Action> actions_for(const EcsService& service, const std::vector<const Task*>& tasks,
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
  // A new deployment replaces the old tasks once it runs desiredCount tasks
  // itself.
  const auto running = std::count_if(primary.begin(), primary.end(), [](const Task* t) {
    return t->last_status == TaskStatus::Running;
  });
  if (static_cast<std::size_t>(running) >= desired) {
    for (const Task* t : old) out.push_back(stop(*t, scaling));
  }
  return out;
}

}  // namespace emu::core::ecs

namespace emu::core::ecs {

Plan reconcile(const EcsService& service, const std::vector<const Task*>& tasks,
               const std::set<std::string>& accounted, TimePoint now, WallTime wall_now,
               const ThrottlePolicy& throttle) {
  Plan plan;
  plan.service = service;
  EcsService& svc = plan.service;
  if (svc.status == "INACTIVE") return plan;
  const std::string label = "(service " + svc.name + ")";
  // Tasks that stopped since the last pass: health failures and start failures.
  for (const Task* t : tasks) {
    if (t->last_status != TaskStatus::Stopped || accounted.count(t->id)) continue;
    plan.accounted.push_back(t->id);
    if (t->stopped_reason == kHealthStopReason) {
      plan.events.push_back(label + " (task " + t->id + ") failed container health checks.");
      ++svc.replaced_unhealthy;
      plan.changed = true;
    } else if (!t->started_at && t->stop_code == kTaskFailedToStart) {
      // ECS throttle: tasks that never reach RUNNING delay the next start,
      // doubling up to 15 min.
      ++svc.start_failures;
      svc.last_start_failure = t->stopped_at.value_or(wall_now);
      if (svc.start_failures >= 2) {
        auto delay = throttle.base * (1LL << std::min(svc.start_failures - 2, 20));
        if (delay > throttle.max) delay = throttle.max;
        svc.throttled_until = now + delay;
        plan.recheck_at = now + delay;
        plan.events.push_back(label + " is unable to consistently start tasks successfully.");
      }
      plan.changed = true;
    }
  }
  plan.actions = actions_for(svc, tasks, now);
  std::set<std::string> stopping;
  for (const auto& a : plan.actions) {
    if (a.kind != Action::Kind::StopTask) continue;
    stopping.insert(a.task_id);
    plan.accounted.push_back(a.task_id);
    if (a.reason == kHealthStopReason) {
      plan.events.push_back(label + " (task " + a.task_id + ") failed container health checks.");
      ++svc.replaced_unhealthy;
    }
  }
  if (!plan.actions.empty()) {
    svc.steady = false;
    plan.changed = true;
  }
  // Old deployments are gone once none of their tasks is active (or still to be
  // stopped).
  if (!svc.old_deployments.empty()) {
    const bool old_active = std::any_of(tasks.begin(), tasks.end(), [&](const Task* t) {
      return active(*t) && !stopping.count(t->id) && t->started_by != svc.primary.id;
    });
    if (!old_active) {
      svc.old_deployments.clear();
      plan.changed = true;
    }
  }
  if (svc.status == "DRAINING") {
    const bool draining =
        !stopping.empty() || std::any_of(tasks.begin(), tasks.end(), [](const Task* t) {
          return t->last_status != TaskStatus::Stopped && t->last_status < TaskStatus::Stopping;
        });
    if (!draining) {
      svc.status = "INACTIVE";
      plan.changed = true;
    }
  } else if (plan.actions.empty() && !svc.steady) {
    int running = 0, other = 0;
    for (const Task* t : tasks) {
      if (!active(*t)) continue;
      (t->last_status == TaskStatus::Running ? running : other)++;
    }
    if (running == svc.desired_count && other == 0 && svc.old_deployments.empty()) {
      svc.steady = true;
      plan.events.push_back(label + " has reached a steady state.");
      plan.changed = true;
    }
  }
  return plan;
}

}  // namespace emu::core::ecs
