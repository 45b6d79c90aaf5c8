#include "api/aws/ecs_handlers.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "api/aws/model/aws_model.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "tests/support/aws_model_inputs.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::api::aws {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class EcsHandlersTest : public ::testing::Test {
 protected:
  emu::test::SimTime sim_;
  core::MemoryStore store_;
  core::Registry registry_{sim_.clock, sim_.timers, store_, core::RegistryConfig{}, 42};
  core::ecs::EcsEngine engine_{sim_.clock, sim_.timers, store_, registry_, core::ecs::EcsConfig{},
                               5};
  EcsHandlers handlers_{engine_};
  std::string cloudmap_arn_;

  void SetUp() override {
    core::ServiceSpec spec;
    spec.records = core::RecordTypes{true, false, true};
    cloudmap_arn_ = registry_.put_service("web.local", spec)->arn;
  }

  json call(const std::string& op, const json& in, const std::string& region = "us-east-1") {
    auto r = handlers_.call(op, in, region);
    EXPECT_TRUE(r) << op << ": " << (r ? "" : r.error().message);
    return r ? *r : json();
  }
  std::string error(const std::string& op, const json& in) {
    auto r = handlers_.call(op, in, "us-east-1");
    EXPECT_FALSE(r) << op << " should fail";
    return r ? std::string() : r.error().aws_type + ": " + r.error().message;
  }
  json web_td(json health = {{"command", {"CMD-SHELL", "true"}}, {"interval", 5}}) {
    return {{"family", "web"},
            {"networkMode", "awsvpc"},
            {"requiresCompatibilities", {"FARGATE"}},
            {"cpu", "256"},
            {"memory", "512"},
            {"containerDefinitions",
             {{{"name", "web"},
               {"image", "nginx"},
               {"portMappings", {{{"containerPort", 80}}}},
               {"healthCheck", health}}}}};
  }
  json network() { return {{"awsvpcConfiguration", {{"subnets", {"subnet-1"}}}}}; }
  void setup_service(int desired) {
    call("CreateCluster", {{"clusterName", "demo"}});
    call("RegisterTaskDefinition", web_td());
    call("CreateService", {{"cluster", "demo"},
                           {"serviceName", "web"},
                           {"taskDefinition", "web"},
                           {"desiredCount", desired},
                           {"networkConfiguration", network()},
                           {"serviceRegistries", {{{"registryArn", cloudmap_arn_}}}}});
  }
};

