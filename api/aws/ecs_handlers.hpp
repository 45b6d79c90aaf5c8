#pragma once
// ECS (`AmazonEC2ContainerServiceV20141113`, AWS JSON 1.1) over the EcsEngine: clusters, task
// definitions, tasks and services in the shapes of botocore's ecs 2014-11-13 model (ARNs, 32-hex
// task ids, epoch-number timestamps, nextToken/maxResults, failures[] with MISSING) and AWS's
// errors as {"__type", "message"} 400. State is per region (the SigV4 credential scope's).

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "api/aws/aws_call.hpp"
#include "api/http_types.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/fixtures.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {
class Router;
}  // namespace emu::api

namespace emu::api::aws {

/// The X-Amz-Target prefix of ECS.
inline constexpr std::string_view kEcsPrefix = "AmazonEC2ContainerServiceV20141113";

/// The ECS operations; the engine outlives it.
class EcsHandlers {
 public:
  explicit EcsHandlers(core::ecs::EcsEngine& engine);

  /// Handles `AmazonEC2ContainerServiceV20141113.<operation>`; never throws.
  Response handle(const Request& req, std::string_view operation);
  /// Runs one operation on a decoded input in `region`: the response body, or an error whose
  /// message is "<AwsType>: <text>" (fixtures use this too).
  Result<nlohmann::json> call(std::string_view operation, const nlohmann::json& input,
                              const std::string& region);

  core::ecs::EcsEngine& engine() { return engine_; }
  /// The URL DiscoverPollEndpoint answers (the daemon's API, once it listens).
  void set_poll_endpoint(std::string url) { poll_endpoint_ = std::move(url); }

  // Shapes (public for tests) -------------------------------------------------------------
  nlohmann::json cluster_json(const core::ecs::Cluster& c, bool tags, bool settings) const;
  nlohmann::json task_definition_json(const core::ecs::TaskDefinition& td) const;
  nlohmann::json task_json(const core::Task& t, bool tags) const;
  nlohmann::json service_json(const core::ecs::EcsService& s, bool tags) const;

 private:
  using Json = nlohmann::json;
  Result<Json> create_cluster(const Json& in, const std::string& region);
  Result<Json> describe_clusters(const Json& in, const std::string& region);
  Result<Json> list_clusters(const Json& in, const std::string& region);
  Result<Json> delete_cluster(const Json& in, const std::string& region);
  Result<Json> update_cluster(const Json& in, const std::string& region);
  Result<Json> update_cluster_settings(const Json& in, const std::string& region);
  Result<Json> put_account_setting(const Json& in, const std::string& region);
  Result<Json> put_account_setting_default(const Json& in, const std::string& region);
  Result<Json> delete_account_setting(const Json& in, const std::string& region);
  Result<Json> list_account_settings(const Json& in, const std::string& region);
  Result<Json> discover_poll_endpoint(const Json& in, const std::string& region);
  Result<Json> submit_state_change(const Json& in, const std::string& region);
  Result<Json> submit_attachment_state_changes(const Json& in, const std::string& region);
  Result<Json> register_task_definition(const Json& in, const std::string& region);
  Result<Json> describe_task_definition(const Json& in, const std::string& region);
  Result<Json> list_task_definitions(const Json& in, const std::string& region);
  Result<Json> list_task_definition_families(const Json& in, const std::string& region);
  Result<Json> deregister_task_definition(const Json& in, const std::string& region);
  Result<Json> run_task(const Json& in, const std::string& region);
  Result<Json> stop_task(const Json& in, const std::string& region);
  Result<Json> describe_tasks(const Json& in, const std::string& region);
  Result<Json> list_tasks(const Json& in, const std::string& region);
  Result<Json> create_service(const Json& in, const std::string& region);
  Result<Json> update_service(const Json& in, const std::string& region);
  Result<Json> describe_services(const Json& in, const std::string& region);
  Result<Json> list_services(const Json& in, const std::string& region);
  Result<Json> delete_service(const Json& in, const std::string& region);
  Result<Json> tag_resource(const Json& in, const std::string& region);
  Result<Json> untag_resource(const Json& in, const std::string& region);
  Result<Json> list_tags_for_resource(const Json& in, const std::string& region);

  /// The principalArn of an account-settings call (an IAM user, role or root ARN), or the root
  /// user when absent (the emulator has no IAM: the caller is the account).
  Result<std::string> principal_of(const Json& in) const;
  /// An ACTIVE cluster named by name or ARN (default "default"), else ClusterNotFoundException.
  Result<std::string> active_cluster(const Json& in, const std::string& region) const;
  /// `family`, `family:revision` or an ARN; without a revision the latest ACTIVE one.
  Result<const core::ecs::TaskDefinition*> resolve_task_definition(const std::string& ref,
                                                                   const std::string& region) const;
  /// A Cloud Map namespace of `region` by name or ARN, else NamespaceNotFoundException.
  Result<const core::Namespace*> resolve_namespace(const std::string& ref,
                                                   const std::string& region) const;
  /// Applies UpdateCluster's / CreateCluster's settings, configuration and
  /// serviceConnectDefaults members to `c` (settings merge by name, as ECS does; a namespace
  /// name that does not exist yet becomes a new HTTP namespace, as the model documents).
  Result<void> apply_cluster_update(const Json& in, core::ecs::Cluster& c);
  Result<std::vector<core::ecs::ServiceRegistry>> parse_registries(
      const Json& in, const core::ecs::TaskDefinition* td) const;

  core::ecs::EcsEngine& engine_;
  std::string poll_endpoint_ = "http://127.0.0.1:9080/";  ///< the default --api-listen
  std::map<std::string, Json> run_task_tokens_;           ///< RunTask clientToken -> its response
};

/// Validates a RegisterTaskDefinition body into a TaskDefinition (the normalised AWS shape is
/// kept in `body`: defaults filled in as ECS echoes them).
Result<core::ecs::TaskDefinition> parse_register_task_definition(const nlohmann::json& in,
                                                                 const std::string& region);

/// Plugs the ECS handler into the router's AWS dispatch.
void install_ecs(Router& router, EcsHandlers& handlers);

/// Applies a fixture's AWS blocks (RegisterTaskDefinition and CreateService request bodies) in
/// the default region, idempotently: a family whose latest ACTIVE revision has the same body is
/// not registered again; an ACTIVE service of that name is left as it is; a missing cluster is
/// created. Errors name the file, the JSON path and the reason.
Result<void> apply_ecs_fixture(EcsHandlers& handlers, const core::FixtureSet& set,
                               const std::string& region);

}  // namespace emu::api::aws
