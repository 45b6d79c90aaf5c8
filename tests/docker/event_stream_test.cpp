// EventStream: parsing Docker's event objects (captured from the real dockerd), reassembling
// lines, and the connection lifecycle against FakeDocker: events split across chunks, reconnect
// after the engine drops the stream, and a prompt stop().

#include "emulator/docker/event_stream.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "emulator/core/docker_model.hpp"
#include "tests/docker/fake_docker.hpp"

namespace emu::docker {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::FakeDocker;
using ::testing::StartsWith;

std::vector<nlohmann::json> load_events() {
  std::ifstream in(std::string(EMU_DOCKER_TESTDATA) + "/events.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// ---- parse_container_event -------------------------------------------------------------------

TEST(ParseContainerEventTest, TheRealEnginesLifecycle) {
  std::vector<std::string> seen;
  for (const auto& raw : load_events()) {
    if (const auto e = parse_container_event(raw)) {
      seen.push_back(e->action + (e->health.empty() ? "" : "=" + e->health) +
                     (e->exit_code ? "/" + std::to_string(*e->exit_code) : ""));
    }
  }
  // kill (x2) and exec_start are not the daemon's business.
  EXPECT_THAT(
      seen, ElementsAre("create", "start", "health_status=healthy", "die/137", "stop", "destroy"));
}

TEST(ParseContainerEventTest, CarriesIdLabelsNameAndImage) {
  const auto events = load_events();
  const auto e = parse_container_event(events.at(0));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "d3fef4d387c432efbd0b14d6c2eb3c85ae24b2a022b9be05b60103b4a3c8f754");
  EXPECT_EQ(e->attributes.at("name"), "ecsemu-exp-1");
  EXPECT_EQ(e->attributes.at("image"), "ecs-emu-test/debian:bookworm");
  EXPECT_EQ(e->attributes.at(core::kLabelTaskId), "t1");
  EXPECT_FALSE(e->exit_code.has_value());
}

TEST(ParseContainerEventTest, IgnoresOtherTypesExecAndGarbage) {
  const nlohmann::json ignored[] = {
      nlohmann::json::parse(R"({"Type":"network","Action":"connect","Actor":{"ID":"n1"}})"),
      nlohmann::json::parse(
          R"({"Type":"container","Action":"exec_start: /bin/sh -c true","Actor":{"ID":"c1"}})"),
      nlohmann::json::parse(R"({"Type":"container","Action":"exec_die","Actor":{"ID":"c1"}})"),
      nlohmann::json::parse(R"({"Type":"container","Action":"start","Actor":{}})"),  // no id
      nlohmann::json::parse(R"({"Type":"container","Action":"health_status","Actor":{"ID":"c"}})"),
      nlohmann::json::array(),
      nlohmann::json("start"),
  };
  for (const auto& j : ignored) EXPECT_FALSE(parse_container_event(j).has_value()) << j.dump();
}

TEST(ParseContainerEventTest, HealthSuffixesAndBadExitCodes) {
  const auto unhealthy = parse_container_event(nlohmann::json::parse(
      R"({"Type":"container","Action":"health_status: unhealthy","Actor":{"ID":"c"}})"));
  ASSERT_TRUE(unhealthy.has_value());
  EXPECT_EQ(unhealthy->action, "health_status");
  EXPECT_EQ(unhealthy->health, "unhealthy");

  const auto die = parse_container_event(nlohmann::json::parse(
      R"({"Type":"container","Action":"die","Actor":{"ID":"c","Attributes":{"exitCode":"x1"}}})"));
  ASSERT_TRUE(die.has_value());
  EXPECT_FALSE(die->exit_code.has_value());
}

// ---- LineBuffer ------------------------------------------------------------------------------

TEST(LineBufferTest, ReassemblesLinesCutAnywhere) {
  LineBuffer lines;
  EXPECT_TRUE(lines.feed(R"({"a":)").empty());  // a partial line waits
  EXPECT_EQ(lines.pending(), 5u);
  EXPECT_THAT(lines.feed("1}\n{\"b\""), ElementsAre(R"({"a":1})"));
  EXPECT_THAT(lines.feed(":2}\r\n\n{\"c\":3}\n"), ElementsAre(R"({"b":2})", R"({"c":3})"));
  EXPECT_EQ(lines.pending(), 0u);
}

// ---- EventStream against FakeDocker ----------------------------------------------------------

/// What the callbacks saw, with a wait on a condition (the callbacks run on the stream thread).
struct Recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> log;  // "connected", "disconnected: <why>", "<action> <id>"
  int connected = 0;

  EventStream::Callbacks callbacks() {
    return {
        .on_event = [this](const ContainerEvent& e) { add(e.action + " " + e.id); },
        .on_connected =
            [this] {
              std::lock_guard lock(mutex);
              ++connected;
              log.push_back("connected");
              cv.notify_all();
            },
        .on_disconnect = [this](const std::string& reason) { add("disconnected: " + reason); },
    };
  }
  void add(std::string s) {
    std::lock_guard lock(mutex);
    log.push_back(std::move(s));
    cv.notify_all();
  }
  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, pred);
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return log;
  }
};

