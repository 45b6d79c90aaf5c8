#include "emulator/core/compose_discovery.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "emulator/core/endpoint_policy.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/model_json.hpp"
#include "emulator/core/zone_snapshot.hpp"
#include "tests/support/dns_answers.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
constexpr auto npos = std::string::npos;

/// A 64-hex container id whose first 32 hex (the task id) differ with n.
std::string cid(unsigned n) {
  char head[9];
  std::snprintf(head, sizeof head, "%08x", n);
  return std::string(head) + std::string(56, 'e');
}

/// A running compose replica on network "app", labelled for `service`.
ObservedContainer replica(unsigned n, const std::string& service, const std::string& ip,
                          const std::string& health = "") {
  ObservedContainer c;
  c.id = cid(n);
  c.name = "demo-game-server-" + std::to_string(n);
  c.image = "demo/game-server:1";
  c.labels = {{kLabelService, service}, {kLabelComposeService, "game-server"}};
  c.state = "running";
  c.health = health;
  c.networks = {{"app", ip}};
  return c;
}

/// Discovery over a registry over a MemoryStore, in simulated time.
struct Fixture {
  test::SimTime sim;
  MemoryStore store;
  Registry registry;
  EndpointPolicy policy;  // stops the service's own endpoints, never discovered ones
  ComposeDiscovery discovery;

  explicit Fixture(RegistryConfig config = {}, ComposeConfig compose = {})
      : registry(sim.clock, sim.timers, store, std::move(config), 42),
        policy(registry),
        discovery(registry, std::move(compose)) {}

  /// The task of a container (null if none).
  const Task* task(unsigned n) const { return registry.task(cid(n).substr(0, 32)); }
  /// The A records DNS would answer now for `name`, unhealthy ones marked (from the snapshot).
  std::vector<std::string> dns_a(const std::string& name) {
    return test::a_records(*registry.zones().load(), name);
  }
  std::uint64_t last_event() const { return registry.events().last_index(); }
  std::vector<Event> events_after(std::uint64_t index) const {
    return registry.events().after(index);
  }
};

// --------------------------------------------------------------------------- labels

struct LabelCase {
  const char* what;
  std::map<std::string, std::string> labels;
  bool ok;
  std::string service;  ///< registered under, when ok and wanted ("" = not registered)
  std::uint16_t port;
  std::vector<std::string> error;  ///< substrings of the error
};

class LabelTest : public ::testing::TestWithParam<LabelCase> {};

