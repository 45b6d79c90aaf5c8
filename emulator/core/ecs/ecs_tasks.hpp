#pragma once
// EcsTasks: the owner of every ECS task's lifecycle (simulated and Docker). It starts tasks
// (RunTask, a service's starts), moves them through the lifecycle table (task_lifecycle) and
// nothing else does: simulated tasks step on the TimerQueue, Docker tasks move on what the
// DockerTaskDriver reports, and a stop always goes DEACTIVATING, STOPPING, DEPROVISIONING,
// STOPPED. It keeps the ECS data of each task (TaskExtra, kind "ecs-task") and indexes the ECS
// tasks by cluster and by service, so a change costs the same with 10 or 10,000 tasks.
// Core thread only.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/core/ecs/ecs_catalog.hpp"
#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/ecs/ecs_part.hpp"
#include "emulator/core/ecs/ip_pool.hpp"
#include "emulator/core/ecs/task_lifecycle.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::core::ecs {

class DockerTaskDriver;

/// ECS: the stop code and reason of a task whose essential container exited.
inline constexpr const char* kEssentialExited = "EssentialContainerExited";
inline constexpr const char* kEssentialExitedReason = "Essential container in task exited";
/// A container that was gone when the emulator came back.
inline constexpr const char* kNotFoundAfterRestart = "container not found after restart";

/// What a Docker task's containers showed after a restart (DockerTaskDriver::adopt).
struct AdoptedTask {
  bool created = false;             ///< some container of it exists
  bool all_running = false;         ///< every container runs
  bool essentials_running = false;  ///< every essential container runs
  bool essential_exited = false;    ///< an essential one exited with a code
  std::string ipv4, ipv6;           ///< the first container's addresses
  std::string first_container_id;
};

class EcsTasks : private EcsPart {
 public:
  explicit EcsTasks(const EcsPart& part);
  EcsTasks(const EcsTasks&) = delete;
  EcsTasks& operator=(const EcsTasks&) = delete;

  /// Who runs Docker tasks; while it has a runtime, new tasks are Docker tasks.
  void set_driver(DockerTaskDriver* driver) { driver_ = driver; }
  /// Told when a service task reaches RUNNING (the scheduler ends a start throttle).
  void set_on_running(std::function<void(const Task&)> on_running) {
    on_running_ = std::move(on_running);
  }

  // Commands --------------------------------------------------------------------------------
  /// Starts `count` tasks in PROVISIONING: simulated ones step on to RUNNING, Docker ones are
  /// launched through the driver.
  Result<RunTaskOutput> run_task(const RunTaskInput& input);
  /// One task of `td`, of `service` when given (then a failure to get an address is a
  /// TaskFailedToStart task, not an error).
  Result<Task> start_one(const RunTaskInput& input, const TaskDefinition& td,
                         const EcsService* service);
  /// StopTask: code UserInitiated.
  Result<Task> stop_task(const std::string& region, const std::string& cluster,
                         const std::string& task_id, const std::string& reason);
  Result<Task> stop_task(const std::string& task_id, const std::string& reason);
  /// Starts stopping a task (desiredStatus STOPPED): DEACTIVATING, or STOPPED at once when a
  /// Docker task has no container yet. A task already stopping is returned as it is.
  Result<Task> begin_stop(const Task& task, std::string code, std::string reason);

  // Queries ---------------------------------------------------------------------------------
  /// ECS tasks of a region and cluster, any status (oldest first).
  std::vector<const Task*> tasks(const std::string& region, const std::string& cluster) const;
  /// Tasks of an ECS service (key: service_key()), any status (oldest first).
  std::vector<const Task*> service_tasks(const std::string& service_key) const;
  /// The ECS task with this ARN, if any.
  const Task* task_by_arn(const std::string& arn) const;
  const TaskExtra* task_extra(const std::string& task_id) const;

