#include "emulator/core/ecs/container_spec.hpp"

#include <gtest/gtest.h>

#include "emulator/core/docker_model.hpp"

namespace emu::core::ecs {
namespace {

using nlohmann::json;

constexpr const char* kTaskId = "0123456789abcdef0123456789abcdef";

/// Two containers: an essential app with everything set and a bare non-essential sidecar.
TaskDefinition two_containers() {
  TaskDefinition td;
  td.region = "us-east-1";
  td.family = "web";
  td.revision = 3;
  td.network_mode = "awsvpc";
  ContainerInfo app;
  app.name = "app";
  app.image = "app:1";
  app.port_mappings.push_back({8080, 8080, "tcp"});
  app.port_mappings.push_back({9090, 9090, "udp"});
  app.health_check = ContainerHealthCheck{{"CMD-SHELL", "curl -f localhost:8080"}, 30, 5, 3, 10};
  ContainerInfo sidecar;
  sidecar.name = "sidecar";
  sidecar.image = "envoy";
  sidecar.essential = false;
  td.containers = {app, sidecar};
  td.body = json::parse(R"({
    "family": "web",
    "containerDefinitions": [
      {"name": "app", "image": "app:1", "essential": true,
       "command": ["serve", "--port", "8080"], "entryPoint": ["/bin/tini", "--"],
       "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
       "workingDirectory": "/srv", "user": "1000", "stopTimeout": 10,
       "dockerLabels": {"team": "core", "ecs-emulator.task-id": "spoofed"}},
      {"name": "sidecar", "image": "envoy", "essential": false}
    ]})");
  return td;
}

Task task_of(const TaskDefinition& td) {
  Task t;
  t.id = kTaskId;
  t.arn = std::string("arn:aws:ecs:us-east-1:000000000000:task/demo/") + kTaskId;
  t.cluster = "demo";
  t.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:3";
  (void)td;
  return t;
}

/// The plan as one JSON document, so cases can address any field by JSON pointer.
json plan_json(const TaskPlan& plan) {
  json out = json::array();
  for (const auto& c : plan.containers) out.push_back(c.body);
  return out;
}

struct PlanCase {
  const char* pointer;  ///< into [container bodies]
  json expected;        ///< null = absent
};

class PlanForTest : public testing::TestWithParam<PlanCase> {};

TEST_P(PlanForTest, CreateBodyField) {
  const auto td = two_containers();
  EcsConfig cfg;
  cfg.docker_network = "ecs-net";
  cfg.time_scale = 0.1;
  const json plan = plan_json(plan_for(td, task_of(td), cfg));
  const json::json_pointer ptr(GetParam().pointer);
  if (GetParam().expected.is_null()) {
    EXPECT_FALSE(plan.contains(ptr)) << GetParam().pointer << " = " << plan.value(ptr, json());
  } else {
    ASSERT_TRUE(plan.contains(ptr)) << GetParam().pointer;
    EXPECT_EQ(plan.at(ptr), GetParam().expected) << GetParam().pointer;
  }
}

const PlanCase kCases[] = {
    {"/0/Image", "app:1"},
    {"/0/Cmd", {"serve", "--port", "8080"}},
    {"/0/Entrypoint", {"/bin/tini", "--"}},
    {"/0/Env", {"A=1", "B=2"}},
    {"/0/WorkingDir", "/srv"},
    {"/0/User", "1000"},
    {"/0/ExposedPorts", {{"8080/tcp", json::object()}, {"9090/udp", json::object()}}},
    // labels: the task def's dockerLabels, then the agent's (which a dockerLabel cannot hide)
    {"/0/Labels/team", "core"},
    {"/0/Labels/ecs-emulator.task-id", kTaskId},
    {"/0/Labels/com.amazonaws.ecs.task-arn",
     std::string("arn:aws:ecs:us-east-1:000000000000:task/demo/") + kTaskId},
    {"/0/Labels/com.amazonaws.ecs.cluster", "arn:aws:ecs:us-east-1:000000000000:cluster/demo"},
    {"/0/Labels/com.amazonaws.ecs.task-definition-family", "web"},
    {"/0/Labels/com.amazonaws.ecs.task-definition-version", "3"},
    {"/0/Labels/com.amazonaws.ecs.container-name", "app"},
    {"/1/Labels/com.amazonaws.ecs.container-name", "sidecar"},
    // health check: as ECS gives it, times in nanoseconds scaled by 0.1
    {"/0/Healthcheck/Test", {"CMD-SHELL", "curl -f localhost:8080"}},
    {"/0/Healthcheck/Interval", 3'000'000'000LL},  // 30 s * 0.1
    {"/0/Healthcheck/Timeout", 500'000'000LL},     // 5 s * 0.1
    {"/0/Healthcheck/StartPeriod", 1'000'000'000LL},
    {"/0/Healthcheck/Retries", 3},
    {"/1/Healthcheck", nullptr},
    // stop timeout: the definition's, else ECS_CONTAINER_STOP_TIMEOUT
    {"/0/StopTimeout", 10},
    {"/1/StopTimeout", 30},
    // the first container owns the network, the second joins it
    {"/0/HostConfig/NetworkMode", "ecs-net"},
    {"/1/HostConfig/NetworkMode", "container:ecs-web-3-app-0123456789ab"},
    {"/0/HostConfig/Init", false},
    {"/1/Cmd", nullptr},
    {"/1/Env", json::array()},
    {"/1/User", nullptr},
};
INSTANTIATE_TEST_SUITE_P(TwoContainers, PlanForTest, testing::ValuesIn(kCases));

TEST(PlanForTest, NamesAndOrder) {
  const auto td = two_containers();
  const auto plan = plan_for(td, task_of(td), EcsConfig{});
  EXPECT_EQ(plan.task_id, kTaskId);
  EXPECT_EQ(plan.task_arn, task_of(td).arn);
  EXPECT_EQ(plan.image_of_first, "app:1");
  ASSERT_EQ(plan.containers.size(), 2u);
  EXPECT_EQ(plan.containers[0].container_name, "app");
  EXPECT_EQ(plan.containers[0].docker_name, "ecs-web-3-app-0123456789ab");
  EXPECT_TRUE(plan.containers[0].essential);
  EXPECT_EQ(plan.containers[1].docker_name, "ecs-web-3-sidecar-0123456789ab");
  EXPECT_FALSE(plan.containers[1].essential);
  EXPECT_EQ(plan.containers[0].body["HostConfig"]["NetworkMode"], "bridge");  // the default
}

TEST(PlanForTest, DockerNameKeepsOnlyDockerCharacters) {
  TaskDefinition td;
  td.family = "my app/v2";
  td.revision = 12;
  EXPECT_EQ(docker_name(td, "web:main", kTaskId), "ecs-myappv2-12-webmain-0123456789ab");
}

TEST(PlanForTest, HealthTimesAreScaledNanoseconds) {
  EXPECT_EQ(health_nanoseconds(30, 1.0), 30'000'000'000LL);
  EXPECT_EQ(health_nanoseconds(5, 0.1), 500'000'000LL);
  EXPECT_EQ(health_nanoseconds(0, 0.1), 0);               // 0: Docker's default
  EXPECT_EQ(health_nanoseconds(1, 0.000001), 1'000'000);  // never below Docker's 1 ms
}

TEST(PlanForTest, RunTaskOverridesWin) {
  const auto td = two_containers();
  const json overrides = json::parse(R"({"containerOverrides": [
      {"name": "app", "command": ["migrate"], "environment": [{"name": "B", "value": "9"},
                                                              {"name": "C", "value": "3"}]}]})");
  const json plan = plan_json(plan_for(td, task_of(td), EcsConfig{}, overrides));
  EXPECT_EQ(plan[0]["Cmd"], json({"migrate"}));
  EXPECT_EQ(plan[0]["Env"], json({"A=1", "B=9", "C=3"}));
  EXPECT_FALSE(plan[1].contains("Cmd"));  // only the named container
}

TEST(PlanForTest, DefinitionWithoutBodyStillPlans) {
  // Task definitions built in code carry ContainerInfo only (no AWS body).
  auto td = two_containers();
  td.body = json::object();
  const json plan = plan_json(plan_for(td, task_of(td), EcsConfig{}));
  EXPECT_EQ(plan[0]["Image"], "app:1");
  EXPECT_EQ(plan[0]["Env"], json::array());
  EXPECT_EQ(plan[0]["Labels"][kLabelContainerName], "app");
  EXPECT_EQ(plan[0]["Healthcheck"]["Interval"], 30'000'000'000LL);
}

}  // namespace
}  // namespace emu::core::ecs