TEST_P(LabelTest, ParsesTheServiceAndPortLabels) {
  const LabelCase& tc = GetParam();
  Fixture f;
  ObservedContainer c = replica(1, "", "172.20.0.2");
  c.labels = tc.labels;
  const auto r = f.discovery.observe(c);
  ASSERT_EQ(r.ok(), tc.ok) << (r.ok() ? "" : r.error().message);
  if (!tc.ok) {
    EXPECT_EQ(r.error().code, Code::InvalidArgument);
    for (const auto& part : tc.error) EXPECT_THAT(r.error().message, HasSubstr(part));
    EXPECT_EQ(f.task(1), nullptr);  // skipped, not half-registered
    return;
  }
  if (tc.service.empty()) {
    EXPECT_EQ(f.task(1), nullptr);
    EXPECT_THAT(f.registry.services(), IsEmpty());
    return;
  }
  const Task* t = f.task(1);
  ASSERT_NE(t, nullptr);
  const Service* s = f.registry.service_by_id(t->service_id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(f.registry.dns_name(*s), tc.service);
  EXPECT_EQ(t->port, tc.port);
}

const LabelCase kLabelCases[] = {
    {"short name = default namespace",
     {{kLabelService, "game-server"}},
     true,
     "game-server.local",
     0,
     {}},
    {"full name", {{kLabelService, "game-server.local"}}, true, "game-server.local", 0, {}},
    {"case and trailing dot",
     {{kLabelService, "Game-Server.Local."}},
     true,
     "game-server.local",
     0,
     {}},
    {"other namespace", {{kLabelService, "web.demo.local"}}, true, "web.demo.local", 0, {}},
    {"port",
     {{kLabelService, "game-server"}, {kLabelPort, "50051"}},
     true,
     "game-server.local",
     50051,
     {}},
    {"highest port",
     {{kLabelService, "game-server"}, {kLabelPort, "65535"}},
     true,
     "game-server.local",
     65535,
     {}},
    {"no label: not ours", {{"com.docker.compose.service", "db"}}, true, "", 0, {}},
    {"an ECS engine container is a task already",
     {{kLabelService, "game-server"}, {kLabelTaskId, "0123456789abcdef0123456789abcdef"}},
     true,
     "",
     0,
     {}},
    {"space in the name",
     {{kLabelService, "game server"}},
     false,
     "",
     0,
     {"container demo-game-server-1", "label ecs-emulator.service=\"game server\"",
      "invalid character ' '"}},
    {"empty name", {{kLabelService, ""}}, false, "", 0, {"ecs-emulator.service", "empty"}},
    {"leading hyphen",
     {{kLabelService, "-game"}},
     false,
     "",
     0,
     {"ecs-emulator.service", "cannot start or end with '-'"}},
    {"label too long",
     {{kLabelService, std::string(64, 'a')}},
     false,
     "",
     0,
     {"ecs-emulator.service", "longer than 63"}},
    {"port 0",
     {{kLabelService, "g"}, {kLabelPort, "0"}},
     false,
     "",
     0,
     {"container demo-game-server-1", "label ecs-emulator.port=\"0\"", "1..65535"}},
    {"port too big",
     {{kLabelService, "g"}, {kLabelPort, "65536"}},
     false,
     "",
     0,
     {"ecs-emulator.port=\"65536\""}},
    {"port not a number",
     {{kLabelService, "g"}, {kLabelPort, "grpc"}},
     false,
     "",
     0,
     {"ecs-emulator.port=\"grpc\""}},
    {"negative port",
     {{kLabelService, "g"}, {kLabelPort, "-1"}},
     false,
     "",
     0,
     {"ecs-emulator.port"}},
    {"empty port", {{kLabelService, "g"}, {kLabelPort, ""}}, false, "", 0, {"ecs-emulator.port"}},
    {"six digits",
     {{kLabelService, "g"}, {kLabelPort, "000080"}},
     false,
     "",
     0,
     {"ecs-emulator.port"}},
};
INSTANTIATE_TEST_SUITE_P(ComposeDiscovery, LabelTest, ::testing::ValuesIn(kLabelCases),
                         [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(ComposeDiscoveryTest, WantsOnlyLabelledContainersThatAreNotEcsTasks) {
  ObservedContainer c = replica(1, "game-server", "172.20.0.2");
  EXPECT_TRUE(ComposeDiscovery::wants(c));
  c.labels.erase(kLabelService);
  EXPECT_FALSE(ComposeDiscovery::wants(c));
  c = replica(1, "game-server", "172.20.0.2");
  c.labels[kLabelTaskId] = "0123456789abcdef0123456789abcdef";
  EXPECT_FALSE(ComposeDiscovery::wants(c));
}

TEST(ComposeDiscoveryTest, ABadContainerIdIsAnErrorNotACrash) {
  Fixture f;
  ObservedContainer c = replica(1, "game-server", "172.20.0.2");
  c.id = "not-hex-and-too-short";
  const auto r = f.discovery.observe(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("not a Docker container id"));
  EXPECT_FALSE(f.discovery.gone("xyz", 0).ok());
}

// --------------------------------------------------------------------------- registration

TEST(ComposeDiscoveryTest, ThreeReplicasAreThreeTasksInDnsWithTheirIpsAndPort) {
  Fixture f;
  for (unsigned n = 1; n <= 3; ++n) {
    ObservedContainer c = replica(n, "game-server.local", "172.20.0." + std::to_string(n + 1));
    c.labels[kLabelPort] = "50051";
    ASSERT_TRUE(f.discovery.observe(c).ok());
  }
  EXPECT_THAT(f.dns_a("game-server.local"),
              UnorderedElementsAre("172.20.0.2", "172.20.0.3", "172.20.0.4"));
  const auto tasks = f.registry.tasks({.service_dns_name = "game-server.local"});
  ASSERT_EQ(tasks.size(), 3u);
  for (const Task* t : tasks) {
    EXPECT_TRUE(t->registered());
    EXPECT_EQ(t->port, 50051);
    EXPECT_EQ(t->attributes.at("AWS_INSTANCE_PORT"), "50051");
  }
  // the service is ours: created to withdraw, not stop, its unhealthy tasks
  const Service* s = f.registry.service_by_dns_name("game-server.local");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->on_unhealthy, OnUnhealthy::Withdraw);
}

TEST(ComposeDiscoveryTest, TheTaskIsNamedAfterTheContainerAndMarkedAsDiscovered) {
  Fixture f;
  const ObservedContainer c = replica(7, "game-server", "172.20.0.8", "healthy");
  ASSERT_TRUE(f.discovery.observe(c).ok());
  const Task* t = f.task(7);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->id, c.id.substr(0, 32));  // a resync or a restart finds the same task
  EXPECT_EQ(t->container_id, c.id);
  EXPECT_EQ(t->launch, Launch::External);
  EXPECT_EQ(t->last_status, TaskStatus::Running);
  EXPECT_EQ(t->health(), Health::Healthy);
  EXPECT_EQ(t->ipv4, "172.20.0.8");
  EXPECT_TRUE(ComposeDiscovery::discovered(*t));
  EXPECT_EQ(t->source, TaskSource::Compose);
  // Facts of ours are typed fields, not attributes that DiscoverInstances would show.
  for (const auto& [key, value] : t->attributes) EXPECT_EQ(key.rfind("ECS_EMULATOR_", 0), npos);
  EXPECT_EQ(t->attributes.at(kAttrContainerName), "demo-game-server-7");
  EXPECT_EQ(t->attributes.at(kAttrImage), "demo/game-server:1");
  EXPECT_EQ(t->attributes.at(kAttrComposeService), "game-server");
  EXPECT_EQ(t->attributes.at("AWS_INSTANCE_IPV4"), "172.20.0.8");
  // Docker's healthcheck drives it: the emulator does not probe it too
  ASSERT_TRUE(t->health_check.has_value());
  EXPECT_EQ(t->health_check->type, ProbeType::None);
}

TEST(ComposeDiscoveryTest, WithoutComposeLabelThereIsNoComposeServiceAttribute) {
  Fixture f;
  ObservedContainer c = replica(1, "game-server", "172.20.0.2");
  c.labels.erase(kLabelComposeService);
  ASSERT_TRUE(f.discovery.observe(c).ok());
  EXPECT_FALSE(f.task(1)->attributes.contains(kAttrComposeService));
}

TEST(ComposeDiscoveryTest, HealthStartsFromDocker) {
  struct Case {
    std::string docker;
    Health health;
    std::vector<std::string> dns;
  };
  const Case cases[] = {
      {"", Health::Unknown, {"172.20.0.2"}},          // no healthcheck
      {"starting", Health::Unknown, {"172.20.0.2"}},  // UNKNOWN counts as healthy
      {"healthy", Health::Healthy, {"172.20.0.2"}},
      {"unhealthy", Health::Unhealthy, {"172.20.0.2 unhealthy"}},  // withdrawn (fail-open)
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE("docker health \"" + tc.docker + "\"");
    Fixture f;
    ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", tc.docker)).ok());
    EXPECT_EQ(f.task(1)->health(), tc.health);
    EXPECT_EQ(f.task(1)->last_status, TaskStatus::Running);
    EXPECT_EQ(f.dns_a("game-server.local"), tc.dns);
  }
}

// --------------------------------------------------------------------------- health

TEST(ComposeDiscoveryTest, UnhealthyLeavesDnsAndHealthyComesBack) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "healthy")).ok());
  ASSERT_TRUE(f.discovery.observe(replica(2, "game-server", "172.20.0.3", "healthy")).ok());
  const auto before = f.last_event();
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "unhealthy")).ok());
  const Task* t = f.task(1);
  EXPECT_EQ(t->last_status, TaskStatus::Running);  // withdrawn, not stopped
  EXPECT_TRUE(t->registered());
  EXPECT_EQ(t->dns_health, Health::Unhealthy);
  EXPECT_EQ(t->health_reason, "docker health check: unhealthy");
  EXPECT_THAT(f.dns_a("game-server.local"),
              UnorderedElementsAre("172.20.0.2 unhealthy", "172.20.0.3"));
  const auto events = f.events_after(before);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), "TaskHealthChanged");
  EXPECT_THAT(events[0].message(), HasSubstr("A 172.20.0.2 removed from game-server.local."));
  // healthy again: back in DNS
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "healthy")).ok());
  EXPECT_EQ(f.task(1)->dns_health, Health::Healthy);
  EXPECT_THAT(f.dns_a("game-server.local"), UnorderedElementsAre("172.20.0.2", "172.20.0.3"));
}

