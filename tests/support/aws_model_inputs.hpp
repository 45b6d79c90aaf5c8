#pragma once
// A minimal valid input of an AWS model shape (api/aws/model): what an SDK sends when a caller
// gives only the required members. The model-driven tests call every operation with it.

#include <nlohmann/json.hpp>
#include <string>

#include "api/aws/aws_validate.hpp"
#include "api/aws/model/aws_model.hpp"

namespace emu::api::aws {

using nlohmann::json;

/// A minimal valid value of `shape`: its required members, the first enum value, the smallest
/// list; a string that meets the length and pattern (found by the validator itself).
inline nlohmann::json minimal_input(const model::ServiceModel& m, std::int32_t index) {
  const auto& s = m.shapes[static_cast<std::size_t>(index)];
  switch (s.kind) {
    case model::Kind::Structure: {
      json out = json::object();
      for (const auto& mem : m.members_of(s)) {
        if (mem.required) out[std::string(mem.name)] = minimal_input(m, mem.shape);
      }
      return out;
    }
    case model::Kind::List: {
      json out = json::array();
      for (std::int64_t i = 0; i < (s.has_min ? s.min : 0); ++i)
        out.push_back(minimal_input(m, s.element));
      return out;
    }
    case model::Kind::Map:
      return json::object();
    case model::Kind::String: {
      const auto values = m.enums_of(s);
      if (!values.empty()) return std::string(values[0]);
      for (const char* candidate : {"example.com", "a", "abc-1", "arn:aws:ecs:us-east-1:1:x/y"}) {
        if (validate_shape(m, index, candidate, "x").empty()) return candidate;
      }
      return std::string(static_cast<std::size_t>(s.has_min ? s.min : 1), 'a');
    }
    case model::Kind::Boolean:
      return false;
    case model::Kind::Integer:
    case model::Kind::Long:
    case model::Kind::Double:
    case model::Kind::Float:
      return s.has_min ? s.min : 0;
    case model::Kind::Timestamp:
      return 0;
    case model::Kind::Blob:
      return "";
  }
  return nullptr;
}

/// The minimal input of operation `op` ({} when it takes none).
inline nlohmann::json minimal_input(const model::ServiceModel& m, const model::Operation& op) {
  return op.input < 0 ? nlohmann::json::object() : minimal_input(m, op.input);
}

}  // namespace emu::api::aws
