#include "emulator/core/registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "emulator/core/memory_store.hpp"
#include "emulator/core/zone_snapshot.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

/// A registry over a MemoryStore in simulated time.
struct Fixture {
  test::SimTime sim;
  MemoryStore store;
  RegistryConfig config;
  std::unique_ptr<Registry> registry;
  std::vector<Event> events;

  explicit Fixture(RegistryConfig cfg = {}) : config(cfg) { reopen(); }
  void reopen() {
    registry = std::make_unique<Registry>(sim.clock, sim.timers, store, config, 42);
    ASSERT_TRUE(registry->load().ok());
    registry->add_observer([this](const CommitInfo& info) {
      events.insert(events.end(), info.events.begin(), info.events.end());
    });
  }
  Task add(const std::string& name, const std::string& ip, std::uint16_t port = 80,
           std::optional<Health> initial = std::nullopt) {
    TaskSpec spec;
    spec.ipv4 = ip;
    spec.port = port;
    spec.initial_health = initial;
    auto r = registry->register_task(name, spec);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : Task{};
  }
  /// The IPv4 endpoints DNS would consider, with their health.
  std::vector<std::string> endpoints(const std::string& service) {
    std::vector<std::string> out;
    for (const auto& ns : registry->zone_model().namespaces) {
      for (const auto& s : ns.services) {
        if (s.name + "." + ns.name != service) continue;
        for (const auto& e : s.endpoints) {
          std::string ip;
          for (int i = 0; i < 4; ++i) ip += (i ? "." : "") + std::to_string((*e.ipv4)[i]);
          out.push_back(ip + (e.healthy ? "" : " unhealthy"));
        }
      }
    }
    return out;
  }
};

TEST(RegistryTest, FreshRegistryHasNoNamespacesUntilFirstUse) {
  Fixture f;
  EXPECT_THAT(f.registry->namespaces(), IsEmpty());
  f.add("game-server", "10.0.0.1");  // `game-server` alone means the default namespace
  ASSERT_EQ(f.registry->namespaces().size(), 1u);
  EXPECT_EQ(f.registry->namespaces()[0]->name, "local");
  EXPECT_NE(f.registry->service_by_dns_name("game-server.local"), nullptr);
}

TEST(RegistryTest, RegisteredTasksAreRunningEndpointsWithAwsIds) {
  Fixture f;
  const Task t = f.add("game-server.local", "10.0.0.1", 50051);
  EXPECT_EQ(t.id.size(), 32u);
  EXPECT_EQ(t.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(t.arn, "arn:aws:ecs:us-east-1:000000000000:task/default/" + t.id);
  EXPECT_EQ(t.last_status, TaskStatus::Running);
  EXPECT_EQ(t.health(), Health::Unknown);
  EXPECT_EQ(t.attributes.at("AWS_INSTANCE_IPV4"), "10.0.0.1");
  EXPECT_EQ(t.attributes.at("AWS_INSTANCE_PORT"), "50051");
  const Namespace* ns = f.registry->namespace_by_name("local");
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(ns->id.rfind("ns-", 0), 0u);
  EXPECT_EQ(ns->id.size(), 19u);
  EXPECT_THAT(f.endpoints("game-server.local"), ElementsAre("10.0.0.1"));
}

TEST(RegistryTest, SameEndpointTwiceInOneServiceIsAConflict) {
  Fixture f;
  f.add("web.local", "10.0.0.1", 80);
  TaskSpec spec;
  spec.ipv4 = "10.0.0.1";
  spec.port = 80;
  auto again = f.registry->register_task("web.local", spec);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Code::Conflict);
  spec.port = 81;  // another port is another endpoint
  EXPECT_TRUE(f.registry->register_task("web.local", spec).ok());
}

TEST(RegistryTest, InvalidNamesAndAddressesAreRejectedWithTheField) {
  Fixture f;
  TaskSpec spec;
  spec.ipv4 = "10.0.0.1";
  auto bad_name = f.registry->register_task("Bad_Name!.local", spec);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().code, Code::InvalidArgument);
  EXPECT_EQ(bad_name.error().message.rfind("name: ", 0), 0u);
  spec.ipv4 = "10.0.0.300";
  auto bad_ip = f.registry->register_task("web.local", spec);
  ASSERT_FALSE(bad_ip.ok());
  EXPECT_EQ(bad_ip.error().message.rfind("ip: ", 0), 0u);
}

