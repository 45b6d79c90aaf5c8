// The native REST routes (SPEC section 7) on request values: success shapes and every error.
#include "api/native_handlers.hpp"

#include <gtest/gtest.h>

#include "emulator/core/ecs/ecs_engine.hpp"
#include "tests/api/api_test_env.hpp"

namespace emu::api::test {
namespace {

using http::verb;

class NativeHandlersTest : public ApiTest {};

// --- namespaces ------------------------------------------------------------------------------

TEST_F(NativeHandlersTest, NamespaceCreateGetListDelete) {
  EXPECT_EQ(body_of(call(verb::get, "/v1/namespaces"))["namespaces"].size(), 0u);  // fresh: none
  auto created = call(verb::put, "/v1/namespaces/demo.local", R"({"negativeTtl": 30})");
  ASSERT_EQ(status(created), 201u) << created.body();
  EXPECT_EQ(body_of(created)["name"], "demo.local");
  EXPECT_EQ(body_of(created)["negativeTtl"], 30);
  EXPECT_EQ(body_of(created)["id"].get<std::string>().rfind("ns-", 0), 0u);
  EXPECT_EQ(status(call(verb::put, "/v1/namespaces/demo.local", "")), 200u);  // exists: update
  EXPECT_EQ(status(call(verb::get, "/v1/namespaces/DEMO.local")), 200u);      // case-insensitive
  EXPECT_EQ(body_of(call(verb::get, "/v1/namespaces"))["namespaces"].size(), 1u);
  EXPECT_EQ(status(call(verb::delete_, "/v1/namespaces/demo.local")), 200u);
  EXPECT_EQ(status(call(verb::get, "/v1/namespaces/demo.local")), 404u);
  EXPECT_EQ(status(call(verb::delete_, "/v1/namespaces/demo.local")), 404u);
}

TEST_F(NativeHandlersTest, NamespaceErrors) {
  auto bad_name = call(verb::put, "/v1/namespaces/bad_name!");
  EXPECT_EQ(status(bad_name), 400u);
  EXPECT_EQ(body_of(bad_name)["error"], "InvalidArgument");
  EXPECT_EQ(body_of(bad_name)["field"], "name");
  auto mismatch = call(verb::put, "/v1/namespaces/a", R"({"name": "b"})");
  EXPECT_EQ(status(mismatch), 400u);
  EXPECT_EQ(body_of(mismatch)["field"], "name");
  auto unknown = call(verb::put, "/v1/namespaces/a", R"({"colour": "red"})");
  EXPECT_EQ(status(unknown), 400u);
  EXPECT_EQ(body_of(unknown)["field"], "colour");
  auto type = call(verb::put, "/v1/namespaces/a", R"({"negativeTtl": "5"})");
  EXPECT_EQ(status(type), 400u);
  EXPECT_EQ(body_of(type)["field"], "negativeTtl");
  auto malformed = call(verb::put, "/v1/namespaces/a", R"({"negativeTtl": )");
  EXPECT_EQ(status(malformed), 400u);
  EXPECT_EQ(body_of(malformed)["field"], "body");
  auto array = call(verb::put, "/v1/namespaces/a", "[1]");
  EXPECT_EQ(status(array), 400u);
  EXPECT_EQ(body_of(array)["field"], "body");
  // A namespace with services cannot go.
  (void)add_task("web.a", "10.0.0.1", 80);
  auto busy = call(verb::delete_, "/v1/namespaces/a");
  EXPECT_EQ(status(busy), 409u);
  EXPECT_EQ(body_of(busy)["error"], "Conflict");
}

// --- services ---------------------------------------------------------------------------------

TEST_F(NativeHandlersTest, ServicePutCreatesThenUpdatesAndMakesTheDefaultNamespace) {
  auto created = call(verb::put, "/v1/services/game-server",
                      R"({"ttl": 10, "records": ["A", "SRV"], "routing": "MULTIVALUE",
                          "onUnhealthy": "stop",
                          "healthCheck": {"type": "grpc", "port": 50051, "service": "",
                                          "interval": "1s", "timeout": "500ms", "retries": 3,
                                          "startPeriod": "0s"}})");
  ASSERT_EQ(status(created), 201u) << created.body();
  auto j = body_of(created);
  EXPECT_EQ(j["name"], "game-server.local");
  EXPECT_EQ(j["records"], json({"A", "SRV"}));
  EXPECT_EQ(j["healthCheck"]["timeout"], "500ms");
  EXPECT_NE(call(verb::get, "/v1/namespaces/local").result_int(), 404u);  // created on first use
  auto updated = call(verb::put, "/v1/services/game-server.local", R"({"ttl": 60})");
  EXPECT_EQ(status(updated), 200u);
  EXPECT_EQ(body_of(updated)["ttl"], 60);
  EXPECT_EQ(body_of(call(verb::get, "/v1/services/game-server.local"))["ttl"], 60);
  auto list = body_of(call(verb::get, "/v1/services"));
  ASSERT_EQ(list["services"].size(), 1u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/services?namespace=local"))["services"].size(), 1u);
  EXPECT_EQ(status(call(verb::get, "/v1/services?namespace=nope")), 404u);
}

TEST_F(NativeHandlersTest, ServiceErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  const Case cases[] = {
      {R"({"ttl": "x"})", "ttl"},
      {R"({"ttl": -1})", "ttl"},
      {R"({"records": ["MX"]})", "records"},
      {R"({"records": []})", "records"},
      {R"({"routing": "ROUNDROBIN"})", "routing"},
      {R"({"onUnhealthy": "explode"})", "onUnhealthy"},
      {R"({"healthCheck": {"type": "http", "interval": "10ns"}})", "healthCheck.interval"},
      {R"({"healthCheck": {"type": "http", "interval": "50ms"}})", "healthCheck.interval"},
      {R"({"healthCheck": {"type": "http", "retries": 0}})", "healthCheck.retries"},
      {R"({"healthCheck": {"type": "carrier-pigeon"}})", "healthCheck.type"},
      {R"({"healthCheck": {"type": "http", "port": 70000}})", "healthCheck.port"},
      {R"({"healthCheck": "http"})", "healthCheck"},
  };
  for (const auto& c : cases) {
    auto res = call(verb::put, "/v1/services/web", c.body);
    EXPECT_EQ(status(res), 400u) << c.body;
    EXPECT_EQ(body_of(res)["field"], c.field) << c.body << " -> " << res.body();
  }
  EXPECT_EQ(status(call(verb::get, "/v1/services/web")), 404u);  // nothing was created
}

TEST_F(NativeHandlersTest, ServiceNamesFollowDnsLabelRules) {
  for (std::string name : {std::string("-web"), std::string("web-"), std::string("we!b"),
                           std::string(64, 'a'), std::string("a..local")}) {
    auto res = call(verb::put, "/v1/services/" + name, "{}");
    EXPECT_EQ(status(res), 400u) << name << " -> " << res.body();
  }
  EXPECT_EQ(status(call(verb::put, "/v1/services/" + std::string(63, 'a'), "{}")), 201u);
}

TEST_F(NativeHandlersTest, ServiceDeleteStopsItsTasks) {
  const auto id = add_task("web", "10.0.0.1", 80);
  EXPECT_EQ(status(call(verb::delete_, "/v1/services/web.local")), 200u);
  EXPECT_EQ(status(call(verb::get, "/v1/services/web.local")), 404u);
  EXPECT_EQ(status(call(verb::delete_, "/v1/services/web.local")), 404u);
  auto t = call(verb::get, "/v1/tasks/" + id);
  if (status(t) == 200u) {
    EXPECT_EQ(body_of(t)["lastStatus"], "STOPPED");
  }
}

// --- tasks ------------------------------------------------------------------------------------

TEST_F(NativeHandlersTest, RegisterTaskReturns201WithTheTask) {
  auto res = call(verb::post, "/v1/services/game-server.local/tasks",
                  R"({"ip": "127.0.0.2", "port": 50051, "initialHealth": "HEALTHY"})");
  ASSERT_EQ(status(res), 201u) << res.body();
  auto t = body_of(res);
  EXPECT_EQ(t["taskId"].get<std::string>().size(), 32u);
  EXPECT_NE(t["taskArn"].get<std::string>().find(":task/"), std::string::npos);
  EXPECT_EQ(t["service"], "game-server.local");
  EXPECT_EQ(t["ip"], "127.0.0.2");
  EXPECT_EQ(t["port"], 50051);
  EXPECT_EQ(t["lastStatus"], "RUNNING");
  EXPECT_EQ(t["healthStatus"], "HEALTHY");
  // healthStatus starts UNKNOWN without initialHealth.
  auto plain = body_of(call(verb::post, "/v1/services/game-server/tasks", R"({"ip": "::1"})"));
  EXPECT_EQ(plain["healthStatus"], "UNKNOWN");
}

TEST_F(NativeHandlersTest, SameEndpointTwiceIsAConflict) {
  (void)add_task("web", "10.0.0.1", 80);
  auto dup = call(verb::post, "/v1/services/web/tasks", R"({"ip": "10.0.0.1", "port": 80})");
  EXPECT_EQ(status(dup), 409u);
  EXPECT_EQ(body_of(dup)["error"], "Conflict");
  // Another port, or the same endpoint in another service, is fine.
  EXPECT_EQ(status(call(verb::post, "/v1/services/web/tasks", R"({"ip": "10.0.0.1", "port": 81})")),
            201u);
  EXPECT_EQ(status(call(verb::post, "/v1/services/api/tasks", R"({"ip": "10.0.0.1", "port": 80})")),
            201u);
}

TEST_F(NativeHandlersTest, RegisterTaskErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  const Case cases[] = {
      {R"({})", "ip"},
      {R"({"ip": "10.0.0.256"})", "ip"},
      {R"({"ip": "10.0.0"})", "ip"},
      {R"({"ip": "not-an-ip"})", "ip"},
      {R"({"ip": 167772161})", "ip"},
      {R"({"ip": "10.0.0.1", "port": 70000})", "port"},
      {R"({"ip": "10.0.0.1", "port": -1})", "port"},
      {R"({"ip": "10.0.0.1", "port": "80"})", "port"},
      {R"({"ip": "10.0.0.1", "initialHealth": "GREAT"})", "initialHealth"},
      {R"({"ip": "10.0.0.1", "healthCheck": {"type": "tcp", "timeout": "abc"}})",
       "healthCheck.timeout"},
      {R"({"ip": "10.0.0.1", "whatever": 1})", "whatever"},
      {R"({"ip": "10.0.0.1",)", "body"},
      {R"("10.0.0.1")", "body"},
  };
  for (const auto& c : cases) {
    auto res = call(verb::post, "/v1/services/web/tasks", c.body);
    EXPECT_EQ(status(res), 400u) << c.body << " -> " << res.body();
    EXPECT_EQ(body_of(res)["field"], c.field) << c.body << " -> " << res.body();
  }
  EXPECT_EQ(status(call(verb::post, "/v1/services/bad!name/tasks", R"({"ip": "10.0.0.1"})")), 400u);
}

TEST_F(NativeHandlersTest, BodiesAreJsonWhateverTheContentType) {
  auto res = call(verb::post, "/v1/services/web/tasks", R"({"ip": "10.0.0.7", "port": 1})",
                  "application/x-www-form-urlencoded");
  EXPECT_EQ(status(res), 201u) << res.body();
  EXPECT_EQ(status(call(verb::post, "/v1/services/web/tasks", R"({"ip": "10.0.0.8"})", "")), 201u);
}

TEST_F(NativeHandlersTest, ListTasksFiltersByServiceAndStatus) {
  const auto a = add_task("web", "10.0.0.1", 80);
  (void)add_task("web", "10.0.0.2", 80);
  (void)add_task("api", "10.0.0.3", 80);
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks"))["tasks"].size(), 3u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks?service=web"))["tasks"].size(), 2u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks?service=web.local."))["tasks"].size(), 2u);
  EXPECT_EQ(status(call(verb::delete_, "/v1/tasks/" + a)), 200u);
  auto stopped = body_of(call(verb::get, "/v1/tasks?status=stopped"))["tasks"];
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0]["taskId"], a);
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks?service=web&status=RUNNING"))["tasks"].size(), 1u);
  auto bad_status = call(verb::get, "/v1/tasks?status=SLEEPING");
  EXPECT_EQ(status(bad_status), 400u);
  EXPECT_EQ(body_of(bad_status)["field"], "status");
  EXPECT_EQ(status(call(verb::get, "/v1/tasks?service=nope")), 404u);
  auto bad_service = call(verb::get, "/v1/tasks?service=-x");
  EXPECT_EQ(status(bad_service), 400u);
  EXPECT_EQ(body_of(bad_service)["field"], "service");
}

