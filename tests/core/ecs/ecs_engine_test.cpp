#include "emulator/core/ecs/ecs_engine.hpp"

#include <gtest/gtest.h>

#include "emulator/core/ecs/ecs_errors.hpp"
#include "tests/core/ecs/ecs_test_harness.hpp"

namespace emu::core::ecs {
namespace {

using namespace std::chrono_literals;
using test::EcsHarness;

/// The AWS exception the engine names for `e`.
std::string type_of(const Error& e) { return e.aws_type; }
/// "Type: message", as the tests read an ECS error.
std::string typed(const Error& e) { return e.aws_type + ": " + e.message; }

TEST(EcsEngineTest, ServiceTasksStepToRunningAndRegisterAtActivating) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.settle();  // the scheduler runs from the timer queue
  EXPECT_EQ(h.count(TaskStatus::Provisioning), 3u);
  EXPECT_TRUE(h.has_event("(service web) has started 3 tasks: (task "));
  EXPECT_TRUE(h.a_records().empty());
  h.sim.advance(50ms);
  EXPECT_EQ(h.count(TaskStatus::Pending), 3u);
  EXPECT_TRUE(h.a_records().empty());
  h.sim.advance(50ms);
  EXPECT_EQ(h.count(TaskStatus::Activating), 3u);
  EXPECT_EQ(h.a_records().size(), 3u);  // ECS: registered in Cloud Map before RUNNING
  h.sim.advance(50ms);
  EXPECT_EQ(h.count(TaskStatus::Running), 3u);
  EXPECT_TRUE(h.has_event("(service web) has reached a steady state."));
  EXPECT_EQ(h.svc().events.front().message, "(service web) has reached a steady state.");

  const Task* t = h.active().front();
  EXPECT_EQ(t->id.size(), 32u);
  EXPECT_EQ(t->arn, "arn:aws:ecs:us-east-1:000000000000:task/demo/" + t->id);
  EXPECT_EQ(t->group, "service:web");
  EXPECT_EQ(t->started_by, h.svc().primary.id);
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->health(), Health::Unknown);  // simulated tasks are never probed
  EXPECT_TRUE(t->started_at.has_value());
  EXPECT_EQ(t->attributes.at("AWS_INSTANCE_IPV4"), t->ipv4);
  EXPECT_EQ(t->attributes.at("AWS_INSTANCE_PORT"), "8080");
  EXPECT_EQ(t->attributes.at("ECS_SERVICE_NAME"), "web");
  EXPECT_EQ(t->attributes.at("ECS_CLUSTER_NAME"), "demo");
  EXPECT_EQ(t->attributes.at("ECS_TASK_DEFINITION_FAMILY"), "web");
  EXPECT_EQ(t->attributes.at("REGION"), "us-east-1");
  EXPECT_EQ(t->attributes.at("AVAILABILITY_ZONE").rfind("us-east-1", 0), 0u);
  EXPECT_EQ(t->ipv4.rfind("10.10.0.", 0), 0u);
}

TEST(EcsEngineTest, ForcedUnhealthyTaskIsStoppedThroughItsLifecycleAndReplaced) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.advance(1s);
  const auto before = h.a_records();
  ASSERT_EQ(before.size(), 3u);
  const std::string sick = h.active().front()->id;
  const std::string sick_ip = h.active().front()->ipv4;
  ASSERT_TRUE(h.registry.force_health(sick, Health::Unhealthy));
  // The registry only records; the scheduler decides, at its next pass.
  EXPECT_EQ(h.registry.task(sick)->last_status, TaskStatus::Running);
  h.sim.settle();
  const Task* t = h.registry.task(sick);
  EXPECT_EQ(t->desired_status, TaskStatus::Stopped);
  EXPECT_EQ(t->last_status, TaskStatus::Deactivating);
  EXPECT_EQ(t->stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(t->stopped_reason, "Task failed container health checks");
  EXPECT_TRUE(t->stopping_at.has_value());
  const auto dns = h.a_records();
  EXPECT_EQ(std::count(dns.begin(), dns.end(), sick_ip), 0);  // out of DNS
  EXPECT_TRUE(h.has_event("(service web) (task " + sick + ") failed container health checks."));
  EXPECT_TRUE(h.has_event(" has started 1 tasks: (task "));  // the replacement, at once
  EXPECT_TRUE(h.has_event("Amazon ECS replaced 1 tasks due to an unhealthy status."));
  for (const auto state : {TaskStatus::Stopping, TaskStatus::Deprovisioning, TaskStatus::Stopped}) {
    h.sim.advance(50ms);
    EXPECT_EQ(h.registry.task(sick)->last_status, state);
  }
  EXPECT_TRUE(h.registry.task(sick)->stopped_at.has_value());
  h.sim.advance(1s);
  const auto after = h.a_records();
  ASSERT_EQ(after.size(), 3u);  // the replacement registered
  EXPECT_EQ(std::count(after.begin(), after.end(), sick_ip), 0);
  EXPECT_EQ(h.active().size(), 3u);
}

