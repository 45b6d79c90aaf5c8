#include "emulator/health/http_probe.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace emu::health {

namespace http = boost::beast::http;

// Health endpoints answer with small headers; a bigger header is a broken endpoint.
constexpr std::uint32_t kHeaderLimit = 16 * 1024;

void HttpProbe::do_start() {
  const auto endpoint = endpoint_of(spec_);
  if (!endpoint) return finish(ProbeResult::fail("http: bad address '" + spec_.ip + "'"));
  request_.method(http::verb::get);
  request_.target(spec_.path.empty() ? "/" : spec_.path);
  request_.version(11);
  request_.set(http::field::host, authority_of(spec_));
  request_.set(http::field::user_agent, "ecs-emulator-health/1");
  request_.set(http::field::connection, "close");
  parser_.header_limit(kHeaderLimit);
  socket_.async_connect(
      *endpoint, [self = self()](const boost::system::error_code& ec) { self->on_connect(ec); });
}

void HttpProbe::on_connect(const boost::system::error_code& ec) {
  if (finished()) return;
  if (ec) return finish(io_error("connect", ec));
  http::async_write(
      socket_, request_,
      [self = self()](const boost::system::error_code& ec, std::size_t) { self->on_write(ec); });
}

void HttpProbe::on_write(const boost::system::error_code& ec) {
  if (finished()) return;
  if (ec) return finish(io_error("http: write", ec));
  http::async_read_header(
      socket_, buffer_, parser_,
      [self = self()](const boost::system::error_code& ec, std::size_t) { self->on_read(ec); });
}

void HttpProbe::on_read(const boost::system::error_code& ec) {
  if (finished()) return;
  if (ec) return finish(io_error("http: read", ec));
  const unsigned status = parser_.get().result_int();
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  ProbeResult result = status >= 200 && status <= 399
                           ? ProbeResult::pass("http " + std::to_string(status))
                           : ProbeResult::fail("http " + std::to_string(status));
  finish(std::move(result));
}

void HttpProbe::do_stop() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  finish(ProbeResult::fail("cancelled"));
}

}  // namespace emu::health