TEST_F(EcsHandlersTest, ClusterShapesAndErrors) {
  const auto c = call("CreateCluster", {{"clusterName", "demo"},
                                        {"tags", {{{"key", "k"}, {"value", "v"}}}}})["cluster"];
  EXPECT_EQ(c["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/demo");
  EXPECT_EQ(c["status"], "ACTIVE");
  EXPECT_EQ(c["activeServicesCount"], 0);
  const auto d = call("DescribeClusters", {{"clusters", {"demo", "nope"}}, {"include", {"TAGS"}}});
  ASSERT_EQ(d["clusters"].size(), 1u);
  EXPECT_EQ(d["clusters"][0]["tags"][0]["key"], "k");
  EXPECT_EQ(d["failures"][0]["arn"], "arn:aws:ecs:us-east-1:000000000000:cluster/nope");
  EXPECT_EQ(d["failures"][0]["reason"], "MISSING");
  EXPECT_EQ(call("ListClusters", json::object())["clusterArns"].size(), 1u);
  EXPECT_TRUE(
      call("ListClusters", json::object(), "eu-west-1")["clusterArns"].empty());  // per region
  EXPECT_EQ(
      error("CreateCluster", {{"clusterName", "bad name"}}).rfind("InvalidParameterException: ", 0),
      0u);
  EXPECT_EQ(error("DeleteCluster", {{"cluster", "nope"}}),
            "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(error("ListServices", json::object()),
            "ClusterNotFoundException: Cluster not found.");  // no default
  EXPECT_EQ(call("DeleteCluster", {{"cluster", "demo"}})["cluster"]["status"], "INACTIVE");
}

TEST_F(EcsHandlersTest, TaskDefinitionValidationAndShapes) {
  const auto td = call("RegisterTaskDefinition", web_td())["taskDefinition"];
  EXPECT_EQ(td["taskDefinitionArn"], "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1");
  EXPECT_EQ(td["revision"], 1);
  EXPECT_EQ(td["status"], "ACTIVE");
  EXPECT_TRUE(td["registeredAt"].is_number());
  EXPECT_EQ(td["containerDefinitions"][0]["essential"], true);
  EXPECT_EQ(td["containerDefinitions"][0]["portMappings"][0]["hostPort"], 80);
  EXPECT_EQ(td["containerDefinitions"][0]["portMappings"][0]["protocol"], "tcp");
  EXPECT_EQ(td["containerDefinitions"][0]["healthCheck"]["retries"], 3);
  EXPECT_EQ(td["compatibilities"], json({"EC2", "FARGATE"}));
  struct Case {
    json health;
    const char* field;
  };
  for (const auto& c : {Case{{{"command", {"CMD", "x"}}, {"interval", 4}}, "interval"},
                        Case{{{"command", {"CMD", "x"}}, {"interval", 301}}, "interval"},
                        Case{{{"command", {"CMD", "x"}}, {"timeout", 1}}, "timeout"},
                        Case{{{"command", {"CMD", "x"}}, {"timeout", 61}}, "timeout"},
                        Case{{{"command", {"CMD", "x"}}, {"retries", 0}}, "retries"},
                        Case{{{"command", {"CMD", "x"}}, {"retries", 11}}, "retries"},
                        Case{{{"command", {"CMD", "x"}}, {"startPeriod", 301}}, "startPeriod"}}) {
    const auto msg = error("RegisterTaskDefinition", web_td(c.health));
    EXPECT_EQ(msg.rfind("ClientException: Invalid 'healthCheck." + std::string(c.field), 0), 0u)
        << msg;
  }
  EXPECT_EQ(
      error("RegisterTaskDefinition", {{"family", "x"}, {"containerDefinitions", json::array()}}),
      "ClientException: Container list cannot be empty.");
  EXPECT_EQ(error("RegisterTaskDefinition",
                  {{"family", "x"}, {"containerDefinitions", {{{"name", "a"}}}}}),
            "ClientException: Container.image should not be null or empty.");
  call("RegisterTaskDefinition", web_td());
  EXPECT_EQ(
      call("DescribeTaskDefinition", {{"taskDefinition", "web"}})["taskDefinition"]["revision"], 2);
  EXPECT_EQ(
      call("DescribeTaskDefinition", {{"taskDefinition", "web:1"}})["taskDefinition"]["revision"],
      1);
  EXPECT_EQ(error("DescribeTaskDefinition", {{"taskDefinition", "nope"}}),
            "ClientException: Unable to describe task definition.");
  EXPECT_EQ(
      call("DeregisterTaskDefinition", {{"taskDefinition", "web:1"}})["taskDefinition"]["status"],
      "INACTIVE");
  EXPECT_EQ(call("ListTaskDefinitions", json::object())["taskDefinitionArns"].size(), 1u);
  EXPECT_EQ(call("ListTaskDefinitions", {{"status", "INACTIVE"}})["taskDefinitionArns"].size(), 1u);
  EXPECT_EQ(call("ListTaskDefinitionFamilies", json::object())["families"], json({"web"}));
  const auto paged = call("ListTaskDefinitions", {{"status", "ACTIVE"}, {"maxResults", 1}});
  EXPECT_FALSE(paged.contains("nextToken"));
  EXPECT_EQ(error("ListTaskDefinitions", {{"maxResults", 101}}),
            "InvalidParameterException: maxResults must be between 1 and 100.");
}

TEST_F(EcsHandlersTest, ServiceRunsTasksThatDescribeLikeEcs) {
  setup_service(3);
  sim_.advance(1s);
  const auto svc = call("DescribeServices", {{"cluster", "demo"}, {"services", {"web", "nope"}}});
  ASSERT_EQ(svc["services"].size(), 1u);
  const auto& s = svc["services"][0];
  EXPECT_EQ(s["serviceArn"], "arn:aws:ecs:us-east-1:000000000000:service/demo/web");
  EXPECT_EQ(s["runningCount"], 3);
  EXPECT_EQ(s["desiredCount"], 3);
  EXPECT_EQ(s["deployments"].size(), 1u);
  EXPECT_EQ(s["deployments"][0]["rolloutState"], "COMPLETED");
  EXPECT_EQ(s["events"][0]["message"], "(service web) has reached a steady state.");
  EXPECT_EQ(svc["failures"][0]["reason"], "MISSING");
  const auto arns = call("ListTasks", {{"cluster", "demo"}, {"serviceName", "web"}})["taskArns"];
  ASSERT_EQ(arns.size(), 3u);
  const auto tasks = call("DescribeTasks", {{"cluster", "demo"}, {"tasks", arns}})["tasks"];
  ASSERT_EQ(tasks.size(), 3u);
  const auto& t = tasks[0];
  EXPECT_EQ(t["lastStatus"], "RUNNING");
  EXPECT_EQ(t["desiredStatus"], "RUNNING");
  EXPECT_EQ(t["healthStatus"], "UNKNOWN");
  EXPECT_EQ(t["group"], "service:web");
  EXPECT_EQ(t["launchType"], "FARGATE");
  EXPECT_TRUE(t["startedBy"].get<std::string>().rfind("ecs-svc/", 0) == 0);
  EXPECT_TRUE(t["createdAt"].is_number());
  EXPECT_EQ(
      t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"].get<std::string>().rfind(
          "10.10.", 0),
      0u);
  EXPECT_EQ(t["attachments"][0]["type"], "ElasticNetworkInterface");
  EXPECT_EQ(
      call("ListTasks", {{"cluster", "demo"}, {"desiredStatus", "PENDING"}})["taskArns"].size(),
      0u);
  EXPECT_EQ(error("ListTasks", {{"cluster", "demo"}, {"serviceName", "nope"}}),
            "ServiceNotFoundException: Service not found.");
}

