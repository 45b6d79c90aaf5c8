#pragma once
// GrpcProbe: grpc.health.v1.Health/Check over HTTP/2 cleartext with prior knowledge (h2c), using
// nghttp2's session in memory mode over an Asio socket (internal to the executor). Healthy only
// when the call succeeds (grpc-status 0) and the response says SERVING.

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "emulator/health/probe_attempt.hpp"

struct nghttp2_session;

namespace emu::health {

/// One Health/Check call on a fresh connection.
class GrpcProbe final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;
  ~GrpcProbe() override;

 private:
  friend struct GrpcCallbacks;

  void do_start() override;
  void do_stop() override;
  void on_connect(const boost::system::error_code& ec);
  void do_read();
  void flush();
  void conclude();
  ProbeResult judge() const;
  std::shared_ptr<GrpcProbe> self() {
    return std::static_pointer_cast<GrpcProbe>(shared_from_this());
  }

  boost::asio::ip::tcp::socket socket_{io_};
  nghttp2_session* session_ = nullptr;
  std::array<std::uint8_t, 16 * 1024> read_buffer_{};
  std::string write_buffer_;
  bool writing_ = false;
  std::string request_;  // the framed HealthCheckRequest
  std::size_t request_sent_ = 0;
  std::int32_t stream_id_ = -1;
  bool stream_closed_ = false;
  std::uint32_t reset_code_ = 0;
  std::string http_status_;
  std::string grpc_status_;
  std::string grpc_message_;
  std::string body_;
};

}  // namespace emu::health
