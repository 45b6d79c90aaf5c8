// HealthGlue and ProbeFollower: what the probes find reaches the Registry, and the monitor
// watches exactly the tasks that should be probed, as the Registry changes. Simulated time, a
// fake probe executor, a MemoryStore.

#include "emulator/runtime/health_glue.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "emulator/core/memory_store.hpp"
#include "tests/support/fake_probe_executor.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::runtime {
namespace {

using namespace std::chrono_literals;
using core::Health;
using core::Launch;
using core::ProbeType;
using core::TaskStatus;
using health::Outcome;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

core::HealthCheckSpec http_check() {
  core::HealthCheckSpec c;
  c.type = ProbeType::Http;
  c.interval = 1000ms;
  c.timeout = 500ms;
  c.retries = 2;
  return c;
}

TEST(HealthGlueTest, ProbeTargetsAreRegisteredEndpointsAndInstancesWithACheck) {
  core::Task base;
  base.id = "t1";
  base.service_id = "srv-1";
  base.ipv4 = "10.0.0.1";
  base.port = 8080;
  base.health_check = http_check();
  struct Case {
    const char* what;
    core::Task task;
    bool probed;
  };
  std::vector<Case> cases;
  cases.push_back({"native endpoint", base, true});
  auto instance = base;
  instance.launch = Launch::Instance;
  cases.push_back({"Cloud Map instance", instance, true});
  auto simulated = base;
  simulated.launch = Launch::Simulated;
  cases.push_back({"simulated ECS task: never probed", simulated, false});
  auto docker = base;
  docker.launch = Launch::Docker;
  cases.push_back({"Docker ECS task: Docker checks it", docker, false});
  auto none = base;
  none.health_check->type = ProbeType::None;
  cases.push_back({"probe type none", none, false});
  auto no_check = base;
  no_check.health_check.reset();
  cases.push_back({"no check", no_check, false});
  auto stopped = base;
  stopped.last_status = TaskStatus::Stopped;
  cases.push_back({"stopped", stopped, false});
  auto undiscoverable = base;
  undiscoverable.service_id.clear();
  cases.push_back({"not in a discovery service", undiscoverable, false});
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.what);
    const auto target = probe_target(tc.task);
    ASSERT_EQ(target.has_value(), tc.probed);
    if (!target) continue;
    EXPECT_EQ(target->task_id, core::Registry::task_key(tc.task));
    EXPECT_EQ(target->ip, "10.0.0.1");
    EXPECT_EQ(target->port, 8080);
    EXPECT_EQ(target->check, http_check());
  }
}

struct Fixture {
  test::SimTime sim;
  core::MemoryStore store;
  core::Registry registry{sim.clock, sim.timers, store, core::RegistryConfig{}, 42};
  test::FakeProbeExecutor probes{sim.clock, sim.timers};
  HealthGlue glue{registry};
  health::HealthMonitor monitor{sim.clock, sim.timers, probes, glue};

  std::string add(const std::string& ip) {
    core::TaskSpec spec;
    spec.ipv4 = ip;
    spec.port = 80;
    spec.health_check = http_check();
    auto r = registry.register_task("web.local", spec);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->id : "";
  }
};

TEST(HealthGlueTest, ProbeResultsAndTransitionsAreRecordedInTheRegistry) {
  Fixture f;
  ProbeFollower follower(f.registry, f.monitor);
  f.probes.fallback({Outcome::Fail, 10ms, "http 503"});  // from the first probe on
  const auto id = f.add("10.0.0.1");
  f.sim.advance(10ms);
  EXPECT_EQ(f.registry.task(id)->health(), Health::Unknown);  // one failure of two
  ASSERT_EQ(f.registry.task(id)->last_results.size(), 1u);
  EXPECT_EQ(f.registry.task(id)->last_results.back().detail, "http 503");
  f.sim.advance(1s);
  EXPECT_EQ(f.registry.task(id)->health(), Health::Unhealthy);
  EXPECT_THAT(f.registry.task(id)->health_reason, ::testing::HasSubstr("http 503"));
  // A transition for a task the registry no longer has is logged, not fatal.
  f.glue.on_health_changed("0123456789abcdef0123456789abcdef", Health::Healthy, "late");
}

TEST(HealthGlueTest, TheMonitorFollowsRegistrationsStopsAndResets) {
  Fixture f;
  ProbeFollower follower(f.registry, f.monitor);
  const auto a = f.add("10.0.0.1");
  const auto b = f.add("10.0.0.2");
  EXPECT_THAT(f.monitor.watched(), ElementsAre(std::min(a, b), std::max(a, b)));
  ASSERT_TRUE(f.registry.stop_task(a, "UserInitiated", "Task stopped by user").ok());
  EXPECT_THAT(f.monitor.watched(), ElementsAre(b));
  ASSERT_TRUE(f.registry.reset().ok());
  EXPECT_THAT(f.monitor.watched(), IsEmpty());
}

TEST(HealthGlueTest, ProbesResumeForTheTasksARestartFinds) {
  Fixture f;
  const auto id = f.add("10.0.0.1");  // registered before anyone follows
  EXPECT_THAT(f.monitor.watched(), IsEmpty());
  ProbeFollower follower(f.registry, f.monitor);
  EXPECT_THAT(f.monitor.watched(), ElementsAre(id));
}

TEST(HealthGlueTest, ProbesKeepRunningWhileForcedAndAutoAppliesTheirVerdictAtOnce) {
  Fixture f;
  ProbeFollower follower(f.registry, f.monitor);
  const auto id = f.add("10.0.0.1");
  f.probes.always(id, {Outcome::Pass, 10ms});
  f.sim.advance(10ms);
  ASSERT_EQ(f.registry.task(id)->health(), Health::Healthy);
  ASSERT_TRUE(f.registry.force_health(id, Health::Healthy).ok());
  f.probes.always(id, {Outcome::Fail, 10ms, "connect: connection refused"});
  f.sim.advance(3s);
  EXPECT_THAT(f.monitor.watched(), ElementsAre(id));  // still probed
  EXPECT_EQ(f.registry.task(id)->health(), Health::Healthy);
  EXPECT_EQ(f.registry.task(id)->observed, Health::Unhealthy);
  auto autoh = f.registry.force_health(id, std::nullopt);
  ASSERT_TRUE(autoh.ok());
  EXPECT_EQ(autoh->after, Health::Unhealthy);
  EXPECT_EQ(f.registry.task(id)->health(), Health::Unhealthy);
}

}  // namespace
}  // namespace emu::runtime
