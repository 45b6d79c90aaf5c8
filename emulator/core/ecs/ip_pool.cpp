#include "emulator/core/ecs/ip_pool.hpp"

#include <charconv>

namespace emu::core::ecs {

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned part = 0;
    const auto* begin = text.data();
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(begin, end, part);
    if (ec != std::errc{} || p == begin || part > 255 || p - begin > 3) return std::nullopt;
    out = (out << 8) | part;
    text.remove_prefix(static_cast<std::size_t>(p - begin));
    if (i < 3) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  return out;
}

std::string format_ipv4(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

Result<IpPool> IpPool::parse(std::string_view cidr) {
  const auto slash = cidr.find('/');
  if (slash == std::string_view::npos)
    return invalid("--task-cidr: expected a.b.c.d/len, got '" + std::string(cidr) + "'");
  const auto base = parse_ipv4(cidr.substr(0, slash));
  unsigned len = 0;
  const auto tail = cidr.substr(slash + 1);
  auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), len);
  if (!base || ec != std::errc{} || p != tail.data() + tail.size() || tail.empty()) {
    return invalid("--task-cidr: expected a.b.c.d/len, got '" + std::string(cidr) + "'");
  }
  if (len < 8 || len > 28) return invalid("--task-cidr: prefix length must be 8..28");
  const std::uint32_t mask = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
  const std::uint32_t network = *base & mask;
  const std::uint32_t broadcast = network | ~mask;
  return IpPool(network + 4, broadcast - 1);
}

bool IpPool::contains(std::string_view ip) const {
  const auto v = parse_ipv4(ip);
  return v && *v >= first_ && *v <= last_;
}

std::optional<std::string> IpPool::allocate(const std::set<std::string>& used) {
  const std::uint32_t n = capacity();
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t candidate = first_ + (next_ - first_ + i) % n;
    std::string text = format_ipv4(candidate);
    if (used.count(text)) continue;
    next_ = candidate == last_ ? first_ : candidate + 1;
    return text;
  }
  return std::nullopt;
}

}  // namespace emu::core::ecs
