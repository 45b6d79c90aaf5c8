// DockerClient: the pure mappings (URL, inspect, errors, image references) on tables and on
// JSON captured from the real dockerd (tests/testdata/docker), then every call against FakeDocker.

#include "emulator/docker/docker_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

#include "tests/docker/fake_docker.hpp"

namespace emu::docker {
namespace {

using namespace std::chrono_literals;
using testing::FakeDocker;
using ::testing::HasSubstr;

nlohmann::json load_json(const std::string& name) {
  std::ifstream in(std::string(EMU_DOCKER_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

DockerClient::Options options_for(const FakeDocker& fake, Duration timeout = 5s) {
  DockerClient::Options o;
  o.socket_path = fake.socket_path();
  o.request_timeout = timeout;
  o.pull_timeout = timeout;
  return o;
}

// ---- socket_path_from ------------------------------------------------------------------------

TEST(SocketPathFromTest, AcceptsUnixUrlsAndAbsolutePaths) {
  EXPECT_EQ(DockerClient::socket_path_from("unix:///var/run/docker.sock").value(),
            "/var/run/docker.sock");
  EXPECT_EQ(DockerClient::socket_path_from("/run/user/1000/docker.sock").value(),
            "/run/user/1000/docker.sock");
}

TEST(SocketPathFromTest, RejectsEverythingElseNamingTheValue) {
  for (const std::string bad : {"tcp://127.0.0.1:2375", "unix://relative.sock", "docker.sock", "",
                                "unix://", "http:///var/run/docker.sock"}) {
    const auto r = DockerClient::socket_path_from(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Code::InvalidArgument) << bad;
    EXPECT_THAT(r.error().message, HasSubstr("'" + bad + "'"));
  }
}

// ---- observed_from_inspect -------------------------------------------------------------------

TEST(ObservedFromInspectTest, RunningContainerFromTheRealEngine) {
  const auto c = observed_from_inspect(load_json("inspect_running.json"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->id, "d3fef4d387c432efbd0b14d6c2eb3c85ae24b2a022b9be05b60103b4a3c8f754");
  EXPECT_EQ(c->name, "ecsemu-exp-1");                   // without the leading '/'
  EXPECT_EQ(c->image, "ecs-emu-test/debian:bookworm");  // Config.Image, not the sha256
  EXPECT_EQ(c->labels.at(core::kLabelTaskId), "t1");
  EXPECT_EQ(c->labels.at(core::kLabelContainerName), "web");
  EXPECT_EQ(c->state, "running");
  EXPECT_TRUE(c->running());
  EXPECT_EQ(c->health, "healthy");
  EXPECT_FALSE(c->exit_code.has_value());  // ExitCode 0 while running means nothing
  EXPECT_EQ(c->error, "");
  EXPECT_EQ(c->networks, (std::map<std::string, std::string>{{"bridge", "172.17.0.2"}}));
  EXPECT_TRUE(c->networks6.empty());  // GlobalIPv6Address "" is no address
}

TEST(ObservedFromInspectTest, ExitedContainerHasItsExitCode) {
  const auto c = observed_from_inspect(load_json("inspect_exited.json"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state, "exited");
  EXPECT_FALSE(c->running());
  EXPECT_EQ(c->exit_code, 137);  // SIGKILL after the stop timeout
}

TEST(ObservedFromInspectTest, UserNetworkWithIpv6AndAnError) {
  const auto j = nlohmann::json::parse(R"({
    "Id": "abc", "Name": "/x",
    "Config": {"Image": "img:1", "Labels": null},
    "State": {"Status": "dead", "ExitCode": 128, "Error": "OCI runtime create failed"},
    "NetworkSettings": {"Networks": {
      "app": {"IPAddress": "10.5.0.3", "GlobalIPv6Address": "fd00::3"},
      "none": {"IPAddress": ""}}}})");
  const auto c = observed_from_inspect(j);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->labels.empty());  // "Labels": null
  EXPECT_EQ(c->health, "");        // no healthcheck
  EXPECT_EQ(c->exit_code, 128);
  EXPECT_EQ(c->error, "OCI runtime create failed");
  EXPECT_EQ(c->networks, (std::map<std::string, std::string>{{"app", "10.5.0.3"}, {"none", ""}}));
  EXPECT_EQ(c->networks6, (std::map<std::string, std::string>{{"app", "fd00::3"}}));
}

TEST(ObservedFromInspectTest, RejectsWhatIsNotAContainer) {
  EXPECT_FALSE(observed_from_inspect(nlohmann::json::array()).ok());
  EXPECT_FALSE(observed_from_inspect(nlohmann::json{{"Name", "/x"}}).ok());
  EXPECT_EQ(observed_from_inspect(nlohmann::json{{"Id", 5}}).error().code, Code::InvalidArgument);
}

// ---- error_from_response ---------------------------------------------------------------------

struct ErrorCase {
  unsigned status;
  std::string body;
  Code code;
  std::string message;
};

TEST(ErrorFromResponseTest, MapsStatusAndKeepsDockersMessage) {
  const ErrorCase cases[] = {
      {404, R"({"message":"No such container: abc"})", Code::NotFound, "No such container: abc"},
      {409, R"({"message":"Conflict. The container name \"/x\" is already in use"})",
       Code::Conflict, R"(Conflict. The container name "/x" is already in use)"},
      {400, R"({"message":"invalid reference format"})", Code::InvalidArgument,
       "invalid reference format"},
      {500, R"({"message":"driver failed"})", Code::Unavailable, "driver failed"},
      {502, "bad gateway\n", Code::Unavailable, "HTTP 502: bad gateway"},  // not JSON
      {503, "", Code::Unavailable, "HTTP 503"},
  };
  for (const auto& c : cases) {
    const Error e = error_from_response(c.status, c.body);
    EXPECT_EQ(e.code, c.code) << c.status;
    EXPECT_EQ(e.message, c.message) << c.status;
  }
}

// ---- split_image_ref, url_encode -------------------------------------------------------------

TEST(SplitImageRefTest, NeverPullsAllTags) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(split_image_ref("nginx"), (P{"nginx", "latest"}));
  EXPECT_EQ(split_image_ref("nginx:1.25"), (P{"nginx", "1.25"}));
  EXPECT_EQ(split_image_ref("ecs-emu-test/debian:bookworm"),
            (P{"ecs-emu-test/debian", "bookworm"}));
  EXPECT_EQ(split_image_ref("localhost:5000/a/b"), (P{"localhost:5000/a/b", "latest"}));
  EXPECT_EQ(split_image_ref("localhost:5000/a/b:2"), (P{"localhost:5000/a/b", "2"}));
  EXPECT_EQ(split_image_ref("busybox@sha256:abcd"), (P{"busybox", "sha256:abcd"}));
}

TEST(UrlEncodeTest, EncodesAllButUnreserved) {
  EXPECT_EQ(url_encode(R"({"type":["container"]})"), "%7B%22type%22%3A%5B%22container%22%5D%7D");
  EXPECT_EQ(url_encode("a-Z_0.~/ "), "a-Z_0.~%2F%20");
}

// ---- against FakeDocker ----------------------------------------------------------------------

TEST(DockerClientTest, VersionAndCreateSendWhatDockerExpects) {
  FakeDocker fake;
  fake.on(
      "GET", "/v1.41/version",
      FakeDocker::json(
          200,
          {{"Version", "20.10.24"}, {"ApiVersion", "1.41"}, {"Os", "linux"}, {"Arch", "amd64"}}));
  fake.on("POST", "/v1.41/containers/create", FakeDocker::json(201, {{"Id", "c0ffee"}}));
  DockerClient client(options_for(fake));

  const auto v = client.version();
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->value("Version", ""), "20.10.24");
  EXPECT_EQ(v->value("ApiVersion", ""), "1.41");

