#include "api/route53/record_sets.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <tuple>

#include "api/aws/aws_error.hpp"
#include "api/route53/route53_xml.hpp"

namespace emu::api::route53 {

namespace {

// botocore route53 2013-04-01, shape RRType.
constexpr std::string_view kTypes[] = {"SOA", "A",   "TXT", "NS",   "CNAME", "MX", "NAPTR",
                                       "PTR", "SRV", "SPF", "AAAA", "CAA",   "DS"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The instance's label in the SRV target, or "" when its id cannot be one DNS label (the DNS
/// snapshot then publishes no SRV for it either).
std::string target_label(std::string_view id) {
  if (id.empty() || id.size() > 63 || id.find('.') != std::string_view::npos) return {};
  return lower(id);
}

Error invalid_input(std::string message) { return aws::aws_error("InvalidInput", message); }

}  // namespace

std::string reversed_name(std::string_view name) {
  const std::string n = lower(name);
  std::string_view rest = n;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  if (rest.empty()) return ".";
  std::string out;
  out.reserve(rest.size() + 1);
  while (true) {
    const auto dot = rest.rfind('.');
    if (dot == std::string_view::npos) {
      out.append(rest);
      out += '.';
      break;
    }
    out.append(rest.substr(dot + 1));
    out += '.';
    rest = rest.substr(0, dot);
  }
  return out;
}

std::string absolute_name(std::string_view name) {
  std::string out = lower(name);
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

bool record_set_less(const RecordSet& a, const RecordSet& b) {
  const std::string ra = reversed_name(a.name), rb = reversed_name(b.name);
  return std::tie(ra, a.type, a.set_identifier) < std::tie(rb, b.type, b.set_identifier);
}

std::vector<RecordSet> service_record_sets(const ServiceRecords& s) {
  std::vector<RecordSet> out;
  const std::string name = absolute_name(s.dns_name);
  for (const auto& inst : s.instances) {
    const auto record = [&](std::string owner, const char* type, std::string value) {
      RecordSet r;
      r.name = std::move(owner);
      r.type = type;
      r.set_identifier = inst.id;
      // Cloud Map: MULTIVALUE writes multivalue answer records, WEIGHTED weight-1 records.
      if (s.routing == core::Routing::Weighted) {
        r.weight = 1;
      } else {
        r.multivalue = true;
      }
      r.ttl = s.ttl;
      r.values.push_back(std::move(value));
      out.push_back(std::move(r));
    };
    if (s.records.a && !inst.ipv4.empty()) record(name, "A", inst.ipv4);
    if (s.records.aaaa && !inst.ipv6.empty()) record(name, "AAAA", inst.ipv6);
    const std::string label = target_label(inst.id);
    if (s.records.srv && !label.empty()) {
      // Cloud Map: the SRV target is <instance-id>.<service>.<namespace>, and that name gets
      // the instance's A/AAAA.
      const std::string target = label + "." + name;
      record(name, "SRV", "1 1 " + std::to_string(inst.port) + " " + target);
      if (!inst.ipv4.empty()) record(target, "A", inst.ipv4);
      if (!inst.ipv6.empty()) record(target, "AAAA", inst.ipv6);
    }
  }
  return out;
}

std::size_t service_record_set_count(const ServiceRecords& s) {
  std::size_t n = 0;
  for (const auto& inst : s.instances) {
    n += s.records.a && !inst.ipv4.empty();
    n += s.records.aaaa && !inst.ipv6.empty();
    if (s.records.srv && !target_label(inst.id).empty()) {
      n += 1 + !inst.ipv4.empty() + !inst.ipv6.empty();
    }
  }
  return n;
}

std::vector<RecordSet> zone_record_sets(const ApexRecords& apex,
                                        const std::vector<ServiceRecords>& services,
                                        const std::vector<core::UserRecordSet>& own) {
  std::vector<RecordSet> all;
  all.push_back(RecordSet{apex.zone, "SOA", {}, std::nullopt, false, apex.soa_ttl, {apex.soa}});
  all.push_back(RecordSet{apex.zone, "NS", {}, std::nullopt, false, apex.ns_ttl, apex.ns});
  for (const auto& s : services) {
    auto sets = service_record_sets(s);
    std::move(sets.begin(), sets.end(), std::back_inserter(all));
  }
  for (const auto& u : own) {
    all.push_back(
        RecordSet{u.name, u.type, u.set_identifier, u.weight, u.multivalue, u.ttl, u.values});
  }
  // Sort on precomputed keys: a reversed name per record set, not one per comparison.
  std::vector<std::pair<std::string, std::size_t>> keys;
  keys.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) keys.emplace_back(reversed_name(all[i].name), i);
  std::sort(keys.begin(), keys.end(), [&](const auto& x, const auto& y) {
    const RecordSet& a = all[x.second];
    const RecordSet& b = all[y.second];
    return std::tie(x.first, a.type, a.set_identifier) <
           std::tie(y.first, b.type, b.set_identifier);
  });
  std::vector<RecordSet> out;
  out.reserve(all.size());
  for (const auto& [key, i] : keys) out.push_back(std::move(all[i]));
  return out;
}

Result<RecordSetStart> parse_start(std::optional<std::string> name, std::optional<std::string> type,
                                   std::optional<std::string> identifier) {
  RecordSetStart start;
  if (type && !name) return invalid_input("The type parameter requires the name parameter");
  if (identifier && !type) {
    return invalid_input("The identifier parameter requires the name and type parameters");
  }
  if (name) {
    if (name->empty() || name->size() > 1024) {
      return invalid_input("The name parameter must be 1 to 1024 characters long");
    }
    start.name = absolute_name(*name);
  }
  if (type) {
    if (std::find(std::begin(kTypes), std::end(kTypes), *type) == std::end(kTypes)) {
      return invalid_input("The type parameter '" + *type +
                           "' is not a record type (SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, "
                           "SPF, AAAA, CAA, DS)");
    }
    start.type = *type;
  }
  if (identifier) {
    if (identifier->empty() || identifier->size() > 128) {
      return invalid_input("The identifier parameter must be 1 to 128 characters long");
    }
    start.identifier = *identifier;
  }
  return start;
}

RecordSetPage page_record_sets(const std::vector<RecordSet>& sorted, const RecordSetStart& start,
                               std::size_t max_items) {
  RecordSetPage page;
  if (!start.name.empty()) {
    // Empty type and identifier sort before every real one: (name) and (name, type) prefixes.
    const std::string key = reversed_name(start.name);
    const auto it = std::partition_point(sorted.begin(), sorted.end(), [&](const RecordSet& r) {
      const std::string rk = reversed_name(r.name);
      return std::tie(rk, r.type, r.set_identifier) < std::tie(key, start.type, start.identifier);
    });
    page.begin = static_cast<std::size_t>(it - sorted.begin());
  }
  page.end = std::min(sorted.size(), page.begin + max_items);
  if (page.end < sorted.size()) {
    const RecordSet& n = sorted[page.end];
    page.next = RecordSetStart{n.name, n.type, n.set_identifier};
  }
  return page;
}

Result<std::size_t> parse_max_items(const std::optional<std::string>& value, std::size_t fallback,
                                    std::size_t cap) {
  if (!value) return fallback;
  const std::string& v = *value;
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
    return invalid_input("The maxitems parameter must be a positive whole number, not '" +
                         v.substr(0, 64) + "'");
  }
  const auto digits = v.find_first_not_of('0');
  if (digits == std::string::npos)
    return invalid_input("The maxitems parameter must be at least 1");
  if (v.size() - digits > 18) return cap;  // past any cap, and past what stoull must read
  const auto n = std::stoull(v.substr(digits));
  return static_cast<std::size_t>(std::min<unsigned long long>(n, cap));
}

// ------------------------------------------------------------------------------- change batch

namespace {

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::int64_t> integer(std::string_view text, std::int64_t min, std::int64_t max) {
  const std::string t = trimmed(text);
  if (t.empty() || t.size() > 19) return std::nullopt;
  std::int64_t v = 0;
  std::size_t i = 0;
  const bool negative = t[0] == '-';
  if (negative) i = 1;
  if (i == t.size()) return std::nullopt;
  for (; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
    v = v * 10 + (t[i] - '0');
  }
  if (negative) v = -v;
  if (v < min || v > max) return std::nullopt;
  return v;
}

// Elements of a ResourceRecordSet that Route 53 has and ecs-emulator does not answer yet.
constexpr std::string_view kUnsupported[] = {
    "AliasTarget",          "Failover",          "HealthCheckId",          "Region", "GeoLocation",
    "GeoProximityLocation", "CidrRoutingConfig", "TrafficPolicyInstanceId"};

}  // namespace

Result<ChangeBatch> parse_change_batch(const XmlElement& request) {
  const XmlElement* batch = request.child("ChangeBatch");
  const XmlElement* changes = batch ? batch->child("Changes") : nullptr;
  if (!changes) return invalid_input("Invalid request: Missing field 'ChangeBatch.Changes'");
  ChangeBatch out;
  if (const auto* c = batch->child("Comment")) out.comment = c->text;
  const auto list = changes->all("Change");
  if (list.empty()) return invalid_input("Invalid request: ChangeBatch.Changes is empty");
  if (list.size() > 1000) {
    return invalid_input("Invalid request: a change batch holds at most 1000 changes");
  }
  for (const XmlElement* change : list) {
    core::RecordChange rc;
    const auto* action = change->child("Action");
    const std::string a = action ? trimmed(action->text) : std::string();
    if (a == "CREATE") {
      rc.action = core::RecordChange::Action::Create;
    } else if (a == "DELETE") {
      rc.action = core::RecordChange::Action::Delete;
    } else if (a == "UPSERT") {
      rc.action = core::RecordChange::Action::Upsert;
    } else {
      return invalid_input("Invalid request: Action '" + a.substr(0, 64) +
                           "' is not one of CREATE, DELETE, UPSERT");
    }
    const auto* rrs = change->child("ResourceRecordSet");
    if (!rrs) return invalid_input("Invalid request: Missing field 'ResourceRecordSet'");
    for (const auto unsupported : kUnsupported) {
      if (rrs->child(unsupported)) {
        return invalid_input("ResourceRecordSet." + std::string(unsupported) +
                             " is not supported by ecs-emulator yet (see docs/aws.md)");
      }
    }
    const auto* name = rrs->child("Name");
    const auto* type = rrs->child("Type");
    if (!name || !type) {
      return invalid_input("Invalid request: Missing field 'Name' or 'Type' in ResourceRecordSet");
    }
    core::UserRecordSet& set = rc.set;
    set.name = trimmed(name->text);
    if (set.name.size() > 1024) return invalid_input("Invalid request: Name is too long");
    set.type = trimmed(type->text);
    if (const auto* id = rrs->child("SetIdentifier")) {
      set.set_identifier = id->text;
      if (set.set_identifier.empty() || set.set_identifier.size() > 128) {
        return invalid_input("Invalid request: SetIdentifier must be 1..128 characters");
      }
    }
    if (const auto* w = rrs->child("Weight")) {
      const auto v = integer(w->text, 0, 255);
      if (!v) return invalid_input("Invalid request: Weight must be a number 0..255");
      set.weight = *v;
    }
    if (const auto* mv = rrs->child("MultiValueAnswer")) {
      const std::string t = trimmed(mv->text);
      if (t != "true" && t != "false") {
        return invalid_input("Invalid request: MultiValueAnswer must be true or false");
      }
      set.multivalue = t == "true";
    }
    if (const auto* ttl = rrs->child("TTL")) {
      const auto v = integer(ttl->text, 0, 2147483647);
      if (!v) return invalid_input("Invalid request: TTL must be a number 0..2147483647");
      set.ttl = static_cast<std::uint32_t>(*v);
    }
    if (const auto* records = rrs->child("ResourceRecords")) {
      for (const XmlElement* r : records->all("ResourceRecord")) {
        const auto* value = r->child("Value");
        if (!value)
          return invalid_input("Invalid request: Missing field 'Value' in ResourceRecord");
        if (value->text.size() > 4000) {
          return invalid_input("Invalid request: a Value is at most 4000 characters");
        }
        set.values.push_back(value->text);
      }
    }
    out.changes.push_back(std::move(rc));
  }
  return out;
}

}  // namespace emu::api::route53

