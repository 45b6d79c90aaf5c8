#pragma once
// DaemonConfig: every option is a flag and an environment variable (--dns-listen /
// ECS_EMULATOR_DNS_LISTEN); flags win. Parsed once into a typed struct with defaults.

#include <optional>
#include <string>
#include <vector>

#include "emulator/core/command_probes.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/time.hpp"
#include "emulator/log/log.hpp"

namespace emu::runtime {

struct DaemonConfig {
  std::string command = "serve";  ///< serve | healthcheck | version | help
  std::string dns_listen = "127.0.0.1:9053";
  std::string api_listen = "127.0.0.1:9080";
  std::string state = "./ecs-emulator.db";
  std::vector<std::string> fixtures;
  std::optional<std::string> upstream;
  double time_scale = 1.0;
  Duration health_propagation_delay{0};
  std::optional<std::string> docker;  ///< Docker Engine socket URL; unset = no Docker backend
  std::string docker_network = "bridge";
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  std::string default_namespace = "local";
  std::string task_cidr = "10.10.0.0/16";
  log::Level log_level = log::Level::Info;
  log::Format log_format = log::Format::Text;
  std::string ready_file;  ///< written with the bound addresses once ready (for tests)
  /// Host-run command probes: off (default), from fixture files only, or also from the API.
  core::CommandProbes allow_command_probes = core::CommandProbes::Off;
  std::vector<std::string> allowed_origins;   ///< more origins whose pages may call the API
  std::vector<std::string> allowed_hosts;     ///< more dotted names the API answers to
  std::size_t api_max_connections = 512;      ///< HTTP API: open connections at most
  std::size_t dns_tcp_max_connections = 256;  ///< DNS over TCP: open connections at most
  std::size_t dns_tcp_max_per_client = 16;    ///< DNS over TCP: per source address
};

/// Parses argv and the environment (getenv). Errors name the option and the reason.
Result<DaemonConfig> parse_config(int argc, const char* const* argv);
/// The --help text: every option with its environment variable and default.
std::string help_text();
/// The version string.
const char* version();

}  // namespace emu::runtime
