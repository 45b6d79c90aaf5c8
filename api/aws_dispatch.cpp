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

namespace {

/// The IAM service prefix of a JSON 1.1 target prefix (what policies and CloudTrail call it).
std::string service_of(std::string_view prefix) {
  if (prefix == "AmazonEC2ContainerServiceV20141113") return "ecs";
  if (prefix == "Route53AutoNaming_v20170314") return "servicediscovery";
  return std::string(prefix);
}

bool operation_name_ok(std::string_view op) {
  if (op.empty() || op.size() > 64) return false;
  for (const char c : op) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

std::string AwsDispatch::operation_label(const Request& req, const Response& res) const {
  const std::string_view target = req["X-Amz-Target"];
  const auto dot = target.rfind('.');
  if (dot == std::string_view::npos) return "unknown";
  const auto prefix = target.substr(0, dot);
  if (!has_handler(prefix)) return "unknown";  // the registered prefixes bound the label set
  const auto op = target.substr(dot + 1);
  const bool unknown = res["x-amzn-ErrorType"] == "UnknownOperationException" ||
                       res.result() == http::status::method_not_allowed || !operation_name_ok(op);
  return service_of(prefix) + ":" + (unknown ? std::string("unknown") : std::string(op));
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
