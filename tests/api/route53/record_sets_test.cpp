// Record sets of a namespace's hosted zone, table-driven: Route 53's name order (labels reversed,
// '-' before '.'), what Cloud Map writes per instance for each record type and routing policy,
// and ListResourceRecordSets paging from every kind of start.

#include "api/route53/record_sets.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace emu::api::route53 {
namespace {

TEST(RecordSetOrderTest, ReversedNameIsRoute53sSortKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"www.example.com", "com.example.www."},
      {"www.example.com.", "com.example.www."},
      {"WWW.Example.COM", "com.example.www."},
      {"local", "local."},
      {"", "."},
      {".", "."},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(reversed_name(in), out) << in;
}

TEST(RecordSetOrderTest, NameThenTypeThenIdentifier) {
  // Each element sorts before the next.
  const std::vector<RecordSet> ordered = {
      {"local.", "NS", "", {}, false, 0, {}},
      {"local.", "SOA", "", {}, false, 0, {}},  // type is ASCII: NS before SOA
      {"a.local.", "A", "", {}, false, 0, {}},
      {"web-x.local.", "A", "", {}, false, 0, {}},  // "local.web-x." < "local.web.": '-' < '.'
      {"web.local.", "A", "i-1", {}, false, 0, {}},
      {"web.local.", "A", "i-2", {}, false, 0, {}},
      {"web.local.", "SRV", "i-1", {}, false, 0, {}},
      {"i-1.web.local.", "A", "i-1", {}, false, 0, {}},
      {"b.other.", "A", "", {}, false, 0, {}},
  };
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_TRUE(record_set_less(ordered[i], ordered[i + 1])) << ordered[i].name << " " << i;
    EXPECT_FALSE(record_set_less(ordered[i + 1], ordered[i])) << ordered[i].name << " " << i;
  }
}

ServiceRecords web(core::RecordTypes records, core::Routing routing = core::Routing::Multivalue) {
  ServiceRecords s;
  s.dns_name = "web.local";
  s.records = records;
  s.routing = routing;
  s.ttl = 15;
  s.instances = {{"Task-1", "10.0.0.1", "fd00::1", 8080}, {"i-2", "10.0.0.2", "", 8081}};
  return s;
}

struct ServiceCase {
  const char* name;
  ServiceRecords service;
  std::vector<RecordSet> expected;  ///< in service_record_sets order
};

std::ostream& operator<<(std::ostream& os, const ServiceCase& c) { return os << c.name; }

RecordSet mv(std::string name, std::string type, std::string id, std::string value) {
  return {std::move(name),   std::move(type), std::move(id), std::nullopt, true, 15,
          {std::move(value)}};
}

const ServiceCase kServiceCases[] = {
    {"MultivalueA",
     web({.a = true}),
     {mv("web.local.", "A", "Task-1", "10.0.0.1"), mv("web.local.", "A", "i-2", "10.0.0.2")}},
    {"WeightedA",
     web({.a = true}, core::Routing::Weighted),
     {{"web.local.", "A", "Task-1", 1, false, 15, {"10.0.0.1"}},
      {"web.local.", "A", "i-2", 1, false, 15, {"10.0.0.2"}}}},
    {"AandAaaa",  // an instance without IPv6 has no AAAA record set
     web({.a = true, .aaaa = true}),
     {mv("web.local.", "A", "Task-1", "10.0.0.1"), mv("web.local.", "AAAA", "Task-1", "fd00::1"),
      mv("web.local.", "A", "i-2", "10.0.0.2")}},
    {"SrvAndItsTargets",  // the SRV target's label is lowercase; the identifier is as registered
     web({.a = false, .srv = true}),
     {mv("web.local.", "SRV", "Task-1", "1 1 8080 task-1.web.local."),
      mv("task-1.web.local.", "A", "Task-1", "10.0.0.1"),
      mv("task-1.web.local.", "AAAA", "Task-1", "fd00::1"),
      mv("web.local.", "SRV", "i-2", "1 1 8081 i-2.web.local."),
      mv("i-2.web.local.", "A", "i-2", "10.0.0.2")}},
    {"NoInstances",
     [] {
       auto s = web({.a = true});
       s.instances.clear();
       return s;
     }(),
     {}},
    {"IdThatIsNoLabelHasNoSrv",  // as the DNS snapshot: an id with a dot gets no SRV target
     [] {
       auto s = web({.a = true, .srv = true});
       s.instances = {{"i.1", "10.0.0.9", "", 80}};
       return s;
     }(),
     {mv("web.local.", "A", "i.1", "10.0.0.9")}},
};