  const nlohmann::json body = {{"Image", "img:1"}, {"Labels", {{"a", "b"}}}};
  const auto id = client.create_container("task-1 web", body);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "c0ffee");

  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].target, "/v1.41/containers/create?name=task-1%20web");
  EXPECT_EQ(nlohmann::json::parse(requests[1].body), body);
}

TEST(DockerClientTest, ErrorsKeepDockersMessage) {
  FakeDocker fake;
  fake.on("POST", "/v1.41/containers/create", FakeDocker::error(404, "No such image: img:1"));
  fake.on("POST", "/v1.41/containers/gone/stop", FakeDocker::error(404, "No such container: gone"));
  fake.on("POST", "/v1.41/containers/idle/kill",
          FakeDocker::error(409, "Container idle is not running"));
  DockerClient client(options_for(fake));

  const auto created = client.create_container("x", {{"Image", "img:1"}});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, Code::NotFound);
  EXPECT_EQ(created.error().message, "No such image: img:1");

  const auto stopped = client.stop_container("gone", 10);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, Code::NotFound);
  EXPECT_EQ(stopped.error().message, "No such container: gone");

  const auto killed = client.kill_container("idle", "SIGKILL");
  ASSERT_FALSE(killed.ok());
  EXPECT_EQ(killed.error().code, Code::Conflict);
  EXPECT_EQ(fake.requests().back().target, "/v1.41/containers/idle/kill?signal=SIGKILL");
}

