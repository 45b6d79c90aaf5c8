#include "dns/tcp_server.hpp"

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <random>
#include <utility>
#include <vector>

#include "dns/pipeline.hpp"
#include "emulator/log/log.hpp"

namespace emu::dns {

namespace asio = boost::asio;
using asio::ip::tcp;

// One connection: read length, read query, answer (or forward), write, repeat. Queries a client
// pipelines wait in the socket buffer and are answered in order. Between queries it checks its
// budget (query count, lifetime) and closes when it is spent.
class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(std::shared_ptr<TcpServer> server, tcp::socket socket)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        timer_(server_->io_),
        life_(server_->io_),
        reader_(server_->zones_),
        rng_(std::random_device{}()),
        out_(2 + kMaxMessage) {}

  ~TcpSession() { server_->forget(this); }

  void start() {
    if (server_->config_.max_lifetime.count() > 0) {
      life_.expires_after(server_->config_.max_lifetime);
      life_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;
        self->expired_ = true;
        if (!self->busy_) self->close_spent();  // between queries: now; else after the answer
      });
    }
    do_read_length();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
    life_.cancel();
    server_->forget(this);
  }

 private:
  void arm_idle() {
    timer_.expires_after(server_->config_.idle_timeout);
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
    busy_ = true;
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
    ++queries_;
    server_->touch(this);
    Response r;
    try {
      r = process(in_, Transport::Tcp, reader_.get(), rng_, query_,
                  std::span<std::uint8_t>(out_).subspan(2), server_->forwarder_ != nullptr);
    } catch (const std::exception& e) {  // one per session: log and close it
      log::error("dns", "tcp query failed", {{"error", e.what()}});
      return close();
    }
    DnsStats stats;
    tally(stats, r, query_);
    server_->counters_->add(stats);
    switch (r.action) {
      case Action::Send:
        return do_write(r.size);
      case Action::Drop:
        return next();
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
    if (closed_) return;  // evicted or stopped while a forwarded query was out
    out_[0] = static_cast<std::uint8_t>(size >> 8);
    out_[1] = static_cast<std::uint8_t>(size);
    arm_idle();  // a client that never reads must not hold the connection forever
    asio::async_write(
        socket_, asio::buffer(out_.data(), size + 2),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (ec) return self->close();
          self->next();
        });
  }

  // The answer is out: read the next query, unless the budget is spent.
  void next() {
    busy_ = false;
    const std::uint32_t budget = server_->config_.max_queries;
    if (expired_ || (budget != 0 && queries_ >= budget)) return close_spent();
    do_read_length();
  }

  void close_spent() {
    if (closed_) return;
    server_->counters_->tcp_spent.fetch_add(1, std::memory_order_relaxed);
    close();
  }

  std::shared_ptr<TcpServer> server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer life_;
  core::SnapshotHolder::Reader reader_;
  Rng rng_;
  Query query_;
  std::array<std::uint8_t, 2> len_{};
  std::vector<std::uint8_t> in_;
  std::vector<std::uint8_t> out_;
  std::uint32_t queries_ = 0;
  bool busy_ = false;     ///< between a query's length and the end of its answer
  bool expired_ = false;  ///< max_lifetime passed
  bool closed_ = false;
};

namespace {

// accept(2): errors of the pending connection, to "treat like EAGAIN by retrying": the connection
// failed, not the listener.
bool connection_error(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case EPERM:  // a firewall rule refused this one connection
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EINTR:
      return true;
    default:
      return false;
  }
}

}  // namespace

AcceptBackoff::Step AcceptBackoff::failed(const boost::system::error_code& ec) {
  if (connection_error(ec)) return {};
  return {.pause = true, .log = episode_++ == 0};
}

std::uint64_t AcceptBackoff::accepted() { return std::exchange(episode_, 0); }

TcpServer::TcpServer(asio::io_context& io, const core::SnapshotHolder& zones,
                     std::shared_ptr<DnsCounters> counters, std::shared_ptr<Forwarder> forwarder,
                     TcpServerConfig config)
    : io_(io),
      zones_(zones),
      counters_(std::move(counters)),
      forwarder_(std::move(forwarder)),
      config_(config),
      acceptor_(io),
      retry_(io) {
  config_.max_connections = std::max<std::size_t>(config_.max_connections, 1);
  config_.max_per_client = std::max<std::size_t>(config_.max_per_client, 1);
}

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
  retry_.cancel();
  auto sessions = sessions_;  // closing erases from sessions_
  for (auto& [ptr, slot] : sessions) {
    if (auto s = slot.session.lock()) s->close();
  }
}

void TcpServer::do_accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void TcpServer::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || stopped_) return;
  if (ec) {
    counters_->tcp_accept_errors.fetch_add(1, std::memory_order_relaxed);
    const AcceptBackoff::Step step = backoff_.failed(ec);
    if (step.log) {
      log::warn("dns", "tcp accept failing, backing off",
                {{"error", ec.message()},
                 {"backoff_ms", std::to_string(config_.accept_backoff.count())}});
    }
    if (!step.pause) return do_accept();
    // EMFILE and friends: wait instead of spinning (same shape as api/http_listener.cpp).
    retry_.expires_after(config_.accept_backoff);
    retry_.async_wait([self = shared_from_this()](const boost::system::error_code& wec) {
      if (!wec && !self->stopped_) self->do_accept();
    });
    return;
  }
  if (const std::uint64_t failures = backoff_.accepted(); failures != 0) {
    log::info("dns", "tcp accept works again", {{"failures", std::to_string(failures)}});
  }
  admit(std::move(socket));
  do_accept();
}

void TcpServer::admit(tcp::socket socket) {
  boost::system::error_code ec;
  const asio::ip::address peer = socket.remote_endpoint(ec).address();
  if (ec) return;  // reset before we got here; the socket closes with this scope
  const auto known = per_client_.find(peer);
  if (known != per_client_.end() && known->second >= config_.max_per_client) {
    counters_->tcp_refused.fetch_add(1, std::memory_order_relaxed);
    socket.close(ec);
    return;
  }
  if (sessions_.size() >= config_.max_connections) close_least_recent();
  auto session = std::make_shared<TcpSession>(shared_from_this(), std::move(socket));
  sessions_.emplace(session.get(), Slot{session, peer, ++activity_});
  ++per_client_[peer];
  session->start();
}

void TcpServer::close_least_recent() {
  // A linear scan, only when full: cheaper than keeping an order on every query.
  auto oldest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (oldest == sessions_.end() || it->second.last_active < oldest->second.last_active) {
      oldest = it;
    }
  }
  if (oldest == sessions_.end()) return;
  counters_->tcp_evicted.fetch_add(1, std::memory_order_relaxed);
  TcpSession* victim = oldest->first;
  if (auto s = oldest->second.session.lock()) {
    s->close();  // forgets itself
  }
  forget(victim);  // in case it was already on its way out
}

void TcpServer::touch(TcpSession* session) {
  if (auto it = sessions_.find(session); it != sessions_.end())
    it->second.last_active = ++activity_;
}

void TcpServer::forget(TcpSession* session) {
  const auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  if (auto c = per_client_.find(it->second.peer); c != per_client_.end() && --c->second == 0) {
    per_client_.erase(c);
  }
  sessions_.erase(it);
}

}  // namespace emu::dns
