// DockerTaskDriver (through EcsEngine): a fake TaskRuntime records what the driver asks and the
// tests play Docker's reports back (on_*), in simulated time.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "emulator/core/docker_model.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/ecs/ecs_json.hpp"
#include "emulator/core/ecs/task_runtime.hpp"
#include "tests/core/ecs/ecs_test_harness.hpp"

namespace emu::core::ecs {
namespace {

using namespace std::chrono_literals;
using test::EcsHarness;

/// Records the engine's requests; reports nothing by itself.
struct FakeRuntime final : TaskRuntime {
  struct Stop {
    std::string task_id;
    std::vector<std::string> container_ids;
    int timeout_s = 0;
  };
  std::vector<TaskPlan> launches;
  std::vector<Stop> stops;
  std::vector<std::vector<std::string>> removes;
  std::function<void(const Stop&)> on_stop;  ///< reports from inside stop(), when set

  void launch(const TaskPlan& plan) override { launches.push_back(plan); }
  void stop(const std::string& task_id, const std::vector<std::string>& container_ids,
            int stop_timeout_s) override {
    stops.push_back({task_id, container_ids, stop_timeout_s});
    if (on_stop) on_stop(stops.back());
  }
  void remove(const std::vector<std::string>& container_ids) override {
    removes.push_back(container_ids);
  }
};

std::string docker_id(const std::string& task_id, const std::string& container) {
  return "d0c" + task_id.substr(0, 8) + container;
}

/// EcsHarness with the engine running tasks through a FakeRuntime.
struct DockerHarness : EcsHarness {
  FakeRuntime runtime;
  int next_ip = 10;

  explicit DockerHarness(EcsConfig config = {}) : EcsHarness(std::move(config)) {
    engine.set_runtime(&runtime);
  }

  /// Docker created and started every container of a launch.
  std::string start(const TaskPlan& plan) {
    std::vector<std::pair<std::string, std::string>> ids;
    for (const auto& c : plan.containers)
      ids.emplace_back(c.container_name, docker_id(plan.task_id, c.container_name));
    engine.on_containers_created(plan.task_id, ids);
    const std::string ip = "172.18.0." + std::to_string(next_ip++);
    engine.on_task_started(plan.task_id, ip, "");
    sim.settle();
    return ip;
  }
  /// Starts every launch not yet started.
  void start_all() {
    for (std::size_t i = started_; i < runtime.launches.size(); ++i) start(runtime.launches[i]);
    started_ = runtime.launches.size();
  }
  /// RunTask of one task in cluster demo (the harness's definition by default); returns its id.
  std::string run_one(const std::string& definition_arn = {}) {
    RunTaskInput in;
    in.region = "us-east-1";
    in.cluster = "demo";
    in.task_definition_arn = definition_arn.empty() ? td_arn : definition_arn;
    return engine.run_task(in)->tasks.front().id;
  }
  const Task& task(const std::string& id) const { return *registry.task(id); }
  /// One lifecycle step: a task whose containers have all exited goes DEPROVISIONING -> STOPPED.
  void step() { sim.advance(EcsConfig{}.step); }
  const Task* running() const {
    for (const Task* t : active()) {
      if (t->last_status == TaskStatus::Running) return t;
    }
    return nullptr;
  }

 private:
  std::size_t started_ = 0;
};

// A Docker task's container data is written with the lifecycle move it causes: one commit per
// report, and a failed commit changes neither the task nor what is stored.
TEST(DockerTaskDriverTest, EachReportIsOneCommit) {
  DockerHarness h;
  const std::string id = h.run_one();
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 1u);
  auto commits = h.store.commits();
  h.engine.on_containers_created(id, {{"web", docker_id(id, "web")}});
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Pending);
  EXPECT_EQ(h.store.commits(), commits + 1);