TEST_F(NativeHandlersTest, GetAndStopTask) {
  const auto id = add_task("web", "10.0.0.1", 80);
  auto got = call(verb::get, "/v1/tasks/" + id);
  EXPECT_EQ(status(got), 200u);
  EXPECT_EQ(body_of(got)["taskId"], id);
  auto stopped = call(verb::delete_, "/v1/tasks/" + id);
  ASSERT_EQ(status(stopped), 200u);
  auto t = body_of(stopped);
  EXPECT_EQ(t["lastStatus"], "STOPPED");
  EXPECT_EQ(t["stopCode"], "UserInitiated");
  EXPECT_EQ(t["stoppedReason"], "Task stopped by user");
  // Removed from DNS at once; the task stays listed.
  EXPECT_EQ(body_of(call(verb::get, "/v1/dns/web.local"))["answers"].size(), 0u);
  EXPECT_EQ(status(call(verb::get, "/v1/tasks/" + id)), 200u);
  EXPECT_EQ(status(call(verb::get, "/v1/tasks/0123456789abcdef0123456789abcdef")), 404u);
  EXPECT_EQ(status(call(verb::delete_, "/v1/tasks/0123456789abcdef0123456789abcdef")), 404u);
}

TEST_F(NativeHandlersTest, StopOfAnEcsTaskGoesThroughItsLifecycle) {
  core::ecs::EcsEngine engine(sim.clock, sim.timers, store, registry, core::ecs::EcsConfig{}, 5);
  core::ecs::Cluster cluster;
  cluster.region = "us-east-1";
  cluster.name = "demo";
  ASSERT_TRUE(engine.create_cluster(cluster, {}));
  core::ecs::TaskDefinition td;
  td.region = "us-east-1";
  td.family = "web";
  td.containers.push_back({});
  td.containers.back().name = "web";
  td.containers.back().image = "nginx";
  auto registered = engine.register_task_definition(td, {});
  ASSERT_TRUE(registered);
  core::ecs::RunTaskInput in;
  in.region = "us-east-1";
  in.cluster = "demo";
  in.task_definition_arn = registered->arn;
  auto run = engine.run_task(in);
  ASSERT_TRUE(run);
  const std::string id = run->tasks.at(0).id;
  sim.advance(std::chrono::seconds(1));
  ASSERT_EQ(registry.task(id)->last_status, core::TaskStatus::Running);

  // Without the ECS layer wired in, an ECS task is not the native API's to stop.
  auto refused = call(verb::delete_, "/v1/tasks/" + id);
  EXPECT_EQ(status(refused), 409u);
  EXPECT_EQ(registry.task(id)->last_status, core::TaskStatus::Running);

  ctx.stop_ecs_task = [&](const std::string& task_id) { return engine.stop_task(task_id, ""); };
  auto stopped = call(verb::delete_, "/v1/tasks/" + id);
  ASSERT_EQ(status(stopped), 200u) << stopped.body();
  EXPECT_EQ(body_of(stopped)["lastStatus"], "DEACTIVATING");
  EXPECT_EQ(body_of(stopped)["desiredStatus"], "STOPPED");
  EXPECT_EQ(body_of(stopped)["stopCode"], "UserInitiated");
  sim.advance(std::chrono::seconds(1));
  EXPECT_EQ(registry.task(id)->last_status, core::TaskStatus::Stopped);
  EXPECT_EQ(registry.task(id)->stopped_reason, "Task stopped by user");
}

