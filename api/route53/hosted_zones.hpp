#pragma once
// The hosted zones behind the DNS namespaces, as Route 53 shows them, and the two orders it lists
// them in: ListHostedZones by id (Marker = the id of a page's first zone), ListHostedZonesByName
// by name with the labels reversed, then by id (DNSName + HostedZoneId = a page's first zone).
// Pure values; the handlers build them from the registry.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/model.hpp"
#include "emulator/core/route53_records.hpp"

namespace emu::api::route53 {

/// Who created a zone that Route 53 will not let you edit.
inline constexpr std::string_view kCloudMapPrincipal = "servicediscovery.amazonaws.com";
/// The VPC a private zone shows when its namespace was created without one (native API, fixtures).
inline constexpr std::string_view kDefaultVpc = "vpc-00000000000000000";

/// One hosted zone.
struct HostedZone {
  std::string id;    ///< "Z..." (the API writes it as "/hostedzone/Z...")
  std::string name;  ///< "local." (lowercase, trailing dot)
  std::string caller_reference;
  bool private_zone = true;
  std::int64_t record_set_count = 0;
  std::string comment;             ///< Config.Comment (zones of one's own)
  std::string linked_description;  ///< LinkedService.Description: the namespace's ARN; empty
                                   ///< for a zone of one's own (no LinkedService)
  std::string vpc_id;              ///< private zones
  std::string vpc_region;
};

/// The hosted zone of a DNS namespace with `record_set_count` record sets.
HostedZone zone_of(const core::Namespace& ns, std::int64_t record_set_count);

/// A zone of one's own with `record_set_count` record sets.
HostedZone zone_of(const core::OwnZone& own, std::int64_t record_set_count);

/// ListHostedZones order: by id.
void sort_by_id(std::vector<HostedZone>& zones);
/// ListHostedZonesByName order: by reversed name, then id.
void sort_by_name(std::vector<HostedZone>& zones);

/// A page of zones: [begin, end) and whether more follow (the next page starts at `end`).
struct ZonePage {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool truncated = false;
};

/// The page of `by_id` (sort_by_id order) that starts at the first zone whose id is >= `marker`.
ZonePage page_by_id(const std::vector<HostedZone>& by_id, const std::optional<std::string>& marker,
                    std::size_t max_items);
/// The page of `by_name` (sort_by_name order) that starts at the first zone at or after
/// (`dns_name`, `zone_id`) (both optional; an id needs a name).
ZonePage page_by_name(const std::vector<HostedZone>& by_name,
                      const std::optional<std::string>& dns_name,
                      const std::optional<std::string>& zone_id, std::size_t max_items);

}  // namespace emu::api::route53