  // ACTIVATING (with the containers now RUNNING), then RUNNING: two moves, two commits.
  commits = h.store.commits();
  h.store.fail_after(0);
  h.engine.on_task_started(id, "172.18.0.10", "");
  h.store.heal();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Pending);
  EXPECT_EQ(h.store.commits(), commits);
  {
    // What is stored still says PENDING for the task and its container.
    auto contents = h.store.load();
    ASSERT_TRUE(contents.ok());
    for (const auto& row : contents->entities) {
      if (row.kind == "ecs-task" && row.id == id) {
        auto extra = stored::task_extra_from(nlohmann::json::parse(row.body));
        ASSERT_TRUE(extra.ok());
        EXPECT_EQ(extra->containers.at(0).last_status, "PENDING");
      }
    }
  }
  h.engine.on_task_started(id, "172.18.0.10", "");
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Running);
  EXPECT_EQ(h.store.commits(), commits + 2);
}

TEST(DockerTaskDriverTest, ServiceTasksLaunchAsContainersAndRegisterOnceStarted) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 3u);  // one launch per task
  EXPECT_EQ(h.count(TaskStatus::Provisioning), 3u);
  for (const Task* t : h.active()) {
    EXPECT_EQ(t->launch, Launch::Docker);
    EXPECT_TRUE(t->ipv4.empty());  // no address from the pool
    EXPECT_EQ(t->attributes.count("AWS_INSTANCE_IPV4"), 0u);
  }
  const TaskPlan plan = h.runtime.launches[0];
  ASSERT_EQ(plan.containers.size(), 1u);
  EXPECT_EQ(plan.containers[0].body["Labels"][kLabelTaskId], plan.task_id);
  EXPECT_EQ(plan.containers[0].body["Labels"][kLabelInstance], h.engine.instance_id());

  h.engine.on_containers_created(plan.task_id, {{"web", docker_id(plan.task_id, "web")}});
  EXPECT_EQ(h.task(plan.task_id).last_status, TaskStatus::Pending);
  EXPECT_EQ(h.task(plan.task_id).container_id, docker_id(plan.task_id, "web"));
  EXPECT_TRUE(h.a_records().empty());
  h.engine.on_task_started(plan.task_id, "172.18.0.10", "");
  const Task& t = h.task(plan.task_id);
  EXPECT_EQ(t.last_status, TaskStatus::Running);
  EXPECT_TRUE(t.started_at.has_value());
  EXPECT_EQ(t.ipv4, "172.18.0.10");
  EXPECT_EQ(t.attributes.at("AWS_INSTANCE_IPV4"), "172.18.0.10");
  EXPECT_EQ(h.a_records(), std::vector<std::string>{"172.18.0.10"});
  h.next_ip = 11;
  h.start(h.runtime.launches[1]);
  h.start(h.runtime.launches[2]);
  EXPECT_EQ(h.a_records(), (std::vector<std::string>{"172.18.0.10", "172.18.0.11", "172.18.0.12"}));
  EXPECT_EQ(h.count(TaskStatus::Running), 3u);
  EXPECT_TRUE(h.has_event("(service web) has reached a steady state."));
  EXPECT_EQ(h.runtime.launches.size(), 3u);  // nothing launched twice

  // The containers are kept with the task, and survive the store's round trip.
  const TaskExtra* extra = h.engine.task_extra(plan.task_id);
  ASSERT_NE(extra, nullptr);
  ASSERT_EQ(extra->containers.size(), 1u);
  EXPECT_EQ(extra->containers[0].docker_id, docker_id(plan.task_id, "web"));
  EXPECT_EQ(extra->containers[0].last_status, "RUNNING");
  EXPECT_TRUE(extra->containers[0].health_check);
  const auto back = stored::task_extra_from(stored::to_json(*extra));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->containers, extra->containers);
}

