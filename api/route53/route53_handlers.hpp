#pragma once
// Route 53 (REST-XML, API version 2013-04-01) over the Registry: every DNS namespace, private or
// public, is a hosted zone with the id Cloud Map's GetNamespace reports, and its record sets are
// the DNS snapshot's apex SOA and NS plus what Cloud Map writes for each registered instance, so a
// stopped task's record set is gone from the next listing. Routed by path under /2013-04-01/ on
// the API port; signatures are accepted, not verified; one global service whatever the region.
// Every operation of botocore's route53 model is known by its method and path: the read
// operations of the namespaces' zones are answered, the others get 501 NotImplemented (after
// their XML body, if any, has been read). ChangeResourceRecordSets writes the user's record sets
// (core::Registry::change_record_sets) and GetChange reports the change. Errors are Route 53's
// ErrorResponse documents, mapped once from emu::Error (aws::to_aws_error with AwsApi::Route53).
// Zones of one's own (CreateHostedZone, DeleteHostedZone, UpdateHostedZoneComment) sit beside the
// namespaces' zones; a namespace's zone is Cloud Map's to change (AccessDenied). No state of its
// own: the registry keeps the zones and the user's record sets.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"
#include "api/request_target.hpp"
#include "api/rest_service.hpp"
#include "api/route53/hosted_zones.hpp"
#include "api/route53/record_sets.hpp"
#include "api/route53/route53_xml.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {
class Router;
}  // namespace emu::api

namespace emu::api::route53 {

struct Route53Table;
struct XmlElement;

/// A hosted zone found by id: a DNS namespace's (Cloud Map manages it) or one of one's own.
struct ZoneRef {
  const core::Namespace* ns = nullptr;
  const core::OwnZone* own = nullptr;
  const std::string& id() const { return ns ? ns->hosted_zone_id : own->id; }
  const std::string& name() const { return ns ? ns->name : own->name; }
};

/// The first path segment of every Route 53 request.
inline constexpr std::string_view kApiVersion = "2013-04-01";

/// The Route 53 operations; the registry outlives it.
class Route53Handlers {
 public:
  explicit Route53Handlers(core::Registry& registry);

  /// Handles one request whose first path segment is kApiVersion; never throws.
  RestReply handle(const Request& req, const RequestTarget& target);
  /// Route 53's error document with `status` and `code` (RequestGuard refusals: AccessDenied).
  static Response error(http::status status, std::string_view code, std::string_view message);

  struct Call {
    const Request& req;
    const RequestTarget& target;
    std::vector<std::string> params;  ///< the path's {…} segments, in order
    std::string request_id;
    const XmlElement* body = nullptr;  ///< the parsed request document, when it has one
  };

 private:
  friend struct Route53Table;  // the operation table names the handlers below
  Response list_hosted_zones(const Call& call);
  Response list_hosted_zones_by_name(const Call& call);
  Response get_hosted_zone(const Call& call);
  Response get_hosted_zone_count(const Call& call);
  Response list_resource_record_sets(const Call& call);
  Response change_resource_record_sets(const Call& call);
  Response get_change(const Call& call);
  Response create_hosted_zone(const Call& call);
  Response delete_hosted_zone(const Call& call);
  Response update_hosted_zone_comment(const Call& call);

  /// The hosted zone with id `id` ("Z..." or "/hostedzone/Z...").
  Result<ZoneRef> find_zone(std::string_view id) const;
  /// The namespace's services and their registered instances.
  std::vector<ServiceRecords> services_of(const core::Namespace& ns) const;
  /// The SOA and NS the DNS server holds for the namespace (nullopt before it is published).
  std::optional<ApexRecords> apex_of(const std::string& zone_name) const;
  /// The hosted zone, with its record set count.
  HostedZone zone(const ZoneRef& ref) const;
  /// A public zone's DelegationSet: the name servers of its NS record.
  void write_delegation_set(XmlOut parent, const std::string& zone_name) const;
  /// Every DNS namespace's hosted zone.
  std::vector<HostedZone> zones() const;

  core::Registry& registry_;
};

/// 200 with the XML document `body`, Route 53's content type and the request id.
Response xml_ok(const Route53Handlers::Call& call, std::string body);
/// The error `e` as Route 53 sends it.
Response xml_fail(const Route53Handlers::Call& call, const Error& e,
                  std::string_view not_found_type = {});

/// Plugs Route 53 into the router (paths /2013-04-01/...). The registry outlives the router.
void install_route53(Router& router, core::Registry& registry);

}  // namespace emu::api::route53
