#include "emulator/core/ecs/reconciler.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <set>

namespace emu::core::ecs {
namespace {

struct ReconcilerTest : ::testing::Test {
  EcsService service;
  std::deque<Task> storage;
  std::vector<const Task*> tasks;
  TimePoint now{std::chrono::hours(1)};

  ReconcilerTest() {
    service.name = "web";
    service.primary.id = "ecs-svc/1234567890123456789";
    service.desired_count = 3;
  }
  const Task& add(std::string id, TaskStatus last, int created_s, std::string started_by = "") {
    Task t;
    t.id = std::move(id);
    t.last_status = last;
    t.desired_status = last == TaskStatus::Stopped ? TaskStatus::Stopped : TaskStatus::Running;
    t.started_by = started_by.empty() ? service.primary.id : started_by;
    t.created_at = WallTime{std::chrono::seconds(created_s)};
    storage.push_back(t);
    tasks.push_back(&storage.back());
    return storage.back();
  }
  static std::size_t starts(const std::vector<Action>& actions) {
    return static_cast<std::size_t>(
        std::count_if(actions.begin(), actions.end(),
                      [](const Action& a) { return a.kind == Action::Kind::StartTask; }));
  }
};

TEST_F(ReconcilerTest, StartsUpToDesiredCount) {
  EXPECT_EQ(starts(actions_for(service, tasks, now)), 3u);
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Stopped, 2);  // stopped tasks do not count
  EXPECT_EQ(starts(actions_for(service, tasks, now)), 2u);
}

TEST_F(ReconcilerTest, NothingToDoWhenDesiredCountRuns) {
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Pending, 2);
  add("c", TaskStatus::Activating, 3);
  EXPECT_TRUE(actions_for(service, tasks, now).empty());
}

TEST_F(ReconcilerTest, ScaleInStopsPendingThenNewest) {
  service.desired_count = 1;
  add("old", TaskStatus::Running, 1);
  add("new", TaskStatus::Running, 5);
  add("pending", TaskStatus::Pending, 2);
  const auto actions = actions_for(service, tasks, now);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].task_id, "pending");
  EXPECT_EQ(actions[1].task_id, "new");
  EXPECT_EQ(actions[1].reason,
            "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)");
  EXPECT_EQ(actions[1].stop_code, "ServiceSchedulerInitiated");
}

TEST_F(ReconcilerTest, UnhealthyTasksAreStoppedAndReplaced) {
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Running, 2);
  storage.push_back(storage.back());
  storage.back().id = "sick";
  storage.back().observed = Health::Unhealthy;
  tasks.push_back(&storage.back());
  const auto actions = actions_for(service, tasks, now);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, Action::Kind::StopTask);
  EXPECT_EQ(actions[0].task_id, "sick");
  EXPECT_EQ(actions[0].reason, "Task failed container health checks");
  EXPECT_EQ(actions[1].kind, Action::Kind::StartTask);  // the replacement
}

TEST_F(ReconcilerTest, ThrottledServiceStartsNothingUntilTheDelayEnds) {
  service.throttled_until = now + std::chrono::seconds(10);
  EXPECT_TRUE(actions_for(service, tasks, now).empty());
  EXPECT_EQ(starts(actions_for(service, tasks, now + std::chrono::seconds(10))), 3u);
}

TEST_F(ReconcilerTest, DrainingStopsEverything) {
  service.status = "DRAINING";
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Provisioning, 2);
  add("c", TaskStatus::Stopped, 3);
  const auto actions = actions_for(service, tasks, now);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, Action::Kind::StopTask);
  EXPECT_EQ(actions[1].kind, Action::Kind::StopTask);
}

TEST_F(ReconcilerTest, OldDeploymentStopsOnlyOnceThePrimaryRuns) {
  service.desired_count = 1;
  add("old", TaskStatus::Running, 1, "ecs-svc/1");
  add("new", TaskStatus::Pending, 2);
  EXPECT_TRUE(actions_for(service, tasks, now).empty());  // the new task is not RUNNING yet
  storage.back().last_status = TaskStatus::Running;
  const auto actions = actions_for(service, tasks, now);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].task_id, "old");
}

