#pragma once
// ZoneSnapshot: an immutable, lookup-ready view of every zone, built once per state change from a
// ZoneModel and read by the DNS threads without locks. Everything the answer path needs is
// precomputed here: owner names in lowercase wire format, per-name address lists split by health,
// SRV record tails with uncompressed targets (RFC 2782), and per-zone SOA and NS record tails.
// Lookup takes a byte span and allocates nothing (an open-addressing table over the names).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/zone_model.hpp"

namespace emu::core {

class ZoneSnapshot {
 public:
  /// SOA record TTL (Route 53 default for the SOA record set).
  static constexpr std::uint32_t kSoaTtl = 900;
  /// NS record TTL (Route 53).
  static constexpr std::uint32_t kNsTtl = 172800;

  /// What kind of name a node is.
  enum class Kind : std::uint8_t { Apex, Service, Instance };

  /// One SRV record: `1 1 <port> <instance-id>.<service>.<namespace>.`.
  struct Srv {
    /// TYPE CLASS TTL RDLENGTH RDATA of the record (the owner is written by the responder).
    std::string tail;
    /// Offset of the target name inside `tail` (for compression pointers to it).
    std::uint16_t target_offset = 0;
    /// The target's node (its A/AAAA go in the additional section).
    std::uint32_t target_node = 0;
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
    std::vector<Srv> srv_healthy, srv_unhealthy;
    /// TYPE CLASS TTL RDLENGTH for A and AAAA records at this name (rdata follows).
    std::array<std::uint8_t, 10> a_head{}, aaaa_head{};
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

  /// Builds the snapshot (off the answer path; allocates).
  static std::shared_ptr<const ZoneSnapshot> build(const ZoneModel& model);

  /// Finds a name given in lowercase wire format; longest matching zone wins. Never allocates.
  Lookup lookup(std::span<const std::uint8_t> lower_wire) const;
  /// The exact node for a lowercase wire name, or null.
  const Node* find(std::span<const std::uint8_t> lower_wire) const;
  /// Node by index (SRV targets).
  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  /// Every zone.
  const std::vector<Zone>& zones() const { return zones_; }
  /// Number of names.
  std::size_t size() const { return nodes_.size(); }

  /// Converts "a.b.c" (or "a.b.c.") to lowercase wire format; empty on an invalid name.
  static std::string to_wire(std::string_view dotted);

 private:
  std::uint32_t add_node(Node node);
  void index_nodes();

  std::vector<Zone> zones_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> slots_;  ///< node index + 1; 0 = empty; size is a power of two
  std::size_t mask_ = 0;
};

/// Hash of a wire name (shared by build and lookup).
std::uint64_t hash_wire_name(std::span<const std::uint8_t> name);

}  // namespace emu::core
