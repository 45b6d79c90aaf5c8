#pragma once
// Counters for /metrics, shared by the UDP threads, the TCP sessions and the forwarder. The UDP
// threads add once per batch, so the atomics are not touched per query.

#include <array>
#include <atomic>
#include <cstdint>

#include "dns/message.hpp"

namespace emu::dns {

/// Index of an rcode in DnsStats::responses.
inline constexpr std::size_t rcode_index(Rcode r) {
  return r == Rcode::BadVers ? 6 : static_cast<std::size_t>(r) % 6;
}

/// A plain copy of the counters.
struct DnsStats {
  std::uint64_t queries = 0;  ///< packets received (UDP and TCP)
  std::array<std::uint64_t, 7>
      responses{};  ///< by rcode: NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED BADVERS
  std::uint64_t truncated = 0;          ///< responses with TC=1
  std::uint64_t forwarded = 0;          ///< queries relayed to the upstream
  std::uint64_t dropped = 0;            ///< packets not answered (no header, QR=1, oversize)
  std::uint64_t tcp_accept_errors = 0;  ///< accept() failures (EMFILE... pause the listener)
  std::uint64_t tcp_refused = 0;  ///< connections closed at once: their address had max_per_client
  std::uint64_t tcp_evicted = 0;  ///< least recently active connections closed for a new one
  std::uint64_t tcp_spent = 0;    ///< connections closed after max_queries or max_lifetime
};

/// The live counters.
struct DnsCounters {
  std::atomic<std::uint64_t> queries{0};
  std::array<std::atomic<std::uint64_t>, 7> responses{};
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
    if (s.queries) queries.fetch_add(s.queries, r);
    for (std::size_t i = 0; i < s.responses.size(); ++i) {
      if (s.responses[i]) responses[i].fetch_add(s.responses[i], r);
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
    for (std::size_t i = 0; i < s.responses.size(); ++i) s.responses[i] = responses[i].load(r);
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

/// Tallies one processed packet into a local DnsStats.
inline void tally(DnsStats& s, const Response& r) {
  ++s.queries;
  switch (r.action) {
    case Action::Send:
      ++s.responses[rcode_index(r.rcode)];
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
