#include "api/http_session.hpp"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <string>
#include <utility>

#include "api/api_error.hpp"
#include "emulator/log/log.hpp"

namespace emu::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

bool expects_continue(const http::request_header<>& req) {
  if (req.version() < 11) return false;
  const auto it = req.find(http::field::expect);
  return it != req.end() && beast::iequals(it->value(), "100-continue");
}

HttpSession::HttpSession(tcp::socket&& socket, Router& router, HttpConfig config)
    : stream_(std::move(socket)),
      idle_timer_(stream_.get_executor()),
      router_(router),
      config_(std::move(config)),
      open_(std::make_shared<const int>(0)) {}

void HttpSession::run() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::refuse(Response res) {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), res = std::move(res)] {
    self->answer_and_close(std::move(res));
  });
}

bool HttpSession::idle() const {
  return awaiting_first_byte_ && queue_.empty() && !writing_ && !closing_ && !closed_;
}

void HttpSession::close_idle() {
  if (!idle()) return;
  log::debug("http", "idle connection closed to make room for a new one");
  abort();
}

void HttpSession::stop() {
  if (closed_ || closing_) return;
  stopping_ = true;
  read_closed_ = true;
  if (queue_.empty() && !writing_ && (!reading_ || !parser_ || !parser_->got_some())) {
    // Idle: nothing in flight.
    if (reading_) {
      // Wakes the pending read with EOF; on_first_byte then closes.
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_receive, ec);
    } else {
      do_close();
    }
    return;
  }
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_receive, ec);
}

void HttpSession::do_read() {
  if (read_closed_ || closing_ || closed_ || reading_) return;
  if (queue_.size() >= kMaxPipeline) return;  // resumed by on_write
  reading_ = true;
  parser_.reset();
  if (buffer_.size() > 0) return do_read_request();
  // Idle between requests: timed by idle_timer_ only while no answer (a long poll) is pending.
  stream_.expires_never();
  awaiting_first_byte_ = true;
  update_idle_timer();
  stream_.async_read_some(
      buffer_.prepare(4096),
      beast::bind_front_handler(&HttpSession::on_first_byte, shared_from_this()));
}

void HttpSession::update_idle_timer() {
  if (!awaiting_first_byte_ || !queue_.empty() || writing_ || closing_ || closed_) {
    idle_timer_.cancel();
    return;
  }
  idle_since_ = std::chrono::steady_clock::now();
  idle_timer_.expires_after(config_.idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->awaiting_first_byte_ || !self->queue_.empty()) return;
    log::debug("http", "idle connection closed");
    self->abort();
  });
}

void HttpSession::on_first_byte(beast::error_code ec, std::size_t n) {
  reading_ = false;
  awaiting_first_byte_ = false;
  idle_timer_.cancel();
  if (closed_) return;
  if (closing_) return do_linger();
  if (ec == asio::error::eof) return on_peer_closed();
  if (ec) return abort();
  buffer_.commit(n);
  reading_ = true;
  do_read_request();
}

void HttpSession::do_read_request() {
  parser_.emplace();
  parser_->body_limit(config_.body_limit);
  // A request must be complete within header_timeout of its first byte (slow clients are cut).
  request_deadline_ = std::chrono::steady_clock::now() + config_.header_timeout;
  stream_.expires_at(request_deadline_);
  // The header alone first: a Content-Length over the limit fails here (Beast checks it when the
  // header completes), so that 413 goes out without a 100 Continue; on_read then reads the body.
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  reading_ = false;
  if (closed_) return;
  if (closing_) return do_linger();
  if (ec) return on_read_error(ec);
  if (!parser_->is_done()) return do_read_body();  // the header is in, a body follows
  dispatch(parser_->release());
}

