#include "emulator/core/zone_snapshot.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace emu::core {
namespace {

// The parent of a lowercase wire-format name ("\x02db\x04corp\x00" -> "\x04corp\x00"); the root
// ("\x00") and a malformed name give "".
std::string parent_name(const std::string& wire) {
  if (wire.empty() || wire[0] == 0) return {};
  const std::size_t skip = 1 + static_cast<unsigned char>(wire[0]);
  if (skip >= wire.size()) return {};
  return wire.substr(skip);
}

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

ZoneSnapshot::ZoneSnapshot() : zones_(std::make_shared<const std::vector<Zone>>()) {}

const ZoneSnapshot::Node* ZoneSnapshot::find(std::span<const std::uint8_t> lower_wire) const {
  if (chunks_.empty()) return nullptr;
  const std::uint64_t h = hash_wire_name(lower_wire);
  const Chunk* chunk = chunks_[h >> (64 - kChunkBits)].get();
  if (chunk == nullptr) return nullptr;
  auto it = std::lower_bound(chunk->begin(), chunk->end(), h,
                             [](const Entry& e, std::uint64_t v) { return e.hash < v; });
  for (; it != chunk->end() && it->hash == h; ++it) {
    const Node& n = *it->node;
    if (n.owner.size() == lower_wire.size() &&
        std::memcmp(n.owner.data(), lower_wire.data(), lower_wire.size()) == 0) {
      return &n;
    }
  }
  return nullptr;
}

ZoneSnapshot::Lookup ZoneSnapshot::lookup(std::span<const std::uint8_t> name) const {
  if (const Node* n = find(name)) return {n, &(*zones_)[n->zone]};
  // Absent: the zone is the longest apex (or any name) that is a suffix of the name.
  std::size_t pos = 0;
  while (pos < name.size() && name[pos] != 0) {
    pos += name[pos] + 1u;
    if (pos >= name.size()) break;
    // Every node belongs to its nearest zone, so the first existing suffix names the zone.
    if (const Node* n = find(name.subspan(pos))) return {nullptr, &(*zones_)[n->zone]};
  }
  return {};
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const ZoneModel& model) {
  ZoneBuilder builder;
  builder.load(model);
  return builder.snapshot();
}

// --------------------------------------------------------------------------- ZoneBuilder

namespace {

using Node = ZoneSnapshot::Node;
using Srv = ZoneSnapshot::Srv;
using Zone = ZoneSnapshot::Zone;
using Key = const std::string*;  // points at a std::map key (stable while the entry lives)

std::string position_key(std::size_t i) {
  std::string k = std::to_string(i);
  return "#" + std::string(k.size() < 10 ? 10 - k.size() : 0, '0') + k;
}

// Sorted-by-key pools: `keys` parallel to `values`. Both return the position they changed.
template <typename T>
std::size_t pool_insert(std::vector<T>& values, std::vector<Key>& keys, Key key, T value) {
  const auto it =
      std::lower_bound(keys.begin(), keys.end(), key, [](Key a, Key b) { return *a < *b; });
  const auto at = it - keys.begin();
  keys.insert(it, key);
  values.insert(values.begin() + at, std::move(value));
  return static_cast<std::size_t>(at);
}

template <typename T>
std::optional<std::size_t> pool_erase(std::vector<T>& values, std::vector<Key>& keys, Key key) {
  const auto it =
      std::lower_bound(keys.begin(), keys.end(), key, [](Key a, Key b) { return *a < *b; });
  if (it == keys.end() || *it != key) return std::nullopt;
  const auto at = it - keys.begin();
  values.erase(values.begin() + at);
  keys.erase(it);
  return static_cast<std::size_t>(at);
}

// One change to one of a service node's six pools, replayed onto an older copy of the node.
struct PoolEdit {
  enum Pool : std::uint8_t {
    AHealthy,
    AUnhealthy,
    AaaaHealthy,
    AaaaUnhealthy,
    SrvHealthy,
    SrvUnhealthy
  };
  Pool pool = AHealthy;
  bool insert = false;
  std::uint32_t at = 0;
  std::array<std::uint8_t, 16> addr{};  ///< A (first 4 bytes) or AAAA inserted
  const Srv* srv = nullptr;             ///< SRV inserted

