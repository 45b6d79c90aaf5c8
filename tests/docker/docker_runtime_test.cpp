// DockerRuntime against FakeDocker: the launch sequence (create, report, start, inspect,
// report), the failure reasons ECS users see, stop of a container that is gone, and a prompt
// shutdown. The "core thread" is the test thread: posted closures queue up and the test runs them.

#include "emulator/docker/docker_runtime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/docker/fake_docker.hpp"

namespace emu::docker {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::FakeDocker;
using ::testing::HasSubstr;

/// The core thread's queue: DockerRuntime posts here, the test drains it.
class CoreQueue {
 public:
  DockerRuntime::Post post() {
    return [this](std::function<void()> fn) {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(fn));
      cv_.notify_all();
    };
  }
  /// Runs posted closures on this thread until `done()` or the timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (done()) return true;
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_until(lock, deadline, [&] { return !queue_.empty(); })) return done();
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }
  std::size_t pending() {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

/// Records the calls as strings, and checks they happen on the core (test) thread.
class RecordingSink final : public RuntimeSink {
 public:
  std::vector<std::string> calls;
  bool off_thread = false;

  void on_containers_created(const std::string& task_id,
                             const std::vector<std::pair<std::string, std::string>>& ids) override {
    std::string s = "created " + task_id;
    for (const auto& [name, id] : ids) s += " " + name + "=" + id;
    record(s);
  }
  void on_task_started(const std::string& task_id, const std::string& ipv4,
                       const std::string& ipv6) override {
    record("started " + task_id + " " + ipv4 + " " + ipv6);
  }
  void on_launch_failed(const std::string& task_id, const std::string& reason) override {
    record("failed " + task_id + " " + reason);
  }
  void on_container_exited(const std::string& task_id, const std::string& container_name,
                           int exit_code, const std::string& reason) override {
    record("exited " + task_id + " " + container_name + " " + std::to_string(exit_code) + " " +
           reason);
  }

 private:
  void record(std::string s) {
    if (std::this_thread::get_id() != core_) off_thread = true;
    calls.push_back(std::move(s));
  }
  std::thread::id core_ = std::this_thread::get_id();
};

nlohmann::json inspect_with_ip(const std::string& id, const std::string& network,
                               const std::string& ip) {
  std::ifstream in(std::string(EMU_DOCKER_TESTDATA) + "/inspect_running.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str());
  j["Id"] = id;
  j["NetworkSettings"]["Networks"] = {{network, {{"IPAddress", ip}, {"GlobalIPv6Address", ""}}}};
  return j;
}

core::ecs::ContainerPlan container(const std::string& name, const std::string& image,
                                   const std::string& network_mode = "") {
  core::ecs::ContainerPlan c;
  c.container_name = name;
  c.docker_name = "ecs-t1-" + name;
  c.body = {{"Image", image}};
  if (!network_mode.empty()) c.body["HostConfig"]["NetworkMode"] = network_mode;
  return c;
}

core::ecs::TaskPlan two_container_plan() {
  core::ecs::TaskPlan plan;
  plan.task_id = "t1";
  plan.image_of_first = "app:1";
  plan.containers = {container("web", "app:1", "ecs-net"),
                     container("sidecar", "side:1", "container:ecs-t1-web")};
  return plan;
}

std::vector<std::string> targets(const FakeDocker& fake) {
  std::vector<std::string> out;
  for (const auto& r : fake.requests()) out.push_back(r.method + " " + r.target);
  return out;
}

DockerClient::Options options_for(const FakeDocker& fake) {
  DockerClient::Options o;
  o.socket_path = fake.socket_path();
  o.request_timeout = 5s;
  o.pull_timeout = 5s;
  return o;
}

struct RuntimeTest : ::testing::Test {
  FakeDocker fake;
  CoreQueue core;
  RecordingSink sink;

  bool wait_calls(std::size_t n) {
    return core.run_until([&] { return sink.calls.size() >= n; });
  }
};

TEST_F(RuntimeTest, LaunchCreatesReportsStartsAndReportsTheAddress) {
  fake.on("POST", "/v1.41/containers/create",
          {FakeDocker::json(201, {{"Id", "aaa"}}), FakeDocker::json(201, {{"Id", "bbb"}})});
  fake.on("POST", "/v1.41/containers/", FakeDocker::empty(204));  // start
  fake.on("GET", "/v1.41/containers/aaa/json",
          FakeDocker::json(200, inspect_with_ip("aaa", "ecs-net", "10.9.0.4")));
  DockerRuntime runtime(options_for(fake), core.post(), sink);

  runtime.launch(two_container_plan());
  ASSERT_TRUE(wait_calls(2));
  EXPECT_THAT(sink.calls, ElementsAre("created t1 web=aaa sidecar=bbb", "started t1 10.9.0.4 "));
  EXPECT_FALSE(sink.off_thread);
  EXPECT_THAT(targets(fake),
              ElementsAre("POST /v1.41/containers/create?name=ecs-t1-web",
                          "POST /v1.41/containers/create?name=ecs-t1-sidecar",
                          "POST /v1.41/containers/aaa/start", "POST /v1.41/containers/bbb/start",
                          "GET /v1.41/containers/aaa/json"));
  EXPECT_EQ(nlohmann::json::parse(fake.requests()[1].body)["HostConfig"]["NetworkMode"],
            "container:ecs-t1-web");
  // launch remembers who owns what, for stop() and the event glue
  ASSERT_TRUE(runtime.owner_of("bbb").has_value());
  EXPECT_EQ(runtime.owner_of("bbb")->container_name, "sidecar");
  EXPECT_EQ(runtime.owner_of("bbb")->task_id, "t1");
}

TEST_F(RuntimeTest, MissingImageIsPulledThenCreated) {
  fake.on("POST", "/v1.41/containers/create",
          {FakeDocker::error(404, "No such image: app:1"), FakeDocker::json(201, {{"Id", "aaa"}})});
  fake.on("POST", "/v1.41/images/create", FakeDocker::json(200, {{"status", "Downloaded"}}));
  fake.on("POST", "/v1.41/containers/aaa/start", FakeDocker::empty(204));
  fake.on("GET", "/v1.41/containers/aaa/json",
          FakeDocker::json(200, inspect_with_ip("aaa", "bridge", "172.17.0.5")));
  DockerRuntime runtime(options_for(fake), core.post(), sink);

  core::ecs::TaskPlan plan;
  plan.task_id = "t1";
  plan.containers = {container("web", "app:1")};  // no NetworkMode: the default bridge
  runtime.launch(plan);
  ASSERT_TRUE(wait_calls(2));
  EXPECT_THAT(sink.calls, ElementsAre("created t1 web=aaa", "started t1 172.17.0.5 "));
  EXPECT_THAT(targets(fake),
              ElementsAre("POST /v1.41/containers/create?name=ecs-t1-web",
                          "POST /v1.41/images/create?fromImage=app&tag=1",
                          "POST /v1.41/containers/create?name=ecs-t1-web",
                          "POST /v1.41/containers/aaa/start", "GET /v1.41/containers/aaa/json"));
}

TEST_F(RuntimeTest, PullFailureFailsTheLaunchAndRemovesWhatWasCreated) {
  fake.on(
      "POST", "/v1.41/containers/create",
      {FakeDocker::json(201, {{"Id", "aaa"}}), FakeDocker::error(404, "No such image: side:1")});
  FakeDocker::Reply denied;
  denied.chunks = {R"({"status":"Pulling"})"
                   "\n",
                   R"({"error":"pull access denied for side, repository does not exist"})"
                   "\n"};
  fake.on("POST", "/v1.41/images/create", denied);
  fake.on("DELETE", "/v1.41/containers/aaa", FakeDocker::empty(204));
  DockerRuntime runtime(options_for(fake), core.post(), sink);

  runtime.launch(two_container_plan());
  ASSERT_TRUE(wait_calls(1));
  EXPECT_THAT(sink.calls,
              ElementsAre("failed t1 CannotPullContainerError: pull access denied for side, "
                          "repository does not exist"));
  EXPECT_EQ(targets(fake).back(), "DELETE /v1.41/containers/aaa?force=1");
  EXPECT_FALSE(runtime.owner_of("aaa").has_value());
}

TEST_F(RuntimeTest, StartFailureFailsTheLaunchAndRemovesBoth) {
  fake.on("POST", "/v1.41/containers/create",
          {FakeDocker::json(201, {{"Id", "aaa"}}), FakeDocker::json(201, {{"Id", "bbb"}})});
  fake.on("POST", "/v1.41/containers/aaa/start", FakeDocker::empty(204));
  fake.on("POST", "/v1.41/containers/bbb/start",
          FakeDocker::error(400, "OCI runtime create failed: exec: \"nope\": not found"));
  fake.on("DELETE", "/v1.41/containers/", FakeDocker::empty(204));
  DockerRuntime runtime(options_for(fake), core.post(), sink);

  runtime.launch(two_container_plan());
  ASSERT_TRUE(wait_calls(2));
  EXPECT_THAT(sink.calls,
              ElementsAre("created t1 web=aaa sidecar=bbb",
                          "failed t1 CannotStartContainerError: OCI runtime create failed: exec: "
                          "\"nope\": not found"));
  const auto t = targets(fake);
  EXPECT_THAT(
      std::vector<std::string>(t.end() - 2, t.end()),
      ElementsAre("DELETE /v1.41/containers/aaa?force=1", "DELETE /v1.41/containers/bbb?force=1"));
}

TEST_F(RuntimeTest, OtherCreateErrorsAreCannotCreate) {
  fake.on("POST", "/v1.41/containers/create",
          FakeDocker::error(404, "network ecs-net not found"));  // a 404 that is not the image
  DockerRuntime runtime(options_for(fake), core.post(), sink);

  runtime.launch(two_container_plan());
  ASSERT_TRUE(wait_calls(1));
  EXPECT_THAT(sink.calls,
              ElementsAre("failed t1 CannotCreateContainerError: network ecs-net not found"));
  EXPECT_EQ(fake.requests().size(), 1u);  // no pull
}

TEST_F(RuntimeTest, StopOfAGoneContainerReportsItsExit) {
  fake.on("POST", "/v1.41/containers/gone/stop", FakeDocker::error(404, "No such container: gone"));
  fake.on("POST", "/v1.41/containers/live/stop", FakeDocker::empty(204));
  DockerRuntime runtime(options_for(fake), core.post(), sink);
  runtime.remember("gone", "t1", "web");  // adopted after a restart
  runtime.remember("live", "t1", "sidecar");

  runtime.stop("t1", {"live", "gone"}, 12);
  ASSERT_TRUE(wait_calls(1));
  // live's exit comes from the event stream, not from here
  EXPECT_THAT(sink.calls, ElementsAre("exited t1 web -1 container not found"));
  EXPECT_THAT(targets(fake), ElementsAre("POST /v1.41/containers/live/stop?t=12",
                                         "POST /v1.41/containers/gone/stop?t=12"));
}

TEST_F(RuntimeTest, RemoveForgets) {
  fake.on("DELETE", "/v1.41/containers/", FakeDocker::empty(204));
  fake.on("POST", "/v1.41/containers/", FakeDocker::error(404, "No such container"));
  DockerRuntime runtime(options_for(fake), core.post(), sink);
  runtime.remember("aaa", "t1", "web");
  runtime.remember("marker", "t9", "web");
  runtime.remove({"aaa", "bbb"});
  // Jobs run in order: once the stop queued behind the remove reports, the remove is done.
  runtime.stop("t9", {"marker"}, 0);
  ASSERT_TRUE(wait_calls(1));
  EXPECT_FALSE(runtime.owner_of("aaa").has_value());
  EXPECT_THAT(targets(fake), ElementsAre("DELETE /v1.41/containers/aaa?force=1",
                                         "DELETE /v1.41/containers/bbb?force=1",
                                         "POST /v1.41/containers/marker/stop?t=0"));
}

TEST_F(RuntimeTest, ShutdownIsPromptDuringAStuckStopAndDropsTheRest) {
  FakeDocker::Reply stuck;
  stuck.stall = true;
  fake.on("POST", "/v1.41/containers/slow/stop", stuck);
  DockerRuntime runtime(options_for(fake), core.post(), sink);
  runtime.remember("slow", "t1", "web");

  runtime.stop("t1", {"slow"}, 600);
  runtime.launch(two_container_plan());  // queued behind the stop
  ASSERT_TRUE(fake.wait_for_count("/v1.41/containers/slow/stop", 1));
  const auto start = std::chrono::steady_clock::now();
  runtime.shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(core.pending(), 0u);          // nothing posted after shutdown
  EXPECT_EQ(fake.requests().size(), 1u);  // the launch never ran
  runtime.launch(two_container_plan());   // ignored
  runtime.shutdown();                     // idempotent
}

// ---- task_addresses --------------------------------------------------------------------------

TEST(TaskAddressesTest, PicksTheTasksNetwork) {
  core::ObservedContainer c;
  c.networks = {{"bridge", "172.17.0.2"}, {"app", "10.5.0.3"}, {"other", "10.6.0.3"}};
  c.networks6 = {{"app", "fd00::3"}};
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(task_addresses(c, {{"HostConfig", {{"NetworkMode", "app"}}}}),
            (P{"10.5.0.3", "fd00::3"}));
  EXPECT_EQ(task_addresses(c, {{"HostConfig", {{"NetworkMode", "default"}}}}),
            (P{"172.17.0.2", ""}));
  EXPECT_EQ(task_addresses(c, {{"HostConfig", {{"NetworkMode", "bridge"}}}}),
            (P{"172.17.0.2", ""}));
  EXPECT_EQ(task_addresses(c, {{"Image", "x"}}), (P{"172.17.0.2", ""}));

  // the named network has no address: any network's will do
  core::ObservedContainer d;
  d.networks = {{"app", ""}, {"zeta", "10.7.0.2"}};
  EXPECT_EQ(task_addresses(d, {{"HostConfig", {{"NetworkMode", "app"}}}}), (P{"10.7.0.2", ""}));

  // host mode: no address at all
  core::ObservedContainer h;
  h.networks = {{"host", ""}};
  EXPECT_EQ(task_addresses(h, {{"HostConfig", {{"NetworkMode", "host"}}}}), (P{"", ""}));
}

}  // namespace
}  // namespace emu::docker
