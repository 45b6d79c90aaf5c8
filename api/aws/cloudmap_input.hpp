#pragma once
// Reading Cloud Map request members with the model's constraints: the first problem wins and reads
// like AWS's own validation text ("Value null at 'Name' failed to satisfy constraint: Member must
// not be null"), so a missing or malformed member is an InvalidInput naming it. Also the opaque
// NextToken of the List* operations.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace emu::api::aws {

/// Reads members of one JSON object (`prefix` names it in messages, e.g. "DnsConfig.").
class CloudMapInput {
 public:
  CloudMapInput(const nlohmann::json& object, std::string prefix = {});

  /// True when the member is present and not null.
  bool has(std::string_view name) const;
  /// A string member ("" when absent); checks presence, length 1..max_len.
  std::string str(std::string_view name, bool required = false, std::size_t max_len = 0);
  /// An integer member in [min, max]; nullopt when absent.
  std::optional<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max);
  /// An object member (nullptr when absent).
  const nlohmann::json* object(std::string_view name, bool required = false);
  /// An array member (nullptr when absent).
  const nlohmann::json* array(std::string_view name, bool required = false);
  /// A map of strings ({} when absent).
  std::map<std::string, std::string> string_map(std::string_view name, bool required = false);
  /// Records a problem (the first one is kept).
  void fail(std::string message);
  /// A reader of a nested object member, sharing this reader's error slot.
  CloudMapInput nested(const nlohmann::json& object, std::string prefix);

  bool failed() const { return !error_->empty(); }
  const std::string& error() const { return *error_; }
  /// The member's path in messages.
  std::string path(std::string_view name) const { return prefix_ + std::string(name); }

 private:
  CloudMapInput(const nlohmann::json& object, std::string prefix,
                std::shared_ptr<std::string> error);
  const nlohmann::json* member(std::string_view name) const;

  const nlohmann::json& object_;
  std::string prefix_;
  std::shared_ptr<std::string> error_;
};

/// "1 validation error detected: Value null at 'X' failed to satisfy constraint: Member must not
/// be null".
std::string missing_member(std::string_view path);

/// The opaque NextToken of a list of `kind` continuing at `offset`.
std::string encode_next_token(std::string_view kind, std::size_t offset);
/// The offset in a NextToken of `kind`; nullopt when it is not one of ours.
std::optional<std::size_t> decode_next_token(std::string_view kind, std::string_view token);

}  // namespace emu::api::aws