TEST_F(NativeHandlersTest, ForceHealthAndBack) {
  const auto id = add_task("web", "10.0.0.1", 80);
  call(verb::put, "/v1/services/web", R"({"onUnhealthy": "withdraw"})");
  auto sick = call(verb::put, "/v1/tasks/" + id + "/health", R"({"status": "UNHEALTHY"})");
  ASSERT_EQ(status(sick), 200u) << sick.body();
  EXPECT_EQ(body_of(sick)["healthStatus"], "UNHEALTHY");
  EXPECT_EQ(body_of(call(verb::get, "/v1/dns/web.local"))["answers"].size(), 0u);  // withdrawn
  auto autoh = call(verb::put, "/v1/tasks/" + id + "/health", R"({"status": "AUTO"})");
  EXPECT_EQ(status(autoh), 200u);
  EXPECT_TRUE(body_of(autoh)["forcedHealth"].is_null());
  auto healthy = call(verb::put, "/v1/tasks/" + id + "/health", R"({"status": "healthy"})");
  EXPECT_EQ(body_of(healthy)["healthStatus"], "HEALTHY");
}

TEST_F(NativeHandlersTest, ForcedUnhealthyUnderStopStopsTheTask) {
  const auto id = add_task("web", "10.0.0.1", 80);
  auto res = call(verb::put, "/v1/tasks/" + id + "/health", R"({"status": "UNHEALTHY"})");
  EXPECT_EQ(status(res), 200u) << res.body();
  sim.settle();
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks/" + id))["lastStatus"], "STOPPED");
}

