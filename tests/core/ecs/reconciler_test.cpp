#include "emulator/core/ecs/reconciler.hpp"

#include <gtest/gtest.h>

#include <deque>

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
  EXPECT_EQ(starts(reconcile(service, tasks, now)), 3u);
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Stopped, 2);  // stopped tasks do not count
  EXPECT_EQ(starts(reconcile(service, tasks, now)), 2u);
}

TEST_F(ReconcilerTest, NothingToDoWhenDesiredCountRuns) {
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Pending, 2);
  add("c", TaskStatus::Activating, 3);
  EXPECT_TRUE(reconcile(service, tasks, now).empty());
}

TEST_F(ReconcilerTest, ScaleInStopsPendingThenNewest) {
  service.desired_count = 1;
  add("old", TaskStatus::Running, 1);
  add("new", TaskStatus::Running, 5);
  add("pending", TaskStatus::Pending, 2);
  const auto actions = reconcile(service, tasks, now);
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
  const auto actions = reconcile(service, tasks, now);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, Action::Kind::StopTask);
  EXPECT_EQ(actions[0].task_id, "sick");
  EXPECT_EQ(actions[0].reason, "Task failed container health checks");
  EXPECT_EQ(actions[1].kind, Action::Kind::StartTask);  // the replacement
}

TEST_F(ReconcilerTest, ThrottledServiceStartsNothingUntilTheDelayEnds) {
  service.throttled_until = now + std::chrono::seconds(10);
  EXPECT_TRUE(reconcile(service, tasks, now).empty());
  EXPECT_EQ(starts(reconcile(service, tasks, now + std::chrono::seconds(10))), 3u);
}

TEST_F(ReconcilerTest, DrainingStopsEverything) {
  service.status = "DRAINING";
  add("a", TaskStatus::Running, 1);
  add("b", TaskStatus::Provisioning, 2);
  add("c", TaskStatus::Stopped, 3);
  const auto actions = reconcile(service, tasks, now);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, Action::Kind::StopTask);
  EXPECT_EQ(actions[1].kind, Action::Kind::StopTask);
}

TEST_F(ReconcilerTest, OldDeploymentStopsOnlyOnceThePrimaryRuns) {
  service.desired_count = 1;
  add("old", TaskStatus::Running, 1, "ecs-svc/1");
  add("new", TaskStatus::Pending, 2);
  EXPECT_TRUE(reconcile(service, tasks, now).empty());  // the new task is not RUNNING yet
  storage.back().last_status = TaskStatus::Running;
  const auto actions = reconcile(service, tasks, now);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].task_id, "old");
}

}  // namespace
}  // namespace emu::core::ecs
