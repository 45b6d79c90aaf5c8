#include "api/request_guard.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

namespace emu::api {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// "name:port", "[v6]:port", "name" -> the host part, lower case, without a trailing dot.
/// Brackets are kept for IPv6 literals. Empty when the authority is malformed.
std::string host_of_authority(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return {};
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return {};
    host = host.substr(0, close + 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    if (host.find(':') != colon) return {};  // a bare IPv6 literal is not a valid Host
    host = host.substr(0, colon);
  }
  std::string out = lower(host);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    const auto addr =
        boost::asio::ip::make_address_v6(std::string(host.substr(1, host.size() - 2)), ec);
    return !ec && !addr.is_unspecified();
  }
  // Only the dotted-quad form: inet_aton's "2130706433" or "0x7f.1" are names to a browser.
  boost::asio::ip::make_address_v4(std::string(host), ec);
  return !ec && std::count(host.begin(), host.end(), '.') == 3;
}

/// `pattern` is a host name, `*.suffix` (any subdomain of suffix, not suffix itself) or `*`.
bool host_matches(std::string_view host, std::string_view pattern) {
  if (pattern == "*") return true;
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    return host.size() > pattern.size() - 1 && ends_with(host, pattern.substr(1));
  }
  return host == pattern;
}

bool host_allowed(const std::string& host, const RequestGuardConfig& config) {
  if (host.empty()) return false;
  if (is_ip_literal(host) || is_loopback_host(host)) return true;
  if (host.find('.') == std::string::npos) return true;  // single label: localhost, emulator
  for (const auto& entry : config.allowed_hosts) {
    std::string pattern = lower(entry);
    if (!pattern.empty() && pattern.back() == '.') pattern.pop_back();
    if (host_matches(host, pattern)) return true;
  }
  return false;
}

struct Origin {
  std::string scheme;  ///< lower case
  std::string host;    ///< lower case, brackets kept for IPv6
  std::string serialized;
};

/// "scheme://host[:port]" as browsers serialise it; nullopt for "null" and anything else.
std::optional<Origin> parse_origin(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  const auto authority = text.substr(sep + 3);
  if (authority.empty() || authority.find_first_of("/?#@ ") != std::string_view::npos) {
    return std::nullopt;
  }
  Origin o;
  o.scheme = lower(text.substr(0, sep));
  o.host = host_of_authority(authority);
  if (o.host.empty()) return std::nullopt;
  o.serialized = std::string(text);
  return o;
}

bool origin_allowed(const Origin& origin, const RequestGuardConfig& config) {
  if ((origin.scheme == "http" || origin.scheme == "https") && is_loopback_host(origin.host)) {
    return true;
  }
  const std::string full = lower(origin.serialized);
  for (const auto& entry : config.allowed_origins) {
    const std::string pattern = lower(entry);
    if (pattern == "*") return true;
    if (pattern.find("://") != std::string::npos) {
      if (full == pattern || full + "/" == pattern) return true;
    } else if (host_matches(origin.host, pattern)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool is_loopback_host(std::string_view raw) {
  std::string host = lower(raw);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host == "localhost" || ends_with(host, ".localhost")) return true;  // RFC 6761 6.3
  if (host == "[::1]") return true;
  boost::system::error_code ec;
  const auto v4 = boost::asio::ip::make_address_v4(host, ec);
  return !ec && std::count(host.begin(), host.end(), '.') == 3 && v4.is_loopback();
}

GuardDecision check_request(std::optional<std::string_view> host_header,
                            std::optional<std::string_view> origin_header,
                            const RequestGuardConfig& config) {
  GuardDecision d;
  if (host_header) {
    std::string host = host_of_authority(*host_header);
    // The SDKs put `data-` in front of the endpoint's host for DiscoverInstances.
    if (host.rfind("data-", 0) == 0 && !host_allowed(host, config)) host = host.substr(5);
    if (!host_allowed(host, config)) {
      d.verdict = GuardVerdict::ForeignHost;
      d.message = "Host '" + std::string(*host_header) +
                  "' is not a name this emulator answers to (a defence against DNS "
                  "rebinding: loopback names, IP addresses and single-label names are allowed); "
                  "to use this name start ecs-emulator with --allowed-hosts " +
                  (host.empty() ? std::string("NAME") : host) + " (ECS_EMULATOR_ALLOWED_HOSTS)";
      return d;
    }
  }
  if (!origin_header) return d;
  const auto origin = parse_origin(*origin_header);
  if (!origin || !origin_allowed(*origin, config)) {
    d.verdict = GuardVerdict::ForeignOrigin;
    d.message = "Origin '" + std::string(*origin_header) +
                "' is not allowed: web pages of other origins cannot drive this API (a defence "
                "against cross-site requests; loopback origins are allowed); to allow this one "
                "start ecs-emulator with --allowed-origins " +
                (origin ? origin->serialized : std::string("ORIGIN")) +
                " (ECS_EMULATOR_ALLOWED_ORIGINS)";
    return d;
  }
  d.cors_origin = origin->serialized;
  return d;
}

}  // namespace emu::api
