#pragma once
// The shared edge of the AWS JSON 1.1 handlers (ECS and Cloud Map): parse one call (operation,
// JSON input, the region of its SigV4 credential scope, a request id) and build AWS-shaped
// responses: 200 application/x-amz-json-1.1 with x-amzn-RequestId, or {"__type","message"} 400.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/aws/aws_error.hpp"
#include "api/http_types.hpp"
#include "emulator/core/result.hpp"

namespace emu::api::aws {

using nlohmann::json;

/// One decoded AWS call.
struct AwsCall {
  std::string operation;
  json input = json::object();
  std::string region;      ///< from the Authorization credential scope, else the default
  std::string request_id;  ///< a fresh UUID, echoed as x-amzn-RequestId
};

/// The region in `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/REGION/service/...`
/// (signatures are accepted, not verified); empty when absent.
std::string region_from_authorization(std::string_view authorization);
/// Decodes the body (JSON whatever the Content-Type; empty = {}); an error is a
/// SerializationException.
Result<AwsCall> parse_call(const Request& req, std::string_view operation,
                           const std::string& default_region);
/// 200 with the JSON body.
Response ok(const AwsCall& call, const json& body);
/// An AWS error: {"__type": type, "message": message, "Message": message} (ECS reads `message`,
/// Cloud Map's shapes name it `Message`; SDKs accept either), 400 unless `status` says otherwise.
Response fail(const AwsCall& call, std::string_view type, std::string_view message,
              http::status status = http::status::bad_request);
/// The error `error` as AWS sends it, with `extra` members in the body (NamespaceAlreadyExists
/// carries NamespaceId, ...).
Response fail(const AwsCall& call, const AwsError& error, const json& extra = json::object());
/// A random UUID v4 (request ids, operation ids).
std::string uuid4();

}  // namespace emu::api::aws