class ServiceRecordSetsTest : public ::testing::TestWithParam<ServiceCase> {};

TEST_P(ServiceRecordSetsTest, OnePerInstanceAndType) {
  const auto& c = GetParam();
  EXPECT_EQ(service_record_sets(c.service), c.expected);
  EXPECT_EQ(service_record_set_count(c.service), c.expected.size());
}

INSTANTIATE_TEST_SUITE_P(Table, ServiceRecordSetsTest, ::testing::ValuesIn(kServiceCases),
                         [](const auto& info) { return std::string(info.param.name); });

ApexRecords apex() {
  return {"local.",
          900,
          "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 5",
          172800,
          {"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com."}};
}

/// name/type/identifier of each record set.
std::vector<std::string> keys(const std::vector<RecordSet>& sets, std::size_t begin = 0,
                              std::size_t end = SIZE_MAX) {
  std::vector<std::string> out;
  for (std::size_t i = begin; i < std::min(end, sets.size()); ++i) {
    out.push_back(sets[i].name + " " + sets[i].type +
                  (sets[i].set_identifier.empty() ? "" : " " + sets[i].set_identifier));
  }
  return out;
}

std::vector<RecordSet> zone() {
  ServiceRecords api;
  api.dns_name = "api.local";
  api.records = {.a = true};
  api.instances = {{"b", "10.0.0.5", "", 80}, {"a", "10.0.0.4", "", 80}};
  return zone_record_sets(apex(), {web({.a = true, .srv = true}), api});
}

TEST(ZoneRecordSetsTest, ApexFirstThenRoute53Order) {
  EXPECT_EQ(keys(zone()), (std::vector<std::string>{
                              "local. NS",
                              "local. SOA",
                              "api.local. A a",
                              "api.local. A b",
                              "web.local. A Task-1",
                              "web.local. A i-2",
                              "web.local. SRV Task-1",
                              "web.local. SRV i-2",
                              "i-2.web.local. A i-2",
                              "task-1.web.local. A Task-1",
                              "task-1.web.local. AAAA Task-1",
                          }));
  const auto sets = zone();
  EXPECT_EQ(sets[0].values.size(), 2u);  // one NS record set with every name server
  EXPECT_EQ(sets[0].ttl, 172800u);
  EXPECT_EQ(sets[1].ttl, 900u);
}

struct PageCase {
  const char* name;
  RecordSetStart start;
  std::size_t max_items;
  std::vector<std::string> expected;
  std::optional<RecordSetStart> next;
};

std::ostream& operator<<(std::ostream& os, const PageCase& c) { return os << c.name; }

