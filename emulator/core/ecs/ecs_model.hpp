#pragma once
// Value types of the ECS layer (SPEC section 3): clusters, task definitions and ECS services.
// Tasks themselves are core::Task values owned by the Registry (launch = Simulated or Docker,
// see is_ecs_task()). Whatever AWS
// echoes back without the emulator acting on it (volumes, roles, cpu, ...) is kept as JSON.

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emulator/core/model.hpp"
#include "emulator/core/time.hpp"

namespace emu::core::ecs {

using Tags = std::map<std::string, std::string>;

/// True for the tasks the ECS layer owns (simulated or Docker), as opposed to registered
/// endpoints and Cloud Map instances.
inline bool is_ecs_task(const Task& t) {
  return t.launch == Launch::Simulated || t.launch == Launch::Docker;
}

/// An ECS cluster (per region).
struct Cluster {
  std::string region;
  std::string name;
  std::string arn;
  std::string status = "ACTIVE";  ///< ACTIVE | INACTIVE
  nlohmann::json settings = nlohmann::json::array();
  nlohmann::json configuration;             ///< null = absent
  nlohmann::json service_connect_defaults;  ///< {"namespace": <Cloud Map ARN>}; null = absent
  std::vector<std::string> capacity_providers;
  WallTime created_at{};
};

/// One port mapping of a container definition.
struct PortMapping {
  int container_port = 0;
  int host_port = 0;
  std::string protocol = "tcp";
};

/// A container healthCheck as ECS defines it (whole seconds).
struct ContainerHealthCheck {
  std::vector<std::string> command;
  int interval = 30;
  int timeout = 5;
  int retries = 3;
  int start_period = 0;
};

/// What the emulator reads from a container definition; the rest stays in the JSON body.
struct ContainerInfo {
  std::string name;
  std::string image;
  bool essential = true;
  std::vector<PortMapping> port_mappings;
  std::optional<ContainerHealthCheck> health_check;
};

/// One container of a Docker task as the engine tracks it (DescribeTasks containers[]).
struct TaskContainer {
  std::string name;  ///< the ECS container name
  std::string image;
  std::string docker_id;  ///< empty until the runtime created it
  bool essential = true;
  bool health_check = false;  ///< the definition has a healthCheck (counts for the task's health)
  Health health = Health::Unknown;
  std::optional<int> exit_code;
  std::string last_status = "PENDING";  ///< PENDING | RUNNING | STOPPED
  std::string reason;                   ///< why it stopped, when known
  bool operator==(const TaskContainer&) const = default;
};

/// A task definition revision.
struct TaskDefinition {
  std::string region;
  std::string family;
  int revision = 1;
  std::string arn;
  std::string status = "ACTIVE";  ///< ACTIVE | INACTIVE
  std::string network_mode = "bridge";
  std::vector<ContainerInfo> containers;
  nlohmann::json body = nlohmann::json::object();  ///< the AWS shape, without status/times/tags
  WallTime registered_at{};
  std::optional<WallTime> deregistered_at;
};

/// One serviceRegistries entry of an ECS service.
struct ServiceRegistry {
  std::string registry_arn;  ///< the Cloud Map service ARN
  std::optional<int> port;
  std::string container_name;
  std::optional<int> container_port;
};

/// One entry of a service's events[] (newest first, at most 100).
struct ServiceEvent {
  std::string id;
  WallTime created_at{};
  std::string message;
};

/// A deployment of an ECS service (ecs-svc/<19 digits>).
struct Deployment {
  std::string id;
  std::string task_definition_arn;
  WallTime created_at{};
  WallTime updated_at{};
};

/// An ECS service: keeps desiredCount tasks of its primary deployment running.
struct EcsService {
  std::string region;
  std::string cluster;  ///< cluster name
  std::string name;
  std::string arn;
  std::string status = "ACTIVE";  ///< ACTIVE | DRAINING | INACTIVE
  int desired_count = 0;
  std::string task_definition_arn;
  std::string launch_type = "FARGATE";
  std::string scheduling_strategy = "REPLICA";
  std::vector<ServiceRegistry> registries;
  std::string discovery_service_id;      ///< Cloud Map service id resolved from registries[0]
  nlohmann::json network_configuration;  ///< null = absent
  nlohmann::json deployment_configuration = {{"maximumPercent", 200},
                                             {"minimumHealthyPercent", 100}};
  std::optional<int> health_check_grace_period;
  std::string client_token;
  Deployment primary;
  std::vector<Deployment> old_deployments;  ///< ACTIVE deployments still draining
  std::deque<ServiceEvent> events;          ///< newest first
  bool steady = false;
  int start_failures = 0;                      ///< consecutive tasks that stopped before RUNNING
  std::optional<WallTime> last_start_failure;  ///< memory only: when the last start failed
  std::optional<TimePoint> throttled_until;    ///< ECS throttle (memory only): no start before this
  int replaced_unhealthy = 0;                  ///< to mention in the next "has started" event
  WallTime created_at{};
  nlohmann::json request = nlohmann::json::object();  ///< the CreateService body (idempotency)
};

/// A container the runtime created and that has not exited (yet).
inline bool is_live(const TaskContainer& c) {
  return !c.docker_id.empty() && c.last_status != "STOPPED";
}

/// ECS data of a task that core::Task has no field for (persisted as kind "ecs-task").
struct TaskExtra {
  std::string launch_type = "FARGATE";
  std::string availability_zone;
  nlohmann::json overrides = nlohmann::json::object();
  nlohmann::json network_configuration;   ///< null = none
  std::vector<TaskContainer> containers;  ///< Docker tasks: one per container definition
};

/// RunTask (and a service's task starts).
struct RunTaskInput {
  std::string region;
  std::string cluster = "default";
  std::string task_definition_arn;
  int count = 1;
  std::string started_by;
  std::string group;  ///< empty = family:<family>
  TaskExtra extra;
  Tags tags;
};

/// RunTask's result: started tasks, and failures (e.g. no free IP).
struct RunTaskOutput {
  std::vector<Task> tasks;
  std::vector<std::pair<std::string, std::string>> failures;  ///< (arn, reason)
};

/// UpdateService: unset = unchanged.
struct ServiceUpdate {
  std::optional<int> desired_count;
  std::optional<std::string> task_definition_arn;
  std::optional<std::vector<ServiceRegistry>> registries;
  std::optional<nlohmann::json> network_configuration;
  std::optional<nlohmann::json> deployment_configuration;
  std::optional<int> health_check_grace_period;
  bool force_new_deployment = false;
};

/// Key of a service: region/cluster/name.
inline std::string service_key(const std::string& region, const std::string& cluster,
                               const std::string& name) {
  return region + "/" + cluster + "/" + name;
}

}  // namespace emu::core::ecs