TEST(ComposeDiscoveryTest, AnExistingServiceKeepsItsSettingsButTheContainerIsOnlyWithdrawn) {
  Fixture f;
  // a fixture defined the service: stop unhealthy tasks, TTL 30, A and SRV
  ServiceSpec spec;
  spec.on_unhealthy = OnUnhealthy::Stop;
  spec.ttl = 30;
  spec.records = RecordTypes{.a = true, .aaaa = false, .srv = true};
  ASSERT_TRUE(f.registry.put_service("game-server.local", spec).ok());
  TaskSpec api;
  api.ipv4 = "10.0.0.1";
  api.port = 50051;
  auto own = f.registry.register_task("game-server.local", api);
  ASSERT_TRUE(own.ok());

  ObservedContainer c = replica(1, "game-server", "172.20.0.2", "healthy");
  c.labels[kLabelPort] = "50051";
  ASSERT_TRUE(f.discovery.observe(c).ok());
  const Service* s = f.registry.service_by_dns_name("game-server.local");
  EXPECT_EQ(s->on_unhealthy, OnUnhealthy::Stop);
  EXPECT_EQ(s->ttl, 30u);
  EXPECT_TRUE(s->records.srv);

  c.health = "unhealthy";
  ASSERT_TRUE(f.discovery.observe(c).ok());
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Running);  // the container is not ours to stop
  EXPECT_EQ(f.task(1)->dns_health, Health::Unhealthy);
  EXPECT_THAT(f.dns_a("game-server.local"),
              UnorderedElementsAre("10.0.0.1", "172.20.0.2 unhealthy"));
  // the service's own policy still applies to its other tasks
  ASSERT_TRUE(f.registry.set_health(own->id, Health::Unhealthy, "3 failed probes").ok());
  EXPECT_EQ(f.registry.task(own->id)->last_status, TaskStatus::Stopped);
}

