#pragma once
// TcpServer: DNS over TCP on the io_context (RFC 7766): 2-byte length framing, several queries
// per connection (answered in order), and no truncation. Connections are bounded so that a few
// hundred busy ones cannot lock out the clients that fall back to TCP after TC=1: a total cap that
// makes room by closing the least recently active connection, a per-source-address cap, a query
// budget and a lifetime per connection, and an idle timeout. accept() failures (out of file
// descriptors) back off instead of spinning.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "dns/dns_counters.hpp"
#include "dns/forwarder.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/snapshot_holder.hpp"

namespace emu::dns {

class TcpSession;

/// Limits of DNS over TCP. The same knobs as Knot (tcp-max-clients, tcp-idle-timeout), NSD
/// (tcp-count, tcp-timeout, tcp-query-count) and dnsdist (setMaxTCPConnectionsPerClient,
/// setMaxTCPQueriesPerConnection, setMaxTCPConnectionDuration).
struct TcpServerConfig {
  /// Most open connections. When all are taken, a new connection closes the least recently
  /// active one instead of being refused (RFC 7766 6.2.3: a loaded server may close idle
  /// connections; clients reconnect), so a client that falls back to TCP always gets in.
  std::size_t max_connections = 256;
  /// Most open connections from one source address; more are closed at once. RFC 7766 6.2.2:
  /// servers SHOULD limit connections per client, loosely, as one address may be a NAT or several
  /// resolvers.
  std::size_t max_per_client = 16;
  /// Queries answered on one connection before the server closes it; 0 = no limit.
  std::uint32_t max_queries = 1000;
  /// Longest life of one connection: then it is closed when idle, or after the answer in
  /// progress; 0 = no limit. With max_queries, busy connections make way for new ones.
  std::chrono::milliseconds max_lifetime{120000};
  /// Longest wait for the next query, and to read or write one message.
  std::chrono::milliseconds idle_timeout{10000};
  /// Pause before accepting again after accept() failed for lack of resources (EMFILE...).
  std::chrono::milliseconds accept_backoff{100};
};

/// The decision after accept() returns: when to try again and when to log. Errors of the one
/// pending connection (it was reset before we took it) are retried at once, as accept(2) asks;
/// anything else (EMFILE, ENFILE, ENOBUFS, ENOMEM, the unknown) pauses, since the next accept()
/// would fail the same way at once: a busy loop. A run of such failures is one episode, logged
/// when it starts and when a connection is accepted again, not once per retry.
class AcceptBackoff {
 public:
  struct Step {
    bool pause = false;  ///< wait accept_backoff before the next accept()
    bool log = false;    ///< the first failure of an episode
  };
  /// After a failed accept().
  Step failed(const boost::system::error_code& ec);
  /// After an accepted connection: the failures of the episode it ends (0: none, nothing to log).
  std::uint64_t accepted();

 private:
  std::uint64_t episode_ = 0;
};

class TcpServer : public std::enable_shared_from_this<TcpServer> {
 public:
  /// A server answering from `zones`; `forwarder` may be null.
  TcpServer(boost::asio::io_context& io, const core::SnapshotHolder& zones,
            std::shared_ptr<DnsCounters> counters, std::shared_ptr<Forwarder> forwarder,
            TcpServerConfig config);

  /// Opens, binds and listens.
  Result<void> bind(const boost::asio::ip::tcp::endpoint& endpoint);
  /// The bound port.
  std::uint16_t port() const { return port_; }
  /// Starts accepting.
  void start();
  /// Closes the acceptor and every connection. Call on the io_context's thread.
  void stop();
  /// Open connections (on the io_context's thread).
  std::size_t connections() const { return sessions_.size(); }

 private:
  friend class TcpSession;
  struct Slot {
    std::weak_ptr<TcpSession> session;
    boost::asio::ip::address peer;
    std::uint64_t last_active = 0;  ///< a sequence number, so LRU needs no clock
  };

  void do_accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void admit(boost::asio::ip::tcp::socket socket);
  void close_least_recent();
  /// A session had a query: it becomes the most recently active.
  void touch(TcpSession* session);
  /// A session closed: its slot and its share of the per-client count are freed (idempotent).
  void forget(TcpSession* session);

  boost::asio::io_context& io_;
  const core::SnapshotHolder& zones_;
  std::shared_ptr<DnsCounters> counters_;
  std::shared_ptr<Forwarder> forwarder_;
  TcpServerConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  AcceptBackoff backoff_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::uint64_t activity_ = 0;
  std::unordered_map<TcpSession*, Slot> sessions_;
  std::unordered_map<boost::asio::ip::address, std::size_t> per_client_;
};

}  // namespace emu::dns