TEST_F(EcsHandlersTest, ServiceErrors) {
  setup_service(1);
  EXPECT_EQ(error("CreateService", {{"cluster", "demo"},
                                    {"serviceName", "web"},
                                    {"taskDefinition", "web"},
                                    {"desiredCount", 2},
                                    {"networkConfiguration", network()}}),
            "InvalidParameterException: Creation of service was not idempotent.");
  EXPECT_EQ(error("CreateService", {{"cluster", "demo"},
                                    {"serviceName", "x"},
                                    {"taskDefinition", "web"},
                                    {"desiredCount", 1}}),
            "InvalidParameterException: Network Configuration must be provided when networkMode "
            "'awsvpc' is specified.");
  EXPECT_EQ(error("UpdateService", {{"cluster", "demo"}, {"service", "nope"}, {"desiredCount", 1}}),
            "ServiceNotFoundException: Service not found.");
  EXPECT_EQ(error("DeleteService", {{"cluster", "demo"}, {"service", "web"}}),
            "InvalidParameterException: The service cannot be stopped while it is scaled above 0.");
  EXPECT_EQ(call("DeleteService",
                 {{"cluster", "demo"}, {"service", "web"}, {"force", true}})["service"]["status"],
            "DRAINING");
  EXPECT_EQ(error("UpdateService", {{"cluster", "demo"}, {"service", "web"}, {"desiredCount", 1}}),
            "ServiceNotActiveException: Service was not ACTIVE.");
  EXPECT_TRUE(
      call("ListServices", {{"cluster", "demo"}})["serviceArns"].empty());  // DRAINING is hidden
  EXPECT_EQ(
      error("DeleteCluster", {{"cluster", "demo"}}),
      "ClusterContainsServicesException: The Cluster cannot be deleted while Services are active.");
  sim_.advance(1s);
  EXPECT_EQ(call("DescribeServices",
                 {{"cluster", "demo"}, {"services", {"web"}}})["services"][0]["status"],
            "INACTIVE");
}

