#include "api/aws/cloudmap_handlers.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <set>

#include "api/aws/aws_validate.hpp"
#include "api/aws/cloudmap_input.hpp"
#include "api/aws/model/aws_model.hpp"
#include "api/router.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::api::aws {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxTtl = 2147483647;
constexpr std::size_t kMaxTags = 50;  // TooManyTagsException above this (CMDG quotas)

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_dot(std::string_view s) {
  if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
  return std::string(s);
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '!' && c <= '~'; });
}

Response invalid_input(const AwsCall& call, std::string_view message) {
  return fail(call, "InvalidInput", message);
}

/// Answers a registry error: `not_found_type` names what was missing.
Response from_error(const AwsCall& call, const Error& e, std::string_view not_found_type) {
  return fail(call, to_aws_error(e, AwsApi::CloudMap, not_found_type));
}

/// MaxResults and NextToken of a List* call; `total` items; sets begin/end or an error.
struct Page {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string next;
};

bool read_page(CloudMapInput& in, std::string_view kind, std::size_t total, std::int64_t max_limit,
               Page& page) {
  const auto max = in.integer("MaxResults", 1, max_limit).value_or(100);
  const auto token = in.str("NextToken", false, 4096);
  if (in.failed()) return false;
  std::size_t offset = 0;
  if (!token.empty()) {
    const auto decoded = decode_next_token(kind, token);
    if (!decoded) {
      in.fail("NextToken: not a token this operation returned");
      return false;
    }
    offset = *decoded;
  }
  page.begin = std::min(offset, total);
  page.end = std::min(total, page.begin + static_cast<std::size_t>(max));
  if (page.end < total) page.next = encode_next_token(kind, page.end);
  return true;
}

/// One filter of ListNamespaces / ListServices / ListOperations.
struct Filter {
  std::string name;
  std::vector<std::string> values;
  std::string condition = "EQ";
};

/// Reads Filters[]; `conditions` maps each allowed filter name to its allowed conditions.
std::vector<Filter> read_filters(CloudMapInput& in,
                                 const std::map<std::string, std::set<std::string>>& conditions) {
  std::vector<Filter> out;
  const auto* list = in.array("Filters");
  if (!list) return out;
  for (std::size_t i = 0; i < list->size() && !in.failed(); ++i) {
    auto f = in.nested((*list)[i], "Filters." + std::to_string(i + 1) + ".member.");
    Filter filter;
    filter.name = f.str("Name", true);
    const auto* values = f.array("Values", true);
    const auto cond = f.str("Condition");
    if (in.failed()) break;
    if (!cond.empty()) filter.condition = cond;
    const auto it = conditions.find(filter.name);
    if (it == conditions.end()) {
      in.fail("Filters: unsupported filter name " + filter.name);
      break;
    }
    if (!it->second.count(filter.condition)) {
      in.fail("Filters: condition " + filter.condition + " is not supported for " + filter.name);
      break;
    }
    for (const auto& v : *values) {
      if (!v.is_string()) {
        in.fail("Filters: Values must be strings");
        break;
      }
      filter.values.push_back(v.get<std::string>());
    }
    if (in.failed()) break;
    if (filter.values.empty()) {
      in.fail("Filters: Values must have at least one value for " + filter.name);
    } else if ((filter.condition == "EQ" || filter.condition == "BEGINS_WITH") &&
               filter.values.size() != 1) {
      in.fail("Filters: condition " + filter.condition + " takes exactly one value for " +
              filter.name);
    } else if (filter.condition == "BETWEEN" && filter.values.size() != 2) {
      in.fail("Filters: condition BETWEEN takes a start and an end date for " + filter.name);
    }
    out.push_back(std::move(filter));
  }
  return out;
}

bool matches(const Filter& f, std::string_view value) {
  if (f.condition == "BEGINS_WITH") return value.rfind(f.values[0], 0) == 0;
  return std::find(f.values.begin(), f.values.end(), value) != f.values.end();  // EQ, IN
}

/// Tags[] as a map; checks Key 1..128 and Value 0..256.
std::map<std::string, std::string> read_tags(CloudMapInput& in, bool required) {
  std::map<std::string, std::string> out;
  const auto* list = in.array("Tags", required);
  if (!list) return out;
  if (list->size() > 200) {
    in.fail("Tags: Member must have length less than or equal to 200");
    return out;
  }
  for (std::size_t i = 0; i < list->size() && !in.failed(); ++i) {
    auto t = in.nested((*list)[i], "Tags." + std::to_string(i + 1) + ".member.");
    const auto key = t.str("Key", true, 128);
    if (!t.has("Value")) t.fail(missing_member(t.path("Value")));
    const auto value = t.str("Value", false, 256);
    if (!in.failed()) out[key] = value;
  }
  return out;
}

json tags_json(const std::map<std::string, std::string>& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return out;
}

/// DnsRecords[] -> record types and TTL (one TTL per service: the first record's).
struct DnsRecords {
  core::RecordTypes types{false, false, false};
  std::uint32_t ttl = 0;
  json echo = json::array();
};

bool read_dns_records(CloudMapInput& in, const json& records_json, DnsRecords& out) {
  if (records_json.empty()) {
    in.fail(in.path("DnsRecords") + ": at least one DnsRecord is required");
    return false;
  }
  for (std::size_t i = 0; i < records_json.size() && !in.failed(); ++i) {
    auto r =
        in.nested(records_json[i], in.path("DnsRecords.") + std::to_string(i + 1) + ".member.");
    const auto type = r.str("Type", true);
    if (!r.has("TTL") && !in.failed()) r.fail(missing_member(r.path("TTL")));
    const auto ttl = r.integer("TTL", 0, kMaxTtl);
    if (in.failed()) break;
    bool* slot = nullptr;
    if (type == "A") slot = &out.types.a;
    if (type == "AAAA") slot = &out.types.aaaa;
    if (type == "SRV") slot = &out.types.srv;
    if (type == "CNAME") {
      in.fail("DnsRecords: CNAME records are not supported by ecs-emulator (use A, AAAA or SRV)");
      break;
    }
    if (!slot) {  // the model's enum (checked before the handler) has no other value
      in.fail("DnsRecords: unsupported record type " + type);
      break;
    }
    if (*slot) {
      in.fail("DnsRecords: record type " + type + " is listed twice");
      break;
    }
    *slot = true;
    if (i == 0) out.ttl = static_cast<std::uint32_t>(*ttl);
  }
  return !in.failed();
}

