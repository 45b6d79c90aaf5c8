#pragma once
// A Router over a real Registry (MemoryStore + SimTime) and an io_context the test drives by
// hand; DNS lookups come from a small fake built on the registry (A records of registered,
// not-unhealthy tasks), so handler tests need no DNS code and no sockets.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/api_context.hpp"
#include "api/router.hpp"
#include "emulator/core/endpoint_policy.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::api::test {

using nlohmann::json;

/// What the fake resolver answers for (name, type).
inline json fake_lookup(const core::Registry& registry, std::string name, const std::string& type) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  json out{{"name", name + "."},
           {"type", type},
           {"rcode", "NXDOMAIN"},
           {"answers", json::array()},
           {"authority", json::array()}};
  const core::Service* s = registry.service_by_dns_name(name);
  if (!s) return out;
  core::TaskFilter filter;
  filter.service_dns_name = name;
  for (const auto* t : registry.tasks(filter)) {
    if (!t->registered() || t->dns_health == core::Health::Unhealthy) continue;
    if (type == "A" && !t->ipv4.empty())
      out["answers"].push_back({{"value", t->ipv4}, {"ttl", s->ttl}});
  }
  out["rcode"] = out["answers"].empty() ? "NXDOMAIN" : "NOERROR";
  return out;
}

class ApiTest : public ::testing::Test {
 protected:
  ApiTest()
      : registry(sim.clock, sim.timers, store, core::RegistryConfig{}, 42),
        policy(registry),
        ctx{registry,
            [this](const std::string& n, const std::string& t) {
              return fake_lookup(registry, n, t);
            },
            [] { return std::string("ecs_emulator_dns_queries_total 7\n"); },
            [this] { return ready; }},
        router(ctx, io) {
    EXPECT_TRUE(registry.load().ok());
  }

  /// Sends one request that must be answered at once.
  Response call(http::verb verb, std::string target, std::string body = {},
                std::string content_type = "application/json") {
    Request req{verb, target, 11};
    req.set(http::field::host, "localhost");
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    std::optional<Response> out;
    router.handle(std::move(req), [&out](Response res) { out = std::move(res); });
    if (!out) {
      ADD_FAILURE() << "no immediate answer for " << target;
      return Response{http::status::internal_server_error, 11};
    }
    return std::move(*out);
  }

  /// Starts a request whose answer may come later (long polls).
  std::shared_ptr<std::optional<Response>> start(std::string target,
                                                 ConnectionToken connection = {}) {
    auto out = std::make_shared<std::optional<Response>>();
    Request req{http::verb::get, target, 11};
    router.handle(
        std::move(req), [out](Response res) { *out = std::move(res); }, connection);
    return out;
  }

  /// Runs the io_context until `done()` or the deadline (real time; timers are real here).
  template <typename Pred>
  bool run_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  /// Runs what is ready now (posted completions) without waiting.
  void settle() {
    if (io.stopped()) io.restart();
    io.poll();
  }

  static json body_of(const Response& res) { return json::parse(res.body(), nullptr, false); }
  static unsigned status(const Response& res) { return res.result_int(); }

  /// POST a task and return its id.
  std::string add_task(const std::string& service, const std::string& ip, int port) {
    auto res = call(http::verb::post, "/v1/services/" + service + "/tasks",
                    json{{"ip", ip}, {"port", port}}.dump());
    EXPECT_EQ(status(res), 201u) << res.body();
    return body_of(res).value("taskId", "");
  }

  bool ready = true;
  emu::test::SimTime sim;
  core::MemoryStore store;
  core::Registry registry;
  core::EndpointPolicy policy;  // stops unhealthy endpoints under `onUnhealthy: stop`
  boost::asio::io_context io;
  ApiContext ctx;
  Router router;
};

}  // namespace emu::api::test
