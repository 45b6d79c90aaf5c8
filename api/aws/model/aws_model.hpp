#pragma once
// The input shapes of an AWS JSON service, generated at build time from the botocore model that
// Debian's python3-botocore installs (api/aws/model/gen_aws_model.py): per operation its input
// shape; per shape its kind, members, length or range bounds, enum values and pattern. One source
// for the validator (api/aws/aws_validate.hpp); nothing here is written by hand.

#include <cstdint>
#include <span>
#include <string_view>

namespace emu::api::aws::model {

enum class Kind : std::uint8_t {
  Structure,
  String,
  List,
  Map,
  Boolean,
  Integer,
  Long,
  Double,
  Float,
  Timestamp,
  Blob
};

/// A member of a structure.
struct Member {
  std::string_view name;
  std::int32_t shape;  ///< index into ServiceModel::shapes
  bool required;
};

struct Shape {
  std::string_view name;
  Kind kind;
  bool has_min;
  bool has_max;
  std::int64_t min;  ///< length (String, List, Map) or value (numbers)
  std::int64_t max;
  std::string_view pattern;  ///< empty when none
  std::int32_t member_begin;
  std::int32_t member_count;
  std::int32_t enum_begin;
  std::int32_t enum_count;
  std::int32_t element;  ///< List: the element's shape; Map: the value's; else -1
  std::int32_t key;      ///< Map: the key's shape; else -1
};

struct Operation {
  std::string_view name;
  std::int32_t input;  ///< -1 when the operation takes no input
};

/// One service's model; operations sorted by name.
struct ServiceModel {
  std::string_view target_prefix;
  std::span<const Shape> shapes;
  std::span<const Member> members;
  std::span<const std::string_view> enums;
  std::span<const Operation> operations;

  /// The operation named `name`, or nullptr when the model has none.
  const Operation* operation(std::string_view name) const;
  std::span<const Member> members_of(const Shape& s) const {
    return members.subspan(static_cast<std::size_t>(s.member_begin),
                           static_cast<std::size_t>(s.member_count));
  }
  std::span<const std::string_view> enums_of(const Shape& s) const {
    return enums.subspan(static_cast<std::size_t>(s.enum_begin),
                         static_cast<std::size_t>(s.enum_count));
  }
};

/// ECS (botocore ecs 2014-11-13) and Cloud Map (servicediscovery 2017-03-14).
extern const ServiceModel kEcsModel;
extern const ServiceModel kCloudMapModel;

}  // namespace emu::api::aws::model
