#pragma once
// HttpSession: one HTTP/1.1 connection (the Beast advanced_server shape). Reads requests with a
// body limit and timeouts, hands each to the Router, and writes the answers in request order
// (pipelining: reading goes on while earlier answers, e.g. long polls, are pending).
// Timeouts: idle_timeout while waiting for the first byte of a request with no answer pending
// (a steady_timer, since a long poll may be pending meanwhile), header_timeout from that byte to
// the complete request and idle_timeout per write (beast::tcp_stream::expires_after). Errors end
// only this session. The header is read before the body, so a request that expects
// `100-continue` is answered `100 Continue` before its body is read (RFC 9110 section 10.1.1),
// and one whose Content-Length is over the body limit gets its 413 without it.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "api/http_config.hpp"
#include "api/http_types.hpp"
#include "api/router.hpp"
#include "api/stream_body.hpp"

namespace emu::api {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  /// Most requests read ahead of their answers on one connection.
  static constexpr std::size_t kMaxPipeline = 16;
  /// How long a closing connection drains unread input so the last answer is not reset away.
  static constexpr std::chrono::milliseconds kLinger{1000};

  /// Takes the accepted socket; the router must outlive the session.
  HttpSession(boost::asio::ip::tcp::socket&& socket, Router& router, HttpConfig config);
  /// Starts reading.
  void run();
  /// Graceful stop: reads no more requests, answers those already read, then closes.
  void stop();
  /// Answers `res` (with `Connection: close`) without reading a request, then closes: the
  /// listener's 503 at the connection cap. Instead of run().
  void refuse(Response res);
  /// Waiting for the first byte of a request with no answer pending or being written: closing
  /// the connection now loses nothing (a long poll is not idle).
  bool idle() const;
  /// When the session last became idle (meaningful while idle()).
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  /// Closes the connection at once if it is idle (the listener makes room at its cap).
  void close_idle();
  /// Not yet closed (a closing session draining its last input counts: it holds its socket).
  bool open() const { return !closed_; }

 private:
  struct Slot {
    std::uint64_t seq = 0;
    std::optional<Response> res;
    bool close = false;                  ///< the connection ends after this answer
    std::shared_ptr<StreamBody> stream;  ///< a streamed body follows `res` (chunked, then close)
  };

  void do_read();
  void update_idle_timer();
  void on_first_byte(boost::beast::error_code ec, std::size_t n);
  void do_read_request();
  void on_read(boost::beast::error_code ec, std::size_t n);
  void on_read_error(boost::beast::error_code ec);
  void do_read_body();
  void answer_and_close(Response res);
  void fail_request(http::status status, std::string_view error, std::string message,
                    std::string_view field);
  void dispatch(Request req);
  void on_response(std::uint64_t seq, Response res);
  void on_stream(std::uint64_t seq, Response head, std::shared_ptr<StreamBody> body);
  void write_stream();
  void on_stream_write(bool last, boost::beast::error_code ec, std::size_t n);
  void do_write();
  void on_write(bool close, boost::beast::error_code ec, std::size_t n);
  void on_peer_closed();
  void watch_peer();
  void do_close();
  void do_linger();
  void abort();
  void release();

  boost::beast::tcp_stream stream_;
  boost::asio::steady_timer idle_timer_;  ///< idle_timeout between requests
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router& router_;
  HttpConfig config_;
  std::deque<Slot> queue_;
  std::optional<http::response_serializer<http::string_body>> head_sr_;  ///< a stream's header
  std::shared_ptr<StreamBody> streaming_;  ///< the body being written after its header
  std::string stream_chunk_;               ///< the chunk being written
  std::uint64_t next_seq_ = 0;
  std::shared_ptr<const int> open_;  ///< long polls watch this (ConnectionToken)
  std::chrono::steady_clock::time_point linger_until_{};
  std::chrono::steady_clock::time_point request_deadline_{};  ///< header_timeout after 1st byte
  std::chrono::steady_clock::time_point idle_since_{};
  bool reading_ = false;
  bool awaiting_first_byte_ = false;
  bool writing_ = false;
  bool read_closed_ = false;  ///< no more requests will be read
  bool stopping_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

/// True when the request asks for `100 Continue` before it sends its body: `Expect:
/// 100-continue` (case-insensitive) in HTTP/1.1 or later. RFC 9110 section 10.1.1: a server
/// ignores the expectation in an HTTP/1.0 request.
bool expects_continue(const http::request_header<>& req);

}  // namespace emu::api
