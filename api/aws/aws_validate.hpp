#pragma once
// The one validator of AWS JSON inputs, driven by the model's input shapes (api/aws/model): the
// required members, types, string/list/map length, numeric range, enum values and patterns, with
// AWS's own text ("1 validation error detected: Value 'x' at 'serviceName' failed to satisfy
// constraint: Member must have length less than or equal to 255"). Members the model does not
// know are ignored, so newer SDKs keep working; a null member counts as absent.

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "api/aws/model/aws_model.hpp"

namespace emu::api::aws {

/// One broken constraint.
struct Violation {
  std::string path;   ///< `Name`, `DnsConfig.DnsRecords.1.member.Type`, `Attributes.key`
  std::string value;  ///< as AWS quotes it: `'x'`, `null`, or the JSON of a mistyped value
  std::string rule;   ///< `Member must not be null`, ...
  bool type = false;  ///< the value has the wrong JSON type (a serialization problem)
};

/// Every violation of `input` against operation `op`'s input shape, in the model's member order
/// (depth first). An operation without input shape accepts anything.
std::vector<Violation> validate(const model::ServiceModel& service, const model::Operation& op,
                                const nlohmann::json& input);
/// The same against shape `shape` of `service` (tests, nested checks).
std::vector<Violation> validate_shape(const model::ServiceModel& service, std::int32_t shape,
                                      const nlohmann::json& value, const std::string& path);

/// AWS's text: "1 validation error detected: Value 'x' at 'a' failed to satisfy constraint:
/// Member must ..." or "N validation errors detected: ...; ..." (empty for none).
std::string validation_message(std::span<const Violation> violations);

}  // namespace emu::api::aws
