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
  // even the first 8 of 40 SRV records do not fit in 512 bytes: TC=1, the question only
  const Parsed udp = f.ask("many-srv.local.", RrType::Srv);
  EXPECT_TRUE(udp.tc);
  EXPECT_EQ(udp.rcode, 0);
  EXPECT_TRUE(udp.aa);
  EXPECT_EQ(udp.question.size(), 1u);
  EXPECT_THAT(udp.answer, IsEmpty());
  EXPECT_THAT(udp.authority, IsEmpty());
  EXPECT_EQ(f.last_.size, 12u + 16 + 4);
  EXPECT_TRUE(f.last_.truncated);

  // 8 of them fit in the client's 1232 with EDNS: TC=1 says the other 32 are over TCP
  const Parsed small = f.ask("many-srv.local.", RrType::Srv, {.edns = true, .udp_size = 1232});
  EXPECT_TRUE(small.tc);
  EXPECT_EQ(small.answer.size(), 8u);
  EXPECT_TRUE(small.edns);

  // a large EDNS size does not bring more: the 8-record cap bounds what a small query gets out
  const Parsed big = f.ask("many-srv.local.", RrType::Srv, {.edns = true, .udp_size = 65535});
  EXPECT_TRUE(big.tc);
  EXPECT_EQ(big.answer.size(), 8u);
  EXPECT_EQ(big.additional.size(), 8u);
  EXPECT_LT(f.last_.size, 1232u);
  // and TCP gets all of them with the glue
  const Parsed tcp = f.ask(query("many-srv.local.", 33), Transport::Tcp);
  EXPECT_FALSE(tcp.tc);
  EXPECT_EQ(tcp.answer.size(), 40u);
  EXPECT_EQ(tcp.additional.size(), 40u);
}

TEST(ResponderTest, UdpSrvCapPicksADifferentEightEachTime) {
  Fixture f;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const Parsed p = f.ask("many-srv.local.", RrType::Srv, {.edns = true, .udp_size = 4096});
    ASSERT_EQ(p.answer.size(), 8u);
    ASSERT_EQ(std::set(p.answer.begin(), p.answer.end()).size(), 8u);  // distinct
    seen.insert(p.answer.begin(), p.answer.end());
  }
  EXPECT_EQ(seen.size(), 40u);  // every record shows up over UDP too
}

TEST(ResponderTest, AdditionalIsDroppedBeforeTruncating) {
  // 8 SRV records fit in 512 bytes but their glue does not all fit: no TC, partial additional
  core::ZoneModel m;
  core::ZoneNamespace ns{.name = "local"};
  core::ZoneService s{.name = "s"};
  s.records.srv = true;
  for (std::uint8_t i = 1; i <= 8; ++i) {
    s.endpoints.push_back(test::v4(std::string(20, 'a') + std::to_string(i), 10, 0, 0, i));
  }
  ns.services.push_back(s);
  m.namespaces.push_back(ns);
  Fixture f;
  f.snap_ = core::ZoneSnapshot::build(m);
  const Parsed p = f.ask("s.local.", RrType::Srv);
  EXPECT_FALSE(p.tc);
  EXPECT_EQ(p.answer.size(), 8u);
  EXPECT_GT(p.additional.size(), 0u);
  EXPECT_LT(p.additional.size(), 8u);
  EXPECT_LE(f.last_.size, 512u);
}

// The UDP size contract, over every shape: A/AAAA/SRV with 0, 1, 8, 9 and 40 records, short and
// longest (63-octet) instance ids, without EDNS and with 512/1232/4096. Over UDP the reply never
// exceeds the client's size, carries at most 8 answers, and has TC exactly when it carries fewer
// than the TCP answer does; over TCP every record is there.
struct SizeCase {
  RrType type;
  int records;
  std::size_t id_len;
};

std::ostream& operator<<(std::ostream& os, const SizeCase& c) {
  return os << static_cast<int>(c.type) << "x" << c.records << "/id" << c.id_len;
}

