// ChangeResourceRecordSets, table-driven: the batch rules (core::apply_change_batch) with Route
// 53's InvalidChangeBatch messages, all-or-nothing; the rdata of each type; the XML request read
// into changes (parse_change_batch); the user's record sets merged into the zone's listing order.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/route53/record_sets.hpp"
#include "api/route53/route53_xml.hpp"
#include "emulator/core/route53_records.hpp"

namespace emu::api::route53 {
namespace {

using core::RecordChange;
using core::UserRecordSet;
using Action = RecordChange::Action;

UserRecordSet rs(std::string name, std::string type, std::vector<std::string> values,
                 std::string id = {}, std::optional<std::int64_t> weight = std::nullopt) {
  UserRecordSet s;
  s.name = std::move(name);
  s.type = std::move(type);
  s.values = std::move(values);
  s.set_identifier = std::move(id);
  s.weight = weight;
  s.ttl = 60;
  return s;
}

UserRecordSet multivalue(UserRecordSet s) {
  s.multivalue = true;
  return s;
}

UserRecordSet ttl(UserRecordSet s, std::uint32_t seconds) {
  s.ttl = seconds;
  return s;
}

// Cloud Map writes web.demo.local. A.
bool managed(const std::string& name, const std::string& type) {
  return name == "web.demo.local." && (type.empty() || type == "A");
}

struct BatchCase {
  const char* what;
  std::vector<UserRecordSet> before;
  std::vector<RecordChange> changes;
  const char* error;  ///< a substring of the InvalidChangeBatch message; null = accepted
  std::size_t after = 0;
};

TEST(ChangeBatchTest, RulesAndMessages) {
  const auto cname = rs("x.demo.local.", "CNAME", {"y.demo.local"});
  const BatchCase cases[] = {
      {"create", {}, {{Action::Create, cname}}, nullptr, 1},
      {"name made absolute and lower case",
       {},
       {{Action::Create, rs("X.Demo.Local", "CNAME", {"y.demo.local"})}},
       nullptr,
       1},
      {"create twice",
       {cname},
       {{Action::Create, cname}},
       "[Tried to create resource record set [name='x.demo.local.', type='CNAME'] but it already "
       "exists]"},
      {"delete missing",
       {},
       {{Action::Delete, cname}},
       "[Tried to delete resource record set [name='x.demo.local.', type='CNAME'] but it was not "
       "found]"},
      {"delete with other values",
       {cname},
       {{Action::Delete, rs("x.demo.local.", "CNAME", {"z.demo.local"})}},
       "but the values provided do not match the current values"},
      {"delete then create in one batch",
       {cname},
       {{Action::Delete, cname}, {Action::Create, rs("x.demo.local.", "TXT", {"\"t\""})}},
       nullptr,
       1},
      {"upsert replaces", {cname}, {{Action::Upsert, cname}}, nullptr, 1},
      {"CNAME beside other data",
       {rs("x.demo.local.", "TXT", {"\"t\""})},
       {{Action::Create, cname}},
       "RRSet of type CNAME with DNS name x.demo.local. is not permitted as it conflicts with "
       "other records with the same DNS name in zone demo.local."},
      {"data beside a CNAME",
       {cname},
       {{Action::Create, rs("x.demo.local.", "A", {"10.0.0.1"})}},
       "a conflicting RRSet of type CNAME with the same DNS name already exists in zone "
       "demo.local."},
      {"CNAME at the apex",
       {},
       {{Action::Create, rs("demo.local.", "CNAME", {"y.demo.local"})}},
       "is not permitted at apex in zone demo.local."},
      {"outside the zone",
       {},
       {{Action::Create, rs("x.example.com", "A", {"10.0.0.1"})}},
       "RRSet with DNS name x.example.com. is not permitted in zone demo.local."},
      {"suffix that is no parent",
       {},
       {{Action::Create, rs("xdemo.local", "A", {"10.0.0.1"})}},
       "is not permitted in zone demo.local."},
      {"Cloud Map's record set",
       {},
       {{Action::Upsert, rs("web.demo.local", "A", {"10.0.0.1"})}},
       "managed by AWS Cloud Map"},
      {"a CNAME at Cloud Map's name",
       {},
       {{Action::Create, rs("web.demo.local", "CNAME", {"y.demo.local"})}},
       "managed by AWS Cloud Map"},
      {"a TXT beside Cloud Map's A",
       {},
       {{Action::Create, rs("web.demo.local", "TXT", {"\"t\""})}},
       nullptr,
       1},
      {"bad IPv4",
       {},
       {{Action::Create, rs("a.demo.local", "A", {"300.1.1.1"})}},
       "ARRDATAIllegalIPv4Address"},
      {"no values", {}, {{Action::Create, rs("a.demo.local", "A", {})}}, "but found none"},
      {"two CNAME values",
       {},
       {{Action::Create, rs("a.demo.local", "CNAME", {"b.demo.local", "c.demo.local"})}},
       "has more than one resource record"},
      {"SOA is ours", {}, {{Action::Upsert, rs("demo.local", "SOA", {"x"})}}, "SOA record set"},
      {"weighted pair",
       {},
       {{Action::Create, rs("w.demo.local", "A", {"10.0.0.1"}, "a", 1)},
        {Action::Create, rs("w.demo.local", "A", {"10.0.0.2"}, "b", 3)}},
       nullptr,
       2},
      {"weighted without identifier",
       {},
       {{Action::Create, rs("w.demo.local", "A", {"10.0.0.1"}, "", 1)}},
       "Missing field 'SetIdentifier'"},
      {"simple beside weighted",
       {rs("w.demo.local.", "A", {"10.0.0.1"}, "a", 1)},
       {{Action::Create, rs("w.demo.local", "A", {"10.0.0.2"})}},
       "[RRSet with DNS name w.demo.local., type A cannot be created as other RRSets exist with "
       "the same name and type.]"},
      {"weighted beside simple",
       {rs("w.demo.local.", "A", {"10.0.0.1"})},
       {{Action::Create, rs("w.demo.local", "A", {"10.0.0.2"}, "b", 1)}},
       "[RRSet with DNS name w.demo.local., type A, SetIdentifier b cannot be created as a "
       "non-weighted set exists with the same name and type.]"},
      {"multivalue beside simple",
       {rs("m.demo.local.", "TXT", {"\"t\""})},
       {{Action::Create, multivalue(rs("m.demo.local", "TXT", {"\"u\""}, "m1"))}},
       "[RRSet with DNS name m.demo.local., type TXT, SetIdentifier \"m1\" cannot be created "
       "because a non multivalue answer rrset exists with the same name and type.]"},
      {"weighted sets of two TTLs",
       {rs("w.demo.local.", "A", {"10.0.0.1"}, "a", 1)},
       {{Action::Create, ttl(rs("w.demo.local", "A", {"10.0.0.2"}, "b", 1), 30)}},
       "[RRSet with DNS name w.demo.local. and type A, SetIdentifier b cannot be created as "
       "weighted sets must contain the same TTL.]"},
      {"weighted sets' TTL changed together in one batch",
       {rs("w.demo.local.", "A", {"10.0.0.1"}, "a", 1),
        rs("w.demo.local.", "A", {"10.0.0.2"}, "b", 1)},
       {{Action::Upsert, ttl(rs("w.demo.local", "A", {"10.0.0.1"}, "a", 1), 30)},
        {Action::Upsert, ttl(rs("w.demo.local", "A", {"10.0.0.2"}, "b", 1), 30)}},
       nullptr,
       2},
      {"one failure fails all, every failure named",
       {cname},
       {{Action::Create, rs("ok.demo.local", "A", {"10.0.0.1"})},
        {Action::Create, cname},
        {Action::Delete, rs("gone.demo.local", "TXT", {"\"t\""})}},
       "already exists, Tried to delete resource record set [name='gone.demo.local.', "
       "type='TXT'] but it was not found]"},
  };
  for (const auto& c : cases) {
    const auto got = core::apply_change_batch(c.before, c.changes, "demo.local", managed);
    if (c.error == nullptr) {
      ASSERT_TRUE(got.ok()) << c.what << ": " << got.error().message;
      EXPECT_EQ(got->size(), c.after) << c.what;
    } else {
      ASSERT_FALSE(got.ok()) << c.what;
      EXPECT_EQ(got.error().aws_type, "InvalidChangeBatch") << c.what;
      EXPECT_NE(got.error().message.find(c.error), std::string::npos)
          << c.what << ": " << got.error().message;
    }
  }
}

TEST(ChangeBatchTest, RdataOfEachType) {
  const struct {
    const char* type;
    const char* value;
    std::string rdata;
  } cases[] = {
      {"A", "10.0.0.1", std::string("\x0a\x00\x00\x01", 4)},
      {"CNAME", "Db.Example.com.",
       std::string("\x02"
                   "db\x07"
                   "example\x03"
                   "com\x00",
                   16)},
      {"TXT", "\"hello world\" v=1", std::string("\x0bhello world\x03v=1")},
      {"TXT", "\"a\\\"b\"",
       std::string("\x03"
                   "a\"b")},
      {"MX", "10 mx.local", std::string("\x00\x0a\x02mx\x05local\x00", 12)},
      {"SRV", "1 2 80 t.local", std::string("\x00\x01\x00\x02\x00\x50\x01t\x05local\x00", 15)},
      {"CAA", "0 issue \"ca.example\"", std::string("\x00\x05issueca.example", 17)},
  };
  for (const auto& c : cases) {
    const auto got = core::encode_rdata(c.type, c.value);
    ASSERT_TRUE(got.ok()) << c.type << " " << c.value << ": " << got.error().message;
    EXPECT_EQ(*got, c.rdata) << c.type << " " << c.value;
  }
  for (const auto& [type, value] :
       std::vector<std::pair<const char*, const char*>>{{"AAAA", "10.0.0.1"},
                                                        {"MX", "mx.local"},
                                                        {"SRV", "1 2 t.local"},
                                                        {"TXT", "\"open"},
                                                        {"CAA", "300 issue x"},
                                                        {"CNAME", "a..b"}}) {
    EXPECT_FALSE(core::encode_rdata(type, value).ok()) << type << " " << value;
  }
}

TEST(ChangeBatchTest, XmlRequestReadIntoChanges) {
  const auto doc = parse_request(
      "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
      "<ChangeBatch><Comment>c</Comment><Changes>"
      "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>w.local.</Name><Type>A</Type>"
      "<SetIdentifier>s1</SetIdentifier><Weight>7</Weight><TTL>30</TTL><ResourceRecords>"
      "<ResourceRecord><Value>10.0.0.1</Value></ResourceRecord></ResourceRecords>"
      "</ResourceRecordSet></Change>"
      "<Change><Action>DELETE</Action><ResourceRecordSet><Name>m.local.</Name><Type>TXT</Type>"
      "<SetIdentifier>m</SetIdentifier><MultiValueAnswer>true</MultiValueAnswer><TTL>5</TTL>"
      "<ResourceRecords><ResourceRecord><Value>\"x\"</Value></ResourceRecord>"
      "</ResourceRecords></ResourceRecordSet></Change>"
      "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
      "ChangeResourceRecordSetsRequest");
  ASSERT_TRUE(doc.ok());
  const auto batch = parse_change_batch(*doc);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch->comment, "c");
  ASSERT_EQ(batch->changes.size(), 2u);
  EXPECT_EQ(batch->changes[0].action, Action::Upsert);
  auto weighted = rs("w.local.", "A", {"10.0.0.1"}, "s1", 7);
  weighted.ttl = 30;
  EXPECT_EQ(batch->changes[0].set, weighted);
  EXPECT_EQ(batch->changes[1].action, Action::Delete);
  EXPECT_TRUE(batch->changes[1].set.multivalue);
  EXPECT_EQ(batch->changes[1].set.ttl, 5u);

