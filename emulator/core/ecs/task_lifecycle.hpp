#pragma once
// The ECS task lifecycle as a table (SPEC section 6): PROVISIONING -> PENDING -> ACTIVATING ->
// RUNNING -> DEACTIVATING -> STOPPING -> DEPROVISIONING -> STOPPED. A pure function of (task,
// event, now) says the next state and what the move sets (timestamps, desired status, stop code
// and reason, version) and writes the event's type and "A -> B" message; a move the table does
// not have is Code::IllegalTransition. Every change the ECS engine makes to a task goes through
// it; the engine only adds what is not the lifecycle's (addresses, container ids, exit code).

#include <optional>
#include <string>

#include "emulator/core/events.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/time.hpp"

namespace emu::core::ecs {

/// What happens to a task.
enum class TaskEvent {
  Create,         ///< (new) -> PROVISIONING
  CreateFailed,   ///< (new) -> STOPPED: it could not even be provisioned (no address)
  Provisioned,    ///< PROVISIONING -> PENDING (containers exist)
  Activate,       ///< PROVISIONING | PENDING -> ACTIVATING (registered in Cloud Map)
  Started,        ///< ACTIVATING -> RUNNING; sets startedAt (unless set)
  StopRequested,  ///< PROVISIONING..RUNNING -> DEACTIVATING; desired STOPPED, stop code, stoppingAt
  Deactivated,    ///< DEACTIVATING -> STOPPING (out of Cloud Map; containers get SIGTERM)
  ContainersStopped,  ///< STOPPING -> DEPROVISIONING
  Deprovisioned,      ///< DEPROVISIONING -> STOPPED; sets stoppedAt
  Terminated,         ///< any live state -> STOPPED at once (failed start, nothing left to stop)
  Updated,            ///< same state, other data (container ids, addresses): version only
};

const char* to_string(TaskEvent event);

/// Why a task stops. Applied by StopRequested, CreateFailed and Terminated, unless the task is
/// already stopping (then its first code and reason stay).
struct StopCause {
  std::string code;
  std::string reason;
};

/// A task after one move, with the event the Registry records for it.
struct TaskMove {
  Task task;
  TaskStateChanged::Kind kind;  ///< Provisioning | StatusChanged | Stopping | Stopped
  std::string message;          ///< "task <id> (<group>) A -> B", plus " (code: reason)" at STOPPED
};

/// The state `event` moves a task in `from` to, or nullopt when the table has no such move.
/// (Create and CreateFailed ignore `from`: they make a task.)
[[nodiscard]] std::optional<TaskStatus> next_status(TaskStatus from, TaskEvent event);

/// The event that takes a task one step towards its desired status (the simulated lifecycle):
/// nullopt for a RUNNING task that should run and for a STOPPED one.
[[nodiscard]] std::optional<TaskEvent> step_towards_desired(TaskStatus last, TaskStatus desired);

/// Applies `event` to `task` at `now`. `note` is appended to the message in parentheses (e.g.
/// "adopted after a restart"). IllegalTransition when the table has no such move.
[[nodiscard]] Result<TaskMove> transition(const Task& task, TaskEvent event, WallTime now,
                                          const StopCause& cause = {},
                                          const std::string& note = {});

}  // namespace emu::core::ecs