TEST(RegistryTest, StoppedTaskLeavesDnsAtOnceAndStaysListed) {
  Fixture f;
  const Task a = f.add("web.local", "10.0.0.1");
  f.add("web.local", "10.0.0.2");
  auto stopped = f.registry->stop_task(a.id, "UserInitiated", "Task stopped by user");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->last_status, TaskStatus::Stopped);
  EXPECT_EQ(stopped->desired_status, TaskStatus::Stopped);
  EXPECT_EQ(stopped->stop_code, "UserInitiated");
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.2"));
  ASSERT_NE(f.registry->task(a.id), nullptr);  // still listed
  EXPECT_EQ(f.events.back().type(), "TaskStopped");
  EXPECT_THAT(f.events.back().detail()["recordsRemoved"], ElementsAre("A 10.0.0.1"));
  // ECS keeps STOPPED tasks for an hour, then they go.
  f.sim.advance(59min);
  ASSERT_TRUE(f.registry->purge_stopped().ok());
  EXPECT_NE(f.registry->task(a.id), nullptr);
  f.sim.advance(2min);
  ASSERT_TRUE(f.registry->purge_stopped().ok());
  EXPECT_EQ(f.registry->task(a.id), nullptr);
}

TEST(RegistryTest, SetHealthOnlyRecordsAndReturnsTheTransition) {
  // Even under the default `onUnhealthy: stop`: stopping is the lifecycle owner's decision
  // (EndpointPolicy, the ECS scheduler), not the state store's.
  Fixture f;
  const Task a = f.add("web.local", "10.0.0.1");
  auto r = f.registry->set_health(a.id, Health::Unhealthy, "3 failed probes (http 503)");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->before, Health::Unknown);
  EXPECT_EQ(r->after, Health::Unhealthy);
  EXPECT_EQ(r->task.last_status, TaskStatus::Running);
  EXPECT_EQ(f.registry->task(a.id)->last_status, TaskStatus::Running);
  EXPECT_EQ(f.registry->task(a.id)->health_reason, "3 failed probes (http 503)");
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1 unhealthy"));  // fail-open
  EXPECT_EQ(f.events.back().type(), "TaskHealthChanged");
  EXPECT_THAT(f.events.back().message(),
              ::testing::HasSubstr("A 10.0.0.1 removed from web.local."));
  // The same observation again changes nothing and commits nothing.
  const auto events = f.events.size();
  auto again = f.registry->set_health(a.id, Health::Unhealthy, "4 failed probes");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed());
  EXPECT_EQ(f.events.size(), events);
}

TEST(RegistryTest, AStoppedTaskListsTheRecordsItsDeregistrationRemoves) {
  // A withdrawn record is still in the zone (fail-open may answer it): the stop takes it out.
  Fixture f;
  const Task a = f.add("web.local", "10.0.0.1");
  ASSERT_TRUE(f.registry->set_health(a.id, Health::Unhealthy, "probe failed").ok());
  ASSERT_TRUE(f.registry->stop_task(a.id, kSchedulerStopCode, kHealthStopReason).ok());
  EXPECT_EQ(f.events.back().type(), "TaskStopped");
  EXPECT_THAT(f.events.back().detail()["recordsRemoved"], ElementsAre("A 10.0.0.1"));
  EXPECT_THAT(f.endpoints("web.local"), IsEmpty());
}

TEST(RegistryTest, ObserversLearnOfCommitsMadeByAnObserverAfterTheCurrentOne) {
  Fixture f;
  std::vector<std::string> seen;
  f.registry->add_observer([&](const CommitInfo& info) {
    for (const auto& e : info.events) seen.push_back("first:" + std::string(e.type()));
    for (const auto& key : info.health_changed) {
      if (f.registry->task(key)->last_status != TaskStatus::Stopped)
        (void)f.registry->stop_task(key, "UserInitiated", "by an observer");
    }
  });
  f.registry->add_observer([&](const CommitInfo& info) {
    for (const auto& e : info.events) seen.push_back("second:" + std::string(e.type()));
  });
  const Task a = f.add("web.local", "10.0.0.1");
  seen.clear();
  ASSERT_TRUE(f.registry->set_health(a.id, Health::Healthy, "probe passed").ok());
  EXPECT_THAT(seen, ElementsAre("first:TaskHealthChanged", "second:TaskHealthChanged",
                                "first:TaskStopped", "second:TaskStopped"));
}

