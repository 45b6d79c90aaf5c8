#include "emulator/core/command_probes.hpp"

#include "emulator/core/fixture_error.hpp"

namespace emu::core {

std::optional<CommandProbes> parse_command_probes(std::string_view text) {
  if (text == "off") return CommandProbes::Off;
  if (text == "fixtures") return CommandProbes::Fixtures;
  if (text == "all") return CommandProbes::All;
  return std::nullopt;
}

const char* to_string(CommandProbes policy) {
  switch (policy) {
    case CommandProbes::Off:
      return "off";
    case CommandProbes::Fixtures:
      return "fixtures";
    case CommandProbes::All:
      break;
  }
  return "all";
}

bool command_probes_allowed(CommandProbes policy, ProbeSource source) {
  switch (policy) {
    case CommandProbes::Off:
      return false;
    case CommandProbes::Fixtures:
      return source == ProbeSource::Fixture;
    case CommandProbes::All:
      break;
  }
  return true;
}

Result<void> check_command_probe(const std::optional<HealthCheckSpec>& check, CommandProbes policy,
                                 ProbeSource source, const std::string& field) {
  if (!check || check->type != ProbeType::Command || command_probes_allowed(policy, source)) {
    return {};
  }
  const char* needed = source == ProbeSource::Fixture ? "fixtures (or all)" : "all";
  return Error{Code::CommandProbesDisabled,
               field + ": command probes run on the host and are " +
                   (policy == CommandProbes::Off ? std::string("off")
                                                 : std::string("allowed only in fixture files")) +
                   "; the operator can allow them with --allow-command-probes " + needed +
                   " (ECS_EMULATOR_ALLOW_COMMAND_PROBES)",
               field};
}

Result<void> check_command_probes(const FixtureSet& set, CommandProbes policy) {
  for (std::size_t i = 0; i < set.services.size(); ++i) {
    const auto& fs = set.services[i];
    const std::string path = "services[" + std::to_string(i) + "]";
    if (fs.spec.health_check) {
      if (auto r = check_command_probe(*fs.spec.health_check, policy, ProbeSource::Fixture,
                                       path + ".healthCheck");
          !r) {
        return fixture_error(set.file, r.error());
      }
    }
    for (std::size_t k = 0; k < fs.tasks.size(); ++k) {
      if (auto r = check_command_probe(fs.tasks[k].health_check, policy, ProbeSource::Fixture,
                                       path + ".tasks[" + std::to_string(k) + "].healthCheck");
          !r) {
        return fixture_error(set.file, r.error());
      }
    }
  }
  return {};
}

}  // namespace emu::core
