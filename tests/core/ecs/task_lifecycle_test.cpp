#include "emulator/core/ecs/task_lifecycle.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace emu::core::ecs {
namespace {

using S = TaskStatus;
using E = TaskEvent;

constexpr S kAll[] = {S::Provisioning, S::Pending,  S::Activating,     S::Running,
                      S::Deactivating, S::Stopping, S::Deprovisioning, S::Stopped};
constexpr E kEvents[] = {E::Provisioned,   E::Activate,    E::Started,
                         E::StopRequested, E::Deactivated, E::ContainersStopped,
                         E::Deprovisioned, E::Terminated,  E::Updated};

const WallTime kThen{std::chrono::seconds(100)};
const WallTime kNow{std::chrono::seconds(200)};

Task task_in(S last, S desired) {
  Task t;
  t.id = "t1";
  t.group = "service:web";
  t.last_status = last;
  t.desired_status = desired;
  t.version = 7;
  t.created_at = kThen;
  if (desired == S::Stopped) {
    t.stop_code = "UserInitiated";
    t.stopped_reason = "Task stopped by user";
    t.stopping_at = kThen;
  }
  return t;
}

/// Every legal move of a live task: (from, desired, event) -> to.
struct Legal {
  S from;
  S desired;
  E event;
  S to;
};
std::vector<Legal> legal_moves() {
  std::vector<Legal> out = {
      {S::Provisioning, S::Running, E::Provisioned, S::Pending},
      {S::Provisioning, S::Running, E::Activate, S::Activating},  // Docker: a late report
      {S::Pending, S::Running, E::Activate, S::Activating},
      {S::Activating, S::Running, E::Started, S::Running},
      {S::Deactivating, S::Stopped, E::Deactivated, S::Stopping},
      {S::Stopping, S::Stopped, E::ContainersStopped, S::Deprovisioning},
      {S::Deprovisioning, S::Stopped, E::Deprovisioned, S::Stopped},
  };
  for (S from : kAll) {
    for (S desired : {S::Running, S::Stopped}) {
      if (from > S::Running && desired == S::Running) continue;  // no such task
      // A stop begins from any state up to RUNNING (also one whose desired status already is
      // STOPPED: a stop request written by an older version).
      if (from <= S::Running) out.push_back({from, desired, E::StopRequested, S::Deactivating});
      // Any live task can end at once (failed start, nothing left to stop).
      if (from != S::Stopped) out.push_back({from, desired, E::Terminated, S::Stopped});
      out.push_back({from, desired, E::Updated, from});
    }
  }
  return out;
}
const std::vector<Legal> kLegal = legal_moves();

bool listed(S from, S desired, E event) {
  for (const auto& l : kLegal) {
    if (l.from == from && l.desired == desired && l.event == event) return true;
  }
  return false;
}

TEST(TaskLifecycle, EveryLegalMoveReachesItsStateAndBumpsTheVersion) {
  for (const auto& l : kLegal) {
    SCOPED_TRACE(std::string(to_string(l.event)) + " from " + to_string(l.from));
    auto c = transition(task_in(l.from, l.desired), l.event, kNow);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->task.last_status, l.to);
    EXPECT_EQ(c->task.version, 8);
    if (l.to == S::Stopped && l.from != S::Stopped) {
      EXPECT_EQ(c->kind, TaskStateChanged::Kind::Stopped);
      EXPECT_EQ(c->task.desired_status, S::Stopped);
      EXPECT_EQ(c->task.stopped_at, kNow);
      EXPECT_TRUE(c->task.stopping_at.has_value());
    }
  }
}

// Every (state, desired, event) the table does not list is refused, and leaves nothing changed.
TEST(TaskLifecycle, EveryOtherMoveIsAnIllegalTransition) {
  int illegal = 0;
  for (S from : kAll) {
    for (S desired : {S::Running, S::Stopped}) {
      // A task past RUNNING is always stopping; those combinations do not exist.
      if (from > S::Running && desired == S::Running) continue;
      for (E event : kEvents) {
        if (listed(from, desired, event)) continue;
        SCOPED_TRACE(std::string(to_string(event)) + " from " + to_string(from) + " desired " +
                     to_string(desired));
        auto c = transition(task_in(from, desired), event, kNow);
        ASSERT_FALSE(c.ok()) << "moved to " << to_string(c->task.last_status);
        EXPECT_EQ(c.error().code, Code::IllegalTransition);
        EXPECT_NE(c.error().message.find(to_string(event)), std::string::npos);
        ++illegal;
      }
    }
  }
  // Among them the ones a bug would most likely attempt.
  EXPECT_EQ(illegal, 12 * 9 - static_cast<int>(kLegal.size()));
  EXPECT_FALSE(transition(task_in(S::Running, S::Running), E::Provisioned, kNow).ok());   // back
  EXPECT_FALSE(transition(task_in(S::Provisioning, S::Running), E::Started, kNow).ok());  // skip
  EXPECT_FALSE(transition(task_in(S::Stopped, S::Stopped), E::Terminated, kNow).ok());    // twice
  EXPECT_FALSE(transition(task_in(S::Deactivating, S::Stopped), E::Deprovisioned, kNow).ok());
  // A task asked to stop never moves towards RUNNING.
  EXPECT_FALSE(transition(task_in(S::Activating, S::Stopped), E::Started, kNow).ok());
  EXPECT_FALSE(transition(task_in(S::Provisioning, S::Stopped), E::Provisioned, kNow).ok());
}