TEST(RegistryTest, WithdrawTakesTheRecordOutWhileUnhealthyAndBackAfter) {
  Fixture f;
  ServiceSpec spec;
  spec.on_unhealthy = OnUnhealthy::Withdraw;
  ASSERT_TRUE(f.registry->put_service("web.local", spec).ok());
  const Task a = f.add("web.local", "10.0.0.1");
  f.add("web.local", "10.0.0.2");
  ASSERT_TRUE(f.registry->set_health(a.id, Health::Unhealthy, "probe failed").ok());
  EXPECT_EQ(f.registry->task(a.id)->last_status, TaskStatus::Running);  // not stopped
  EXPECT_THAT(f.endpoints("web.local"), UnorderedElementsAre("10.0.0.1 unhealthy", "10.0.0.2"));
  ASSERT_TRUE(f.registry->set_health(a.id, Health::Healthy, "first successful probe").ok());
  EXPECT_THAT(f.endpoints("web.local"), UnorderedElementsAre("10.0.0.1", "10.0.0.2"));
}

TEST(RegistryTest, PropagationDelayHoldsTheDnsChangeBack) {
  RegistryConfig cfg;
  cfg.health_propagation_delay = 30s;
  Fixture f(cfg);
  ServiceSpec spec;
  spec.on_unhealthy = OnUnhealthy::Withdraw;
  ASSERT_TRUE(f.registry->put_service("web.local", spec).ok());
  const Task a = f.add("web.local", "10.0.0.1");
  ASSERT_TRUE(f.registry->set_health(a.id, Health::Unhealthy, "probe failed").ok());
  EXPECT_EQ(f.registry->task(a.id)->health(), Health::Unhealthy);  // the task knows at once
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1"));  // DNS does not, yet
  f.sim.advance(29s);
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1"));
  f.sim.advance(1s);
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1 unhealthy"));
}

TEST(RegistryTest, ForcedHealthIsAnOverlayOverWhatTheProbesObserve) {
  Fixture f;
  ServiceSpec spec;
  spec.on_unhealthy = OnUnhealthy::Withdraw;
  ASSERT_TRUE(f.registry->put_service("web.local", spec).ok());
  const Task a = f.add("web.local", "10.0.0.1");
  const auto commits = f.store.commits();
  auto forced = f.registry->force_health(a.id, Health::Unhealthy);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(f.store.commits(), commits + 1);  // one commit sets it
  EXPECT_EQ(forced->before, Health::Unknown);
  EXPECT_EQ(forced->after, Health::Unhealthy);
  EXPECT_EQ(f.registry->task(a.id)->health(), Health::Unhealthy);
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1 unhealthy"));
  // Probes keep being recorded while forced; what they say does not show.
  const auto events = f.events.size();
  auto probed = f.registry->set_health(a.id, Health::Healthy, "probe passed");
  ASSERT_TRUE(probed.ok());
  EXPECT_FALSE(probed->changed());
  EXPECT_EQ(f.registry->task(a.id)->observed, Health::Healthy);
  EXPECT_EQ(f.registry->task(a.id)->health(), Health::Unhealthy);
  EXPECT_EQ(f.events.size(), events);  // nothing anyone sees changed
  // AUTO: one commit clears it, and the latest observation applies at once.
  const auto before_auto = f.store.commits();
  auto cleared = f.registry->force_health(a.id, std::nullopt);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(f.store.commits(), before_auto + 1);
  EXPECT_FALSE(f.registry->task(a.id)->forced.has_value());
  EXPECT_EQ(f.registry->task(a.id)->health(), Health::Healthy);
  EXPECT_EQ(cleared->after, Health::Healthy);
  EXPECT_EQ(f.events.back().type(), "TaskHealthChanged");
  EXPECT_EQ(f.events.back().detail()["reason"], "AUTO: probes decide again");
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1"));
}

TEST(RegistryTest, ForcedHealthSurvivesAReopenWithTheObservedHealth) {
  Fixture f;
  const Task a = f.add("web.local", "10.0.0.1");
  ASSERT_TRUE(f.registry->set_health(a.id, Health::Unhealthy, "probe failed").ok());
  ASSERT_TRUE(f.registry->force_health(a.id, Health::Healthy).ok());
  f.reopen();
  const Task* t = f.registry->task(a.id);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->observed, Health::Unhealthy);
  EXPECT_EQ(t->forced, Health::Healthy);
  EXPECT_EQ(t->health(), Health::Healthy);
}

TEST(RegistryTest, AStoppedTaskCannotBeForced) {
  Fixture f;
  const Task a = f.add("web.local", "10.0.0.1");
  ASSERT_TRUE(f.registry->stop_task(a.id, "UserInitiated", "Task stopped by user").ok());
  auto r = f.registry->force_health(a.id, Health::Unhealthy);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::IllegalTransition);
}

