#include "api/route53/route53_handlers.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>

#include "api/aws/aws_call.hpp"
#include "api/aws/aws_error.hpp"
#include "api/route53/route53_xml.hpp"
#include "api/router.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::api::route53 {

// The operation table; a friend of Route53Handlers, so it may name the private handlers.
struct Route53Table {
  using V = http::verb;
  using Handler = Response (Route53Handlers::*)(const Route53Handlers::Call&);
  /// One operation of botocore's route53 2013-04-01 model: method, path after /2013-04-01/ (its
  /// trailing slash dropped), name, the document element of its XML body (if it has one) and
  /// our handler (null: not implemented yet).
  struct Operation {
    http::verb verb;
    std::string_view path;
    std::string_view name;
    const char* body_root;
    Handler handler;
  };
  static constexpr Operation kOperations[] = {
      {V::get, "accountlimit/{Type}", "GetAccountLimit", nullptr, nullptr},
      {V::get, "change/{Id}", "GetChange", nullptr, &Route53Handlers::get_change},
      {V::get, "checkeripranges", "GetCheckerIpRanges", nullptr, nullptr},
      {V::post, "cidrcollection", "CreateCidrCollection", "CreateCidrCollectionRequest", nullptr},
      {V::get, "cidrcollection", "ListCidrCollections", nullptr, nullptr},
      {V::post, "cidrcollection/{CidrCollectionId}", "ChangeCidrCollection",
       "ChangeCidrCollectionRequest", nullptr},
      {V::delete_, "cidrcollection/{CidrCollectionId}", "DeleteCidrCollection", nullptr, nullptr},
      {V::get, "cidrcollection/{CidrCollectionId}", "ListCidrLocations", nullptr, nullptr},
      {V::get, "cidrcollection/{CidrCollectionId}/cidrblocks", "ListCidrBlocks", nullptr, nullptr},
      {V::post, "delegationset", "CreateReusableDelegationSet",
       "CreateReusableDelegationSetRequest", nullptr},
      {V::get, "delegationset", "ListReusableDelegationSets", nullptr, nullptr},
      {V::delete_, "delegationset/{Id}", "DeleteReusableDelegationSet", nullptr, nullptr},
      {V::get, "delegationset/{Id}", "GetReusableDelegationSet", nullptr, nullptr},
      {V::get, "geolocation", "GetGeoLocation", nullptr, nullptr},
      {V::get, "geolocations", "ListGeoLocations", nullptr, nullptr},
      {V::post, "healthcheck", "CreateHealthCheck", "CreateHealthCheckRequest", nullptr},
      {V::get, "healthcheck", "ListHealthChecks", nullptr, nullptr},
      {V::delete_, "healthcheck/{HealthCheckId}", "DeleteHealthCheck", nullptr, nullptr},
      {V::get, "healthcheck/{HealthCheckId}", "GetHealthCheck", nullptr, nullptr},
      {V::post, "healthcheck/{HealthCheckId}", "UpdateHealthCheck", "UpdateHealthCheckRequest",
       nullptr},
      {V::get, "healthcheck/{HealthCheckId}/lastfailurereason", "GetHealthCheckLastFailureReason",
       nullptr, nullptr},
      {V::get, "healthcheck/{HealthCheckId}/status", "GetHealthCheckStatus", nullptr, nullptr},
      {V::get, "healthcheckcount", "GetHealthCheckCount", nullptr, nullptr},
      {V::post, "hostedzone", "CreateHostedZone", "CreateHostedZoneRequest",
       &Route53Handlers::create_hosted_zone},
      {V::get, "hostedzone", "ListHostedZones", nullptr, &Route53Handlers::list_hosted_zones},
      {V::delete_, "hostedzone/{Id}", "DeleteHostedZone", nullptr,
       &Route53Handlers::delete_hosted_zone},
      {V::get, "hostedzone/{Id}", "GetHostedZone", nullptr, &Route53Handlers::get_hosted_zone},
      {V::post, "hostedzone/{Id}", "UpdateHostedZoneComment", "UpdateHostedZoneCommentRequest",
       &Route53Handlers::update_hosted_zone_comment},
      {V::post, "hostedzone/{Id}/associatevpc", "AssociateVPCWithHostedZone",
       "AssociateVPCWithHostedZoneRequest", nullptr},
      {V::post, "hostedzone/{Id}/authorizevpcassociation", "CreateVPCAssociationAuthorization",
       "CreateVPCAssociationAuthorizationRequest", nullptr},
      {V::get, "hostedzone/{Id}/authorizevpcassociation", "ListVPCAssociationAuthorizations",
       nullptr, nullptr},
      {V::post, "hostedzone/{Id}/deauthorizevpcassociation", "DeleteVPCAssociationAuthorization",
       "DeleteVPCAssociationAuthorizationRequest", nullptr},
      {V::post, "hostedzone/{Id}/disable-dnssec", "DisableHostedZoneDNSSEC", nullptr, nullptr},
      {V::post, "hostedzone/{Id}/disassociatevpc", "DisassociateVPCFromHostedZone",
       "DisassociateVPCFromHostedZoneRequest", nullptr},
      {V::get, "hostedzone/{Id}/dnssec", "GetDNSSEC", nullptr, nullptr},
      {V::post, "hostedzone/{Id}/enable-dnssec", "EnableHostedZoneDNSSEC", nullptr, nullptr},
      {V::get, "hostedzone/{Id}/rrset", "ListResourceRecordSets", nullptr,
       &Route53Handlers::list_resource_record_sets},
      {V::post, "hostedzone/{Id}/rrset", "ChangeResourceRecordSets",
       "ChangeResourceRecordSetsRequest", &Route53Handlers::change_resource_record_sets},
      {V::get, "hostedzonecount", "GetHostedZoneCount", nullptr,
       &Route53Handlers::get_hosted_zone_count},
      {V::get, "hostedzonelimit/{Id}/{Type}", "GetHostedZoneLimit", nullptr, nullptr},
      {V::get, "hostedzonesbyname", "ListHostedZonesByName", nullptr,
       &Route53Handlers::list_hosted_zones_by_name},
      {V::get, "hostedzonesbyvpc", "ListHostedZonesByVPC", nullptr, nullptr},
      {V::post, "keysigningkey", "CreateKeySigningKey", "CreateKeySigningKeyRequest", nullptr},
      {V::delete_, "keysigningkey/{HostedZoneId}/{Name}", "DeleteKeySigningKey", nullptr, nullptr},
      {V::post, "keysigningkey/{HostedZoneId}/{Name}/activate", "ActivateKeySigningKey", nullptr,
       nullptr},
      {V::post, "keysigningkey/{HostedZoneId}/{Name}/deactivate", "DeactivateKeySigningKey",
       nullptr, nullptr},
      {V::post, "queryloggingconfig", "CreateQueryLoggingConfig", "CreateQueryLoggingConfigRequest",
       nullptr},
      {V::get, "queryloggingconfig", "ListQueryLoggingConfigs", nullptr, nullptr},
      {V::delete_, "queryloggingconfig/{Id}", "DeleteQueryLoggingConfig", nullptr, nullptr},
      {V::get, "queryloggingconfig/{Id}", "GetQueryLoggingConfig", nullptr, nullptr},
      {V::get, "reusabledelegationsetlimit/{Id}/{Type}", "GetReusableDelegationSetLimit", nullptr,
       nullptr},
      {V::post, "tags/{ResourceType}", "ListTagsForResources", "ListTagsForResourcesRequest",
       nullptr},
      {V::post, "tags/{ResourceType}/{ResourceId}", "ChangeTagsForResource",
       "ChangeTagsForResourceRequest", nullptr},
      {V::get, "tags/{ResourceType}/{ResourceId}", "ListTagsForResource", nullptr, nullptr},
      {V::get, "testdnsanswer", "TestDNSAnswer", nullptr, nullptr},
      {V::get, "trafficpolicies", "ListTrafficPolicies", nullptr, nullptr},
      {V::get, "trafficpolicies/{Id}/versions", "ListTrafficPolicyVersions", nullptr, nullptr},
      {V::post, "trafficpolicy", "CreateTrafficPolicy", "CreateTrafficPolicyRequest", nullptr},
      {V::post, "trafficpolicy/{Id}", "CreateTrafficPolicyVersion",
       "CreateTrafficPolicyVersionRequest", nullptr},
      {V::delete_, "trafficpolicy/{Id}/{Version}", "DeleteTrafficPolicy", nullptr, nullptr},
      {V::get, "trafficpolicy/{Id}/{Version}", "GetTrafficPolicy", nullptr, nullptr},
      {V::post, "trafficpolicy/{Id}/{Version}", "UpdateTrafficPolicyComment",
       "UpdateTrafficPolicyCommentRequest", nullptr},
      {V::post, "trafficpolicyinstance", "CreateTrafficPolicyInstance",
       "CreateTrafficPolicyInstanceRequest", nullptr},
      {V::delete_, "trafficpolicyinstance/{Id}", "DeleteTrafficPolicyInstance", nullptr, nullptr},
      {V::get, "trafficpolicyinstance/{Id}", "GetTrafficPolicyInstance", nullptr, nullptr},
      {V::post, "trafficpolicyinstance/{Id}", "UpdateTrafficPolicyInstance",
       "UpdateTrafficPolicyInstanceRequest", nullptr},
      {V::get, "trafficpolicyinstancecount", "GetTrafficPolicyInstanceCount", nullptr, nullptr},
      {V::get, "trafficpolicyinstances", "ListTrafficPolicyInstances", nullptr, nullptr},
      {V::get, "trafficpolicyinstances/hostedzone", "ListTrafficPolicyInstancesByHostedZone",
       nullptr, nullptr},
      {V::get, "trafficpolicyinstances/trafficpolicy", "ListTrafficPolicyInstancesByPolicy",
       nullptr, nullptr},
  };
};

