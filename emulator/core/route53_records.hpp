#pragma once
// The record sets a user keeps in a hosted zone (Route 53 ChangeResourceRecordSets), as pure
// values: the change-batch rules Route 53 applies (CREATE, DELETE, UPSERT, in order, all or
// nothing, InvalidChangeBatch with every failing change's message), the presentation-to-wire
// rdata of each type it takes, and the persistence of a zone's record sets (one store row per
// zone). The Registry owns the state and commits it; the DNS snapshot answers it.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/result.hpp"
#include "emulator/core/time.hpp"

namespace emu::core {

/// One record set written through Route 53 (or a fixture).
struct UserRecordSet {
  std::string name;                    ///< absolute, lowercase, with the trailing dot
  std::string type;                    ///< "A", "CNAME", ... (upper case)
  std::string set_identifier;          ///< weighted and multivalue routing; empty for simple
  std::optional<std::int64_t> weight;  ///< weighted: 0..255
  bool multivalue = false;
  std::uint32_t ttl = 300;
  std::vector<std::string> values;  ///< presentation form, as given
  bool operator==(const UserRecordSet&) const = default;
};

/// One change of a batch.
struct RecordChange {
  enum class Action { Create, Delete, Upsert };
  Action action = Action::Create;
  UserRecordSet set;
};

/// Store kind of a zone's user record sets (id: the hosted zone id; body: record_sets_json).
inline constexpr const char* kUserRecordsKind = "route53-rrsets";
/// Store kind of a submitted change (id: the change id, "C" + 21 [A-Z0-9]).
inline constexpr const char* kChangeKind = "route53-change";

/// A submitted change batch (GetChange).
struct Route53Change {
  std::string id;  ///< "C..." (the API writes "/change/C...")
  WallTime submitted{};
  std::string comment;
};

/// A hosted zone created through Route 53 (CreateHostedZone or a fixture), not by Cloud Map.
struct OwnZone {
  std::string id;    ///< "Z" + 21 [A-Z0-9]
  std::string name;  ///< lowercase, no trailing dot: "corp.internal"
  std::string caller_reference;
  std::string comment;
  bool private_zone = false;
  std::string vpc_id;  ///< private zones
  std::string vpc_region;
  WallTime created{};
  bool operator==(const OwnZone&) const = default;
};

/// CreateHostedZone: a zone of one's own (private with a VPC, else public).
struct HostedZoneSpec {
  std::string name;  ///< as given ("corp.internal" or "corp.internal.")
  std::string caller_reference;
  std::string comment;
  bool private_zone = false;
  std::string vpc_id;
  std::string vpc_region;  ///< empty = the registry's region
};

/// Store kind of a zone of one's own (id: the zone id; body: own_zone_json).
inline constexpr const char* kOwnZoneKind = "route53-zone";
/// Store kind of a CallerReference that has been used (id: the reference; Route 53 never takes
/// one twice, even after its zone is deleted).
inline constexpr const char* kCallerReferenceKind = "route53-caller-reference";

/// The SOA MINIMUM (negative-caching TTL) Route 53 gives a zone it creates.
inline constexpr std::uint32_t kOwnZoneNegativeTtl = 86400;

nlohmann::json own_zone_json(const OwnZone& zone);
Result<OwnZone> own_zone_from(const nlohmann::json& j);

/// True for the types ChangeResourceRecordSets takes here (A AAAA CNAME TXT MX SRV PTR NS CAA).
bool user_record_type(std::string_view type);
/// The DNS type code of a user record type (0 for anything else).
std::uint16_t record_type_code(std::string_view type);

/// The wire rdata (names uncompressed, lower case) of `value` for `type`, or the reason it is
/// not one (Route 53's "Invalid Resource Record" texts).
Result<std::string> encode_rdata(std::string_view type, std::string_view value);

/// Whether Cloud Map writes record sets of `type` at `name` (absolute name): a user may not
/// create, delete or replace those.
using ManagedRecords = std::function<bool(const std::string& name, const std::string& type)>;

/// Applies `changes` to the zone's record sets `current` (any order) as Route 53 does: each
/// change in order against the result of the ones before; on any failure nothing changes and
/// the error is InvalidChangeBatch listing every failure ("[msg1, msg2]"). `zone` is the zone's
/// name without the trailing dot ("demo.local"). The result is sorted (name, type, identifier).
Result<std::vector<UserRecordSet>> apply_change_batch(std::vector<UserRecordSet> current,
                                                      const std::vector<RecordChange>& changes,
                                                      std::string_view zone,
                                                      const ManagedRecords& managed);

/// Persistence of a zone's record sets and of a change.
nlohmann::json record_sets_json(const std::vector<UserRecordSet>& sets);
Result<std::vector<UserRecordSet>> record_sets_from(const nlohmann::json& j);
nlohmann::json change_json(const Route53Change& change);
Result<Route53Change> change_from(const nlohmann::json& j);

}  // namespace emu::core