TEST(RegistryTest, InitialUnhealthyFailsOpenInTheZoneModel) {
  Fixture f;
  f.add("web.local", "10.0.0.1", 80, Health::Unhealthy);
  EXPECT_THAT(f.endpoints("web.local"), ElementsAre("10.0.0.1 unhealthy"));
}

TEST(RegistryTest, EverythingCommittedSurvivesAReopen) {
  Fixture f;
  ServiceSpec spec;
  spec.ttl = 30;
  spec.records = RecordTypes{true, false, true};
  ASSERT_TRUE(f.registry->put_service("game-server.local", spec).ok());
  const Task a = f.add("game-server.local", "10.0.0.1", 50051);
  const Task b = f.add("game-server.local", "10.0.0.2", 50051);
  ASSERT_TRUE(f.registry->stop_task(b.id, "UserInitiated", "Task stopped by user").ok());
  const auto last_index = f.registry->events().last_index();
  f.reopen();
  const Service* s = f.registry->service_by_dns_name("game-server.local");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ttl, 30u);
  EXPECT_TRUE(s->records.srv);
  EXPECT_EQ(f.registry->task(a.id)->last_status, TaskStatus::Running);
  EXPECT_EQ(f.registry->task(b.id)->last_status, TaskStatus::Stopped);
  EXPECT_THAT(f.endpoints("game-server.local"), ElementsAre("10.0.0.1"));
  f.add("game-server.local", "10.0.0.3", 50051);
  EXPECT_GT(f.registry->events().last_index(), last_index);  // indexes only grow
}

TEST(RegistryTest, AFailedCommitChangesNothing) {
  // Beast-style fail-at-N: whichever commit fails, memory equals what the store has.
  for (std::size_t n = 0; n < 6; ++n) {
    Fixture f;
    f.store.fail_after(n);
    std::vector<std::string> acknowledged;
    for (int i = 1; i <= 4; ++i) {
      TaskSpec spec;
      spec.ipv4 = "10.0.0." + std::to_string(i);
      spec.port = 80;
      if (auto r = f.registry->register_task("web.local", spec); r.ok())
        acknowledged.push_back(r->id);
      else
        EXPECT_EQ(r.error().code, Code::Unavailable);
    }
    std::size_t in_memory = f.registry->tasks().size();
    EXPECT_EQ(in_memory, acknowledged.size()) << "fail after " << n;
    f.store.heal();
    f.reopen();
    EXPECT_EQ(f.registry->tasks().size(), acknowledged.size()) << "fail after " << n;
    for (const auto& id : acknowledged) EXPECT_NE(f.registry->task(id), nullptr);
  }
}

TEST(RegistryTest, ResetEmptiesEverythingButIndexesKeepGrowing) {
  Fixture f;
  f.add("web.local", "10.0.0.1");
  const auto before = f.registry->events().last_index();
  ASSERT_TRUE(f.registry->reset().ok());
  EXPECT_THAT(f.registry->namespaces(), IsEmpty());
  EXPECT_THAT(f.registry->tasks(), IsEmpty());
  EXPECT_GT(f.registry->events().last_index(), before);
  f.reopen();
  EXPECT_THAT(f.registry->namespaces(), IsEmpty());
}

TEST(RegistryTest, DeletingANamespaceWithServicesIsAConflict) {
  Fixture f;
  f.add("web.local", "10.0.0.1");
  auto r = f.registry->delete_namespace("local");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Conflict);
  const Service* s = f.registry->service_by_dns_name("web.local");
  ASSERT_TRUE(f.registry->delete_service(s->id, false).ok());
  EXPECT_TRUE(f.registry->delete_namespace("local").ok());
}

TEST(RegistryTest, SnapshotIsPublishedOnEveryCommit) {
  Fixture f;
  const auto g0 = f.registry->zones().generation();
  f.add("web.local", "10.0.0.1");
  EXPECT_GT(f.registry->zones().generation(), g0);
  EXPECT_NE(f.registry->zones().load(), nullptr);
}

// --------------------------------------------------------------------------- Cloud Map state

/// A Cloud Map instance in `web.shop`, registered with its RegisterInstance operation.
struct CloudMapFixture : Fixture {
  std::string service_id;
  OperationRequest create_op, register_op;
  CloudMapFixture() {
    create_op = {registry->new_operation_id(), "us-east-1", "CREATE_NAMESPACE"};
    NamespaceSpec ns;
    ns.name = "shop";
    auto n = registry->put_namespace(ns, &create_op);
    EXPECT_TRUE(n.ok());
    auto s = registry->create_service_in(n->id, "web", ServiceSpec{});
    EXPECT_TRUE(s.ok());
    service_id = s->id;
    register_op = {registry->new_operation_id(), "us-east-1", "REGISTER_INSTANCE"};
    TaskSpec spec;
    spec.id = "web-1";
    spec.launch = Launch::Instance;
    spec.ipv4 = "10.0.0.1";
    spec.creator_request_id = "req-1";
    EXPECT_TRUE(registry->register_in(service_id, spec, &register_op).ok());
  }
};