json dns_records_json(const core::Service& s) {
  json out = json::array();
  if (s.records.a) out.push_back({{"Type", "A"}, {"TTL", s.ttl}});
  if (s.records.aaaa) out.push_back({{"Type", "AAAA"}, {"TTL", s.ttl}});
  if (s.records.srv) out.push_back({{"Type", "SRV"}, {"TTL", s.ttl}});
  return out;
}

/// The resource id at the end of a Cloud Map ARN (`...:namespace/ns-x` -> `ns-x`).
std::string id_of(std::string_view id_or_arn) {
  if (id_or_arn.rfind("arn:", 0) != 0) return std::string(id_or_arn);
  const auto slash = id_or_arn.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(id_or_arn.substr(slash + 1));
}

}  // namespace

// --------------------------------------------------------------------------- plumbing

CloudMapHandlers::CloudMapHandlers(core::Registry& registry, const TimeSource& clock)
    : registry_(registry), clock_(clock) {}

std::uint64_t CloudMapHandlers::revision_of(const core::Service& service) const {
  return registry_.cloudmap().revision(registry_.dns_name(service));
}

Response CloudMapHandlers::handle(const Request& req, std::string_view operation) {
  auto parsed = parse_call(req, operation, registry_.config().region);
  if (!parsed) {
    AwsCall call;
    call.operation = std::string(operation);
    call.request_id = uuid4();
    return fail(call, to_aws_error(parsed.error(), AwsApi::CloudMap));
  }
  try {
    return dispatch(*parsed);
  } catch (const std::exception& e) {
    // A bug, not bad input: every member is type-checked before use.
    return fail(*parsed, "InternalFailure", e.what(), http::status::internal_server_error);
  }
}

Response CloudMapHandlers::dispatch(const AwsCall& call) {
  // The operation table: operation name -> handler; the input is checked against the model's
  // shape (api/aws/model) before the handler runs, so handlers keep only semantic checks.
  using Handler = Response (*)(CloudMapHandlers&, const AwsCall&);
  struct Entry {
    std::string_view name;
    Handler handler;
  };
  static constexpr Entry kOperations[] = {
      {"CreateHttpNamespace", [](auto& h, const auto& c) { return h.create_namespace(c, "HTTP"); }},
      {"CreatePrivateDnsNamespace",
       [](auto& h, const auto& c) { return h.create_namespace(c, "DNS_PRIVATE"); }},
      {"CreatePublicDnsNamespace",
       [](auto& h, const auto& c) { return h.create_namespace(c, "DNS_PUBLIC"); }},
      {"CreateService", [](auto& h, const auto& c) { return h.create_service(c); }},
      {"DeleteNamespace", [](auto& h, const auto& c) { return h.delete_namespace(c); }},
      {"DeleteService", [](auto& h, const auto& c) { return h.delete_service(c); }},
      {"DeregisterInstance", [](auto& h, const auto& c) { return h.deregister_instance(c); }},
      {"DiscoverInstances", [](auto& h, const auto& c) { return h.discover_instances(c, false); }},
      {"DiscoverInstancesRevision",
       [](auto& h, const auto& c) { return h.discover_instances(c, true); }},
      {"GetInstance", [](auto& h, const auto& c) { return h.get_instance(c); }},
      {"GetInstancesHealthStatus",
       [](auto& h, const auto& c) { return h.get_instances_health_status(c); }},
      {"GetNamespace", [](auto& h, const auto& c) { return h.get_namespace(c); }},
      {"GetOperation", [](auto& h, const auto& c) { return h.get_operation(c); }},
      {"GetService", [](auto& h, const auto& c) { return h.get_service(c); }},
      {"ListInstances", [](auto& h, const auto& c) { return h.list_instances(c); }},
      {"ListNamespaces", [](auto& h, const auto& c) { return h.list_namespaces(c); }},
      {"ListOperations", [](auto& h, const auto& c) { return h.list_operations(c); }},
      {"ListServices", [](auto& h, const auto& c) { return h.list_services(c); }},
      {"ListTagsForResource", [](auto& h, const auto& c) { return h.list_tags_for_resource(c); }},
      {"RegisterInstance", [](auto& h, const auto& c) { return h.register_instance(c); }},
      {"TagResource", [](auto& h, const auto& c) { return h.tag_resource(c); }},
      {"UntagResource", [](auto& h, const auto& c) { return h.untag_resource(c); }},
      {"UpdateInstanceCustomHealthStatus",
       [](auto& h, const auto& c) { return h.update_instance_custom_health_status(c); }},
      {"UpdateHttpNamespace", [](auto& h, const auto& c) { return h.update_namespace(c, "HTTP"); }},
      {"UpdateService", [](auto& h, const auto& c) { return h.update_service(c); }},
      {"UpdatePrivateDnsNamespace",
       [](auto& h, const auto& c) { return h.update_namespace(c, "DNS_PRIVATE"); }},
      {"UpdatePublicDnsNamespace",
       [](auto& h, const auto& c) { return h.update_namespace(c, "DNS_PUBLIC"); }},
  };
  const auto& op = call.operation;
  // DiscoverInstancesRevision is newer than the installed model: served, with its own checks.
  const auto* modelled = model::kCloudMapModel.operation(op);
  const auto entry = std::find_if(std::begin(kOperations), std::end(kOperations),
                                  [&](const Entry& e) { return e.name == op; });
  if (entry == std::end(kOperations)) {
    if (modelled)
      return fail(call, not_emulated(AwsApi::CloudMap, std::string(kCloudMapPrefix) + "." + op));
    return fail(call, "UnknownOperationException",
                "Operation " + std::string(kCloudMapPrefix) + "." + op +
                    " is not supported by ecs-emulator");
  }
  if (modelled) {
    const auto violations = validate(model::kCloudMapModel, *modelled, call.input);
    if (!violations.empty()) return invalid_input(call, validation_message(violations));
  }
  return entry->handler(*this, call);
}

