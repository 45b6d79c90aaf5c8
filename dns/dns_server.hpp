#pragma once
// DnsServer: the facade the runtime owns. Binds UDP (dedicated recvmmsg threads) and TCP (Asio,
// on the caller's io_context) on one address and port, and optionally forwards names outside our
// zones to an upstream.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dns/dns_counters.hpp"
#include "dns/tcp_server.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/snapshot_holder.hpp"

namespace emu::dns {

class UdpServer;
class Forwarder;

/// What the DNS side listens on and forwards to.
struct DnsServerConfig {
  std::string listen = "127.0.0.1:9053";  ///< ADDR:PORT or [V6]:PORT; port 0 = pick a free one
  std::optional<std::string> upstream;    ///< ADDR[:PORT], default port 53
  std::chrono::milliseconds upstream_timeout{2000};
  unsigned udp_threads = 1;  ///< recvmmsg threads on the UDP socket
  TcpServerConfig tcp;       ///< connection limits and timeouts of DNS over TCP
};

/// An address and port parsed from "1.2.3.4:53", "[::1]:53", or without the port.
struct HostPort {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
};

/// Parses ADDR[:PORT] / [V6][:PORT]; the port defaults to `default_port`.
Result<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port);

class DnsServer {
 public:
  /// A server for `zones`; nothing is bound before start().
  DnsServer(boost::asio::io_context& io, const core::SnapshotHolder& zones, DnsServerConfig cfg);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  /// Binds UDP and TCP on the same port (port 0: one free port for both) and starts serving.
  Result<void> start();
  /// Closes the sockets and joins the UDP threads; idempotent. Call it on the io_context's
  /// thread, or from another thread while the io_context runs or after it stopped.
  void stop();
  /// The bound port (after start()).
  std::uint16_t port() const { return port_; }
  /// Queries received (UDP and TCP).
  std::uint64_t queries() const;
  /// Every counter: queries, responses by rcode, truncated, forwarded, dropped, and the TCP
  /// listener's accept errors and closed connections.
  DnsStats stats() const;

 private:
  boost::asio::io_context& io_;
  const core::SnapshotHolder& zones_;
  DnsServerConfig cfg_;
  std::shared_ptr<DnsCounters> counters_;
  std::shared_ptr<Forwarder> forwarder_;
  std::shared_ptr<UdpServer> udp_;
  std::shared_ptr<TcpServer> tcp_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace emu::dns
