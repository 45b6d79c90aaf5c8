#include "api/event_stream.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <utility>

#include "api/api_error.hpp"
#include "api/query_params.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::api {

namespace asio = boost::asio;

namespace {

/// `out` gets the frame's data field and the blank line that ends the frame. A line break
/// inside the data would end the field: each line gets its own `data:` (the client joins them
/// with "\n"). The events' JSON is one line, so this is one `data:`.
void append_data(std::string& out, std::string_view data) {
  std::size_t pos = 0;
  while (true) {
    auto end = data.find_first_of("\r\n", pos);
    out += "data: ";
    out += data.substr(pos, end == std::string_view::npos ? end : end - pos);
    out += '\n';
    if (end == std::string_view::npos) break;
    pos = end + 1;
    if (data[end] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;
  }
  out += '\n';
}

}  // namespace

std::string sse_frame(std::uint64_t id, std::string_view data) {
  std::string out = "id: " + std::to_string(id) + "\n";
  append_data(out, data);
  return out;
}

std::string sse_probe_frame(std::string_view data) {
  std::string out = "event: probe\n";
  append_data(out, data);
  return out;
}

namespace {

std::set<std::string> split_list(const std::string& raw) {
  std::set<std::string> out;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    auto end = raw.find(',', pos);
    if (end == std::string::npos) end = raw.size();
    if (end > pos) out.insert(raw.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::optional<std::uint64_t> parse_index(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool StreamFilter::wants_probe(std::string_view service) const {
  if (probes == Probes::None) return false;
  return services.empty() || services.contains(std::string(service));
}

bool StreamFilter::matches(const nlohmann::json& event) const {
  if (probes == Probes::Only) return false;
  if (!types.empty()) {
    auto it = event.find("type");
    if (it == event.end() || !it->is_string() || !types.contains(it->get<std::string>()))
      return false;
  }
  if (!services.empty()) {
    auto it = event.find("service");
    if (it == event.end() || !it->is_string() || !services.contains(it->get<std::string>()))
      return false;
  }
  return true;
}

Result<std::uint64_t> resume_index(std::optional<std::string_view> last_event_id,
                                   const RequestTarget& target) {
  if (last_event_id && !last_event_id->empty()) {
    auto v = parse_index(*last_event_id);
    if (!v)
      return invalid_field("Last-Event-ID",
                           "must be an event index, got '" + std::string(*last_event_id) + "'");
    return *v;
  }
  return uint_param(target, "after", 0, UINT64_MAX);  // as GET /v1/events reads it
}

Result<StreamFilter> stream_filter(const RequestTarget& target) {
  StreamFilter f;
  if (auto p = target.param("probes")) {
    if (*p == "1" || *p == "true") {
      f.probes = StreamFilter::Probes::Also;
    } else if (*p == "only") {
      f.probes = StreamFilter::Probes::Only;
    } else if (*p != "0" && *p != "false") {
      return invalid_field("probes", "must be 0, 1, true, false or only, got '" + *p + "'");
    }
  }
  if (auto s = target.param("service")) {
    for (auto name : split_list(*s)) {
      if (!name.empty() && name.back() == '.') name.pop_back();
      if (name.find('.') == std::string::npos) name += ".local";
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      f.services.insert(std::move(name));
    }
  }
  if (auto t = target.param("type")) f.types = split_list(*t);
  return f;
}

EventStream::EventStream(ApiContext& ctx, asio::io_context& io)
    : ctx_(ctx), io_(io), heartbeat_(io) {}

void EventStream::attach() {
  std::weak_ptr<EventStream> weak = weak_from_this();
  ctx_.registry.add_observer([weak](const core::CommitInfo&) {
    if (auto self = weak.lock()) self->schedule();
  });
  ctx_.registry.add_probe_listener([weak](const core::Task& task, const core::ProbeRecord& r) {
    if (auto self = weak.lock()) self->on_probe(task, r);
  });
}

void EventStream::count_probe_clients() {
  probe_clients_ =
      static_cast<std::size_t>(std::count_if(clients_.begin(), clients_.end(), [](const Client& c) {
        return c.filter.probes != StreamFilter::Probes::None;
      }));
}

void EventStream::on_probe(const core::Task& task, const core::ProbeRecord& record) {
  if (probe_clients_ == 0) return;  // the common case: no page shows probes
  const core::Service* s = ctx_.registry.service_by_id(task.service_id);
  if (!s) return;
  const std::string service = ctx_.registry.dns_name(*s);
  std::string frame;
  for (auto& c : clients_) {
    if (c.body->closed() || c.body->finished() || !c.filter.wants_probe(service)) continue;
    if (c.body->backlog() > kMaxBacklog) {
      c.body->finish();  // too slow, as in pump(): dropped there or at the next heartbeat
      continue;
    }
    if (frame.empty()) {
      auto j = core::native::to_json(record);
      j["taskId"] = task.id;
      j["service"] = service;
      j["ip"] = task.ipv4.empty() ? task.ipv6 : task.ipv4;
      j["port"] = task.port;
      frame = sse_probe_frame(j.dump());
    }
    c.body->push(frame);
  }
}

Response EventStream::head() {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/event-stream; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");
  return res;
}

void EventStream::open(std::uint64_t after, StreamFilter filter, const OpenStream& open) {
  auto body = std::make_shared<StreamBody>();
  // The retry hint (ms) for EventSource's reconnect, then the backlog since `after`.
  body->push("retry: 1000\n\n");
  Client c{body, after, std::move(filter)};
  // A probes-only stream has no lifecycle events to replay.
  if (c.filter.probes == StreamFilter::Probes::Only) c.after = ctx_.registry.events().last_index();
  // An index from the future (a client that kept one across a reset of its own) starts over.
  if (c.after > ctx_.registry.events().last_index()) c.after = 0;
  open(head(), body);
  if (body->closed()) return;
  const bool more = feed(c);
  clients_.push_back(std::move(c));
  count_probe_clients();
  if (more) schedule();
  // The heartbeat runs only while a stream is open (an idle daemon keeps no timer).
  if (!stopped_ && heartbeat_.expiry() <= std::chrono::steady_clock::now()) arm_heartbeat();
}

void EventStream::schedule() {
  if (pump_posted_ || clients_.empty() || stopped_) return;
  pump_posted_ = true;
  std::weak_ptr<EventStream> weak = weak_from_this();
  asio::post(io_, [weak] {
    if (auto self = weak.lock()) {
      self->pump_posted_ = false;
      self->pump();
    }
  });
}

bool EventStream::feed(Client& c) {
  const auto& log = ctx_.registry.events();
  if (c.after >= log.last_index()) return false;
  auto events = log.after(c.after, kBatch);
  std::string out;
  for (const auto& e : events) {
    auto j = core::native::to_json(e);
    if (c.filter.matches(j)) out += sse_frame(e.index, j.dump());
    c.after = e.index;
  }
  // Older events than the log keeps were dropped: continue from the newest one.
  if (events.empty()) c.after = log.last_index();
  if (!out.empty()) c.body->push(std::move(out));
  return c.after < log.last_index();
}

void EventStream::pump() {
  bool more = false;
  std::erase_if(clients_, [&](Client& c) {
    if (c.body->closed()) return true;
    if (c.body->backlog() > kMaxBacklog) {
      c.body->finish();  // too slow: it reconnects with Last-Event-ID
      return true;
    }
    more = feed(c) || more;
    return false;
  });
  count_probe_clients();
  if (more) schedule();
}

void EventStream::heartbeat() {
  if (stopped_) return;
  std::erase_if(clients_, [](const Client& c) { return c.body->closed(); });
  count_probe_clients();
  for (auto& c : clients_) c.body->push(": keep-alive\n\n");
  if (!clients_.empty()) arm_heartbeat();
}

void EventStream::arm_heartbeat() {
  heartbeat_.expires_after(kHeartbeat);
  std::weak_ptr<EventStream> weak = weak_from_this();
  heartbeat_.async_wait([weak](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->heartbeat();
  });
}

void EventStream::flush() {
  stopped_ = true;
  heartbeat_.cancel();
  for (auto& c : clients_) c.body->finish();
  clients_.clear();
  probe_clients_ = 0;
}

}  // namespace emu::api