void HttpSession::do_read_body() {
  // RFC 9110 section 10.1.1: a client that sent `Expect: 100-continue` may wait for the 100
  // before it sends the body (curl waits 1 s). It goes out in answer order, after the answers
  // of earlier pipelined requests; none is needed once the body has started to arrive.
  if (buffer_.size() == 0 && expects_continue(parser_->get())) {
    queue_.push_back({next_seq_++, Response{http::status::continue_, 11}, false});
    do_write();
  }
  reading_ = true;
  stream_.expires_at(request_deadline_);  // the read's timer only, if the 100 is being written
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read_error(beast::error_code ec) {
  if (ec == http::error::end_of_stream) return on_peer_closed();
  if (ec == http::error::body_limit) {
    return fail_request(
        http::status::payload_too_large, "TooLarge",
        "body: larger than the limit of " + std::to_string(config_.body_limit) + " bytes", "body");
  }
  if (ec == http::error::header_limit) {
    return fail_request(http::status::request_header_fields_too_large, "TooLarge",
                        "headers: larger than the limit", "headers");
  }
  if (ec == beast::error::timeout) {
    log::debug("http", "request not complete within the header timeout; connection closed");
    return abort();
  }
  // Any other parse error (bad method, target, version, chunk ...): a 400 the client can read.
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::partial_message) {
    return fail_request(http::status::bad_request, "InvalidArgument",
                        "request: malformed HTTP (" + ec.message() + ")", "request");
  }
  abort();
}

void HttpSession::fail_request(http::status status, std::string_view error, std::string message,
                               std::string_view field) {
  // The stream cannot be resynchronised after a bad request: answer, then close.
  answer_and_close(error_response(status, error, message, field));
}

void HttpSession::answer_and_close(Response res) {
  read_closed_ = true;
  res.keep_alive(false);
  queue_.push_back({next_seq_++, std::move(res), true});
  do_write();
}

void HttpSession::dispatch(Request req) {
  const bool keep_alive = req.keep_alive() && !stopping_;
  const auto seq = next_seq_++;
  queue_.push_back({seq, std::nullopt, !keep_alive});
  if (!keep_alive) read_closed_ = true;
  try {
    // The answer keeps the session alive (a long poll may be all that is left of it).
    router_.handle(
        std::move(req),
        [self = shared_from_this(), seq](Response res) { self->on_response(seq, std::move(res)); },
        ConnectionToken(open_),
        [self = shared_from_this(), seq](Response head, std::shared_ptr<StreamBody> body) {
          self->on_stream(seq, std::move(head), std::move(body));
        });
  } catch (const std::exception& e) {
    // One catch per session (STYLE 10): log and close this connection only.
    log::error("http", "request handler failed; connection closed", {{"error", e.what()}});
    return abort();
  }
  do_read();  // pipelining: the next request may already be here
  if (read_closed_ && !reading_) watch_peer();
}

void HttpSession::watch_peer() {
  // No more requests, but an answer is pending (a long poll after `Connection: close`): keep a
  // read open only to notice the client leaving, so its long poll is dropped.
  bool pending = false;
  for (const auto& slot : queue_) pending = pending || !slot.res || slot.stream;
  if (!pending || reading_ || closing_ || closed_) return;
  reading_ = true;
  stream_.expires_never();
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(512),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->reading_ = false;
                            if (self->closed_) return;
                            if (self->closing_) return self->do_linger();
                            if (ec) {
                              if (!self->stopping_) {
                                for (const auto& slot : self->queue_) {
                                  // gone before its answer, or while its stream was open
                                  if (!slot.res || slot.stream) return self->abort();
                                }
                              }
                              return;
                            }
                            self->buffer_.clear();  // bytes after `Connection: close` are ignored
                            self->watch_peer();
                          });
}

void HttpSession::on_response(std::uint64_t seq, Response res) {
  if (closed_ || queue_.empty() || seq < queue_.front().seq) return;
  auto& slot = queue_[static_cast<std::size_t>(seq - queue_.front().seq)];
  if (slot.res) return;  // answered twice: keep the first
  if (slot.close || stopping_) {
    slot.close = true;
    res.keep_alive(false);
  }
  slot.res = std::move(res);
  do_write();
}

void HttpSession::on_stream(std::uint64_t seq, Response head, std::shared_ptr<StreamBody> body) {
  if (closed_ || queue_.empty() || seq < queue_.front().seq) return body->close();
  auto& slot = queue_[static_cast<std::size_t>(seq - queue_.front().seq)];
  if (slot.res) return body->close();
  // A stream ends only with the connection: no more requests are read on it.
  slot.close = true;
  read_closed_ = true;
  head.keep_alive(false);
  head.chunked(true);
  slot.res = std::move(head);
  slot.stream = std::move(body);
  do_write();
  if (!reading_) watch_peer();
}