core::OperationRequest CloudMapHandlers::operation(const AwsCall& call, std::string type) {
  return {registry_.new_operation_id(), call.region, std::move(type)};
}

const core::Namespace* CloudMapHandlers::find_namespace(const AwsCall& call,
                                                        std::string_view id_or_arn) const {
  const core::Namespace* n = registry_.namespace_by_id(id_of(id_or_arn));
  if (!n || n->region != call.region) return nullptr;
  if (id_or_arn.rfind("arn:", 0) == 0 && n->arn != id_or_arn) return nullptr;
  return n;
}

const core::Service* CloudMapHandlers::find_service(const AwsCall& call,
                                                    std::string_view id_or_arn) const {
  const core::Service* s = registry_.service_by_id(id_of(id_or_arn));
  if (!s || s->region != call.region) return nullptr;
  if (id_or_arn.rfind("arn:", 0) == 0 && s->arn != id_or_arn) return nullptr;
  return s;
}

std::vector<const core::Task*> CloudMapHandlers::instances_of(const core::Service& service) const {
  std::vector<const core::Task*> out;
  for (const core::Task* t : registry_.tasks()) {
    if (t->service_id == service.id && t->registered()) out.push_back(t);
  }
  return out;
}

const core::Task* CloudMapHandlers::find_instance(const core::Service& service,
                                                  std::string_view instance_id) const {
  if (instance_id.empty()) return nullptr;
  if (const core::Task* t = registry_.task(service.id + "/" + std::string(instance_id));
      t && t->registered()) {
    return t;
  }
  for (const core::Task* t : instances_of(service)) {
    if (t->id == instance_id) return t;
  }
  return nullptr;
}

std::size_t CloudMapHandlers::service_count(const core::Namespace& ns) const {
  std::size_t n = 0;
  for (const core::Service* s : registry_.services()) n += s->namespace_id == ns.id;
  return n;
}

std::string CloudMapHandlers::health_of(const core::Service& service,
                                        const core::Task& task) const {
  // Cloud Map: without a health check configured an instance's status is UNKNOWN.
  if (!service.custom_health) return "UNKNOWN";
  return task.dns_health == core::Health::Unhealthy ? "UNHEALTHY" : "HEALTHY";
}

json CloudMapHandlers::attributes_of(const core::Task& t) const {
  json out = json::object();
  for (const auto& [k, v] : t.attributes) out[k] = v;
  // ECS tasks carry their address in fields; Cloud Map shows it as attributes.
  if (!t.ipv4.empty() && !out.contains("AWS_INSTANCE_IPV4")) out["AWS_INSTANCE_IPV4"] = t.ipv4;
  if (!t.ipv6.empty() && !out.contains("AWS_INSTANCE_IPV6")) out["AWS_INSTANCE_IPV6"] = t.ipv6;
  if (t.port && !out.contains("AWS_INSTANCE_PORT"))
    out["AWS_INSTANCE_PORT"] = std::to_string(t.port);
  return out;
}

json CloudMapHandlers::namespace_json(const core::Namespace& n, bool summary) const {
  json j{{"Id", n.id},
         {"Arn", n.arn},
         {"Name", n.name},
         {"Type", n.type},
         {"ServiceCount", service_count(n)},
         {"CreateDate", epoch_seconds(n.created_at)}};
  if (!n.description.empty()) j["Description"] = n.description;
  json props{{"HttpProperties", {{"HttpName", n.name}}}};
  if (n.is_dns()) {
    props["DnsProperties"] = {{"HostedZoneId", n.hosted_zone_id},
                              {"SOA", {{"TTL", n.negative_ttl}}}};
  } else {
    props["DnsProperties"] = json::object();
  }
  j["Properties"] = std::move(props);
  if (!summary) {
    j["ResourceOwner"] = registry_.config().account_id;
    if (!n.creator_request_id.empty()) j["CreatorRequestId"] = n.creator_request_id;
  }
  return j;
}

json CloudMapHandlers::service_json(const core::Service& s, bool summary) const {
  const core::Namespace* ns = registry_.namespace_by_id(s.namespace_id);
  const bool dns = ns && ns->is_dns();
  json j{{"Id", s.id},
         {"Arn", s.arn},
         {"Name", s.name},
         {"Type", dns ? "DNS_HTTP" : "HTTP"},
         {"InstanceCount", instances_of(s).size()},
         {"CreateDate", epoch_seconds(s.created_at)}};
  if (!summary) {
    j["NamespaceId"] = s.namespace_id;
    j["ResourceOwner"] = registry_.config().account_id;
    j["CreatedByAccount"] = registry_.config().account_id;
    if (!s.creator_request_id.empty()) j["CreatorRequestId"] = s.creator_request_id;
  }
  if (!s.description.empty()) j["Description"] = s.description;
  if (dns) {
    j["DnsConfig"] = {
        {"NamespaceId", s.namespace_id},
        {"RoutingPolicy", s.routing == core::Routing::Weighted ? "WEIGHTED" : "MULTIVALUE"},
        {"DnsRecords", dns_records_json(s)}};
  }
  // Cloud Map: FailureThreshold is no longer supported and always reads 1.
  if (s.custom_health) j["HealthCheckCustomConfig"] = {{"FailureThreshold", 1}};
  return j;
}

// --------------------------------------------------------------------------- namespaces

