#pragma once
// ECS errors carry their AWS exception name: Error::message is "<Type>: <message>", so the AWS
// edge can answer {"__type": Type, "message": message} and a fixture error still reads well.

#include <string>
#include <string_view>
#include <utility>

#include "emulator/core/result.hpp"

namespace emu::core::ecs {

/// An error of AWS type `type` (ClusterNotFoundException, ClientException, ...).
inline Error ecs_error(std::string_view type, std::string_view message) {
  Code code = Code::InvalidArgument;
  if (type.find("NotFound") != std::string_view::npos) code = Code::NotFound;
  if (type == "ServerException") code = Code::Internal;
  return Error{code, std::string(type) + ": " + std::string(message)};
}
inline Error client_error(std::string_view message) {
  return ecs_error("ClientException", message);
}
inline Error invalid_parameter(std::string_view message) {
  return ecs_error("InvalidParameterException", message);
}

/// Splits an Error into (AWS type, message); errors from elsewhere map to ServerException or
/// InvalidParameterException by code.
inline std::pair<std::string, std::string> aws_error_of(const Error& e) {
  const auto colon = e.message.find(": ");
  if (colon != std::string::npos) {
    const std::string head = e.message.substr(0, colon);
    const bool type = !head.empty() && head.find(' ') == std::string::npos &&
                      (head.ends_with("Exception") || head == "AccessDeniedException");
    if (type) return {head, e.message.substr(colon + 2)};
  }
  if (e.code == Code::Internal || e.code == Code::Unavailable)
    return {"ServerException", e.message};
  return {"InvalidParameterException", e.message};
}

}  // namespace emu::core::ecs
