// The fast task rows (persist::task_body, persist::task_from_body) against the general JSON
// path they stand in for: the same bytes written, the same task read, and the general parser
// taking over for whatever the fast reader does not know.
#include "emulator/core/model_json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "emulator/core/native_codec.hpp"

namespace emu::core::persist {
namespace {

using nlohmann::json;

Task plain() {
  Task t;
  t.id = "0123456789abcdef0123456789abcdef";
  t.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/" + t.id;
  t.service_id = "srv-abcdefghijklmnop";
  t.region = "us-east-1";
  t.group = "service:bench";
  t.ipv4 = "10.0.0.1";
  t.port = 80;
  t.attributes = {{"AWS_INSTANCE_IPV4", "10.0.0.1"}, {"AWS_INSTANCE_PORT", "80"}};
  t.created_at = from_epoch_millis(1796412239341);
  t.started_at = t.created_at;
  return t;
}

std::vector<Task> variants() {
  std::vector<Task> out{Task{}, plain()};
  Task t = plain();
  t.launch = Launch::Instance;
  t.source = TaskSource::Compose;
  t.ipv6 = "fd00::1";
  t.last_status = TaskStatus::Stopped;
  t.desired_status = TaskStatus::Stopped;
  t.observed = Health::Unhealthy;
  t.forced = Health::Healthy;
  t.dns_health = Health::Healthy;
  t.stop_code = "EssentialContainerExited";
  t.stopped_reason = "quote \" backslash \\ slash / tab \t newline \n cr \r bell \x07 del \x7f";
  t.exit_code = -137;
  t.stopping_at = from_epoch_millis(5);
  t.stopped_at = from_epoch_millis(-1);
  t.version = 9'000'000'000;
  t.container_id = "c0ffee";
  t.creator_request_id = "req-\x01";
  t.cluster = "";
  t.attributes["we\"ird\nkey"] = "\b\f";
  HealthCheckSpec h;
  h.type = ProbeType::Command;
  h.command = {"CMD-SHELL", "curl -f http://localhost/ || exit 1"};
  h.port = 8080;
  h.interval = Duration(1000);
  h.timeout = Duration(-2);
  h.retries = 0;
  h.start_period = Duration(2147483647);
  h.grpc_service = "grpc.health.v1";
  t.health_check = h;
  out.push_back(t);
  HealthCheckSpec empty;
  t.health_check = empty;  // no port, no command
  t.attributes.clear();
  out.push_back(t);
  t.ipv4 = "caf\xc3\xa9";  // outside ASCII: both sides take nlohmann's path
  out.push_back(t);
  return out;
}

// Equality over every persisted field (Task has no operator==: last_results is memory only).
void expect_same(const Task& a, const Task& b) { EXPECT_EQ(to_json(a).dump(), to_json(b).dump()); }

TEST(ModelJson, TaskBodyIsByteForByteTheDumpOfToJson) {
  for (const Task& t : variants()) EXPECT_EQ(task_body(t), to_json(t).dump());
}

TEST(ModelJson, TaskFromBodyReadsWhatTaskFromReads) {
  for (const Task& t : variants()) {
    const std::string body = task_body(t);
    auto fast = task_from_body(body);
    ASSERT_TRUE(fast) << fast.error().message;
    auto general = task_from(json::parse(body));
    ASSERT_TRUE(general);
    expect_same(*fast, *general);
    expect_same(*fast, t);
  }
}

TEST(ModelJson, TaskFromBodyHandsOtherTextToTheGeneralParser) {
  const json base = to_json(plain());
  const auto same_as_general = [](const std::string& body) {
    auto fast = task_from_body(body);
    auto general = task_from(json::parse(body));
    ASSERT_EQ(static_cast<bool>(fast), static_cast<bool>(general)) << body;
    if (fast) expect_same(*fast, *general);
  };
  // Spaces, another key order, unknown keys, \u escapes (also outside ASCII), other numbers.
  same_as_general(base.dump(2));
  same_as_general(
      R"({"version":3,"id":"x\u0041\u00e9","source":"compose","extra":[1,{"a":null}]})");
  same_as_general(R"({"id":"a","source":"emulator","port":8.0e1})");
  same_as_general(R"({"id":"a","source":"emulator","createdAt":-0})");
  same_as_general(R"({"id":"a","source":"emulator","healthCheck":{"type":"http","intervalMs":5}})");
  same_as_general(R"({"id":"a","source":"emulator","attributes":{"k":"v","k":"w"}})");
  // Rows from before `source` existed: the attributes that stood for it are translated.
  json old = base;
  old.erase("source");
  old["attributes"]["ECS_EMULATOR_SOURCE"] = "docker";
  old["attributes"]["ECS_EMULATOR_ON_UNHEALTHY"] = "ignore";
  auto legacy = task_from_body(old.dump());
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->source, TaskSource::Compose);
  EXPECT_EQ(legacy->attributes.count("ECS_EMULATOR_SOURCE"), 0u);
  same_as_general(old.dump());
}

TEST(ModelJson, TaskFromBodyReportsDamage) {
  EXPECT_FALSE(task_from_body(""));
  EXPECT_FALSE(task_from_body("{\"id\":\"a\""));
  EXPECT_FALSE(task_from_body(R"({"id":"a","source":"emulator"} trailing)"));
  EXPECT_FALSE(task_from_body(R"({"source":"emulator"})"));                       // no id
  EXPECT_FALSE(task_from_body(R"({"id":"a","source":"emulator","port":"80"})"));  // a string
  EXPECT_FALSE(task_from_body(R"({"id":"a","source":"emulator","exitCode":null})"));
  EXPECT_FALSE(task_from_body("[1]"));
}

}  // namespace
}  // namespace emu::core::persist
