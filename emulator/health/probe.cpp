#include "emulator/health/probe.hpp"

namespace emu::health {

namespace {

// ECS healthCheck.command: ["CMD", argv...] runs argv; ["CMD-SHELL", "script"] runs the script
// with the default shell. Anything else is taken as a bare argv (Docker's exec form).
std::vector<std::string> command_argv(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  if (command.front() == "CMD") return {command.begin() + 1, command.end()};
  if (command.front() == "CMD-SHELL") {
    std::string script;
    for (std::size_t i = 1; i < command.size(); ++i) {
      if (i > 1) script += ' ';
      script += command[i];
    }
    return {"/bin/sh", "-c", script};
  }
  return command;
}

}  // namespace

ProbeSpec make_probe_spec(const core::HealthCheckSpec& check, const std::string& task_id,
                          const std::string& ip, std::uint16_t port,
                          const std::map<std::string, std::string>& env) {
  ProbeSpec spec;
  spec.type = check.type;
  spec.task_id = task_id;
  spec.ip = ip;
  spec.port = check.port.value_or(port);
  spec.path = check.path.empty() ? "/" : check.path;
  spec.grpc_service = check.grpc_service;
  if (check.type == core::ProbeType::Command) {
    spec.argv = command_argv(check.command);
    spec.env = env;
    spec.env["TASK_IP"] = ip;
    spec.env["TASK_PORT"] = std::to_string(spec.port);
  }
  return spec;
}

const char* probe_type_name(core::ProbeType type) {
  switch (type) {
    case core::ProbeType::None:
      return "none";
    case core::ProbeType::Http:
      return "http";
    case core::ProbeType::Tcp:
      return "tcp";
    case core::ProbeType::Grpc:
      return "grpc";
    case core::ProbeType::Command:
      return "command";
  }
  return "none";
}

const char* skip_reason_name(SkipReason reason) {
  switch (reason) {
    case SkipReason::None:
      return "none";
    case SkipReason::Resources:
      return "resources";
    case SkipReason::CommandsDisabled:
      return "commands_disabled";
  }
  return "none";
}

}  // namespace emu::health
