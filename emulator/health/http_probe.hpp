#pragma once
// HttpProbe: GET path with a Host header; 200-399 is healthy (internal to the executor). Only the
// status line and headers are read; the body is not needed to judge.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>

#include "emulator/health/probe_attempt.hpp"

namespace emu::health {

/// One HTTP GET attempt.
class HttpProbe final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;

 private:
  void do_start() override;
  void do_stop() override;
  void on_connect(const boost::system::error_code& ec);
  void on_write(const boost::system::error_code& ec);
  void on_read(const boost::system::error_code& ec);
  std::shared_ptr<HttpProbe> self() {
    return std::static_pointer_cast<HttpProbe>(shared_from_this());
  }

  boost::asio::ip::tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
  std::string request_;
  boost::beast::http::response_parser<boost::beast::http::empty_body> parser_;
};

}  // namespace emu::health
