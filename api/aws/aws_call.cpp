#include "api/aws/aws_call.hpp"

#include <random>

namespace emu::api::aws {

std::string region_from_authorization(std::string_view auth) {
  const auto cred = auth.find("Credential=");
  if (cred == std::string_view::npos) return {};
  auto scope = auth.substr(cred + 11);
  scope = scope.substr(0, scope.find_first_of(", "));
  // AKID/yyyymmdd/region/service/aws4_request
  std::size_t start = 0;
  for (int i = 0; i < 2; ++i) {
    start = scope.find('/', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const auto end = scope.find('/', start);
  if (end == std::string_view::npos) return {};
  const auto region = scope.substr(start, end - start);
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return {};
  }
  return std::string(region);
}

Result<AwsCall> parse_call(const Request& req, std::string_view operation,
                           const std::string& default_region) {
  AwsCall call;
  call.operation = std::string(operation);
  call.request_id = uuid4();
  call.region = region_from_authorization(req[http::field::authorization]);
  if (call.region.empty()) call.region = default_region;
  const auto& body = req.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return call;
  call.input = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (call.input.is_discarded())
    return aws_error("SerializationException",
                     "Start of structure or map found where not expected: the body is not valid "
                     "JSON");
  if (!call.input.is_object())
    return aws_error("SerializationException", "the request body must be a JSON object");
  return call;
}

namespace {
Response base(const AwsCall& call, http::status status) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/x-amz-json-1.1");
  res.set("x-amzn-RequestId", call.request_id);
  return res;
}
}  // namespace

Response ok(const AwsCall& call, const json& body) {
  auto res = base(call, http::status::ok);
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response fail(const AwsCall& call, std::string_view type, std::string_view message,
              http::status status) {
  return fail(call, AwsError{std::string(type), std::string(message), status});
}

Response fail(const AwsCall& call, const AwsError& error, const json& extra) {
  auto res = base(call, error.status);
  res.set("x-amzn-ErrorType", error.type);
  json body = {{"__type", error.type}, {"message", error.message}, {"Message", error.message}};
  for (const auto& [k, v] : extra.items()) body[k] = v;
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

std::string uuid4() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (auto& c : out) {
    if (c == 'x')
      c = kHex[rng() % 16];
    else if (c == 'y')
      c = kHex[8 + rng() % 4];
  }
  return out;
}

}  // namespace emu::api::aws
