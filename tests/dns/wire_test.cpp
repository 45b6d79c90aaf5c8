// Decoding untrusted bytes: what is dropped, what gets FORMERR / NOTIMP / BADVERS, and that the
// ldns slow path agrees with the fast path.

#include "dns/wire.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/pipeline.hpp"
#include "tests/dns/dns_test_util.hpp"

namespace emu::dns {
namespace {

using test::parse;
using test::Parsed;
using test::query;

struct Outcome {
  Response r;
  Parsed p;
};

Outcome run(const std::vector<std::uint8_t>& packet, Transport t = Transport::Udp) {
  static const auto snap = core::ZoneSnapshot::build(test::test_model());
  Rng rng(1);
  Query q;
  std::vector<std::uint8_t> out(kMaxMessage);
  Outcome res;
  res.r = process(packet, t, snap.get(), rng, q, out);
  if (res.r.action == Action::Send) {
    res.p = parse({out.data(), res.r.size});
    EXPECT_TRUE(res.p.ok);
  }
  return res;
}

std::vector<std::uint8_t> header(std::uint16_t qd, std::uint16_t an = 0, std::uint16_t ns = 0,
                                 std::uint16_t ar = 0) {
  return {0xab,
          0xcd,
          0x01,
          0x00,
          static_cast<std::uint8_t>(qd >> 8),
          static_cast<std::uint8_t>(qd),
          static_cast<std::uint8_t>(an >> 8),
          static_cast<std::uint8_t>(an),
          static_cast<std::uint8_t>(ns >> 8),
          static_cast<std::uint8_t>(ns),
          static_cast<std::uint8_t>(ar >> 8),
          static_cast<std::uint8_t>(ar)};
}

void expect_formerr(const std::vector<std::uint8_t>& packet) {
  const Outcome res = run(packet);
  ASSERT_EQ(res.r.action, Action::Send);
  EXPECT_EQ(res.p.rcode, 1);
  EXPECT_EQ(res.p.id, 0xabcd);
  EXPECT_TRUE(res.p.rd);
  EXPECT_TRUE(res.p.qr);
  EXPECT_FALSE(res.p.aa);
}

TEST(WireTest, ShorterThanAHeaderIsDropped) {
  for (std::size_t n = 0; n < 12; ++n) {
    EXPECT_EQ(run(std::vector<std::uint8_t>(n, 0)).r.action, Action::Drop) << n;
  }
}

TEST(WireTest, ResponsesAreDropped) {
  auto q = query("game-server.local.", 1);
  q[2] |= 0x80;
  EXPECT_EQ(run(q).r.action, Action::Drop);
}

TEST(WireTest, QdcountOtherThanOneIsFormerr) {
  expect_formerr(header(0));
  auto two = query("game-server.local.", 1, {.id = 0xabcd});
  two[5] = 2;
  expect_formerr(two);
}

TEST(WireTest, TruncatedQuestionIsFormerr) {
  const auto q = query("game-server.local.", 1, {.id = 0xabcd});
  for (std::size_t n = 12; n < q.size(); ++n) {
    expect_formerr(std::vector<std::uint8_t>(q.begin(), q.begin() + static_cast<long>(n)));
  }
}

TEST(WireTest, CompressionPointerInTheQuestionIsFormerr) {
  auto q = header(1);
  q.insert(q.end(), {0xc0, 0x0c, 0, 1, 0, 1});  // points at itself
  expect_formerr(q);
  auto loop = header(1);
  loop.insert(loop.end(), {3, 'f', 'o', 'o', 0xc0, 0x0c, 0, 1, 0, 1});
  expect_formerr(loop);
}

TEST(WireTest, ExtendedLabelTypesAreFormerr) {
  auto q = header(1);
  q.insert(q.end(), {0x41, 'a', 0, 0, 1, 0, 1});  // 0x40: extended label type
  expect_formerr(q);
}

TEST(WireTest, NameLongerThan255IsFormerr) {
  auto q = header(1);
  for (int i = 0; i < 5; ++i) {  // 5 * 64 = 320 octets
    q.push_back(63);
    q.insert(q.end(), 63, 'a');
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  expect_formerr(q);
  // but 255 exactly is fine (NXDOMAIN-free: it is outside our zones)
  auto ok = header(1);
  for (int i = 0; i < 3; ++i) {
    ok.push_back(63);
    ok.insert(ok.end(), 63, 'a');
  }
  ok.push_back(61);
  ok.insert(ok.end(), 61, 'a');
  ok.insert(ok.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(run(ok).p.rcode, 5);
}

TEST(WireTest, OtherOpcodesAreNotimp) {
  for (std::uint8_t op : {1, 2, 4, 5, 15}) {
    const Outcome res = run(query("game-server.local.", 1, {.id = 7, .opcode = op}));
    ASSERT_EQ(res.r.action, Action::Send);
    EXPECT_EQ(res.p.rcode, 4) << int(op);
    EXPECT_EQ(res.p.opcode, op);
    EXPECT_EQ(res.p.id, 7);
  }
}

TEST(WireTest, EdnsVersionOtherThanZeroIsBadvers) {
  const Outcome res = run(query("game-server.local.", 1, {.edns = true, .version = 1}));
  EXPECT_EQ(res.p.rcode, 16);
  EXPECT_TRUE(res.p.edns);
  EXPECT_THAT(res.p.answer, testing::IsEmpty());
}

TEST(WireTest, EdnsSizeBelow512CountsAs512) {
  Query q;
  ASSERT_EQ(decode(query("a.local.", 1, {.edns = true, .udp_size = 100}), q), DecodeStatus::Ok);
  EXPECT_EQ(q.udp_size, 512);
  ASSERT_EQ(decode(query("a.local.", 1, {.edns = true, .udp_size = 4096}), q), DecodeStatus::Ok);
  EXPECT_EQ(q.udp_size, 4096);
  EXPECT_TRUE(q.edns);
}

TEST(WireTest, MalformedOptIsFormerr) {
  auto q = query("game-server.local.", 1, {.id = 0xabcd, .edns = true});
  q[q.size() - 1] = 8;  // rdlength 8, no rdata
  expect_formerr(q);
  auto opt = query("game-server.local.", 1, {.id = 0xabcd, .edns = true});
  opt[opt.size() - 1] = 3;  // an option header cut short
  opt.insert(opt.end(), {0, 10, 0});
  expect_formerr(opt);
}

// Records for the OPT placement table (RFC 6891 6.1.1).
using Bytes = std::vector<std::uint8_t>;
const Bytes kRootOpt = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};  // udp 1232, no options
const Bytes kNamedOpt = {1, 'a', 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
const Bytes kQnameOpt = {0xc0, 0x0c, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};  // owner: the qname
const Bytes kA = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 9};
const Bytes kTsigRr = {0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};  // TSIG, class ANY, empty rdata

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& b : parts) out.insert(out.end(), b.begin(), b.end());
  return out;
}

struct OptCase {
  const char* what;
  std::uint16_t an, ns, ar;
  Bytes records;  ///< after the question, in section order
  DecodeStatus want;
};

std::ostream& operator<<(std::ostream& os, const OptCase& c) { return os << c.what; }

const OptCase kOptCases[] = {
    {"one root OPT", 0, 0, 1, kRootOpt, DecodeStatus::Ok},
    {"root OPT after another additional record", 0, 0, 2, cat({kA, kRootOpt}), DecodeStatus::Ok},
    {"root OPT before another additional record", 0, 0, 2, cat({kRootOpt, kA}), DecodeStatus::Ok},
    {"two root OPTs", 0, 0, 2, cat({kRootOpt, kRootOpt}), DecodeStatus::FormErr},
    {"three root OPTs", 0, 0, 3, cat({kRootOpt, kRootOpt, kRootOpt}), DecodeStatus::FormErr},
    {"two OPTs with a record between", 0, 0, 3, cat({kRootOpt, kA, kRootOpt}),
     DecodeStatus::FormErr},
    {"OPT owned by a.", 0, 0, 1, kNamedOpt, DecodeStatus::FormErr},
    {"OPT owned by the question name", 0, 0, 1, kQnameOpt, DecodeStatus::FormErr},
    {"root OPT then OPT owned by a.", 0, 0, 2, cat({kRootOpt, kNamedOpt}), DecodeStatus::FormErr},
    {"OPT in the answer section", 1, 0, 0, kRootOpt, DecodeStatus::FormErr},
    {"OPT in the authority section", 0, 1, 0, kRootOpt, DecodeStatus::FormErr},
    {"OPT in authority and additional", 0, 1, 1, cat({kRootOpt, kRootOpt}), DecodeStatus::FormErr},
    // RFC 8945 5.1.1: one TSIG, the last record (two made ldns leak: found by the fuzzer).
    {"root OPT then a TSIG last", 0, 0, 2, cat({kRootOpt, kTsigRr}), DecodeStatus::Ok},
    {"two TSIGs", 0, 0, 3, cat({kRootOpt, kTsigRr, kTsigRr}), DecodeStatus::FormErr},
    {"TSIG before the OPT", 0, 0, 2, cat({kTsigRr, kRootOpt}), DecodeStatus::FormErr},
    {"TSIG in the answer section", 1, 0, 1, cat({kTsigRr, kRootOpt}), DecodeStatus::FormErr},
};

class OptPlacementTest : public testing::TestWithParam<OptCase> {};

TEST_P(OptPlacementTest, BothPathsAgreeAndTheClientGetsTheRcode) {
  const OptCase& c = GetParam();
  Bytes packet = query("game-server.local.", 1, {.id = 0xabcd});
  packet[6] = static_cast<std::uint8_t>(c.an >> 8);
  packet[7] = static_cast<std::uint8_t>(c.an);
  packet[8] = static_cast<std::uint8_t>(c.ns >> 8);
  packet[9] = static_cast<std::uint8_t>(c.ns);
  packet[10] = static_cast<std::uint8_t>(c.ar >> 8);
  packet[11] = static_cast<std::uint8_t>(c.ar);
  packet.insert(packet.end(), c.records.begin(), c.records.end());
  Query fast, slow;
  EXPECT_EQ(decode(packet, fast), c.want);
  EXPECT_EQ(decode_with_ldns(packet, slow), c.want);
  if (c.want == DecodeStatus::Ok) {
    EXPECT_TRUE(fast.edns);
    EXPECT_TRUE(slow.edns);
    EXPECT_EQ(fast.udp_size, 1232);
    EXPECT_EQ(slow.udp_size, 1232);
    const Outcome res = run(packet);
    EXPECT_EQ(res.p.rcode, 0);
    EXPECT_EQ(res.p.answer.size(), 3u);
    EXPECT_TRUE(res.p.edns);
  } else {
    expect_formerr(packet);
  }
}

INSTANTIATE_TEST_SUITE_P(Rfc6891, OptPlacementTest, testing::ValuesIn(kOptCases));

TEST(WireTest, RecordsInOtherSectionsGoThroughLdns) {
  // a query with an answer record (as some clients send with NOTIFY-like shapes): ldns decides
  auto q = query("game-server.local.", 1, {.id = 0xabcd});
  q[7] = 1;  // ANCOUNT 1
  q.insert(q.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 9});
  const Outcome ok = run(q);
  EXPECT_EQ(ok.p.rcode, 0);
  EXPECT_EQ(ok.p.answer.size(), 3u);
  // and a record that is cut short is malformed
  q.pop_back();
  expect_formerr(q);
  // huge counts with nothing behind them
  auto huge = query("game-server.local.", 1, {.id = 0xabcd});
  huge[6] = huge[7] = huge[8] = huge[9] = huge[10] = huge[11] = 0xff;
  expect_formerr(huge);
}