  template <typename T>
  static void apply_to(std::vector<T>& pool, const PoolEdit& e, const T& value) {
    if (e.insert) {
      pool.insert(pool.begin() + e.at, value);
    } else {
      pool.erase(pool.begin() + e.at);
    }
  }

  void apply(Node& n) const {
    std::array<std::uint8_t, 4> a4{};
    std::copy_n(addr.begin(), 4, a4.begin());
    switch (pool) {
      case AHealthy:
        return apply_to(n.a_healthy, *this, a4);
      case AUnhealthy:
        return apply_to(n.a_unhealthy, *this, a4);
      case AaaaHealthy:
        return apply_to(n.aaaa_healthy, *this, addr);
      case AaaaUnhealthy:
        return apply_to(n.aaaa_unhealthy, *this, addr);
      case SrvHealthy:
        return apply_to(n.srv_healthy, *this, srv);
      case SrvUnhealthy:
        return apply_to(n.srv_unhealthy, *this, srv);
    }
  }
};

}  // namespace

struct ZoneBuilder::State {
  struct Ep {
    ZoneEndpoint ep;
    std::string target;  ///< wire owner of the instance node; empty when it has none
    std::uint64_t target_hash = 0;
    std::shared_ptr<Node> inst;  ///< its instance node (services with SRV, valid target)
    bool published = false;      ///< inst is in the name table (and its SRV in the service's)
    std::int8_t a_pool = -1, aaaa_pool = -1, srv_pool = -1;  ///< 0 healthy, 1 unhealthy
  };
  struct Svc {
    std::string key;
    std::uint32_t zone = 0;
    std::string owner;
    std::uint64_t owner_hash = 0;
    bool eligible = false;   ///< valid label, fits, not an apex, in its nearest zone
    bool contested = false;  ///< another eligible service has the same owner
    bool lost = false;       ///< contested, and an earlier non-empty service has the name
    RecordTypes records;
    Routing routing = Routing::Multivalue;
    std::uint32_t ttl = 0;
    std::array<std::uint8_t, 10> a_head{}, aaaa_head{};
    std::map<std::string, Ep> eps;
    std::unordered_map<std::uint64_t, std::uint32_t> targets;  ///< target hash -> endpoints
    std::vector<std::array<std::uint8_t, 4>> a[2];
    std::vector<std::array<std::uint8_t, 16>> aaaa[2];
    std::vector<const Srv*> srv[2];
    std::vector<Key> a_keys[2], aaaa_keys[2], srv_keys[2];
    // The published node and the one published before it. Once no snapshot holds the older one,
    // the next change patches it with the pool edits made since it was published (`edits`) and
    // publishes it, instead of copying every pool: a change costs the same at 10 or 10,000
    // endpoints. `edits` starts where `spare` was current; `cur` is current from `cur_at`.
    std::shared_ptr<Node> cur, spare;
    std::vector<PoolEdit> edits;
    std::size_t cur_at = 0;
    bool spare_ok = false;    ///< `edits` brings `spare` up to date
    bool edits_lost = false;  ///< pools rebuilt (or too many edits): the next node is a copy
    bool published = false;   ///< its node is in the name table
    bool dirty = false;       ///< its node must be rebuilt
    bool dup_dirty = false;   ///< a duplicate target changed: resolve its instances again
  };

  std::shared_ptr<const std::vector<Zone>> zones = std::make_shared<const std::vector<Zone>>();
  std::unordered_map<std::string, std::uint32_t> apexes;
  std::vector<std::shared_ptr<const Node>> apex_nodes;
  /// The user's record sets by owner (Route 53), and the nodes of names that only they hold.
  std::unordered_map<std::string, std::vector<ZoneSnapshot::UserSet>> user;
  std::unordered_map<std::string, std::shared_ptr<const Node>> user_nodes;
  std::vector<std::unique_ptr<Svc>> services;  ///< model order
  std::unordered_map<std::string, Svc*> by_key;
  std::unordered_map<std::string, Svc*> ep_service;  ///< endpoint key -> its service
  std::vector<Svc*> dirty;
  bool all_dirty = false;