Response CloudMapHandlers::create_namespace(const AwsCall& call, const std::string& type) {
  CloudMapInput in(call.input);
  const auto name = in.str("Name", true, type == "HTTP" ? 1024 : 253);
  const auto request_id = in.str("CreatorRequestId", false, 64);
  const auto description = in.str("Description", false, 1024);
  const auto vpc = type == "DNS_PRIVATE" ? in.str("Vpc", true, 64) : std::string();
  const auto tags = read_tags(in, false);
  std::optional<std::int64_t> soa_ttl;
  if (const auto* props = in.object("Properties")) {
    auto p = in.nested(*props, "Properties.");
    if (const auto* dns = p.object("DnsProperties")) {
      auto d = p.nested(*dns, "Properties.DnsProperties.");
      if (const auto* soa = d.object("SOA", true)) {
        auto s = d.nested(*soa, "Properties.DnsProperties.SOA.");
        if (!s.has("TTL")) s.fail(missing_member(s.path("TTL")));
        soa_ttl = s.integer("TTL", 0, kMaxTtl);
      }
    }
  }
  if (in.failed()) return invalid_input(call, in.error());
  if (!printable_ascii(name) || name.rfind("arn:", 0) == 0) {
    return invalid_input(call, "Name: must be printable ASCII and not start with 'arn:'");
  }
  if (tags.size() > kMaxTags) {
    return fail(call, AwsError{"TooManyTagsException", "at most 50 tags per resource"},
                {{"ResourceName", name}});
  }
  if (auto e = core::namespace_name_error(name)) return invalid_input(call, "Name: " + *e);
  const std::string normalized = lower(strip_dot(name));
  if (const core::Namespace* existing = registry_.namespace_by_name(normalized)) {
    // CreatorRequestId makes a retried create succeed with the first one's operation.
    if (!request_id.empty() && existing->creator_request_id == request_id &&
        existing->region == call.region && existing->type == type) {
      for (const auto& op : registry_.cloudmap().operations()) {
        if (op.type == "CREATE_NAMESPACE" && op.targets.count("NAMESPACE") &&
            op.targets.at("NAMESPACE") == existing->id) {
          return ok(call, {{"OperationId", op.id}});
        }
      }
      const auto op = operation(call, "CREATE_NAMESPACE");
      const std::string ns_id = existing->id;
      if (auto r = registry_.record_operation(op, {{"NAMESPACE", ns_id}}); !r)
        return from_error(call, r.error(), "NamespaceNotFound");
      return ok(call, {{"OperationId", op.id}});
    }
    std::string message = "Namespace " + existing->name + " already exists";
    // One DNS server serves every region, so a zone name is taken across regions.
    if (existing->region != call.region) message += " (in region " + existing->region + ")";
    return fail(
        call, AwsError{"NamespaceAlreadyExists", message},
        {{"NamespaceId", existing->id}, {"CreatorRequestId", existing->creator_request_id}});
  }
  core::NamespaceSpec spec;
  spec.name = normalized;
  spec.type = type;
  if (!description.empty()) spec.description = description;
  if (soa_ttl) spec.negative_ttl = static_cast<std::uint32_t>(*soa_ttl);
  spec.creator_request_id = request_id;
  spec.region = call.region;
  spec.tags = tags;
  spec.vpc = vpc;
  const auto op = operation(call, "CREATE_NAMESPACE");
  auto created = registry_.put_namespace(spec, &op);
  if (!created) return from_error(call, created.error(), "NamespaceNotFound");
  return ok(call, {{"OperationId", op.id}});
}

Response CloudMapHandlers::get_namespace(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto id = in.str("Id", true, 255);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Namespace* n = find_namespace(call, id);
  if (!n) return fail(call, "NamespaceNotFound", "Namespace not found: " + id);
  return ok(call, {{"Namespace", namespace_json(*n, false)}});
}

Response CloudMapHandlers::list_namespaces(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto filters = read_filters(in, {{"TYPE", {"EQ", "IN", "BEGINS_WITH"}},
                                         {"NAME", {"EQ", "BEGINS_WITH"}},
                                         {"HTTP_NAME", {"EQ", "BEGINS_WITH"}},
                                         {"RESOURCE_OWNER", {"EQ"}}});
  if (in.failed()) return invalid_input(call, in.error());
  std::vector<const core::Namespace*> found;
  for (const core::Namespace* n : registry_.namespaces()) {
    if (n->region != call.region) continue;
    bool keep = true;
    for (const auto& f : filters) {
      if (f.name == "TYPE") keep = keep && matches(f, n->type);
      if (f.name == "NAME" || f.name == "HTTP_NAME") keep = keep && matches(f, n->name);
      if (f.name == "RESOURCE_OWNER") keep = keep && f.values[0] == "SELF";
    }
    if (keep) found.push_back(n);
  }
  Page page;
  if (!read_page(in, "namespaces", found.size(), 100, page)) return invalid_input(call, in.error());
  json list = json::array();
  for (auto i = page.begin; i < page.end; ++i) list.push_back(namespace_json(*found[i], true));
  json out{{"Namespaces", std::move(list)}};
  if (!page.next.empty()) out["NextToken"] = page.next;
  return ok(call, out);
}

Response CloudMapHandlers::update_namespace(const AwsCall& call, const std::string& type) {
  // The model's shapes (checked before) make Id and Namespace present and well-typed.
  const auto id = call.input["Id"].get<std::string>();
  const auto& change = call.input["Namespace"];
  const core::Namespace* n = find_namespace(call, id);
  if (!n) return fail(call, "NamespaceNotFound", "Namespace not found: " + id);
  if (n->type != type) {
    return invalid_input(call, "Namespace " + id + " is of type " + n->type + ", not " + type);
  }
  core::NamespaceSpec spec;
  spec.name = n->name;
  spec.type = n->type;
  if (change.contains("Description") && change["Description"].is_string())
    spec.description = change["Description"].get<std::string>();
  const auto soa = change.value("/Properties/DnsProperties/SOA/TTL"_json_pointer, json());
  if (soa.is_number_integer()) spec.negative_ttl = soa.get<std::uint32_t>();
  const auto op = operation(call, "UPDATE_NAMESPACE");
  auto updated = registry_.put_namespace(spec, &op);
  if (!updated) return from_error(call, updated.error(), "NamespaceNotFound");
  return ok(call, {{"OperationId", op.id}});
}

Response CloudMapHandlers::delete_namespace(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto id = in.str("Id", true, 255);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Namespace* n = find_namespace(call, id);
  if (!n) return fail(call, "NamespaceNotFound", "Namespace not found: " + id);
  const std::string ns_id = n->id;
  const auto op = operation(call, "DELETE_NAMESPACE");
  auto deleted = registry_.delete_namespace(ns_id, &op);
  if (!deleted) return from_error(call, deleted.error(), "NamespaceNotFound");
  return ok(call, {{"OperationId", op.id}});
}

// --------------------------------------------------------------------------- services