TEST(RegistryCloudMap, OperationsRevisionsAndCreatorIdsSurviveAReload) {
  CloudMapFixture f;
  const auto& cm = f.registry->cloudmap();
  const auto revision = cm.revision("web.shop");
  EXPECT_EQ(revision, f.registry->events().last_index());
  // Health changes do not move InstancesRevision (Cloud Map).
  ASSERT_TRUE(f.registry->set_health(f.service_id + "/web-1", Health::Unhealthy, "probe").ok());
  EXPECT_EQ(f.registry->cloudmap().revision("web.shop"), revision);
  const auto created = cm.operation(f.register_op.id)->created;

  f.reopen();
  const auto& loaded = f.registry->cloudmap();
  EXPECT_EQ(loaded.revision("web.shop"), revision);
  ASSERT_EQ(loaded.operations().size(), 2u);
  EXPECT_EQ(loaded.operations()[0].id, f.create_op.id);  // oldest first, as recorded
  const CloudMapOperation* op = loaded.operation(f.register_op.id);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->type, "REGISTER_INSTANCE");
  EXPECT_EQ(op->region, "us-east-1");
  EXPECT_EQ(op->created, created);
  EXPECT_EQ(op->targets,
            (std::map<std::string, std::string>{{"INSTANCE", "web-1"}, {"SERVICE", f.service_id}}));
  EXPECT_EQ(f.registry->task(f.service_id + "/web-1")->creator_request_id, "req-1");

  // A deregistration moves the revision on, and records its operation in the same commit.
  const OperationRequest deregister{f.registry->new_operation_id(), "us-east-1",
                                    "DEREGISTER_INSTANCE"};
  ASSERT_TRUE(f.registry->erase_task(f.service_id + "/web-1", &deregister).ok());
  EXPECT_GT(f.registry->cloudmap().revision("web.shop"), revision);
  EXPECT_NE(f.registry->cloudmap().operation(deregister.id), nullptr);
}

TEST(RegistryCloudMap, ResetForgetsOperationsAndRevisionsStartAtTheResetIndex) {
  CloudMapFixture f;
  ASSERT_TRUE(f.registry->reset().ok());
  const auto reset_index = f.registry->events().last_index();
  EXPECT_TRUE(f.registry->cloudmap().operations().empty());
  EXPECT_EQ(f.registry->cloudmap().revision("web.shop"), reset_index);
  f.reopen();
  EXPECT_TRUE(f.registry->cloudmap().operations().empty());
  EXPECT_EQ(f.registry->cloudmap().revision("web.shop"), reset_index);
}

TEST(RegistryCloudMap, AStateWithoutRevisionsStartsFromTheEventHighWaterMark) {
  // A state file written before revisions were persisted: its revisions began at the last index.
  test::SimTime sim;
  MemoryStore store;
  StoreBatch old;
  old.event_index = 57;
  ASSERT_TRUE(store.commit(old).ok());
  Registry registry(sim.clock, sim.timers, store, RegistryConfig{}, 1);
  ASSERT_TRUE(registry.load().ok());
  EXPECT_EQ(registry.cloudmap().revision("web.local"), 57u);
}

TEST(RegistryCloudMap, AFailedCommitRecordsNoOperation) {
  CloudMapFixture f;
  const auto before = f.registry->cloudmap().operations().size();
  const auto revision = f.registry->cloudmap().revision("web.shop");
  const OperationRequest op{f.registry->new_operation_id(), "us-east-1", "REGISTER_INSTANCE"};
  TaskSpec spec;
  spec.id = "web-2";
  spec.launch = Launch::Instance;
  spec.ipv4 = "10.0.0.2";
  f.store.fail_after(0);
  EXPECT_FALSE(f.registry->register_in(f.service_id, spec, &op).ok());
  f.store.heal();
  EXPECT_EQ(f.registry->cloudmap().operations().size(), before);
  EXPECT_EQ(f.registry->cloudmap().operation(op.id), nullptr);
  EXPECT_EQ(f.registry->cloudmap().revision("web.shop"), revision);
  f.reopen();
  EXPECT_EQ(f.registry->cloudmap().operation(op.id), nullptr);
}

}  // namespace
}  // namespace emu::core
