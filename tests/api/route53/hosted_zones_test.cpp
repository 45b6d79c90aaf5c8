// Hosted zones of namespaces: what a zone shows (private and public), and both list orders with
// their paging (ListHostedZones by id, ListHostedZonesByName by reversed name, then id).

#include "api/route53/hosted_zones.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace emu::api::route53 {
namespace {

core::Namespace ns(std::string name, std::string zone_id, std::string type = "DNS_PRIVATE") {
  core::Namespace n;
  n.id = "ns-" + name;
  n.name = std::move(name);
  n.arn = "arn:aws:servicediscovery:eu-west-1:000000000000:namespace/" + n.id;
  n.region = "eu-west-1";
  n.type = std::move(type);
  n.hosted_zone_id = std::move(zone_id);
  return n;
}

TEST(HostedZoneTest, APrivateZoneShowsItsVpcAndCloudMapAsCreator) {
  auto n = ns("demo.local", "ZAAA");
  n.vpc = "vpc-1234";
  n.creator_request_id = "req-1";
  const HostedZone z = zone_of(n, 7);
  EXPECT_EQ(z.id, "ZAAA");
  EXPECT_EQ(z.name, "demo.local.");
  EXPECT_EQ(z.caller_reference, "req-1");
  EXPECT_TRUE(z.private_zone);
  EXPECT_EQ(z.record_set_count, 7);
  EXPECT_EQ(z.linked_description, n.arn);
  EXPECT_EQ(z.vpc_id, "vpc-1234");
  EXPECT_EQ(z.vpc_region, "eu-west-1");
}

TEST(HostedZoneTest, WithoutAVpcOrRequestIdItShowsDefaults) {
  const HostedZone z = zone_of(ns("local", "ZB"), 2);
  EXPECT_EQ(z.vpc_id, kDefaultVpc);
  EXPECT_EQ(z.caller_reference, "ns-local");
}

TEST(HostedZoneTest, APublicZoneHasNoVpc) {
  const HostedZone z = zone_of(ns("example.com", "ZC", "DNS_PUBLIC"), 2);
  EXPECT_FALSE(z.private_zone);
  EXPECT_EQ(z.vpc_id, "");
}

std::vector<HostedZone> zones() {
  std::vector<HostedZone> out;
  for (const auto& [name, id] :
       std::vector<std::pair<std::string, std::string>>{{"b.local", "Z3"},
                                                        {"local", "Z9"},
                                                        {"a-b.local", "Z1"},
                                                        {"example.com", "Z5"},
                                                        {"local", "Z2"}}) {
    out.push_back(zone_of(ns(name, id), 2));
  }
  return out;
}

std::vector<std::string> ids(const std::vector<HostedZone>& z, ZonePage page) {
  std::vector<std::string> out;
  for (auto i = page.begin; i < page.end; ++i) out.push_back(z[i].id);
  return out;
}

TEST(HostedZoneOrderTest, ById) {
  auto z = zones();
  sort_by_id(z);
  EXPECT_EQ(ids(z, page_by_id(z, std::nullopt, 100)),
            (std::vector<std::string>{"Z1", "Z2", "Z3", "Z5", "Z9"}));
  const auto first = page_by_id(z, std::nullopt, 2);
  EXPECT_EQ(ids(z, first), (std::vector<std::string>{"Z1", "Z2"}));
  EXPECT_TRUE(first.truncated);
  const auto second = page_by_id(z, z[first.end].id, 2);  // NextMarker = the next page's first id
  EXPECT_EQ(ids(z, second), (std::vector<std::string>{"Z3", "Z5"}));
  const auto last = page_by_id(z, z[second.end].id, 2);
  EXPECT_EQ(ids(z, last), (std::vector<std::string>{"Z9"}));
  EXPECT_FALSE(last.truncated);
  EXPECT_EQ(ids(z, page_by_id(z, std::string("Z4"), 10)),  // an unknown marker: the next id
            (std::vector<std::string>{"Z5", "Z9"}));
}

TEST(HostedZoneOrderTest, ByReversedNameThenId) {
  auto z = zones();
  sort_by_name(z);
  // com.example. < local. < local.a-b. < local.b. ; two zones named local. by id
  EXPECT_EQ(ids(z, page_by_name(z, std::nullopt, std::nullopt, 100)),
            (std::vector<std::string>{"Z5", "Z2", "Z9", "Z1", "Z3"}));
  EXPECT_EQ(ids(z, page_by_name(z, std::string("local"), std::nullopt, 100)),
            (std::vector<std::string>{"Z2", "Z9", "Z1", "Z3"}));
  EXPECT_EQ(ids(z, page_by_name(z, std::string("LOCAL."), std::string("Z9"), 2)),
            (std::vector<std::string>{"Z9", "Z1"}));
  const auto page = page_by_name(z, std::string("a-a.local"), std::nullopt, 1);  // absent: next
  EXPECT_EQ(ids(z, page), (std::vector<std::string>{"Z1"}));
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(z[page.end].name, "b.local.");  // NextDNSName
  // "local.a-b." sorts before "local.a.": '-' is below '.' (Route 53 compares the reversed text)
  EXPECT_EQ(ids(z, page_by_name(z, std::string("a.local"), std::nullopt, 5)),
            (std::vector<std::string>{"Z3"}));
  EXPECT_TRUE(ids(z, page_by_name(z, std::string("zzz"), std::nullopt, 5)).empty());
}

}  // namespace
}  // namespace emu::api::route53
