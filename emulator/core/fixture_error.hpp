#pragma once
// The one mapping of an error to what a fixture file's author reads at startup:
// `fixtures/x.json: services[1].healthCheck.retries: must be 1..10`. An error the core typed for
// AWS keeps its exception name in the text (`ecsServices[0]: InvalidParameterException: ...`),
// since the fixture's body is an AWS request.

#include <string>
#include <string_view>

#include "emulator/core/result.hpp"

namespace emu::core {

/// `e` as an error of fixture `file`, under `path` (the item of the file, "ecsServices[0]") when
/// given: "file: [path: ][AwsType: ]message". The code, field (else `path`) and AWS type are kept.
inline Error fixture_error(std::string_view file, const Error& e, std::string_view path = {}) {
  std::string text = e.aws_type.empty() ? e.message : e.aws_type + ": " + e.message;
  if (!path.empty()) text = std::string(path) + ": " + text;
  Error out{e.code, std::string(file) + ": " + text, e.field, e.aws_type};
  if (!path.empty()) out.field = std::string(path);
  return out;
}

/// Bad input at `field` of fixture `file`: "file: field: reason".
inline Error fixture_invalid(std::string_view file, std::string field, std::string_view reason) {
  return fixture_error(file, invalid_field(std::move(field), reason));
}

}  // namespace emu::core