void HttpSession::write_stream() {
  if (writing_ || closed_ || closing_ || !streaming_) return;
  if (streaming_->empty()) {
    if (!streaming_->finished()) {
      // Wait for the next push (or finish); nothing times out meanwhile.
      stream_.expires_never();
      std::weak_ptr<HttpSession> weak = weak_from_this();
      streaming_->on_wake([weak] {
        if (auto self = weak.lock()) self->write_stream();
      });
      return;
    }
    writing_ = true;
    stream_.expires_after(config_.idle_timeout);
    asio::async_write(
        stream_, http::make_chunk_last(),
        beast::bind_front_handler(&HttpSession::on_stream_write, shared_from_this(), true));
    return;
  }
  stream_chunk_ = streaming_->take();
  writing_ = true;
  stream_.expires_after(config_.idle_timeout);  // a client that stops reading is cut off
  asio::async_write(
      stream_, http::make_chunk(asio::buffer(stream_chunk_)),
      beast::bind_front_handler(&HttpSession::on_stream_write, shared_from_this(), false));
}

void HttpSession::on_stream_write(bool last, beast::error_code ec, std::size_t) {
  writing_ = false;
  if (closed_) return;
  if (ec) return abort();
  if (last) {
    streaming_.reset();
    queue_.clear();
    read_closed_ = true;
    return do_close();
  }
  write_stream();
}

void HttpSession::do_write() {
  if (writing_ || closed_ || closing_) return;
  if (streaming_) return write_stream();
  if (queue_.empty()) {
    if (read_closed_ && !reading_) do_close();
    return;
  }
  if (!queue_.front().res) return;
  writing_ = true;
  if (queue_.front().stream) {
    // The header now, then the body chunk by chunk as it is pushed.
    head_sr_.emplace(*queue_.front().res);
    stream_.expires_after(config_.idle_timeout);
    http::async_write_header(stream_, *head_sr_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->writing_ = false;
                               if (self->closed_) return;
                               if (ec) return self->abort();
                               self->streaming_ = self->queue_.front().stream;
                               self->write_stream();
                             });
    return;
  }
  stream_.expires_after(config_.idle_timeout);  // a client that stops reading is cut off
  http::async_write(
      stream_, *queue_.front().res,
      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), queue_.front().close));
}

void HttpSession::on_write(bool close, beast::error_code ec, std::size_t) {
  writing_ = false;
  if (closed_) return;
  queue_.pop_front();
  if (ec) return abort();
  if (close) {
    read_closed_ = true;
    return do_close();
  }
  do_write();
  do_read();
  update_idle_timer();
}

void HttpSession::on_peer_closed() {
  read_closed_ = true;
  // A pending answer with nobody to read it: the client went away (drop its long polls). During
  // a graceful stop the answers are coming (Router::shutdown), so wait for them.
  bool pending = false;
  for (const auto& slot : queue_) pending = pending || !slot.res;
  if (pending && !stopping_) return abort();
  if (queue_.empty()) return do_close();
  do_write();
}

void HttpSession::do_close() {
  if (closing_ || closed_) return;
  closing_ = true;
  release();
  idle_timer_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Drain what the client still sends (e.g. the rest of a body over the limit), so the kernel
  // does not reset the connection before the client has read our last answer.
  linger_until_ = std::chrono::steady_clock::now() + kLinger;
  // A read still pending (pipelining) ends the linger when it completes; cut it off at the end.
  idle_timer_.expires_at(linger_until_);
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->abort();
  });
  if (!reading_) do_linger();
}

void HttpSession::do_linger() {
  if (closed_) return;
  if (std::chrono::steady_clock::now() >= linger_until_) return abort();
  reading_ = true;
  stream_.expires_at(linger_until_);
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(64 * 1024),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->reading_ = false;
                            if (ec) return self->abort();
                            self->do_linger();
                          });
}

void HttpSession::abort() {
  if (closed_) return;
  closed_ = true;
  release();
  idle_timer_.cancel();
  beast::error_code ec;
  stream_.socket().close(ec);
}

void HttpSession::release() {
  // A stream's producer stops writing to a connection that is gone.
  for (auto& slot : queue_) {
    if (slot.stream) slot.stream->close();
  }
  if (streaming_) streaming_->close();
  if (!open_) return;
  open_.reset();
  router_.drop_closed();
}

}  // namespace emu::api
