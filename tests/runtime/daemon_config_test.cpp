// Option parsing: every option is a flag and an environment variable; flags win; bad values are
// refused naming the option. Focus here: the Docker backend options.

#include "emulator/runtime/daemon_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace emu::runtime {
namespace {

Result<DaemonConfig> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "ecs-emulator");
  return parse_config(static_cast<int>(args.size()), args.data());
}

class DaemonConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("ECS_EMULATOR_DOCKER");
    ::unsetenv("ECS_EMULATOR_DOCKER_NETWORK");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(DaemonConfigTest, DockerIsOffByDefault) {
  auto c = parse({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->docker);
  EXPECT_EQ(c->docker_network, "bridge");
}

TEST_F(DaemonConfigTest, DockerWithoutValueMeansTheDefaultSocket) {
  for (const auto& args : std::vector<std::vector<const char*>>{
           {"--docker"}, {"--docker", "--region", "eu-west-1"}, {"--docker="}}) {
    auto c = parse(args);
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_TRUE(c->docker);
    EXPECT_EQ(*c->docker, "unix:///var/run/docker.sock");
  }
}

TEST_F(DaemonConfigTest, DockerSocketAndNetworkFromFlags) {
  auto c = parse({"--docker", "unix:///tmp/d.sock", "--docker-network", "demo"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c->docker, "unix:///tmp/d.sock");
  EXPECT_EQ(c->docker_network, "demo");
}

TEST_F(DaemonConfigTest, DockerFromEnvironmentAndFlagsWin) {
  ::setenv("ECS_EMULATOR_DOCKER", "unix:///run/docker.sock", 1);
  ::setenv("ECS_EMULATOR_DOCKER_NETWORK", "from-env", 1);
  auto c = parse({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c->docker, "unix:///run/docker.sock");
  EXPECT_EQ(c->docker_network, "from-env");
  auto f = parse({"--docker-network", "from-flag"});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->docker_network, "from-flag");
}

TEST_F(DaemonConfigTest, BadDockerNetworkIsRefusedNamingTheOption) {
  for (const char* bad : {"", "a b", "net/work"}) {
    auto c = parse({"--docker-network", bad});
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().message.find("docker-network"), std::string::npos) << c.error().message;
  }
}

TEST_F(DaemonConfigTest, DockerOverTcpIsRefused) {
  auto c = parse({"--docker", "tcp://127.0.0.1:2375"});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("docker"), std::string::npos) << c.error().message;
}

TEST_F(DaemonConfigTest, HelpDocumentsTheDockerOptions) {
  const auto help = help_text();
  EXPECT_NE(help.find("--docker-network"), std::string::npos);
  EXPECT_NE(help.find("ECS_EMULATOR_DOCKER_NETWORK"), std::string::npos);
  EXPECT_NE(help.find("env ECS_EMULATOR_DOCKER\n"), std::string::npos);
}

}  // namespace
}  // namespace emu::runtime

namespace emu::runtime {
namespace {

// --- security options (SPEC section 12) ---------------------------------------------------------

class SecurityConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"ECS_EMULATOR_ALLOW_COMMAND_PROBES", "ECS_EMULATOR_ALLOWED_ORIGINS",
                          "ECS_EMULATOR_ALLOWED_HOSTS"})
      ::unsetenv(v);
  }
  void TearDown() override { SetUp(); }
};

TEST_F(SecurityConfigTest, CommandProbesAreOffByDefault) {
  auto c = parse({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->allow_command_probes, core::CommandProbes::Off);
  EXPECT_TRUE(c->allowed_origins.empty());
  EXPECT_TRUE(c->allowed_hosts.empty());
}

TEST_F(SecurityConfigTest, CommandProbesFromFlagAndEnvironment) {
  auto c = parse({"--allow-command-probes", "fixtures"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->allow_command_probes, core::CommandProbes::Fixtures);
  ::setenv("ECS_EMULATOR_ALLOW_COMMAND_PROBES", "all", 1);
  c = parse({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->allow_command_probes, core::CommandProbes::All);
  c = parse({"--allow-command-probes=off"});  // flags win
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->allow_command_probes, core::CommandProbes::Off);
  c = parse({"--allow-command-probes", "yes"});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("--allow-command-probes: must be off, fixtures or all"),
            std::string::npos)
      << c.error().message;
}

TEST_F(SecurityConfigTest, AllowedListsAreCommaSeparatedAndRepeatable) {
  ::setenv("ECS_EMULATOR_ALLOWED_HOSTS", "a.test, *.b.test", 1);
  auto c = parse({"--allowed-hosts", "c.test", "--allowed-origins",
                  "http://ui.test:3000,tools.test", "--allowed-origins", "*"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->allowed_hosts, (std::vector<std::string>{"a.test", "*.b.test", "c.test"}));
  EXPECT_EQ(c->allowed_origins,
            (std::vector<std::string>{"http://ui.test:3000", "tools.test", "*"}));
  auto bad = parse({"--allowed-hosts", "a b"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--allowed-hosts"), std::string::npos);
}

TEST_F(SecurityConfigTest, HelpDocumentsTheSecurityOptions) {
  const auto help = help_text();
  for (const char* s :
       {"--allow-command-probes off|fixtures|all", "ECS_EMULATOR_ALLOW_COMMAND_PROBES",
        "--allowed-origins", "ECS_EMULATOR_ALLOWED_ORIGINS", "--allowed-hosts",
        "ECS_EMULATOR_ALLOWED_HOSTS"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace emu::runtime

namespace emu::runtime {
namespace {

TEST(ConnectionLimitsConfig, DefaultsFlagsAndBadValues) {
  for (const char* v : {"ECS_EMULATOR_API_MAX_CONNECTIONS", "ECS_EMULATOR_DNS_TCP_MAX_CONNECTIONS",
                        "ECS_EMULATOR_DNS_TCP_MAX_PER_CLIENT"})
    ::unsetenv(v);
  auto c = parse({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->api_max_connections, 512u);
  EXPECT_EQ(c->dns_tcp_max_connections, 256u);
  EXPECT_EQ(c->dns_tcp_max_per_client, 16u);
  c = parse({"--api-max-connections", "64", "--dns-tcp-max-connections=32",
             "--dns-tcp-max-per-client", "4"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->api_max_connections, 64u);
  EXPECT_EQ(c->dns_tcp_max_connections, 32u);
  EXPECT_EQ(c->dns_tcp_max_per_client, 4u);
  for (const char* bad : {"0", "-1", "x", "1e3", "70000", ""}) {
    auto r = parse({"--api-max-connections", bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("--api-max-connections: must be a whole number"),
              std::string::npos)
        << r.error().message;
  }
}

}  // namespace
}  // namespace emu::runtime