std::string event_line(const std::string& action, const std::string& id) {
  return nlohmann::json{{"Type", "container"},
                        {"Action", action},
                        {"Actor", {{"ID", id}, {"Attributes", {{"name", id}}}}}}
             .dump() +
         "\n";
}

EventStream::Options fast_options(const std::string& socket_path) {
  return {.socket_path = socket_path, .initial_backoff = 10ms, .max_backoff = 50ms};
}

TEST(EventStreamTest, DeliversEventsSplitAcrossChunksAndSkipsTheRest) {
  FakeDocker fake;
  const std::string start = event_line("start", "c1");
  const std::string exec = event_line("exec_start: sh", "c1");
  const std::string health = event_line("health_status: healthy", "c1");
  const std::string network = R"({"Type":"network","Action":"connect","Actor":{"ID":"n1"}})"
                              "\n";
  FakeDocker::Reply stream;
  stream.hold_open = true;
  // Cut inside the first object, then inside the third.
  stream.chunks = {start.substr(0, 17), start.substr(17) + exec + health.substr(0, 30),
                   health.substr(30) + network + "not json\n" + event_line("die", "c1")};
  fake.on("GET", "/v1.41/events", stream);

  Recorder rec;
  EventStream events(fast_options(fake.socket_path()), rec.callbacks());
  events.start();
  ASSERT_TRUE(rec.wait_for([&] { return rec.log.size() >= 4; }));
  events.stop();
  EXPECT_THAT(rec.snapshot(), ElementsAre("connected", "start c1", "health_status c1", "die c1"));
  EXPECT_EQ(fake.requests().front().target,
            "/v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D");
}

TEST(EventStreamTest, ReconnectsAfterTheEngineDropsTheStream) {
  FakeDocker fake;
  FakeDocker::Reply first;
  first.chunks = {event_line("start", "c1")};
  first.hold_open = true;
  FakeDocker::Reply second;
  second.chunks = {event_line("die", "c1")};
  second.hold_open = true;
  fake.on("GET", "/v1.41/events", {first, second});

  Recorder rec;
  EventStream events(fast_options(fake.socket_path()), rec.callbacks());
  events.start();
  ASSERT_TRUE(rec.wait_for([&] { return rec.log.size() >= 2; }));
  fake.close_streams();  // the engine restarts
  ASSERT_TRUE(rec.wait_for([&] { return rec.log.size() >= 5; }));
  events.stop();
  EXPECT_THAT(rec.snapshot(),
              ElementsAre("connected", "start c1", StartsWith("disconnected: read: "), "connected",
                          "die c1"));
}

TEST(EventStreamTest, RetriesUntilTheEngineAnswers200) {
  FakeDocker fake;
  FakeDocker::Reply live;
  live.hold_open = true;
  fake.on("GET", "/v1.41/events",
          {FakeDocker::error(500, "starting"), FakeDocker::error(500, "starting"), live});

  Recorder rec;
  EventStream events(fast_options(fake.socket_path()), rec.callbacks());
  events.start();
  ASSERT_TRUE(rec.wait_for([&] { return rec.connected == 1; }));
  events.stop();
  // Failed attempts are not disconnections: there was nothing to lose yet.
  EXPECT_THAT(rec.snapshot(), ElementsAre("connected"));
  EXPECT_EQ(fake.requests().size(), 3u);
}

TEST(EventStreamTest, StopReturnsPromptlyWhileStreaming) {
  FakeDocker fake;
  FakeDocker::Reply live;
  live.hold_open = true;
  fake.on("GET", "/v1.41/events", live);

  Recorder rec;
  EventStream events(fast_options(fake.socket_path()), rec.callbacks());
  events.start();
  ASSERT_TRUE(rec.wait_for([&] { return rec.connected == 1; }));
  const auto start = std::chrono::steady_clock::now();
  events.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  events.stop();  // idempotent
}

TEST(EventStreamTest, StopReturnsPromptlyDuringTheBackoff) {
  FakeDocker fake;
  fake.on("GET", "/v1.41/events", FakeDocker::error(500, "starting"));
  auto o = fast_options(fake.socket_path());
  o.initial_backoff = 30s;  // the retry would wait that long
  Recorder rec;
  EventStream events(o, rec.callbacks());
  events.start();
  // The stream closes its side after the 500, then waits 30 s before it tries again.
  ASSERT_TRUE(fake.wait_for_client_closes(1));
  const auto start = std::chrono::steady_clock::now();
  events.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_TRUE(rec.snapshot().empty());
  EXPECT_EQ(fake.requests().size(), 1u);
}

}  // namespace
}  // namespace emu::docker
