#pragma once
// The one mapping from an emu::Error to an AWS JSON 1.1 error: the exception name (`__type`), its
// message and the HTTP status. The core names the exception when it knows it (Error::aws_type,
// spelled as botocore's models spell it); otherwise the code picks the API's generic one.

#include <string>
#include <string_view>

#include "api/http_types.hpp"
#include "emulator/core/result.hpp"

namespace emu::api::aws {

/// Which AWS API answers: each has its own generic exception names.
enum class AwsApi { Ecs, CloudMap, Route53 };

/// An error as AWS sends it.
struct AwsError {
  std::string type;     ///< `__type` and x-amzn-ErrorType
  std::string message;  ///< `message` (and Cloud Map's `Message`)
  http::status status = http::status::bad_request;
};

/// The HTTP status AWS answers with for exception `type`: 500 for the service's own failures
/// (ServerException, InternalFailure), 503 for ServiceUnavailable, 400 for the client's.
http::status aws_status(std::string_view type);

/// The HTTP status Route 53 answers with for error code `code`, from botocore's route53 model:
/// 404 for the NoSuch* codes, 409 for the *AlreadyExists ones, 401 NotAuthorizedException,
/// 500 InternalFailure, 501 NotImplemented, 503 ServiceUnavailable, 404 UnknownOperationException
/// (a path that is no operation), 400 otherwise.
http::status route53_status(std::string_view code);

/// Maps `e` once. Without an aws_type, ECS answers ServerException (Internal, Unavailable) or
/// InvalidParameterException; Cloud Map answers InvalidInput, `not_found_type` (NotFound),
/// ResourceInUse (Conflict, IllegalTransition), ServiceUnavailable or InternalFailure. Route 53
/// answers InvalidInput, `not_found_type` (NotFound; NoSuchHostedZone by default),
/// ConcurrentModification (Conflict, IllegalTransition), ServiceUnavailable or InternalFailure,
/// with route53_status.
AwsError to_aws_error(const Error& e, AwsApi api, std::string_view not_found_type = {});

/// The answer to an operation of the service's model that ecs-emulator does not emulate (yet):
/// ECS's UnsupportedFeatureException, Cloud Map's UnsupportedOperation, 400, naming
/// `operation`. UnknownOperationException stays for names the model does not have.
AwsError not_emulated(AwsApi api, std::string_view operation);

/// An error AWS itself names (`type` from the service's model), with the status it implies.
inline Error aws_error(std::string_view type, std::string_view message) {
  return Error{Code::InvalidArgument, std::string(message), {}, std::string(type)};
}

}  // namespace emu::api::aws