const PageCase kPageCases[] = {
    {"FromTheTop",
     {},
     3,
     {"local. NS", "local. SOA", "api.local. A a"},
     RecordSetStart{"api.local.", "A", "b"}},
    {"Everything",
     {},
     300,
     {"local. NS", "local. SOA", "api.local. A a", "api.local. A b", "web.local. A Task-1",
      "web.local. A i-2", "web.local. SRV Task-1", "web.local. SRV i-2", "i-2.web.local. A i-2",
      "task-1.web.local. A Task-1", "task-1.web.local. AAAA Task-1"},
     std::nullopt},
    {"NameOnly",
     {"web.local.", "", ""},
     2,
     {"web.local. A Task-1", "web.local. A i-2"},
     RecordSetStart{"web.local.", "SRV", "Task-1"}},
    {"NameAndType",
     {"web.local.", "SRV", ""},
     1,
     {"web.local. SRV Task-1"},
     RecordSetStart{"web.local.", "SRV", "i-2"}},
    {"NameTypeIdentifier",
     {"web.local.", "SRV", "i-2"},
     1,
     {"web.local. SRV i-2"},
     RecordSetStart{"i-2.web.local.", "A", "i-2"}},
    {"AbsentNameStartsAtTheNextOne",
     {"b.local.", "", ""},
     1,
     {"web.local. A Task-1"},
     RecordSetStart{"web.local.", "A", "i-2"}},
    {"AbsentTypeStartsAtTheNextOne",
     {"web.local.", "CNAME", ""},
     1,
     {"web.local. SRV Task-1"},
     RecordSetStart{"web.local.", "SRV", "i-2"}},
    {"ThePreviousNextGivesTheLastPage",
     {"task-1.web.local.", "AAAA", "Task-1"},
     5,
     {"task-1.web.local. AAAA Task-1"},
     std::nullopt},
    {"PastTheEnd", {"zzz.", "", ""}, 5, {}, std::nullopt},
    {"ApexName", {"local.", "SOA", ""}, 1, {"local. SOA"}, RecordSetStart{"api.local.", "A", "a"}},
};

class PageRecordSetsTest : public ::testing::TestWithParam<PageCase> {};

TEST_P(PageRecordSetsTest, StartsWhereRoute53Does) {
  const auto& c = GetParam();
  const auto sets = zone();
  const auto page = page_record_sets(sets, c.start, c.max_items);
  EXPECT_EQ(keys(sets, page.begin, page.end), c.expected);
  EXPECT_EQ(page.next, c.next);
}

INSTANTIATE_TEST_SUITE_P(Table, PageRecordSetsTest, ::testing::ValuesIn(kPageCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PageRecordSetsTest, FollowingNextVisitsEveryRecordSetOnce) {
  const auto sets = zone();
  for (std::size_t size = 1; size <= sets.size(); ++size) {
    std::vector<std::string> seen;
    RecordSetStart start;
    for (int guard = 0; guard < 100; ++guard) {
      const auto page = page_record_sets(sets, start, size);
      for (const auto& k : keys(sets, page.begin, page.end)) seen.push_back(k);
      if (!page.next) break;
      start = *page.next;
    }
    EXPECT_EQ(seen, keys(sets)) << "page size " << size;
  }
}

TEST(ParseStartTest, Route53sRules) {
  EXPECT_EQ(parse_start(std::nullopt, std::nullopt, std::nullopt)->name, "");
  EXPECT_EQ(parse_start("Web.Local", std::nullopt, std::nullopt)->name, "web.local.");
  EXPECT_EQ(parse_start("web.local.", "SRV", "i-1").value(),
            (RecordSetStart{"web.local.", "SRV", "i-1"}));
  // A type needs a name; an identifier needs a type; a type must be Route 53's.
  for (const auto& bad :
       {parse_start(std::nullopt, "A", std::nullopt), parse_start("web.local", std::nullopt, "i-1"),
        parse_start("web.local", "a", std::nullopt), parse_start("web.local", "ANY", std::nullopt),
        parse_start("", std::nullopt, std::nullopt), parse_start("web.local", "A", "")}) {
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().aws_type, "InvalidInput");
  }
}

TEST(ParseMaxItemsTest, PositiveAndCapped) {
  EXPECT_EQ(parse_max_items(std::nullopt, 300, 300).value(), 300u);
  EXPECT_EQ(parse_max_items("1", 300, 300).value(), 1u);
  EXPECT_EQ(parse_max_items("0042", 300, 300).value(), 42u);
  EXPECT_EQ(parse_max_items("301", 300, 300).value(), 300u);  // Route 53 returns at most 300
  EXPECT_EQ(parse_max_items("123456789012345678901234567890", 100, 100).value(), 100u);
  for (const char* bad : {"", "0", "000", "-1", "1.5", "ten", " 1"}) {
    const auto r = parse_max_items(bad, 300, 300);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().aws_type, "InvalidInput");
  }
}

}  // namespace
}  // namespace emu::api::route53
