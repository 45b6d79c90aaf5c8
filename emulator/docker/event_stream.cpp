#include "emulator/docker/event_stream.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "emulator/docker/docker_client.hpp"
#include "emulator/log/log.hpp"

namespace emu::docker {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local_stream = beast::basic_stream<net::local::stream_protocol>;

namespace {

constexpr std::string_view kComponent = "docker-events";

// One event is a few hundred bytes (more with many labels); a line this long is not Docker's.
constexpr std::size_t kMaxLine = 1024 * 1024;

std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool tracked(std::string_view action) {
  static constexpr std::string_view kActions[] = {"create", "start", "restart", "die",
                                                  "oom",    "stop",  "destroy"};
  return std::find(std::begin(kActions), std::end(kActions), action) != std::end(kActions);
}

}  // namespace

std::optional<ContainerEvent> parse_container_event(const nlohmann::json& event) {
  if (!event.is_object()) return std::nullopt;
  // API >= 1.22 sends Type/Action/Actor; the older status/id/from fields are a fallback.
  std::string type = string_at(event, "Type");
  if (type.empty() && event.contains("status")) type = "container";
  if (type != "container") return std::nullopt;

  ContainerEvent out;
  std::string action = string_at(event, "Action");
  if (action.empty()) action = string_at(event, "status");
  constexpr std::string_view kHealth = "health_status";
  if (action.starts_with(kHealth)) {
    // "health_status: healthy"
    std::string_view health = std::string_view(action).substr(kHealth.size());
    if (!health.empty() && health.front() == ':') health.remove_prefix(1);
    while (!health.empty() && health.front() == ' ') health.remove_prefix(1);
    if (health.empty()) return std::nullopt;
    out.health = std::string(health);
    out.action = std::string(kHealth);
  } else if (tracked(action)) {
    out.action = std::move(action);
  } else {
    return std::nullopt;  // exec_create: ..., exec_start: ..., attach, kill, resize, rename, ...
  }

  if (const auto actor = event.find("Actor"); actor != event.end() && actor->is_object()) {
    out.id = string_at(*actor, "ID");
    if (const auto attrs = actor->find("Attributes"); attrs != actor->end() && attrs->is_object()) {
      for (const auto& [key, value] : attrs->items()) {
        if (value.is_string()) out.attributes[key] = value.get<std::string>();
      }
    }
  }
  if (out.id.empty()) out.id = string_at(event, "id");
  if (out.id.empty()) return std::nullopt;

  if (out.action == "die") {
    if (const auto it = out.attributes.find("exitCode"); it != out.attributes.end()) {
      try {
        std::size_t used = 0;
        const int code = std::stoi(it->second, &used);
        if (used == it->second.size()) out.exit_code = code;
      } catch (const std::exception&) {
        // not a number: no exit code
      }
    }
  }
  return out;
}

std::vector<std::string> LineBuffer::feed(std::string_view bytes) {
  std::vector<std::string> lines;
  while (!bytes.empty()) {
    const auto eol = bytes.find('\n');
    if (eol == std::string_view::npos) {
      partial_.append(bytes);
      // Never grow without bound on a stream that has no newlines: drop the garbage.
      if (partial_.size() > kMaxLine) partial_.clear();
      break;
    }
    partial_.append(bytes.substr(0, eol));
    bytes.remove_prefix(eol + 1);
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (!partial_.empty()) lines.push_back(std::move(partial_));
    partial_.clear();
  }
  return lines;
}

// The connection state machine; everything runs on the EventStream's thread, inside io_.
class EventStream::Loop {
 public:
  Loop(Options options, Callbacks callbacks)
      : options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        backoff_(options_.initial_backoff) {}

  void run() {
    do_connect();
    io_.run();
  }

  /// Thread-safe: run() returns as soon as the current handler (if any) finishes.
  void stop() { io_.stop(); }