TEST(DockerTaskDriverTest, UnhealthyContainerStopsTheTaskWhichIsReplaced) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.settle();
  h.start_all();
  const std::string sick = h.running()->id;
  const std::string sick_ip = h.running()->ipv4;
  h.engine.on_container_health(sick, "web", Health::Healthy, "");
  EXPECT_EQ(h.task(sick).health(), Health::Healthy);
  // Docker says unhealthy after its retries: the task leaves DNS and the scheduler stops it.
  h.engine.on_container_health(sick, "web", Health::Unhealthy, "exit 1");
  EXPECT_EQ(h.task(sick).health(), Health::Unhealthy);
  EXPECT_EQ(h.a_records().size(), 2u);
  h.sim.settle();
  const Task& t = h.task(sick);
  EXPECT_EQ(t.desired_status, TaskStatus::Stopped);
  EXPECT_EQ(t.last_status, TaskStatus::Stopping);  // until Docker reports the exit
  EXPECT_EQ(t.stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(t.stopped_reason, "Task failed container health checks");
  ASSERT_EQ(h.runtime.stops.size(), 1u);
  EXPECT_EQ(h.runtime.stops[0].task_id, sick);
  EXPECT_EQ(h.runtime.stops[0].container_ids, std::vector<std::string>{docker_id(sick, "web")});
  EXPECT_EQ(h.runtime.stops[0].timeout_s, 30);
  EXPECT_EQ(h.runtime.launches.size(), 4u);  // the replacement starts meanwhile
  EXPECT_TRUE(h.has_event("(service web) (task " + sick + ") failed container health checks."));

  h.engine.on_container_exited(sick, "web", 137, "");
  EXPECT_EQ(h.task(sick).last_status, TaskStatus::Deprovisioning);
  EXPECT_FALSE(h.task(sick).stopped_at.has_value());
  h.step();
  EXPECT_EQ(h.task(sick).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(sick).exit_code, 137);
  EXPECT_TRUE(h.task(sick).stopped_at.has_value());
  h.start_all();
  const auto dns = h.a_records();
  EXPECT_EQ(dns.size(), 3u);
  EXPECT_EQ(std::count(dns.begin(), dns.end(), sick_ip), 0);
  EXPECT_TRUE(h.has_event("Amazon ECS replaced 1 tasks due to an unhealthy status."));
}

TEST(DockerTaskDriverTest, TaskHealthIsTheWorstOfItsEssentialCheckedContainers) {
  DockerHarness h;
  auto td = test::web_definition();
  ContainerInfo sidecar;  // essential, without a health check: does not count
  sidecar.name = "log";
  sidecar.image = "fluentbit";
  ContainerInfo probe;  // checked but not essential: does not count either
  probe.name = "probe";
  probe.image = "busybox";
  probe.essential = false;
  probe.health_check = ContainerHealthCheck{{"CMD", "true"}, 5, 2, 3, 0};
  td.containers.push_back(sidecar);
  td.containers.push_back(probe);
  const auto id = h.run_one(h.engine.register_task_definition(td, {})->arn);
  h.sim.settle();
  h.start_all();
  EXPECT_EQ(h.task(id).health(), Health::Unknown);
  h.engine.on_container_health(id, "probe", Health::Unhealthy, "");
  EXPECT_EQ(h.task(id).health(), Health::Unknown);  // non-essential
  h.engine.on_container_health(id, "web", Health::Healthy, "");
  EXPECT_EQ(h.task(id).health(), Health::Healthy);
  h.engine.on_container_health(id, "web", Health::Unhealthy, "");
  EXPECT_EQ(h.task(id).health(), Health::Unhealthy);
  h.sim.settle();
  // A task without a service stays: only a service's scheduler replaces unhealthy tasks.
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Running);
  EXPECT_TRUE(h.runtime.stops.empty());
}