Response CloudMapHandlers::create_service(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto name = in.str("Name", true, 127);
  std::string namespace_id = in.str("NamespaceId", false, 64);
  const auto request_id = in.str("CreatorRequestId", false, 64);
  const auto description = in.str("Description", false, 1024);
  const auto type = in.str("Type");
  const auto tags = read_tags(in, false);
  const auto* dns_config = in.object("DnsConfig");
  DnsRecords records;
  std::string routing = "MULTIVALUE";
  if (dns_config) {
    auto d = in.nested(*dns_config, "DnsConfig.");
    if (namespace_id.empty()) namespace_id = d.str("NamespaceId", false, 64);
    if (d.has("RoutingPolicy")) routing = d.str("RoutingPolicy");
    if (const auto* list = d.array("DnsRecords", true)) read_dns_records(d, *list, records);
  }
  std::optional<std::int64_t> failure_threshold;
  const auto* custom = in.object("HealthCheckCustomConfig");
  if (custom) {
    auto c = in.nested(*custom, "HealthCheckCustomConfig.");
    failure_threshold = c.integer("FailureThreshold", 1, 10);
  }
  const bool route53_check = in.has("HealthCheckConfig");
  if (in.failed()) return invalid_input(call, in.error());
  if (namespace_id.empty()) return invalid_input(call, "NamespaceId: required");
  const core::Namespace* ns = find_namespace(call, namespace_id);
  if (!ns) return fail(call, "NamespaceNotFound", "Namespace not found: " + namespace_id);
  if (route53_check && custom) {
    return invalid_input(call,
                         "HealthCheckConfig and HealthCheckCustomConfig are mutually exclusive");
  }
  if (route53_check) {
    return invalid_input(call,
                         ns->type == "DNS_PRIVATE"
                             ? "HealthCheckConfig is not supported for private DNS namespaces"
                             : "HealthCheckConfig (Route 53 health checks) is not supported by "
                               "ecs-emulator; use HealthCheckCustomConfig");
  }
  if (ns->is_dns() && type == "HTTP") {
    return invalid_input(call,
                         "Type HTTP services in DNS namespaces are not supported by ecs-emulator");
  }
  if (ns->is_dns() && !dns_config) {
    return invalid_input(call, "DnsConfig: required for a service in a DNS namespace");
  }
  if (!ns->is_dns() && dns_config) {
    return invalid_input(call, "DnsConfig: not allowed for a service in an HTTP namespace");
  }
  if (tags.size() > kMaxTags) {
    return fail(call, AwsError{"TooManyTagsException", "at most 50 tags per resource"},
                {{"ResourceName", name}});
  }
  const std::string normalized = lower(name);
  if (const core::Service* existing = registry_.service_by_dns_name(normalized + "." + ns->name)) {
    if (!request_id.empty() && existing->creator_request_id == request_id) {
      return ok(call, {{"Service", service_json(*existing, false)}});
    }
    return fail(call, AwsError{"ServiceAlreadyExists", "Service already exists: " + existing->name},
                {{"ServiceId", existing->id},
                 {"ServiceArn", existing->arn},
                 {"CreatorRequestId", existing->creator_request_id}});
  }
  core::ServiceSpec spec;
  if (dns_config) {
    spec.records = records.types;
    spec.ttl = records.ttl;
    spec.routing = routing == "WEIGHTED" ? core::Routing::Weighted : core::Routing::Multivalue;
  }
  if (!description.empty()) spec.description = description;
  if (custom) {
    spec.custom_health = true;
    spec.failure_threshold = 1;  // Cloud Map: always 1 (FailureThreshold is deprecated)
  }
  spec.creator_request_id = request_id;
  spec.tags = tags;
  auto created = registry_.create_service_in(ns->id, normalized, spec);
  if (!created) return from_error(call, created.error(), "NamespaceNotFound");
  const core::Service* s = registry_.service_by_id(created->id);
  return ok(call, {{"Service", service_json(s ? *s : *created, false)}});
}

Response CloudMapHandlers::get_service(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto id = in.str("Id", true, 255);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + id);
  return ok(call, {{"Service", service_json(*s, false)}});
}

Response CloudMapHandlers::list_services(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto filters =
      read_filters(in, {{"NAMESPACE_ID", {"EQ", "IN"}}, {"RESOURCE_OWNER", {"EQ"}}});
  if (in.failed()) return invalid_input(call, in.error());
  std::vector<const core::Service*> found;
  for (const core::Service* s : registry_.services()) {
    if (s->region != call.region) continue;
    bool keep = true;
    for (const auto& f : filters) {
      if (f.name == "NAMESPACE_ID") keep = keep && matches(f, s->namespace_id);
      if (f.name == "RESOURCE_OWNER") keep = keep && f.values[0] == "SELF";
    }
    if (keep) found.push_back(s);
  }
  Page page;
  if (!read_page(in, "services", found.size(), 100, page)) return invalid_input(call, in.error());
  json list = json::array();
  for (auto i = page.begin; i < page.end; ++i) list.push_back(service_json(*found[i], true));
  json out{{"Services", std::move(list)}};
  if (!page.next.empty()) out["NextToken"] = page.next;
  return ok(call, out);
}

Response CloudMapHandlers::update_service(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto id = in.str("Id", true, 64);
  const auto* change = in.object("Service", true);
  std::optional<std::string> description;
  DnsRecords records;
  bool has_records = false;
  bool route53_check = false;
  if (change) {
    auto c = in.nested(*change, "Service.");
    if (c.has("Description")) description = c.str("Description", false, 1024);
    if (const auto* dns = c.object("DnsConfig")) {
      auto d = c.nested(*dns, "Service.DnsConfig.");
      if (const auto* list = d.array("DnsRecords", true))
        has_records = read_dns_records(d, *list, records);
    }
    route53_check = c.has("HealthCheckConfig");
  }
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + id);
  if (route53_check) {
    return invalid_input(call, "HealthCheckConfig is not supported for private DNS namespaces");
  }
  core::ServiceSpec spec;
  if (description) spec.description = *description;
  if (has_records) {
    // Cloud Map: record types can only be changed by deleting and recreating the service.
    if (!(records.types == s->records)) {
      return invalid_input(call, "DnsConfig: the record types of a service cannot be changed");
    }
    spec.ttl = records.ttl;
  }
  const std::string service_id = s->id;
  const auto op = operation(call, "UPDATE_SERVICE");
  auto updated = registry_.update_service(service_id, spec, &op);
  if (!updated) return from_error(call, updated.error(), "ServiceNotFound");
  return ok(call, {{"OperationId", op.id}});
}

