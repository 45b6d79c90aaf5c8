// The answer logic, CoreDNS-style: tables of (name, type) -> rcode, answer, authority, with every
// response parsed back by ldns. Then selection (8-cap, shuffle, fail-open, WEIGHTED) with a
// seeded Rng, truncation, and the error rcodes.

#include "dns/responder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "dns/pipeline.hpp"
#include "emulator/core/snapshot_holder.hpp"
#include "tests/dns/dns_test_util.hpp"

namespace emu::dns {
namespace {

using test::parse;
using test::Parsed;
using test::query;
using test::QueryOpts;
using test::sorted;
using testing::ElementsAre;
using testing::IsEmpty;
using testing::UnorderedElementsAre;

constexpr const char* kLocalSoaNeg =
    "local. 5 IN SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 5";
constexpr const char* kDemoSoaNeg =
    "demo.local. 60 IN SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 "
    "1209600 60";

class Fixture {
 public:
  Fixture() : snap_(core::ZoneSnapshot::build(test::test_model())), out_(kMaxMessage) {}

  Parsed ask(const std::vector<std::uint8_t>& packet, Transport t = Transport::Udp,
             bool forwarding = false) {
    last_ = process(packet, t, snap_.get(), rng_, query_, out_, forwarding);
    if (last_.action != Action::Send) return {};
    Parsed p = parse({out_.data(), last_.size});
    EXPECT_TRUE(p.ok) << "ldns could not parse our response";
    return p;
  }
  Parsed ask(const std::string& name, RrType type, QueryOpts o = {}) {
    return ask(query(name, static_cast<std::uint16_t>(type), o));
  }

