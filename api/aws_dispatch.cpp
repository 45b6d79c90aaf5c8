#include "api/aws_dispatch.hpp"

#include <nlohmann/json.hpp>

namespace emu::api {

void AwsDispatch::set_handler(std::string prefix, AwsHandler handler) {
  handlers_[std::move(prefix)] = std::move(handler);
}

bool AwsDispatch::has_handler(std::string_view prefix) const {
  return handlers_.find(prefix) != handlers_.end();
}

Response AwsDispatch::aws_error(http::status status, std::string_view type,
                                std::string_view message) {
  Response res{status, 11};
  res.set(http::field::content_type, kContentType);
  res.body() = nlohmann::json{{"__type", type}, {"message", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response AwsDispatch::dispatch(const Request& req) const {
  const std::string_view target = req["X-Amz-Target"];
  const auto dot = target.rfind('.');
  if (target.empty() || dot == std::string_view::npos || dot == 0 || dot + 1 == target.size()) {
    return aws_error(
        http::status::bad_request, "UnknownOperationException",
        "X-Amz-Target must read <Service>.<Operation>, got '" + std::string(target) + "'");
  }
  const auto prefix = target.substr(0, dot);
  const auto operation = target.substr(dot + 1);
  auto it = handlers_.find(prefix);
  if (it == handlers_.end() || !it->second) {
    return aws_error(http::status::bad_request, "UnknownOperationException",
                     "Operation " + std::string(target) + " is not supported");
  }
  return it->second(req, operation);
}

}  // namespace emu::api