TEST(ComposeDiscoveryTest, WithoutADockerHealthcheckTheServiceProbeDecides) {
  Fixture f;
  ServiceSpec spec;
  HealthCheckSpec grpc;
  grpc.type = ProbeType::Grpc;
  spec.health_check = std::optional<HealthCheckSpec>(grpc);
  ASSERT_TRUE(f.registry.put_service("game-server.local", spec).ok());
  const ObservedContainer c = replica(1, "game-server", "172.20.0.2");  // no healthcheck
  ASSERT_TRUE(f.discovery.observe(c).ok());
  ASSERT_TRUE(f.task(1)->health_check.has_value());
  EXPECT_EQ(f.task(1)->health_check->type, ProbeType::Grpc);  // the emulator probes it
  // what a probe found is not reset by the next look at the container
  ASSERT_TRUE(f.registry.set_health(f.task(1)->id, Health::Healthy, "grpc: SERVING").ok());
  const auto before = f.last_event();
  ASSERT_TRUE(f.discovery.observe(c).ok());
  EXPECT_EQ(f.task(1)->health(), Health::Healthy);
  EXPECT_EQ(f.last_event(), before);
}

TEST(ComposeDiscoveryTest, HealthPropagationDelayApplies) {
  RegistryConfig config;
  config.health_propagation_delay = 30s;
  Fixture f(config);
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "healthy")).ok());
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "unhealthy")).ok());
  EXPECT_EQ(f.task(1)->health(), Health::Unhealthy);                     // the task knows at once
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.2"));  // DNS does not, yet
  f.sim.advance(29s);
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.2"));
  f.sim.advance(1s);
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.2 unhealthy"));
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Running);
}

// --------------------------------------------------------------------------- deregistration

