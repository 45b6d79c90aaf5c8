#include "api/api_error.hpp"

namespace emu::api {

http::status status_of(Code code) {
  switch (code) {
    case Code::InvalidArgument:
    case Code::CommandProbesDisabled:
      return http::status::bad_request;
    case Code::NotFound:
      return http::status::not_found;
    case Code::Conflict:
    case Code::IllegalTransition:
      return http::status::conflict;
    case Code::TooLarge:
      return http::status::payload_too_large;
    case Code::Unavailable:
      return http::status::service_unavailable;
    case Code::Internal:
      break;
  }
  return http::status::internal_server_error;
}

const char* code_name(Code code) {
  switch (code) {
    case Code::InvalidArgument:
      return "InvalidArgument";
    case Code::NotFound:
      return "NotFound";
    case Code::Conflict:
      return "Conflict";
    case Code::IllegalTransition:
      return "IllegalTransition";
    case Code::TooLarge:
      return "TooLarge";
    case Code::CommandProbesDisabled:
      return "CommandProbesDisabled";
    case Code::Unavailable:
      return "Unavailable";
    case Code::Internal:
      break;
  }
  return "Internal";
}

Response json_response(http::status status, const nlohmann::json& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  // Replace invalid UTF-8 rather than throw: names echoed from requests may hold any bytes.
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

Response error_response(http::status status, std::string_view error, std::string_view message,
                        std::string_view field) {
  nlohmann::json body = {{"error", error}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  return json_response(status, body);
}

Response error_response(const Error& error) {
  return error_response(status_of(error.code), code_name(error.code), error.message, error.field);
}

}  // namespace emu::api