TEST(DockerClientTest, AlreadyStartedStoppedOrGoneIsSuccess) {
  FakeDocker fake;
  fake.on("POST", "/v1.41/containers/a/start", FakeDocker::empty(304));
  fake.on("POST", "/v1.41/containers/a/stop", FakeDocker::empty(304));
  fake.on("DELETE", "/v1.41/containers/a", FakeDocker::error(404, "No such container: a"));
  DockerClient client(options_for(fake));

  EXPECT_TRUE(client.start_container("a").ok());
  EXPECT_TRUE(client.stop_container("a", 7).ok());
  EXPECT_TRUE(client.remove_container("a", true).ok());
  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].target, "/v1.41/containers/a/stop?t=7");
  EXPECT_EQ(requests[2].method, "DELETE");
  EXPECT_EQ(requests[2].target, "/v1.41/containers/a?force=1");
}

TEST(DockerClientTest, ListInspectsEachAndSkipsTheVanished) {
  FakeDocker fake;
  fake.on("GET", "/v1.41/containers/json",
          FakeDocker::json(200, nlohmann::json::array({{{"Id", "one"}}, {{"Id", "two"}}})));
  auto inspect = load_json("inspect_running.json");
  inspect["Id"] = "one";
  fake.on("GET", "/v1.41/containers/one/json", FakeDocker::json(200, inspect));
  fake.on("GET", "/v1.41/containers/two/json", FakeDocker::error(404, "No such container: two"));
  DockerClient client(options_for(fake));

  const auto list = client.list_containers({core::kLabelTaskId}, /*all=*/true);
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().id, "one");
  EXPECT_EQ(list->front().health, "healthy");  // what only inspect knows
  EXPECT_EQ(fake.requests().front().target,
            "/v1.41/containers/json?all=1&filters=" +
                url_encode(R"({"label":["ecs-emulator.task-id"]})"));
}

TEST(DockerClientTest, InspectNetwork) {
  FakeDocker fake;
  fake.on("GET", "/v1.41/networks/bridge", FakeDocker::json(200, nlohmann::json::parse(R"({
            "Name": "bridge", "Id": "9bc8", "Driver": "bridge", "EnableIPv6": true,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "172.17.0.0/16"},
                                                     {"Subnet": "fd00:1::/64"}]}})")));
  fake.on("GET", "/v1.41/networks/nope", FakeDocker::error(404, "network nope not found"));
  DockerClient client(fake.socket_path());

  const auto bridge = client.inspect_network("bridge");
  ASSERT_TRUE(bridge.ok()) << bridge.error().message;
  EXPECT_EQ(bridge->id, "9bc8");
  EXPECT_EQ(bridge->driver, "bridge");
  EXPECT_TRUE(bridge->ipv6);
  EXPECT_THAT(bridge->subnets, ::testing::ElementsAre("172.17.0.0/16", "fd00:1::/64"));

  const auto nope = client.inspect_network("nope");
  ASSERT_FALSE(nope.ok());
  EXPECT_EQ(nope.error().code, Code::NotFound);
  EXPECT_EQ(nope.error().message, "network nope not found");
}