  using Chunk = std::vector<ZoneSnapshot::Entry>;
  std::vector<std::shared_ptr<Chunk>> chunks = std::vector<std::shared_ptr<Chunk>>(kChunks);
  std::vector<bool> fresh = std::vector<bool>(kChunks, true);  ///< not shared with a snapshot
  std::size_t size = 0;
  std::shared_ptr<const ZoneSnapshot> last;

  static constexpr std::size_t kChunks = std::size_t{1} << ZoneSnapshot::kChunkBits;

  Chunk& chunk_for(std::uint64_t h) {
    const std::size_t i = h >> (64 - ZoneSnapshot::kChunkBits);
    if (!fresh[i]) {
      chunks[i] = chunks[i] ? std::make_shared<Chunk>(*chunks[i]) : std::make_shared<Chunk>();
      fresh[i] = true;
    } else if (!chunks[i]) {
      chunks[i] = std::make_shared<Chunk>();
    }
    return *chunks[i];
  }

  void put(std::uint64_t h, std::shared_ptr<const Node> node) {
    Chunk& c = chunk_for(h);
    auto it =
        std::lower_bound(c.begin(), c.end(), h,
                         [](const ZoneSnapshot::Entry& e, std::uint64_t v) { return e.hash < v; });
    for (auto j = it; j != c.end() && j->hash == h; ++j) {
      if (j->node->owner == node->owner) {
        j->node = std::move(node);
        return;
      }
    }
    c.insert(it, ZoneSnapshot::Entry{h, std::move(node)});
    ++size;
  }

  void erase(std::uint64_t h, const std::string& owner) {
    Chunk& c = chunk_for(h);
    auto it =
        std::lower_bound(c.begin(), c.end(), h,
                         [](const ZoneSnapshot::Entry& e, std::uint64_t v) { return e.hash < v; });
    for (; it != c.end() && it->hash == h; ++it) {
      if (it->node->owner == owner) {
        c.erase(it);
        --size;
        return;
      }
    }
  }

  bool is_apex(const std::string& owner) const { return apexes.count(owner) != 0; }

  // The zone a name falls in: its longest apex suffix.
  std::int64_t nearest_zone(const std::string& owner) const {
    if (apexes.size() == 1) return 0;  // one zone: nothing to disambiguate
    std::size_t pos = 0;
    while (pos < owner.size() && owner[pos] != 0) {
      auto it = apexes.find(owner.substr(pos));
      if (it != apexes.end()) return it->second;
      pos += static_cast<std::uint8_t>(owner[pos]) + 1;
    }
    return -1;
  }

  void mark(Svc& s) {
    if (!s.dirty) {
      s.dirty = true;
      dirty.push_back(&s);
    }
  }

  // Instances may publish: the service's names are live and they carry SRV.
  static bool instances_live(const Svc& s) { return s.eligible && !s.contested && s.records.srv; }