  // Docker tasks: what the runtime's reports mean (called by DockerTaskDriver) ----------------
  TaskExtra* extra(const std::string& task_id);
  StoreChange extra_row(const std::string& task_id) const;
  /// Writes the task's container data on its own (no move of the task).
  void save_extra(const std::string& task_id);
  /// The containers exist (first: the task's container id): PROVISIONING -> PENDING.
  void containers_created(const std::string& task_id, const std::string& first_container_id);
  /// All containers run: ACTIVATING (registered in Cloud Map, in DNS), then RUNNING. False when
  /// the task did not start (stopping, already started, or its registry is gone).
  bool containers_started(const std::string& task_id, const std::string& ipv4,
                          const std::string& ipv6, std::vector<StoreChange> also = {});
  /// Pull, create or start failed: STOPPED with TaskFailedToStart (counts for the throttle).
  void fail_start(const std::string& task_id, const std::string& reason);
  /// A container exited: an essential one stops a running task (EssentialContainerExited);
  /// the last one of a stopping task ends its STOPPING.
  void container_exited(const std::string& task_id, bool essential);
  /// The runtime is about to SIGTERM the containers: DEACTIVATING -> STOPPING.
  void containers_stopping(const std::string& task_id);
  /// No container of a stopping task runs any more: DEPROVISIONING, then STOPPED after a step.
  void containers_stopped(const std::string& task_id);
  /// After a restart, with what its containers showed.
  void adopted(const std::string& task_id, const AdoptedTask& seen);
  /// Live Docker tasks (for adopt()).
  std::vector<std::string> live_docker_tasks() const;
  /// Docker ids of every container of every task (a reset removes them).
  std::vector<std::string> all_container_ids() const;

  // State -----------------------------------------------------------------------------------
  /// Takes a stored "ecs-task" row.
  Result<void> load_extra(const std::string& task_id, const nlohmann::json& body);
  /// After load: indexes the Registry's ECS tasks and resumes simulated lifecycles (Docker
  /// tasks wait for adopt(): only their containers can tell where they are).
  void resume();
  /// Keeps the indexes current after a Registry commit; returns the Docker ids of the
  /// containers of tasks that are gone (purged, erased), whose ECS data is dropped with them.
  std::vector<std::string> on_commit(const CommitInfo& info);
  void clear();

 private:
  Result<Task> move(Task task, TaskEvent event, const StopCause& cause = {},
                    const std::string& note = {}, std::vector<StoreChange> also = {});
  void schedule_step(const std::string& task_id);
  void step(const std::string& task_id);
  void note_running(const Task& task);
  bool docker() const;
  std::string availability_zone(const std::string& region);
  void index(const Task& task);
  void unindex(const std::string& task_id);
  std::vector<const Task*> sorted(const std::set<std::string>& ids) const;

  DockerTaskDriver* driver_ = nullptr;
  std::function<void(const Task&)> on_running_;
  IpPool pool_;
  std::map<std::string, TaskExtra> extras_;      // task id
  std::map<std::string, TimerQueue::Id> steps_;  // task id -> pending lifecycle step
  std::uint64_t generation_ = 0;                 // bumped on clear: stale timers do nothing
  std::size_t az_next_ = 0;
  // Indexes over the Registry's ECS tasks (kept by on_commit).
  struct Indexed {
    std::string cluster;  ///< region/cluster
    std::string service;  ///< service_key(), empty without a service
    std::string ipv4;     ///< a live simulated task's pool address
  };
  std::unordered_map<std::string, Indexed> indexed_;         // task id
  std::map<std::string, std::set<std::string>> by_cluster_;  // region/cluster -> task ids
  std::map<std::string, std::set<std::string>> by_service_;  // service key -> task ids
  std::map<std::string, int> ip_refs_;                       // pool address -> live tasks
  std::set<std::string> used_ips_;                           // the keys of ip_refs_
};

}  // namespace emu::core::ecs
