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

/// One record set a user wrote through Route 53 (ChangeResourceRecordSets), ready for the wire.
struct ZoneRecordSet {
  std::string name;  ///< lowercase, with or without the trailing dot: "db.local."
  std::uint16_t type = 0;
  std::uint32_t ttl = 300;
  std::optional<std::uint32_t> weight;  ///< weighted routing: one set per name and type answered
  bool multivalue = false;              ///< multivalue routing: up to 8 sets answered
  std::vector<std::string> rdata;       ///< wire rdata, names uncompressed
};

/// One zone (a private DNS namespace).
struct ZoneNamespace {
  std::string name;  ///< lowercase, no trailing dot: "local"
  std::uint32_t negative_ttl = 5;
  std::vector<ZoneService> services;
  std::vector<ZoneRecordSet> record_sets;  ///< the user's (Route 53), beside Cloud Map's
};

/// Every zone the server is authoritative for.
struct ZoneModel {
  std::vector<ZoneNamespace> namespaces;
};

}  // namespace emu::core
