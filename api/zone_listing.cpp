#include "api/zone_listing.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace emu::api {

using nlohmann::json;
using Snapshot = core::ZoneSnapshot;

namespace {

/// A wire name (uncompressed, as the snapshot stores them) from `at`, as "a.b.c."; advances `at`.
std::string dotted(std::string_view wire, std::size_t& at) {
  std::string out;
  while (at < wire.size()) {
    const auto len = static_cast<unsigned char>(wire[at++]);
    if (len == 0) break;
    if (len > 63 || at + len > wire.size()) return out + "?";  // not the snapshot's own form
    out.append(wire.substr(at, len));
    out += '.';
    at += len;
  }
  return out.empty() ? "." : out;
}

std::string dotted(std::string_view wire) {
  std::size_t at = 0;
  return dotted(wire, at);
}

std::uint32_t u32(std::string_view s, std::size_t at) {
  if (at + 4 > s.size()) return 0;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::uint16_t u16(std::string_view s, std::size_t at) {
  if (at + 2 > s.size()) return 0;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(s[at]) << 8) |
                                    static_cast<unsigned char>(s[at + 1]));
}

// A record tail is TYPE CLASS TTL RDLENGTH RDATA.
constexpr std::size_t kTtlAt = 4, kRdataAt = 10;

json row(std::string name, const char* type, std::uint32_t ttl, std::string value) {
  return {{"name", std::move(name)}, {"type", type}, {"ttl", ttl}, {"value", std::move(value)}};
}

std::string soa_value(std::string_view tail) {
  std::size_t at = kRdataAt;
  std::string mname = dotted(tail, at);
  std::string rname = dotted(tail, at);
  std::string out = mname + " " + rname;
  for (int i = 0; i < 5; ++i, at += 4) out += " " + std::to_string(u32(tail, at));
  return out;
}

std::string srv_value(const Snapshot::Srv& srv) {
  const std::string_view t = srv.tail;
  std::size_t at = srv.target_offset;
  return std::to_string(u16(t, kRdataAt)) + " " + std::to_string(u16(t, kRdataAt + 2)) + " " +
         std::to_string(u16(t, kRdataAt + 4)) + " " + dotted(t, at);
}

template <std::size_t N>
std::string address(const std::array<std::uint8_t, N>& bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(N == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

int type_order(const std::string& type) {
  static const std::vector<std::string> order{"SOA", "NS", "A", "AAAA", "SRV"};
  return static_cast<int>(std::find(order.begin(), order.end(), type) - order.begin());
}

}  // namespace

namespace {
const Snapshot::Zone* find_zone(const Snapshot& snapshot, std::string_view zone) {
  const std::string wire = Snapshot::to_wire(zone);
  if (wire.empty()) return nullptr;
  const auto& zones = snapshot.zones();
  const auto z = std::find_if(zones.begin(), zones.end(),
                              [&](const Snapshot::Zone& x) { return x.apex == wire; });
  return z == zones.end() ? nullptr : &*z;
}

ApexRecords apex_of(const Snapshot::Zone& z) {
  ApexRecords out;
  out.zone = dotted(z.apex);
  out.soa_ttl = u32(z.soa_tail, kTtlAt);
  out.soa = soa_value(z.soa_tail);
  for (const auto& ns : z.ns_tails) {
    std::size_t at = kRdataAt;
    out.ns_ttl = u32(ns, kTtlAt);
    out.ns.push_back(dotted(ns, at));
  }
  return out;
}
}  // namespace

std::optional<ApexRecords> apex_records(const Snapshot& snapshot, std::string_view zone) {
  const Snapshot::Zone* z = find_zone(snapshot, zone);
  if (!z) return std::nullopt;
  return apex_of(*z);
}

std::optional<json> zone_records(const Snapshot& snapshot, std::string_view zone) {
  const Snapshot::Zone* z = find_zone(snapshot, zone);
  if (!z) return std::nullopt;
  const auto index = static_cast<std::uint32_t>(z - snapshot.zones().data());
  const ApexRecords apex_rr = apex_of(*z);
  const std::string& apex = apex_rr.zone;

  json records = json::array();
  records.push_back(row(apex, "SOA", apex_rr.soa_ttl, apex_rr.soa));
  for (const auto& ns : apex_rr.ns) records.push_back(row(apex, "NS", apex_rr.ns_ttl, ns));
  std::vector<json> names;
  snapshot.for_each_node([&](const Snapshot::Node& n) {
    if (n.zone != index || n.kind == Snapshot::Kind::Apex) return;
    const std::string name = dotted(n.owner);
    const auto add = [&](const char* type, std::string value, bool healthy) {
      auto r = row(name, type, n.ttl, std::move(value));
      r["healthy"] = healthy;
      names.push_back(std::move(r));
    };
    for (const auto& a : n.a_healthy) add("A", address(a), true);
    for (const auto& a : n.a_unhealthy) add("A", address(a), false);
    for (const auto& a : n.aaaa_healthy) add("AAAA", address(a), true);
    for (const auto& a : n.aaaa_unhealthy) add("AAAA", address(a), false);
    for (const auto* s : n.srv_healthy) add("SRV", srv_value(*s), true);
    for (const auto* s : n.srv_unhealthy) add("SRV", srv_value(*s), false);
  });
  std::sort(names.begin(), names.end(), [](const json& a, const json& b) {
    const auto& an = a["name"].get_ref<const std::string&>();
    const auto& bn = b["name"].get_ref<const std::string&>();
    if (an != bn) return an < bn;
    const auto at = type_order(a["type"]), bt = type_order(b["type"]);
    if (at != bt) return at < bt;
    return a["value"].get_ref<const std::string&>() < b["value"].get_ref<const std::string&>();
  });
  for (auto& r : names) records.push_back(std::move(r));
  return json{{"zone", apex}, {"records", std::move(records)}};
}

}  // namespace emu::api
