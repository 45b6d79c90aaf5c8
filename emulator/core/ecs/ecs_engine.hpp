#pragma once
// EcsEngine: the ECS layer's state (clusters, task definitions, ECS services, per region) and the
// runtime around the pure parts: simulated tasks step through the lifecycle on the TimerQueue,
// Docker tasks are launched through a TaskRuntime and move on as it reports back (on_*), and the
// service scheduler (reconcile()) runs after every change of a service or its tasks. Tasks live
// in the Registry (launch = Simulated or Docker); the engine persists its own kinds ("cluster",
// "task-definition", "ecs-service", "ecs-task", "ecs-tags") through the same Store and drops
// them on a registry reset. Core thread only; no I/O but the Store (the runtime is called from
// the timer queue, never from inside a Registry observer).

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "emulator/core/docker_model.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/ecs/ip_pool.hpp"
#include "emulator/core/ecs/reconciler.hpp"
#include "emulator/core/ecs/task_lifecycle.hpp"
#include "emulator/core/ecs/task_runtime.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::core::ecs {

/// Settings resolved once at startup.
struct EcsConfig {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::string task_cidr = "10.10.0.0/16";
  Duration step{50};        ///< delay between two lifecycle states of a simulated task
  double time_scale = 1.0;  ///< multiplies ECS health-check timings (probes of real containers)
  std::size_t max_events = 100;
  Duration throttle_base{10'000};         ///< first restart delay after repeated start failures
  Duration throttle_max{900'000};         ///< ECS: up to 15 minutes
  std::string docker_network = "bridge";  ///< Docker tasks: network of a task's first container
  int stop_timeout_s = 30;  ///< ECS_CONTAINER_STOP_TIMEOUT; a container's stopTimeout wins
};

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

/// The ECS health check as a probe spec, timings multiplied by `time_scale`.
HealthCheckSpec to_probe_spec(const ContainerHealthCheck& check, double time_scale);

class EcsEngine {
 public:
  EcsEngine(const TimeSource& time, TimerQueue& timers, Store& store, Registry& registry,
            EcsConfig config, std::uint64_t seed);
  EcsEngine(const EcsEngine&) = delete;
  EcsEngine& operator=(const EcsEngine&) = delete;

  /// Validates the config (task CIDR, time scale, stop timeout, Docker network).
  static Result<void> validate(const EcsConfig& config);
  /// Runs new tasks through `runtime` (Launch::Docker) instead of simulating them; null =
  /// simulated. Call before load(); the runtime must outlive the engine.
  void set_runtime(TaskRuntime* runtime) { runtime_ = runtime; }
  /// Reads the ECS kinds from the store (after Registry::load), resumes simulated lifecycles and
  /// schedules a reconcile of every service. Docker tasks wait for adopt().
  Result<void> load();
  const EcsConfig& config() const { return config_; }
  /// This emulator's identity among the users of one Docker engine (16 hex, kept in the state,
  /// surviving restarts and resets): its task containers carry it as label ecs-emulator.instance,
  /// and adoption and orphan removal only ever consider containers with it. Random at
  /// construction; load() replaces it with the stored one or stores it.
  const std::string& instance_id() const { return instance_id_; }
  Registry& registry() { return registry_; }
  const Registry& registry() const { return registry_; }

  // ARNs and ids ----------------------------------------------------------------------------
  std::string arn(const std::string& region, const std::string& resource) const;
  std::string cluster_arn(const std::string& region, const std::string& name) const;
  std::string task_arn(const std::string& region, const std::string& cluster,
                       const std::string& id) const;
  std::string service_arn(const std::string& region, const std::string& cluster,
                          const std::string& name) const;
  std::string new_uuid();

  // Clusters --------------------------------------------------------------------------------
  /// Creates a cluster; an ACTIVE one of that name is returned as it is (idempotent).
  Result<Cluster> create_cluster(Cluster cluster, Tags tags);
  /// Marks a cluster INACTIVE; fails while it has ACTIVE/DRAINING services or active tasks.
  Result<Cluster> delete_cluster(const std::string& region, const std::string& name);
  /// An ACTIVE or INACTIVE cluster by name.
  const Cluster* cluster(const std::string& region, const std::string& name) const;
  std::vector<const Cluster*> clusters(const std::string& region) const;

  // Task definitions ------------------------------------------------------------------------
  /// Registers the next revision of the family (revision and ARN assigned here).
  Result<TaskDefinition> register_task_definition(TaskDefinition td, Tags tags);
  /// Marks a revision INACTIVE.
  Result<TaskDefinition> deregister_task_definition(const std::string& region,
                                                    const std::string& family, int revision);
  /// By family (latest ACTIVE revision) or family + revision (any status).
  const TaskDefinition* task_definition(const std::string& region, const std::string& family,
                                        std::optional<int> revision) const;
  const TaskDefinition* task_definition_by_arn(const std::string& arn) const;
  std::vector<const TaskDefinition*> task_definitions(const std::string& region) const;

  // Tasks -----------------------------------------------------------------------------------
  /// Starts `count` tasks in PROVISIONING: simulated ones step on to RUNNING, Docker ones are
  /// launched through the runtime.
  Result<RunTaskOutput> run_task(const RunTaskInput& input);
  /// Starts stopping a task (desiredStatus STOPPED; DEACTIVATING ... STOPPED); code UserInitiated.
  Result<Task> stop_task(const std::string& region, const std::string& cluster,
                         const std::string& task_id, const std::string& reason);
  /// The same for an ECS task given by id alone (the native DELETE /v1/tasks/{id}): NotFound
  /// for a task that is not one of ours.
  Result<Task> stop_task(const std::string& task_id, const std::string& reason);
  /// ECS tasks (simulated or Docker) of a region and cluster, any status.
  std::vector<const Task*> tasks(const std::string& region, const std::string& cluster) const;
  const TaskExtra* task_extra(const std::string& task_id) const;

  // Services --------------------------------------------------------------------------------
  /// Creates a service (ACTIVE) with its first deployment; scheduling starts at once. With the
  /// same clientToken and body as an existing ACTIVE one, that one is returned.
  Result<EcsService> create_service(EcsService service, Tags tags);
  Result<EcsService> update_service(const std::string& region, const std::string& cluster,
                                    const std::string& name, const ServiceUpdate& update);
  /// DRAINING (INACTIVE once its tasks have stopped); needs desiredCount 0 unless `force`.
  Result<EcsService> delete_service(const std::string& region, const std::string& cluster,
                                    const std::string& name, bool force);
  /// The newest service of that name (ACTIVE or DRAINING first, else INACTIVE).
  const EcsService* service(const std::string& region, const std::string& cluster,
                            const std::string& name) const;
  std::vector<const EcsService*> services(const std::string& region,
                                          const std::string& cluster) const;
  std::vector<const Task*> service_tasks(const EcsService& service) const;
  /// The Cloud Map service with this ARN, if any.
  const Service* discovery_service_by_arn(const std::string& arn) const;

  // Tags ------------------------------------------------------------------------------------
  /// True when the ARN names an existing cluster, task definition, service or task.
  bool resource_exists(const std::string& arn) const;
  Result<void> tag_resource(const std::string& arn, const Tags& tags);
  Result<void> untag_resource(const std::string& arn, const std::vector<std::string>& keys);
  Tags tags_of(const std::string& arn) const;

  /// Runs the scheduler of every service now (tests; the engine schedules it by itself).
  void reconcile_all();

  // Docker tasks: reports of the TaskRuntime (core thread) -------------------------------------
  /// The task's containers exist: (ECS container name, Docker id) in start order. PROVISIONING
  /// -> PENDING; a task stopped meanwhile has them stopped.
  void on_containers_created(const std::string& task_id,
                             const std::vector<std::pair<std::string, std::string>>& ids);
  /// All containers run: the task gets its address and goes ACTIVATING (registered in Cloud Map
  /// and DNS) then RUNNING. A task asked to stop meanwhile has its containers stopped instead.
  void on_task_started(const std::string& task_id, const std::string& ipv4,
                       const std::string& ipv6);
  /// Pull, create or start failed: STOPPED with TaskFailedToStart (counts for the ECS throttle).
  void on_launch_failed(const std::string& task_id, const std::string& reason);
  /// Docker's health of one container; the task's health is the worst over its essential
  /// containers with a healthCheck (UNHEALTHY > UNKNOWN > HEALTHY).
  void on_container_health(const std::string& task_id, const std::string& container_name,
                           Health health, const std::string& reason);
  /// A container exited. An essential one stops the task (EssentialContainerExited); once all
  /// containers of a stopping task have exited, the task is STOPPED.
  void on_container_exited(const std::string& task_id, const std::string& container_name,
                           int exit_code, const std::string& reason);
  /// After load(), with every container labelled ecs-emulator.task-id: running containers of
  /// live Docker tasks are taken over as they are, tasks whose containers are gone are stopped,
  /// tasks still PROVISIONING/PENDING without containers are launched again. Returns the ids of
  /// containers whose task is unknown or STOPPED (for the caller to remove).
  std::vector<std::string> adopt(const std::vector<ObservedContainer>& containers);

 private:
  void on_commit(const CommitInfo& info);
  void clear();
  Result<void> ensure_instance_id();
  StoreChange instance_row() const;
  static constexpr const char* kMetaKind = "ecs-meta";
  static constexpr const char* kInstanceRow = "instance";
  Result<void> persist(std::vector<StoreChange> changes);
  StoreChange row(const Cluster& c) const;
  StoreChange row(const TaskDefinition& td) const;
  StoreChange row(const EcsService& s) const;
  StoreChange tags_row(const std::string& arn) const;
  Result<Task> start_one(const RunTaskInput& input, const TaskDefinition& td,
                         const EcsService* service);
  /// The one way the engine changes a task's state: the lifecycle table's move, written with
  /// `also` (the engine's own rows) in one commit.
  Result<Task> move(Task task, TaskEvent event, const StopCause& cause = {},
                    const std::string& note = {}, std::vector<StoreChange> also = {});
  StoreChange extra_row(const std::string& task_id) const;
  void schedule_step(const std::string& task_id);
  void step(const std::string& task_id);
  Result<Task> begin_stop(const Task& task, std::string code, std::string reason);
  void note_running(const Task& task);
  // Docker tasks
  void schedule_launch(const std::string& task_id);
  void launch(const std::string& task_id);
  void schedule_container_stop(const std::string& task_id);
  void stop_containers(const std::string& task_id);
  void finish_stop(const std::string& task_id);
  void start_docker_task(const std::string& task_id, const std::string& ipv4,
                         const std::string& ipv6, std::vector<StoreChange> also = {});
  void apply_container_health(const std::string& task_id, const std::string& reason);
  void fail_start(const std::string& task_id, const std::string& reason);
  void adopt_task(const std::string& task_id, const std::vector<const ObservedContainer*>& seen);
  void remove_later(std::vector<std::string> container_ids);
  void save_extra(const std::string& task_id);
  TaskContainer* container_of(const std::string& task_id, const std::string& name);
  int stop_timeout_of(const Task& task) const;
  void mark_dirty(const std::string& service_key);
  void run_dirty();
  void reconcile_service(const std::string& key);
  void add_event(EcsService& service, std::string message);
  std::string new_deployment_id();
  std::string availability_zone(const std::string& region);
  std::set<std::string> used_ips() const;
  EcsService* find_service(const std::string& key);

  const TimeSource& time_;
  TimerQueue& timers_;
  Store& store_;
  Registry& registry_;
  EcsConfig config_;
  IpPool pool_;
  std::mt19937_64 rng_;
  std::map<std::string, Cluster> clusters_;                 // region/name
  std::map<std::string, TaskDefinition> task_definitions_;  // arn
  std::map<std::string, int> last_revision_;                // region/family -> highest revision
  std::map<std::string, EcsService> services_;              // region/cluster/name
  std::map<std::string, TaskExtra> extras_;                 // task id
  std::map<std::string, Tags> tags_;                        // arn
  std::map<std::string, TimerQueue::Id> steps_;             // task id -> pending lifecycle step
  TaskRuntime* runtime_ = nullptr;                          // null: tasks are simulated
  std::map<std::string, TimerQueue::Id> launches_;          // task id -> launch not yet asked
  std::set<std::string> known_stopped_;                     // service tasks already accounted for
  std::set<std::string> dirty_;
  std::optional<TimerQueue::Id> reconcile_timer_;
  std::string instance_id_;
  bool instance_saved_ = false;   ///< instance_id_ is in the store
  std::uint64_t generation_ = 0;  // bumped on reset: stale timers do nothing
  std::size_t az_next_ = 0;
};

}  // namespace emu::core::ecs
