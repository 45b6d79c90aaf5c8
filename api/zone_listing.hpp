#pragma once
// GET /v1/zones/{name}: every record a zone (a namespace) publishes, as the Route 53 console's
// record table shows it (Name / Type / TTL / Value), read from the DNS snapshot itself: what the
// DNS server holds now, with each A/AAAA/SRV record's health (an unhealthy one is held back from
// answers while a healthy one exists).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/zone_snapshot.hpp"

namespace emu::api {

/// The apex of a zone as the DNS server holds it, in presentation form (names end with a dot).
struct ApexRecords {
  std::string zone;  ///< "local."
  std::uint32_t soa_ttl = 0;
  std::string soa;  ///< "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 ..."
  std::uint32_t ns_ttl = 0;
  std::vector<std::string> ns;  ///< "ns-1536.awsdns-00.co.uk.", ...
};

/// The SOA and NS of the snapshot's zone `zone`; nullopt when it has no zone of that name.
std::optional<ApexRecords> apex_records(const core::ZoneSnapshot& snapshot, std::string_view zone);

/// {"zone", "records": [{name, type, ttl, value, healthy?}]}, sorted by name then type (SOA and
/// NS first); nullopt when the snapshot has no zone of that name.
std::optional<nlohmann::json> zone_records(const core::ZoneSnapshot& snapshot,
                                           std::string_view zone);

}  // namespace emu::api
