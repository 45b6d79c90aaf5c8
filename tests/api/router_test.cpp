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
      text.find("emu_api_requests_total{route=\"/v1/tasks\",method=\"GET\",status=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("emu_api_requests_total{route=\"/v1/tasks/{id}\",method=\"GET\",status=\"404\"} 1"),
      std::string::npos);
  EXPECT_NE(text.find("emu_api_long_polls 0"), std::string::npos);
  EXPECT_NE(text.find("emu_dns_queries_total 7"), std::string::npos);
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