  void make_endpoint(Svc& s, Ep& e) {
    e.target.clear();
    e.inst.reset();
    if (!s.records.srv || s.owner.empty()) return;
    const std::string ilabel = one_label(e.ep.instance_id);
    if (ilabel.empty()) return;
    std::string target = ilabel + s.owner;
    if (target.size() > 255) return;
    e.target_hash = hash_wire_name(bytes(target));
    // The SRV target answers its own A/AAAA (whatever addresses the instance has).
    auto inst = std::make_shared<Node>();
    inst->owner = target;
    inst->zone = s.zone;
    inst->kind = ZoneSnapshot::Kind::Instance;
    inst->ttl = s.ttl;
    inst->a_head = s.a_head;
    inst->aaaa_head = s.aaaa_head;
    if (e.ep.ipv4) inst->a_healthy.push_back(*e.ep.ipv4);
    if (e.ep.ipv6) inst->aaaa_healthy.push_back(*e.ep.ipv6);
    inst->has_a = e.ep.ipv4.has_value();
    inst->has_aaaa = e.ep.ipv6.has_value();
    std::string rdata;
    put16(rdata, 1);  // priority
    put16(rdata, 1);  // weight
    put16(rdata, e.ep.port);
    rdata += target;  // RFC 2782: the target is never compressed
    inst->srv.tail = rr_tail(kTypeSrv, s.ttl, rdata);
    inst->srv.target_offset = 10 + 6;
    inst->srv.target = inst.get();
    e.target = std::move(target);
    e.inst = std::move(inst);
  }

  // Past this many edits since the spare node was current, copying the pools is cheaper.
  static constexpr std::size_t kMaxEdits = 4096;

  static void record(Svc& s, PoolEdit edit) {
    if (!s.cur || s.edits_lost) return;  // nothing to patch: the next node is a copy anyway
    if (s.edits.size() >= kMaxEdits) {
      s.edits_lost = true;
      return;
    }
    s.edits.push_back(edit);
  }

  static PoolEdit::Pool pool_of(PoolEdit::Pool healthy, int h) {
    return static_cast<PoolEdit::Pool>(healthy + h);
  }

  // Adds an endpoint's A/AAAA to its service's pools, and its instance when `publish`.
  void add_to_pools(Svc& s, Key key, Ep& e, bool publish) {
    const int h = e.ep.healthy ? 0 : 1;
    if (s.records.a && e.ep.ipv4) {
      PoolEdit edit{pool_of(PoolEdit::AHealthy, h), true};
      edit.at = static_cast<std::uint32_t>(pool_insert(s.a[h], s.a_keys[h], key, *e.ep.ipv4));
      std::copy(e.ep.ipv4->begin(), e.ep.ipv4->end(), edit.addr.begin());
      record(s, edit);
      e.a_pool = static_cast<std::int8_t>(h);
    }
    if (s.records.aaaa && e.ep.ipv6) {
      PoolEdit edit{pool_of(PoolEdit::AaaaHealthy, h), true};
      edit.at = static_cast<std::uint32_t>(pool_insert(s.aaaa[h], s.aaaa_keys[h], key, *e.ep.ipv6));
      edit.addr = *e.ep.ipv6;
      record(s, edit);
      e.aaaa_pool = static_cast<std::int8_t>(h);
    }
    if (publish) {
      put(e.target_hash, e.inst);
      e.published = true;
      PoolEdit edit{pool_of(PoolEdit::SrvHealthy, h), true};
      edit.srv = &e.inst->srv;
      edit.at = static_cast<std::uint32_t>(pool_insert(s.srv[h], s.srv_keys[h], key, edit.srv));
      record(s, edit);
      e.srv_pool = static_cast<std::int8_t>(h);
    }
  }

  static void record_erase(Svc& s, PoolEdit::Pool healthy, int h, std::optional<std::size_t> at) {
    if (at) record(s, PoolEdit{pool_of(healthy, h), false, static_cast<std::uint32_t>(*at)});
  }

  void remove_from_pools(Svc& s, Key key, Ep& e) {
    if (e.a_pool >= 0)
      record_erase(s, PoolEdit::AHealthy, e.a_pool,
                   pool_erase(s.a[e.a_pool], s.a_keys[e.a_pool], key));
    if (e.aaaa_pool >= 0)
      record_erase(s, PoolEdit::AaaaHealthy, e.aaaa_pool,
                   pool_erase(s.aaaa[e.aaaa_pool], s.aaaa_keys[e.aaaa_pool], key));
    if (e.srv_pool >= 0)
      record_erase(s, PoolEdit::SrvHealthy, e.srv_pool,
                   pool_erase(s.srv[e.srv_pool], s.srv_keys[e.srv_pool], key));
    if (e.published) erase(e.target_hash, e.target);
    e.a_pool = e.aaaa_pool = e.srv_pool = -1;
    e.published = false;
  }

