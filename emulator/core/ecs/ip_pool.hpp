#pragma once
// IpPool: private IPv4 addresses of simulated tasks from --task-cidr. Data only: nothing ever
// sends traffic to them. Like a VPC subnet, the first four and the last address are reserved.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "emulator/core/result.hpp"

namespace emu::core::ecs {

class IpPool {
 public:
  /// Parses `a.b.c.d/len` (len 8..28).
  static Result<IpPool> parse(std::string_view cidr);

  /// The next free address after the last one handed out (wrapping), or nullopt when `used`
  /// holds them all.
  std::optional<std::string> allocate(const std::set<std::string>& used);
  /// Number of usable addresses.
  std::uint32_t capacity() const { return last_ - first_ + 1; }
  /// True when `ip` lies in the pool's usable range.
  bool contains(std::string_view ip) const;

 private:
  IpPool(std::uint32_t first, std::uint32_t last) : first_(first), last_(last), next_(first) {}
  std::uint32_t first_;
  std::uint32_t last_;
  std::uint32_t next_;
};

/// Parses dotted IPv4 into a host-order integer.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
/// Formats a host-order integer as dotted IPv4.
std::string format_ipv4(std::uint32_t ip);

}  // namespace emu::core::ecs