TEST(DockerTaskDriverTest, EssentialContainerExitStopsTheTaskWhichIsReplaced) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.settle();
  h.start_all();
  const std::string gone = h.running()->id;
  h.engine.on_container_exited(gone, "web", 3, "");
  h.sim.settle();
  EXPECT_EQ(h.task(gone).last_status, TaskStatus::Deprovisioning);
  h.step();
  const Task& t = h.task(gone);
  EXPECT_EQ(t.last_status, TaskStatus::Stopped);
  EXPECT_EQ(t.stop_code, "EssentialContainerExited");
  EXPECT_EQ(t.stopped_reason, "Essential container in task exited");
  EXPECT_EQ(t.exit_code, 3);
  EXPECT_TRUE(h.runtime.stops.empty());      // nothing left to stop
  EXPECT_EQ(h.runtime.launches.size(), 4u);  // replaced
  EXPECT_EQ(h.a_records().size(), 2u);
  h.start_all();
  EXPECT_EQ(h.a_records().size(), 3u);
  EXPECT_EQ(h.engine.task_extra(gone)->containers[0].exit_code, 3);
}

TEST(DockerTaskDriverTest, SidecarsStopWithTheirEssentialContainer) {
  DockerHarness h;
  auto td = test::web_definition();
  for (const char* name : {"envoy", "metrics"}) {
    ContainerInfo sidecar;
    sidecar.name = name;
    sidecar.image = name;
    sidecar.essential = false;
    td.containers.push_back(sidecar);
  }
  const auto id = h.run_one(h.engine.register_task_definition(td, {})->arn);
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 1u);
  const auto& plan = h.runtime.launches[0];
  ASSERT_EQ(plan.containers.size(), 3u);
  EXPECT_EQ(plan.containers[1].body["HostConfig"]["NetworkMode"],
            "container:" + plan.containers[0].docker_name);
  h.start_all();
  // A non-essential container may exit.
  h.engine.on_container_exited(id, "metrics", 0, "");
  h.sim.settle();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Running);
  // The essential one may not: the task stops, and the runtime stops what is left.
  h.engine.on_container_exited(id, "web", 2, "");
  h.sim.settle();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopping);
  EXPECT_EQ(h.task(id).stop_code, "EssentialContainerExited");
  ASSERT_EQ(h.runtime.stops.size(), 1u);
  EXPECT_EQ(h.runtime.stops[0].container_ids, std::vector<std::string>{docker_id(id, "envoy")});
  h.engine.on_container_exited(id, "envoy", 143, "");
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Deprovisioning);
  h.step();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(id).exit_code, 2);  // the first essential container's
}

TEST(DockerTaskDriverTest, StopTaskIsUserInitiatedAndEndsWhenTheContainersExit) {
  DockerHarness h;
  const auto id = h.run_one();
  h.sim.settle();
  h.start_all();
  ASSERT_EQ(h.task(id).last_status, TaskStatus::Running);
  auto stopped = h.engine.stop_task("us-east-1", "demo", id, "");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->last_status, TaskStatus::Deactivating);
  EXPECT_EQ(stopped->stop_code, "UserInitiated");
  h.sim.settle();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopping);
  ASSERT_EQ(h.runtime.stops.size(), 1u);
  h.sim.advance(1h);
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopping);  // Docker decides when
  h.engine.on_container_exited(id, "web", 0, "");
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Deprovisioning);
  h.step();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(id).stop_code, "UserInitiated");
  EXPECT_EQ(h.task(id).exit_code, 0);
}

TEST(DockerTaskDriverTest, ExitsReportedFromInsideStopEndTheTask) {
  DockerHarness h;
  h.runtime.on_stop = [&](const FakeRuntime::Stop& stop) {
    // Containers already gone report at once.
    for (const auto& id : stop.container_ids) {
      (void)id;
      h.engine.on_container_exited(stop.task_id, "web", 137, "");
    }
  };
  const auto id = h.run_one();
  h.sim.settle();
  h.start_all();
  ASSERT_TRUE(h.engine.stop_task("us-east-1", "demo", id, "bye"));
  h.sim.settle();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Deprovisioning);
  h.step();
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(id).stopped_reason, "bye");
  EXPECT_EQ(h.task(id).exit_code, 137);
}