  // Recomputes a service's pools and instances from its endpoints, in key order (the full
  // build's rules: the first endpoint with a target wins it).
  void resolve_service(Svc& s) {
    for (auto& [key, e] : s.eps) {
      if (e.published) erase(e.target_hash, e.target);
      e.published = false;
      e.a_pool = e.aaaa_pool = e.srv_pool = -1;
    }
    s.edits_lost = true;  // the pools are rebuilt from scratch
    for (int h = 0; h < 2; ++h) {
      s.a[h].clear(), s.aaaa[h].clear(), s.srv[h].clear();
      s.a_keys[h].clear(), s.aaaa_keys[h].clear(), s.srv_keys[h].clear();
    }
    if (!s.eligible || s.lost) return;
    std::unordered_set<std::string_view> seen;  // targets that more than one endpoint has
    for (auto& [key, e] : s.eps) {
      bool publish = s.records.srv && e.inst && !is_apex(e.target);
      if (publish && s.targets[e.target_hash] > 1) publish = seen.insert(e.target).second;
      const int h = e.ep.healthy ? 0 : 1;
      // Appending in key order keeps the pools sorted.
      if (s.records.a && e.ep.ipv4) {
        s.a[h].push_back(*e.ep.ipv4), s.a_keys[h].push_back(&key);
        e.a_pool = static_cast<std::int8_t>(h);
      }
      if (s.records.aaaa && e.ep.ipv6) {
        s.aaaa[h].push_back(*e.ep.ipv6), s.aaaa_keys[h].push_back(&key);
        e.aaaa_pool = static_cast<std::int8_t>(h);
      }
      if (publish) {
        put(e.target_hash, e.inst);
        e.published = true;
        s.srv[h].push_back(&e.inst->srv), s.srv_keys[h].push_back(&key);
        e.srv_pool = static_cast<std::int8_t>(h);
      }
    }
  }

  // Publishes (or withdraws) a service's node from its pools.
  void finish_service(Svc& s) {
    s.dirty = false;
    s.dup_dirty = false;
    const bool live = s.eligible && !s.lost && !s.eps.empty();
    if (!live) {
      if (s.published) {
        erase(s.owner_hash, s.owner);
        // The user's record sets at the name stay, on a node of their own.
        if (const auto u = user_nodes.find(s.owner); u != user_nodes.end())
          put(s.owner_hash, u->second);
      }
      s.published = false;
      s.cur.reset(), s.spare.reset(), s.edits.clear();
      s.cur_at = 0, s.spare_ok = false, s.edits_lost = false;
      return;
    }
    std::shared_ptr<Node> node;
    // use_count 1: no snapshot holds the spare any more (the fence pairs with the release of
    // the last reader's reference, so its reads happen before these writes).
    if (s.spare && s.spare_ok && !s.edits_lost && s.spare.use_count() == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      node = std::move(s.spare);
      for (const PoolEdit& edit : s.edits) edit.apply(*node);
    } else {
      node = std::make_shared<Node>();
      node->a_healthy = s.a[0];
      node->a_unhealthy = s.a[1];
      node->aaaa_healthy = s.aaaa[0];
      node->aaaa_unhealthy = s.aaaa[1];
      node->srv_healthy = s.srv[0];
      node->srv_unhealthy = s.srv[1];
    }
    // The node published so far becomes the spare, current as of edits[cur_at].
    if (s.edits_lost) {
      s.spare.reset();
      s.edits.clear();
      s.spare_ok = false;
    } else {
      s.spare = std::move(s.cur);
      s.edits.erase(s.edits.begin(), s.edits.begin() + static_cast<std::ptrdiff_t>(s.cur_at));
      s.spare_ok = s.spare != nullptr;
    }
    s.cur_at = s.edits.size();
    s.edits_lost = false;
    s.cur = node;
    node->owner = s.owner;
    node->zone = s.zone;
    node->kind = ZoneSnapshot::Kind::Service;
    node->routing = s.routing;
    node->ttl = s.ttl;
    node->a_head = s.a_head;
    node->aaaa_head = s.aaaa_head;
    node->has_a = !node->a_healthy.empty() || !node->a_unhealthy.empty();
    node->has_aaaa = !node->aaaa_healthy.empty() || !node->aaaa_unhealthy.empty();
    node->has_srv = s.records.srv && (!node->srv_healthy.empty() || !node->srv_unhealthy.empty());
    if (const auto u = user.find(s.owner); u != user.end()) {
      node->user = u->second;
    } else {
      node->user.clear();
    }
    put(s.owner_hash, std::move(node));
    s.published = true;
  }