  std::shared_ptr<const core::ZoneSnapshot> snap_;
  Rng rng_{7};
  Query query_;
  std::vector<std::uint8_t> out_;
  Response last_;
};

struct DnsCase {
  const char* name;
  RrType type;
  Rcode rcode;
  std::vector<std::string> answer;
  std::vector<std::string> authority;
  std::vector<std::string> additional = {};
};

std::ostream& operator<<(std::ostream& os, const DnsCase& c) {
  return os << c.name << "/" << static_cast<int>(c.type);
}

const DnsCase kCases[] = {
    {"game-server.local.",
     RrType::A,
     Rcode::NoError,
     {"game-server.local. 10 IN A 10.0.0.1", "game-server.local. 10 IN A 10.0.0.2",
      "game-server.local. 10 IN A 10.0.0.3"},
     {}},
    // NODATA: the name exists without the type; SOA in authority with the negative TTL
    {"game-server.local.", RrType::Aaaa, Rcode::NoError, {}, {kLocalSoaNeg}},
    {"game-server.local.", static_cast<RrType>(16), Rcode::NoError, {}, {kLocalSoaNeg}},
    {"game-server.local.",
     RrType::Srv,
     Rcode::NoError,
     {"game-server.local. 10 IN SRV 1 1 50051 t1.game-server.local.",
      "game-server.local. 10 IN SRV 1 1 50051 t2.game-server.local.",
      "game-server.local. 10 IN SRV 1 1 50051 t3.game-server.local."},
     {},
     {"t1.game-server.local. 10 IN A 10.0.0.1", "t2.game-server.local. 10 IN A 10.0.0.2",
      "t3.game-server.local. 10 IN A 10.0.0.3"}},
    // the SRV targets answer their own addresses
    {"t2.game-server.local.",
     RrType::A,
     Rcode::NoError,
     {"t2.game-server.local. 10 IN A 10.0.0.2"},
     {}},
    {"t2.game-server.local.", RrType::Aaaa, Rcode::NoError, {}, {kLocalSoaNeg}},
    {"x.t2.game-server.local.", RrType::A, Rcode::NxDomain, {}, {kLocalSoaNeg}},
    {"nope.local.", RrType::A, Rcode::NxDomain, {}, {kLocalSoaNeg}},
    // Route 53: a service with no registered instance has no records at all
    {"empty.local.", RrType::A, Rcode::NxDomain, {}, {kLocalSoaNeg}},
    {"v6svc.local.", RrType::Aaaa, Rcode::NoError, {"v6svc.local. 30 IN AAAA 2001:db8::1"}, {}},
    {"v6svc.local.", RrType::A, Rcode::NoError, {}, {kLocalSoaNeg}},
    // fail-open: none healthy, so the unhealthy ones
    {"sick.local.",
     RrType::A,
     Rcode::NoError,
     {"sick.local. 10 IN A 10.0.2.1", "sick.local. 10 IN A 10.0.2.2"},
     {}},
    // some healthy: only those
    {"mixed.local.", RrType::A, Rcode::NoError, {"mixed.local. 10 IN A 10.0.3.1"}, {}},
    {"local.",
     RrType::Soa,
     Rcode::NoError,
     {"local. 900 IN SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 "
      "5"},
     {}},
    {"local.",
     RrType::Ns,
     Rcode::NoError,
     {"local. 172800 IN NS ns-0.awsdns-00.com.", "local. 172800 IN NS ns-1024.awsdns-00.org.",
      "local. 172800 IN NS ns-1536.awsdns-00.co.uk.", "local. 172800 IN NS ns-512.awsdns-00.net."},
     {}},
    {"local.", RrType::A, Rcode::NoError, {}, {kLocalSoaNeg}},
    {"local.",
     RrType::Any,
     Rcode::NoError,
     {"local. 172800 IN NS ns-0.awsdns-00.com.", "local. 172800 IN NS ns-1024.awsdns-00.org.",
      "local. 172800 IN NS ns-1536.awsdns-00.co.uk.", "local. 172800 IN NS ns-512.awsdns-00.net.",
      "local. 900 IN SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 "
      "5"},
     {}},
    {"game-server.local.",
     RrType::Any,
     Rcode::NoError,
     {"game-server.local. 10 IN A 10.0.0.1", "game-server.local. 10 IN A 10.0.0.2",
      "game-server.local. 10 IN A 10.0.0.3",
      "game-server.local. 10 IN SRV 1 1 50051 t1.game-server.local.",
      "game-server.local. 10 IN SRV 1 1 50051 t2.game-server.local.",
      "game-server.local. 10 IN SRV 1 1 50051 t3.game-server.local."},
     {}},
    // a zone with two labels, and the longest matching zone wins
    {"web.demo.local.", RrType::A, Rcode::NoError, {"web.demo.local. 60 IN A 10.0.1.1"}, {}},
    {"nope.demo.local.", RrType::A, Rcode::NxDomain, {}, {kDemoSoaNeg}},
    {"demo.local.",
     RrType::Soa,
     Rcode::NoError,
     {"demo.local. 900 IN SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 "
      "1209600 60"},
     {}},
    // not our zone
    {"example.com.", RrType::A, Rcode::Refused, {}, {}},
    {"localhost.", RrType::A, Rcode::Refused, {}, {}},
    {".", RrType::Ns, Rcode::Refused, {}, {}},
};

class ResponderTableTest : public testing::TestWithParam<DnsCase> {};

TEST_P(ResponderTableTest, Answers) {
  const DnsCase& c = GetParam();
  Fixture f;
  for (bool edns : {false, true}) {
    const Parsed p = f.ask(c.name, c.type, {.edns = edns});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.rcode, static_cast<int>(c.rcode));
    EXPECT_EQ(p.id, 0x1234);
    EXPECT_TRUE(p.qr);
    EXPECT_TRUE(p.rd);
    EXPECT_FALSE(p.ra);
    EXPECT_FALSE(p.tc);
    EXPECT_EQ(p.aa, c.rcode != Rcode::Refused);  // AA on every answer we own
    EXPECT_EQ(p.question.size(), 1u);
    EXPECT_EQ(sorted(p.answer), sorted(c.answer));
    EXPECT_EQ(p.authority, c.authority);
    EXPECT_EQ(sorted(p.additional), sorted(c.additional));
    EXPECT_EQ(p.edns, edns);
    if (edns) {
      EXPECT_EQ(p.udp_size, kOurUdpSize);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Zones, ResponderTableTest, testing::ValuesIn(kCases));

TEST(ResponderTest, EchoesTheQuestionAsAskedAndMatchesCaseInsensitively) {
  Fixture f;
  const Parsed p = f.ask("GaMe-SeRvEr.LoCaL.", RrType::A);
  EXPECT_EQ(p.rcode, 0);
  ASSERT_EQ(p.question.size(), 1u);
  EXPECT_EQ(p.question[0], "GaMe-SeRvEr.LoCaL. IN A");
  // answer owners are compressed against the question, so they carry its case
  EXPECT_THAT(p.answer, testing::Each(testing::StartsWith("GaMe-SeRvEr.LoCaL. 10 IN A 10.0.0.")));
  const Parsed n = f.ask("NoPe.DeMo.LoCaL.", RrType::A);
  EXPECT_EQ(n.rcode, 3);
  EXPECT_THAT(n.authority, ElementsAre(testing::StartsWith("DeMo.LoCaL. 60 IN SOA")));
}

TEST(ResponderTest, CompressesOwnerNamesAgainstTheQuestion) {
  Fixture f;
  f.ask("game-server.local.", RrType::A);
  // 12 header + 19 name + 4 + 3 * (2 pointer + 10 + 4)
  EXPECT_EQ(f.last_.size, 12u + 19 + 4 + 3 * 16);
}

TEST(ResponderTest, MultivalueCapsAtEightAndEveryHealthyValueAppears) {
  Fixture f;
  std::map<std::string, int> seen;
  std::set<std::vector<std::string>> orders;
  for (int i = 0; i < 2000; ++i) {
    const Parsed p = f.ask("big.local.", RrType::A);
    ASSERT_EQ(p.answer.size(), 8u);                                    // 20 values: a random 8
    ASSERT_EQ(std::set(p.answer.begin(), p.answer.end()).size(), 8u);  // distinct
    for (const auto& a : p.answer) ++seen[a];
    orders.insert(p.answer);
  }
  EXPECT_EQ(seen.size(), 20u);  // every value shows up
  for (const auto& [value, count] : seen) {
    EXPECT_GT(count, 2000 * 8 / 20 / 2) << value;  // roughly uniform (expected 800)
    EXPECT_LT(count, 2000 * 8 / 20 * 3 / 2) << value;
  }
  EXPECT_GT(orders.size(), 1000u);
}

TEST(ResponderTest, OrderIsShuffledPerResponse) {
  Fixture f;
  std::map<std::string, int> first;
  for (int i = 0; i < 600; ++i) ++first[f.ask("game-server.local.", RrType::A).answer.at(0)];
  EXPECT_EQ(first.size(), 3u);  // each value comes first sometimes
  for (const auto& [value, count] : first) EXPECT_GT(count, 100) << value;
}

TEST(ResponderTest, SameSeedSameAnswers) {
  Fixture a, b;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a.ask("big.local.", RrType::A).answer, b.ask("big.local.", RrType::A).answer);
  }
}

TEST(ResponderTest, WeightedAnswersOneRandomHealthyValue) {
  Fixture f;
  std::set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    const Parsed p = f.ask("weighted.local.", RrType::A);
    ASSERT_EQ(p.answer.size(), 1u);
    seen.insert(p.answer[0]);
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST(ResponderTest, WeightedFailsOpen) {
  core::ZoneModel m;
  core::ZoneNamespace ns{.name = "local"};
  core::ZoneService s{.name = "w", .routing = core::Routing::Weighted};
  s.endpoints = {test::v4("a", 10, 0, 0, 1, 80, false), test::v4("b", 10, 0, 0, 2, 80, false)};
  ns.services.push_back(s);
  m.namespaces.push_back(ns);
  Fixture f;
  f.snap_ = core::ZoneSnapshot::build(m);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const Parsed p = f.ask("w.local.", RrType::A);
    ASSERT_EQ(p.answer.size(), 1u);
    seen.insert(p.answer[0]);
  }
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ResponderTest, FailOpenCapsAtEightToo) {
  core::ZoneModel m;
  core::ZoneNamespace ns{.name = "local"};
  core::ZoneService s{.name = "down"};
  for (std::uint8_t i = 1; i <= 12; ++i)
    s.endpoints.push_back(test::v4("d" + std::to_string(i), 10, 9, 9, i, 80, false));
  ns.services.push_back(s);
  m.namespaces.push_back(ns);
  Fixture f;
  f.snap_ = core::ZoneSnapshot::build(m);
  EXPECT_EQ(f.ask("down.local.", RrType::A).answer.size(), 8u);
}

TEST(ResponderTest, UdpAnswerThatDoesNotFitIsTruncatedNotShortened) {
  Fixture f;
  // 40 SRV records do not fit in 512 bytes: TC=1, the question only
  const Parsed udp = f.ask("many-srv.local.", RrType::Srv);
  EXPECT_TRUE(udp.tc);
  EXPECT_EQ(udp.rcode, 0);
  EXPECT_TRUE(udp.aa);
  EXPECT_EQ(udp.question.size(), 1u);
  EXPECT_THAT(udp.answer, IsEmpty());
  EXPECT_THAT(udp.authority, IsEmpty());
  EXPECT_EQ(f.last_.size, 12u + 16 + 4);
  EXPECT_TRUE(f.last_.truncated);

  // nor in the client's 1232 with EDNS
  const Parsed small = f.ask("many-srv.local.", RrType::Srv, {.edns = true, .udp_size = 1232});
  EXPECT_TRUE(small.tc);
  EXPECT_THAT(small.answer, IsEmpty());
  EXPECT_TRUE(small.edns);

  // a large EDNS size gets all 40, and TCP gets all of them with the glue
  const Parsed big = f.ask("many-srv.local.", RrType::Srv, {.edns = true, .udp_size = 8192});
  EXPECT_FALSE(big.tc);
  EXPECT_EQ(big.answer.size(), 40u);
  const Parsed tcp = f.ask(query("many-srv.local.", 33), Transport::Tcp);
  EXPECT_FALSE(tcp.tc);
  EXPECT_EQ(tcp.answer.size(), 40u);
  EXPECT_EQ(tcp.additional.size(), 40u);
}

TEST(ResponderTest, AdditionalIsDroppedBeforeTruncating) {
  // 12 SRV records fit in 1232 bytes but their glue does not all fit: no TC, partial additional
  core::ZoneModel m;
  core::ZoneNamespace ns{.name = "local"};
  core::ZoneService s{.name = "s"};
  s.records.srv = true;
  for (std::uint8_t i = 1; i <= 12; ++i) {
    s.endpoints.push_back(test::v4(std::string(60, 'a') + std::to_string(i), 10, 0, 0, i));
  }
  ns.services.push_back(s);
  m.namespaces.push_back(ns);
  Fixture f;
  f.snap_ = core::ZoneSnapshot::build(m);
  const Parsed p = f.ask("s.local.", RrType::Srv, {.edns = true, .udp_size = 1232});
  EXPECT_FALSE(p.tc);
  EXPECT_EQ(p.answer.size(), 12u);
  EXPECT_GT(p.additional.size(), 0u);
  EXPECT_LT(p.additional.size(), 12u);
  EXPECT_LE(f.last_.size, 1232u);
}

TEST(ResponderTest, ClassOtherThanInIsRefused) {
  Fixture f;
  const Parsed ch = f.ask("version.bind.", static_cast<RrType>(16), {.qclass = 3});
  EXPECT_EQ(ch.rcode, 5);
  EXPECT_FALSE(ch.aa);
  const Parsed in_zone = f.ask("game-server.local.", RrType::A, {.qclass = 3});
  EXPECT_EQ(in_zone.rcode, 5);
}

TEST(ResponderTest, ZoneTransfersAreRefused) {
  Fixture f;
  EXPECT_EQ(f.ask("local.", RrType::Axfr).rcode, 5);
}

TEST(ResponderTest, OutsideOurZonesIsForwardedWhenAnUpstreamIsSet) {
  Fixture f;
  f.ask(query("example.com.", 1), Transport::Udp, /*forwarding=*/true);
  EXPECT_EQ(f.last_.action, Action::Forward);
  EXPECT_EQ(f.last_.size, 0u);
  // but our own names never are
  f.ask(query("nope.local.", 1), Transport::Udp, true);
  EXPECT_EQ(f.last_.action, Action::Send);
}

TEST(ResponderTest, NoZonesAtAllRefuses) {
  Rng rng;
  Query q;
  std::vector<std::uint8_t> out(512);
  const Response r = process(query("game-server.local.", 1), Transport::Udp, nullptr, rng, q, out);
  EXPECT_EQ(r.rcode, Rcode::Refused);
}

TEST(ResponderTest, EchoesTheDnssecOkBit) {
  Fixture f;
  EXPECT_TRUE(f.ask("game-server.local.", RrType::A, {.edns = true, .dnssec_ok = true}).dnssec_ok);
  EXPECT_FALSE(f.ask("game-server.local.", RrType::A, {.edns = true}).dnssec_ok);
}

TEST(ResponderTest, SnapshotChangesAreVisibleToTheNextQuery) {
  core::SnapshotHolder holder;
  core::SnapshotHolder::Reader reader(holder);
  Rng rng;
  Query q;
  std::vector<std::uint8_t> out(512);
  auto ask = [&] {
    const Response r =
        process(query("game-server.local.", 1), Transport::Udp, reader.get(), rng, q, out);
    return parse({out.data(), r.size});
  };
  EXPECT_EQ(ask().rcode, 5);  // nothing published yet
  auto model = test::test_model();
  holder.publish(core::ZoneSnapshot::build(model));
  EXPECT_EQ(ask().answer.size(), 3u);
  model.namespaces[0].services[0].endpoints.pop_back();
  holder.publish(core::ZoneSnapshot::build(model));
  EXPECT_EQ(ask().answer.size(), 2u);
}

}  // namespace
}  // namespace emu::dns