TEST_F(NativeHandlersTest, ForceHealthErrors) {
  const auto id = add_task("web", "10.0.0.1", 80);
  for (std::string body : {"{}", R"({"status": 1})", R"({"status": "SICK"})", "[]", "{"}) {
    auto res = call(verb::put, "/v1/tasks/" + id + "/health", body);
    EXPECT_EQ(status(res), 400u) << body;
  }
  EXPECT_EQ(
      body_of(call(verb::put, "/v1/tasks/" + id + "/health", R"({"status": "SICK"})"))["field"],
      "status");
  EXPECT_EQ(status(call(verb::put, "/v1/tasks/nope/health", R"({"status": "AUTO"})")), 404u);
  // A STOPPED task cannot be forced.
  (void)call(verb::delete_, "/v1/tasks/" + id);
  EXPECT_EQ(status(call(verb::put, "/v1/tasks/" + id + "/health", R"({"status": "HEALTHY"})")),
            409u);
}

// --- dns, reset ---------------------------------------------------------------------------------

TEST_F(NativeHandlersTest, DnsLookupAsJson) {
  (void)add_task("web", "10.0.0.1", 80);
  (void)add_task("web", "10.0.0.2", 80);
  auto res = call(verb::get, "/v1/dns/web.local?type=a");
  ASSERT_EQ(status(res), 200u);
  auto j = body_of(res);
  EXPECT_EQ(j["type"], "A");
  EXPECT_EQ(j["rcode"], "NOERROR");
  EXPECT_EQ(j["answers"].size(), 2u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/dns/web.local"))["type"], "A");  // A by default
  auto bad_type = call(verb::get, "/v1/dns/web.local?type=BOGUS");
  EXPECT_EQ(status(bad_type), 400u);
  EXPECT_EQ(body_of(bad_type)["field"], "type");
  auto bad_name = call(verb::get, "/v1/dns/we%20b.local");
  EXPECT_EQ(status(bad_name), 400u);
  EXPECT_EQ(body_of(bad_name)["field"], "name");
}

TEST_F(NativeHandlersTest, ResetEmptiesEverything) {
  (void)add_task("web", "10.0.0.1", 80);
  (void)call(verb::put, "/v1/namespaces/other");
  EXPECT_EQ(status(call(verb::post, "/v1/reset", "")), 200u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks"))["tasks"].size(), 0u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/services"))["services"].size(), 0u);
  EXPECT_EQ(body_of(call(verb::get, "/v1/namespaces"))["namespaces"].size(), 0u);
  (void)add_task("web", "10.0.0.1", 80);
  EXPECT_EQ(status(call(verb::post, "/moto-api/reset")), 200u);  // moto's alias
  EXPECT_EQ(body_of(call(verb::get, "/v1/tasks"))["tasks"].size(), 0u);
}

