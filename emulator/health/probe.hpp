#pragma once
// ProbeSpec: what to run for one target, fully resolved (address, port, argv, environment).
// ProbeResult: what one attempt observed. Both are plain values; the executor turns a spec into a
// result, the monitor judges results with core::HealthTracker.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/health_tracker.hpp"
#include "emulator/core/model.hpp"

namespace emu::health {

using core::Outcome;

/// Exec probe output kept per result (Consul's 4 KiB; Docker keeps 4 KiB too).
inline constexpr std::size_t kMaxProbeOutput = 4096;

/// One probe, resolved for one target.
struct ProbeSpec {
  core::ProbeType type = core::ProbeType::None;
  std::string task_id;            ///< who the probe is for (logs, fakes); not used on the wire
  std::string ip;                 ///< IPv4 or IPv6 literal to connect to (http, tcp, grpc)
  std::uint16_t port = 0;         ///< port to connect to (http, tcp, grpc)
  std::string path = "/";         ///< http: request path
  std::string host;               ///< http/grpc: Host / :authority ("" = ip:port)
  std::string grpc_service;       ///< grpc: HealthCheckRequest.service ("" = the whole server)
  std::vector<std::string> argv;  ///< command: argv to exec (CMD-SHELL is already /bin/sh -c ...)
  std::map<std::string, std::string> env;  ///< command: added to the environment (TASK_IP, ...)
  bool operator==(const ProbeSpec&) const = default;
};

/// Why a probe did not run (its outcome is Outcome::Skipped).
enum class SkipReason {
  None,              ///< not skipped
  Resources,         ///< the daemon was out of fds, memory or processes (EMFILE, ENOMEM, ...)
  CommandsDisabled,  ///< a command probe, and the executor does not run commands
};

/// What one attempt observed.
struct ProbeResult {
  Outcome outcome = Outcome::Fail;
  std::string detail;            ///< "http 503", "grpc: NOT_SERVING", "connect: connection refused"
  std::optional<int> exit_code;  ///< command probes: the exit status (128+N when killed by N)
  std::string output;            ///< command probes: stdout+stderr, at most kMaxProbeOutput bytes
  SkipReason skip_reason = SkipReason::None;  ///< set when outcome is Skipped

  /// A passing result with a detail.
  static ProbeResult pass(std::string detail) { return {Outcome::Pass, std::move(detail), {}, {}}; }
  /// A failing result with a detail.
  static ProbeResult fail(std::string detail) { return {Outcome::Fail, std::move(detail), {}, {}}; }
  /// A probe that did not run, with why and a detail ("connect: too many open files").
  static ProbeResult skipped(SkipReason why, std::string detail) {
    return {Outcome::Skipped, std::move(detail), {}, {}, why};
  }
  bool ok() const { return outcome == Outcome::Pass; }
  bool is_skipped() const { return outcome == Outcome::Skipped; }
};

/// Resolves a check for one target: the port defaults to the task's port, ECS-style commands
/// become argv (`CMD` runs argv directly, `CMD-SHELL` runs `/bin/sh -c`), and TASK_IP/TASK_PORT
/// join the environment.
ProbeSpec make_probe_spec(const core::HealthCheckSpec& check, const std::string& task_id,
                          const std::string& ip, std::uint16_t port,
                          const std::map<std::string, std::string>& env = {});

/// "http", "tcp", "grpc", "command", "none": the prefix used in details and reasons.
const char* probe_type_name(core::ProbeType type);
/// "resources", "commands_disabled", "none": the metric label and log field.
const char* skip_reason_name(SkipReason reason);

}  // namespace emu::health
