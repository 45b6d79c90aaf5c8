#include "emulator/health/http_probe.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>

namespace emu::health {

namespace http = boost::beast::http;

// Health endpoints answer with small headers; a bigger header is a broken endpoint.
constexpr std::uint32_t kHeaderLimit = 16 * 1024;

void HttpProbe::do_start() {
  const auto endpoint = endpoint_of(spec_);
  if (!endpoint) return finish(ProbeResult::fail("http: bad address '" + spec_.ip + "'"));
  // The request is the same bytes Beast would serialize, written as one buffer.
  request_ = "GET " + (spec_.path.empty() ? std::string("/") : spec_.path) +
             " HTTP/1.1\r\nHost: " + authority_of(spec_) +
             "\r\nUser-Agent: ecs-emulator-health/1\r\nConnection: close\r\n\r\n";
  parser_.header_limit(kHeaderLimit);
  // The daemon's own shortage (EMFILE at socket()) reads like the connect's: "connect: ...".
  const ProbeConnect connect = connect_probe_socket(*endpoint);
  if (connect.state == ProbeConnect::State::Failed) {
    return finish(io_error("connect", connect.error));
  }
  boost::system::error_code ec;
  socket_.assign(endpoint->protocol(), connect.fd, ec);
  if (ec) {
    ::close(connect.fd);
    return finish(io_error("connect", ec));
  }
  if (connect.state == ProbeConnect::State::Connected) return on_connect({});
  socket_.async_wait(boost::asio::socket_base::wait_write,
                     [self = self()](const boost::system::error_code& ec) {
                       if (ec) return self->on_connect(ec);
                       self->on_connect(connect_error(self->socket_.native_handle()));
                     });
}

void HttpProbe::on_connect(const boost::system::error_code& ec) {
  if (finished()) return;
  if (ec) return finish(io_error("connect", ec));
  // A fresh connection's send buffer is empty, so the request (well under a page) goes out in
  // this one send(2); only a short write leaves the rest to the loop.
  const ssize_t sent =
      ::send(socket_.native_handle(), request_.data(), request_.size(), MSG_NOSIGNAL);
  if (sent == static_cast<ssize_t>(request_.size())) return on_write({});
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    return on_write({errno, boost::system::system_category()});
  }
  const std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
  boost::asio::async_write(
      socket_, boost::asio::buffer(request_.data() + done, request_.size() - done),
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
  socket_.close(ignored);  // a reset (SO_LINGER 0): no FIN exchange, no TIME_WAIT
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