Response CloudMapHandlers::delete_service(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto id = in.str("Id", true, 255);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + id);
  auto deleted = registry_.delete_service(s->id, /*require_empty=*/true);
  if (!deleted) return from_error(call, deleted.error(), "ServiceNotFound");
  return ok(call, json::object());
}

// --------------------------------------------------------------------------- instances

Response CloudMapHandlers::register_instance(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto service_id = in.str("ServiceId", true, 64);
  const auto instance_id = in.str("InstanceId", true, 64);
  const auto request_id = in.str("CreatorRequestId", false, 64);
  const auto attributes = in.string_map("Attributes", true);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, service_id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_id);
  const core::Namespace* ns = registry_.namespace_by_id(s->namespace_id);
  const bool dns = ns && ns->is_dns();
  // Attribute quotas (model): 30 custom, key <= 255, value <= 1024, 5000 characters in all.
  std::size_t custom = 0;
  std::size_t total = 0;
  for (const auto& [k, v] : attributes) {
    if (k.empty() || k.size() > 255 || !printable_ascii(k)) {
      return invalid_input(call, "Attributes: invalid key '" + k + "'");
    }
    if (v.size() > 1024)
      return invalid_input(call, "Attributes: value of " + k + " is longer than 1024");
    total += k.size() + v.size();
    if (k.rfind("AWS_", 0) != 0) ++custom;
  }
  if (custom > 30) return invalid_input(call, "Attributes: at most 30 custom attributes");
  if (total > 5000) return invalid_input(call, "Attributes: more than 5000 characters in all");
  auto attr = [&](const char* key) {
    const auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  };
  core::TaskSpec spec;
  spec.id = instance_id;
  spec.launch = core::Launch::Instance;
  spec.ipv4 = attr("AWS_INSTANCE_IPV4");
  spec.ipv6 = attr("AWS_INSTANCE_IPV6");
  spec.attributes = attributes;
  spec.require_address = dns;
  if (!spec.ipv4.empty() && !core::native::parse_ipv4(spec.ipv4)) {
    return invalid_input(call, "AWS_INSTANCE_IPV4: not an IPv4 address: " + spec.ipv4);
  }
  if (!spec.ipv6.empty() && !core::native::parse_ipv6(spec.ipv6)) {
    return invalid_input(call, "AWS_INSTANCE_IPV6: not an IPv6 address: " + spec.ipv6);
  }
  if (const auto port = attr("AWS_INSTANCE_PORT"); !port.empty()) {
    int value = 0;
    const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
                          return c >= '0' && c <= '9';
                        });
    if (digits) value = std::stoi(port);
    if (!digits || value < 1 || value > 65535) {
      return invalid_input(call, "AWS_INSTANCE_PORT: must be a port number 1..65535, got " + port);
    }
    spec.port = static_cast<std::uint16_t>(value);
  }
  if (dns) {
    if (s->records.a && spec.ipv4.empty()) {
      return invalid_input(call, "AWS_INSTANCE_IPV4: required because the service has an A record");
    }
    if (s->records.aaaa && spec.ipv6.empty()) {
      return invalid_input(call,
                           "AWS_INSTANCE_IPV6: required because the service has an AAAA record");
    }
    if (s->records.srv && spec.port == 0) {
      return invalid_input(call,
                           "AWS_INSTANCE_PORT: required because the service has an SRV record");
    }
    if (s->records.srv && spec.ipv4.empty() && spec.ipv6.empty()) {
      return invalid_input(call,
                           "AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6: required for an SRV record");
    }
  }
  const auto init = attr("AWS_INIT_HEALTH_STATUS");
  if (!init.empty() && init != "HEALTHY" && init != "UNHEALTHY") {
    return invalid_input(call, "AWS_INIT_HEALTH_STATUS: must be HEALTHY or UNHEALTHY, got " + init);
  }
  if (s->custom_health) {
    // Cloud Map: the initial custom health status is HEALTHY unless AWS_INIT_HEALTH_STATUS says
    // not.
    spec.initial_health = init == "UNHEALTHY" ? core::Health::Unhealthy : core::Health::Healthy;
  }
  spec.creator_request_id = request_id;
  const std::string sid = s->id;
  const auto op = operation(call, "REGISTER_INSTANCE");
  auto registered = registry_.register_in(sid, spec, &op);
  if (!registered) return from_error(call, registered.error(), "ServiceNotFound");
  return ok(call, {{"OperationId", op.id}});
}

Response CloudMapHandlers::deregister_instance(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto service_id = in.str("ServiceId", true, 64);
  const auto instance_id = in.str("InstanceId", true, 64);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, service_id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_id);
  const core::Task* t = find_instance(*s, instance_id);
  if (!t) return fail(call, "InstanceNotFound", "Instance not found: " + instance_id);
  if (t->launch != core::Launch::Instance) {
    return invalid_input(call, "instance " + instance_id +
                                   " is an ECS task; ECS deregisters it when the task stops "
                                   "(use ECS StopTask)");
  }
  const std::string key = core::Registry::task_key(*t);
  const auto op = operation(call, "DEREGISTER_INSTANCE");
  auto erased = registry_.erase_task(key, &op);
  if (!erased) return from_error(call, erased.error(), "InstanceNotFound");
  return ok(call, {{"OperationId", op.id}});
}

Response CloudMapHandlers::get_instance(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto service_id = in.str("ServiceId", true, 64);
  const auto instance_id = in.str("InstanceId", true, 64);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, service_id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_id);
  const core::Task* t = find_instance(*s, instance_id);
  if (!t) return fail(call, "InstanceNotFound", "Instance not found: " + instance_id);
  json inst{{"Id", t->id},
            {"Attributes", attributes_of(*t)},
            {"CreatedByAccount", registry_.config().account_id}};
  if (!t->creator_request_id.empty()) inst["CreatorRequestId"] = t->creator_request_id;
  return ok(call,
            {{"ResourceOwner", registry_.config().account_id}, {"Instance", std::move(inst)}});
}