TEST(ComposeDiscoveryTest, GoneContainersLeaveDnsAndStayListedAsStopped) {
  struct Case {
    std::optional<int> exit_code;
    std::string reason;
  };
  const Case cases[] = {{137, "container exited with code 137"},
                        {0, "container exited with code 0"},
                        {std::nullopt, "container removed"}};
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.reason);
    Fixture f;
    ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2")).ok());
    ASSERT_TRUE(f.discovery.observe(replica(2, "game-server", "172.20.0.3")).ok());
    ASSERT_TRUE(f.discovery.gone(cid(1), tc.exit_code).ok());
    EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.3"));
    const Task* t = f.task(1);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->last_status, TaskStatus::Stopped);
    EXPECT_FALSE(t->registered());
    EXPECT_EQ(t->stop_code, "EssentialContainerExited");
    EXPECT_EQ(t->stopped_reason, tc.reason);
    EXPECT_EQ(f.registry.tasks({.service_dns_name = "game-server.local"}).size(), 2u);
    // die, stop and destroy all arrive: only the first one changes anything
    const auto before = f.last_event();
    ASSERT_TRUE(f.discovery.gone(cid(1), std::nullopt).ok());
    EXPECT_EQ(f.last_event(), before);
    EXPECT_EQ(f.task(1)->stopped_reason, tc.reason);
  }
}

TEST(ComposeDiscoveryTest, GoneOfAnUnknownContainerIsANoOp) {
  Fixture f;
  ASSERT_TRUE(f.discovery.gone(cid(9), 1).ok());
  EXPECT_EQ(f.last_event(), 0u);
}

TEST(ComposeDiscoveryTest, AContainerThatNoLongerRunsIsDeregistered) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2")).ok());
  ObservedContainer c = replica(1, "game-server", "172.20.0.2");
  c.state = "exited";
  c.exit_code = 2;
  c.networks = {{"app", ""}};  // Docker drops the address of an exited container
  ASSERT_TRUE(f.discovery.observe(c).ok());
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(f.task(1)->stopped_reason, "container exited with code 2");
  EXPECT_THAT(f.dns_a("game-server.local"), IsEmpty());
  // a paused container does not answer either
  ASSERT_TRUE(f.discovery.observe(replica(2, "game-server", "172.20.0.3")).ok());
  ObservedContainer paused = replica(2, "game-server", "172.20.0.3");
  paused.state = "paused";
  ASSERT_TRUE(f.discovery.observe(paused).ok());
  EXPECT_EQ(f.task(2)->stopped_reason, "container paused");
}

TEST(ComposeDiscoveryTest, ARestartedContainerIsRegisteredAgain) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "healthy")).ok());
  ASSERT_TRUE(f.discovery.gone(cid(1), 143).ok());
  f.sim.advance(5s);
  // docker restart: same id, maybe another address, health starting over
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.9", "starting")).ok());
  const Task* t = f.task(1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->last_status, TaskStatus::Running);
  EXPECT_TRUE(t->registered());
  EXPECT_EQ(t->health(), Health::Unknown);
  EXPECT_TRUE(t->stop_code.empty());
  EXPECT_EQ(t->ipv4, "172.20.0.9");
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.9"));
  EXPECT_EQ(f.registry.tasks().size(), 1u);  // the STOPPED one made room
}

// --------------------------------------------------------------------------- updates

TEST(ComposeDiscoveryTest, ReObservingAnUnchangedContainerDoesNothing) {
  Fixture f;
  ObservedContainer c = replica(1, "game-server", "172.20.0.2", "healthy");
  c.labels[kLabelPort] = "50051";
  ASSERT_TRUE(f.discovery.observe(c).ok());
  const auto events = f.last_event();
  const auto commits = f.store.commits();
  const auto generation = f.registry.zones().generation();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.discovery.observe(c).ok());
  ASSERT_TRUE(f.discovery.resync({c}).ok());
  EXPECT_EQ(f.last_event(), events);                       // no event
  EXPECT_EQ(f.store.commits(), commits);                   // no commit
  EXPECT_EQ(f.registry.zones().generation(), generation);  // no new snapshot
}

TEST(ComposeDiscoveryTest, AnAddressChangeUpdatesTheTask) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2")).ok());
  const auto before = f.last_event();
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.7")).ok());
  const Task* t = f.task(1);
  EXPECT_EQ(t->ipv4, "172.20.0.7");
  EXPECT_EQ(t->attributes.at("AWS_INSTANCE_IPV4"), "172.20.0.7");
  EXPECT_EQ(t->last_status, TaskStatus::Running);
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.7"));
  const auto events = f.events_after(before);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), "TaskUpdated");
  EXPECT_THAT(events[0].message(), HasSubstr("172.20.0.2 -> 172.20.0.7"));
}

