#include "emulator/core/zone_snapshot.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_map>

namespace emu::core {
namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeNs = 2;
constexpr std::uint16_t kTypeSoa = 6;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kTypeSrv = 33;
constexpr std::uint16_t kClassIn = 1;

// Route 53 private hosted zones: fixed NS set and SOA shape (reference/aws-semantics.md 4.3).
constexpr std::string_view kAwsNs[4] = {"ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com",
                                        "ns-1024.awsdns-00.org", "ns-512.awsdns-00.net"};
constexpr std::string_view kSoaRname = "awsdns-hostmaster.amazon.com";

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

// TYPE CLASS TTL RDLENGTH + rdata.
std::string rr_tail(std::uint16_t type, std::uint32_t ttl, std::string_view rdata) {
  std::string out;
  out.reserve(10 + rdata.size());
  put16(out, type);
  put16(out, kClassIn);
  put32(out, ttl);
  put16(out, static_cast<std::uint16_t>(rdata.size()));
  out.append(rdata);
  return out;
}

std::array<std::uint8_t, 10> rr_head(std::uint16_t type, std::uint32_t ttl, std::uint16_t rdlen) {
  const std::string t = rr_tail(type, ttl, std::string(rdlen, '\0'));
  std::array<std::uint8_t, 10> head{};
  std::memcpy(head.data(), t.data(), head.size());
  return head;
}

std::string soa_rdata(std::uint32_t minimum) {
  std::string rdata = ZoneSnapshot::to_wire(kAwsNs[0]);
  rdata += ZoneSnapshot::to_wire(kSoaRname);
  put32(rdata, 1);        // serial: Route 53 never increments it
  put32(rdata, 7200);     // refresh
  put32(rdata, 900);      // retry
  put32(rdata, 1209600);  // expire
  put32(rdata, minimum);
  return rdata;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Wire label for a single label; empty if it is not a valid DNS label.
std::string one_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.find('.') != std::string_view::npos) return {};
  std::string out = ZoneSnapshot::to_wire(label);
  if (!out.empty()) out.pop_back();  // drop the root label
  return out;
}

}  // namespace

std::uint64_t hash_wire_name(std::span<const std::uint8_t> name) {
  // Eight bytes at a time; names are short (20-40 bytes), so this is a handful of multiplies.
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ name.size();
  std::size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, name.data() + i, 8);
    h = std::rotl((h ^ v) * 0xff51afd7ed558ccdULL, 29);
  }
  std::uint64_t rest = 0;
  for (std::size_t k = 0; i + k < name.size(); ++k) {
    rest |= std::uint64_t{name[i + k]} << (8 * k);
  }
  h = (h ^ rest) * 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 32);
}

