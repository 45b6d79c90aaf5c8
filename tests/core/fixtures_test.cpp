#include "emulator/core/fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "emulator/core/memory_store.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core {
namespace {

struct Env {
  test::SimTime sim;
  MemoryStore store;
  Registry registry{sim.clock, sim.timers, store, RegistryConfig{}, 7};
};

TEST(FixturesTest, TheGameServerFixtureGivesThreeRecords) {
  auto sets = load_fixtures(std::string(EMU_SOURCE_DIR) + "/fixtures/game-server.json");
  ASSERT_TRUE(sets.ok()) << sets.error().message;
  ASSERT_EQ(sets->size(), 1u);
  Env env;
  ASSERT_TRUE(apply_fixture((*sets)[0], env.registry).ok());
  TaskFilter f;
  f.service_dns_name = "game-server.local";
  std::vector<std::string> ips;
  for (const Task* t : env.registry.tasks(f)) ips.push_back(t->ipv4);
  EXPECT_THAT(ips, ::testing::UnorderedElementsAre("10.0.0.1", "10.0.0.2", "10.0.0.3"));
  const Service* s = env.registry.service_by_dns_name("game-server.local");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ttl, 10u);
  EXPECT_TRUE(s->records.srv);
  EXPECT_FALSE(s->health_check.has_value());  // addresses are data only: no probes
}

TEST(FixturesTest, ApplyingTwiceChangesNothing) {
  auto sets = load_fixtures(std::string(EMU_SOURCE_DIR) + "/fixtures/game-server.json");
  ASSERT_TRUE(sets.ok());
  Env env;
  ASSERT_TRUE(apply_fixture((*sets)[0], env.registry).ok());
  const auto index = env.registry.events().last_index();
  const auto commits = env.store.commits();
  ASSERT_TRUE(apply_fixture((*sets)[0], env.registry).ok());
  EXPECT_EQ(env.registry.tasks().size(), 3u);
  EXPECT_EQ(env.registry.events().last_index(), index);
  EXPECT_EQ(env.store.commits(), commits);
}

struct BadFixture {
  const char* doc;
  const char* error;  // expected full message after "x.json: "
};

class BadFixtureTest : public ::testing::TestWithParam<BadFixture> {};

TEST_P(BadFixtureTest, NamesFilePathAndReason) {
  auto r = parse_fixture(nlohmann::json::parse(GetParam().doc), "fixtures/x.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, std::string("fixtures/x.json: ") + GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadFixtureTest,
    ::testing::Values(
        BadFixture{
            R"({"services": [{"name": "a"}, {"name": "b", "healthCheck": {"type": "http", "retries": 11}}]})",
            "services[1].healthCheck.retries: must be 1..10"},
        BadFixture{R"({"services": [{"name": "a", "tasks": [{"ip": "10.0.0.x"}]}]})",
                   "services[0].tasks[0].ip: not an IPv4 or IPv6 address: \"10.0.0.x\""},
        BadFixture{R"({"services": [{"ttl": 5}]})",
                   "services[0].name: required (a DNS label such as \"game-server\")"},
        BadFixture{R"({"namespaces": [{"name": "bad name"}]})",
                   "namespaces[0].name: invalid character ' ' in DNS label (allowed: a-z 0-9 - _)"},
        BadFixture{
            R"({"servcies": []})",
            "servcies: unknown field (known: namespaces, services, taskDefinitions, ecsServices)"},
        BadFixture{
            R"({"services": [{"name": "a", "records": ["SRV"], "tasks": [{"ip": "10.0.0.1"}]}]})",
            "services[0].tasks[0].port: required (1..65535) because the service publishes SRV "
            "records"}));

TEST(FixturesTest, MissingFileIsAnError) {
  auto r = load_fixtures("/nonexistent/fixtures.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/fixtures.json"), std::string::npos);
}

}  // namespace
}  // namespace emu::core