TEST(DockerTaskDriverTest, ForcedUnhealthyTaskIsStoppedByTheSchedulerWithItsContainers) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  h.sim.settle();
  h.start_all();
  const std::string sick = h.running()->id;
  // Fault injection only records; the scheduler stops the task through its lifecycle.
  ASSERT_TRUE(h.registry.force_health(sick, Health::Unhealthy));
  EXPECT_EQ(h.task(sick).last_status, TaskStatus::Running);
  h.sim.settle();
  EXPECT_EQ(h.task(sick).last_status, TaskStatus::Stopping);  // until Docker reports the exit
  ASSERT_EQ(h.runtime.stops.size(), 1u);
  EXPECT_EQ(h.runtime.stops[0].container_ids, std::vector<std::string>{docker_id(sick, "web")});
  EXPECT_EQ(h.runtime.launches.size(), 3u);  // replaced
  h.engine.on_container_exited(sick, "web", 137, "");
  EXPECT_EQ(h.engine.task_extra(sick)->containers[0].last_status, "STOPPED");
  h.step();
  EXPECT_EQ(h.task(sick).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(sick).stop_code, "ServiceSchedulerInitiated");
  EXPECT_EQ(h.task(sick).stopped_reason, "Task failed container health checks");
  // Docker's own verdict does not lift a forced health, but it is recorded: AUTO applies it.
  const std::string other = h.running()->id;
  ASSERT_TRUE(h.registry.force_health(other, Health::Healthy));
  h.engine.on_container_health(other, "web", Health::Unhealthy, "exit 1");
  h.sim.settle();
  EXPECT_EQ(h.task(other).health(), Health::Healthy);
  EXPECT_EQ(h.task(other).observed, Health::Unhealthy);
  EXPECT_EQ(h.task(other).last_status, TaskStatus::Running);
  ASSERT_TRUE(h.registry.force_health(other, std::nullopt));
  EXPECT_EQ(h.task(other).health(), Health::Unhealthy);
  h.sim.settle();
  EXPECT_EQ(h.task(other).desired_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(other).stopped_reason, "Task failed container health checks");
}

TEST(DockerTaskDriverTest, TaskStoppedBeforeItsContainersExistStopsAtOnce) {
  DockerHarness h;
  RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = h.td_arn;
  // Stopped before the launch was even asked: nothing is launched.
  const auto early = h.engine.run_task(in)->tasks.front().id;
  ASSERT_TRUE(h.engine.stop_task("us-east-1", "demo", early, ""));
  EXPECT_EQ(h.task(early).last_status, TaskStatus::Stopped);
  h.sim.settle();
  EXPECT_TRUE(h.runtime.launches.empty());
  // Stopped while the runtime launches it: its containers are stopped when they show up.
  const auto late = h.engine.run_task(in)->tasks.front().id;
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 1u);
  ASSERT_TRUE(h.engine.stop_task("us-east-1", "demo", late, ""));
  EXPECT_EQ(h.task(late).last_status, TaskStatus::Stopped);
  h.engine.on_containers_created(late, {{"web", docker_id(late, "web")}});
  h.engine.on_task_started(late, "172.18.0.99", "");
  h.sim.settle();
  EXPECT_EQ(h.task(late).last_status, TaskStatus::Stopped);
  EXPECT_TRUE(h.a_records().empty());
  ASSERT_FALSE(h.runtime.stops.empty());
  EXPECT_EQ(h.runtime.stops.back().container_ids, std::vector<std::string>{docker_id(late, "web")});
}

