#pragma once
// TcpProbe: healthy when a TCP connection to ip:port is accepted (internal to the executor).

#include <boost/asio/ip/tcp.hpp>

#include "emulator/health/probe_attempt.hpp"

namespace emu::health {

/// One TCP connect attempt.
class TcpProbe final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;

 private:
  void do_start() override;
  void do_stop() override;

  boost::asio::ip::tcp::socket socket_{io_};
};

}  // namespace emu::health
