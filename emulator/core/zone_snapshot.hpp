#pragma once
// ZoneSnapshot: an immutable, lookup-ready view of every zone, read by the DNS threads without
// locks. Everything the answer path needs is precomputed here: owner names in lowercase wire
// format, per-name address lists split by health, SRV record tails with uncompressed targets
// (RFC 2782), and per-zone SOA and NS record tails. Lookup takes a byte span and allocates nothing.
//
// ZoneBuilder makes snapshots, in full (from a ZoneModel) or incrementally: a change to one
// endpoint rebuilds only its instance node and its service's node; every other node, and every
// name-table chunk the change does not touch, is shared with the previous snapshot (immutable
// pieces behind shared_ptr, copy-on-write). The result equals a full build of the same model.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/core/zone_model.hpp"

namespace emu::core {

class ZoneBuilder;

class ZoneSnapshot {
 public:
  /// SOA record TTL (Route 53 default for the SOA record set).
  static constexpr std::uint32_t kSoaTtl = 900;
  /// NS record TTL (Route 53).
  static constexpr std::uint32_t kNsTtl = 172800;

  /// What kind of name a node is.
  enum class Kind : std::uint8_t { Apex, Service, Instance };

  struct Node;

  /// One SRV record: `1 1 <port> <instance-id>.<service>.<namespace>.`.
  struct Srv {
    /// TYPE CLASS TTL RDLENGTH RDATA of the record (the owner is written by the responder).
    std::string tail;
    /// Offset of the target name inside `tail` (for compression pointers to it).
    std::uint16_t target_offset = 0;
    /// The target's node (its A/AAAA go in the additional section).
    const Node* target = nullptr;
  };

  /// One record set a user wrote (Route 53): its records, ready for the wire.
  struct UserChoice {
    std::uint32_t weight = 0;        ///< weighted routing
    std::vector<std::string> tails;  ///< TYPE CLASS TTL RDLENGTH RDATA, one per record
  };
  /// The user's records of one type at a name: one choice (simple), one per set identifier
  /// (weighted: one answered, by weight; multivalue: up to 8 answered).
  struct UserSet {
    std::uint16_t type = 0;
    Routing routing = Routing::Multivalue;  ///< Weighted: pick one choice by weight
    std::vector<UserChoice> choices;
  };

  /// One name of a zone and everything published at it.
  struct Node {
    std::string owner;  ///< lowercase wire format, with the root label
    std::uint32_t zone = 0;
    Kind kind = Kind::Service;
    Routing routing = Routing::Multivalue;
    std::uint32_t ttl = 0;
    bool has_a = false;     ///< A published here (healthy or not)
    bool has_aaaa = false;  ///< AAAA published here
    bool has_srv = false;   ///< SRV published here
    std::vector<std::array<std::uint8_t, 4>> a_healthy, a_unhealthy;
    std::vector<std::array<std::uint8_t, 16>> aaaa_healthy, aaaa_unhealthy;
    /// The SRV records of a service: each points at the `srv` of an instance node published in
    /// the same snapshot (a service node is rebuilt whenever one of its instances changes).
    std::vector<const Srv*> srv_healthy, srv_unhealthy;
    /// TYPE CLASS TTL RDLENGTH for A and AAAA records at this name (rdata follows).
    std::array<std::uint8_t, 10> a_head{}, aaaa_head{};
    /// An instance node's own SRV record (target: this node), listed by its service's node.
    Srv srv;
    /// Record sets the user wrote at this name (Route 53), by type; a CNAME stands alone.
    std::vector<UserSet> user;
    /// The user's record set of `type` here, or null.
    const UserSet* user_set(std::uint16_t type) const {
      for (const auto& u : user) {
        if (u.type == type) return &u;
      }
      return nullptr;
    }
  };

  /// One zone (a namespace) and its apex records.
  struct Zone {
    std::string apex;  ///< lowercase wire format
    std::uint32_t negative_ttl = 0;
    std::string soa_tail;           ///< SOA with TTL kSoaTtl (apex SOA answers)
    std::string soa_negative_tail;  ///< SOA with TTL min(kSoaTtl, negative_ttl) (RFC 2308)
    std::array<std::string, 4> ns_tails;
  };

  /// A name lookup: the node (null if absent) and the zone holding the name (null if none).
  struct Lookup {
    const Node* node = nullptr;
    const Zone* zone = nullptr;
  };

  /// Builds the snapshot in full (off the answer path; allocates).
  static std::shared_ptr<const ZoneSnapshot> build(const ZoneModel& model);

  /// Finds a name given in lowercase wire format; longest matching zone wins. Never allocates.
  Lookup lookup(std::span<const std::uint8_t> lower_wire) const;
  /// The exact node for a lowercase wire name, or null.
  const Node* find(std::span<const std::uint8_t> lower_wire) const;
  /// Every zone.
  const std::vector<Zone>& zones() const { return *zones_; }
  /// Number of names.
  std::size_t size() const { return size_; }
  /// Calls f(const Node&) for every name, in no particular order (tests, diagnostics).
  template <typename F>
  void for_each_node(F&& f) const {
    for (const auto& chunk : chunks_) {
      if (!chunk) continue;
      for (const auto& e : *chunk) f(*e.node);
    }
  }

  /// Converts "a.b.c" (or "a.b.c.") to lowercase wire format; empty on an invalid name.
  static std::string to_wire(std::string_view dotted);

 private:
  friend class ZoneBuilder;
  struct Entry {
    std::uint64_t hash = 0;
    std::shared_ptr<const Node> node;
  };
  using Chunk = std::vector<Entry>;  ///< sorted by hash
  static constexpr unsigned kChunkBits = 10;

  ZoneSnapshot();

  std::shared_ptr<const std::vector<Zone>> zones_;
  std::vector<std::shared_ptr<const Chunk>> chunks_;  ///< 2^kChunkBits, by the hash's top bits
  std::size_t size_ = 0;
};

/// Hash of a wire name (shared by build and lookup).
std::uint64_t hash_wire_name(std::span<const std::uint8_t> name);

/// Makes ZoneSnapshots, in full or one endpoint at a time (writer side; single-threaded).
/// Services are identified by key (ZoneService::key; the registry's service id) and endpoints by
/// key within their service (ZoneEndpoint::key; the registry's task key). Keys order endpoints
/// the way the model lists them, so an incremental result equals a full build.
class ZoneBuilder {
 public:
  ZoneBuilder();
  ~ZoneBuilder();
  ZoneBuilder(const ZoneBuilder&) = delete;
  ZoneBuilder& operator=(const ZoneBuilder&) = delete;

  /// Replaces everything with `model` (a full rebuild; O(state)). Endpoints and services without
  /// a key get one from their position.
  void load(const ZoneModel& model);
  /// Adds or replaces one endpoint of the service `service_key` (it leaves any other service it
  /// was in). An unknown service (not in a DNS zone) means the endpoint is not published.
  void set_endpoint(const std::string& service_key, ZoneEndpoint endpoint);
  /// Removes an endpoint wherever it is (no-op if absent).
  void erase_endpoint(const std::string& endpoint_key);
  /// The snapshot of the current state (shares every piece the changes since the last call did
  /// not touch).
  std::shared_ptr<const ZoneSnapshot> snapshot();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace emu::core