TEST(EcsEngineTest, UnhealthyTaskWithoutRegistryIsStoppedByTheScheduler) {
  EcsHarness h;
  auto s = h.web(1);
  s.registries.clear();
  ASSERT_TRUE(h.engine.create_service(s, {}));
  h.sim.advance(1s);
  const std::string id = h.active().front()->id;
  ASSERT_TRUE(h.registry.force_health(id, Health::Unhealthy));
  h.sim.advance(1s);
  EXPECT_EQ(h.registry.task(id)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.registry.task(id)->stopped_reason, "Task failed container health checks");
  EXPECT_EQ(h.active().size(), 1u);
  EXPECT_NE(h.active().front()->id, id);
}

TEST(EcsEngineTest, UpdateServiceScalesOutAndIn) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.advance(1s);
  ServiceUpdate up;
  up.desired_count = 5;
  ASSERT_TRUE(h.engine.update_service("us-east-1", "demo", "web", up));
  h.sim.advance(1s);
  EXPECT_EQ(h.a_records().size(), 5u);
  up.desired_count = 2;
  ASSERT_TRUE(h.engine.update_service("us-east-1", "demo", "web", up));
  h.sim.settle();
  EXPECT_EQ(h.a_records().size(), 2u);  // deregistered when they start to stop
  h.sim.advance(1s);
  std::size_t scaled = 0;
  for (const Task* t : h.engine.service_tasks(h.svc())) {
    if (t->last_status != TaskStatus::Stopped) continue;
    EXPECT_EQ(t->stopped_reason,
              "Scaling activity initiated by (deployment " + h.svc().primary.id + ")");
    ++scaled;
  }
  EXPECT_EQ(scaled, 3u);
  EXPECT_TRUE(h.has_event("(service web) has stopped 3 running tasks: (task "));
  EXPECT_EQ(h.svc().events.front().message, "(service web) has reached a steady state.");
}

TEST(EcsEngineTest, StopTaskStepsThroughTheStopStates) {
  EcsHarness h;
  RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = h.td_arn;
  auto run = h.engine.run_task(in);
  ASSERT_TRUE(run);
  ASSERT_EQ(run->tasks.size(), 1u);
  const auto id = run->tasks[0].id;
  EXPECT_EQ(run->tasks[0].group, "family:web");
  EXPECT_TRUE(run->tasks[0].service_id.empty());  // standalone tasks are not discoverable
  h.sim.advance(1s);
  EXPECT_EQ(h.registry.task(id)->last_status, TaskStatus::Running);
  auto stopped = h.engine.stop_task("us-east-1", "demo", id, "");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->desired_status, TaskStatus::Stopped);
  EXPECT_EQ(stopped->last_status, TaskStatus::Deactivating);
  EXPECT_EQ(stopped->stop_code, "UserInitiated");
  EXPECT_EQ(stopped->stopped_reason, "Task stopped by user");
  for (auto s : {TaskStatus::Stopping, TaskStatus::Deprovisioning, TaskStatus::Stopped}) {
    h.sim.advance(50ms);
    EXPECT_EQ(h.registry.task(id)->last_status, s);
  }
  EXPECT_TRUE(h.registry.task(id)->stopped_at.has_value());
  auto missing = h.engine.stop_task("us-east-1", "demo", "0123", "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(type_of(missing.error()), "InvalidParameterException");
}