// --- The Plan: the service-level decisions of a pass ------------------------------------------

/// A task as the plan tests describe it.
struct TaskRow {
  std::string id;
  TaskStatus last;
  bool desired_stopped = false;
  bool old_deployment = false;
  std::string stop_code;
  std::string reason;
  bool started = false;
};

struct PlanCase {
  std::string name;
  std::string status = "ACTIVE";
  int desired = 1;
  bool steady = false;
  bool old_deployments = false;
  int start_failures = 0;
  std::vector<TaskRow> tasks;
  std::set<std::string> accounted;
  // expected
  std::size_t starts = 0;
  std::vector<std::string> stops;
  std::vector<std::string> events;  ///< without the "(service web) " prefix
  std::string status_after = "ACTIVE";
  bool steady_after = false;
  bool old_deployments_after = false;
  int start_failures_after = 0;
  std::optional<int> throttle_s;  ///< seconds until the recheck
  int replaced_unhealthy_after = 0;
  bool changed = true;
};

TEST(ReconcilePlan, ServiceLevelDecisions) {
  const TaskRow failed1{"f1", TaskStatus::Stopped, true, false, kTaskFailedToStart, "pull", false};
  const TaskRow failed2{"f2", TaskStatus::Stopped, true, false, kTaskFailedToStart, "pull", false};
  const TaskRow failed3{"f3", TaskStatus::Stopped, true, false, kTaskFailedToStart, "pull", false};
  const TaskRow running{"r", TaskStatus::Running};
  const std::vector<PlanCase> cases = {
      {.name = "first start", .starts = 1, .events = {}},
      {.name = "steady once desiredCount runs",
       .tasks = {running},
       .events = {"has reached a steady state."},
       .steady_after = true},
      {.name = "steady is said once",
       .steady = true,
       .tasks = {running},
       .steady_after = true,
       .changed = false},
      {.name = "not steady while a task is still starting",
       .tasks = {{"p", TaskStatus::Pending}},
       .changed = false},
      {.name = "one failed start is not throttled",
       .tasks = {failed1},
       .starts = 1,
       .start_failures_after = 1},
      {.name = "two failed starts throttle for the base delay",
       .tasks = {failed1, failed2},
       .events = {"is unable to consistently start tasks successfully."},
       .start_failures_after = 2,
       .throttle_s = 10},
      {.name = "the delay doubles",
       .start_failures = 2,
       .tasks = {failed1, failed2, failed3},
       .accounted = {"f1", "f2"},
       .events = {"is unable to consistently start tasks successfully."},
       .start_failures_after = 3,
       .throttle_s = 20},
      {.name = "the delay ends at 15 minutes",
       .start_failures = 40,
       .tasks = {failed3},
       .events = {"is unable to consistently start tasks successfully."},
       .start_failures_after = 41,
       .throttle_s = 900},
      {.name = "a stop is counted once",
       .start_failures = 1,
       .tasks = {failed1},
       .accounted = {"f1"},
       .starts = 1,
       .start_failures_after = 1},
      {.name = "a health stop is reported and replaced",
       .tasks = {{"sick", TaskStatus::Stopped, true, false, kSchedulerStopCode, kHealthStopReason}},
       .starts = 1,
       .events = {"(task sick) failed container health checks."},
       .replaced_unhealthy_after = 1},
      {.name = "old deployments end when none of their tasks runs",
       .old_deployments = true,
       .tasks = {running, {"o", TaskStatus::Stopped, true, true}},
       .accounted = {"o"},
       .events = {"has reached a steady state."},
       .steady_after = true},
      {.name = "old deployments end with the plan that stops their last task",
       .old_deployments = true,
       .tasks = {running, {"o", TaskStatus::Running, false, true}},
       .stops = {"o"}},
      {.name = "old deployments stay while the new one starts",
       .old_deployments = true,
       .tasks = {{"p", TaskStatus::Pending}, {"o", TaskStatus::Running, false, true}},
       .old_deployments_after = true,
       .changed = false},
      {.name = "draining stops what runs and stays DRAINING",
       .status = "DRAINING",
       .desired = 0,
       .tasks = {running},
       .stops = {"r"},
       .status_after = "DRAINING"},
      {.name = "draining waits for DEACTIVATING tasks",
       .status = "DRAINING",
       .desired = 0,
       .tasks = {{"d", TaskStatus::Deactivating, true}},
       .status_after = "DRAINING",
       .changed = false},
      {.name = "drained once every task is STOPPING or later",
       .status = "DRAINING",
       .desired = 0,
       .tasks = {{"s", TaskStatus::Stopping, true}, {"x", TaskStatus::Stopped, true}},
       .accounted = {"x"},
       .status_after = "INACTIVE"},
  };
  const TimePoint now{std::chrono::hours(1)};
  const WallTime wall{std::chrono::seconds(5000)};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EcsService svc;
    svc.name = "web";
    svc.primary.id = "ecs-svc/2";
    svc.status = c.status;
    svc.desired_count = c.desired;
    svc.steady = c.steady;
    svc.start_failures = c.start_failures;
    if (c.old_deployments) svc.old_deployments.push_back({"ecs-svc/1", "td:1", wall, wall});
    std::deque<Task> storage;
    std::vector<const Task*> tasks;
    for (const auto& r : c.tasks) {
      Task t;
      t.id = r.id;
      t.last_status = r.last;
      t.desired_status = r.desired_stopped ? TaskStatus::Stopped : TaskStatus::Running;
      t.started_by = r.old_deployment ? "ecs-svc/1" : svc.primary.id;
      t.stop_code = r.stop_code;
      t.stopped_reason = r.reason;
      if (r.started || r.last == TaskStatus::Running) t.started_at = wall;
      storage.push_back(t);
      tasks.push_back(&storage.back());
    }
    const Plan plan = reconcile(svc, tasks, c.accounted, now, wall, {});
    std::size_t starts = 0;
    std::vector<std::string> stops;
    for (const auto& a : plan.actions) {
      if (a.kind == Action::Kind::StartTask) ++starts;
      if (a.kind == Action::Kind::StopTask) stops.push_back(a.task_id);
    }
    EXPECT_EQ(starts, c.starts);
    EXPECT_EQ(stops, c.stops);
    std::vector<std::string> events;
    for (const auto& e : plan.events) {
      ASSERT_EQ(e.rfind("(service web) ", 0), 0u) << e;
      events.push_back(e.substr(14));
    }
    EXPECT_EQ(events, c.events);
    EXPECT_EQ(plan.service.status, c.status_after);
    EXPECT_EQ(plan.service.steady, c.steady_after);
    EXPECT_EQ(!plan.service.old_deployments.empty(), c.old_deployments_after);
    EXPECT_EQ(plan.service.start_failures, c.start_failures_after);
    EXPECT_EQ(plan.service.replaced_unhealthy, c.replaced_unhealthy_after);
    if (c.throttle_s) {
      ASSERT_TRUE(plan.recheck_at.has_value());
      EXPECT_EQ(*plan.recheck_at, now + std::chrono::seconds(*c.throttle_s));
      EXPECT_EQ(plan.service.throttled_until, plan.recheck_at);
      EXPECT_EQ(plan.service.last_start_failure, wall);  // the stopped_at fallback
    } else {
      EXPECT_FALSE(plan.recheck_at.has_value());
    }
    EXPECT_EQ(plan.changed, c.changed);
    // Every stopped or stopping task is counted from now on, once.
    for (const auto& id : plan.accounted) EXPECT_FALSE(c.accounted.count(id)) << id;
  }
}

TEST(ReconcilePlan, InactiveServiceHasNothingToDo) {
  EcsService svc;
  svc.status = "INACTIVE";
  svc.desired_count = 3;
  const Plan plan = reconcile(svc, {}, {}, TimePoint{}, WallTime{}, {});
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.events.empty());
  EXPECT_FALSE(plan.changed);
}

}  // namespace
}  // namespace emu::core::ecs
