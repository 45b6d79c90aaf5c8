#include "emulator/core/route53_records.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <tuple>

#include "emulator/core/native_codec.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace emu::core {
namespace {

using json = nlohmann::json;

struct TypeInfo {
  std::string_view name;
  std::uint16_t code;
};
constexpr TypeInfo kTypes[] = {{"A", 1},    {"NS", 2},    {"CNAME", 5}, {"PTR", 12}, {"MX", 15},
                               {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},  {"CAA", 257}};

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

Error bad_record(std::string_view reason, std::string_view value) {
  return invalid("Invalid Resource Record: 'FATAL problem: " + std::string(reason) +
                 " encountered with '" + std::string(value) + "''");
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Whitespace-separated fields; a quoted field keeps its spaces (quotes and escapes undone).
// nullopt on an unterminated quote or a bad escape.
std::optional<std::vector<std::string>> fields(std::string_view v) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < v.size()) {
    if (is_space(v[i])) {
      ++i;
      continue;
    }
    std::string f;
    if (v[i] == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        const char c = v[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          f.push_back(c);
          continue;
        }
        if (i >= v.size()) return std::nullopt;
        if (v[i] >= '0' && v[i] <= '9') {  // \ddd: a byte in decimal
          if (i + 3 > v.size()) return std::nullopt;
          int n = 0;
          for (int k = 0; k < 3; ++k) {
            const char d = v[i + static_cast<std::size_t>(k)];
            if (d < '0' || d > '9') return std::nullopt;
            n = n * 10 + (d - '0');
          }
          if (n > 255) return std::nullopt;
          f.push_back(static_cast<char>(n));
          i += 3;
        } else {
          f.push_back(v[i++]);
        }
      }
      if (!closed) return std::nullopt;
    } else {
      while (i < v.size() && !is_space(v[i])) f.push_back(v[i++]);
    }
    out.push_back(std::move(f));
  }
  return out;
}

template <typename T>
std::optional<T> number(std::string_view s, T max) {
  unsigned long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
  return static_cast<T>(v);
}