TEST_F(EcsHandlersTest, RunStopTaskAndTags) {
  call("CreateCluster", {{"clusterName", "demo"}});
  call("RegisterTaskDefinition", web_td());
  const auto run = call("RunTask", {{"cluster", "demo"},
                                    {"taskDefinition", "web"},
                                    {"count", 2},
                                    {"networkConfiguration", network()},
                                    {"clientToken", "abc"},
                                    {"tags", {{{"key", "a"}, {"value", "b"}}}}});
  ASSERT_EQ(run["tasks"].size(), 2u);
  EXPECT_EQ(run["tasks"][0]["lastStatus"], "PROVISIONING");
  EXPECT_EQ(run["tasks"][0]["group"], "family:web");
  const auto again =
      call("RunTask", {{"cluster", "demo"}, {"taskDefinition", "web"}, {"clientToken", "abc"}});
  EXPECT_EQ(again, run);  // idempotent by clientToken
  const std::string arn = run["tasks"][0]["taskArn"];
  EXPECT_EQ(arn.size(), std::string("arn:aws:ecs:us-east-1:000000000000:task/demo/").size() + 32);
  sim_.advance(1s);
  const auto stopped =
      call("StopTask", {{"cluster", "demo"}, {"task", arn}, {"reason", "done"}})["task"];
  EXPECT_EQ(stopped["desiredStatus"], "STOPPED");
  EXPECT_EQ(stopped["stopCode"], "UserInitiated");
  EXPECT_EQ(stopped["stoppedReason"], "done");
  sim_.advance(1s);
  EXPECT_EQ(call("ListTasks", {{"cluster", "demo"}, {"desiredStatus", "STOPPED"}})["taskArns"],
            json({arn}));
  EXPECT_EQ(call("ListTagsForResource", {{"resourceArn", arn}})["tags"][0]["value"], "b");
  call("TagResource", {{"resourceArn", arn}, {"tags", {{{"key", "c"}, {"value", "d"}}}}});
  call("UntagResource", {{"resourceArn", arn}, {"tagKeys", {"a"}}});
  EXPECT_EQ(call("ListTagsForResource", {{"resourceArn", arn}})["tags"],
            json({{{"key", "c"}, {"value", "d"}}}));
  EXPECT_EQ(error("RunTask", {{"cluster", "demo"},
                              {"taskDefinition", "web"},
                              {"count", 11},
                              {"networkConfiguration", network()}}),
            "InvalidParameterException: count must be between 1 and 10.");
  const auto missing =
      call("DescribeTasks", {{"cluster", "demo"}, {"tasks", {"0123456789abcdef0123456789abcdef"}}});
  EXPECT_EQ(missing["failures"][0]["reason"], "MISSING");
}

TEST_F(EcsHandlersTest, HandleAnswersAwsJsonWithTheRegionOfTheSignature) {
  Request req{http::verb::post, "/", 11};
  req.set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster");
  req.set(http::field::authorization,
          "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-1/ecs/aws4_request, "
          "SignedHeaders=host, Signature=00");
  req.body() = R"({"clusterName":"eu"})";
  auto res = handlers_.handle(req, "CreateCluster");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(json::parse(res.body())["cluster"]["clusterArn"],
            "arn:aws:ecs:eu-west-1:000000000000:cluster/eu");
  req.body() = R"({"cluster":"missing"})";
  res = handlers_.handle(req, "DeleteCluster");
  EXPECT_EQ(res.result(), http::status::bad_request);
  const auto body = json::parse(res.body());
  EXPECT_EQ(body["__type"], "ClusterNotFoundException");
  EXPECT_EQ(body["message"], "Cluster not found.");
  req.body() = "{not json";
  res = handlers_.handle(req, "ListClusters");
  EXPECT_EQ(res.result(), http::status::bad_request);
  res = handlers_.handle(req, "NoSuchOperation");
  EXPECT_EQ(res.result(), http::status::bad_request);
}

