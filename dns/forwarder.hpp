#pragma once
// Forwarder: relays queries for names outside our zones to one upstream over UDP, with a fresh
// id per query mapped back to the client's id, SERVFAIL when the upstream does not answer in time,
// and TC=1 when its answer is larger than the client's UDP size. Everything runs on the
// io_context; forward() may be called from any thread (the UDP threads post here and never wait).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "dns/message.hpp"
#include "dns/rng.hpp"
#include "emulator/core/result.hpp"

namespace emu::dns {

class Forwarder : public std::enable_shared_from_this<Forwarder> {
 public:
  /// Receives the bytes to send back to the client (upstream answer or SERVFAIL), exactly once.
  using Reply = std::function<void(std::span<const std::uint8_t>)>;
  /// Most queries in flight; beyond it a query gets SERVFAIL at once.
  static constexpr std::size_t kMaxPending = 4096;

  /// A forwarder to `upstream`; nothing is opened before start().
  Forwarder(boost::asio::io_context& io, boost::asio::ip::udp::endpoint upstream,
            std::chrono::milliseconds timeout);
  /// Opens the upstream socket and starts receiving.
  Result<void> start();
  /// Closes the socket; pending queries get no reply. Call on the io_context's thread.
  void stop();
  /// Relays `packet` (whose decoded form is `query`); thread-safe, never blocks.
  void forward(std::vector<std::uint8_t> packet, const Query& query, Reply reply);
  /// The upstream address.
  const boost::asio::ip::udp::endpoint& upstream() const { return upstream_; }

 private:
  struct Pending {
    std::uint16_t client_id = 0;
    Query query;
    Reply reply;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void do_forward(std::vector<std::uint8_t> packet, const Query& query, Reply reply);
  void do_receive();
  void on_receive(const boost::system::error_code& ec, std::size_t n);
  void on_timeout(std::uint16_t id, const boost::system::error_code& ec);
  void servfail(const Query& query, const Reply& reply);
  /// No records, TC=1: for an upstream answer larger than the client's UDP size.
  void truncated(const Query& query, const Reply& reply);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::endpoint upstream_;
  std::chrono::milliseconds timeout_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint sender_;
  std::vector<std::uint8_t> buf_;
  std::unordered_map<std::uint16_t, Pending> pending_;
  Rng rng_;
  bool stopped_ = false;
};

}  // namespace emu::dns
