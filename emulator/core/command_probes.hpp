#pragma once
// Who may define host-run command probes (SPEC section 12). A command probe runs `/bin/sh -c` or
// an argv on the host as the daemon's user, so it is the operator's decision, never a request's:
// off by default (as Consul's enable_script_checks), from fixture files only (the operator's own
// files, as Consul's enable_local_script_checks), or also from the API.

#include <optional>
#include <string>
#include <string_view>

#include "emulator/core/fixtures.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/result.hpp"

namespace emu::core {

enum class CommandProbes { Off, Fixtures, All };

/// Where a probe definition comes from.
enum class ProbeSource { Fixture, Api };

/// Parses "off|fixtures|all".
std::optional<CommandProbes> parse_command_probes(std::string_view text);
const char* to_string(CommandProbes policy);

/// True when `policy` lets a definition from `source` run a command on the host.
bool command_probes_allowed(CommandProbes policy, ProbeSource source);

/// Code::CommandProbesDisabled naming `field` and the flag when `check` is a command probe that
/// `policy` does not allow from `source`; success otherwise (any other probe type, or none).
Result<void> check_command_probe(const std::optional<HealthCheckSpec>& check, CommandProbes policy,
                                 ProbeSource source, const std::string& field);

/// The same check over every service and task of a fixture file: the first refused probe, named
/// `<file>: services[i].healthCheck` or `<file>: services[i].tasks[k].healthCheck`.
Result<void> check_command_probes(const FixtureSet& set, CommandProbes policy);

}  // namespace emu::core