TEST(EcsEngineTest, StoppedServiceTaskIsReplaced) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  h.sim.advance(1s);
  const auto id = h.active().front()->id;
  ASSERT_TRUE(h.engine.stop_task("us-east-1", "demo", id, "bye"));
  h.sim.advance(1s);
  EXPECT_EQ(h.registry.task(id)->stopped_reason, "bye");
  EXPECT_EQ(h.active().size(), 2u);
  EXPECT_EQ(h.a_records().size(), 2u);
}

TEST(EcsEngineTest, DeleteServiceDrainsToInactive) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.advance(1s);
  auto refused = h.engine.delete_service("us-east-1", "demo", "web", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(typed(refused.error()),
            "InvalidParameterException: The service cannot be stopped while it is scaled above 0.");
  auto drained = h.engine.delete_service("us-east-1", "demo", "web", true);
  ASSERT_TRUE(drained);
  EXPECT_EQ(drained->status, "DRAINING");
  h.sim.settle();
  EXPECT_TRUE(h.a_records().empty());
  h.sim.advance(1s);
  EXPECT_EQ(h.svc().status, "INACTIVE");
  EXPECT_EQ(h.count(TaskStatus::Stopped), 3u);
  auto again = h.engine.delete_service("us-east-1", "demo", "web", true);
  EXPECT_EQ(type_of(again.error()), "ServiceNotFoundException");
  // The name can be used again once the old service is INACTIVE.
  ASSERT_TRUE(h.engine.create_service(h.web(1), {}));
  h.sim.advance(1s);
  EXPECT_EQ(h.a_records().size(), 1u);
}

TEST(EcsEngineTest, UpdateOfUnknownOrDrainingService) {
  EcsHarness h;
  ServiceUpdate up;
  up.desired_count = 1;
  EXPECT_EQ(type_of(h.engine.update_service("us-east-1", "demo", "nope", up).error()),
            "ServiceNotFoundException");
  EXPECT_EQ(type_of(h.engine.update_service("us-east-1", "nope", "web", up).error()),
            "ClusterNotFoundException");
  ASSERT_TRUE(h.engine.create_service(h.web(0), {}));
  ASSERT_TRUE(h.engine.delete_service("us-east-1", "demo", "web", false));
  auto r = h.engine.update_service("us-east-1", "demo", "web", up);
  EXPECT_EQ(typed(r.error()), "ServiceNotActiveException: Service was not ACTIVE.");
}

TEST(EcsEngineTest, CreateServiceIdempotency) {
  EcsHarness h;
  auto s = h.web(1);
  s.client_token = "tok";
  s.request = {{"serviceName", "web"}};
  auto first = h.engine.create_service(s, {});
  ASSERT_TRUE(first);
  auto same = h.engine.create_service(s, {});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->primary.id, first->primary.id);
  s.client_token = "other";
  auto clash = h.engine.create_service(s, {});
  EXPECT_EQ(typed(clash.error()),
            "InvalidParameterException: Creation of service was not idempotent.");
}

TEST(EcsEngineTest, NewDeploymentReplacesOldTasksOnceNewOnesRun) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  h.sim.advance(1s);
  const auto first = h.svc().primary.id;
  ServiceUpdate up;
  up.force_new_deployment = true;
  ASSERT_TRUE(h.engine.update_service("us-east-1", "demo", "web", up));
  EXPECT_EQ(h.svc().old_deployments.size(), 1u);
  h.sim.settle();
  EXPECT_EQ(h.active().size(), 4u);  // new tasks first (maximumPercent 200)
  h.sim.advance(1s);
  EXPECT_EQ(h.active().size(), 2u);
  for (const Task* t : h.active()) EXPECT_NE(t->started_by, first);
  EXPECT_TRUE(h.svc().old_deployments.empty());
  EXPECT_TRUE(h.svc().steady);
}

TEST(EcsEngineTest, RepeatedStartFailuresAreThrottled) {
  EcsConfig config;
  config.task_cidr = "10.9.0.0/28";  // 11 addresses
  EcsHarness h(config);
  ASSERT_TRUE(h.engine.create_service(h.web(12), {}));
  h.sim.settle();
  EXPECT_EQ(h.active().size(), 11u);
  EXPECT_TRUE(h.svc().throttled_until.has_value());
  EXPECT_TRUE(h.has_event("(service web) is unable to consistently start tasks successfully."));
  const auto failed = h.count(TaskStatus::Stopped);
  EXPECT_EQ(failed, 2u);  // the first failure is retried at once, the second one backs off
  h.sim.advance(9s);
  EXPECT_EQ(h.count(TaskStatus::Stopped), failed);  // nothing started during the delay
  h.sim.advance(2s);
  EXPECT_EQ(h.count(TaskStatus::Stopped), failed + 1);  // tried again after 10 s, failed again
  h.sim.advance(15s);
  EXPECT_EQ(h.count(TaskStatus::Stopped), failed + 1);  // now waiting 20 s
  h.sim.advance(6s);
  EXPECT_EQ(h.count(TaskStatus::Stopped), failed + 2);
}