TEST(WireTest, LdnsSlowPathAgreesWithTheFastPath) {
  for (const auto& packet :
       {query("Game-Server.local.", 1), query("x.local.", 28, {.edns = true, .udp_size = 4000}),
        query("local.", 6, {.edns = true, .dnssec_ok = true})}) {
    Query fast, slow;
    ASSERT_EQ(decode(packet, fast), DecodeStatus::Ok);
    ASSERT_EQ(decode_with_ldns(packet, slow), DecodeStatus::Ok);
    EXPECT_EQ(fast.name().size(), slow.name().size());
    EXPECT_TRUE(std::equal(fast.name().begin(), fast.name().end(), slow.name().begin()));
    EXPECT_EQ(fast.original, slow.original);
    EXPECT_EQ(fast.qtype, slow.qtype);
    EXPECT_EQ(fast.edns, slow.edns);
    EXPECT_EQ(fast.udp_size, slow.udp_size);
    EXPECT_EQ(fast.dnssec_ok, slow.dnssec_ok);
  }
}

TEST(WireTest, RandomBytesNeverCrash) {
  Rng rng(99);
  const auto good = query("game-server.local.", 1, {.edns = true});
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> p;
    if (i % 2 == 0) {
      p.resize(rng.below(80));
      for (auto& b : p) b = static_cast<std::uint8_t>(rng.next());
    } else {  // mutate a good query
      p = good;
      for (int k = 0; k < 3; ++k)
        p[rng.below(static_cast<std::uint32_t>(p.size()))] = static_cast<std::uint8_t>(rng.next());
    }
    const Outcome res = run(p, i % 3 == 0 ? Transport::Tcp : Transport::Udp);
    if (res.r.action == Action::Send) {
      EXPECT_TRUE(res.p.ok);
      EXPECT_LE(res.r.size, i % 3 == 0 ? kMaxMessage : std::size_t{65535});
    }
  }
}

}  // namespace
}  // namespace emu::dns
