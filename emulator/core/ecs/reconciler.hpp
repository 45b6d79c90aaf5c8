#pragma once
// The service scheduler as a pure function (STYLE section 8): given a service
// and its tasks at `now`, what to do next, as a Plan: the task actions and the
// service's own changes (the ECS start throttle, service events, steady state,
// old deployments ending, DRAINING -> INACTIVE). The runtime (EcsEngine)
// applies the plan, executes the actions and calls it again after every change,
// until it returns nothing.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/time.hpp"

namespace emu::core::ecs {

// kHealthStopReason and kSchedulerStopCode (core/model.hpp): the health stop of a service task.
/// ECS: the stopCode of a task that never started (counts for the start throttle).
inline constexpr const char* kTaskFailedToStart = "TaskFailedToStart";

/// One thing the scheduler wants done.
struct Action {
  enum class Kind { StartTask, StopTask };
  Kind kind = Kind::StartTask;
  std::string task_id;  ///< StopTask only
  std::string stop_code = kSchedulerStopCode;
  std::string reason;  ///< StopTask only
  bool operator==(const Action&) const = default;
};

/// `Scaling activity initiated by (deployment ecs-svc/...)`.
std::string scaling_reason(const std::string& deployment_id);

/// The actions that bring `tasks` (the service's tasks, any status) towards the
/// service's goal: unhealthy tasks are stopped; the primary deployment is held
/// at desiredCount (starts unless throttled, scale-in stops pending then newest
/// tasks); older deployments' tasks are stopped once the primary runs
/// desiredCount tasks; a DRAINING service stops everything.
[[nodiscard]] std::vector<Action> actions_for(const EcsService& service,
                                              const std::vector<const Task*>& tasks, TimePoint now);

/// ECS: after repeated start failures the next start waits base * 2^(failures -
/// 2), at most max.
struct ThrottlePolicy {
  Duration base{10'000};
  Duration max{900'000};
};

/// One pass of the scheduler over a service.
struct Plan {
  EcsService service;                   ///< the service with this pass's own changes
  std::vector<Action> actions;          ///< what to do to its tasks
  std::vector<std::string> events;      ///< new service events, oldest first (before the actions')
  std::vector<std::string> accounted;   ///< stopped (or now stopping) tasks counted from now on
  std::optional<TimePoint> recheck_at;  ///< throttled: run the scheduler again then
  bool changed = false;                 ///< the service itself changed (write it)
};

/// The scheduler's decision. `accounted` = tasks earlier passes already counted
/// (a stop is counted once: for the throttle, or as an unhealthy replacement).
/// Tasks the actions stop are taken as no longer active when the plan decides
/// on old deployments; while any is being stopped, a DRAINING service stays
/// DRAINING (the next pass after their change decides).
[[nodiscard]] Plan reconcile(const EcsService& service, const std::vector<const Task*>& tasks,
                             const std::set<std::string>& accounted, TimePoint now,
                             WallTime wall_now, const ThrottlePolicy& throttle = {});

}  // namespace emu::core::ecs
