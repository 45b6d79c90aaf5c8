#include "api/aws/model/aws_model.hpp"

#include <algorithm>

namespace emu::api::aws::model {

const Operation* ServiceModel::operation(std::string_view name) const {
  const auto it =
      std::lower_bound(operations.begin(), operations.end(), name,
                       [](const Operation& o, std::string_view n) { return o.name < n; });
  return it != operations.end() && it->name == name ? &*it : nullptr;
}

}  // namespace emu::api::aws::model
