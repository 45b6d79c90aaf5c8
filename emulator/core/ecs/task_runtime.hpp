#pragma once
// TaskRuntime: how EcsEngine runs tasks for real (the Docker backend). The engine decides, the
// runtime acts and later reports back through EcsEngine::on_* calls on the core thread. The
// engine never waits for it; tests use a fake that records the calls.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace emu::core::ecs {

/// One container of a task, ready to be created: `body` is the Docker Engine API
/// `POST /containers/create` body (Image, Cmd, Entrypoint, Env, Labels, Healthcheck,
/// HostConfig.NetworkMode, StopTimeout, ...).
struct ContainerPlan {
  std::string container_name;  ///< the ECS container name (task definition)
  std::string docker_name;     ///< the Docker container name (unique per task)
  bool essential = true;
  nlohmann::json body = nlohmann::json::object();
};

/// All containers of one task, in start order; the first owns the network namespace and the
/// others join it (`container:<first>`), as the containers of an awsvpc task share one ENI.
struct TaskPlan {
  std::string task_id;
  std::string task_arn;
  std::string image_of_first;  ///< for messages
  std::vector<ContainerPlan> containers;
};

class TaskRuntime {
 public:
  virtual ~TaskRuntime() = default;
  /// Creates and starts the task's containers (pulling a missing image first). Reports
  /// on_containers_created, then on_task_started or on_launch_failed.
  virtual void launch(const TaskPlan& plan) = 0;
  /// Stops the containers (SIGTERM, SIGKILL after `stop_timeout_s`). Reports on_container_exited
  /// for each; a container that is already gone reports at once.
  virtual void stop(const std::string& task_id, const std::vector<std::string>& container_ids,
                    int stop_timeout_s) = 0;
  /// Removes containers the engine no longer needs (orphans found on startup, stopped tasks
  /// purged). Fire and forget.
  virtual void remove(const std::vector<std::string>& container_ids) = 0;
};

}  // namespace emu::core::ecs