TEST_F(EcsHandlersTest, FixturesApplyIdempotently) {
  core::FixtureSet set;
  set.file = "fixtures/x.json";
  set.task_definitions.push_back(web_td());
  set.ecs_services.push_back({{"cluster", "demo"},
                              {"serviceName", "web"},
                              {"taskDefinition", "web"},
                              {"desiredCount", 2},
                              {"networkConfiguration", network()},
                              {"serviceRegistries", {{{"registryArn", "web.local"}}}}});
  ASSERT_TRUE(apply_ecs_fixture(handlers_, set, "us-east-1"));
  ASSERT_TRUE(apply_ecs_fixture(handlers_, set, "us-east-1"));
  EXPECT_EQ(engine_.task_definitions("us-east-1").size(), 1u);
  sim_.advance(1s);
  EXPECT_EQ(engine_.service_tasks(*engine_.service("us-east-1", "demo", "web")).size(), 2u);
  set.ecs_services[0]["serviceName"] = "other";
  set.ecs_services[0]["desiredCount"] = -1;
  auto bad = apply_ecs_fixture(handlers_, set, "us-east-1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "fixtures/x.json: ecsServices[0]: InvalidParameterException: desiredCount must be 0 or "
            "more.");
}

}  // namespace
}  // namespace emu::api::aws

namespace emu::api::aws {
namespace {

// Every operation of the installed ECS model, called with its required members only, answers
// something other than UnknownOperationException: an emulated operation its answer, the others
// UnsupportedFeatureException naming the operation.
TEST_F(EcsHandlersTest, EveryModelOperationIsKnown) {
  int emulated = 0;
  for (const auto& op : model::kEcsModel.operations) {
    const auto r = handlers_.call(op.name, minimal_input(model::kEcsModel, op), "us-east-1");
    if (r) {
      ++emulated;
      continue;
    }
    EXPECT_NE(r.error().aws_type, "UnknownOperationException") << op.name;
    if (r.error().aws_type == "UnsupportedFeatureException") {
      EXPECT_NE(r.error().message.find(std::string(op.name)), std::string::npos) << op.name;
    }
  }
  EXPECT_GT(emulated, 0);
  EXPECT_EQ(error("NoSuchOperation", json::object()).rfind("UnknownOperationException: ", 0), 0u);
}

TEST_F(EcsHandlersTest, ModelChecksAnswerAwsText) {
  EXPECT_EQ(error("ListServices", {{"launchType", "MARS"}}),
            "InvalidParameterException: 1 validation error detected: Value 'MARS' at "
            "'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, "
            "FARGATE, EXTERNAL]");
  EXPECT_EQ(error("CreateCluster", {{"clusterName", 5}}),
            "SerializationException: Field clusterName must be a string.");
  EXPECT_EQ(error("DescribeClusters", {{"clusters", "demo"}}),
            "SerializationException: Field clusters must be a list.");
}

}  // namespace
}  // namespace emu::api::aws

