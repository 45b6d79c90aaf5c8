// The whole health chain in-process, in simulated time, for each kind of task: a probe result
// (or Docker's verdict, or fault injection) -> the task's health -> its lifecycle owner's
// decision -> the stop with its states -> DNS -> the replacement (or none). The daemon's wiring:
// Registry + EndpointPolicy + EcsEngine + HealthMonitor with HealthGlue and ProbeFollower +
// ComposeDiscovery, over a MemoryStore; only time, probe outcomes and Docker are fakes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "emulator/core/compose_discovery.hpp"
#include "emulator/core/endpoint_policy.hpp"
#include "emulator/core/zone_snapshot.hpp"
#include "emulator/runtime/health_glue.hpp"
#include "tests/core/ecs/ecs_test_harness.hpp"
#include "tests/support/dns_answers.hpp"
#include "tests/support/fake_probe_executor.hpp"
#include "tests/support/fake_task_runtime.hpp"

namespace emu::runtime {
namespace {

using namespace std::chrono_literals;
using core::Health;
using core::Task;
using core::TaskStatus;
using health::Outcome;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

/// The daemon's core wiring (daemon.cpp) on top of the ECS test harness (cluster "demo", task
/// definition "web", Cloud Map service web.local with A and SRV records).
struct Chain : core::ecs::test::EcsHarness {
  core::EndpointPolicy policy{registry};
  test::FakeProbeExecutor probes{sim.clock, sim.timers};
  HealthGlue glue{registry};
  health::HealthMonitor monitor{sim.clock, sim.timers, probes, glue};
  ProbeFollower follower{registry, monitor};
  core::ComposeDiscovery compose{registry, {}};
  test::FakeTaskRuntime docker;
  std::vector<core::Event> events;

  explicit Chain(bool with_docker = false) {
    if (with_docker) engine.set_runtime(&docker);
    EXPECT_TRUE(engine.load().ok());
    registry.add_observer([this](const core::CommitInfo& info) {
      events.insert(events.end(), info.events.begin(), info.events.end());
    });
  }

