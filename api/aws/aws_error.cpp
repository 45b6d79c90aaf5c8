#include "api/aws/aws_error.hpp"

namespace emu::api::aws {

http::status aws_status(std::string_view type) {
  if (type == "ServerException" || type == "InternalFailure")
    return http::status::internal_server_error;
  if (type == "ServiceUnavailable") return http::status::service_unavailable;
  return http::status::bad_request;
}

namespace {

std::string_view generic_type(const Error& e, AwsApi api, std::string_view not_found_type) {
  if (api == AwsApi::Ecs) {
    if (e.code == Code::Internal || e.code == Code::Unavailable) return "ServerException";
    return "InvalidParameterException";
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

AwsError to_aws_error(const Error& e, AwsApi api, std::string_view not_found_type) {
  AwsError out;
  out.type = e.aws_type.empty() ? std::string(generic_type(e, api, not_found_type)) : e.aws_type;
  out.message = e.message;
  out.status = aws_status(out.type);
  return out;
}

}  // namespace emu::api::aws