TEST(ComposeDiscoveryTest, ATaskThatWasNotDiscoveredIsLeftAlone) {
  Fixture f;
  TaskSpec api;
  api.id = cid(1).substr(0, 32);  // the same id, registered through the API
  api.ipv4 = "10.0.0.1";
  ASSERT_TRUE(f.registry.register_task("game-server.local", api).ok());
  const auto r = f.discovery.observe(replica(1, "game-server", "172.20.0.2"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Conflict);
  EXPECT_EQ(f.task(1)->ipv4, "10.0.0.1");
  ASSERT_TRUE(f.discovery.gone(cid(1), 1).ok());
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Running);
}

// --------------------------------------------------------------------------- addresses

struct NetworkCase {
  const char* what;
  std::string preferred;
  std::map<std::string, std::string> v4;
  std::map<std::string, std::string> v6;
  std::string ipv4;
  std::string ipv6;
};

class NetworkTest : public ::testing::TestWithParam<NetworkCase> {};

TEST_P(NetworkTest, PicksTheAddress) {
  const NetworkCase& tc = GetParam();
  Fixture f({}, ComposeConfig{.network = tc.preferred});
  ObservedContainer c = replica(1, "game-server", "");
  c.networks = tc.v4;
  c.networks6 = tc.v6;
  ASSERT_TRUE(f.discovery.observe(c).ok());
  EXPECT_EQ(f.task(1)->ipv4, tc.ipv4);
  EXPECT_EQ(f.task(1)->ipv6, tc.ipv6);
}

const NetworkCase kNetworkCases[] = {
    {"preferred network",
     "front",
     {{"back", "10.1.0.2"}, {"front", "10.2.0.2"}},
     {},
     "10.2.0.2",
     ""},
    {"any: first by name", "", {{"zeta", "10.9.0.2"}, {"alpha", "10.1.0.2"}}, {}, "10.1.0.2", ""},
    {"preferred absent: first by name",
     "other",
     {{"zeta", "10.9.0.2"}, {"beta", "10.2.0.2"}},
     {},
     "10.2.0.2",
     ""},
    {"preferred without address",
     "front",
     {{"front", ""}, {"zeta", "10.9.0.2"}},
     {},
     "10.9.0.2",
     ""},
    {"IPv6 on the preferred network",
     "front",
     {{"back", "10.1.0.2"}, {"front", "10.2.0.2"}},
     {{"back", "fd00:1::2"}, {"front", "fd00:2::2"}},
     "10.2.0.2",
     "fd00:2::2"},
    {"IPv6 follows the IPv4's network",
     "",
     {{"alpha", ""}, {"beta", "10.2.0.2"}},
     {{"alpha", "fd00:1::2"}, {"beta", "fd00:2::2"}},
     "10.2.0.2",
     "fd00:2::2"},
    {"IPv6 only", "", {{"v6net", ""}}, {{"v6net", "fd00:6::2"}}, "", "fd00:6::2"},
};
INSTANTIATE_TEST_SUITE_P(ComposeDiscovery, NetworkTest, ::testing::ValuesIn(kNetworkCases),
                         [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(ComposeDiscoveryTest, NoAddressIsNotRegistered) {
  Fixture f;
  ObservedContainer c = replica(1, "game-server", "");
  c.networks = {{"host", ""}};  // network_mode: host
  const auto r = f.discovery.observe(c);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("container demo-game-server-1"));
  EXPECT_THAT(r.error().message, HasSubstr("no IP address"));
  EXPECT_EQ(f.task(1), nullptr);
}

TEST(ComposeDiscoveryTest, AContainerThatLosesItsAddressLeavesDns) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2")).ok());
  ObservedContainer c = replica(1, "game-server", "");
  c.networks.clear();  // docker network disconnect
  EXPECT_FALSE(f.discovery.observe(c).ok());
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(f.task(1)->stop_code, "ServiceSchedulerInitiated");
  EXPECT_THAT(f.task(1)->stopped_reason, HasSubstr("no IP address"));
  EXPECT_THAT(f.dns_a("game-server.local"), IsEmpty());
}

// --------------------------------------------------------------------------- resync

