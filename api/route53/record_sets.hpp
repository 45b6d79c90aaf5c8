#pragma once
// The resource record sets of a namespace's hosted zone, as Route 53 lists them: the apex SOA and
// NS the DNS server holds, and what Cloud Map writes per registered instance (one record set per
// instance and type, SetIdentifier = the instance id, MultiValueAnswer true or Weight 1 by the
// service's routing policy, the service's TTL; an SRV per instance and, for it, the instance
// host name's A/AAAA). Pure values: the handlers read the registry and the snapshot into these.
// Order and paging follow Route 53's ListResourceRecordSets: by name with the labels reversed
// ("com.example.www."), then type, then set identifier; StartRecordName/Type/Identifier give
// the first record set of a page.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/zone_listing.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/route53_records.hpp"

namespace emu::api::route53 {

/// One resource record set.
struct RecordSet {
  std::string name;            ///< absolute, lowercase, ends with a dot
  std::string type;            ///< "A", "SRV", ...
  std::string set_identifier;  ///< empty for simple routing (SOA, NS)
  std::optional<std::int64_t> weight;
  bool multivalue = false;
  std::uint32_t ttl = 0;
  std::vector<std::string> values;
  bool operator==(const RecordSet&) const = default;
};

/// One registered instance of a discovery service, as Cloud Map writes it.
struct InstanceRecords {
  std::string id;  ///< the instance id (an ECS task's id), as registered
  std::string ipv4;
  std::string ipv6;
  std::uint16_t port = 0;
};

/// A discovery service and its registered instances.
struct ServiceRecords {
  std::string dns_name;  ///< "web.local" (no trailing dot)
  core::RecordTypes records;
  core::Routing routing = core::Routing::Multivalue;
  std::uint32_t ttl = 10;
  std::vector<InstanceRecords> instances;
};

/// Route 53's sort key of a name: its labels reversed, each followed by a dot ("www.example.com"
/// -> "com.example.www."); case-folded.
std::string reversed_name(std::string_view name);
/// A name as Route 53 writes it: lowercase, with the trailing dot.
std::string absolute_name(std::string_view name);
/// Route 53's order of record sets: reversed name, then type, then set identifier.
bool record_set_less(const RecordSet& a, const RecordSet& b);

/// The record sets Cloud Map writes for one service (unsorted).
std::vector<RecordSet> service_record_sets(const ServiceRecords& service);
/// How many record sets service_record_sets writes, without writing them.
std::size_t service_record_set_count(const ServiceRecords& service);
/// Every record set of a zone (apex SOA and NS first in their own right), in Route 53's order:
/// the apex's, Cloud Map's for `services` and the user's `own`.
std::vector<RecordSet> zone_record_sets(const ApexRecords& apex,
                                        const std::vector<ServiceRecords>& services,
                                        const std::vector<core::UserRecordSet>& own = {});

struct XmlElement;
/// A ChangeResourceRecordSetsRequest document read into changes (and the batch's comment).
/// InvalidInput for what botocore's model forbids (an unknown Action, a TTL that is no number);
/// the routing Route 53 has and ecs-emulator does not (alias, failover, geolocation, health
/// checks, ...) is InvalidInput naming the element.
struct ChangeBatch {
  std::string comment;
  std::vector<core::RecordChange> changes;
};
Result<ChangeBatch> parse_change_batch(const XmlElement& request);

/// A CreateHostedZoneRequest document: Name and CallerReference required; a VPC makes the zone
/// private (HostedZoneConfig.PrivateZone true without one is InvalidInput); a DelegationSetId is
/// NoSuchDelegationSet (there are no reusable delegation sets).
Result<core::HostedZoneSpec> parse_create_hosted_zone(const XmlElement& request);
/// The Comment of an UpdateHostedZoneCommentRequest (absent: none); at most 256 characters.
Result<std::string> parse_zone_comment(const XmlElement& request);

/// Where a ListResourceRecordSets page starts (query parameters name, type, identifier).
struct RecordSetStart {
  std::string name;        ///< empty: from the first record set
  std::string type;        ///< empty: any type of `name`
  std::string identifier;  ///< empty: any identifier of `name` and `type`
  bool operator==(const RecordSetStart&) const = default;
};

/// One page: record sets [begin, end) and, when truncated, where the next one starts.
struct RecordSetPage {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::optional<RecordSetStart> next;
};

/// Validates a start as Route 53 does: a type needs a name, an identifier needs a type, the type
/// is one of Route 53's (InvalidInput otherwise). Normalises the name (absolute_name).
Result<RecordSetStart> parse_start(std::optional<std::string> name, std::optional<std::string> type,
                                   std::optional<std::string> identifier);
/// The page of `sorted` (zone_record_sets order) from `start`, at most `max_items` long.
RecordSetPage page_record_sets(const std::vector<RecordSet>& sorted, const RecordSetStart& start,
                               std::size_t max_items);

/// Parses a `maxitems` query value: 1..`cap` (a larger number reads as `cap`, as Route 53
/// returns at most 300 record sets or 100 zones per page); InvalidInput otherwise.
Result<std::size_t> parse_max_items(const std::optional<std::string>& value, std::size_t fallback,
                                    std::size_t cap);

}  // namespace emu::api::route53
