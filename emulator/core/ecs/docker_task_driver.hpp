#pragma once
// DockerTaskDriver: runs ECS tasks as containers through a TaskRuntime. It launches and stops
// containers when the task lifecycle (EcsTasks) asks, keeps each container's data up to date
// from the runtime's reports (on_*) and translates those reports into lifecycle events; it
// decides no move of a task itself. Docker's health of the containers is recorded as the task's
// observed health (the scheduler decides what an UNHEALTHY service task means). It also owns
// the emulator's identity among the users of one Docker engine (kind "ecs-meta"). Core thread
// only; the runtime is called from the timer queue, never from inside a Registry observer.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "emulator/core/docker_model.hpp"
#include "emulator/core/ecs/ecs_catalog.hpp"
#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/ecs/ecs_part.hpp"
#include "emulator/core/ecs/ecs_tasks.hpp"
#include "emulator/core/ecs/task_runtime.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::core::ecs {

class DockerTaskDriver : private EcsPart {
 public:
  DockerTaskDriver(const EcsPart& part, EcsTasks& tasks);
  DockerTaskDriver(const DockerTaskDriver&) = delete;
  DockerTaskDriver& operator=(const DockerTaskDriver&) = delete;

  /// Null = no Docker: new tasks are simulated. The runtime must outlive the driver.
  void set_runtime(TaskRuntime* runtime) { runtime_ = runtime; }
  bool enabled() const { return runtime_ != nullptr; }

  /// Label ecs-emulator.instance of this emulator's containers (16 hex, kept in the state).
  const std::string& instance_id() const { return instance_id_; }
  /// Takes the stored "ecs-meta/instance" row.
  Result<void> load_instance(const nlohmann::json& body);
  /// Stores the instance id unless it is stored already.
  Result<void> ensure_instance_id();
  /// After a reset: the identity stays (stored again) and the old state's containers go.
  void after_reset(std::vector<std::string> container_ids);

  // What the lifecycle asks ------------------------------------------------------------------
  /// Launches the task's containers from the timer queue (never inside the command).
  void schedule_launch(const std::string& task_id);
  /// Forgets a launch not yet asked of the runtime.
  void cancel_launch(const std::string& task_id);
  /// A task whose launch never got as far as a container: its containers start afresh.
  void relaunch(const std::string& task_id);
  /// Stops the task's live containers from the timer queue (the lifecycle moves on when they
  /// have exited; a task with none left finishes at once).
  void schedule_container_stop(const std::string& task_id);
  /// Records the task's health from its containers' (UNHEALTHY > UNKNOWN > HEALTHY over the
  /// essential containers with a healthCheck).
  void apply_container_health(const std::string& task_id, const std::string& reason);
  /// Removes containers from the timer queue (fire and forget).
  void remove_later(std::vector<std::string> container_ids);

  // Reports of the TaskRuntime (core thread); see EcsEngine ------------------------------------
  void on_containers_created(const std::string& task_id,
                             const std::vector<std::pair<std::string, std::string>>& ids);
  void on_task_started(const std::string& task_id, const std::string& ipv4,
                       const std::string& ipv6);
  void on_launch_failed(const std::string& task_id, const std::string& reason);
  void on_container_health(const std::string& task_id, const std::string& container_name,
                           Health health, const std::string& reason);
  void on_container_exited(const std::string& task_id, const std::string& container_name,
                           int exit_code, const std::string& reason);
  std::vector<std::string> adopt(const std::vector<ObservedContainer>& containers);

  /// Cancels what is pending (a reset, a new load).
  void clear();

 private:
  const Task* docker_task(const std::string& task_id) const;
  void launch(const std::string& task_id);
  void stop_containers(const std::string& task_id);
  void adopt_task(const std::string& task_id, const std::vector<const ObservedContainer*>& seen);
  TaskContainer* container_of(const std::string& task_id, const std::string& name);
  int stop_timeout_of(const Task& task) const;
  StoreChange instance_row() const;

  EcsTasks& tasks_;
  TaskRuntime* runtime_ = nullptr;
  std::map<std::string, TimerQueue::Id> launches_;  // task id -> launch not yet asked
  std::string instance_id_;
  bool instance_saved_ = false;   ///< instance_id_ is in the store
  std::uint64_t generation_ = 0;  // bumped on clear: stale timers do nothing
};

}  // namespace emu::core::ecs
