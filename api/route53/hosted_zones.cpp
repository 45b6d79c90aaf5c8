#include "api/route53/hosted_zones.hpp"

#include <algorithm>
#include <tuple>

#include "api/route53/record_sets.hpp"

namespace emu::api::route53 {

HostedZone zone_of(const core::Namespace& ns, std::int64_t record_set_count) {
  HostedZone z;
  z.id = ns.hosted_zone_id;
  z.name = absolute_name(ns.name);
  // Cloud Map creates the zone with the namespace's CreatorRequestId when there is one.
  z.caller_reference = ns.creator_request_id.empty() ? ns.id : ns.creator_request_id;
  z.private_zone = ns.type != "DNS_PUBLIC";
  z.record_set_count = record_set_count;
  z.linked_description = ns.arn;
  if (z.private_zone) {
    z.vpc_id = ns.vpc.empty() ? std::string(kDefaultVpc) : ns.vpc;
    z.vpc_region = ns.region;
  }
  return z;
}

HostedZone zone_of(const core::OwnZone& own, std::int64_t record_set_count) {
  HostedZone z;
  z.id = own.id;
  z.name = absolute_name(own.name);
  z.caller_reference = own.caller_reference;
  z.private_zone = own.private_zone;
  z.record_set_count = record_set_count;
  z.comment = own.comment;
  z.vpc_id = own.vpc_id;
  z.vpc_region = own.vpc_region;
  return z;
}

void sort_by_id(std::vector<HostedZone>& zones) {
  std::sort(zones.begin(), zones.end(),
            [](const HostedZone& a, const HostedZone& b) { return a.id < b.id; });
}

void sort_by_name(std::vector<HostedZone>& zones) {
  std::vector<std::pair<std::string, HostedZone>> keyed;
  keyed.reserve(zones.size());
  for (auto& z : zones) keyed.emplace_back(reversed_name(z.name), std::move(z));
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.id) < std::tie(b.first, b.second.id);
  });
  zones.clear();
  for (auto& [key, z] : keyed) zones.push_back(std::move(z));
}

namespace {
ZonePage finish(std::size_t begin, std::size_t size, std::size_t max_items) {
  ZonePage page;
  page.begin = std::min(begin, size);
  page.end = std::min(size, page.begin + max_items);
  page.truncated = page.end < size;
  return page;
}
}  // namespace

ZonePage page_by_id(const std::vector<HostedZone>& by_id, const std::optional<std::string>& marker,
                    std::size_t max_items) {
  std::size_t begin = 0;
  if (marker) {
    const auto it = std::partition_point(by_id.begin(), by_id.end(),
                                         [&](const HostedZone& z) { return z.id < *marker; });
    begin = static_cast<std::size_t>(it - by_id.begin());
  }
  return finish(begin, by_id.size(), max_items);
}

ZonePage page_by_name(const std::vector<HostedZone>& by_name,
                      const std::optional<std::string>& dns_name,
                      const std::optional<std::string>& zone_id, std::size_t max_items) {
  std::size_t begin = 0;
  if (dns_name) {
    const std::string key = reversed_name(*dns_name);
    const std::string id = zone_id.value_or("");
    const auto it = std::partition_point(by_name.begin(), by_name.end(), [&](const HostedZone& z) {
      const std::string zk = reversed_name(z.name);
      return std::tie(zk, z.id) < std::tie(key, id);
    });
    begin = static_cast<std::size_t>(it - by_name.begin());
  }
  return finish(begin, by_name.size(), max_items);
}

}  // namespace emu::api::route53
