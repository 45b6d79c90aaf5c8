#pragma once
// The native JSON shapes (SPEC section 7): parsing request bodies and fixture entries into specs,
// and rendering namespaces, services and tasks. Shared by the REST API and the fixture loader so
// both accept exactly the same documents. Errors read `<json path>: <reason>`, e.g.
// `healthCheck.retries: must be 1..10` (the API prefixes nothing; fixtures prefix
// `services[1].`), so the field is the part before ": ".

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "emulator/core/model.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"

namespace emu::core::native {

using nlohmann::json;

/// Parses JSON text without exceptions; the error names what is wrong.
Result<json> parse_json(std::string_view text);

/// "500ms", "2s", "1.5s", "1m" or a number of seconds. `path` names the field in errors.
Result<Duration> parse_duration(const json& value, const std::string& path);
/// Formats a duration the way parse_duration reads it ("500ms", "2s").
std::string format_duration(Duration d);

/// {"type": "http"|"tcp"|"grpc"|"command"|"none", "port", "path", "service", "command",
///  "interval", "timeout", "retries", "startPeriod"}; native limits (durations >= 100 ms).
Result<HealthCheckSpec> parse_health_check(const json& value, const std::string& path);
/// {"name"?, "negativeTtl"?, "description"?}
Result<NamespaceSpec> parse_namespace(const json& body, const std::string& path);
/// {"ttl", "records": ["A","AAAA","SRV"], "routing", "healthCheck", "onUnhealthy", "description"}
Result<ServiceSpec> parse_service(const json& body, const std::string& path);
/// {"ip" (v4 or v6), "ipv6"?, "port", "healthCheck"?, "initialHealth"?, "attributes"?, "id"?}
Result<TaskSpec> parse_task(const json& body, const std::string& path);

json to_json(const HealthCheckSpec& spec);
json to_json(const Namespace& ns, const Registry& registry);
json to_json(const Service& service, const Registry& registry);
/// One probe result as a task's `lastResults` lists it (time, outcome PASS/FAIL, detail, exitCode,
/// output).
json to_json(const ProbeRecord& record);
json to_json(const Task& task, const Registry& registry);
json to_json(const Event& event);

/// True for a dotted-quad IPv4 address; fills the 4 bytes.
bool parse_ipv4(std::string_view text, std::array<std::uint8_t, 4>* out = nullptr);
/// True for an IPv6 address; fills the 16 bytes.
bool parse_ipv6(std::string_view text, std::array<std::uint8_t, 16>* out = nullptr);

/// A time as ISO 8601 in UTC with milliseconds ("2026-01-02T03:04:05.678Z").
std::string iso8601(WallTime t);

}  // namespace emu::core::native
