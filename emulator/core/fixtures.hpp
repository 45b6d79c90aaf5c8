#pragma once
// Fixtures: JSON files that preload state (SPEC section 8). The native model (namespaces,
// services with tasks) plus AWS-shaped blocks (RegisterTaskDefinition and CreateService request
// bodies, applied by the AWS layer). Applying a fixture twice changes nothing. Errors name the
// file, the JSON path and the reason: `fixtures/x.json: services[1].healthCheck.retries: must
// be 1..10`. A namespace or service defined twice across the loaded files is an error naming
// both places (one definition would silently win over the other).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"

namespace emu::core {

/// One service of a fixture with its tasks.
struct FixtureService {
  std::string dns_name;  ///< `<name>.<namespace>`
  ServiceSpec spec;
  std::vector<TaskSpec> tasks;
};

/// One parsed fixture file.
struct FixtureSet {
  std::string file;
  std::vector<NamespaceSpec> namespaces;
  std::vector<FixtureService> services;
  std::vector<nlohmann::json> task_definitions;  ///< RegisterTaskDefinition request bodies
  std::vector<nlohmann::json> ecs_services;      ///< CreateService request bodies
};

/// The largest fixture file read (a 10,000-task fixture is about 1 MB); a larger file, or
/// /dev/zero, is refused before it is read into memory.
inline constexpr std::uint64_t kMaxFixtureBytes = 16 * 1024 * 1024;

/// Parses a fixture document; `file` prefixes every error.
Result<FixtureSet> parse_fixture(const nlohmann::json& doc, const std::string& file);
/// Reads and parses every path in order: a file, or a folder's *.json files (sorted by name).
/// Only regular files up to kMaxFixtureBytes are read (a FIFO is refused, not waited on); a
/// namespace or service (by its full DNS name) defined twice, in one file or across them, is an
/// error: `b.json: services[0]: service web.local is also defined in a.json: services[2]`.
Result<std::vector<FixtureSet>> load_fixture_files(const std::vector<std::string>& paths);
/// load_fixture_files() of one path.
Result<std::vector<FixtureSet>> load_fixtures(const std::string& path);
/// Applies the native part; idempotent (an ip:port already running is left as it is).
Result<void> apply_fixture(const FixtureSet& set, Registry& registry);

}  // namespace emu::core
