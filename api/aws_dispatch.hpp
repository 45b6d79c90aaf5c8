#pragma once
// The hook for AWS JSON 1.1 (SPEC section 7): `POST /` with `X-Amz-Target: <Prefix>.<Operation>`
// goes to the handler registered for <Prefix> (AmazonEC2ContainerServiceV20141113,
// Route53AutoNaming_v20170314). Unknown prefixes and missing handlers answer AWS's
// UnknownOperationException, 400, application/x-amz-json-1.1.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "api/http_types.hpp"

namespace emu::api {

/// Handles one AWS operation of a prefix; returns the full response (status, headers, body).
using AwsHandler = std::function<Response(const Request& req, std::string_view operation)>;

class AwsDispatch {
 public:
  /// Content type of every AWS JSON 1.1 response.
  static constexpr std::string_view kContentType = "application/x-amz-json-1.1";

  /// Registers (or replaces) the handler of a target prefix such as
  /// "AmazonEC2ContainerServiceV20141113".
  void set_handler(std::string prefix, AwsHandler handler);
  /// True when a handler is registered for the prefix.
  bool has_handler(std::string_view prefix) const;
  /// Routes by the X-Amz-Target header alone.
  Response dispatch(const Request& req) const;
  /// The metrics label of an answered AWS call: "ecs:CreateService",
  /// "servicediscovery:RegisterInstance" (IAM's service prefixes), "<service>:unknown" for an
  /// operation the handler does not serve, "unknown" for a target no handler serves.
  std::string operation_label(const Request& req, const Response& res) const;
  /// An AWS error: {"__type": type, "message": message} with the AWS content type.
  static Response aws_error(http::status status, std::string_view type, std::string_view message);

 private:
  std::map<std::string, AwsHandler, std::less<>> handlers_;
};

}  // namespace emu::api
