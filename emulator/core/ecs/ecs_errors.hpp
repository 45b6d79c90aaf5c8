#pragma once
// ECS errors carry their AWS exception name in Error::aws_type (the names of botocore's ECS model),
// so the AWS edge answers {"__type": aws_type, "message": message} without reading the message.

#include <string>
#include <string_view>

#include "emulator/core/result.hpp"

namespace emu::core::ecs {

/// An error of AWS type `type` (ClusterNotFoundException, ClientException, ...); the code says
/// what kind of failure it is to the other edges (fixtures, logs).
inline Error ecs_error(std::string_view type, std::string_view message) {
  Code code = Code::InvalidArgument;
  if (type == "ClusterNotFoundException" || type == "ServiceNotFoundException" ||
      type == "ResourceNotFoundException")
    code = Code::NotFound;
  if (type == "ServerException") code = Code::Internal;
  return Error{code, std::string(message), {}, std::string(type)};
}
inline Error client_error(std::string_view message) {
  return ecs_error("ClientException", message);
}
inline Error invalid_parameter(std::string_view message) {
  return ecs_error("InvalidParameterException", message);
}

}  // namespace emu::core::ecs
