#include "dns/dns_counters.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace emu::dns {
namespace {

Query question(std::uint16_t qtype) {
  Query q;
  q.question_ok = true;
  q.qtype = qtype;
  return q;
}

Response sent(Rcode rcode, bool truncated = false) {
  Response r;
  r.action = Action::Send;
  r.rcode = rcode;
  r.truncated = truncated;
  return r;
}

TEST(DnsCountersTest, QtypesHaveSmallIndexesAndUnlistedOnesAreOther) {
  EXPECT_EQ(kQtypeNames[qtype_index(1)], "A");
  EXPECT_EQ(kQtypeNames[qtype_index(28)], "AAAA");
  EXPECT_EQ(kQtypeNames[qtype_index(33)], "SRV");
  EXPECT_EQ(kQtypeNames[qtype_index(65)], "HTTPS");
  EXPECT_EQ(kQtypeNames[qtype_index(255)], "ANY");
  EXPECT_EQ(qtype_index(99), kQtypeOther);
  EXPECT_EQ(kRcodeNames[rcode_index(Rcode::NxDomain)], "NXDOMAIN");
  EXPECT_EQ(kRcodeNames[rcode_index(Rcode::BadVers)], "BADVERS");
}

TEST(DnsCountersTest, TallyCountsByQuestionTypeAndRcode) {
  DnsStats s;
  tally(s, sent(Rcode::NoError), question(1));
  tally(s, sent(Rcode::NxDomain), question(1));
  tally(s, sent(Rcode::NoError, true), question(33));
  Response forward;
  forward.action = Action::Forward;
  tally(s, forward, question(16));
  Query unreadable;  // question_ok false: FORMERR before the question, or a dropped packet
  tally(s, sent(Rcode::FormErr), unreadable);
  tally(s, Response{}, unreadable);
  tally_dropped(s);

  EXPECT_EQ(s.queries, 7u);
  EXPECT_EQ(s.queries_by_type[qtype_index(1)], 2u);
  EXPECT_EQ(s.queries_by_type[qtype_index(33)], 1u);
  EXPECT_EQ(s.queries_by_type[qtype_index(16)], 1u);
  EXPECT_EQ(s.queries_by_type[kQtypeNone], 3u);
  EXPECT_EQ(s.responses[qtype_index(1)][rcode_index(Rcode::NoError)], 1u);
  EXPECT_EQ(s.responses[qtype_index(1)][rcode_index(Rcode::NxDomain)], 1u);
  EXPECT_EQ(s.responses[kQtypeNone][rcode_index(Rcode::FormErr)], 1u);
  EXPECT_EQ(s.responses_with(Rcode::NoError), 2u);
  EXPECT_EQ(s.truncated, 1u);
  EXPECT_EQ(s.forwarded, 1u);
  EXPECT_EQ(s.dropped, 2u);
}

TEST(DnsCountersTest, BatchesFromManyThreadsAddUp) {
  DnsCounters counters;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int batch = 0; batch < 1000; ++batch) {
        DnsStats s;
        for (int i = 0; i < 8; ++i) tally(s, sent(Rcode::NoError), question(i % 2 ? 1 : 28));
        counters.add(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  const DnsStats s = counters.snapshot();
  EXPECT_EQ(s.queries, 32000u);
  EXPECT_EQ(s.queries_by_type[qtype_index(1)], 16000u);
  EXPECT_EQ(s.responses[qtype_index(28)][rcode_index(Rcode::NoError)], 16000u);
  EXPECT_EQ(s.responses_with(Rcode::NoError), 32000u);
}

}  // namespace
}  // namespace emu::dns
