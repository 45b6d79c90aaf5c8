#pragma once
// HttpListener: the accept loop of the API port (the Beast advanced_server shape). One
// HttpSession per connection, all on the daemon's one io_context thread (the registry is not
// thread-safe). stop() stops accepting, answers pending long polls, lets the sessions finish the
// requests they have read, and closes them.
// At most config.max_connections are open: a connection that arrives at the cap closes the
// session idle the longest (waiting for a request, no answer pending; a long poll is not idle);
// when none is idle it is answered 503 with `Connection: close` and `Retry-After`, and past
// kMaxRefusing such answers in flight it is closed unanswered, so the listener never holds more
// than max_connections + kMaxRefusing sockets. A failed accept (EMFILE ...) is retried after
// kAcceptBackoff; a run of failures is logged when it starts and when it ends, at most once per
// kAcceptLogEvery (freed descriptors make runs short and frequent while a flood lasts).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "api/http_config.hpp"
#include "api/router.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {

class HttpSession;

class HttpListener {
 public:
  /// Pause after a failed accept: the pending connection stays in the backlog and the error
  /// (EMFILE) would recur at once, so retrying without one would spin.
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};
  /// Runs of accept failures that start within this of the last one logged are not logged.
  static constexpr std::chrono::seconds kAcceptLogEvery{60};
  /// Connections being answered 503 at once, on top of the cap (each drains for up to
  /// HttpSession::kLinger).
  static constexpr std::size_t kMaxRefusing = 64;

  /// Counters since start (for /metrics and tests).
  struct Stats {
    std::uint64_t accepted = 0;       ///< connections accepted
    std::uint64_t idle_closed = 0;    ///< idle sessions closed to make room at the cap
    std::uint64_t refused = 0;        ///< answered 503 at the cap (nothing idle to close)
    std::uint64_t dropped = 0;        ///< closed unanswered: at the cap with kMaxRefusing refusing
    std::uint64_t accept_errors = 0;  ///< failed accepts, each followed by kAcceptBackoff
  };

  /// Serves `router` on config.listen; the router and io_context outlive the listener.
  HttpListener(boost::asio::io_context& io, Router& router, HttpConfig config);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  /// Binds and listens ("host:port", "[v6]:port", ":port"); errors name the address.
  Result<void> start();
  /// Graceful stop (idempotent).
  void stop();
  /// The bound port (the ephemeral one when config.listen asked for port 0).
  std::uint16_t port() const { return port_; }
  /// Number of open connections (those draining after their last answer included).
  std::size_t connections() const;
  const Stats& stats() const { return stats_; }

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void on_accept_error(boost::system::error_code ec);
  enum class Admission { Serve, Refuse, Drop };
  /// What to do with a new connection; at the cap it closes the session idle the longest.
  Admission admit();

  boost::asio::io_context& io_;
  Router& router_;
  HttpConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::vector<std::weak_ptr<HttpSession>> sessions_;
  std::uint16_t port_ = 0;
  Stats stats_;
  bool failing_ = false;  ///< the last accept failed
  bool warned_ = false;   ///< this run of failures was logged (its end is logged too)
  std::optional<std::chrono::steady_clock::time_point> last_warned_;
  bool stopped_ = false;
};

/// Parses "host:port", "[v6]:port", ":port" (all interfaces) or "port".
Result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

}  // namespace emu::api
