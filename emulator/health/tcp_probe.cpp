#include "emulator/health/tcp_probe.hpp"

namespace emu::health {

void TcpProbe::do_start() {
  const auto endpoint = endpoint_of(spec_);
  if (!endpoint) return finish(ProbeResult::fail("tcp: bad address '" + spec_.ip + "'"));
  // The daemon's own shortage (EMFILE at socket()) reads like the connect's: "connect: ...".
  if (const auto ec = open_probe_socket(socket_, *endpoint)) return finish(io_error("connect", ec));
  socket_.async_connect(*endpoint, [self = std::static_pointer_cast<TcpProbe>(shared_from_this())](
                                       const boost::system::error_code& ec) {
    if (ec) return self->finish(io_error("connect", ec));
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->finish(ProbeResult::pass("tcp: connected"));
  });
}

void TcpProbe::do_stop() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  finish(ProbeResult::fail("cancelled"));
}

}  // namespace emu::health
