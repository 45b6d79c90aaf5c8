#pragma once
// What a ZoneSnapshot answers, as text the core tests compare: the A records of a name.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "emulator/core/zone_snapshot.hpp"

namespace emu::test {

/// The A records `snapshot` holds for `name`: the healthy ones, then the unhealthy ones (which
/// fail-open may still answer) marked " unhealthy".
inline std::vector<std::string> a_records(const core::ZoneSnapshot& snapshot,
                                          const std::string& name) {
  std::vector<std::string> out;
  const std::string wire = core::ZoneSnapshot::to_wire(name);
  const auto* node =
      snapshot.find({reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()});
  if (!node) return out;
  const auto text = [](const std::array<std::uint8_t, 4>& a) {
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
           std::to_string(a[3]);
  };
  for (const auto& a : node->a_healthy) out.push_back(text(a));
  for (const auto& a : node->a_unhealthy) out.push_back(text(a) + " unhealthy");
  return out;
}

}  // namespace emu::test
