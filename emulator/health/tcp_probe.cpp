#include "emulator/health/tcp_probe.hpp"

#include <unistd.h>

namespace emu::health {

void TcpProbe::do_start() {
  const auto endpoint = endpoint_of(spec_);
  if (!endpoint) return finish(ProbeResult::fail("tcp: bad address '" + spec_.ip + "'"));
  // The daemon's own shortage (EMFILE at socket()) reads like the connect's: "connect: ...".
  const ProbeConnect connect = connect_probe_socket(*endpoint);
  switch (connect.state) {
    case ProbeConnect::State::Failed:
      return finish(io_error("connect", connect.error));
    case ProbeConnect::State::Connected:
      ::close(connect.fd);  // a reset (SO_LINGER 0)
      return finish(ProbeResult::pass("tcp: connected"));
    case ProbeConnect::State::Pending:
      break;
  }
  boost::system::error_code ec;
  socket_.assign(endpoint->protocol(), connect.fd, ec);
  if (ec) {
    ::close(connect.fd);
    return finish(io_error("connect", ec));
  }
  socket_.async_wait(boost::asio::socket_base::wait_write,
                     [self = std::static_pointer_cast<TcpProbe>(shared_from_this())](
                         const boost::system::error_code& ec) { self->on_writable(ec); });
}

void TcpProbe::on_writable(const boost::system::error_code& ec) {
  if (finished()) return;
  if (ec) return finish(io_error("connect", ec));
  const auto error = connect_error(socket_.native_handle());
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (error) return finish(io_error("connect", error));
  finish(ProbeResult::pass("tcp: connected"));
}

void TcpProbe::do_stop() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  finish(ProbeResult::fail("cancelled"));
}

}  // namespace emu::health