TEST(ComposeDiscoveryTest, ResyncAddsRemovesAndUpdates) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2")).ok());
  ASSERT_TRUE(f.discovery.observe(replica(2, "game-server", "172.20.0.3")).ok());
  ASSERT_TRUE(f.discovery.observe(replica(3, "game-server", "172.20.0.4", "healthy")).ok());
  // tasks the API and a fixture registered, in the same service and in another one
  TaskSpec api;
  api.ipv4 = "10.0.0.1";
  auto own = f.registry.register_task("game-server.local", api);
  ASSERT_TRUE(own.ok());
  auto other = f.registry.register_task("web.local", api);
  ASSERT_TRUE(other.ok());

  // while the event stream was down: 1 went away, 2 exited, 3 turned unhealthy, 4 and 5 started
  ObservedContainer exited = replica(2, "game-server", "");
  exited.state = "exited";
  exited.exit_code = 1;
  const auto r = f.discovery.resync({exited, replica(3, "game-server", "172.20.0.4", "unhealthy"),
                                     replica(4, "game-server", "172.20.0.5"),
                                     replica(5, "game-server.local", "172.20.0.6")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(f.task(1)->stopped_reason, "container removed");
  EXPECT_EQ(f.task(2)->last_status, TaskStatus::Stopped);
  EXPECT_EQ(f.task(2)->stopped_reason, "container exited with code 1");
  EXPECT_EQ(f.task(3)->dns_health, Health::Unhealthy);
  EXPECT_TRUE(f.task(4)->registered());
  EXPECT_TRUE(f.task(5)->registered());
  EXPECT_THAT(f.dns_a("game-server.local"),
              UnorderedElementsAre("10.0.0.1", "172.20.0.4 unhealthy", "172.20.0.5", "172.20.0.6"));
  // never the tasks it did not discover
  EXPECT_EQ(f.registry.task(own->id)->last_status, TaskStatus::Running);
  EXPECT_EQ(f.registry.task(other->id)->last_status, TaskStatus::Running);

  // an empty list (compose down while disconnected) deregisters every discovered task, only them
  ASSERT_TRUE(f.discovery.resync({}).ok());
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("10.0.0.1"));
  EXPECT_THAT(f.dns_a("web.local"), ElementsAre("10.0.0.1"));
}

TEST(ComposeDiscoveryTest, ResyncSkipsBadContainersAndNamesThem) {
  Fixture f;
  ObservedContainer bad_port = replica(2, "game-server", "172.20.0.3");
  bad_port.labels[kLabelPort] = "http";
  ObservedContainer bad_name = replica(3, "game server", "172.20.0.4");
  const auto r = f.discovery.resync({replica(1, "game-server", "172.20.0.2"), bad_port, bad_name,
                                     replica(4, "game-server", "172.20.0.5")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("2 containers skipped"));
  EXPECT_THAT(r.error().message, HasSubstr("demo-game-server-2: label ecs-emulator.port"));
  EXPECT_THAT(r.error().message, HasSubstr("demo-game-server-3: label ecs-emulator.service"));
  EXPECT_THAT(f.dns_a("game-server.local"), UnorderedElementsAre("172.20.0.2", "172.20.0.5"));
}

TEST(ComposeDiscoveryTest, ResyncReusingAVanishedContainersAddressWorks) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2")).ok());
  // compose down + up while disconnected: a new container got the same address
  ASSERT_TRUE(f.discovery.resync({replica(2, "game-server", "172.20.0.2")}).ok());
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Stopped);
  EXPECT_TRUE(f.task(2)->registered());
  EXPECT_THAT(f.dns_a("game-server.local"), ElementsAre("172.20.0.2"));
}

TEST(ComposeDiscoveryTest, DiscoveredTasksSurviveADaemonRestart) {
  Fixture f;
  ASSERT_TRUE(f.discovery.observe(replica(1, "game-server", "172.20.0.2", "healthy")).ok());
  // a new registry over the same store, as after a restart; the first resync finds the task
  Registry reopened(f.sim.clock, f.sim.timers, f.store, {}, 7);
  ASSERT_TRUE(reopened.load().ok());
  ComposeDiscovery discovery(reopened, {});
  const auto before = reopened.events().last_index();
  const auto commits = f.store.commits();
  ASSERT_TRUE(discovery.resync({replica(1, "game-server", "172.20.0.2", "healthy")}).ok());
  EXPECT_EQ(reopened.events().last_index(), before);
  EXPECT_EQ(f.store.commits(), commits);
  // and still withdraws it, not stops it, when it turns unhealthy
  ASSERT_TRUE(discovery.observe(replica(1, "game-server", "172.20.0.2", "unhealthy")).ok());
  EXPECT_EQ(reopened.task(cid(1).substr(0, 32))->last_status, TaskStatus::Running);
}

