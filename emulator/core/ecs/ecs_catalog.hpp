#pragma once
// EcsCatalog: what the ECS layer defines, per region: clusters, task definitions and the tags of
// every ECS resource, with the ARNs and ids the layer hands out. Persisted as kinds "cluster",
// "task-definition" and "ecs-tags" (written with the change they belong to). Core thread only.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"

namespace emu::core::ecs {

class EcsCatalog {
 public:
  EcsCatalog(const TimeSource& time, Store& store, const EcsConfig& config, std::uint64_t seed);
  EcsCatalog(const EcsCatalog&) = delete;
  EcsCatalog& operator=(const EcsCatalog&) = delete;

  // ARNs and ids ----------------------------------------------------------------------------
  std::string arn(const std::string& region, const std::string& resource) const;
  std::string cluster_arn(const std::string& region, const std::string& name) const;
  std::string task_arn(const std::string& region, const std::string& cluster,
                       const std::string& id) const;
  std::string service_arn(const std::string& region, const std::string& cluster,
                          const std::string& name) const;
  std::string new_uuid();
  std::string new_deployment_id();  ///< ecs-svc/<19 digits>

  // Clusters --------------------------------------------------------------------------------
  /// Creates a cluster; an ACTIVE one of that name is returned as it is (idempotent).
  Result<Cluster> create_cluster(Cluster cluster, Tags tags);
  /// Stores the settings, configuration and Service Connect defaults of `updated` on the ACTIVE
  /// cluster of its region and name (UpdateCluster, UpdateClusterSettings).
  Result<Cluster> update_cluster(const Cluster& updated);
  /// Marks an ACTIVE cluster INACTIVE (the caller checked that nothing runs in it).
  Result<Cluster> deactivate_cluster(const std::string& region, const std::string& name);
  /// An ACTIVE or INACTIVE cluster by name.
  const Cluster* cluster(const std::string& region, const std::string& name) const;
  /// ClusterNotFoundException unless the cluster exists and is ACTIVE.
  Result<void> check_active(const std::string& region, const std::string& name) const;
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

  // Tags ------------------------------------------------------------------------------------
  /// True when the ARN names an ACTIVE cluster or a task definition.
  bool has(const std::string& arn) const;
  Tags tags_of(const std::string& arn) const;
  /// Replaces the tags of `arn` in memory (empty: none) and returns the previous ones; the
  /// caller writes tags_row(arn) in the commit of the resource they belong to.
  Tags replace_tags(const std::string& arn, Tags tags);
  StoreChange tags_row(const std::string& arn) const;
  /// TagResource / UntagResource of a resource the caller found.
  Result<void> add_tags(const std::string& arn, const Tags& tags);
  Result<void> remove_tags(const std::string& arn, const std::vector<std::string>& keys);

  // State -----------------------------------------------------------------------------------
  /// Takes a stored row of kind "cluster", "task-definition" or "ecs-tags".
  Result<void> load_row(const StoredEntity& row, const nlohmann::json& body);
  void clear();

 private:
  const TimeSource& time_;
  Store& store_;
  const EcsConfig& config_;
  std::mt19937_64 rng_;
  std::map<std::string, Cluster> clusters_;                 // region/name
  std::map<std::string, TaskDefinition> task_definitions_;  // arn
  std::map<std::string, int> last_revision_;                // region/family -> highest revision
  std::map<std::string, Tags> tags_;                        // arn
};

}  // namespace emu::core::ecs
