// Routing, error shapes, the AWS hook and metrics: Router on request values, no sockets.
#include "api/router.hpp"

#include <gtest/gtest.h>

#include "tests/api/api_test_env.hpp"

namespace emu::api::test {
namespace {

using http::verb;

class RouterTest : public ApiTest {};

TEST_F(RouterTest, UnknownPathIs404WithJsonError) {
  auto res = call(verb::get, "/v2/nothing");
  EXPECT_EQ(status(res), 404u);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(body_of(res)["error"], "NotFound");
  EXPECT_EQ(status(call(verb::get, "/v1/tasks/a/b/c")), 404u);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  auto res = call(verb::post, "/v1/tasks");
  EXPECT_EQ(status(res), 405u);
  EXPECT_EQ(res[http::field::allow], "GET");
  EXPECT_EQ(body_of(res)["error"], "MethodNotAllowed");
  auto svc = call(verb::patch, "/v1/services/web");
  EXPECT_EQ(status(svc), 405u);
  EXPECT_EQ(svc[http::field::allow], "GET, PUT, DELETE");
  EXPECT_EQ(status(call(verb::get, "/v1/reset")), 405u);
}

TEST_F(RouterTest, BadPercentEncodingIs400) {
  auto res = call(verb::get, "/v1/services/%zz");
  EXPECT_EQ(status(res), 400u);
  EXPECT_EQ(body_of(res)["field"], "path");
}

TEST_F(RouterTest, AbsoluteFormTargetIsRoutedByItsPath) {
  auto res = call(verb::get, "http://data-127.0.0.1:9080/healthz");
  EXPECT_EQ(status(res), 200u);
  EXPECT_EQ(body_of(res)["status"], "ok");
}

TEST_F(RouterTest, KeepsVersionAndKeepAliveOfTheRequest) {
  Request req{verb::get, "/healthz", 10};
  std::optional<Response> out;
  router.handle(std::move(req), [&](Response r) { out = std::move(r); });
  ASSERT_TRUE(out);
  EXPECT_EQ(out->version(), 10u);
  EXPECT_FALSE(out->keep_alive());  // HTTP/1.0 without keep-alive
}

TEST_F(RouterTest, HeadAnswersCarryTheHeadersButNoBody) {
  // RFC 9110 9.3.2: a body after a HEAD answer would be read as the next response on a
  // keep-alive connection (found by the http fuzzer on HEAD with an X-Amz-Target).
  for (const bool aws : {false, true}) {
    Request req{verb::head, aws ? "/" : "/v2/nothing", 11};
    if (aws) req.set("X-Amz-Target", "Route53AutoNaming_v20170314.CreateService");
    std::optional<Response> out;
    router.handle(std::move(req), [&](Response r) { out = std::move(r); });
    ASSERT_TRUE(out);
    EXPECT_EQ(out->result_int(), aws ? 405u : 404u);
    EXPECT_TRUE(out->body().empty()) << out->body();
    EXPECT_NE(std::string((*out)[http::field::content_length]), "0");
  }
}

TEST_F(RouterTest, AwsTargetWithoutHandlerIsUnknownOperation) {
  Request req{verb::post, "/", 11};
  req.set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters");
  req.body() = "{}";
  std::optional<Response> out;
  router.handle(std::move(req), [&](Response r) { out = std::move(r); });
  ASSERT_TRUE(out);
  EXPECT_EQ(status(*out), 400u);
  EXPECT_EQ((*out)[http::field::content_type], "application/x-amz-json-1.1");
  EXPECT_EQ(body_of(*out)["__type"], "UnknownOperationException");
}

TEST_F(RouterTest, AwsTargetGoesToItsHandlerWhateverThePath) {
  std::string seen;
  router.set_aws_handler("Route53AutoNaming_v20170314",
                         [&](const Request& req, std::string_view op) {
                           seen = std::string(op) + " " + req.body();
                           Response res{http::status::ok, 11};
                           res.body() = "{}";
                           return res;
                         });
  Request req{verb::post, "http://servicediscovery.us-east-1.amazonaws.com/anything", 11};
  req.set("X-Amz-Target", "Route53AutoNaming_v20170314.DiscoverInstances");
  req.body() = R"({"NamespaceName":"local"})";
  std::optional<Response> out;
  router.handle(std::move(req), [&](Response r) { out = std::move(r); });
  ASSERT_TRUE(out);
  EXPECT_EQ(status(*out), 200u);
  EXPECT_EQ(seen, R"(DiscoverInstances {"NamespaceName":"local"})");
  EXPECT_EQ(router.metrics().count("aws", "POST", 200), 1u);
}

TEST_F(RouterTest, AwsTargetNeedsPostAndAWellFormedTarget) {
  Request get{verb::get, "/", 11};
  get.set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters");
  std::optional<Response> out;
  router.handle(std::move(get), [&](Response r) { out = std::move(r); });
  ASSERT_TRUE(out);
  EXPECT_EQ(status(*out), 405u);
  Request bad{verb::post, "/", 11};
  bad.set("X-Amz-Target", "NoDot");
  router.handle(std::move(bad), [&](Response r) { out = std::move(r); });
  EXPECT_EQ(status(*out), 400u);
  EXPECT_EQ(body_of(*out)["__type"], "UnknownOperationException");
  // POST / without a target is not a native route either.
  auto plain = call(verb::post, "/", "{}");
  EXPECT_EQ(status(plain), 400u);
  EXPECT_EQ(body_of(plain)["__type"], "UnknownOperationException");
}

TEST_F(RouterTest, AwsHandlerExceptionIsAServerExceptionNotACrash) {
  router.set_aws_handler(
      "X", [](const Request&, std::string_view) -> Response { throw std::runtime_error("boom"); });
  Request req{verb::post, "/", 11};
  req.set("X-Amz-Target", "X.Op");
  std::optional<Response> out;
  router.handle(std::move(req), [&](Response r) { out = std::move(r); });
  ASSERT_TRUE(out);
  EXPECT_EQ(status(*out), 500u);
  EXPECT_EQ(body_of(*out)["__type"], "ServerException");
}

TEST_F(RouterTest, MetricsCountRequestsByRouteAndStatusAndAppendTheDaemons) {
  (void)call(verb::get, "/v1/tasks");
  (void)call(verb::get, "/v1/tasks");
  (void)call(verb::get, "/v1/tasks/nope");
  auto res = call(verb::get, "/metrics");
  EXPECT_EQ(status(res), 200u);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = res.body();
  EXPECT_NE(
      text.find("ecs_emulator_api_requests_total{route=\"/v1/tasks\",operation=\"\",method=\"GET\","
                "status=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("ecs_emulator_api_requests_total{route=\"/v1/tasks/{id}\",operation=\"\","
                      "method=\"GET\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE ecs_emulator_api_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE ecs_emulator_api_long_polls gauge\necs_emulator_api_long_polls 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("ecs_emulator_dns_queries_total 7"), std::string::npos);
}

TEST_F(RouterTest, AwsRequestsAreCountedByServiceAndOperation) {
  router.set_aws_handler("Route53AutoNaming_v20170314", [](const Request&, std::string_view op) {
    Response res{op == "RegisterInstance" ? http::status::ok : http::status::bad_request, 11};
    if (op != "RegisterInstance") res.set("x-amzn-ErrorType", "UnknownOperationException");
    res.body() = "{}";
    return res;
  });
  const auto aws = [&](std::string target) {
    Request req{verb::post, "/", 11};
    req.set("X-Amz-Target", target);
    req.body() = "{}";
    std::optional<Response> out;
    router.handle(std::move(req), [&](Response r) { out = std::move(r); });
    return status(*out);
  };
  EXPECT_EQ(aws("Route53AutoNaming_v20170314.RegisterInstance"), 200u);
  EXPECT_EQ(aws("Route53AutoNaming_v20170314.RegisterInstance"), 200u);
  EXPECT_EQ(aws("Route53AutoNaming_v20170314.MadeUp1"), 400u);
  EXPECT_EQ(aws("Route53AutoNaming_v20170314.MadeUp2"), 400u);
  EXPECT_EQ(aws("AmazonEC2ContainerServiceV20141113.ListClusters"), 400u);  // no handler here
  EXPECT_EQ(router.metrics().count_operation("servicediscovery:RegisterInstance", 200), 2u);
  // Operations no handler serves share one label: a client cannot grow /metrics at will.
  EXPECT_EQ(router.metrics().count_operation("servicediscovery:unknown", 400), 2u);
  EXPECT_EQ(router.metrics().count_operation("unknown", 400), 1u);
  EXPECT_EQ(router.metrics().count("aws", "POST", 400), 3u);
  const auto text = call(verb::get, "/metrics").body();
  EXPECT_NE(text.find("ecs_emulator_api_requests_total{route=\"aws\",operation=\"servicediscovery:"
                      "RegisterInstance\",method=\"POST\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
}

TEST(ApiMetricsTest, DistinctOperationLabelsAreCapped) {
  ApiMetrics m;
  for (std::size_t i = 0; i < ApiMetrics::kMaxOperations + 10; ++i)
    m.record("aws", "ecs:Op" + std::to_string(i), "POST", 400);
  m.record("aws", "ecs:Op0", "POST", 200);  // a known label stays itself
  EXPECT_EQ(m.count_operation("ecs:Op0", 200), 1u);
  EXPECT_EQ(m.count_operation("ecs:Op255", 400), 1u);
  EXPECT_EQ(m.count_operation("other", 400), 10u);
  EXPECT_EQ(m.count("aws", "POST", 400), ApiMetrics::kMaxOperations + 10);
}

TEST_F(RouterTest, HealthzFollowsReadiness) {
  ready = false;
  auto res = call(verb::get, "/healthz");
  EXPECT_EQ(status(res), 503u);
  ready = true;
  EXPECT_EQ(status(call(verb::get, "/healthz")), 200u);
}

// Never a 500 for bad input: every route x a set of hostile bodies and targets.
TEST_F(RouterTest, HostileInputNeverGivesA500) {
  const std::string id = add_task("web", "10.0.0.1", 80);
  const std::vector<std::pair<verb, std::string>> routes = {
      {verb::put, "/v1/namespaces/demo"},
      {verb::put, "/v1/services/web"},
      {verb::post, "/v1/services/web/tasks"},
      {verb::put, "/v1/tasks/" + id + "/health"},
      {verb::post, "/v1/reset"},
      {verb::get, "/v1/dns/web.local?type=A"},
      {verb::delete_, "/v1/tasks/" + id},
      {verb::get, "/v1/tasks?service=web"},
  };
  const std::vector<std::string> bodies = {
      "",
      "{",
      "[]",
      "null",
      "1",
      "\"x\"",
      "{\"ip\": 5}",
      "{\"status\": []}",
      "{\"ttl\": -1}",
      "{\"port\": 1e400}",
      "{\"healthCheck\": {\"type\": \"http\", \"interval\": \"1y\"}}",
      std::string(5000, '['),
      "{\"ip\": \"\xff\xfe\"}",
      "{\"a\":\"\\ud800\"}",
      "{\"records\": [null]}",
      "{\"ttl\": 1.5}",
      "{\"port\": true}"};
  for (const auto& [v, target] : routes) {
    for (const auto& body : bodies) {
      auto res = call(v, target, body, "text/plain");
      EXPECT_LT(status(res), 500u) << target << " " << body.substr(0, 40) << " -> " << res.body();
      EXPECT_FALSE(body_of(res).is_discarded()) << res.body();
    }
  }
  for (std::string target :
       {"/v1/dns/" + std::string(300, 'a'), std::string("/v1/dns/a..b"),
        std::string("/v1/wait?name=x&count=99999999999999999999999"),
        std::string("/v1/events?after=-1"), std::string("/v1/events?wait=1e308"),
        std::string("/v1/tasks?status=%00"), std::string("/v1/services/%00")}) {
    auto res = call(verb::get, target);
    EXPECT_EQ(status(res) / 100, 4u) << target << " -> " << res.body();
  }
}

}  // namespace
}  // namespace emu::api::test

namespace emu::api::test {
namespace {

// SPEC section 12: a page of a foreign origin, or a name rebound to 127.0.0.1, cannot drive the
// API. The CSRF of the issue: a text/plain POST (a CORS "simple request", sent without preflight).
class GuardTest : public ApiTest {
 protected:
  Response send(http::verb verb, const std::string& target, const std::string& host,
                std::optional<std::string> origin, std::string body = {},
                std::string content_type = "text/plain",
                std::vector<std::pair<std::string, std::string>> extra = {}) {
    Request req{verb, target, 11};
    req.set(http::field::host, host);
    if (origin) req.set(http::field::origin, *origin);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    for (const auto& [k, v] : extra) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    std::optional<Response> out;
    router.handle(std::move(req), [&out](Response res) { out = std::move(res); });
    if (!out) {
      ADD_FAILURE() << "no answer";
      return Response{http::status::internal_server_error, 11};
    }
    return std::move(*out);
  }
  static constexpr const char* kCsrf =
      R"({"ip":"127.0.0.1","port":1,"healthCheck":{"type":"tcp","interval":"1s"}})";
};

TEST_F(GuardTest, ForeignOriginIs403AndChangesNothing) {
  auto res = send(http::verb::post, "/v1/services/csrf.local/tasks", "localhost:9080",
                  "https://evil.example", kCsrf);
  EXPECT_EQ(status(res), 403u);
  EXPECT_EQ(body_of(res)["error"], "ForbiddenOrigin");
  EXPECT_EQ(res.find(http::field::access_control_allow_origin), res.end());
  EXPECT_EQ(registry.service_by_dns_name("csrf.local"), nullptr);
  EXPECT_TRUE(registry.tasks().empty());
  // Reset and reads too: nothing runs, nothing is readable.
  ASSERT_EQ(status(call(http::verb::put, "/v1/services/keep.local", "{}")), 201u);
  EXPECT_EQ(status(send(http::verb::post, "/v1/reset", "127.0.0.1:9080", "http://evil.test")),
            403u);
  EXPECT_NE(registry.service_by_dns_name("keep.local"), nullptr);
  auto read = send(http::verb::get, "/v1/services", "127.0.0.1:9080", "http://evil.test");
  EXPECT_EQ(status(read), 403u);
  EXPECT_EQ(read.body().find("keep.local"), std::string::npos);
}

TEST_F(GuardTest, RebindingHostIs403OnEveryRoute) {
  for (const char* target : {"/v1/services", "/healthz", "/metrics", "/v1/events"}) {
    auto res = send(http::verb::get, target, "evil.test:9080", std::nullopt);
    EXPECT_EQ(status(res), 403u) << target;
    EXPECT_EQ(body_of(res)["error"], "ForbiddenHost") << target;
    EXPECT_NE(body_of(res)["message"].get<std::string>().find("--allowed-hosts"),
              std::string::npos);
  }
}

TEST_F(GuardTest, AwsRequestsGetAnAwsShapedRefusal) {
  auto res = send(http::verb::post, "/", "evil.test:9080", std::nullopt, "{}",
                  "application/x-amz-json-1.1",
                  {{"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"}});
  EXPECT_EQ(status(res), 403u);
  EXPECT_EQ(body_of(res)["__type"], "AccessDeniedException");
  res = send(http::verb::post, "/", "127.0.0.1:9080", "https://evil.example", "{}", "text/plain",
             {{"X-Amz-Target", "Route53AutoNaming_v20170314.ListNamespaces"}});
  EXPECT_EQ(status(res), 403u);
  EXPECT_EQ(body_of(res)["__type"], "AccessDeniedException");
}

TEST_F(GuardTest, ClientsWithoutOriginAreUnaffected) {
  EXPECT_EQ(status(send(http::verb::put, "/v1/services/web.local", "127.0.0.1:9080", std::nullopt,
                        "{}", "application/json")),
            201u);
  auto res = send(http::verb::get, "/v1/services", "emulator:9080", std::nullopt);
  EXPECT_EQ(status(res), 200u);
  EXPECT_EQ(res.find(http::field::access_control_allow_origin), res.end());
}

TEST_F(GuardTest, LoopbackOriginGetsCorsAndPreflight) {
  auto res = send(http::verb::get, "/v1/services", "127.0.0.1:9080", "http://localhost:5173");
  EXPECT_EQ(status(res), 200u);
  EXPECT_EQ(res[http::field::access_control_allow_origin], "http://localhost:5173");
  EXPECT_EQ(res[http::field::vary], "Origin");
  auto pre = send(http::verb::options, "/v1/services/web.local", "127.0.0.1:9080",
                  "http://localhost:5173", {}, "",
                  {{"Access-Control-Request-Method", "PUT"},
                   {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(status(pre), 204u);
  EXPECT_EQ(pre[http::field::access_control_allow_origin], "http://localhost:5173");
  EXPECT_NE(std::string(pre[http::field::access_control_allow_methods]).find("PUT"),
            std::string::npos);
  EXPECT_EQ(pre[http::field::access_control_allow_headers], "content-type");
  // A foreign origin's preflight is refused, with no CORS headers.
  auto foreign = send(http::verb::options, "/v1/services/web.local", "127.0.0.1:9080",
                      "https://evil.example", {}, "", {{"Access-Control-Request-Method", "PUT"}});
  EXPECT_EQ(status(foreign), 403u);
  EXPECT_EQ(foreign.find(http::field::access_control_allow_origin), foreign.end());
}

TEST_F(GuardTest, FlagsAllowMore) {
  ctx.guard.allowed_hosts = {"emulator.test"};
  ctx.guard.allowed_origins = {"http://ui.test:8080"};
  EXPECT_EQ(status(send(http::verb::get, "/v1/services", "emulator.test:9080", std::nullopt)),
            200u);
  auto res = send(http::verb::get, "/v1/services", "emulator.test:9080", "http://ui.test:8080");
  EXPECT_EQ(status(res), 200u);
  EXPECT_EQ(res[http::field::access_control_allow_origin], "http://ui.test:8080");
}

TEST_F(GuardTest, RefusalsAreCountedInMetrics) {
  send(http::verb::get, "/v1/services", "evil.test", std::nullopt);
  send(http::verb::post, "/v1/reset", "localhost", "https://evil.example");
  auto text = call(http::verb::get, "/metrics").body();
  EXPECT_NE(text.find("route=\"refused\""), std::string::npos) << text;
}

}  // namespace
}  // namespace emu::api::test
