#include "emulator/core/endpoint_policy.hpp"

#include <gtest/gtest.h>

#include "emulator/core/memory_store.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core {
namespace {

Service service(OnUnhealthy on_unhealthy) {
  Service s;
  s.id = "srv-1";
  s.on_unhealthy = on_unhealthy;
  return s;
}

Task task(Launch launch, Health observed) {
  Task t;
  t.id = "t1";
  t.service_id = "srv-1";
  t.launch = launch;
  t.observed = observed;
  return t;
}

struct PolicyCase {
  const char* what;
  OnUnhealthy on_unhealthy;
  Task task;
  bool stop;
};

TEST(EndpointPolicyTest, OnlyUnhealthyNativeEndpointsUnderStopAreStopped) {
  Task forced = task(Launch::External, Health::Healthy);
  forced.forced = Health::Unhealthy;
  Task forced_up = task(Launch::External, Health::Unhealthy);
  forced_up.forced = Health::Healthy;
  Task compose = task(Launch::External, Health::Unhealthy);
  compose.source = TaskSource::Compose;
  Task stopping = task(Launch::External, Health::Unhealthy);
  stopping.desired_status = TaskStatus::Stopped;
  Task stopped = task(Launch::External, Health::Unhealthy);
  stopped.last_status = TaskStatus::Stopped;
  Task elsewhere = task(Launch::External, Health::Unhealthy);
  elsewhere.service_id = "srv-2";
  const PolicyCase cases[] = {
      {"unhealthy endpoint, stop", OnUnhealthy::Stop, task(Launch::External, Health::Unhealthy),
       true},
      {"forced unhealthy, stop", OnUnhealthy::Stop, forced, true},
      {"forced healthy over unhealthy probes", OnUnhealthy::Stop, forced_up, false},
      {"withdraw only withdraws", OnUnhealthy::Withdraw, task(Launch::External, Health::Unhealthy),
       false},
      {"healthy", OnUnhealthy::Stop, task(Launch::External, Health::Healthy), false},
      {"unknown", OnUnhealthy::Stop, task(Launch::External, Health::Unknown), false},
      {"compose tasks are Docker's", OnUnhealthy::Stop, compose, false},
      {"Cloud Map instances are never stopped", OnUnhealthy::Stop,
       task(Launch::Instance, Health::Unhealthy), false},
      {"simulated ECS tasks: the scheduler's", OnUnhealthy::Stop,
       task(Launch::Simulated, Health::Unhealthy), false},
      {"Docker ECS tasks: the scheduler's", OnUnhealthy::Stop,
       task(Launch::Docker, Health::Unhealthy), false},
      {"already stopping", OnUnhealthy::Stop, stopping, false},
      {"already stopped", OnUnhealthy::Stop, stopped, false},
      {"another service's task", OnUnhealthy::Stop, elsewhere, false},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.what);
    const auto action = endpoint_action(service(tc.on_unhealthy), tc.task);
    EXPECT_EQ(action.has_value(), tc.stop);
    if (action) {
      EXPECT_EQ(action->stop_code, "ServiceSchedulerInitiated");
      EXPECT_EQ(action->reason, "Task failed container health checks");
    }
  }
}

struct Fixture {
  test::SimTime sim;
  MemoryStore store;
  Registry registry{sim.clock, sim.timers, store, RegistryConfig{}, 42};
  EndpointPolicy policy{registry};
  std::vector<Event> events;
  Fixture() {
    EXPECT_TRUE(registry.load().ok());
    registry.add_observer([this](const CommitInfo& info) {
      events.insert(events.end(), info.events.begin(), info.events.end());
    });
  }
  std::string add(const std::string& ip, std::optional<Health> initial = std::nullopt) {
    TaskSpec spec;
    spec.ipv4 = ip;
    spec.port = 80;
    spec.initial_health = initial;
    auto r = registry.register_task("web.local", spec);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->id : "";
  }
};

TEST(EndpointPolicyTest, AHealthChangeToUnhealthyStopsTheEndpointInTheSameCommand) {
  Fixture f;
  const auto id = f.add("10.0.0.1");
  ASSERT_TRUE(f.registry.set_health(id, Health::Unhealthy, "3 failed probes (http 503)").ok());
  const Task* t = f.registry.task(id);
  EXPECT_EQ(t->last_status, TaskStatus::Stopped);
  EXPECT_EQ(t->stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(t->stopped_reason, "Task failed container health checks");
  EXPECT_EQ(t->health(), Health::Unhealthy);
  ASSERT_GE(f.events.size(), 2u);  // the health change, then the stop, in that order
  EXPECT_EQ(f.events[f.events.size() - 2].type(), "TaskHealthChanged");
  EXPECT_EQ(f.events.back().type(), "TaskStopped");
  EXPECT_NE(f.events.back().message().find("A 10.0.0.1 removed from web.local."),
            std::string::npos);
}

TEST(EndpointPolicyTest, ForcedUnhealthyStopsLikeFailedProbes) {
  Fixture f;
  const auto id = f.add("10.0.0.1");
  ASSERT_TRUE(f.registry.force_health(id, Health::Unhealthy).ok());
  EXPECT_EQ(f.registry.task(id)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(f.registry.task(id)->stopped_reason, "Task failed container health checks");
}

TEST(EndpointPolicyTest, ARegistrationThatStartsUnhealthyIsNotAHealthChange) {
  // Fixtures may start endpoints UNHEALTHY to show fail-open; they stay until their health moves.
  Fixture f;
  const auto id = f.add("10.0.0.1", Health::Unhealthy);
  EXPECT_EQ(f.registry.task(id)->last_status, TaskStatus::Running);
}

}  // namespace
}  // namespace emu::core