TEST(EcsEngineTest, MissingRegistryFailsTheStartInActivating) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(1), {}));
  // The Cloud Map service goes away before the scheduler starts the task.
  ASSERT_TRUE(h.registry.delete_service(h.registry.service_by_dns_name("web.local")->id, true));
  h.sim.settle();
  const auto id = h.active().front()->id;
  h.sim.advance(100ms);
  const Task* t = h.registry.task(id);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->stop_code, "TaskFailedToStart");
  EXPECT_NE(t->stopped_reason.find("ResourceInitializationError"), std::string::npos);
}

TEST(EcsEngineTest, StatePersistsAndLifecyclesResume) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  h.sim.advance(60ms);  // PENDING
  ASSERT_TRUE(h.engine.tag_resource(h.svc().arn, {{"team", "a"}}));

  // A second daemon on the same store.
  Registry registry{h.sim.clock, h.sim.timers, h.store, RegistryConfig{}, 9};
  ASSERT_TRUE(registry.load());
  EcsEngine engine{h.sim.clock, h.sim.timers, h.store, registry, EcsConfig{}, 3};
  ASSERT_TRUE(engine.load());
  ASSERT_NE(engine.cluster("us-east-1", "demo"), nullptr);
  ASSERT_NE(engine.task_definition("us-east-1", "web", std::nullopt), nullptr);
  const EcsService* s = engine.service("us-east-1", "demo", "web");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->desired_count, 2);
  EXPECT_EQ(engine.tags_of(s->arn).at("team"), "a");
  h.sim.advance(1s);
  std::size_t running = 0;
  for (const Task* t : engine.service_tasks(*s)) running += t->last_status == TaskStatus::Running;
  EXPECT_GE(running, 2u);
  // The next revision continues the family.
  EXPECT_EQ(engine.register_task_definition(test::web_definition(), {})->revision, 2);
}

// One command, one transaction: a task start writes its ECS row, tags, task and event in one
// commit, so a failed commit leaves none of them, in memory or in the store.
TEST(EcsEngineTest, TaskStartIsOneTransaction) {
  EcsHarness h;
  RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = h.td_arn;
  in.tags = {{"team", "a"}};
  const auto commits = h.store.commits();
  const auto rows = h.store.size();
  auto out = h.engine.run_task(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->tasks.size(), 1u);
  EXPECT_EQ(h.store.commits(), commits + 1);
  EXPECT_EQ(h.store.size(), rows + 3);  // task, ecs-task, ecs-tags
  const std::string arn = out->tasks.front().arn;
  const std::string id = out->tasks.front().id;

  // A daemon on the same store sees all of it.
  Registry registry{h.sim.clock, h.sim.timers, h.store, RegistryConfig{}, 9};
  ASSERT_TRUE(registry.load());
  EcsEngine engine{h.sim.clock, h.sim.timers, h.store, registry, EcsConfig{}, 3};
  ASSERT_TRUE(engine.load());
  ASSERT_NE(registry.task(id), nullptr);
  ASSERT_NE(engine.task_extra(id), nullptr);
  EXPECT_FALSE(engine.task_extra(id)->availability_zone.empty());
  EXPECT_EQ(engine.tags_of(arn).at("team"), "a");

  // The commit fails: nothing of the task exists, in memory or in the store.
  const auto events = h.registry.events().last_index();
  const auto tasks = h.registry.tasks().size();
  const auto before = h.store.size();
  h.store.fail_after(0);
  auto failed = h.engine.run_task(in);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Code::Unavailable);
  h.store.heal();
  EXPECT_EQ(h.store.size(), before);
  EXPECT_EQ(h.registry.tasks().size(), tasks);
  EXPECT_TRUE(h.registry.events().after(events).empty());
  EXPECT_EQ(h.engine.tasks("us-east-1", "demo").size(), 1u);
  h.sim.advance(1s);  // nothing half-started steps on
  EXPECT_EQ(h.registry.tasks().size(), tasks);
}

