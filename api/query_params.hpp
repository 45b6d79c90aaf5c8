#pragma once
// Validation of query parameters and request bodies: every error is 400 naming the parameter
// (`count: must be an integer 0..1000`).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_types.hpp"
#include "api/request_target.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/time.hpp"

namespace emu::api {

/// An unsigned integer parameter in [0, max]; `fallback` when absent (nullopt = required).
Result<std::uint64_t> uint_param(const RequestTarget& target, std::string_view name,
                                 std::optional<std::uint64_t> fallback, std::uint64_t max);
/// A duration parameter ("500ms", "2s", "1m" or seconds) in [0, max]; `fallback` when absent.
Result<Duration> duration_param(const RequestTarget& target, std::string_view name,
                                Duration fallback, Duration max);
/// A DNS record type parameter (A, AAAA, SRV, ...), uppercased; `fallback` when absent.
Result<std::string> dns_type_param(const RequestTarget& target, std::string_view name,
                                   std::string_view fallback);
/// Checks a name to look up in DNS (labels of 1..63, 253 in all); returns the reason.
std::optional<std::string> lookup_name_error(std::string_view name);
/// The body as a JSON object; an empty body is {} (bodies are JSON whatever the Content-Type).
Result<nlohmann::json> body_object(const Request& req);

}  // namespace emu::api