std::optional<std::string> wire_name(std::string_view name) {
  if (name.empty() || name == ".") return std::nullopt;
  std::string w = ZoneSnapshot::to_wire(name);
  if (w.empty()) return std::nullopt;
  return w;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string absolute(std::string_view name) {
  std::string n = lower(std::string(name));
  if (n.empty() || n.back() != '.') n.push_back('.');
  return n;
}

std::string describe(const UserRecordSet& s) {
  std::string d = "[name='" + s.name + "', type='" + s.type + "'";
  if (!s.set_identifier.empty()) d += ", set-identifier='" + s.set_identifier + "'";
  return d + "]";
}

enum class Policy { Simple, Weighted, Multivalue };
Policy policy(const UserRecordSet& s) {
  if (s.weight) return Policy::Weighted;
  if (s.multivalue) return Policy::Multivalue;
  return Policy::Simple;
}

bool same_key(const UserRecordSet& a, const UserRecordSet& b) {
  return a.name == b.name && a.type == b.type && a.set_identifier == b.set_identifier;
}

// The encoded values, sorted: DELETE must name the values the record set holds, in any order.
std::vector<std::string> encoded(const UserRecordSet& s) {
  std::vector<std::string> out;
  for (const auto& v : s.values) {
    auto r = encode_rdata(s.type, v);
    out.push_back(r ? std::move(*r) : v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Checks one change on its own (before the zone's state is consulted); empty when fine.
std::optional<std::string> check_shape(const RecordChange& c, std::string_view zone) {
  const UserRecordSet& s = c.set;
  const std::string apex = std::string(zone) + ".";
  if (!wire_name(s.name)) return "Invalid domain name: '" + s.name + "'";
  if (s.name != apex && !s.name.ends_with("." + apex)) {
    return "RRSet with DNS name " + s.name + " is not permitted in zone " + apex;
  }
  if (s.type == "SOA") {
    return "The SOA record set of zone " + apex + " is written by ecs-emulator and cannot be " +
           "changed";
  }
  if (!user_record_type(s.type)) {
    return "RRSet of type " + s.type + " is not supported by ecs-emulator (A, AAAA, CNAME, TXT, " +
           "MX, SRV, PTR, NS, CAA)";
  }
  if (s.type == "NS" && s.name == apex) {
    return "The apex NS record set of zone " + apex + " is written by ecs-emulator and cannot " +
           "be changed";
  }
  if (s.type == "CNAME" && s.name == apex) {
    return "RRSet of type CNAME with DNS name " + s.name + " is not permitted at apex in zone " +
           apex;
  }
  if (s.values.empty()) {
    return "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and " +
           std::string(
               "ResourceRecords], or TrafficPolicyInstanceId], but found none in Change "
               "with [Action=") +
           (c.action == RecordChange::Action::Create   ? "CREATE"
            : c.action == RecordChange::Action::Delete ? "DELETE"
                                                       : "UPSERT") +
           ", Name=" + s.name + ", Type=" + s.type + "]";
  }
  if (s.type == "CNAME" && s.values.size() > 1) {
    return "RRSet of type CNAME with DNS name " + s.name + " has more than one resource record";
  }
  for (const auto& v : s.values) {
    if (auto r = encode_rdata(s.type, v); !r) return r.error().message;
  }
  if (s.weight && s.multivalue) {
    return "Invalid request: a record set " + describe(s) + " is either weighted or multivalue, " +
           "not both";
  }
  if (s.weight && (*s.weight < 0 || *s.weight > 255)) {
    return "Invalid request: Weight of " + describe(s) + " must be 0..255";
  }
  if (policy(s) != Policy::Simple && s.set_identifier.empty()) {
    return "Invalid request: Missing field 'SetIdentifier' in Change with [Name=" + s.name +
           ", Type=" + s.type + "]";
  }
  if (policy(s) == Policy::Simple && !s.set_identifier.empty()) {
    return "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, " +
           std::string(
               "MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found "
               "none in Change with [Name=") +
           s.name + ", Type=" + s.type + ", SetIdentifier=" + s.set_identifier + "]";
  }
  if (s.multivalue && (s.type == "CNAME" || s.type == "NS")) {
    return "Invalid request: a multivalue answer record set cannot be of type " + s.type;
  }
  return std::nullopt;
}

// What stops `s` from joining `sets` (without the set it replaces): CNAME beside other data, a
// different routing policy at the same name and type. Empty when it may.
std::optional<std::string> check_neighbours(const UserRecordSet& s,
                                            const std::vector<UserRecordSet>& sets,
                                            const std::string& apex) {
  for (const auto& o : sets) {
    if (o.name != s.name || same_key(o, s)) continue;
    if (s.type == "CNAME" && o.type != "CNAME") {
      return "RRSet of type CNAME with DNS name " + s.name +
             " is not permitted as it conflicts with other records with the same DNS name in "
             "zone " +
             apex;
    }
    if (s.type != "CNAME" && o.type == "CNAME") {
      return "RRSet of type " + s.type + " with DNS name " + s.name +
             " is not permitted because a conflicting RRSet of type CNAME with the same DNS name "
             "already exists in zone " +
             apex;
    }
    if (o.type == s.type && policy(o) != policy(s)) {
      // Route 53's words for each policy meeting another at the same name and type.
      const std::string head = "RRSet with DNS name " + s.name + ", type " + s.type;
      switch (policy(s)) {
        case Policy::Simple:
          return head + " cannot be created as other RRSets exist with the same name and type.";
        case Policy::Weighted:
          return head + ", SetIdentifier " + s.set_identifier +
                 " cannot be created as a non-weighted set exists with the same name and type.";
        case Policy::Multivalue:
          return head + ", SetIdentifier \"" + s.set_identifier +
                 "\" cannot be created because a non multivalue answer rrset exists with the "
                 "same name and type.";
      }
    }
  }
  return std::nullopt;
}

}  // namespace

bool user_record_type(std::string_view type) { return record_type_code(type) != 0; }

std::uint16_t record_type_code(std::string_view type) {
  for (const auto& t : kTypes) {
    if (t.name == type) return t.code;
  }
  return 0;
}

Result<std::string> encode_rdata(std::string_view type, std::string_view value) {
  const auto f = fields(value);
  if (type == "A") {
    std::array<std::uint8_t, 4> a{};
    if (!native::parse_ipv4(value, &a))
      return bad_record("ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)", value);
    return std::string(a.begin(), a.end());
  }
  if (type == "AAAA") {
    std::array<std::uint8_t, 16> a{};
    if (!native::parse_ipv6(value, &a))
      return bad_record("AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)", value);
    return std::string(a.begin(), a.end());
  }
  if (type == "CNAME" || type == "NS" || type == "PTR") {
    if (!f || f->size() != 1)
      return bad_record("DomainNameInvalid (Value is not a domain name)", value);
    const auto w = wire_name((*f)[0]);
    if (!w) return bad_record("DomainNameInvalid (Value is not a domain name)", value);
    return *w;
  }
  if (type == "MX") {
    const auto pref = f && f->size() == 2 ? number<std::uint16_t>((*f)[0], 65535) : std::nullopt;
    const auto w = pref ? wire_name((*f)[1]) : std::nullopt;
    if (!w) return bad_record("MXRRDATANotPreferenceAndName (Value is not 'priority name')", value);
    std::string out;
    put16(out, *pref);
    return out + *w;
  }
  if (type == "SRV") {
    std::optional<std::string> w;
    std::array<std::uint16_t, 3> n{};
    if (f && f->size() == 4) {
      bool ok = true;
      for (std::size_t i = 0; i < 3 && ok; ++i) {
        const auto v = number<std::uint16_t>((*f)[i], 65535);
        ok = v.has_value();
        if (ok) n[i] = *v;
      }
      if (ok) w = wire_name((*f)[3]);
    }
    if (!w) {
      return bad_record("SRVRRDATANotFourFields (Value is not 'priority weight port target')",
                        value);
    }
    std::string out;
    for (auto v : n) put16(out, v);
    return out + *w;
  }
  if (type == "TXT") {
    if (!f || f->empty()) return bad_record("TXTRRDATAMalformed (Value is not quoted text)", value);
    std::string out;
    for (const auto& s : *f) {
      if (s.size() > 255) return bad_record("CharacterStringTooLong (Value is too long)", value);
      out.push_back(static_cast<char>(s.size()));
      out += s;
    }
    return out;
  }
  if (type == "CAA") {
    const auto flags = f && f->size() == 3 ? number<std::uint8_t>((*f)[0], 255) : std::nullopt;
    const bool tag_ok =
        flags && !(*f)[1].empty() && (*f)[1].size() <= 15 &&
        std::all_of((*f)[1].begin(), (*f)[1].end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        });
    if (!tag_ok)
      return bad_record("CAARRDATAMalformed (Value is not 'flags tag \"value\"')", value);
    std::string out(1, static_cast<char>(*flags));
    out.push_back(static_cast<char>((*f)[1].size()));
    return out + (*f)[1] + (*f)[2];
  }
  return invalid("Unsupported record type " + std::string(type));
}

Result<std::vector<UserRecordSet>> apply_change_batch(std::vector<UserRecordSet> sets,
                                                      const std::vector<RecordChange>& changes,
                                                      std::string_view zone,
                                                      const ManagedRecords& managed) {
  const std::string apex = std::string(zone) + ".";
  std::vector<std::string> failures;
  std::vector<UserRecordSet> touched;  // weighted sets written by the batch
  for (RecordChange c : changes) {
    c.set.name = absolute(c.set.name);
    if (auto bad = check_shape(c, zone)) {
      failures.push_back(*bad);
      continue;
    }
    const UserRecordSet& s = c.set;
    if (managed && (managed(s.name, s.type) || (s.type == "CNAME" && managed(s.name, "")))) {
      failures.push_back("Tried to change resource record set " + describe(s) +
                         " but it is managed by AWS Cloud Map (servicediscovery.amazonaws.com): "
                         "change the service and its instances instead");
      continue;
    }
    const auto it = std::find_if(sets.begin(), sets.end(),
                                 [&](const UserRecordSet& o) { return same_key(o, s); });
    switch (c.action) {
      case RecordChange::Action::Create:
        if (it != sets.end()) {
          failures.push_back("Tried to create resource record set " + describe(s) +
                             " but it already exists");
          continue;
        }
        break;
      case RecordChange::Action::Delete:
        if (it == sets.end()) {
          failures.push_back("Tried to delete resource record set " + describe(s) +
                             " but it was not found");
        } else if (it->ttl != s.ttl || encoded(*it) != encoded(s) || policy(*it) != policy(s) ||
                   it->weight != s.weight) {
          failures.push_back("Tried to delete resource record set " + describe(s) +
                             " but the values provided do not match the current values");
        } else {
          sets.erase(it);
        }
        continue;
      case RecordChange::Action::Upsert:
        break;
    }
    if (auto bad = check_neighbours(s, sets, apex)) {
      failures.push_back(*bad);
      continue;
    }
    if (it != sets.end()) {
      *it = s;
    } else {
      sets.push_back(s);
    }
    if (s.weight) touched.push_back(s);
  }
  // Weighted sets of one name and type share a TTL (checked on the result: one batch may change
  // the TTL of all of them).
  for (const auto& t : touched) {
    const auto now = std::find_if(sets.begin(), sets.end(),
                                  [&](const UserRecordSet& o) { return same_key(o, t); });
    if (now == sets.end() || !now->weight) continue;  // deleted or replaced later in the batch
    const UserRecordSet& key = *now;
    for (const auto& o : sets) {
      if (o.name == key.name && o.type == key.type && o.weight && !same_key(o, key) &&
          o.ttl != key.ttl) {
        failures.push_back("RRSet with DNS name " + key.name + " and type " + key.type +
                           ", SetIdentifier " + key.set_identifier +
                           " cannot be created as weighted sets must contain the same TTL.");
        break;
      }
    }
  }
  if (!failures.empty()) {
    std::string message = "[";
    for (std::size_t i = 0; i < failures.size(); ++i) {
      if (i) message += ", ";
      message += failures[i];
    }
    message += "]";
    return Error{Code::InvalidArgument, std::move(message), {}, "InvalidChangeBatch"};
  }
  std::sort(sets.begin(), sets.end(), [](const UserRecordSet& a, const UserRecordSet& b) {
    return std::tie(a.name, a.type, a.set_identifier) < std::tie(b.name, b.type, b.set_identifier);
  });
  return sets;
}

// --------------------------------------------------------------------------- persistence

json record_sets_json(const std::vector<UserRecordSet>& sets) {
  json out = json::array();
  for (const auto& s : sets) {
    json j{{"name", s.name}, {"type", s.type}, {"ttl", s.ttl}, {"values", s.values}};
    if (!s.set_identifier.empty()) j["setIdentifier"] = s.set_identifier;
    if (s.weight) j["weight"] = *s.weight;
    if (s.multivalue) j["multivalue"] = true;
    out.push_back(std::move(j));
  }
  return json{{"recordSets", std::move(out)}};
}

Result<std::vector<UserRecordSet>> record_sets_from(const json& j) {
  if (!j.is_object() || !j.contains("recordSets") || !j["recordSets"].is_array())
    return invalid("recordSets: missing or not an array");
  std::vector<UserRecordSet> out;
  for (const auto& r : j["recordSets"]) {
    UserRecordSet s;
    if (!r.is_object() || !r.value("name", json()).is_string() ||
        !r.value("type", json()).is_string() || !r.value("ttl", json()).is_number_unsigned() ||
        !r.value("values", json()).is_array())
      return invalid("recordSets: an entry lacks name, type, ttl or values");
    s.name = r["name"].get<std::string>();
    s.type = r["type"].get<std::string>();
    if (r["ttl"].get<std::uint64_t>() > 2147483647) return invalid("recordSets: ttl out of range");
    s.ttl = r["ttl"].get<std::uint32_t>();
    for (const auto& v : r["values"]) {
      if (!v.is_string()) return invalid("recordSets: a value is not a string");
      s.values.push_back(v.get<std::string>());
    }
    if (r.contains("setIdentifier") && r["setIdentifier"].is_string())
      s.set_identifier = r["setIdentifier"].get<std::string>();
    if (r.contains("weight") && r["weight"].is_number_integer())
      s.weight = r["weight"].get<std::int64_t>();
    if (r.contains("multivalue")) {
      if (!r["multivalue"].is_boolean()) return invalid("recordSets: multivalue is not a boolean");
      s.multivalue = r["multivalue"].get<bool>();
    }
    out.push_back(std::move(s));
  }
  return out;
}

json change_json(const Route53Change& c) {
  return json{{"id", c.id}, {"submitted", epoch_millis(c.submitted)}, {"comment", c.comment}};
}

Result<Route53Change> change_from(const json& j) {
  if (!j.is_object() || !j.value("id", json()).is_string() ||
      !j.value("submitted", json()).is_number_integer())
    return invalid("change: missing id or submitted");
  Route53Change c;
  c.id = j["id"].get<std::string>();
  c.submitted = from_epoch_millis(j["submitted"].get<std::int64_t>());
  c.comment = j.value("comment", std::string());
  return c;
}

json own_zone_json(const OwnZone& z) {
  json j{{"id", z.id},
         {"name", z.name},
         {"callerReference", z.caller_reference},
         {"comment", z.comment},
         {"privateZone", z.private_zone},
         {"created", epoch_millis(z.created)}};
  if (z.private_zone) {
    j["vpcId"] = z.vpc_id;
    j["vpcRegion"] = z.vpc_region;
  }
  return j;
}

Result<OwnZone> own_zone_from(const json& j) {
  if (!j.is_object() || !j.value("id", json()).is_string() ||
      !j.value("name", json()).is_string() || !j.value("callerReference", json()).is_string() ||
      !j.value("privateZone", json()).is_boolean() ||
      !j.value("created", json()).is_number_integer())
    return invalid("hosted zone: missing id, name, callerReference, privateZone or created");
  OwnZone z;
  z.id = j["id"].get<std::string>();
  z.name = j["name"].get<std::string>();
  z.caller_reference = j["callerReference"].get<std::string>();
  z.comment = j.value("comment", std::string());
  z.private_zone = j["privateZone"].get<bool>();
  z.vpc_id = j.value("vpcId", std::string());
  z.vpc_region = j.value("vpcRegion", std::string());
  z.created = from_epoch_millis(j["created"].get<std::int64_t>());
  return z;
}

}  // namespace emu::core