  const struct {
    const char* body;
    const char* error;
  } bad[] = {
      {"<ChangeResourceRecordSetsRequest/>", "Missing field 'ChangeBatch.Changes'"},
      {"<ChangeResourceRecordSetsRequest><ChangeBatch><Changes/></ChangeBatch>"
       "</ChangeResourceRecordSetsRequest>",
       "is empty"},
      {"<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>MOVE</Action>"
       "</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
       "Action 'MOVE'"},
      {"<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action>"
       "<ResourceRecordSet><Name>a.</Name><Type>A</Type><TTL>x</TTL></ResourceRecordSet>"
       "</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
       "TTL must be a number"},
      {"<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action>"
       "<ResourceRecordSet><Name>a.</Name><Type>A</Type><AliasTarget/></ResourceRecordSet>"
       "</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
       "AliasTarget is not supported"},
  };
  for (const auto& c : bad) {
    const auto d = parse_request(c.body, "ChangeResourceRecordSetsRequest");
    ASSERT_TRUE(d.ok()) << c.body;
    const auto got = parse_change_batch(*d);
    ASSERT_FALSE(got.ok()) << c.body;
    EXPECT_EQ(got.error().aws_type, "InvalidInput");
    EXPECT_NE(got.error().message.find(c.error), std::string::npos) << got.error().message;
  }
}

TEST(ChangeBatchTest, UserRecordSetsInRoute53Order) {
  ApexRecords apex;
  apex.zone = "demo.local.";
  apex.soa = "soa";
  apex.ns = {"ns."};
  ServiceRecords web;
  web.dns_name = "web.demo.local";
  web.records.a = true;
  web.instances = {{"i-1", "10.0.0.1", "", 0}};
  const std::vector<UserRecordSet> own = {rs("a.demo.local.", "TXT", {"\"t\""}),
                                          rs("demo.local.", "MX", {"10 mx.demo.local"}),
                                          rs("w-x.demo.local.", "A", {"10.0.0.2"})};
  const auto sorted = zone_record_sets(apex, {web}, own);
  std::vector<std::string> got;
  for (const auto& r : sorted) got.push_back(r.name + " " + r.type);
  EXPECT_EQ(got, (std::vector<std::string>{"demo.local. MX", "demo.local. NS", "demo.local. SOA",
                                           "a.demo.local. TXT", "w-x.demo.local. A",
                                           "web.demo.local. A"}));
  // Paging over the merged list starts mid-way at a user record set.
  const auto page = page_record_sets(sorted, {"a.demo.local.", "TXT", ""}, 2);
  EXPECT_EQ(page.begin, 3u);
  ASSERT_TRUE(page.next);
  EXPECT_EQ(page.next->name, "web.demo.local.");
}

}  // namespace
}  // namespace emu::api::route53
