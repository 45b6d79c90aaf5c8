#pragma once
// GET /v1/zones/{name}: every record a zone (a namespace) publishes, as the Route 53 console's
// record table shows it (Name / Type / TTL / Value), read from the DNS snapshot itself: what the
// DNS server holds now, with each A/AAAA/SRV record's health (an unhealthy one is held back from
// answers while a healthy one exists).

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "emulator/core/zone_snapshot.hpp"

namespace emu::api {

/// {"zone", "records": [{name, type, ttl, value, healthy?}]}, sorted by name then type (SOA and
/// NS first); nullopt when the snapshot has no zone of that name.
std::optional<nlohmann::json> zone_records(const core::ZoneSnapshot& snapshot,
                                           std::string_view zone);

}  // namespace emu::api
