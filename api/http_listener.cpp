#include "api/http_listener.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "api/api_error.hpp"
#include "api/http_session.hpp"
#include "emulator/log/log.hpp"

namespace emu::api {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<tcp::endpoint> parse_endpoint(std::string_view text) {
  std::string_view host;
  std::string_view port_text = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("listen: '" + std::string(text) + "' is not [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid("listen: bad port in '" + std::string(text) + "'");
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  auto address = asio::ip::make_address(std::string(host), aec);
  if (aec) return invalid("listen: bad address '" + std::string(host) + "'");
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

HttpListener::HttpListener(asio::io_context& io, Router& router, HttpConfig config)
    : io_(io), router_(router), config_(std::move(config)), acceptor_(io), retry_(io) {}

HttpListener::~HttpListener() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

Result<void> HttpListener::start() {
  auto endpoint = parse_endpoint(config_.listen);
  if (!endpoint) return endpoint.error();
  boost::system::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    return Error{Code::Unavailable, "listen " + config_.listen + ": " + ec.message()};
  }
  port_ = acceptor_.local_endpoint(ec).port();
  stopped_ = false;
  do_accept();
  return {};
}

void HttpListener::do_accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpListener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) return on_accept_error(ec);
  if (failing_ && warned_) {
    log::info("http", "accepting again",
              {{"failed_accepts_total", std::to_string(stats_.accept_errors)}});
  }
  failing_ = false;
  warned_ = false;
  ++stats_.accepted;
  std::erase_if(sessions_, [](const auto& weak) {
    const auto session = weak.lock();
    return !session || !session->open();
  });
  const auto admission = admit();
  if (admission == Admission::Drop) {
    ++stats_.dropped;
    boost::system::error_code cec;
    socket.close(cec);
    return do_accept();
  }
  boost::system::error_code nec;
  socket.set_option(tcp::no_delay(true), nec);
  auto session = std::make_shared<HttpSession>(std::move(socket), router_, config_);
  if (admission == Admission::Serve) {
    session->run();
  } else {
    ++stats_.refused;
    auto res = error_response(http::status::service_unavailable, "Unavailable",
                              "too many connections (the limit is " +
                                  std::to_string(config_.max_connections) + "); retry later");
    res.set(http::field::retry_after, "1");
    session->refuse(std::move(res));
  }
  sessions_.push_back(session);
  do_accept();
}

HttpListener::Admission HttpListener::admit() {
  // sessions_ holds only open sessions here (on_accept prunes it).
  if (config_.max_connections == 0 || sessions_.size() < config_.max_connections) {
    return Admission::Serve;
  }
  // An idle connection loses nothing by closing (a client reopens a kept-alive connection the
  // server closed, RFC 9112 section 9.3.1); the one idle the longest is the least likely to be
  // used again.
  std::shared_ptr<HttpSession> oldest;
  for (const auto& weak : sessions_) {
    auto session = weak.lock();
    if (session && session->idle() && (!oldest || session->idle_since() < oldest->idle_since())) {
      oldest = std::move(session);
    }
  }
  if (oldest) {
    ++stats_.idle_closed;
    oldest->close_idle();
    return Admission::Serve;
  }
  // Every connection is busy (long polls, requests in flight): say so, unless so many are being
  // told already that answering would hold too many sockets (each drains for up to kLinger).
  return sessions_.size() < config_.max_connections + kMaxRefusing ? Admission::Refuse
                                                                   : Admission::Drop;
}

void HttpListener::on_accept_error(boost::system::error_code ec) {
  ++stats_.accept_errors;
  // EMFILE and friends: the connection stays in the backlog and the error would recur at once,
  // so back off instead of spinning, then accept again. One log line when a run of failures
  // starts and one when it ends, not one per retry; while descriptors are short, each one freed
  // (a probe's socket) ends a run and the next accept starts another, so runs are logged at most
  // once per kAcceptLogEvery.
  const auto now = std::chrono::steady_clock::now();
  if (!failing_ && (!last_warned_ || now - *last_warned_ >= kAcceptLogEvery)) {
    log::warn(
        "http", "accept failed; retrying every 100 ms until it succeeds",
        {{"error", ec.message()}, {"failed_accepts_total", std::to_string(stats_.accept_errors)}});
    last_warned_ = now;
    warned_ = true;
  }
  failing_ = true;
  retry_.expires_after(kAcceptBackoff);
  retry_.async_wait([this](boost::system::error_code wec) {
    if (!wec && !stopped_) do_accept();
  });
}

void HttpListener::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_.cancel();
  // Long polls answer now (as at their timeout), so sessions can finish and close.
  router_.shutdown();
  for (auto& weak : sessions_) {
    if (auto session = weak.lock()) session->stop();
  }
  sessions_.clear();
}

std::size_t HttpListener::connections() const {
  return static_cast<std::size_t>(
      std::count_if(sessions_.begin(), sessions_.end(), [](const auto& weak) {
        const auto session = weak.lock();
        return session && session->open();
      }));
}

}  // namespace emu::api
