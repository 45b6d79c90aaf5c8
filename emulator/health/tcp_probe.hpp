#pragma once
// TcpProbe: healthy when a TCP connection to ip:port is accepted (internal to the executor).

#include <boost/asio/ip/tcp.hpp>

#include "emulator/health/probe_attempt.hpp"

namespace emu::health {

/// One TCP connect attempt: decided inside do_start() when the connect completes at once (as
/// it does on loopback), else when the socket becomes writable.
class TcpProbe final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;

 private:
  void do_start() override;
  void do_stop() override;
  void on_writable(const boost::system::error_code& ec);

  boost::asio::ip::tcp::socket socket_{io_};
};

}  // namespace emu::health