 private:
  void do_connect() {
    stream_.emplace(io_);
    buffer_.clear();
    lines_ = LineBuffer{};
    stream_->expires_after(options_.connect_timeout);
    stream_->async_connect(net::local::stream_protocol::endpoint(options_.socket_path),
                           [this](const beast::error_code& ec) { on_connect(ec); });
  }

  void on_connect(const beast::error_code& ec) {
    if (ec) return fail("connect " + options_.socket_path + ": " + ec.message());
    request_ = http::request<http::empty_body>{http::verb::get, EventStream::target(), 11};
    request_.set(http::field::host, "docker");
    request_.set(http::field::user_agent, "ecs-emulator");
    http::async_write(*stream_, request_,
                      [this](const beast::error_code& ec, std::size_t) { on_write(ec); });
  }

  void on_write(const beast::error_code& ec) {
    if (ec) return fail("write: " + ec.message());
    parser_.emplace();
    parser_->body_limit(boost::none);  // the stream never ends
    http::async_read_header(*stream_, buffer_, *parser_,
                            [this](const beast::error_code& ec, std::size_t) { on_header(ec); });
  }

  void on_header(const beast::error_code& ec) {
    if (ec) return fail("read: " + ec.message());
    const unsigned status = parser_->get().result_int();
    if (status != 200) return fail("HTTP " + std::to_string(status));
    stream_->expires_never();
    connected_ = true;
    failures_ = 0;
    backoff_ = options_.initial_backoff;
    log::info(kComponent, "subscribed", {{"socket", options_.socket_path}});
    if (callbacks_.on_connected) callbacks_.on_connected();
    do_read();
  }

  void do_read() {
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    http::async_read_some(*stream_, buffer_, *parser_,
                          [this](beast::error_code ec, std::size_t) { on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    const std::size_t got = chunk_.size() - parser_->get().body().size;
    for (auto& line : lines_.feed(std::string_view(chunk_.data(), got))) {
      const auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (event.is_discarded()) {
        log::warn(kComponent, "skipped a line that is not JSON", {{"line", line.substr(0, 200)}});
        continue;
      }
      if (auto parsed = parse_container_event(event); parsed && callbacks_.on_event) {
        callbacks_.on_event(*parsed);
      }
    }
    if (ec == http::error::need_buffer) ec = {};  // the chunk buffer was filled: read on
    if (ec) return fail("read: " + ec.message());
    if (parser_->is_done()) return fail("the engine ended the stream");
    do_read();
  }

  void fail(const std::string& why) {
    beast::error_code ignored;
    stream_->socket().close(ignored);
    if (connected_) {
      connected_ = false;
      log::warn(kComponent, "disconnected", {{"reason", why}});
      if (callbacks_.on_disconnect) callbacks_.on_disconnect(why);
    } else if (failures_ == 0) {
      log::warn(kComponent, "cannot subscribe, retrying", {{"reason", why}});
    } else {
      log::debug(kComponent, "cannot subscribe, retrying", {{"reason", why}});
    }
    ++failures_;
    timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    timer_.async_wait([this](const beast::error_code& ec) {
      if (!ec) do_connect();
    });
  }

  const Options options_;
  const Callbacks callbacks_;
  net::io_context io_;  // first: destroyed last, after everything registered with it
  net::steady_timer timer_{io_};
  std::optional<local_stream> stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, 16 * 1024> chunk_{};
  LineBuffer lines_;
  Duration backoff_;
  bool connected_ = false;
  int failures_ = 0;
};

EventStream::EventStream(std::string socket_path, Callbacks callbacks)
    : EventStream(Options{.socket_path = std::move(socket_path)}, std::move(callbacks)) {}

EventStream::EventStream(Options options, Callbacks callbacks)
    : loop_(std::make_unique<Loop>(std::move(options), std::move(callbacks))) {}

EventStream::~EventStream() { stop(); }

void EventStream::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([loop = loop_.get()] { loop->run(); });
}

void EventStream::stop() {
  loop_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string EventStream::target() {
  return std::string(kApiPrefix) + "/events?filters=" + url_encode(R"({"type":["container"]})");
}

}  // namespace emu::docker