namespace emu::api::aws {
namespace {

// A second daemon over the same store: what a restart reads back.
struct Reloaded {
  emu::test::SimTime sim;
  core::Registry registry;
  core::ecs::EcsEngine engine;
  EcsHandlers handlers{engine};
  explicit Reloaded(core::MemoryStore& store)
      : registry(sim.clock, sim.timers, store, core::RegistryConfig{}, 7),
        engine(sim.clock, sim.timers, store, registry, core::ecs::EcsConfig{}, 8) {
    EXPECT_TRUE(registry.load());
    EXPECT_TRUE(engine.load());
  }
};

TEST_F(EcsHandlersTest, UpdateClusterMergesSettingsAndStoresServiceConnectDefaults) {
  call("CreateCluster", {{"clusterName", "demo"}});
  const json updated =
      call("UpdateCluster",
           {{"cluster", "demo"},
            {"settings", {{{"name", "containerInsights"}, {"value", "enabled"}}}},
            {"configuration", {{"executeCommandConfiguration", {{"logging", "DEFAULT"}}}}},
            {"serviceConnectDefaults", {{"namespace", "apps"}}}})["cluster"];
  EXPECT_EQ(updated["settings"],
            json::parse(R"([{"name":"containerInsights","value":"enabled"}])"));
  EXPECT_EQ(updated["configuration"]["executeCommandConfiguration"]["logging"], "DEFAULT");
  // A new namespace name becomes an HTTP namespace (the model's documentation).
  const auto* ns = registry_.namespace_by_name("apps");
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(ns->type, "HTTP");
  EXPECT_EQ(updated["serviceConnectDefaults"]["namespace"], ns->arn);

  const json settings =
      call("UpdateClusterSettings",
           {{"cluster", engine_.cluster_arn("us-east-1", "demo")},
            {"settings", {{{"name", "containerInsights"}, {"value", "enhanced"}}}}});
  EXPECT_EQ(settings["cluster"]["settings"].size(), 1u);
  EXPECT_EQ(settings["cluster"]["settings"][0]["value"], "enhanced");

  Reloaded after(store_);
  auto described = after.handlers.call(
      "DescribeClusters", {{"clusters", {"demo"}}, {"include", {"SETTINGS"}}}, "us-east-1");
  ASSERT_TRUE(described);
  const json& c = (*described)["clusters"][0];
  EXPECT_EQ(c["settings"][0]["value"], "enhanced");
  EXPECT_EQ(c["serviceConnectDefaults"]["namespace"], ns->arn);
  EXPECT_EQ(c["configuration"]["executeCommandConfiguration"]["logging"], "DEFAULT");

  // An existing namespace is used by name; "" removes the default.
  EXPECT_EQ(call("UpdateCluster",
                 {{"cluster", "demo"},
                  {"serviceConnectDefaults",
                   {{"namespace", "apps"}}}})["cluster"]["serviceConnectDefaults"]["namespace"],
            ns->arn);
  EXPECT_FALSE(call("UpdateCluster", {{"cluster", "demo"},
                                      {"serviceConnectDefaults", {{"namespace", ""}}}})["cluster"]
                   .contains("serviceConnectDefaults"));
}

TEST_F(EcsHandlersTest, UpdateClusterErrors) {
  EXPECT_EQ(error("UpdateCluster", {{"cluster", "nope"}}),
            "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(error("UpdateClusterSettings",
                  {{"cluster", "nope"},
                   {"settings", {{{"name", "containerInsights"}, {"value", "enabled"}}}}}),
            "ClusterNotFoundException: Cluster not found.");
  call("CreateCluster", {{"clusterName", "demo"}});
  call("DeleteCluster", {{"cluster", "demo"}});
  EXPECT_EQ(error("UpdateCluster", {{"cluster", "demo"}}),
            "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(error("UpdateClusterSettings",
                  {{"cluster", "demo"}, {"settings", {{{"name", "bogus"}, {"value", "x"}}}}})
                .rfind("InvalidParameterException: 1 validation error detected", 0),
            0u);
}

}  // namespace
}  // namespace emu::api::aws

namespace emu::api::aws {
namespace {

const std::string kRoot = "arn:aws:iam::000000000000:root";
const std::string kUser = "arn:aws:iam::000000000000:user/dev";

TEST_F(EcsHandlersTest, AccountSettingsEffectiveDefaultsCoverTheModelEnum) {
  const json all = call("ListAccountSettings", {{"effectiveSettings", true}, {"maxResults", 10}});
  ASSERT_EQ(all["settings"].size(), 10u);
  const json rest = call("ListAccountSettings", {{"effectiveSettings", true},
                                                 {"nextToken", all["nextToken"]}})["settings"];
  std::vector<std::string> names;
  std::map<std::string, std::string> values;
  for (const auto& s : all["settings"]) names.push_back(s["name"]);
  for (const auto& s : rest) names.push_back(s["name"]);
  for (const auto& s : all["settings"]) values[s["name"]] = s["value"];
  for (const auto& s : rest) values[s["name"]] = s["value"];
  // Every name the (overridden) model's SettingName enum has, once, in its order.
  const auto shape = std::find_if(model::kEcsModel.shapes.begin(), model::kEcsModel.shapes.end(),
                                  [](const model::Shape& s) { return s.name == "SettingName"; });
  ASSERT_NE(shape, model::kEcsModel.shapes.end());
  std::vector<std::string> enum_names;
  for (const auto e : model::kEcsModel.enums_of(*shape)) enum_names.emplace_back(e);
  EXPECT_EQ(names, enum_names);
  EXPECT_EQ(values["serviceLongArnFormat"], "enabled");
  EXPECT_EQ(values["taskLongArnFormat"], "enabled");
  EXPECT_EQ(values["containerInsights"], "disabled");
  EXPECT_EQ(values["fargateTaskRetirementWaitPeriod"], "7");
  EXPECT_EQ(values["tagResourceAuthorization"], "on");
  // Without effectiveSettings only what was set: nothing yet.
  EXPECT_TRUE(call("ListAccountSettings", json::object())["settings"].empty());
}

TEST_F(EcsHandlersTest, AccountSettingsPutListDeleteByPrincipalAndRegion) {
  EXPECT_EQ(call("PutAccountSettingDefault",
                 {{"name", "fargateTaskRetirementWaitPeriod"}, {"value", "14"}})["setting"],
            json::parse(R"({"name":"fargateTaskRetirementWaitPeriod","value":"14",)"
                        R"("principalArn":")" +
                        kRoot + R"(","type":"user"})"));
  const json user = call("PutAccountSetting", {{"name", "fargateTaskRetirementWaitPeriod"},
                                               {"value", "0"},
                                               {"principalArn", kUser}})["setting"];
  EXPECT_EQ(user["principalArn"], kUser);