  /// What DNS answers for `name` now (A records; unhealthy ones marked), from the snapshot.
  std::vector<std::string> dns_a(const std::string& name) {
    auto out = test::a_records(*registry.zones().load(), name);
    std::sort(out.begin(), out.end());
    return out;
  }
  /// Types of the events about `task_id`, oldest first.
  std::vector<std::string> event_types(const std::string& task_id) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.detail().value("taskId", "") == task_id) out.push_back(std::string(e.type()));
    }
    return out;
  }
  /// The states the task's events moved it to, oldest first (one per change of lastStatus).
  std::vector<TaskStatus> statuses(const std::string& task_id) const {
    std::vector<TaskStatus> out;
    for (const auto& e : events) {
      const auto d = e.detail();
      if (d.value("taskId", "") != task_id || !d.contains("newStatus")) continue;
      const auto s = core::parse_task_status(d["newStatus"].get<std::string>());
      if (s && (out.empty() || out.back() != *s)) out.push_back(*s);
    }
    return out;
  }
  std::string native_endpoint(const std::string& service, const std::string& ip) {
    core::TaskSpec spec;
    spec.ipv4 = ip;
    spec.port = 80;
    auto r = registry.register_task(service, spec);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->id : "";
  }
  void native_service(const std::string& name, core::OnUnhealthy on_unhealthy) {
    core::ServiceSpec spec;
    core::HealthCheckSpec check;
    check.type = core::ProbeType::Http;
    check.interval = 1000ms;
    check.timeout = 500ms;
    check.retries = 3;
    spec.health_check = std::optional<core::HealthCheckSpec>(check);
    spec.on_unhealthy = on_unhealthy;
    ASSERT_TRUE(registry.put_service(name, spec).ok());
  }
  /// The ECS service's tasks that run, by IPv4.
  std::vector<std::string> running_ips() const {
    std::vector<std::string> out;
    for (const Task* t : engine.service_tasks(svc())) {
      if (t->last_status == TaskStatus::Running && t->desired_status == TaskStatus::Running)
        out.push_back(t->ipv4);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

// ------------------------------------------------------------------------- native endpoint

TEST(HealthChainTest, NativeEndpointFailsItsProbesIsStoppedAndLeavesDns) {
  Chain c;
  c.native_service("api.local", core::OnUnhealthy::Stop);
  const auto sick = c.native_endpoint("api.local", "10.0.0.1");
  const auto well = c.native_endpoint("api.local", "10.0.0.2");
  c.probes.always(sick, {Outcome::Pass, 10ms});
  c.probes.always(well, {Outcome::Pass, 10ms});
  c.sim.advance(10ms);
  ASSERT_EQ(c.registry.task(sick)->health(), Health::Healthy);
  EXPECT_EQ(c.dns_a("api.local"), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));

  c.probes.always(sick, {Outcome::Fail, 10ms, "http 503"});
  c.sim.advance(2s);  // two failures of three: still healthy, still answered
  EXPECT_EQ(c.registry.task(sick)->health(), Health::Healthy);
  EXPECT_EQ(c.dns_a("api.local"), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  c.sim.advance(1s);  // the third
  const Task* t = c.registry.task(sick);
  EXPECT_EQ(t->health(), Health::Unhealthy);
  EXPECT_EQ(t->last_status, TaskStatus::Stopped);  // an endpoint has no lifecycle to step through
  EXPECT_EQ(t->stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(t->stopped_reason, "Task failed container health checks");
  EXPECT_THAT(c.dns_a("api.local"), ElementsAre("10.0.0.2"));
  EXPECT_THAT(c.event_types(sick), ElementsAre("TaskRegistered", "TaskHealthChanged",
                                               "TaskHealthChanged", "TaskStopped"));
  EXPECT_THAT(c.monitor.watched(), ElementsAre(well));  // no more probes of it
  c.sim.advance(10s);  // nobody replaces an endpoint the API registered
  EXPECT_EQ(c.registry.tasks(core::TaskFilter{"api.local"}).size(), 2u);
}

TEST(HealthChainTest, NativeEndpointUnderWithdrawLeavesDnsAndComesBack) {
  Chain c;
  c.native_service("api.local", core::OnUnhealthy::Withdraw);
  const auto well = c.native_endpoint("api.local", "10.0.0.2");
  c.probes.always(well, {Outcome::Pass, 10ms});
  c.probes.fallback({Outcome::Fail, 10ms, "http 503"});  // sick fails from its first probe on
  const auto sick = c.native_endpoint("api.local", "10.0.0.1");
  c.sim.advance(2010ms);  // failures at 0 s, 1 s and 2 s: three of three
  EXPECT_EQ(c.registry.task(sick)->health(), Health::Unhealthy);
  EXPECT_EQ(c.registry.task(sick)->last_status, TaskStatus::Running);
  EXPECT_EQ(c.dns_a("api.local"), (std::vector<std::string>{"10.0.0.1 unhealthy", "10.0.0.2"}));
  c.probes.always(sick, {Outcome::Pass, 10ms});
  c.sim.advance(1s);
  EXPECT_EQ(c.dns_a("api.local"), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
}

TEST(HealthChainTest, ForcedHealthyHoldsWhileProbesFailAndAutoStopsAtOnce) {
  Chain c;
  c.native_service("api.local", core::OnUnhealthy::Stop);
  const auto id = c.native_endpoint("api.local", "10.0.0.1");
  c.probes.always(id, {Outcome::Pass, 10ms});
  c.sim.advance(10ms);
  ASSERT_TRUE(c.registry.force_health(id, Health::Healthy).ok());
  c.probes.always(id, {Outcome::Fail, 10ms, "connect: connection refused"});
  c.sim.advance(5s);
  EXPECT_EQ(c.registry.task(id)->last_status, TaskStatus::Running);
  EXPECT_EQ(c.registry.task(id)->observed, Health::Unhealthy);  // recorded all along
  EXPECT_THAT(c.dns_a("api.local"), ElementsAre("10.0.0.1"));
  ASSERT_TRUE(c.registry.force_health(id, std::nullopt).ok());  // AUTO
  EXPECT_EQ(c.registry.task(id)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(c.registry.task(id)->stopped_reason, "Task failed container health checks");
  EXPECT_THAT(c.dns_a("api.local"), IsEmpty());
}

// ---------------------------------------------------------------------------- simulated ECS

TEST(HealthChainTest, SimulatedServiceTaskForcedUnhealthyStepsThroughTheStopAndIsReplaced) {
  // Simulated tasks are never probed (SPEC 6): their health comes from fault injection.
  Chain c;
  ASSERT_TRUE(c.engine.create_service(c.web(2), {}));
  c.sim.advance(1s);
  const auto before = c.running_ips();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(c.dns_a("web.local"), before);
  EXPECT_THAT(c.monitor.watched(), IsEmpty());
  const Task* first = c.active().front();
  const std::string sick = first->id, sick_ip = first->ipv4;

  ASSERT_TRUE(c.registry.force_health(sick, Health::Unhealthy).ok());
  c.sim.settle();  // the scheduler's pass
  std::vector<TaskStatus> states{c.registry.task(sick)->last_status};
  while (c.registry.task(sick)->last_status != TaskStatus::Stopped) {
    c.sim.advance(50ms);
    states.push_back(c.registry.task(sick)->last_status);
  }
  EXPECT_THAT(states, ElementsAre(TaskStatus::Deactivating, TaskStatus::Stopping,
                                  TaskStatus::Deprovisioning, TaskStatus::Stopped));
  const Task* t = c.registry.task(sick);
  EXPECT_EQ(t->stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(t->stopped_reason, "Task failed container health checks");
  EXPECT_TRUE(c.has_event("(service web) (task " + sick + ") failed container health checks."));
  c.sim.advance(1s);
  const auto after = c.running_ips();
  ASSERT_EQ(after.size(), 2u);  // replaced
  EXPECT_EQ(std::count(after.begin(), after.end(), sick_ip), 0);
  EXPECT_EQ(c.dns_a("web.local"), after);
  EXPECT_TRUE(c.has_event("Amazon ECS replaced 1 tasks due to an unhealthy status."));
}

// ------------------------------------------------------------------------------- Docker ECS

TEST(HealthChainTest, DockerServiceTaskReportedUnhealthyIsStoppedWithItsContainersAndReplaced) {
  Chain c(/*with_docker=*/true);
  ASSERT_TRUE(c.engine.create_service(c.web(2), {}));
  c.sim.settle();
  ASSERT_EQ(c.docker.launches.size(), 2u);
  test::FakeTaskRuntime::start(c.engine, c.docker.launches[0], "172.18.0.10");
  test::FakeTaskRuntime::start(c.engine, c.docker.launches[1], "172.18.0.11");
  c.sim.settle();
  const std::string sick = c.docker.launches[0].task_id;
  c.engine.on_container_health(sick, "web", Health::Healthy, "");
  EXPECT_EQ(c.dns_a("web.local"), (std::vector<std::string>{"172.18.0.10", "172.18.0.11"}));
  const std::size_t started = c.statuses(sick).size();

  // Docker's healthcheck failed its retries: the task's health, then the scheduler's stop.
  c.engine.on_container_health(sick, "web", Health::Unhealthy, "exit 1");
  EXPECT_EQ(c.registry.task(sick)->health(), Health::Unhealthy);
  EXPECT_EQ(c.registry.task(sick)->last_status, TaskStatus::Running);
  c.sim.settle();
  const Task* t = c.registry.task(sick);
  EXPECT_EQ(t->desired_status, TaskStatus::Stopped);
  EXPECT_EQ(t->last_status, TaskStatus::Stopping);  // DEACTIVATING, then SIGTERM: STOPPING
  EXPECT_EQ(t->stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(t->stopped_reason, "Task failed container health checks");
  EXPECT_THAT(c.dns_a("web.local"), ElementsAre("172.18.0.11"));
  ASSERT_EQ(c.docker.stops.size(), 1u);
  EXPECT_EQ(c.docker.stops[0].container_ids,
            std::vector<std::string>{test::FakeTaskRuntime::docker_id(sick, "web")});
  EXPECT_TRUE(c.docker.removes.empty());    // stopped, not removed: the STOPPED task stays listed
  ASSERT_EQ(c.docker.launches.size(), 3u);  // the replacement starts meanwhile
  c.engine.on_container_exited(sick, "web", 143, "");
  EXPECT_EQ(c.registry.task(sick)->last_status, TaskStatus::Deprovisioning);
  c.sim.advance(c.engine.config().step);
  EXPECT_EQ(c.registry.task(sick)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(c.registry.task(sick)->exit_code, 143);
  // Every stop state, in order (SPEC 6), as simulated tasks show them.
  const auto states = c.statuses(sick);
  ASSERT_GE(states.size(), started);
  EXPECT_THAT(
      std::vector<TaskStatus>(states.begin() + static_cast<std::ptrdiff_t>(started), states.end()),
      ElementsAre(TaskStatus::Deactivating, TaskStatus::Stopping, TaskStatus::Deprovisioning,
                  TaskStatus::Stopped));
  EXPECT_EQ(c.docker.stops.size(), 1u);  // asked once
  test::FakeTaskRuntime::start(c.engine, c.docker.launches[2], "172.18.0.12");
  c.sim.settle();
  EXPECT_EQ(c.dns_a("web.local"), (std::vector<std::string>{"172.18.0.11", "172.18.0.12"}));
  EXPECT_EQ(c.running_ips(), (std::vector<std::string>{"172.18.0.11", "172.18.0.12"}));
  EXPECT_EQ(c.docker.launches.size(), 3u);      // one replacement, no more
  EXPECT_THAT(c.monitor.watched(), IsEmpty());  // Docker checks its containers, not our probes
  EXPECT_TRUE(c.has_event("Amazon ECS replaced 1 tasks due to an unhealthy status."));
}

// ---------------------------------------------------------------------------- compose tasks

core::ObservedContainer replica(char n, const std::string& ip, const std::string& health = "") {
  core::ObservedContainer o;
  o.id = std::string(8, n) + std::string(56, 'e');
  o.name = std::string("demo-game-") + n;
  o.image = "demo/game:1";
  o.labels = {{core::kLabelService, "game.local"}};
  o.state = "running";
  o.health = health;
  o.networks = {{"app", ip}};
  return o;
}

TEST(HealthChainTest, ComposeTaskFailingTheServiceProbeIsWithdrawnNeverStopped) {
  Chain c;
  c.native_service("game.local", core::OnUnhealthy::Stop);  // stop: for the service's own tasks
  ASSERT_TRUE(c.compose.observe(replica('b', "172.20.0.3")).ok());
  c.probes.always(std::string(8, 'b') + std::string(24, 'e'), {Outcome::Pass, 10ms});
  c.probes.fallback({Outcome::Fail, 10ms, "http 503"});  // a fails from its first probe on
  ASSERT_TRUE(c.compose.observe(replica('a', "172.20.0.2")).ok());
  const std::string sick = std::string(8, 'a') + std::string(24, 'e');
  ASSERT_NE(c.registry.task(sick), nullptr);
  EXPECT_EQ(c.registry.task(sick)->source, core::TaskSource::Compose);
  EXPECT_THAT(c.monitor.watched(), ::testing::Contains(sick));  // probed with the service's check
  c.sim.advance(2010ms);
  const Task* t = c.registry.task(sick);
  EXPECT_EQ(t->health(), Health::Unhealthy);
  EXPECT_EQ(t->last_status, TaskStatus::Running);  // not ours to stop
  EXPECT_EQ(c.dns_a("game.local"),
            (std::vector<std::string>{"172.20.0.2 unhealthy", "172.20.0.3"}));
  c.sim.advance(10s);
  EXPECT_EQ(c.registry.tasks(core::TaskFilter{"game.local"}).size(), 2u);  // and no replacement
  EXPECT_THAT(c.event_types(sick), ElementsAre("TaskRegistered", "TaskHealthChanged"));
  c.probes.always(sick, {Outcome::Pass, 10ms});
  c.sim.advance(1s);
  EXPECT_EQ(c.dns_a("game.local"), (std::vector<std::string>{"172.20.0.2", "172.20.0.3"}));
}

TEST(HealthChainTest, ComposeTaskDockerCallsUnhealthyIsWithdrawnNeverStopped) {
  Chain c;
  c.native_service("game.local", core::OnUnhealthy::Stop);
  ASSERT_TRUE(c.compose.observe(replica('a', "172.20.0.2", "healthy")).ok());
  ASSERT_TRUE(c.compose.observe(replica('b', "172.20.0.3", "healthy")).ok());
  EXPECT_THAT(c.monitor.watched(), IsEmpty());  // Docker's healthcheck, not our probes
  ASSERT_TRUE(c.compose.observe(replica('a', "172.20.0.2", "unhealthy")).ok());
  const std::string sick = std::string(8, 'a') + std::string(24, 'e');
  EXPECT_EQ(c.registry.task(sick)->last_status, TaskStatus::Running);
  EXPECT_EQ(c.dns_a("game.local"),
            (std::vector<std::string>{"172.20.0.2 unhealthy", "172.20.0.3"}));
  c.sim.advance(10s);
  EXPECT_EQ(c.registry.task(sick)->last_status, TaskStatus::Running);
}

}  // namespace
}  // namespace emu::runtime