Response CloudMapHandlers::list_instances(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto service_id = in.str("ServiceId", true, 64);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, service_id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_id);
  const auto found = instances_of(*s);
  Page page;
  if (!read_page(in, "instances/" + s->id, found.size(), 100, page)) {
    return invalid_input(call, in.error());
  }
  json list = json::array();
  for (auto i = page.begin; i < page.end; ++i) {
    list.push_back({{"Id", found[i]->id},
                    {"Attributes", attributes_of(*found[i])},
                    {"CreatedByAccount", registry_.config().account_id}});
  }
  json out{{"ResourceOwner", registry_.config().account_id}, {"Instances", std::move(list)}};
  if (!page.next.empty()) out["NextToken"] = page.next;
  return ok(call, out);
}

Response CloudMapHandlers::get_instances_health_status(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto service_id = in.str("ServiceId", true, 64);
  const auto* ids = in.array("Instances");
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, service_id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_id);
  std::vector<const core::Task*> found;
  if (ids) {
    if (ids->empty())
      return invalid_input(call, "Instances: Member must have length greater than or equal to 1");
    for (const auto& id : *ids) {
      if (!id.is_string())
        return invalid_input(call, "Instances: Member must be a list of strings");
      const core::Task* t = find_instance(*s, id.get<std::string>());
      if (!t) return fail(call, "InstanceNotFound", "Instance not found: " + id.get<std::string>());
      found.push_back(t);
    }
  } else {
    found = instances_of(*s);
  }
  Page page;
  if (!read_page(in, "health/" + s->id, found.size(), 100, page))
    return invalid_input(call, in.error());
  json status = json::object();
  for (auto i = page.begin; i < page.end; ++i) status[found[i]->id] = health_of(*s, *found[i]);
  json out{{"Status", std::move(status)}};
  if (!page.next.empty()) out["NextToken"] = page.next;
  return ok(call, out);
}

Response CloudMapHandlers::update_instance_custom_health_status(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto service_id = in.str("ServiceId", true, 64);
  const auto instance_id = in.str("InstanceId", true, 64);
  const auto status = in.str("Status", true);
  if (in.failed()) return invalid_input(call, in.error());
  const core::Service* s = find_service(call, service_id);
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_id);
  const core::Task* t = find_instance(*s, instance_id);
  if (!t) return fail(call, "InstanceNotFound", "Instance not found: " + instance_id);
  if (!s->custom_health) {
    return fail(call, "CustomHealthNotFound",
                "Service " + s->id +
                    " has no HealthCheckCustomConfig; custom health status "
                    "cannot be updated");
  }
  const auto health = status == "HEALTHY" ? core::Health::Healthy : core::Health::Unhealthy;
  auto changed = registry_.set_health(core::Registry::task_key(*t), health,
                                      "UpdateInstanceCustomHealthStatus " + status);
  if (!changed) return from_error(call, changed.error(), "InstanceNotFound");
  return ok(call, json::object());
}

Response CloudMapHandlers::discover_instances(const AwsCall& call, bool revision_only) {
  CloudMapInput in(call.input);
  const auto namespace_name = in.str("NamespaceName", true, 1024);
  const auto service_name = in.str("ServiceName", true, 127);
  std::optional<std::int64_t> max;
  std::string health = "HEALTHY";
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> optional;
  if (!revision_only) {
    max = in.integer("MaxResults", 1, 1000);
    query = in.string_map("QueryParameters");
    optional = in.string_map("OptionalParameters");
    if (in.has("HealthStatus")) health = in.str("HealthStatus");
  }
  if (in.failed()) return invalid_input(call, in.error());
  const core::Namespace* ns = registry_.namespace_by_name(lower(strip_dot(namespace_name)));
  if (!ns || ns->region != call.region) {
    return fail(call, "NamespaceNotFound", "Namespace not found: " + namespace_name);
  }
  const core::Service* s = nullptr;
  for (const core::Service* candidate : registry_.services()) {
    if (candidate->namespace_id == ns->id && candidate->name == lower(service_name)) s = candidate;
  }
  if (!s) return fail(call, "ServiceNotFound", "Service not found: " + service_name);
  const auto revision = revision_of(*s);
  if (revision_only) return ok(call, {{"InstancesRevision", revision}});

  auto has_all = [this](const core::Task& t, const std::map<std::string, std::string>& want) {
    const json attrs = attributes_of(t);
    for (const auto& [k, v] : want) {
      const auto it = attrs.find(k);
      if (it == attrs.end() || *it != v) return false;
    }
    return true;
  };
  std::vector<const core::Task*> found;
  for (const core::Task* t : instances_of(*s)) {
    if (has_all(*t, query)) found.push_back(t);
  }
  // Cloud Map: the health filter is ignored for services without a health check.
  if (s->custom_health && health != "ALL") {
    std::vector<const core::Task*> healthy, unhealthy;
    for (const core::Task* t : found) {
      (health_of(*s, *t) == "UNHEALTHY" ? unhealthy : healthy).push_back(t);
    }
    if (health == "HEALTHY") found = healthy;
    if (health == "UNHEALTHY") found = unhealthy;
    if (health == "HEALTHY_OR_ELSE_ALL" && !healthy.empty()) found = healthy;
  }
  // OptionalParameters apply only when some instance matches them too.
  if (!optional.empty()) {
    std::vector<const core::Task*> narrowed;
    for (const core::Task* t : found) {
      if (has_all(*t, optional)) narrowed.push_back(t);
    }
    if (!narrowed.empty()) found = std::move(narrowed);
  }
  if (found.size() > static_cast<std::size_t>(max.value_or(100))) found.resize(max.value_or(100));
  json list = json::array();
  for (const core::Task* t : found) {
    list.push_back({{"InstanceId", t->id},
                    {"NamespaceName", ns->name},
                    {"ServiceName", s->name},
                    {"HealthStatus", health_of(*s, *t)},
                    {"Attributes", attributes_of(*t)}});
  }
  return ok(call, {{"Instances", std::move(list)}, {"InstancesRevision", revision}});
}