std::string ZoneSnapshot::to_wire(std::string_view dotted) {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  std::string out;
  if (dotted.empty()) return std::string(1, '\0');
  std::size_t start = 0;
  while (start <= dotted.size()) {
    std::size_t dot = dotted.find('.', start);
    if (dot == std::string_view::npos) dot = dotted.size();
    const std::size_t len = dot - start;
    if (len == 0 || len > 63) return {};
    out.push_back(static_cast<char>(len));
    for (std::size_t i = start; i < dot; ++i) {
      char c = dotted[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(c);
    }
    start = dot + 1;
  }
  out.push_back('\0');
  if (out.size() > 255) return {};
  return out;
}

std::uint32_t ZoneSnapshot::add_node(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const ZoneModel& model) {
  auto snap = std::make_shared<ZoneSnapshot>();
  std::unordered_map<std::string, std::uint32_t> names;   // owner -> node index (build only)
  std::unordered_map<std::string, std::uint32_t> apexes;  // apex -> zone index

  for (const ZoneNamespace& ns : model.namespaces) {
    std::string apex = to_wire(ns.name);
    if (apex.empty() || apex.size() == 1 || apexes.count(apex) != 0) continue;
    Zone zone;
    zone.apex = apex;
    zone.negative_ttl = ns.negative_ttl;
    const std::string soa = soa_rdata(ns.negative_ttl);
    zone.soa_tail = rr_tail(kTypeSoa, kSoaTtl, soa);
    // RFC 2308: the negative-caching TTL is min(SOA TTL, SOA MINIMUM).
    zone.soa_negative_tail = rr_tail(kTypeSoa, std::min(kSoaTtl, ns.negative_ttl), soa);
    for (std::size_t i = 0; i < 4; ++i)
      zone.ns_tails[i] = rr_tail(kTypeNs, kNsTtl, to_wire(kAwsNs[i]));
    const auto z = static_cast<std::uint32_t>(snap->zones_.size());
    snap->zones_.push_back(std::move(zone));
    apexes.emplace(apex, z);
    Node node;
    node.owner = apex;
    node.zone = z;
    node.kind = Kind::Apex;
    names.emplace(apex, snap->add_node(std::move(node)));
  }

  // The zone a name falls in: its longest apex suffix.
  auto nearest_zone = [&](const std::string& owner) -> std::int64_t {
    if (apexes.size() == 1) return 0;  // one zone: nothing to disambiguate
    std::size_t pos = 0;
    while (pos < owner.size() && owner[pos] != 0) {
      auto it = apexes.find(owner.substr(pos));
      if (it != apexes.end()) return it->second;
      pos += static_cast<std::uint8_t>(owner[pos]) + 1;
    }
    return -1;
  };

  for (const ZoneNamespace& ns : model.namespaces) {
    auto zit = apexes.find(to_wire(ns.name));
    if (zit == apexes.end()) continue;
    const std::uint32_t z = zit->second;
    const std::string& apex = snap->zones_[z].apex;
    for (const ZoneService& svc : ns.services) {
      // Route 53: a service with no registered instance has no records, so its name is NXDOMAIN.
      if (svc.endpoints.empty()) continue;
      const std::string label = one_label(svc.name);
      if (label.empty()) continue;
      std::string owner = label + apex;
      if (owner.size() > 255 || names.count(owner) != 0 || nearest_zone(owner) != z) continue;

      Node node;
      node.owner = owner;
      node.zone = z;
      node.kind = Kind::Service;
      node.routing = svc.routing;
      node.ttl = svc.ttl;
      node.a_head = rr_head(kTypeA, svc.ttl, 4);
      node.aaaa_head = rr_head(kTypeAaaa, svc.ttl, 16);
      for (const ZoneEndpoint& ep : svc.endpoints) {
        if (svc.records.a && ep.ipv4)
          (ep.healthy ? node.a_healthy : node.a_unhealthy).push_back(*ep.ipv4);
        if (svc.records.aaaa && ep.ipv6)
          (ep.healthy ? node.aaaa_healthy : node.aaaa_unhealthy).push_back(*ep.ipv6);
      }
      node.has_a = !node.a_healthy.empty() || !node.a_unhealthy.empty();
      node.has_aaaa = !node.aaaa_healthy.empty() || !node.aaaa_unhealthy.empty();

      if (svc.records.srv) {
        for (const ZoneEndpoint& ep : svc.endpoints) {
          const std::string ilabel = one_label(ep.instance_id);
          if (ilabel.empty()) continue;
          std::string target = ilabel + owner;
          if (target.size() > 255 || names.count(target) != 0) continue;
          // The SRV target answers its own A/AAAA (whatever addresses the instance has).
          Node inst;
          inst.owner = target;
          inst.zone = z;
          inst.kind = Kind::Instance;
          inst.ttl = svc.ttl;
          inst.a_head = node.a_head;
          inst.aaaa_head = node.aaaa_head;
          if (ep.ipv4) inst.a_healthy.push_back(*ep.ipv4);
          if (ep.ipv6) inst.aaaa_healthy.push_back(*ep.ipv6);
          inst.has_a = ep.ipv4.has_value();
          inst.has_aaaa = ep.ipv6.has_value();
          const std::uint32_t idx = snap->add_node(std::move(inst));
          names.emplace(target, idx);

          std::string rdata;
          put16(rdata, 1);  // priority
          put16(rdata, 1);  // weight
          put16(rdata, ep.port);
          rdata += target;  // RFC 2782: the target is never compressed
          Srv srv;
          srv.tail = rr_tail(kTypeSrv, svc.ttl, rdata);
          srv.target_offset = 10 + 6;
          srv.target_node = idx;
          (ep.healthy ? node.srv_healthy : node.srv_unhealthy).push_back(std::move(srv));
        }
        node.has_srv = !node.srv_healthy.empty() || !node.srv_unhealthy.empty();
      }
      names.emplace(owner, snap->add_node(std::move(node)));
    }
  }
  snap->index_nodes();
  return snap;
}

void ZoneSnapshot::index_nodes() {
  std::size_t cap = 16;
  while (cap < nodes_.size() * 2) cap <<= 1;  // load factor <= 0.5
  slots_.assign(cap, 0);
  mask_ = cap - 1;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    std::size_t slot = hash_wire_name(bytes(nodes_[i].owner)) & mask_;
    while (slots_[slot] != 0) slot = (slot + 1) & mask_;
    slots_[slot] = i + 1;
  }
}

const ZoneSnapshot::Node* ZoneSnapshot::find(std::span<const std::uint8_t> lower_wire) const {
  if (slots_.empty()) return nullptr;
  std::size_t slot = hash_wire_name(lower_wire) & mask_;
  while (const std::uint32_t v = slots_[slot]) {
    const Node& n = nodes_[v - 1];
    if (n.owner.size() == lower_wire.size() &&
        std::memcmp(n.owner.data(), lower_wire.data(), lower_wire.size()) == 0) {
      return &n;
    }
    slot = (slot + 1) & mask_;
  }
  return nullptr;
}

ZoneSnapshot::Lookup ZoneSnapshot::lookup(std::span<const std::uint8_t> name) const {
  if (const Node* n = find(name)) return {n, &zones_[n->zone]};
  // Absent: the zone is the longest apex (or any name) that is a suffix of the name.
  std::size_t pos = 0;
  while (pos < name.size() && name[pos] != 0) {
    pos += name[pos] + 1u;
    if (pos >= name.size()) break;
    // Every node belongs to its nearest zone, so the first existing suffix names the zone.
    if (const Node* n = find(name.subspan(pos))) return {nullptr, &zones_[n->zone]};
  }
  return {};
}

}  // namespace emu::core