namespace {

/// Route 53 returns at most 100 zones and 300 record sets per page.
constexpr std::size_t kMaxZonesPage = 100;
constexpr std::size_t kMaxRecordSetsPage = 300;
/// botocore: ResourceId is at most 32 characters.
constexpr std::size_t kMaxIdLength = 32;

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

/// Whether `segments` (after the version) match `pattern`; fills the {…} parameters.
bool matches(std::string_view pattern, const std::vector<std::string>& segments,
             std::vector<std::string>& params) {
  const auto parts = split(pattern);
  if (parts.size() + 1 != segments.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = segments[i + 1];
    if (!parts[i].empty() && parts[i].front() == '{') {
      found.push_back(seg);
    } else if (parts[i] != seg) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

Error invalid_input(std::string message) { return aws::aws_error("InvalidInput", message); }

std::string zone_path(const HostedZone& z) { return "/hostedzone/" + z.id; }

void write_zone(XmlOut parent, const HostedZone& z) {
  auto hz = parent.add("HostedZone");
  hz.text("Id", zone_path(z)).text("Name", z.name).text("CallerReference", z.caller_reference);
  auto config = hz.add("Config");
  if (!z.comment.empty()) config.text("Comment", z.comment);
  config.flag("PrivateZone", z.private_zone);
  hz.number("ResourceRecordSetCount", z.record_set_count);
  if (z.linked_description.empty()) return;  // a zone of one's own
  hz.add("LinkedService")
      .text("ServicePrincipal", kCloudMapPrincipal)
      .text("Description", z.linked_description);
}

void write_change_info(XmlOut root, const core::Route53Change& c, bool in_sync) {
  auto info = root.add("ChangeInfo");
  info.text("Id", "/change/" + c.id).text("Status", in_sync ? "INSYNC" : "PENDING");
  info.text("SubmittedAt", core::native::iso8601(c.submitted));  // as Route 53 writes it
  if (!c.comment.empty()) info.text("Comment", c.comment);
}

void write_record_set(XmlOut parent, const RecordSet& r) {
  auto rs = parent.add("ResourceRecordSet");
  rs.text("Name", r.name).text("Type", r.type);
  if (!r.set_identifier.empty()) rs.text("SetIdentifier", r.set_identifier);
  if (r.weight) rs.number("Weight", *r.weight);
  if (r.multivalue) rs.flag("MultiValueAnswer", true);
  rs.number("TTL", r.ttl);
  auto values = rs.add("ResourceRecords");
  for (const auto& v : r.values) values.add("ResourceRecord").text("Value", v);
}

/// Route 53's error document as a response: Sender for the caller's errors, Receiver for ours.
Response error_response(http::status status, std::string_view code, std::string_view message,
                        const std::string& request_id) {
  Response res{status, 11};
  res.set(http::field::content_type, kXmlContentType);
  res.set("x-amzn-RequestId", request_id);
  res.body() = error_document(static_cast<unsigned>(status) >= 500 ? "Receiver" : "Sender", code,
                              message, request_id);
  res.prepare_payload();
  return res;
}

}  // namespace

Route53Handlers::Route53Handlers(core::Registry& registry) : registry_(registry) {}

Response Route53Handlers::error(http::status status, std::string_view code,
                                std::string_view message) {
  return error_response(status, code, message, aws::uuid4());
}

Response xml_ok(const Route53Handlers::Call& call, std::string body) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, kXmlContentType);
  res.set("x-amzn-RequestId", call.request_id);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response xml_fail(const Route53Handlers::Call& call, const Error& e,
                  std::string_view not_found_type) {
  const auto mapped = aws::to_aws_error(e, aws::AwsApi::Route53, not_found_type);
  return error_response(mapped.status, mapped.type, mapped.message, call.request_id);
}

RestReply Route53Handlers::handle(const Request& req, const RequestTarget& target) {
  Call call{req, target, {}, aws::uuid4()};
  const Route53Table::Operation* op = nullptr;
  bool path_known = false;
  for (const auto& candidate : Route53Table::kOperations) {
    std::vector<std::string> params;
    if (!matches(candidate.path, target.segments, params)) continue;
    path_known = true;
    if (candidate.verb == req.method()) {
      op = &candidate;
      call.params = std::move(params);
      break;
    }
  }
  if (!op) {
    const std::string what = std::string(req.method_string()) + " " + target.path;
    return {xml_fail(call,
                     aws::aws_error("UnknownOperationException",
                                    path_known ? "Route 53 has no " + what + " operation"
                                               : "No Route 53 operation matches " + what),
                     {}),
            "unknown"};
  }
  const std::string name(op->name);
  try {
    // The body is read before anything else: malformed XML is InvalidInput for every operation.
    std::optional<XmlElement> body;
    if (op->body_root) {
      auto parsed = parse_request(req.body(), op->body_root);
      if (!parsed) return {xml_fail(call, parsed.error()), name};
      body = std::move(*parsed);
      call.body = &*body;
    }
    if (!op->handler) {
      return {xml_fail(call, aws::aws_error("NotImplemented",
                                            "Route 53 " + name +
                                                " is not implemented by ecs-emulator yet (see "
                                                "docs/aws.md for the operations it answers)")),
              name};
    }
    return {(this->*op->handler)(call), name};
  } catch (const std::exception& e) {
    // A bug, not bad input: every parameter is checked before use.
    return {xml_fail(call, Error{Code::Internal, e.what()}), name};
  }
}

// ------------------------------------------------------------------------------- reading state

Result<ZoneRef> Route53Handlers::find_zone(std::string_view id) const {
  // botocore strips "/hostedzone/" itself; a raw caller may still send it.
  if (id.starts_with("/hostedzone/")) id.remove_prefix(12);
  if (id.empty() || id.size() > kMaxIdLength) {
    return invalid_input("1 validation error detected: Value '" + std::string(id.substr(0, 64)) +
                         "' at 'id' failed to satisfy constraint: Member must have length less "
                         "than or equal to 32");
  }
  if (const core::Namespace* ns = registry_.namespace_of_zone(id)) return ZoneRef{ns, nullptr};
  if (const core::OwnZone* own = registry_.own_zone(id)) return ZoneRef{nullptr, own};
  return Error{
      Code::NotFound, "No hosted zone found with ID: " + std::string(id), {}, "NoSuchHostedZone"};
}

std::vector<ServiceRecords> Route53Handlers::services_of(const core::Namespace& ns) const {
  std::vector<ServiceRecords> out;
  for (const core::Service* s : registry_.services()) {
    if (s->namespace_id != ns.id) continue;
    ServiceRecords sr;
    sr.dns_name = registry_.dns_name(*s);
    sr.records = s->records;
    sr.routing = s->routing;
    sr.ttl = s->ttl;
    core::TaskFilter filter;
    filter.service_dns_name = sr.dns_name;
    for (const core::Task* t : registry_.tasks(filter)) {
      if (t->service_id != s->id || !t->registered()) continue;
      sr.instances.push_back({t->id, t->ipv4, t->ipv6, t->port});
    }
    out.push_back(std::move(sr));
  }
  return out;
}

std::optional<ApexRecords> Route53Handlers::apex_of(const std::string& zone_name) const {
  const auto snapshot = registry_.zones().load();
  if (!snapshot) return std::nullopt;
  return apex_records(*snapshot, zone_name);
}

HostedZone Route53Handlers::zone(const ZoneRef& ref) const {
  std::int64_t count = apex_of(ref.name()) ? 2 : 0;  // SOA and NS
  if (ref.ns) {
    for (const auto& s : services_of(*ref.ns))
      count += static_cast<std::int64_t>(service_record_set_count(s));
  }
  count += static_cast<std::int64_t>(registry_.user_record_sets(ref.id()).size());
  return ref.ns ? zone_of(*ref.ns, count) : zone_of(*ref.own, count);
}

std::vector<HostedZone> Route53Handlers::zones() const {
  std::vector<HostedZone> out;
  for (const core::Namespace* ns : registry_.namespaces()) {
    if (ns->is_dns() && !ns->hosted_zone_id.empty()) out.push_back(zone({ns, nullptr}));
  }
  for (const core::OwnZone* own : registry_.own_zones()) out.push_back(zone({nullptr, own}));
  return out;
}

void Route53Handlers::write_delegation_set(XmlOut parent, const std::string& zone_name) const {
  // The name servers of the zone's NS record, as Route 53 writes them: without the trailing dot.
  auto servers = parent.add("DelegationSet").add("NameServers");
  if (const auto apex = apex_of(zone_name)) {
    for (std::string n : apex->ns) {
      if (!n.empty() && n.back() == '.') n.pop_back();
      servers.text("NameServer", n);
    }
  }
}

// ------------------------------------------------------------------------------- hosted zones

Response Route53Handlers::list_hosted_zones(const Call& call) {
  const auto max_items =
      parse_max_items(call.target.param("maxitems"), kMaxZonesPage, kMaxZonesPage);
  if (!max_items) return xml_fail(call, max_items.error());
  const auto marker = call.target.param("marker");
  if (marker && marker->size() > 64) {
    return xml_fail(call, invalid_input("The marker parameter is at most 64 characters long"));
  }
  if (const auto set = call.target.param("delegationsetid")) {
    // Only reusable delegation sets have ids, and there are none.
    return xml_fail(call, aws::aws_error("NoSuchDelegationSet",
                                         "A reusable delegation set with the specified ID does "
                                         "not exist: " +
                                             set->substr(0, 64)));
  }
  auto all = zones();
  sort_by_id(all);
  const auto page = page_by_id(all, marker, *max_items);
  XmlWriter w("ListHostedZonesResponse");
  auto root = w.root();
  auto list = root.add("HostedZones");
  for (auto i = page.begin; i < page.end; ++i) write_zone(list, all[i]);
  if (marker) root.text("Marker", *marker);
  root.flag("IsTruncated", page.truncated);
  if (page.truncated) root.text("NextMarker", all[page.end].id);
  root.text("MaxItems", call.target.param("maxitems").value_or(std::to_string(kMaxZonesPage)));
  return xml_ok(call, w.str());
}

Response Route53Handlers::list_hosted_zones_by_name(const Call& call) {
  const auto max_items =
      parse_max_items(call.target.param("maxitems"), kMaxZonesPage, kMaxZonesPage);
  if (!max_items) return xml_fail(call, max_items.error());
  const auto dns_name = call.target.param("dnsname");
  const auto zone_id = call.target.param("hostedzoneid");
  if (zone_id && !dns_name) {
    return xml_fail(call, invalid_input("The hostedzoneid parameter requires the dnsname "
                                        "parameter"));
  }
  if (dns_name &&
      (dns_name->empty() || dns_name->size() > 1024 || dns_name->find("..") != std::string::npos)) {
    return xml_fail(call, aws::aws_error("InvalidDomainName",
                                         "The domain name is invalid: " + dns_name->substr(0, 64)));
  }
  if (zone_id && zone_id->size() > kMaxIdLength) {
    return xml_fail(call, invalid_input("The hostedzoneid parameter is at most 32 characters"));
  }
  auto all = zones();
  sort_by_name(all);
  const auto page = page_by_name(all, dns_name, zone_id, *max_items);
  XmlWriter w("ListHostedZonesByNameResponse");
  auto root = w.root();
  auto list = root.add("HostedZones");
  for (auto i = page.begin; i < page.end; ++i) write_zone(list, all[i]);
  if (dns_name) root.text("DNSName", *dns_name);
  if (zone_id) root.text("HostedZoneId", *zone_id);
  root.flag("IsTruncated", page.truncated);
  if (page.truncated) {
    root.text("NextDNSName", all[page.end].name).text("NextHostedZoneId", all[page.end].id);
  }
  root.text("MaxItems", call.target.param("maxitems").value_or(std::to_string(kMaxZonesPage)));
  return xml_ok(call, w.str());
}

Response Route53Handlers::get_hosted_zone(const Call& call) {
  const auto ref = find_zone(call.params.at(0));
  if (!ref) return xml_fail(call, ref.error());
  const HostedZone z = zone(*ref);
  XmlWriter w("GetHostedZoneResponse");
  auto root = w.root();
  write_zone(root, z);
  if (z.private_zone) {
    root.add("VPCs").add("VPC").text("VPCRegion", z.vpc_region).text("VPCId", z.vpc_id);
  } else {
    write_delegation_set(root, ref->name());
  }
  return xml_ok(call, w.str());
}

Response Route53Handlers::get_hosted_zone_count(const Call& call) {
  std::int64_t count = 0;
  for (const core::Namespace* ns : registry_.namespaces()) {
    count += ns->is_dns() && !ns->hosted_zone_id.empty();
  }
  count += static_cast<std::int64_t>(registry_.own_zones().size());
  XmlWriter w("GetHostedZoneCountResponse");
  w.root().number("HostedZoneCount", count);
  return xml_ok(call, w.str());
}

Response Route53Handlers::create_hosted_zone(const Call& call) {
  const auto spec = parse_create_hosted_zone(*call.body);
  if (!spec) return xml_fail(call, spec.error());
  const auto created = registry_.create_hosted_zone(*spec);
  if (!created) return xml_fail(call, created.error());
  const auto& [own, change] = *created;
  const HostedZone z = zone({nullptr, &own});
  XmlWriter w("CreateHostedZoneResponse");
  auto root = w.root();
  write_zone(root, z);
  write_change_info(root, change, registry_.change_in_sync(change));
  if (z.private_zone) {
    root.add("VPC").text("VPCRegion", z.vpc_region).text("VPCId", z.vpc_id);
  } else {
    write_delegation_set(root, own.name);
  }
  Response res = xml_ok(call, w.str());
  res.result(http::status::created);
  // Route 53's URL of the new zone (botocore reads it into Location).
  res.set(http::field::location, "https://route53.amazonaws.com/2013-04-01" + zone_path(z));
  return res;
}

Response Route53Handlers::delete_hosted_zone(const Call& call) {
  const auto ref = find_zone(call.params.at(0));
  if (!ref) return xml_fail(call, ref.error());
  const auto change = registry_.delete_hosted_zone(ref->id());
  if (!change) return xml_fail(call, change.error());
  XmlWriter w("DeleteHostedZoneResponse");
  write_change_info(w.root(), *change, registry_.change_in_sync(*change));
  return xml_ok(call, w.str());
}

Response Route53Handlers::update_hosted_zone_comment(const Call& call) {
  const auto comment = parse_zone_comment(*call.body);
  if (!comment) return xml_fail(call, comment.error());
  const auto ref = find_zone(call.params.at(0));
  if (!ref) return xml_fail(call, ref.error());
  const auto updated = registry_.update_hosted_zone_comment(ref->id(), *comment);
  if (!updated) return xml_fail(call, updated.error());
  XmlWriter w("UpdateHostedZoneCommentResponse");
  write_zone(w.root(), zone({nullptr, registry_.own_zone(updated->id)}));
  return xml_ok(call, w.str());
}

// ------------------------------------------------------------------------------- record sets

Response Route53Handlers::list_resource_record_sets(const Call& call) {
  const auto ref = find_zone(call.params.at(0));
  if (!ref) return xml_fail(call, ref.error());
  const auto max_items =
      parse_max_items(call.target.param("maxitems"), kMaxRecordSetsPage, kMaxRecordSetsPage);
  if (!max_items) return xml_fail(call, max_items.error());
  const auto start = parse_start(call.target.param("name"), call.target.param("type"),
                                 call.target.param("identifier"));
  if (!start) return xml_fail(call, start.error());
  const auto apex = apex_of(ref->name());
  auto services = ref->ns ? services_of(*ref->ns) : std::vector<ServiceRecords>{};
  const auto& own = registry_.user_record_sets(ref->id());
  std::vector<RecordSet> sorted;
  if (apex) {
    sorted = zone_record_sets(*apex, services, own);
  } else {
    // Not published yet (inside a bulk load): the other record sets alone.
    sorted = zone_record_sets(ApexRecords{}, services, own);
    sorted.erase(std::remove_if(sorted.begin(), sorted.end(),
                                [](const RecordSet& r) { return r.name.empty(); }),
                 sorted.end());
  }
  const auto page = page_record_sets(sorted, *start, *max_items);
  XmlWriter w("ListResourceRecordSetsResponse");
  auto root = w.root();
  auto list = root.add("ResourceRecordSets");
  for (auto i = page.begin; i < page.end; ++i) write_record_set(list, sorted[i]);
  root.flag("IsTruncated", page.next.has_value());
  if (page.next) {
    root.text("NextRecordName", page.next->name).text("NextRecordType", page.next->type);
    if (!page.next->identifier.empty()) root.text("NextRecordIdentifier", page.next->identifier);
  }
  root.text("MaxItems", call.target.param("maxitems").value_or(std::to_string(kMaxRecordSetsPage)));
  return xml_ok(call, w.str());
}

Response Route53Handlers::change_resource_record_sets(const Call& call) {
  // The body first: a batch that cannot be read is InvalidInput whatever the zone.
  const auto batch = parse_change_batch(*call.body);
  if (!batch) return xml_fail(call, batch.error());
  const auto ref = find_zone(call.params.at(0));
  if (!ref) return xml_fail(call, ref.error());
  const auto change = registry_.change_record_sets(ref->id(), batch->changes, batch->comment);
  if (!change) return xml_fail(call, change.error());
  XmlWriter w("ChangeResourceRecordSetsResponse");
  write_change_info(w.root(), *change, registry_.change_in_sync(*change));
  return xml_ok(call, w.str());
}

Response Route53Handlers::get_change(const Call& call) {
  std::string_view id = call.params.at(0);
  if (id.starts_with("/change/")) id.remove_prefix(8);
  const core::Route53Change* change = registry_.route53_change(id);
  if (!change) {
    return xml_fail(call, Error{Code::NotFound,
                                "A change with the specified change ID does not exist: " +
                                    std::string(id.substr(0, 64)),
                                {},
                                "NoSuchChange"});
  }
  XmlWriter w("GetChangeResponse");
  write_change_info(w.root(), *change, registry_.change_in_sync(*change));
  return xml_ok(call, w.str());
}

// ------------------------------------------------------------------------------- wiring

void install_route53(Router& router, core::Registry& registry) {
  auto handlers = std::make_shared<Route53Handlers>(registry);
  RestService service;
  service.service = "route53";
  service.handle = [handlers](const Request& req, const RequestTarget& target) {
    return handlers->handle(req, target);
  };
  service.fail = [](http::status status, std::string_view message) {
    return Route53Handlers::error(
        status, status == http::status::forbidden ? "AccessDenied" : "InternalFailure", message);
  };
  router.set_rest_service(std::string(kApiVersion), std::move(service));
}

}  // namespace emu::api::route53