TEST(DockerClientTest, ImageExists) {
  FakeDocker fake;
  fake.on("GET", "/v1.41/images/ecs-emu-test/debian:bookworm/json", FakeDocker::json(200, {}));
  fake.on("GET", "/v1.41/images/nope:1/json", FakeDocker::error(404, "No such image: nope:1"));
  DockerClient client(options_for(fake));
  EXPECT_TRUE(client.image_exists("ecs-emu-test/debian:bookworm").value());
  EXPECT_FALSE(client.image_exists("nope:1").value());
}

TEST(DockerClientTest, PullSucceedsOnACleanProgressStream) {
  FakeDocker fake;
  FakeDocker::Reply progress;
  progress.chunks = {R"({"status":"Pulling from library/busybox","id":"1.36"})"
                     "\n",
                     R"({"status":"Downloaded newer image for busybox:1.36"})"
                     "\n"};
  fake.on("POST", "/v1.41/images/create", progress);
  DockerClient client(options_for(fake));

  const auto pulled = client.pull_image("busybox:1.36");
  EXPECT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(fake.requests().front().target, "/v1.41/images/create?fromImage=busybox&tag=1.36");
}

TEST(DockerClientTest, PullFailsOnAnErrorLineDespite200) {
  FakeDocker fake;
  FakeDocker::Reply progress;
  // The error line arrives split over two chunks.
  progress.chunks = {R"({"status":"Pulling from private/app"})"
                     "\n"
                     R"({"errorDetail":{"mess)",
                     R"(age":"pull access denied"},"error":"pull access denied for private/app"})"
                     "\n"};
  fake.on("POST", "/v1.41/images/create", progress);
  DockerClient client(options_for(fake));

  const auto pulled = client.pull_image("private/app");
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.error().message, "pull access denied for private/app");
  EXPECT_EQ(fake.requests().front().target,
            "/v1.41/images/create?fromImage=private%2Fapp&tag=latest");
}

TEST(DockerClientTest, PullFailsOnAnErrorStatus) {
  FakeDocker fake;
  fake.on("POST", "/v1.41/images/create",
          FakeDocker::error(500, "Get \"https://registry-1.docker.io/v2/\": no such host"));
  DockerClient client(options_for(fake));
  const auto pulled = client.pull_image("busybox");
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.error().code, Code::Unavailable);
  EXPECT_THAT(pulled.error().message, HasSubstr("no such host"));
}

TEST(DockerClientTest, NoEngineIsUnavailableNamingTheSocket) {
  DockerClient::Options o;
  o.socket_path = "/nonexistent/ecs-emulator-test/docker.sock";
  DockerClient client(o);
  const auto v = client.version();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, Code::Unavailable);
  EXPECT_THAT(v.error().message, HasSubstr("connect /nonexistent/ecs-emulator-test/docker.sock"));
}

TEST(DockerClientTest, ASilentEngineTimesOut) {
  FakeDocker fake;
  FakeDocker::Reply silent;
  silent.stall = true;
  fake.on("GET", "/v1.41/version", silent);
  DockerClient client(options_for(fake, 200ms));

  const auto start = std::chrono::steady_clock::now();
  const auto v = client.version();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, Code::Unavailable);
  EXPECT_THAT(v.error().message, HasSubstr("timed out after 200 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(DockerClientTest, CancelAbortsTheRequestInFlightAndLaterOnes) {
  FakeDocker fake;
  FakeDocker::Reply silent;
  silent.stall = true;
  fake.on("POST", "/v1.41/containers/slow/stop", silent);
  DockerClient client(options_for(fake, 60s));

  auto stopping = std::async(std::launch::async, [&] { return client.stop_container("slow", 30); });
  ASSERT_TRUE(fake.wait_for_count("/v1.41/containers/slow/stop", 1));
  const auto start = std::chrono::steady_clock::now();
  client.cancel();
  ASSERT_EQ(stopping.wait_for(5s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  const auto stopped = stopping.get();
  ASSERT_FALSE(stopped.ok());
  EXPECT_THAT(stopped.error().message, HasSubstr("cancelled"));

  const auto later = client.version();
  ASSERT_FALSE(later.ok());
  EXPECT_THAT(later.error().message, HasSubstr("cancelled"));
}

}  // namespace
}  // namespace emu::docker