TEST(DockerTaskDriverTest, RepeatedLaunchFailuresAreThrottled) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(1), {}));
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 1u);
  const std::string reason =
      "CannotPullContainerError: pull access denied for nginx:nope, repository does not exist";
  const auto first = h.runtime.launches[0].task_id;
  h.engine.on_launch_failed(first, reason);
  EXPECT_EQ(h.task(first).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(first).stop_code, "TaskFailedToStart");
  EXPECT_EQ(h.task(first).stopped_reason, reason);
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 2u);  // the first failure is retried at once
  EXPECT_FALSE(h.has_event("is unable to consistently start tasks successfully"));
  h.engine.on_launch_failed(h.runtime.launches[1].task_id, reason);
  h.sim.settle();
  EXPECT_TRUE(h.has_event("(service web) is unable to consistently start tasks successfully."));
  EXPECT_EQ(h.runtime.launches.size(), 2u);  // backing off
  h.sim.advance(11s);
  ASSERT_EQ(h.runtime.launches.size(), 3u);
  h.start(h.runtime.launches[2]);  // a task that runs ends the throttle
  EXPECT_EQ(h.svc().start_failures, 0);
}

TEST(DockerTaskDriverTest, MissingCloudMapServiceFailsTheStartAndStopsTheContainers) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(1), {}));
  // The Cloud Map service goes away before the scheduler starts the task.
  ASSERT_TRUE(h.registry.delete_service(h.registry.service_by_dns_name("web.local")->id, true));
  h.sim.settle();
  const auto id = h.runtime.launches.at(0).task_id;
  h.start(h.runtime.launches[0]);
  EXPECT_EQ(h.task(id).last_status, TaskStatus::Stopped);
  EXPECT_EQ(h.task(id).stop_code, "TaskFailedToStart");
  EXPECT_NE(h.task(id).stopped_reason.find("service registry no longer exists"), std::string::npos);
  ASSERT_EQ(h.runtime.stops.size(), 1u);
  EXPECT_EQ(h.runtime.stops[0].task_id, id);
}