// What each move sets and says: a table of (task, event, cause) -> fields and message.
TEST(TaskLifecycle, MovesSetTimestampsCodesAndMessages) {
  struct Case {
    const char* name;
    Task task;
    E event;
    StopCause cause;
    std::string note;
    std::string type;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"create",
       task_in(S::Running, S::Running),
       E::Create,
       {},
       "",
       "TaskProvisioning",
       "task t1 (service:web) PROVISIONING"},
      {"create failed",
       task_in(S::Running, S::Running),
       E::CreateFailed,
       {"TaskFailedToStart", "no IP"},
       "",
       "TaskStopped",
       "task t1 (service:web) STOPPED (TaskFailedToStart: no IP)"},
      {"step",
       task_in(S::Provisioning, S::Running),
       E::Provisioned,
       {},
       "",
       "TaskStatusChanged",
       "task t1 (service:web) PROVISIONING -> PENDING"},
      {"started",
       task_in(S::Activating, S::Running),
       E::Started,
       {},
       "",
       "TaskStatusChanged",
       "task t1 (service:web) ACTIVATING -> RUNNING"},
      {"adopted",
       task_in(S::Activating, S::Running),
       E::Started,
       {},
       "adopted after a restart",
       "TaskStatusChanged",
       "task t1 (service:web) ACTIVATING -> RUNNING (adopted after a restart)"},
      {"stop",
       task_in(S::Running, S::Running),
       E::StopRequested,
       {"ServiceSchedulerInitiated", "Task failed container health checks"},
       "",
       "TaskStopping",
       "task t1 (service:web) stopping (ServiceSchedulerInitiated: Task failed container health "
       "checks)"},
      {"stopped",
       task_in(S::Deprovisioning, S::Stopped),
       E::Deprovisioned,
       {},
       "",
       "TaskStopped",
       "task t1 (service:web) DEPROVISIONING -> STOPPED (UserInitiated: Task stopped by user)"},
      {"failed start",
       task_in(S::Pending, S::Running),
       E::Terminated,
       {"TaskFailedToStart", "pull"},
       "",
       "TaskStopped",
       "task t1 (service:web) PENDING -> STOPPED (TaskFailedToStart: pull)"},
      // A task already stopping keeps its first code and reason.
      {"exited while stopping",
       task_in(S::Stopping, S::Stopped),
       E::Terminated,
       {"TaskFailedToStart", "x"},
       "",
       "TaskStopped",
       "task t1 (service:web) STOPPING -> STOPPED (UserInitiated: Task stopped by user)"},
      {"update",
       task_in(S::Pending, S::Running),
       E::Updated,
       {},
       "",
       "TaskStatusChanged",
       "task t1 (service:web) PENDING -> PENDING"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = transition(c.task, c.event, kNow, c.cause, c.note);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(to_string(r->kind), c.type);
    EXPECT_EQ(r->message, c.message);
  }

  auto created = transition(task_in(S::Running, S::Running), E::Create, kNow);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->task.last_status, S::Provisioning);
  EXPECT_EQ(created->task.desired_status, S::Running);
  EXPECT_EQ(created->task.created_at, kNow);
  EXPECT_EQ(created->task.version, 7);  // a new task starts at its own version

  auto started = transition(task_in(S::Activating, S::Running), E::Started, kNow);
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->task.started_at, kNow);
  Task before = task_in(S::Activating, S::Running);
  before.started_at = kThen;  // adopted: it had started before the restart
  EXPECT_EQ(transition(before, E::Started, kNow)->task.started_at, kThen);

  auto stop = transition(task_in(S::Running, S::Running), E::StopRequested, kNow, {"C", "R"});
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->task.desired_status, S::Stopped);
  EXPECT_EQ(stop->task.stop_code, "C");
  EXPECT_EQ(stop->task.stopped_reason, "R");
  EXPECT_EQ(stop->task.stopping_at, kNow);
  EXPECT_FALSE(stop->task.stopped_at.has_value());

  auto done = transition(task_in(S::Deprovisioning, S::Stopped), E::Deprovisioned, kNow);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task.stopping_at, kThen);  // set when the stop began
  EXPECT_EQ(done->task.stopped_at, kNow);
}

// The simulated lifecycle: stepping towards the desired status walks the SPEC order.
TEST(TaskLifecycle, SteppingTowardsDesiredWalksTheSpecOrder) {
  Task t = task_in(S::Provisioning, S::Running);
  std::vector<S> seen{t.last_status};
  while (auto e = step_towards_desired(t.last_status, t.desired_status)) {
    auto c = transition(t, *e, kNow);
    ASSERT_TRUE(c.ok()) << c.error().message;
    t = c->task;
    seen.push_back(t.last_status);
    if (t.last_status == S::Running) break;
  }
  EXPECT_EQ(seen, (std::vector<S>{S::Provisioning, S::Pending, S::Activating, S::Running}));
  EXPECT_FALSE(step_towards_desired(S::Running, S::Running).has_value());

  t.desired_status = S::Stopped;  // as a stop request left it, without the request's fields
  seen = {t.last_status};
  while (auto e = step_towards_desired(t.last_status, t.desired_status)) {
    auto c = transition(t, *e, kNow);
    ASSERT_TRUE(c.ok()) << c.error().message;
    t = c->task;
    seen.push_back(t.last_status);
  }
  EXPECT_EQ(seen, (std::vector<S>{S::Running, S::Deactivating, S::Stopping, S::Deprovisioning,
                                  S::Stopped}));
  EXPECT_EQ(t.stopped_at, kNow);
}

}  // namespace
}  // namespace emu::core::ecs
