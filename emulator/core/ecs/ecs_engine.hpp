#pragma once
// EcsEngine: the ECS layer behind one API, for the AWS handlers and the daemon. It owns five
// parts, each the single owner of its decisions:
//   EcsCatalog        clusters, task definitions, tags, ARNs and ids;
//   AccountSettings   the account settings per region and principal;
//   EcsTasks          every task's lifecycle (starts, moves through the table, stops);
//   DockerTaskDriver  containers of Docker tasks: launches, stops, the runtime's reports;
//   ServiceScheduler  ECS services, kept at their goal by the pure reconcile()'s plans.
// Tasks live in the Registry (launch = Simulated or Docker); the parts persist their own kinds
// ("cluster", "task-definition", "ecs-service", "ecs-task", "ecs-tags", "ecs-meta",
// "ecs-account-setting") through the same Store and drop them on a registry reset. Core thread
// only.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "emulator/core/docker_model.hpp"
#include "emulator/core/ecs/account_settings.hpp"
#include "emulator/core/ecs/docker_task_driver.hpp"
#include "emulator/core/ecs/ecs_catalog.hpp"
#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/ecs/ecs_tasks.hpp"
#include "emulator/core/ecs/service_scheduler.hpp"
#include "emulator/core/ecs/task_runtime.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::core::ecs {

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
  void set_runtime(TaskRuntime* runtime) { driver_.set_runtime(runtime); }
  /// Reads the ECS kinds from the store (after Registry::load), resumes simulated lifecycles and
  /// schedules a reconcile of every service. Docker tasks wait for adopt().
  Result<void> load();
  /// The same from rows already read (the daemon reads the store once for every layer).
  Result<void> load(const StoreContents& contents);
  const EcsConfig& config() const { return config_; }
  /// This emulator's identity among the users of one Docker engine (16 hex, kept in the state,
  /// surviving restarts and resets): its task containers carry it as label ecs-emulator.instance,
  /// and adoption and orphan removal only ever consider containers with it. Random at
  /// construction; load() replaces it with the stored one or stores it.
  const std::string& instance_id() const { return driver_.instance_id(); }
  Registry& registry() { return registry_; }
  const Registry& registry() const { return registry_; }

  // ARNs and ids ----------------------------------------------------------------------------
  std::string arn(const std::string& region, const std::string& resource) const {
    return catalog_.arn(region, resource);
  }
  std::string cluster_arn(const std::string& region, const std::string& name) const {
    return catalog_.cluster_arn(region, name);
  }
  std::string task_arn(const std::string& region, const std::string& cluster,
                       const std::string& id) const {
    return catalog_.task_arn(region, cluster, id);
  }
  std::string service_arn(const std::string& region, const std::string& cluster,
                          const std::string& name) const {
    return catalog_.service_arn(region, cluster, name);
  }
  std::string new_uuid() { return catalog_.new_uuid(); }

  // Clusters --------------------------------------------------------------------------------
  /// Creates a cluster; an ACTIVE one of that name is returned as it is (idempotent).
  Result<Cluster> create_cluster(Cluster cluster, Tags tags) {
    return catalog_.create_cluster(std::move(cluster), std::move(tags));
  }
  /// Stores a cluster's settings, configuration and Service Connect defaults.
  Result<Cluster> update_cluster(const Cluster& cluster) {
    return catalog_.update_cluster(cluster);
  }
  /// Marks a cluster INACTIVE; fails while it has ACTIVE/DRAINING services or active tasks.
  Result<Cluster> delete_cluster(const std::string& region, const std::string& name);
  /// An ACTIVE or INACTIVE cluster by name.
  const Cluster* cluster(const std::string& region, const std::string& name) const {
    return catalog_.cluster(region, name);
  }
  std::vector<const Cluster*> clusters(const std::string& region) const {
    return catalog_.clusters(region);
  }

  // Task definitions ------------------------------------------------------------------------
  /// Registers the next revision of the family (revision and ARN assigned here).
  Result<TaskDefinition> register_task_definition(TaskDefinition td, Tags tags) {
    return catalog_.register_task_definition(std::move(td), std::move(tags));
  }
  /// Marks a revision INACTIVE.
  Result<TaskDefinition> deregister_task_definition(const std::string& region,
                                                    const std::string& family, int revision) {
    return catalog_.deregister_task_definition(region, family, revision);
  }
  /// By family (latest ACTIVE revision) or family + revision (any status).
  const TaskDefinition* task_definition(const std::string& region, const std::string& family,
                                        std::optional<int> revision) const {
    return catalog_.task_definition(region, family, revision);
  }
  const TaskDefinition* task_definition_by_arn(const std::string& arn) const {
    return catalog_.task_definition_by_arn(arn);
  }
  std::vector<const TaskDefinition*> task_definitions(const std::string& region) const {
    return catalog_.task_definitions(region);
  }

  // Tasks -----------------------------------------------------------------------------------
  /// Starts `count` tasks in PROVISIONING: simulated ones step on to RUNNING, Docker ones are
  /// launched through the runtime.
  Result<RunTaskOutput> run_task(const RunTaskInput& input) { return tasks_.run_task(input); }
  /// Starts stopping a task (desiredStatus STOPPED; DEACTIVATING ... STOPPED); code UserInitiated.
  Result<Task> stop_task(const std::string& region, const std::string& cluster,
                         const std::string& task_id, const std::string& reason) {
    return tasks_.stop_task(region, cluster, task_id, reason);
  }
  /// The same for an ECS task given by id alone (the native DELETE /v1/tasks/{id}): NotFound
  /// for a task that is not one of ours.
  Result<Task> stop_task(const std::string& task_id, const std::string& reason) {
    return tasks_.stop_task(task_id, reason);
  }
  /// ECS tasks (simulated or Docker) of a region and cluster, any status.
  std::vector<const Task*> tasks(const std::string& region, const std::string& cluster) const {
    return tasks_.tasks(region, cluster);
  }
  const TaskExtra* task_extra(const std::string& task_id) const {
    return tasks_.task_extra(task_id);
  }

  // Services --------------------------------------------------------------------------------
  /// Creates a service (ACTIVE) with its first deployment; scheduling starts at once. With the
  /// same clientToken and body as an existing ACTIVE one, that one is returned.
  Result<EcsService> create_service(EcsService service, Tags tags) {
    return scheduler_.create_service(std::move(service), std::move(tags));
  }
  Result<EcsService> update_service(const std::string& region, const std::string& cluster,
                                    const std::string& name, const ServiceUpdate& update) {
    return scheduler_.update_service(region, cluster, name, update);
  }
  /// DRAINING (INACTIVE once its tasks have stopped); needs desiredCount 0 unless `force`.
  Result<EcsService> delete_service(const std::string& region, const std::string& cluster,
                                    const std::string& name, bool force) {
    return scheduler_.delete_service(region, cluster, name, force);
  }
  /// The newest service of that name (ACTIVE or DRAINING first, else INACTIVE).
  const EcsService* service(const std::string& region, const std::string& cluster,
                            const std::string& name) const {
    return scheduler_.service(region, cluster, name);
  }
  std::vector<const EcsService*> services(const std::string& region,
                                          const std::string& cluster) const {
    return scheduler_.services(region, cluster);
  }
  std::vector<const Task*> service_tasks(const EcsService& service) const {
    return scheduler_.service_tasks(service);
  }
  /// The Cloud Map service with this ARN, if any.
  const Service* discovery_service_by_arn(const std::string& arn) const {
    return scheduler_.discovery_service_by_arn(arn);
  }

  // Account settings ------------------------------------------------------------------------
  AccountSettings& account_settings() { return account_settings_; }
  const AccountSettings& account_settings() const { return account_settings_; }

  // Tags ------------------------------------------------------------------------------------
  /// True when the ARN names an existing cluster, task definition, service or task.
  bool resource_exists(const std::string& arn) const;
  Result<void> tag_resource(const std::string& arn, const Tags& tags);
  Result<void> untag_resource(const std::string& arn, const std::vector<std::string>& keys);
  Tags tags_of(const std::string& arn) const { return catalog_.tags_of(arn); }

  /// Runs the scheduler of every service now (tests; the engine schedules it by itself).
  void reconcile_all() { scheduler_.reconcile_all(); }

  // Docker tasks: reports of the TaskRuntime (core thread) -------------------------------------
  /// The task's containers exist: (ECS container name, Docker id) in start order. PROVISIONING
  /// -> PENDING; a task stopped meanwhile has them stopped.
  void on_containers_created(const std::string& task_id,
                             const std::vector<std::pair<std::string, std::string>>& ids) {
    driver_.on_containers_created(task_id, ids);
  }
  /// All containers run: the task gets its address and goes ACTIVATING (registered in Cloud Map
  /// and DNS) then RUNNING. A task asked to stop meanwhile has its containers stopped instead.
  void on_task_started(const std::string& task_id, const std::string& ipv4,
                       const std::string& ipv6) {
    driver_.on_task_started(task_id, ipv4, ipv6);
  }
  /// Pull, create or start failed: STOPPED with TaskFailedToStart (counts for the ECS throttle).
  void on_launch_failed(const std::string& task_id, const std::string& reason) {
    driver_.on_launch_failed(task_id, reason);
  }
  /// Docker's health of one container; the task's health is the worst over its essential
  /// containers with a healthCheck (UNHEALTHY > UNKNOWN > HEALTHY).
  void on_container_health(const std::string& task_id, const std::string& container_name,
                           Health health, const std::string& reason) {
    driver_.on_container_health(task_id, container_name, health, reason);
  }
  /// A container exited. An essential one stops the task (EssentialContainerExited); once all
  /// containers of a stopping task have exited, the task is DEPROVISIONING, then STOPPED.
  void on_container_exited(const std::string& task_id, const std::string& container_name,
                           int exit_code, const std::string& reason) {
    driver_.on_container_exited(task_id, container_name, exit_code, reason);
  }
  /// After load(), with every container labelled ecs-emulator.task-id: running containers of
  /// live Docker tasks are taken over as they are, tasks whose containers are gone are stopped,
  /// tasks still PROVISIONING/PENDING without containers are launched again. Returns the ids of
  /// containers whose task is unknown or STOPPED (for the caller to remove).
  std::vector<std::string> adopt(const std::vector<ObservedContainer>& containers) {
    return driver_.adopt(containers);
  }

 private:
  void on_commit(const CommitInfo& info);
  void clear();

  Store& store_;
  Registry& registry_;
  EcsConfig config_;
  EcsCatalog catalog_;
  AccountSettings account_settings_;
  EcsPart part_;  // what the three parts below share
  EcsTasks tasks_;
  DockerTaskDriver driver_;
  ServiceScheduler scheduler_;
};

}  // namespace emu::core::ecs
