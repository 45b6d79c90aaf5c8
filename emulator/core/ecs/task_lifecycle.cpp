#include "emulator/core/ecs/task_lifecycle.hpp"

#include <array>

namespace emu::core::ecs {

namespace {

using S = TaskStatus;

/// One row of the table: `event` moves a task in [first, last] (desired status permitting) to
/// `to`; `to` unset = the state stays.
struct Rule {
  TaskEvent event;
  S first;
  S last;
  std::optional<S> to;
  bool needs_desired_running;  ///< a task asked to stop never moves towards RUNNING
};

constexpr std::array<Rule, 11> kRules{{
    {TaskEvent::Create, S::Provisioning, S::Stopped, S::Provisioning, false},
    {TaskEvent::CreateFailed, S::Provisioning, S::Stopped, S::Stopped, false},
    {TaskEvent::Provisioned, S::Provisioning, S::Provisioning, S::Pending, true},
    {TaskEvent::Activate, S::Provisioning, S::Pending, S::Activating, true},
    {TaskEvent::Started, S::Activating, S::Activating, S::Running, true},
    {TaskEvent::StopRequested, S::Provisioning, S::Running, S::Deactivating, false},
    {TaskEvent::Deactivated, S::Deactivating, S::Deactivating, S::Stopping, false},
    {TaskEvent::ContainersStopped, S::Stopping, S::Stopping, S::Deprovisioning, false},
    {TaskEvent::Deprovisioned, S::Deprovisioning, S::Deprovisioning, S::Stopped, false},
    {TaskEvent::Terminated, S::Provisioning, S::Deprovisioning, S::Stopped, false},
    {TaskEvent::Updated, S::Provisioning, S::Stopped, std::nullopt, false},
}};

const Rule& rule_of(TaskEvent event) {
  for (const auto& r : kRules) {
    if (r.event == event) return r;
  }
  return kRules.back();  // unreachable: every event has a row
}

bool creates(TaskEvent e) { return e == TaskEvent::Create || e == TaskEvent::CreateFailed; }

std::string head(const Task& t) { return "task " + t.id + " (" + t.group + ") "; }

std::string stop_suffix(const Task& t) {
  return " (" + t.stop_code + ": " + t.stopped_reason + ")";
}

}  // namespace

const char* to_string(TaskEvent event) {
  switch (event) {
    case TaskEvent::Create:
      return "Create";
    case TaskEvent::CreateFailed:
      return "CreateFailed";
    case TaskEvent::Provisioned:
      return "Provisioned";
    case TaskEvent::Activate:
      return "Activate";
    case TaskEvent::Started:
      return "Started";
    case TaskEvent::StopRequested:
      return "StopRequested";
    case TaskEvent::Deactivated:
      return "Deactivated";
    case TaskEvent::ContainersStopped:
      return "ContainersStopped";
    case TaskEvent::Deprovisioned:
      return "Deprovisioned";
    case TaskEvent::Terminated:
      return "Terminated";
    case TaskEvent::Updated:
      return "Updated";
  }
  return "?";
}

std::optional<TaskStatus> next_status(TaskStatus from, TaskEvent event) {
  const Rule& r = rule_of(event);
  if (!creates(event) && (from < r.first || from > r.last)) return std::nullopt;
  return r.to.value_or(from);
}

std::optional<TaskEvent> step_towards_desired(TaskStatus last, TaskStatus desired) {
  if (desired != S::Stopped) {
    switch (last) {
      case S::Provisioning:
        return TaskEvent::Provisioned;
      case S::Pending:
        return TaskEvent::Activate;
      case S::Activating:
        return TaskEvent::Started;
      default:
        return std::nullopt;  // RUNNING stays until stopped; the stop path needs a stop request
    }
  }
  switch (last) {
    case S::Deactivating:
      return TaskEvent::Deactivated;
    case S::Stopping:
      return TaskEvent::ContainersStopped;
    case S::Deprovisioning:
      return TaskEvent::Deprovisioned;
    case S::Stopped:
      return std::nullopt;
    default:
      return TaskEvent::StopRequested;
  }
}

Result<TaskMove> transition(const Task& task, TaskEvent event, WallTime now, const StopCause& cause,
                            const std::string& note) {
  const Rule& r = rule_of(event);
  const auto from = task.last_status;
  const auto to = next_status(from, event);
  if (!to || (r.needs_desired_running && task.desired_status == S::Stopped)) {
    return Error{Code::IllegalTransition,
                 "task " + task.id + ": " + std::string(to_string(event)) + " is not allowed in " +
                     to_string(from) +
                     (task.desired_status == S::Stopped ? " (desired STOPPED)" : "")};
  }
  TaskMove c{task, TaskStateChanged::Kind::StatusChanged, {}};
  Task& t = c.task;
  const bool was_stopping = task.desired_status == S::Stopped;
  auto stop_with_cause = [&] {
    t.desired_status = S::Stopped;
    if (!was_stopping && !cause.code.empty()) {
      t.stop_code = cause.code;
      t.stopped_reason = cause.reason;
    }
    if (!t.stopping_at) t.stopping_at = now;
  };
  t.last_status = *to;
  switch (event) {
    case TaskEvent::Create:
      t.desired_status = S::Running;
      t.created_at = now;
      c.kind = TaskStateChanged::Kind::Provisioning;
      c.message = head(t) + "PROVISIONING";
      return c;
    case TaskEvent::CreateFailed:
      t.desired_status = S::Stopped;
      t.created_at = now;
      t.stop_code = cause.code;
      t.stopped_reason = cause.reason;
      t.stopping_at = now;
      t.stopped_at = now;
      c.kind = TaskStateChanged::Kind::Stopped;
      c.message = head(t) + "STOPPED" + stop_suffix(t);
      return c;
    case TaskEvent::Started:
      if (!t.started_at) t.started_at = now;  // adopted after a restart: it started before
      break;
    case TaskEvent::StopRequested:
      stop_with_cause();
      if (!was_stopping) {
        ++t.version;
        c.kind = TaskStateChanged::Kind::Stopping;
        c.message = head(t) + "stopping" + stop_suffix(t);
        return c;
      }
      break;
    case TaskEvent::Deprovisioned:
      t.desired_status = S::Stopped;
      t.stopped_at = now;
      break;
    case TaskEvent::Terminated:
      stop_with_cause();
      t.stopped_at = now;
      break;
    default:
      break;
  }
  ++t.version;
  c.message = head(t) + to_string(from) + " -> " + to_string(t.last_status);
  if (t.last_status == S::Stopped && from != S::Stopped) {
    c.kind = TaskStateChanged::Kind::Stopped;
    c.message += stop_suffix(t);
  }
  if (!note.empty()) c.message += " (" + note + ")";
  return c;
}

}  // namespace emu::core::ecs