// Every step of the simulated lifecycle is one commit.
TEST(EcsEngineTest, EachLifecycleStepIsOneCommit) {
  EcsHarness h;
  RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = h.td_arn;
  const std::string id = h.engine.run_task(in)->tasks.front().id;
  for (const auto expected : {TaskStatus::Pending, TaskStatus::Activating, TaskStatus::Running}) {
    const auto commits = h.store.commits();
    h.sim.advance(50ms);
    EXPECT_EQ(h.registry.task(id)->last_status, expected);
    EXPECT_EQ(h.store.commits(), commits + 1) << to_string(expected);
  }
}

TEST(EcsEngineTest, ResetDropsEverything) {
  EcsHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  h.sim.advance(1s);
  ASSERT_TRUE(h.registry.reset());
  EXPECT_EQ(h.engine.cluster("us-east-1", "demo"), nullptr);
  EXPECT_TRUE(h.engine.task_definitions("us-east-1").empty());
  EXPECT_TRUE(h.engine.services("us-east-1", "demo").empty());
  h.sim.advance(1s);
  EXPECT_TRUE(h.registry.tasks().empty());
}

TEST(EcsEngineTest, TaskDefinitionRevisions) {
  EcsHarness h;
  auto second = h.engine.register_task_definition(test::web_definition(), {});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->revision, 2);
  EXPECT_EQ(second->arn, "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2");
  EXPECT_EQ(h.engine.task_definition("us-east-1", "web", std::nullopt)->revision, 2);
  ASSERT_TRUE(h.engine.deregister_task_definition("us-east-1", "web", 2));
  EXPECT_EQ(h.engine.task_definition("us-east-1", "web", std::nullopt)->revision,
            1);  // latest ACTIVE
  EXPECT_EQ(h.engine.task_definition("us-east-1", "web", 2)->status, "INACTIVE");
  EXPECT_EQ(h.engine.register_task_definition(test::web_definition(), {})->revision,
            3);  // never reused
  EXPECT_EQ(type_of(h.engine.deregister_task_definition("us-east-1", "web", 9).error()),
            "ClientException");
  RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = h.engine.task_definition("us-east-1", "web", 2)->arn;
  EXPECT_EQ(typed(h.engine.run_task(in).error()), "ClientException: TaskDefinition is inactive");
}

TEST(EcsEngineTest, ClusterLifecycle) {
  EcsHarness h;
  EXPECT_EQ(h.engine.cluster("us-west-2", "demo"), nullptr);  // state is per region
  ASSERT_TRUE(h.engine.create_service(h.web(1), {}));
  auto busy = h.engine.delete_cluster("us-east-1", "demo");
  EXPECT_EQ(
      typed(busy.error()),
      "ClusterContainsServicesException: The Cluster cannot be deleted while Services are active.");
  ASSERT_TRUE(h.engine.delete_service("us-east-1", "demo", "web", true));
  h.sim.advance(1s);
  auto gone = h.engine.delete_cluster("us-east-1", "demo");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, "INACTIVE");
  EXPECT_EQ(type_of(h.engine.delete_cluster("us-east-1", "demo").error()),
            "ClusterNotFoundException");
}

TEST(EcsEngineTest, HealthCheckBecomesAScaledProbe) {
  const auto spec = to_probe_spec({{"CMD-SHELL", "curl -f localhost"}, 30, 5, 3, 10}, 0.1);
  EXPECT_EQ(spec.type, ProbeType::Command);
  EXPECT_EQ(spec.interval, 3000ms);
  EXPECT_EQ(spec.timeout, 500ms);
  EXPECT_EQ(spec.retries, 3);
  EXPECT_EQ(spec.start_period, 1000ms);
  EcsConfig bad;
  bad.time_scale = 0;
  EXPECT_FALSE(EcsEngine::validate(bad));
  bad.time_scale = 1;
  bad.task_cidr = "nope";
  EXPECT_FALSE(EcsEngine::validate(bad));
}

}  // namespace
}  // namespace emu::core::ecs
