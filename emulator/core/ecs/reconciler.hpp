#pragma once
// The service scheduler as a pure function (STYLE section 8): given a service and its tasks at
// `now`, what to do next. The runtime (EcsEngine) executes the actions and calls it again after
// every change, until it returns nothing.

#include <string>
#include <vector>

#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/time.hpp"

namespace emu::core::ecs {

// kHealthStopReason and kSchedulerStopCode (core/model.hpp): the health stop of a service task.

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

/// The actions that bring `tasks` (the service's tasks, any status) towards the service's goal:
/// unhealthy tasks are stopped; the primary deployment is held at desiredCount (starts unless
/// throttled, scale-in stops pending then newest tasks); older deployments' tasks are stopped once
/// the primary runs desiredCount tasks; a DRAINING service stops everything.
[[nodiscard]] std::vector<Action> reconcile(const EcsService& service,
                                            const std::vector<const Task*>& tasks, TimePoint now);

}  // namespace emu::core::ecs
