// Who may define host-run command probes: the policy table and the fixture check.
#include "emulator/core/command_probes.hpp"

#include <gtest/gtest.h>

namespace emu::core {
namespace {

TEST(CommandProbes, PolicyTable) {
  struct Case {
    CommandProbes policy;
    ProbeSource source;
    bool allowed;
  };
  const Case cases[] = {
      {CommandProbes::Off, ProbeSource::Fixture, false},
      {CommandProbes::Off, ProbeSource::Api, false},
      {CommandProbes::Fixtures, ProbeSource::Fixture, true},
      {CommandProbes::Fixtures, ProbeSource::Api, false},
      {CommandProbes::All, ProbeSource::Fixture, true},
      {CommandProbes::All, ProbeSource::Api, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(command_probes_allowed(c.policy, c.source), c.allowed)
        << to_string(c.policy) << " " << static_cast<int>(c.source);
  }
}

TEST(CommandProbes, ParseAndPrint) {
  for (const char* s : {"off", "fixtures", "all"}) {
    auto p = parse_command_probes(s);
    ASSERT_TRUE(p) << s;
    EXPECT_STREQ(to_string(*p), s);
  }
  EXPECT_FALSE(parse_command_probes("on"));
  EXPECT_FALSE(parse_command_probes(""));
  EXPECT_FALSE(parse_command_probes("ALL"));
}

HealthCheckSpec command_check() {
  HealthCheckSpec h;
  h.type = ProbeType::Command;
  h.command = {"CMD-SHELL", "true"};
  return h;
}

TEST(CommandProbes, OnlyCommandProbesAreChecked) {
  HealthCheckSpec tcp;
  tcp.type = ProbeType::Tcp;
  EXPECT_TRUE(check_command_probe(tcp, CommandProbes::Off, ProbeSource::Api, "healthCheck"));
  EXPECT_TRUE(check_command_probe(std::nullopt, CommandProbes::Off, ProbeSource::Api, "x"));
  auto r = check_command_probe(command_check(), CommandProbes::Off, ProbeSource::Api, "hc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::CommandProbesDisabled);
  EXPECT_EQ(r.error().message.rfind("hc: ", 0), 0u) << r.error().message;
}

TEST(CommandProbes, FixtureCheckNamesFileAndPath) {
  FixtureSet set;
  set.file = "fixtures/probes.json";
  FixtureService plain;
  plain.dns_name = "plain.local";
  FixtureService with_task;
  with_task.dns_name = "web.local";
  TaskSpec t;
  t.health_check = command_check();
  with_task.tasks = {TaskSpec{}, t};
  set.services = {plain, with_task};
  auto r = check_command_probes(set, CommandProbes::Off);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("fixtures/probes.json: services[1].tasks[1].healthCheck: ", 0),
            0u)
      << r.error().message;
  EXPECT_NE(r.error().message.find("--allow-command-probes fixtures"), std::string::npos);
  EXPECT_TRUE(check_command_probes(set, CommandProbes::Fixtures));
  EXPECT_TRUE(check_command_probes(set, CommandProbes::All));

  set.services[0].spec.health_check = command_check();
  r = check_command_probes(set, CommandProbes::Off);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("fixtures/probes.json: services[0].healthCheck: ", 0), 0u);
}

}  // namespace
}  // namespace emu::core