TEST_F(NativeHandlersTest, StoreFailureIs503NotA500) {
  store.fail_after(0);
  auto res = call(verb::post, "/v1/services/web/tasks", R"({"ip": "10.0.0.1"})");
  EXPECT_EQ(status(res), 503u) << res.body();
  EXPECT_EQ(body_of(res)["error"], "Unavailable");
  store.heal();
}

}  // namespace
}  // namespace emu::api::test

namespace emu::api::test {
namespace {

// --- command probes (SPEC section 12: nothing from the network runs a command by default) ------

class CommandProbeGateTest : public ApiTest {};

TEST_F(CommandProbeGateTest, RefusedByDefaultOnServicesAndTasksAndNothingIsStored) {
  const std::string check =
      R"({"type":"command","command":["CMD-SHELL","id > /tmp/pwned"],"interval":"1s"})";
  auto svc = call(http::verb::put, "/v1/services/csrf.local", R"({"healthCheck":)" + check + "}");
  EXPECT_EQ(status(svc), 400u);
  EXPECT_EQ(body_of(svc)["error"], "CommandProbesDisabled");
  EXPECT_EQ(body_of(svc)["field"], "healthCheck");
  EXPECT_NE(body_of(svc)["message"].get<std::string>().find("--allow-command-probes all"),
            std::string::npos);
  EXPECT_EQ(registry.service_by_dns_name("csrf.local"), nullptr);

  auto task = call(http::verb::post, "/v1/services/csrf.local/tasks",
                   R"({"ip":"127.0.0.1","port":1,"healthCheck":)" + check + "}");
  EXPECT_EQ(status(task), 400u);
  EXPECT_EQ(body_of(task)["error"], "CommandProbesDisabled");
  EXPECT_EQ(registry.service_by_dns_name("csrf.local"), nullptr);  // not even made on first use
  EXPECT_TRUE(registry.tasks().empty());

  // Other probe types are untouched.
  EXPECT_EQ(status(call(http::verb::put, "/v1/services/web.local",
                        R"({"healthCheck":{"type":"tcp","interval":"1s"}})")),
            201u);
}

TEST_F(CommandProbeGateTest, FixturesModeStillRefusesTheApi) {
  ctx.command_probes = core::CommandProbes::Fixtures;
  auto res = call(http::verb::put, "/v1/services/x.local",
                  R"({"healthCheck":{"type":"command","command":["CMD","true"]}})");
  EXPECT_EQ(status(res), 400u);
  EXPECT_EQ(body_of(res)["error"], "CommandProbesDisabled");
  EXPECT_NE(body_of(res)["message"].get<std::string>().find("only in fixture files"),
            std::string::npos);
}

TEST_F(CommandProbeGateTest, AllowedWithAll) {
  ctx.command_probes = core::CommandProbes::All;
  EXPECT_EQ(status(call(http::verb::put, "/v1/services/x.local",
                        R"({"healthCheck":{"type":"command","command":["CMD","true"]}})")),
            201u);
  auto task = call(http::verb::post, "/v1/services/x.local/tasks",
                   R"({"ip":"127.0.0.1","port":1,)"
                   R"("healthCheck":{"type":"command","command":["CMD","true"]}})");
  EXPECT_EQ(status(task), 201u) << task.body();
}

}  // namespace
}  // namespace emu::api::test