// --------------------------------------------------------------------------- registry additions

TEST(RegistryTaskOnUnhealthyTest, InternalAttributesACallerSetsMeanNothing) {
  // The policy is the service's; discovery is Task::source. Attributes are only attributes.
  Fixture f;
  ServiceSpec withdraw;
  withdraw.on_unhealthy = OnUnhealthy::Withdraw;
  ASSERT_TRUE(f.registry.put_service("stops.local", ServiceSpec{}).ok());
  ASSERT_TRUE(f.registry.put_service("withdraws.local", withdraw).ok());
  struct Case {
    std::string service;
    std::map<std::string, std::string> attributes;
    TaskStatus after;
  };
  const Case cases[] = {
      {"stops.local", {}, TaskStatus::Stopped},
      {"stops.local", {{"ECS_EMULATOR_ON_UNHEALTHY", "withdraw"}}, TaskStatus::Stopped},
      {"stops.local", {{"ECS_EMULATOR_SOURCE", "docker"}}, TaskStatus::Stopped},
      {"withdraws.local", {}, TaskStatus::Running},
      {"withdraws.local", {{"ECS_EMULATOR_ON_UNHEALTHY", "stop"}}, TaskStatus::Running},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.service + " / " + (tc.attributes.empty() ? "" : tc.attributes.begin()->first));
    TaskSpec spec;
    spec.ipv4 = "10.0.0.1";
    spec.attributes = tc.attributes;
    auto r = f.registry.register_task(tc.service, spec);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(ComposeDiscovery::discovered(*r));
    ASSERT_TRUE(f.registry.set_health(r->id, Health::Unhealthy, "probe failed").ok());
    EXPECT_EQ(f.registry.task(r->id)->last_status, tc.after);
    ASSERT_TRUE(f.registry.erase_task(r->id).ok());  // make room for the next case's address
  }
}

TEST(RegistryTaskOnUnhealthyTest, ACallerCannotMakeATaskLookDiscovered) {
  Fixture f;
  TaskSpec spec;
  spec.id = cid(1).substr(0, 32);  // the id discovery would give the container
  spec.ipv4 = "172.20.0.2";
  spec.attributes = {{"ECS_EMULATOR_SOURCE", "docker"}};
  ASSERT_TRUE(f.registry.register_task("game-server.local", spec).ok());
  // Discovery leaves it alone: not its task.
  auto r = f.discovery.observe(replica(1, "game-server", "172.20.0.3"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Conflict);
  EXPECT_EQ(f.task(1)->ipv4, "172.20.0.2");
  ASSERT_TRUE(f.discovery.gone(cid(1), 0).ok());
  EXPECT_EQ(f.task(1)->last_status, TaskStatus::Running);
}

TEST(RegistryTaskOnUnhealthyTest, StateOfEarlierVersionsKeepsItsDiscoveredTasks) {
  // Before Task::source, discovered tasks carried ECS_EMULATOR_SOURCE=docker and
  // ECS_EMULATOR_ON_UNHEALTHY=withdraw as attributes: loading such a row gives the typed field.
  nlohmann::json row = persist::to_json(Task{});
  row.erase("source");
  row["id"] = cid(1).substr(0, 32);
  row["attributes"] = {{"ECS_EMULATOR_SOURCE", "docker"},
                       {"ECS_EMULATOR_ON_UNHEALTHY", "withdraw"},
                       {"DOCKER_IMAGE", "demo/game-server:1"}};
  auto t = persist::task_from(row);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->source, TaskSource::Compose);
  EXPECT_EQ(t->attributes,
            (std::map<std::string, std::string>{{"DOCKER_IMAGE", "demo/game-server:1"}}));
  // A row with the field is taken as it is.
  auto again = persist::task_from(persist::to_json(*t));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->source, TaskSource::Compose);
}

TEST(RegistryTaskOnUnhealthyTest, RegisterKeepsTheContainerId) {
  Fixture f;
  TaskSpec spec;
  spec.ipv4 = "10.0.0.1";
  spec.container_id = cid(1);
  auto r = f.registry.register_task("web.local", spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->container_id, cid(1));
  EXPECT_EQ(f.registry.task(r->id)->container_id, cid(1));
}

}  // namespace
}  // namespace emu::core