  // The user's record sets of every zone, grouped by owner and type, on the apex node or on nodes
  // of their own (a service node that shares the name takes them when it publishes).
  static void load_user_records(State& st, const ZoneModel& model, const std::vector<Zone>& zones) {
    using UserSet = ZoneSnapshot::UserSet;
    for (const ZoneNamespace& ns : model.namespaces) {
      const auto zit = st.apexes.find(ZoneSnapshot::to_wire(ns.name));
      if (zit == st.apexes.end()) continue;
      for (const ZoneRecordSet& rs : ns.record_sets) {
        const std::string owner = ZoneSnapshot::to_wire(rs.name);
        if (owner.empty() || rs.rdata.empty()) continue;
        auto& sets = st.user[owner];
        auto it = std::find_if(sets.begin(), sets.end(),
                               [&](const UserSet& u) { return u.type == rs.type; });
        if (it == sets.end()) {
          sets.push_back(UserSet{rs.type, rs.weight ? Routing::Weighted : Routing::Multivalue, {}});
          it = sets.end() - 1;
        }
        ZoneSnapshot::UserChoice choice;
        choice.weight = rs.weight.value_or(0);
        for (const auto& rdata : rs.rdata) {
          if (rdata.size() > 0xffff) continue;
          choice.tails.push_back(rr_tail(rs.type, rs.ttl, rdata));
        }
        it->choices.push_back(std::move(choice));
      }
    }
    for (auto& apex : st.apex_nodes) {
      const auto u = st.user.find(apex->owner);
      if (u == st.user.end()) continue;
      auto node = std::make_shared<Node>(*apex);
      node->user = u->second;
      apex = std::move(node);
    }
    for (const auto& [owner, sets] : st.user) {
      if (st.is_apex(owner)) continue;
      const std::int64_t z = st.nearest_zone(owner);
      if (z < 0 || static_cast<std::size_t>(z) >= zones.size()) continue;
      auto node = std::make_shared<Node>();
      node->owner = owner;
      node->zone = static_cast<std::uint32_t>(z);
      node->kind = ZoneSnapshot::Kind::Service;
      node->user = sets;
      st.user_nodes.emplace(owner, std::move(node));
    }
    // Empty non-terminals: a name between a user's record set and its zone's apex exists and
    // answers NOERROR with no data (RFC 8020), so it gets an empty node of its own. An ancestor
    // with record sets of its own has its node already, and its ancestors are walked from it.
    std::vector<std::pair<std::string, std::uint32_t>> empty_non_terminals;
    for (const auto& [owner, node] : st.user_nodes) {
      for (std::string name = parent_name(owner); name.size() > 1 && !st.is_apex(name);
           name = parent_name(name)) {
        if (st.user.contains(name)) break;
        empty_non_terminals.emplace_back(name, node->zone);
      }
    }
    for (auto& [name, zone] : empty_non_terminals) {
      if (st.user_nodes.contains(name)) continue;
      auto node = std::make_shared<Node>();
      node->owner = name;
      node->zone = zone;
      node->kind = ZoneSnapshot::Kind::Service;
      st.user_nodes.emplace(std::move(name), std::move(node));
    }
  }

