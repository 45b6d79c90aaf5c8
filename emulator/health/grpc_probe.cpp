#include "emulator/health/grpc_probe.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <boost/asio/write.hpp>
#include <cstring>
#include <string_view>

#include "emulator/health/grpc_health_codec.hpp"

namespace emu::health {

namespace {

constexpr std::string_view kPath = "/grpc.health.v1.Health/Check";
// A HealthCheckResponse is a few bytes; anything past this is not a health service.
constexpr std::size_t kBodyLimit = 64 * 1024;

nghttp2_nv header(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

}  // namespace

// nghttp2 callbacks; user_data is the GrpcProbe, alive while its session is.
struct GrpcCallbacks {
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user_data) {
    auto* p = static_cast<GrpcProbe*>(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != p->stream_id_) return 0;
    const std::string_view n{reinterpret_cast<const char*>(name), namelen};
    const std::string_view v{reinterpret_cast<const char*>(value), valuelen};
    // grpc-status comes in the trailers, or in the headers of a trailers-only response.
    if (n == ":status") p->http_status_ = v;
    if (n == "grpc-status") p->grpc_status_ = v;
    if (n == "grpc-message") p->grpc_message_ = v;
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user_data) {
    auto* p = static_cast<GrpcProbe*>(user_data);
    if (stream_id != p->stream_id_) return 0;
    if (p->body_.size() + len > kBodyLimit) return NGHTTP2_ERR_CALLBACK_FAILURE;
    p->body_.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* user_data) {
    auto* p = static_cast<GrpcProbe*>(user_data);
    if (stream_id != p->stream_id_) return 0;
    p->stream_closed_ = true;
    p->reset_code_ = error_code;
    return 0;
  }

  static ssize_t read_request(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                              std::uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    auto* p = static_cast<GrpcProbe*>(user_data);
    const std::size_t n = std::min(length, p->request_.size() - p->request_sent_);
    std::memcpy(buf, p->request_.data() + p->request_sent_, n);
    p->request_sent_ += n;
    if (p->request_sent_ == p->request_.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

GrpcProbe::~GrpcProbe() {
  if (session_) nghttp2_session_del(session_);
}

void GrpcProbe::do_start() {
  const auto endpoint = endpoint_of(spec_);
  if (!endpoint) return finish(ProbeResult::fail("grpc: bad address '" + spec_.ip + "'"));
  socket_.async_connect(
      *endpoint, [self = self()](const boost::system::error_code& ec) { self->on_connect(ec); });
}

void GrpcProbe::on_connect(const boost::system::error_code& ec) {
  if (finished()) return;
  if (ec) return finish(io_error("connect", ec));
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);

  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return finish(ProbeResult::skipped(SkipReason::Resources, "grpc: out of memory"));
  }
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &GrpcCallbacks::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            &GrpcCallbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         &GrpcCallbacks::on_stream_close);
  const int rv = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    std::string detail = "grpc: session: " + std::string(nghttp2_strerror(rv));
    // NGHTTP2_ERR_NOMEM is the only way it fails: the daemon's memory, not the task.
    if (rv == NGHTTP2_ERR_NOMEM) return finish(ProbeResult::skipped(SkipReason::Resources, detail));
    return finish(ProbeResult::fail(std::move(detail)));
  }

  // Prior knowledge: the client preface and SETTINGS go first, no HTTP/1.1 upgrade.
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  request_ = grpc_health::encode_request(spec_.grpc_service);
  const std::string authority = authority_of(spec_);
  const nghttp2_nv headers[] = {
      header(":method", "POST"),
      header(":scheme", "http"),
      header(":path", kPath),
      header(":authority", authority),
      header("content-type", "application/grpc"),
      header("te", "trailers"),
      header("user-agent", "ecs-emulator-health/1"),
  };
  nghttp2_data_provider provider{};
  provider.read_callback = &GrpcCallbacks::read_request;
  stream_id_ =
      nghttp2_submit_request(session_, nullptr, headers, std::size(headers), &provider, nullptr);
  if (stream_id_ < 0) {
    return finish(ProbeResult::fail("grpc: submit: " + std::string(nghttp2_strerror(stream_id_))));
  }
  flush();
  do_read();
}

void GrpcProbe::flush() {
  if (finished() || writing_ || !session_) return;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      return finish(
          ProbeResult::fail("grpc: send: " + std::string(nghttp2_strerror(static_cast<int>(n)))));
    }
    if (n == 0) break;
    write_buffer_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  if (write_buffer_.empty()) return;
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(write_buffer_),
                           [self = self()](const boost::system::error_code& ec, std::size_t) {
                             self->writing_ = false;
                             self->write_buffer_.clear();
                             if (self->finished()) return;
                             if (ec) return self->finish(io_error("grpc: write", ec));
                             self->flush();
                           });
}

void GrpcProbe::do_read() {
  socket_.async_read_some(
      boost::asio::buffer(read_buffer_),
      [self = self()](const boost::system::error_code& ec, std::size_t n) {
        if (self->finished()) return;
        if (ec) {
          // The server went away before answering (killed, or closed the connection).
          if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) {
            return self->finish(ProbeResult::fail("grpc: connection closed before the answer"));
          }
          return self->finish(io_error("grpc: read", ec));
        }
        const ssize_t rv = nghttp2_session_mem_recv(self->session_, self->read_buffer_.data(), n);
        if (rv < 0) {
          return self->finish(ProbeResult::fail(
              "grpc: protocol error: " + std::string(nghttp2_strerror(static_cast<int>(rv)))));
        }
        if (self->stream_closed_) return self->conclude();
        self->flush();
        self->do_read();
      });
}

void GrpcProbe::conclude() {
  ProbeResult result = judge();
  boost::system::error_code ignored;
  socket_.close(ignored);
  finish(std::move(result));
}

ProbeResult GrpcProbe::judge() const {
  if (http_status_ != "200") {
    if (http_status_.empty())
      return ProbeResult::fail("grpc: stream reset (code " + std::to_string(reset_code_) + ")");
    return ProbeResult::fail("grpc: http " + http_status_);
  }
  if (grpc_status_.empty()) return ProbeResult::fail("grpc: no grpc-status");
  if (grpc_status_ != "0") {
    int code = -1;
    try {
      code = std::stoi(grpc_status_);
    } catch (const std::exception&) {
      return ProbeResult::fail("grpc: bad grpc-status '" + grpc_status_ + "'");
    }
    std::string detail =
        "grpc: status " + grpc_status_ + " (" + grpc_health::status_code_name(code) + ")";
    if (!grpc_message_.empty()) detail += ": " + grpc_message_;
    return ProbeResult::fail(std::move(detail));
  }
  const auto status = grpc_health::decode_response(body_);
  if (!status) return ProbeResult::fail("grpc: malformed HealthCheckResponse");
  const std::string name = grpc_health::serving_status_name(*status);
  if (*status == static_cast<std::int64_t>(grpc_health::ServingStatus::Serving)) {
    return ProbeResult::pass("grpc: " + name);
  }
  return ProbeResult::fail("grpc: " + name);
}

void GrpcProbe::do_stop() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  finish(ProbeResult::fail("cancelled"));
}

}  // namespace emu::health
