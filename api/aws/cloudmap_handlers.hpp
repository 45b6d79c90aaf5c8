#pragma once
// Cloud Map (`Route53AutoNaming_v20170314`, AWS JSON 1.1) over the Registry: namespaces, services
// and instances are the same objects the native API and DNS see, so a namespace created here is a
// zone dig can query and RegisterInstance with AWS_INSTANCE_IPV4 is an A record at once. State is
// kept per region (the SigV4 credential scope's); async operations finish at once and
// GetOperation reports SUCCESS. Operations, InstancesRevisions and CreatorRequestIds live in the
// core (core::CloudMapState, Task::creator_request_id), persisted with the commit that made them;
// these handlers keep no state. Shapes follow botocore's servicediscovery 2017-03-14 model.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/aws/aws_call.hpp"
#include "api/http_types.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/time.hpp"

namespace emu::api {
class Router;
}  // namespace emu::api

namespace emu::api::aws {

/// The X-Amz-Target prefix of Cloud Map.
inline constexpr std::string_view kCloudMapPrefix = "Route53AutoNaming_v20170314";

/// The Cloud Map operations; the registry and clock outlive it.
class CloudMapHandlers {
 public:
  CloudMapHandlers(core::Registry& registry, const TimeSource& clock);

  /// Handles `Route53AutoNaming_v20170314.<operation>`; never throws.
  Response handle(const Request& req, std::string_view operation);

 private:
  Response dispatch(const AwsCall& call);
  Response create_namespace(const AwsCall& call, const std::string& type);
  Response get_namespace(const AwsCall& call);
  Response list_namespaces(const AwsCall& call);
  Response delete_namespace(const AwsCall& call);
  /// UpdateHttpNamespace, UpdatePrivateDnsNamespace, UpdatePublicDnsNamespace: the description
  /// and the SOA TTL (the zone's negative TTL) of a namespace of `type`.
  Response update_namespace(const AwsCall& call, const std::string& type);
  Response create_service(const AwsCall& call);
  Response get_service(const AwsCall& call);
  Response list_services(const AwsCall& call);
  Response update_service(const AwsCall& call);
  Response delete_service(const AwsCall& call);
  Response register_instance(const AwsCall& call);
  Response deregister_instance(const AwsCall& call);
  Response get_instance(const AwsCall& call);
  Response list_instances(const AwsCall& call);
  Response get_instances_health_status(const AwsCall& call);
  Response update_instance_custom_health_status(const AwsCall& call);
  Response discover_instances(const AwsCall& call, bool revision_only);
  Response get_operation(const AwsCall& call);
  Response list_operations(const AwsCall& call);
  Response tag_resource(const AwsCall& call);
  Response untag_resource(const AwsCall& call);
  Response list_tags_for_resource(const AwsCall& call);

  /// A namespace of the call's region by id or ARN.
  const core::Namespace* find_namespace(const AwsCall& call, std::string_view id_or_arn) const;
  /// A service of the call's region by id or ARN.
  const core::Service* find_service(const AwsCall& call, std::string_view id_or_arn) const;
  /// A registered instance of the service (Cloud Map instance or ECS task).
  const core::Task* find_instance(const core::Service& service, std::string_view instance_id) const;
  /// Registered instances of a service, oldest first.
  std::vector<const core::Task*> instances_of(const core::Service& service) const;
  std::size_t service_count(const core::Namespace& ns) const;
  std::uint64_t revision_of(const core::Service& service) const;

  nlohmann::json namespace_json(const core::Namespace& ns, bool summary) const;
  nlohmann::json service_json(const core::Service& service, bool summary) const;
  nlohmann::json attributes_of(const core::Task& task) const;
  std::string health_of(const core::Service& service, const core::Task& task) const;

  /// A new operation of the call's region, for the registry command to record.
  core::OperationRequest operation(const AwsCall& call, std::string type);

  core::Registry& registry_;
  const TimeSource& clock_;
};

/// Plugs Cloud Map into the router (X-Amz-Target `Route53AutoNaming_v20170314.*`, whatever the
/// Host, so `data-` host-prefixed DiscoverInstances calls land here too). Everything passed in
/// outlives the router.
void install_cloudmap(Router& router, core::Registry& registry, const TimeSource& clock);

}  // namespace emu::api::aws
