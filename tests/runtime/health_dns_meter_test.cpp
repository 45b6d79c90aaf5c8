#include "emulator/runtime/health_dns_meter.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "emulator/core/endpoint_policy.hpp"
#include "emulator/core/memory_store.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::runtime {
namespace {

using namespace std::chrono_literals;
using core::Health;

/// A registry over a MemoryStore in simulated time, with the meter as its observer.
struct Fixture {
  test::SimTime sim;
  core::MemoryStore store;
  std::unique_ptr<core::Registry> registry;
  std::unique_ptr<HealthDnsMeter> meter;
  std::string key;

  explicit Fixture(Duration delay) {
    core::RegistryConfig config;
    config.health_propagation_delay = delay;
    registry = std::make_unique<core::Registry>(sim.clock, sim.timers, store, config, 7);
    EXPECT_TRUE(registry->load().ok());
    meter = std::make_unique<HealthDnsMeter>(sim.clock, *registry);
    registry->add_observer([this](const core::CommitInfo& info) { meter->on_commit(info); });
    core::ServiceSpec service;
    service.on_unhealthy = core::OnUnhealthy::Withdraw;  // an UNHEALTHY task stays, out of DNS
    EXPECT_TRUE(registry->put_service("web.local", service).ok());
    core::TaskSpec spec;
    spec.ipv4 = "10.0.0.1";  // data only
    spec.port = 80;
    auto t = registry->register_task("web.local", spec);
    EXPECT_TRUE(t.ok());
    key = core::Registry::task_key(*t);
  }
  /// What the daemon's health glue does with a probe transition.
  void probes_say(Health h) { ASSERT_TRUE(registry->set_health(key, h, "probe").ok()); }
  double mean() const { return meter->histogram().sum() / meter->histogram().count(); }
};

TEST(HealthDnsMeterTest, WithoutAPropagationDelayTheSnapshotCarriesTheChangeAtOnce) {
  Fixture f(0ms);
  f.probes_say(Health::Healthy);
  f.sim.advance(1s);
  f.probes_say(Health::Unhealthy);
  EXPECT_EQ(f.meter->histogram().count(), 2u);
  EXPECT_DOUBLE_EQ(f.meter->histogram().sum(), 0.0);
  EXPECT_EQ(f.meter->pending(), 0u);
}

TEST(HealthDnsMeterTest, ThePropagationDelayIsWhatItMeasures) {
  Fixture f(30s);
  f.probes_say(Health::Healthy);
  EXPECT_EQ(f.meter->histogram().count(), 0u);  // the task's health changed, DNS's not yet
  EXPECT_EQ(f.meter->pending(), 1u);
  f.sim.advance(29s);
  EXPECT_EQ(f.meter->histogram().count(), 0u);
  f.sim.advance(1s);
  ASSERT_EQ(f.meter->histogram().count(), 1u);
  EXPECT_DOUBLE_EQ(f.mean(), 30.0);
  EXPECT_EQ(f.meter->histogram().counts()[13], 1u);  // the le="30" bucket of default_seconds()
}

TEST(HealthDnsMeterTest, AStopThatTakesTheTaskOutOfDnsCounts) {
  Fixture f(0ms);
  core::ServiceSpec spec;
  spec.on_unhealthy = core::OnUnhealthy::Stop;
  ASSERT_TRUE(f.registry->put_service("web.local", spec).ok());
  f.sim.advance(2s);
  core::EndpointPolicy policy(*f.registry);  // onUnhealthy: stop is its decision
  f.probes_say(Health::Unhealthy);           // withdrawn, then stopped
  EXPECT_EQ(f.registry->task(f.key)->last_status, core::TaskStatus::Stopped);
  EXPECT_EQ(f.meter->histogram().count(), 1u);
  EXPECT_EQ(f.meter->pending(), 0u);
}

TEST(HealthDnsMeterTest, AStopByAnObserverThatRunsFirstCounts) {
  // The daemon's order: the endpoint policy observes (and stops) before the meter sees the commit.
  Fixture f(0ms);
  core::ServiceSpec spec;
  spec.on_unhealthy = core::OnUnhealthy::Stop;
  ASSERT_TRUE(f.registry->put_service("web.local", spec).ok());
  core::EndpointPolicy policy(*f.registry);
  HealthDnsMeter late(f.sim.clock, *f.registry);
  f.registry->add_observer([&late](const core::CommitInfo& info) { late.on_commit(info); });
  f.probes_say(Health::Unhealthy);
  EXPECT_EQ(f.registry->task(f.key)->last_status, core::TaskStatus::Stopped);
  EXPECT_EQ(late.histogram().count(), 1u);
  EXPECT_EQ(late.pending(), 0u);
}

TEST(HealthDnsMeterTest, ProbesOfAForcedTaskAreNotTimedButAForceIs) {
  Fixture f(0ms);
  ASSERT_TRUE(f.registry->force_health(f.key, Health::Unhealthy).ok());
  EXPECT_EQ(f.meter->histogram().count(), 1u);
  f.probes_say(Health::Healthy);  // recorded as observed; the forced health stays in effect
  EXPECT_EQ(f.meter->histogram().count(), 1u);
  EXPECT_EQ(f.meter->pending(), 0u);
}

TEST(HealthDnsMeterTest, ResetForgetsPendingChanges) {
  Fixture f(30s);
  f.probes_say(Health::Healthy);
  ASSERT_EQ(f.meter->pending(), 1u);
  ASSERT_TRUE(f.registry->reset().ok());
  EXPECT_EQ(f.meter->pending(), 0u);
  f.sim.advance(31s);
  EXPECT_EQ(f.meter->histogram().count(), 0u);
}

}  // namespace
}  // namespace emu::runtime
