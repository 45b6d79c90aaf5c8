#pragma once
// Request targets: origin form (`/v1/tasks?service=x`) or absolute form
// (`http://host:9080/v1/tasks`, sent through an HTTP proxy setting), split into URL-decoded path
// segments and query parameters.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/result.hpp"

namespace emu::api {

/// A decoded request target.
struct RequestTarget {
  std::string path;                   ///< raw path, without the query ("/" at least)
  std::vector<std::string> segments;  ///< decoded, empty segments dropped
  std::map<std::string, std::string, std::less<>> query;  ///< decoded; the last value wins

  /// The query value, if present.
  std::optional<std::string> param(std::string_view name) const;
};

/// Percent-decodes; `plus_is_space` for query strings. nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);
/// Parses a target; errors name the part that is malformed.
Result<RequestTarget> parse_target(std::string_view target);

}  // namespace emu::api
