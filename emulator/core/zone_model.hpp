#pragma once
// ZoneModel: what the Registry hands to the DNS side, as plain values. ZoneSnapshot::build turns
// it into an immutable, lookup-ready structure that the DNS threads read without locks.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/model.hpp"

namespace emu::core {

/// One registered instance of a discovery service, as DNS sees it.
struct ZoneEndpoint {
  std::string instance_id;  ///< SRV target label: <instance_id>.<service>.<namespace>.
  std::optional<std::array<std::uint8_t, 4>> ipv4;
  std::optional<std::array<std::uint8_t, 16>> ipv6;
  std::uint16_t port = 0;
  bool healthy = true;  ///< UNKNOWN counts as healthy; fail-open applies when none is
  std::string key;      ///< orders the endpoints of a service (ZoneBuilder); empty = position
};

/// One discovery service: the name <name>.<namespace>.
struct ZoneService {
  std::string name;  ///< lowercase DNS label
  RecordTypes records;
  Routing routing = Routing::Multivalue;
  std::uint32_t ttl = 10;
  std::vector<ZoneEndpoint> endpoints;  ///< registered instances only, in key order
  std::string key;                      ///< identifies the service (ZoneBuilder); empty = position
};

/// One zone (a private DNS namespace).
struct ZoneNamespace {
  std::string name;  ///< lowercase, no trailing dot: "local"
  std::uint32_t negative_ttl = 5;
  std::vector<ZoneService> services;
};

/// Every zone the server is authoritative for.
struct ZoneModel {
  std::vector<ZoneNamespace> namespaces;
};

}  // namespace emu::core