  auto effective = [&](const std::string& principal, const std::string& region = "us-east-1") {
    json in = {{"effectiveSettings", true}, {"name", "fargateTaskRetirementWaitPeriod"}};
    if (!principal.empty()) in["principalArn"] = principal;
    auto r = handlers_.call("ListAccountSettings", in, region);
    EXPECT_TRUE(r);
    return r ? (*r)["settings"][0]["value"].get<std::string>() : std::string();
  };
  EXPECT_EQ(effective(kUser), "0");
  EXPECT_EQ(effective(""), "14");                                  // the root user's
  EXPECT_EQ(effective("arn:aws:iam::000000000000:role/r"), "14");  // inherits the root's
  EXPECT_EQ(effective("", "eu-west-1"), "7");                      // per region: AWS's default

  // Filters: name, value (needs a name), principal.
  EXPECT_EQ(call("ListAccountSettings", {{"principalArn", kUser}})["settings"].size(), 1u);
  EXPECT_EQ(call("ListAccountSettings",
                 {{"name", "fargateTaskRetirementWaitPeriod"}, {"value", "7"}})["settings"]
                .size(),
            0u);
  EXPECT_EQ(call("ListAccountSettings", {{"name", "containerInsights"},
                                         {"value", "disabled"},
                                         {"effectiveSettings", true}})["settings"]
                .size(),
            1u);
  EXPECT_EQ(
      error("ListAccountSettings", {{"value", "enabled"}}).rfind("InvalidParameterException", 0),
      0u);
  EXPECT_EQ(error("ListAccountSettings", {{"maxResults", 11}}),
            "InvalidParameterException: maxResults must be between 1 and 10.");

  // Survives a restart.
  {
    Reloaded after(store_);
    auto r = after.handlers.call("ListAccountSettings",
                                 {{"effectiveSettings", true},
                                  {"name", "fargateTaskRetirementWaitPeriod"},
                                  {"principalArn", kUser}},
                                 "us-east-1");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["settings"][0]["value"], "0");
  }