core::ZoneModel sized_model(int records, std::size_t id_len) {
  core::ZoneModel m;
  core::ZoneNamespace ns{.name = "local"};
  core::ZoneService s{.name = "s"};
  s.records = {.a = true, .aaaa = true, .srv = true};
  for (int i = 1; i <= records; ++i) {
    const std::string n = std::to_string(i);
    core::ZoneEndpoint e =
        test::v4(std::string(id_len - n.size(), 'x') + n, 10, 0, 0, static_cast<std::uint8_t>(i));
    e.ipv6 = std::array<std::uint8_t, 16>{
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(i)};
    s.endpoints.push_back(e);
  }
  ns.services.push_back(s);
  m.namespaces.push_back(ns);
  return m;
}

class ResponderSizeTest : public testing::TestWithParam<SizeCase> {};

TEST_P(ResponderSizeTest, UdpNeverExceedsTheClientsSizeAndTcpHasEverything) {
  const SizeCase& c = GetParam();
  Fixture f;
  f.snap_ = core::ZoneSnapshot::build(sized_model(c.records, c.id_len));
  const auto type = static_cast<std::uint16_t>(c.type);

  const Parsed tcp = f.ask(query("s.local.", type), Transport::Tcp);
  ASSERT_TRUE(tcp.ok);
  EXPECT_FALSE(tcp.tc);
  const std::size_t all = c.type == RrType::Srv ? std::size_t(c.records)
                                                : std::min<std::size_t>(c.records, kMaxMultivalue);
  EXPECT_EQ(tcp.answer.size(), all);
  if (c.type == RrType::Srv) {
    EXPECT_EQ(tcp.additional.size(), 2 * all);  // each target's A and AAAA
  }

  for (const std::uint16_t size : {0, 512, 1232, 4096}) {
    SCOPED_TRACE(size);
    const Parsed p = f.ask(query("s.local.", type, {.edns = size != 0, .udp_size = size}));
    ASSERT_TRUE(p.ok);
    EXPECT_LE(f.last_.size, size == 0 ? 512u : size);
    EXPECT_LE(p.answer.size(), kMaxMultivalue);
    EXPECT_EQ(p.tc, p.answer.size() < all);
    EXPECT_EQ(f.last_.truncated, p.tc);
    EXPECT_EQ(p.edns, size != 0);
    EXPECT_EQ(p.rcode, c.records == 0 ? 3 : 0);
    // a truncated answer is either the question alone or the capped 8, never a cut-off set
    if (p.tc) {
      EXPECT_THAT(p.answer.size(), testing::AnyOf(0u, kMaxMultivalue));
    }
    // the glue is only for targets in the answer
    if (c.type == RrType::Srv) {
      EXPECT_LE(p.additional.size(), 2 * p.answer.size());
      std::set<std::string> targets;
      for (const auto& a : p.answer) targets.insert(a.substr(a.rfind(' ') + 1));
      for (const auto& g : p.additional)
        EXPECT_EQ(targets.count(g.substr(0, g.find(' '))), 1u) << g;
    }
  }
}

std::vector<SizeCase> size_cases() {
  std::vector<SizeCase> out;
  for (RrType t : {RrType::A, RrType::Aaaa, RrType::Srv})
    for (int n : {0, 1, 8, 9, 40})
      for (std::size_t id : {2, 63}) out.push_back({t, n, id});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, ResponderSizeTest, testing::ValuesIn(size_cases()));

TEST(ResponderTest, SrvCapOverUdpByShape) {
  // what the table above allows, pinned for the cases a user meets
  struct Row {
    int records;
    std::size_t id_len;
    std::uint16_t size;
    std::size_t answers;
    bool tc;
  };
  for (const Row& r :
       {Row{8, 2, 0, 8, false}, Row{9, 2, 0, 8, true}, Row{40, 2, 0, 8, true},
        Row{40, 2, 1232, 8, true}, Row{40, 63, 0, 0, true}, Row{40, 63, 1232, 8, true},
        Row{40, 63, 4096, 8, true}, Row{8, 63, 1232, 8, false}}) {
    SCOPED_TRACE(testing::Message()
                 << r.records << " records, id " << r.id_len << ", size " << r.size);
    Fixture f;
    f.snap_ = core::ZoneSnapshot::build(sized_model(r.records, r.id_len));
    const Parsed p = f.ask("s.local.", RrType::Srv, {.edns = r.size != 0, .udp_size = r.size});
    EXPECT_EQ(p.answer.size(), r.answers);
    EXPECT_EQ(p.tc, r.tc);
  }
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
