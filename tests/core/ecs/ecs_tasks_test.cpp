// EcsTasks' indexes (through EcsEngine, in simulated time): the tasks of a cluster and of a
// service, and the pool addresses in use, follow every commit (the engine's own and the
// Registry's), are rebuilt by load() and emptied by a reset.
#include "emulator/core/ecs/ecs_tasks.hpp"

#include <gtest/gtest.h>

#include "tests/core/ecs/ecs_test_harness.hpp"

namespace emu::core::ecs {
namespace {

using namespace std::chrono_literals;
using test::EcsHarness;

RunTaskInput run_in(const EcsHarness& h, int count) {
  RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = h.td_arn;
  in.count = count;
  return in;
}

TEST(EcsTasksTest, PoolAddressesAreFreedWhenTheTaskStops) {
  EcsConfig config;
  config.task_cidr = "10.20.0.0/28";  // 11 usable addresses
  EcsHarness h(config);
  auto all = h.engine.run_task(run_in(h, 11));
  ASSERT_TRUE(all);
  ASSERT_EQ(all->tasks.size(), 11u);
  auto full = h.engine.run_task(run_in(h, 1));
  ASSERT_TRUE(full);
  EXPECT_TRUE(full->tasks.empty());
  ASSERT_EQ(full->failures.size(), 1u);  // no free address
  const Task first = all->tasks.front();
  ASSERT_TRUE(h.engine.stop_task("us-east-1", "demo", first.id, ""));
  auto still_stopping = h.engine.run_task(run_in(h, 1));
  ASSERT_TRUE(still_stopping);
  EXPECT_TRUE(still_stopping->tasks.empty());  // its address is in use until STOPPED
  h.sim.advance(1s);
  ASSERT_EQ(h.registry.task(first.id)->last_status, TaskStatus::Stopped);
  auto again = h.engine.run_task(run_in(h, 1));
  ASSERT_TRUE(again);
  ASSERT_EQ(again->tasks.size(), 1u);
  EXPECT_EQ(again->tasks[0].ipv4, first.ipv4);
}

TEST(EcsTasksTest, ClusterAndServiceTasksFollowTheRegistry) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  ASSERT_TRUE(h.engine.run_task(run_in(h, 1)));
  h.sim.advance(1s);
  EXPECT_EQ(h.engine.tasks("us-east-1", "demo").size(), 3u);
  EXPECT_EQ(h.engine.service_tasks(h.svc()).size(), 2u);
  EXPECT_TRUE(h.engine.tasks("us-east-1", "other").empty());
  EXPECT_TRUE(h.engine.tasks("us-west-2", "demo").empty());
  // Purged by the Registry: gone from the indexes and its ECS data with it.
  const std::string gone = h.engine.service_tasks(h.svc()).front()->id;
  ASSERT_TRUE(h.engine.stop_task("us-east-1", "demo", gone, ""));
  h.sim.advance(2h);
  ASSERT_TRUE(h.registry.purge_stopped());
  EXPECT_EQ(h.registry.task(gone), nullptr);
  EXPECT_EQ(h.engine.task_extra(gone), nullptr);
  h.sim.advance(1s);  // the scheduler's replacement
  const auto tasks = h.engine.service_tasks(h.svc());
  EXPECT_EQ(tasks.size(), 2u);
  for (const Task* t : tasks) EXPECT_NE(t->id, gone);
  EXPECT_EQ(h.engine.tasks("us-east-1", "demo").size(), 3u);
  EXPECT_TRUE(h.engine.resource_exists(tasks.front()->arn));
  EXPECT_FALSE(h.engine.resource_exists(h.engine.task_arn("us-east-1", "demo", gone)));

  // A new engine over the same state finds the same tasks.
  Registry registry{h.sim.clock, h.sim.timers, h.store, RegistryConfig{}, 9};
  ASSERT_TRUE(registry.load());
  EcsEngine engine{h.sim.clock, h.sim.timers, h.store, registry, EcsConfig{}, 3};
  ASSERT_TRUE(engine.load());
  EXPECT_EQ(engine.tasks("us-east-1", "demo").size(), 3u);
  EXPECT_EQ(engine.service_tasks(*engine.service("us-east-1", "demo", "web")).size(), 2u);

  ASSERT_TRUE(h.registry.reset());
  EXPECT_TRUE(h.engine.tasks("us-east-1", "demo").empty());
}

}  // namespace
}  // namespace emu::core::ecs
