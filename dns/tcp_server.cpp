#include "dns/tcp_server.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <random>
#include <vector>

#include "dns/pipeline.hpp"
#include "emulator/log/log.hpp"

namespace emu::dns {

namespace asio = boost::asio;
using asio::ip::tcp;

// One connection: read length, read query, answer (or forward), write, repeat. Queries a client
// pipelines wait in the socket buffer and are answered in order.
class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(std::shared_ptr<TcpServer> server, tcp::socket socket)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        timer_(server_->io_),
        reader_(server_->zones_),
        rng_(std::random_device{}()),
        out_(2 + kMaxMessage) {}

  ~TcpSession() { server_->sessions_.erase(this); }

  void start() { do_read_length(); }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
  }

 private:
  void arm_idle() {
    timer_.expires_after(server_->idle_timeout_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec != asio::error::operation_aborted) self->close();  // idle: free the slot
    });
  }

  void do_read_length() {
    arm_idle();
    asio::async_read(socket_, asio::buffer(len_),
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       self->on_read_length(ec);
                     });
  }

  void on_read_length(const boost::system::error_code& ec) {
    if (ec) return close();  // eof, reset, aborted by stop or idle timeout
    const std::size_t n = (std::size_t{len_[0]} << 8) | len_[1];
    in_.resize(n);
    asio::async_read(socket_, asio::buffer(in_),
                     [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                       self->on_read_body(e);
                     });
  }

  void on_read_body(const boost::system::error_code& ec) {
    if (ec) return close();
    timer_.cancel();
    Response r;
    try {
      r = process(in_, Transport::Tcp, reader_.get(), rng_, query_,
                  std::span<std::uint8_t>(out_).subspan(2), server_->forwarder_ != nullptr);
    } catch (const std::exception& e) {  // one per session: log and close it
      log::error("dns", "tcp query failed", {{"error", e.what()}});
      return close();
    }
    DnsStats stats;
    tally(stats, r);
    server_->counters_->add(stats);
    switch (r.action) {
      case Action::Send:
        return do_write(r.size);
      case Action::Drop:
        return do_read_length();
      case Action::Forward:
        // The upstream is asked over UDP; its answer comes back on this io_context.
        server_->forwarder_->forward(in_, query_,
                                     [self = shared_from_this()](std::span<const std::uint8_t> b) {
                                       std::copy(b.begin(), b.end(), self->out_.begin() + 2);
                                       self->do_write(b.size());
                                     });
        return;
    }
  }

  void do_write(std::size_t size) {
    out_[0] = static_cast<std::uint8_t>(size >> 8);
    out_[1] = static_cast<std::uint8_t>(size);
    arm_idle();  // a client that never reads must not hold the connection forever
    asio::async_write(
        socket_, asio::buffer(out_.data(), size + 2),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (ec) return self->close();
          self->do_read_length();
        });
  }

  std::shared_ptr<TcpServer> server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  core::SnapshotHolder::Reader reader_;
  Rng rng_;
  Query query_;
  std::array<std::uint8_t, 2> len_{};
  std::vector<std::uint8_t> in_;
  std::vector<std::uint8_t> out_;
};

TcpServer::TcpServer(asio::io_context& io, const core::SnapshotHolder& zones,
                     std::shared_ptr<DnsCounters> counters, std::shared_ptr<Forwarder> forwarder,
                     std::chrono::milliseconds idle_timeout)
    : io_(io),
      zones_(zones),
      counters_(std::move(counters)),
      forwarder_(std::move(forwarder)),
      idle_timeout_(idle_timeout),
      acceptor_(io) {}

Result<void> TcpServer::bind(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && endpoint.protocol() == tcp::v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return Error{Code::Unavailable, "dns tcp bind: " + ec.message()};
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return {};
}

void TcpServer::start() { do_accept(); }

void TcpServer::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  auto sessions = sessions_;  // closing may destroy sessions, which erase themselves
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) s->close();
  }
}

void TcpServer::do_accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || self->stopped_) return;
        if (!ec) {
          if (self->sessions_.size() >= kMaxConnections) {
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            auto session = std::make_shared<TcpSession>(self, std::move(socket));
            self->sessions_.emplace(session.get(), session);
            session->start();
          }
        }
        self->do_accept();
      });
}

}  // namespace emu::dns