  // Deleting the user's value falls back to the root user's.
  EXPECT_EQ(call("DeleteAccountSetting", {{"name", "fargateTaskRetirementWaitPeriod"},
                                          {"principalArn", kUser}})["setting"]["value"],
            "0");
  EXPECT_EQ(effective(kUser), "14");
  EXPECT_TRUE(call("ListAccountSettings", {{"principalArn", kUser}})["settings"].empty());
  Reloaded after(store_);
  auto r = after.handlers.call("ListAccountSettings", {{"principalArn", kUser}}, "us-east-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)["settings"].empty());
}

TEST_F(EcsHandlersTest, AccountSettingValuesAreCheckedPerSetting) {
  struct Case {
    std::string name, value;
    bool ok;
  };
  const Case cases[] = {
      {"serviceLongArnFormat", "enabled", true},
      {"serviceLongArnFormat", "disabled", false},  // AWS: no longer possible
      {"taskLongArnFormat", "disabled", false},
      {"containerInstanceLongArnFormat", "disabled", false},
      {"containerInsights", "enhanced", true},
      {"containerInsights", "on", false},
      {"awsvpcTrunking", "enabled", true},
      {"awsvpcTrunking", "7", false},
      {"fargateTaskRetirementWaitPeriod", "0", true},
      {"fargateTaskRetirementWaitPeriod", "7", true},
      {"fargateTaskRetirementWaitPeriod", "3", false},
      {"fargateTaskRetirementWaitPeriod", "enabled", false},
      {"tagResourceAuthorization", "off", true},
      {"tagResourceAuthorization", "enabled", false},
      {"defaultLogDriverMode", "blocking", true},
      {"defaultLogDriverMode", "enabled", false},
      {"guardDutyActivate", "enabled", false},  // read-only: AWS manages it
  };
  for (const auto& c : cases) {
    auto r =
        handlers_.call("PutAccountSetting", {{"name", c.name}, {"value", c.value}}, "us-east-1");
    EXPECT_EQ(static_cast<bool>(r), c.ok) << c.name << "=" << c.value;
    if (!r) {
      EXPECT_EQ(r.error().aws_type, "InvalidParameterException") << c.name;
    }
  }
  EXPECT_EQ(error("PutAccountSetting", {{"name", "taskLongArnFormat"}, {"value", "disabled"}}),
            "InvalidParameterException: You can no longer disable Long Arn settings.");
  EXPECT_EQ(error("PutAccountSetting", {{"name", "bogus"}, {"value", "enabled"}})
                .rfind("InvalidParameterException: 1 validation error detected", 0),
            0u);
  EXPECT_EQ(error("PutAccountSetting",
                  {{"name", "awsvpcTrunking"}, {"value", "enabled"}, {"principalArn", "bob"}})
                .rfind("InvalidParameterException", 0),
            0u);
  // guardDutyActivate is listed as AWS-managed.
  EXPECT_EQ(call("ListAccountSettings", {{"name", "guardDutyActivate"},
                                         {"effectiveSettings", true}})["settings"][0]["type"],
            "aws_managed");
}

TEST_F(EcsHandlersTest, NewClustersTakeTheAccountsContainerInsights) {
  call("PutAccountSettingDefault", {{"name", "containerInsights"}, {"value", "enhanced"}});
  const json c = call("CreateCluster", {{"clusterName", "a"}})["cluster"];
  EXPECT_EQ(c["settings"], json::parse(R"([{"name":"containerInsights","value":"enhanced"}])"));
  const json given =
      call("CreateCluster",
           {{"clusterName", "b"},
            {"settings", {{{"name", "containerInsights"}, {"value", "disabled"}}}}})["cluster"];
  EXPECT_EQ(given["settings"][0]["value"], "disabled");
}

}  // namespace
}  // namespace emu::api::aws

namespace emu::api::aws {
namespace {

TEST_F(EcsHandlersTest, DiscoverPollEndpointAnswersTheDaemonsApi) {
  handlers_.set_poll_endpoint("http://127.0.0.1:41234/");
  const json out = call("DiscoverPollEndpoint", {{"cluster", "default"}});
  EXPECT_EQ(out, json::parse(R"({"endpoint":"http://127.0.0.1:41234/",)"
                             R"("telemetryEndpoint":"http://127.0.0.1:41234/",)"
                             R"("serviceConnectEndpoint":"http://127.0.0.1:41234/"})"));
}

TEST_F(EcsHandlersTest, AgentStateChangesAreAcknowledged) {
  for (const char* op : {"SubmitTaskStateChange", "SubmitContainerStateChange"}) {
    EXPECT_EQ(call(op, {{"cluster", "default"}, {"task", "t"}, {"status", "RUNNING"}}),
              json::parse(R"({"acknowledgment":"ACK"})"))
        << op;
  }
  EXPECT_EQ(call("SubmitAttachmentStateChanges",
                 {{"attachments", {{{"attachmentArn", "arn:x"}, {"status", "ATTACHED"}}}}}),
            json::parse(R"({"acknowledgment":"ACK"})"));
  EXPECT_EQ(error("SubmitAttachmentStateChanges", json::object()),
            "InvalidParameterException: attachments must be specified.");
}

}  // namespace
}  // namespace emu::api::aws
