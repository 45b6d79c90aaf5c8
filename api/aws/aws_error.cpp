#include "api/aws/aws_error.hpp"

namespace emu::api::aws {

http::status aws_status(std::string_view type) {
  if (type == "ServerException" || type == "InternalFailure")
    return http::status::internal_server_error;
  if (type == "ServiceUnavailable") return http::status::service_unavailable;
  return http::status::bad_request;
}

http::status route53_status(std::string_view code) {
  // botocore route53 2013-04-01: the error shapes' httpStatusCode.
  static constexpr std::string_view k404[] = {"NoSuchChange",
                                              "NoSuchCidrCollectionException",
                                              "NoSuchCidrLocationException",
                                              "NoSuchCloudWatchLogsLogGroup",
                                              "NoSuchGeoLocation",
                                              "NoSuchHealthCheck",
                                              "NoSuchHostedZone",
                                              "NoSuchKeySigningKey",
                                              "NoSuchQueryLoggingConfig",
                                              "NoSuchTrafficPolicy",
                                              "NoSuchTrafficPolicyInstance",
                                              "VPCAssociationAuthorizationNotFound",
                                              "VPCAssociationNotFound"};
  static constexpr std::string_view k409[] = {"CidrCollectionVersionMismatchException",
                                              "HealthCheckAlreadyExists",
                                              "HealthCheckVersionMismatch",
                                              "HostedZoneAlreadyExists",
                                              "KeySigningKeyAlreadyExists",
                                              "QueryLoggingConfigAlreadyExists",
                                              "TrafficPolicyAlreadyExists",
                                              "TrafficPolicyInstanceAlreadyExists"};
  for (const auto c : k404) {
    if (c == code) return http::status::not_found;
  }
  for (const auto c : k409) {
    if (c == code) return http::status::conflict;
  }
  if (code == "NotAuthorizedException") return http::status::unauthorized;
  // A common error: a change to a zone another service (Cloud Map) manages.
  if (code == "AccessDenied") return http::status::forbidden;
  if (code == "NotImplemented") return http::status::not_implemented;
  // Not in the model: our answer to a path that is no Route 53 operation.
  if (code == "UnknownOperationException") return http::status::not_found;
  return aws_status(code);
}

namespace {

std::string_view generic_type(const Error& e, AwsApi api, std::string_view not_found_type) {
  if (api == AwsApi::Ecs) {
    if (e.code == Code::Internal || e.code == Code::Unavailable) return "ServerException";
    return "InvalidParameterException";
  }
  if (api == AwsApi::Route53) {
    switch (e.code) {
      case Code::InvalidArgument:
      case Code::TooLarge:
      case Code::CommandProbesDisabled:
        return "InvalidInput";
      case Code::NotFound:
        return not_found_type.empty() ? std::string_view("NoSuchHostedZone") : not_found_type;
      case Code::Conflict:
      case Code::IllegalTransition:
        return "ConcurrentModification";
      case Code::Unavailable:
        return "ServiceUnavailable";
      case Code::Internal:
        break;
    }
    return "InternalFailure";
  }
  switch (e.code) {
    case Code::InvalidArgument:
      return "InvalidInput";
    case Code::NotFound:
      return not_found_type.empty() ? std::string_view("ResourceNotFoundException")
                                    : not_found_type;
    case Code::Conflict:
    case Code::IllegalTransition:
      return "ResourceInUse";
    case Code::Unavailable:
      return "ServiceUnavailable";
    case Code::TooLarge:
    case Code::CommandProbesDisabled:
    case Code::Internal:
      break;
  }
  return "InternalFailure";
}

}  // namespace

AwsError not_emulated(AwsApi api, std::string_view operation) {
  AwsError out;
  out.type = api == AwsApi::Ecs ? "UnsupportedFeatureException" : "UnsupportedOperation";
  out.message = "The operation " + std::string(operation) +
                " is in the AWS model but is not emulated by ecs-emulator yet.";
  out.status = http::status::bad_request;
  return out;
}

AwsError to_aws_error(const Error& e, AwsApi api, std::string_view not_found_type) {
  AwsError out;
  out.type = e.aws_type.empty() ? std::string(generic_type(e, api, not_found_type)) : e.aws_type;
  out.message = e.message;
  out.status = api == AwsApi::Route53 ? route53_status(out.type) : aws_status(out.type);
  return out;
}

}  // namespace emu::api::aws
