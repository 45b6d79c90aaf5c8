#pragma once
// HttpListener: the accept loop of the API port (the Beast advanced_server shape). One
// HttpSession per connection, all on the daemon's one io_context thread (the registry is not
// thread-safe). stop() stops accepting, answers pending long polls, lets the sessions finish the
// requests they have read, and closes them.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "api/http_config.hpp"
#include "api/router.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {

class HttpSession;

class HttpListener {
 public:
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
  /// Number of open connections.
  std::size_t connections() const;

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  Router& router_;
  HttpConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::vector<std::weak_ptr<HttpSession>> sessions_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

/// Parses "host:port", "[v6]:port", ":port" (all interfaces) or "port".
Result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

}  // namespace emu::api