  // Every name again from the current state (a load, or a change to a contested name).
  void resolve_all() {
    chunks.assign(kChunks, nullptr);
    fresh.assign(kChunks, true);
    size = 0;
    for (const auto& apex : apex_nodes) put(hash_wire_name(bytes(apex->owner)), apex);
    for (const auto& [owner, node] : user_nodes) put(hash_wire_name(bytes(owner)), node);
    // Services sharing a name are contested: changes to them resolve everything again. The
    // name goes to the first of them that has an endpoint.
    std::unordered_map<std::string_view, int> claims;
    for (auto& sp : services) {
      if (sp->eligible) ++claims[sp->owner];
    }
    std::unordered_set<std::string_view> taken;
    for (auto& sp : services) {
      Svc& s = *sp;
      s.published = false;
      for (auto& [key, e] : s.eps) e.published = false;
      s.contested = s.eligible && claims[s.owner] > 1;
      s.lost = s.contested && (s.eps.empty() || !taken.insert(s.owner).second);
      resolve_service(s);
      finish_service(s);
    }
    for (Svc* s : dirty) s->dirty = false;
    dirty.clear();
    all_dirty = false;
  }
};

ZoneBuilder::ZoneBuilder() : s_(std::make_unique<State>()) {}
ZoneBuilder::~ZoneBuilder() = default;

void ZoneBuilder::load(const ZoneModel& model) {
  auto fresh_state = std::make_unique<State>();
  State& st = *fresh_state;
  auto zones = std::make_shared<std::vector<Zone>>();
  for (const ZoneNamespace& ns : model.namespaces) {
    std::string apex = ZoneSnapshot::to_wire(ns.name);
    if (apex.empty() || apex.size() == 1 || st.apexes.count(apex) != 0) continue;
    Zone zone;
    zone.apex = apex;
    zone.negative_ttl = ns.negative_ttl;
    const std::string soa = soa_rdata(ns.negative_ttl);
    zone.soa_tail = rr_tail(kTypeSoa, ZoneSnapshot::kSoaTtl, soa);
    // RFC 2308: the negative-caching TTL is min(SOA TTL, SOA MINIMUM).
    zone.soa_negative_tail =
        rr_tail(kTypeSoa, std::min(ZoneSnapshot::kSoaTtl, ns.negative_ttl), soa);
    for (std::size_t i = 0; i < 4; ++i)
      zone.ns_tails[i] = rr_tail(kTypeNs, ZoneSnapshot::kNsTtl, ZoneSnapshot::to_wire(kAwsNs[i]));
    const auto z = static_cast<std::uint32_t>(zones->size());
    zones->push_back(std::move(zone));
    st.apexes.emplace(apex, z);
    auto node = std::make_shared<Node>();
    node->owner = apex;
    node->zone = z;
    node->kind = ZoneSnapshot::Kind::Apex;
    st.apex_nodes.push_back(std::move(node));
  }
  st.zones = zones;
  State::load_user_records(st, model, *zones);

  std::size_t position = 0;
  for (const ZoneNamespace& ns : model.namespaces) {
    const auto zit = st.apexes.find(ZoneSnapshot::to_wire(ns.name));
    if (zit == st.apexes.end()) continue;
    const std::uint32_t z = zit->second;
    const std::string& apex = (*zones)[z].apex;
    for (const ZoneService& svc : ns.services) {
      auto sp = std::make_unique<State::Svc>();
      State::Svc& s = *sp;
      s.key = svc.key.empty() ? position_key(position) : svc.key;
      ++position;
      if (st.by_key.count(s.key) != 0) continue;  // one service per key
      s.zone = z;
      s.records = svc.records;
      s.routing = svc.routing;
      s.ttl = svc.ttl;
      s.a_head = rr_head(kTypeA, svc.ttl, 4);
      s.aaaa_head = rr_head(kTypeAaaa, svc.ttl, 16);
      const std::string label = one_label(svc.name);
      if (!label.empty()) {
        s.owner = label + apex;
        s.owner_hash = hash_wire_name(bytes(s.owner));
        s.eligible = s.owner.size() <= 255 && !st.is_apex(s.owner) && st.nearest_zone(s.owner) == z;
      }
      std::size_t i = 0;
      for (const ZoneEndpoint& ep : svc.endpoints) {
        std::string key = ep.key.empty() ? s.key + "/" + position_key(i) : ep.key;
        ++i;
        auto [it, added] = s.eps.try_emplace(std::move(key));
        if (!added) continue;
        it->second.ep = ep;
        it->second.ep.key = it->first;
        st.make_endpoint(s, it->second);
        if (it->second.inst) ++s.targets[it->second.target_hash];
        st.ep_service[it->first] = &s;
      }
      st.by_key.emplace(s.key, &s);
      st.services.push_back(std::move(sp));
    }
  }
  st.resolve_all();
  s_ = std::move(fresh_state);
}

void ZoneBuilder::erase_endpoint(const std::string& endpoint_key) {
  State& st = *s_;
  const auto where = st.ep_service.find(endpoint_key);
  if (where == st.ep_service.end()) return;
  State::Svc& s = *where->second;
  st.ep_service.erase(where);
  const auto it = s.eps.find(endpoint_key);
  if (it == s.eps.end()) return;
  State::Ep& e = it->second;
  if (e.inst) {
    auto& n = s.targets[e.target_hash];
    if (n > 1) s.dup_dirty = true;
    if (--n == 0) s.targets.erase(e.target_hash);
  }
  st.remove_from_pools(s, &it->first, e);
  s.eps.erase(it);
  if (s.contested) st.all_dirty = true;
  st.mark(s);
}

void ZoneBuilder::set_endpoint(const std::string& service_key, ZoneEndpoint endpoint) {
  State& st = *s_;
  const auto sit = st.by_key.find(service_key);
  if (sit == st.by_key.end()) {
    erase_endpoint(endpoint.key);
    return;
  }
  State::Svc& s = *sit->second;
  if (const auto where = st.ep_service.find(endpoint.key);
      where != st.ep_service.end() && where->second != &s) {
    erase_endpoint(endpoint.key);
  }
  auto [it, added] = s.eps.try_emplace(endpoint.key);
  State::Ep& e = it->second;
  if (!added) {
    if (e.inst) {
      auto& n = s.targets[e.target_hash];
      if (n > 1) s.dup_dirty = true;
      if (--n == 0) s.targets.erase(e.target_hash);
    }
    st.remove_from_pools(s, &it->first, e);
  }
  st.ep_service[it->first] = &s;
  e.ep = std::move(endpoint);
  st.make_endpoint(s, e);
  bool publish = State::instances_live(s) && e.inst && !st.is_apex(e.target);
  if (e.inst && ++s.targets[e.target_hash] > 1) {
    s.dup_dirty = true;  // who wins a shared target depends on the order: resolve it below
    publish = false;
  }
  if (s.contested) {
    st.all_dirty = true;
  } else if (!s.dup_dirty) {
    st.add_to_pools(s, &it->first, e, publish);
  }
  st.mark(s);
}

std::shared_ptr<const ZoneSnapshot> ZoneBuilder::snapshot() {
  State& st = *s_;
  if (st.all_dirty) {
    st.resolve_all();
  } else {
    for (State::Svc* s : st.dirty) {
      if (s->dup_dirty) st.resolve_service(*s);
      st.finish_service(*s);
    }
    st.dirty.clear();
  }
  if (st.last && std::all_of(st.fresh.begin(), st.fresh.end(), [](bool f) { return !f; }))
    return st.last;  // nothing changed
  auto snap = std::shared_ptr<ZoneSnapshot>(new ZoneSnapshot());
  snap->zones_ = st.zones;
  snap->chunks_.assign(st.chunks.begin(), st.chunks.end());
  snap->size_ = st.size;
  st.fresh.assign(st.fresh.size(), false);
  st.last = snap;
  return snap;
}

}  // namespace emu::core