namespace emu::api::route53 {

namespace {
constexpr std::size_t kMaxComment = 256;  // botocore: ResourceDescription
}  // namespace

Result<core::HostedZoneSpec> parse_create_hosted_zone(const XmlElement& request) {
  core::HostedZoneSpec spec;
  const auto* name = request.child("Name");
  const auto* reference = request.child("CallerReference");
  if (!name) return invalid_input("Invalid request: Missing field 'Name'");
  if (!reference) return invalid_input("Invalid request: Missing field 'CallerReference'");
  spec.name = trimmed(name->text);
  if (spec.name.empty() || spec.name.size() > 1024) {
    return aws::aws_error("InvalidDomainName",
                          "The domain name is invalid: " + spec.name.substr(0, 255));
  }
  spec.caller_reference = reference->text;
  if (const auto* set = request.child("DelegationSetId")) {
    return aws::aws_error("NoSuchDelegationSet",
                          "A reusable delegation set with the specified ID does not exist: " +
                              trimmed(set->text).substr(0, 64));
  }
  bool private_asked = false;
  if (const auto* config = request.child("HostedZoneConfig")) {
    if (const auto* c = config->child("Comment")) spec.comment = c->text;
    if (const auto* p = config->child("PrivateZone")) {
      const std::string v = trimmed(p->text);
      if (v != "true" && v != "false")
        return invalid_input("Invalid request: PrivateZone '" + v.substr(0, 16) +
                             "' is not a boolean");
      private_asked = v == "true";
    }
  }
  if (spec.comment.size() > kMaxComment) {
    return invalid_input("Invalid request: the comment is longer than 256 characters");
  }
  if (const auto* vpc = request.child("VPC")) {
    const auto* id = vpc->child("VPCId");
    if (!id) return invalid_input("Invalid request: Missing field 'VPC.VPCId'");
    spec.private_zone = true;
    spec.vpc_id = trimmed(id->text);
    if (const auto* region = vpc->child("VPCRegion")) spec.vpc_region = trimmed(region->text);
  } else if (private_asked) {
    return invalid_input(
        "Invalid request: a private hosted zone needs a VPC (VPC.VPCId and VPC.VPCRegion)");
  }
  if (spec.vpc_region.size() > 64) return invalid_input("Invalid request: VPCRegion is too long");
  return spec;
}

Result<std::string> parse_zone_comment(const XmlElement& request) {
  const auto* c = request.child("Comment");
  if (!c) return std::string();
  if (c->text.size() > kMaxComment) {
    return invalid_input("Invalid request: the comment is longer than 256 characters");
  }
  return c->text;
}

}  // namespace emu::api::route53
