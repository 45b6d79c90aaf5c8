#pragma once
// Counters for /metrics, shared by the UDP threads, the TCP sessions and the forwarder. The UDP
// threads tally a batch into a local DnsStats and add it once per batch with relaxed atomics, so
// the hot path takes no lock, allocates nothing and touches the shared lines once per batch.

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "dns/message.hpp"

namespace emu::dns {

/// Rcodes we answer with, in DnsStats' order.
inline constexpr std::array<std::string_view, 7> kRcodeNames = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS"};

/// Index of an rcode in kRcodeNames.
inline constexpr std::size_t rcode_index(Rcode r) {
  return r == Rcode::BadVers ? 6 : static_cast<std::size_t>(r) % 6;
}

/// Question types counted by name; "other" is any other type, "none" a packet without a
/// readable question (short, a response, malformed before the question).
inline constexpr std::array<std::string_view, 16> kQtypeNames = {
    "A",   "NS",   "CNAME", "SOA",  "PTR",  "MX",  "TXT",   "AAAA",
    "SRV", "SVCB", "HTTPS", "IXFR", "AXFR", "ANY", "other", "none"};
inline constexpr std::size_t kQtypeOther = 14;
inline constexpr std::size_t kQtypeNone = 15;

/// Index of a question type in kQtypeNames.
inline constexpr std::size_t qtype_index(std::uint16_t qtype) {
  switch (qtype) {
    case 1:
      return 0;
    case 2:
      return 1;
    case 5:
      return 2;
    case 6:
      return 3;
    case 12:
      return 4;
    case 15:
      return 5;
    case 16:
      return 6;
    case 28:
      return 7;
    case 33:
      return 8;
    case 64:
      return 9;
    case 65:
      return 10;
    case 251:
      return 11;
    case 252:
      return 12;
    case 255:
      return 13;
    default:
      return kQtypeOther;
  }
}

/// A plain copy of the counters.
struct DnsStats {
  static constexpr std::size_t kTypes = kQtypeNames.size();
  static constexpr std::size_t kRcodes = kRcodeNames.size();

  std::uint64_t queries = 0;                            ///< packets received (UDP and TCP)
  std::array<std::uint64_t, kTypes> queries_by_type{};  ///< the same, by question type
  /// Responses this server wrote, by question type and rcode.
  std::array<std::array<std::uint64_t, kRcodes>, kTypes> responses{};
  std::uint64_t truncated = 0;          ///< responses with TC=1
  std::uint64_t forwarded = 0;          ///< queries relayed to the upstream
  std::uint64_t dropped = 0;            ///< packets not answered (no header, QR=1, oversize)
  std::uint64_t tcp_accept_errors = 0;  ///< accept() failures (EMFILE... pause the listener)
  std::uint64_t tcp_refused = 0;  ///< connections closed at once: their address had max_per_client
  std::uint64_t tcp_evicted = 0;  ///< least recently active connections closed for a new one
  std::uint64_t tcp_spent = 0;    ///< connections closed after max_queries or max_lifetime

  /// Responses with an rcode, over every question type.
  std::uint64_t responses_with(Rcode rcode) const {
    std::uint64_t n = 0;
    for (const auto& by_rcode : responses) n += by_rcode[rcode_index(rcode)];
    return n;
  }
};

/// The live counters.
struct DnsCounters {
  std::atomic<std::uint64_t> queries{0};
  std::array<std::atomic<std::uint64_t>, DnsStats::kTypes> queries_by_type{};
  std::array<std::array<std::atomic<std::uint64_t>, DnsStats::kRcodes>, DnsStats::kTypes>
      responses{};
  std::atomic<std::uint64_t> truncated{0};
  std::atomic<std::uint64_t> forwarded{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> tcp_accept_errors{0};
  std::atomic<std::uint64_t> tcp_refused{0};
  std::atomic<std::uint64_t> tcp_evicted{0};
  std::atomic<std::uint64_t> tcp_spent{0};

  /// Adds a local tally of queries (the TCP connection counters are added where they happen).
  void add(const DnsStats& s) {
    constexpr auto r = std::memory_order_relaxed;
    if (s.queries == 0) return;
    queries.fetch_add(s.queries, r);
    for (std::size_t t = 0; t < DnsStats::kTypes; ++t) {
      if (s.queries_by_type[t] == 0) continue;  // a batch is mostly one or two types
      queries_by_type[t].fetch_add(s.queries_by_type[t], r);
      for (std::size_t c = 0; c < DnsStats::kRcodes; ++c) {
        if (s.responses[t][c]) responses[t][c].fetch_add(s.responses[t][c], r);
      }
    }
    if (s.truncated) truncated.fetch_add(s.truncated, r);
    if (s.forwarded) forwarded.fetch_add(s.forwarded, r);
    if (s.dropped) dropped.fetch_add(s.dropped, r);
  }
  /// A copy.
  DnsStats snapshot() const {
    constexpr auto r = std::memory_order_relaxed;
    DnsStats s;
    s.queries = queries.load(r);
    for (std::size_t t = 0; t < DnsStats::kTypes; ++t) {
      s.queries_by_type[t] = queries_by_type[t].load(r);
      for (std::size_t c = 0; c < DnsStats::kRcodes; ++c)
        s.responses[t][c] = responses[t][c].load(r);
    }
    s.truncated = truncated.load(r);
    s.forwarded = forwarded.load(r);
    s.dropped = dropped.load(r);
    s.tcp_accept_errors = tcp_accept_errors.load(r);
    s.tcp_refused = tcp_refused.load(r);
    s.tcp_evicted = tcp_evicted.load(r);
    s.tcp_spent = tcp_spent.load(r);
    return s;
  }
};

/// Tallies a packet that was not processed (oversize): no question, dropped.
inline void tally_dropped(DnsStats& s) {
  ++s.queries;
  ++s.queries_by_type[kQtypeNone];
  ++s.dropped;
}

/// Tallies one processed packet into a local DnsStats; `q` is the query process() decoded.
inline void tally(DnsStats& s, const Response& r, const Query& q) {
  ++s.queries;
  const std::size_t type = q.question_ok ? qtype_index(q.qtype) : kQtypeNone;
  ++s.queries_by_type[type];
  switch (r.action) {
    case Action::Send:
      ++s.responses[type][rcode_index(r.rcode)];
      if (r.truncated) ++s.truncated;
      break;
    case Action::Drop:
      ++s.dropped;
      break;
    case Action::Forward:
      ++s.forwarded;
      break;
  }
}

}  // namespace emu::dns