TEST(DockerTaskDriverTest, AdoptAfterRestartStartsNothingTwice) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(3), {}));
  h.sim.settle();
  h.start_all();
  ASSERT_EQ(h.count(TaskStatus::Running), 3u);
  // One stopped task, whose container Docker still has.
  const auto done = h.run_one();
  h.sim.settle();
  h.start_all();
  h.engine.on_container_exited(done, "web", 0, "");
  h.step();
  ASSERT_EQ(h.task(done).last_status, TaskStatus::Stopped);
  std::vector<std::string> tasks;
  for (const Task* t : h.active()) tasks.push_back(t->id);
  ASSERT_EQ(tasks.size(), 3u);

  // What Docker shows after the daemon restarts: two tasks run (one with a new address), the
  // third's container is gone, plus containers of a stopped and an unknown task.
  auto observed = [&](const std::string& task, const std::string& state, const std::string& ip) {
    ObservedContainer c;
    c.id = docker_id(task, "web");
    c.name = "ecs-web-1-web-" + task.substr(0, 12);
    c.labels = {{kLabelTaskId, task},
                {kLabelContainerName, "web"},
                {kLabelInstance, h.engine.instance_id()}};
    c.state = state;
    if (state == "exited") c.exit_code = 0;
    if (!ip.empty()) c.networks["bridge"] = ip;
    c.health = "healthy";
    return c;
  };
  const std::string old_ip = h.task(tasks[1]).ipv4;
  std::vector<ObservedContainer> docker = {
      observed(tasks[0], "running", h.task(tasks[0]).ipv4),
      observed(tasks[1], "running", "172.18.0.77"),
      observed(done, "exited", ""),
      observed("ffffffffffffffffffffffffffffffff", "running", "172.18.0.66"),
  };
  ObservedContainer compose;  // not ours: no task label, never touched
  compose.id = "compose1";
  compose.labels = {{kLabelService, "api"}};
  compose.state = "running";
  docker.push_back(compose);
  // Another emulator's task container on the same engine: neither adopted nor removed.
  ObservedContainer foreign = observed(tasks[0], "running", "172.18.0.55");
  foreign.id = "foreign";
  foreign.labels[kLabelInstance] = "0123456789abcdef";
  docker.push_back(foreign);
  ObservedContainer unlabelled = observed("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "running", "");
  unlabelled.id = "unlabelled";
  unlabelled.labels.erase(kLabelInstance);
  docker.push_back(unlabelled);

  Registry registry{h.sim.clock, h.sim.timers, h.store, RegistryConfig{}, 9};
  ASSERT_TRUE(registry.load());
  FakeRuntime runtime;
  EcsEngine engine{h.sim.clock, h.sim.timers, h.store, registry, EcsConfig{}, 3};
  engine.set_runtime(&runtime);
  ASSERT_TRUE(engine.load());
  EXPECT_EQ(engine.instance_id(), h.engine.instance_id());  // kept in the state
  EXPECT_EQ(engine.instance_id().size(), 16u);
  const auto orphans = engine.adopt(docker);
  EXPECT_EQ(orphans,
            (std::vector<std::string>{docker_id(done, "web"),
                                      docker_id("ffffffffffffffffffffffffffffffff", "web")}));
  h.step();
  const Task* kept = registry.task(tasks[0]);
  EXPECT_EQ(kept->last_status, TaskStatus::Running);
  EXPECT_EQ(kept->health(), Health::Healthy);  // Docker's health applies
  const Task* moved = registry.task(tasks[1]);
  EXPECT_EQ(moved->last_status, TaskStatus::Running);
  EXPECT_EQ(moved->ipv4, "172.18.0.77");
  EXPECT_EQ(moved->attributes.at("AWS_INSTANCE_IPV4"), "172.18.0.77");
  EXPECT_NE(old_ip, "172.18.0.77");
  const Task* lost = registry.task(tasks[2]);
  EXPECT_EQ(lost->last_status, TaskStatus::Stopped);
  EXPECT_EQ(lost->stop_code, "EssentialContainerExited");
  EXPECT_EQ(lost->stopped_reason, "container not found after restart");
  // Only the lost task is replaced; the two that run are not started again.
  ASSERT_EQ(runtime.launches.size(), 1u);
  EXPECT_NE(runtime.launches[0].task_id, tasks[0]);
  EXPECT_NE(runtime.launches[0].task_id, tasks[1]);
  EXPECT_TRUE(runtime.stops.empty());
}

