#pragma once
// TcpServer: DNS over TCP on the io_context (RFC 7766): 2-byte length framing, several queries
// per connection (answered in order), an idle timeout, a connection cap, and no truncation.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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

class TcpServer : public std::enable_shared_from_this<TcpServer> {
 public:
  /// Most concurrent connections; more are closed at once.
  static constexpr std::size_t kMaxConnections = 256;

  /// A server answering from `zones`; `forwarder` may be null.
  TcpServer(boost::asio::io_context& io, const core::SnapshotHolder& zones,
            std::shared_ptr<DnsCounters> counters, std::shared_ptr<Forwarder> forwarder,
            std::chrono::milliseconds idle_timeout);

  /// Opens, binds and listens.
  Result<void> bind(const boost::asio::ip::tcp::endpoint& endpoint);
  /// The bound port.
  std::uint16_t port() const { return port_; }
  /// Starts accepting.
  void start();
  /// Closes the acceptor and every connection. Call on the io_context's thread.
  void stop();

 private:
  friend class TcpSession;
  void do_accept();

  boost::asio::io_context& io_;
  const core::SnapshotHolder& zones_;
  std::shared_ptr<DnsCounters> counters_;
  std::shared_ptr<Forwarder> forwarder_;
  std::chrono::milliseconds idle_timeout_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::unordered_map<TcpSession*, std::weak_ptr<TcpSession>> sessions_;
};

}  // namespace emu::dns