// --------------------------------------------------------------------------- operations

namespace {
json operation_json(const core::CloudMapOperation& op, const std::string& account) {
  return {{"Id", op.id},
          {"OwnerAccount", account},
          {"Type", op.type},
          {"Status", "SUCCESS"},
          {"CreateDate", epoch_seconds(op.created)},
          {"UpdateDate", epoch_seconds(op.created)},
          {"Targets", op.targets}};
}

std::optional<double> parse_date(const std::string& s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

Response CloudMapHandlers::get_operation(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto id = in.str("OperationId", true, 255);
  if (in.failed()) return invalid_input(call, in.error());
  if (const auto* op = registry_.cloudmap().operation(id); op && op->region == call.region) {
    return ok(call, {{"Operation", operation_json(*op, registry_.config().account_id)}});
  }
  return fail(call, "OperationNotFound", "Operation not found: " + id);
}

Response CloudMapHandlers::list_operations(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto filters = read_filters(in, {{"NAMESPACE_ID", {"EQ"}},
                                         {"SERVICE_ID", {"EQ"}},
                                         {"STATUS", {"EQ", "IN"}},
                                         {"TYPE", {"EQ", "IN"}},
                                         {"UPDATE_DATE", {"BETWEEN"}}});
  if (in.failed()) return invalid_input(call, in.error());
  std::optional<double> from, to;
  for (const auto& f : filters) {
    if (f.name != "UPDATE_DATE") continue;
    from = parse_date(f.values[0]);
    to = parse_date(f.values[1]);
    if (!from || !to)
      return invalid_input(call, "Filters: UPDATE_DATE values must be epoch seconds");
  }
  std::vector<const core::CloudMapOperation*> found;
  for (const auto& op : registry_.cloudmap().operations()) {
    if (op.region != call.region) continue;
    bool keep = true;
    for (const auto& f : filters) {
      auto target = [&](const char* k) {
        const auto it = op.targets.find(k);
        return it == op.targets.end() ? std::string() : it->second;
      };
      if (f.name == "NAMESPACE_ID") keep = keep && matches(f, target("NAMESPACE"));
      if (f.name == "SERVICE_ID") keep = keep && matches(f, target("SERVICE"));
      if (f.name == "STATUS") keep = keep && matches(f, "SUCCESS");
      if (f.name == "TYPE") keep = keep && matches(f, op.type);
      if (f.name == "UPDATE_DATE") {
        const double at = epoch_seconds(op.created);
        keep = keep && at >= *from && at <= *to;
      }
    }
    if (keep) found.push_back(&op);
  }
  Page page;
  if (!read_page(in, "operations", found.size(), 100, page)) return invalid_input(call, in.error());
  json list = json::array();
  for (auto i = page.begin; i < page.end; ++i) {
    list.push_back({{"Id", found[i]->id}, {"Status", "SUCCESS"}});
  }
  json out{{"Operations", std::move(list)}};
  if (!page.next.empty()) out["NextToken"] = page.next;
  return ok(call, out);
}

// --------------------------------------------------------------------------- tags

namespace {
/// The tags of the namespace or service an ARN names (nullptr: none in the call's region).
const std::map<std::string, std::string>* tags_of(const core::Registry& registry,
                                                  const AwsCall& call, const std::string& arn,
                                                  std::string* id) {
  for (const core::Namespace* n : registry.namespaces()) {
    if (n->arn == arn && n->region == call.region) {
      *id = n->id;
      return &n->tags;
    }
  }
  for (const core::Service* s : registry.services()) {
    if (s->arn == arn && s->region == call.region) {
      *id = s->id;
      return &s->tags;
    }
  }
  return nullptr;
}
}  // namespace

Response CloudMapHandlers::tag_resource(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto arn = in.str("ResourceARN", true, 1011);
  const auto tags = read_tags(in, true);
  if (in.failed()) return invalid_input(call, in.error());
  std::string id;
  const auto* current = tags_of(registry_, call, arn, &id);
  if (!current) return fail(call, "ResourceNotFoundException", "Resource not found: " + arn);
  auto merged = *current;
  for (const auto& [k, v] : tags) merged[k] = v;
  if (merged.size() > kMaxTags) {
    return fail(call, AwsError{"TooManyTagsException", "at most 50 tags per resource"},
                {{"ResourceName", arn}});
  }
  if (auto r = registry_.set_tags(id, std::move(merged)); !r) {
    return from_error(call, r.error(), "ResourceNotFoundException");
  }
  return ok(call, json::object());
}

Response CloudMapHandlers::untag_resource(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto arn = in.str("ResourceARN", true, 1011);
  const auto* keys = in.array("TagKeys", true);
  if (in.failed()) return invalid_input(call, in.error());
  std::string id;
  const auto* current = tags_of(registry_, call, arn, &id);
  if (!current) return fail(call, "ResourceNotFoundException", "Resource not found: " + arn);
  auto remaining = *current;
  for (const auto& k : *keys) {
    if (!k.is_string()) return invalid_input(call, "TagKeys: Member must be a list of strings");
    remaining.erase(k.get<std::string>());
  }
  if (auto r = registry_.set_tags(id, std::move(remaining)); !r) {
    return from_error(call, r.error(), "ResourceNotFoundException");
  }
  return ok(call, json::object());
}

Response CloudMapHandlers::list_tags_for_resource(const AwsCall& call) {
  CloudMapInput in(call.input);
  const auto arn = in.str("ResourceARN", true, 1011);
  if (in.failed()) return invalid_input(call, in.error());
  std::string id;
  const auto* current = tags_of(registry_, call, arn, &id);
  if (!current) return fail(call, "ResourceNotFoundException", "Resource not found: " + arn);
  return ok(call, {{"Tags", tags_json(*current)}});
}

// --------------------------------------------------------------------------- install

void install_cloudmap(Router& router, core::Registry& registry, const TimeSource& clock) {
  auto handlers = std::make_shared<CloudMapHandlers>(registry, clock);
  router.set_aws_handler(std::string(kCloudMapPrefix),
                         [handlers](const Request& req, std::string_view operation) {
                           return handlers->handle(req, operation);
                         });
}

}  // namespace emu::api::aws