TEST(DockerTaskDriverTest, AdoptRelaunchesATaskThatHadNoContainerYet) {
  DockerHarness h;
  const auto waiting = h.run_one();
  const auto exited = h.run_one();
  h.sim.settle();
  h.start(h.runtime.launches[1]);

  Registry registry{h.sim.clock, h.sim.timers, h.store, RegistryConfig{}, 9};
  ASSERT_TRUE(registry.load());
  FakeRuntime runtime;
  EcsEngine engine{h.sim.clock, h.sim.timers, h.store, registry, EcsConfig{}, 3};
  engine.set_runtime(&runtime);
  ASSERT_TRUE(engine.load());
  h.sim.settle();
  EXPECT_TRUE(runtime.launches.empty());  // load() alone resumes nothing
  ObservedContainer c;
  c.id = docker_id(exited, "web");
  c.labels = {
      {kLabelTaskId, exited}, {kLabelContainerName, "web"}, {kLabelInstance, engine.instance_id()}};
  c.state = "exited";
  c.exit_code = 1;
  EXPECT_TRUE(engine.adopt({c}).empty());
  h.step();
  ASSERT_EQ(runtime.launches.size(), 1u);
  EXPECT_EQ(runtime.launches[0].task_id, waiting);
  EXPECT_EQ(registry.task(waiting)->last_status, TaskStatus::Provisioning);
  EXPECT_EQ(registry.task(exited)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(registry.task(exited)->stop_code, "EssentialContainerExited");
  EXPECT_EQ(registry.task(exited)->stopped_reason, "Essential container in task exited");
  EXPECT_EQ(registry.task(exited)->exit_code, 1);
}

TEST(DockerTaskDriverTest, HealthCheckTimesAreScaled) {
  EcsConfig config;
  config.time_scale = 0.1;
  config.docker_network = "ecs-demo";
  DockerHarness h(config);
  h.run_one();
  h.sim.settle();
  ASSERT_EQ(h.runtime.launches.size(), 1u);
  const auto& body = h.runtime.launches[0].containers[0].body;
  // web_definition(): interval 5 s, timeout 2 s, 3 retries, no start period
  EXPECT_EQ(body["Healthcheck"]["Interval"], 500'000'000LL);
  EXPECT_EQ(body["Healthcheck"]["Timeout"], 200'000'000LL);
  EXPECT_EQ(body["Healthcheck"]["Retries"], 3);
  EXPECT_EQ(body["Healthcheck"]["StartPeriod"], 0);
  EXPECT_EQ(body["HostConfig"]["NetworkMode"], "ecs-demo");
}

TEST(DockerTaskDriverTest, PurgedTaskHasItsContainersRemoved) {
  DockerHarness h;
  const auto id = h.run_one();
  h.sim.settle();
  h.start_all();
  h.engine.on_container_exited(id, "web", 0, "");
  h.step();
  ASSERT_EQ(h.task(id).last_status, TaskStatus::Stopped);
  EXPECT_TRUE(h.runtime.removes.empty());  // kept while the STOPPED task is visible
  h.sim.advance(2h);
  ASSERT_TRUE(h.registry.purge_stopped());
  h.sim.settle();
  ASSERT_EQ(h.runtime.removes.size(), 1u);
  EXPECT_EQ(h.runtime.removes[0], std::vector<std::string>{docker_id(id, "web")});
  EXPECT_EQ(h.engine.task_extra(id), nullptr);
}

TEST(DockerTaskDriverTest, ResetRemovesEveryContainer) {
  DockerHarness h;
  ASSERT_TRUE(h.engine.create_service(h.web(2), {}));
  h.sim.settle();
  h.start_all();
  ASSERT_TRUE(h.registry.reset());
  h.sim.settle();
  ASSERT_EQ(h.runtime.removes.size(), 1u);
  EXPECT_EQ(h.runtime.removes[0].size(), 2u);
  EXPECT_EQ(h.runtime.launches.size(), 2u);  // and nothing is started again
}

TEST(DockerTaskDriverTest, TheInstanceKeepsItsIdentityAcrossAReset) {
  DockerHarness h;
  const std::string id = h.engine.instance_id();
  ASSERT_EQ(id.size(), 16u);
  ASSERT_TRUE(h.registry.reset());
  h.sim.settle();
  EXPECT_EQ(h.engine.instance_id(), id);
  // and it is still in the state: a restart after the reset claims the same containers
  Registry registry{h.sim.clock, h.sim.timers, h.store, RegistryConfig{}, 9};
  ASSERT_TRUE(registry.load());
  EcsEngine engine{h.sim.clock, h.sim.timers, h.store, registry, EcsConfig{}, 3};
  ASSERT_TRUE(engine.load());
  EXPECT_EQ(engine.instance_id(), id);
  // while another state (another emulator) gets its own
  MemoryStore other_store;
  Registry other{h.sim.clock, h.sim.timers, other_store, RegistryConfig{}, 9};
  ASSERT_TRUE(other.load());
  EcsEngine other_engine{h.sim.clock, h.sim.timers, other_store, other, EcsConfig{}, 4};
  ASSERT_TRUE(other_engine.load());
  EXPECT_NE(other_engine.instance_id(), id);
}

}  // namespace
}  // namespace emu::core::ecs
