#pragma once
// Fixtures: JSON files that preload state (SPEC section 8). The native model (namespaces,
// services with tasks) plus AWS-shaped blocks (RegisterTaskDefinition and CreateService request
// bodies, applied by the AWS layer). Applying a fixture twice changes nothing. Errors name the
// file, the JSON path and the reason: `fixtures/x.json: services[1].healthCheck.retries: must
// be 1..10`.

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

/// Parses a fixture document; `file` prefixes every error.
Result<FixtureSet> parse_fixture(const nlohmann::json& doc, const std::string& file);
/// Reads and parses a fixture file, or every *.json file of a folder (sorted by name).
Result<std::vector<FixtureSet>> load_fixtures(const std::string& path);
/// Applies the native part; idempotent (an ip:port already running is left as it is).
Result<void> apply_fixture(const FixtureSet& set, Registry& registry);

}  // namespace emu::core
