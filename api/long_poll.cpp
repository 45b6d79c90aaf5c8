#include "api/long_poll.hpp"

#include <boost/asio/post.hpp>
#include <utility>
#include <vector>

#include "api/api_error.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::api {

namespace asio = boost::asio;

namespace {

std::size_t answer_count(const nlohmann::json& lookup) {
  auto it = lookup.find("answers");
  return it != lookup.end() && it->is_array() ? it->size() : 0;
}

// A default-constructed token (no connection to watch) never counts as closed.
bool has_owner(const ConnectionToken& token) {
  const ConnectionToken empty;
  return token.owner_before(empty) || empty.owner_before(token);
}

}  // namespace

LongPoll::LongPoll(ApiContext& ctx, asio::io_context& io) : ctx_(ctx), io_(io) {}

void LongPoll::attach() {
  std::weak_ptr<LongPoll> weak = weak_from_this();
  ctx_.registry.add_observer([weak](const core::CommitInfo&) {
    if (auto self = weak.lock()) self->schedule_evaluate();
  });
}

bool LongPoll::closed(const Waiter& waiter) {
  return waiter.has_connection && waiter.connection.expired();
}

void LongPoll::wait_dns(std::string name, std::string type, std::size_t count, Duration timeout,
                        Respond respond, ConnectionToken connection) {
  auto lookup = ctx_.dns_lookup(name, type);
  if (answer_count(lookup) == count) {
    respond(json_response(http::status::ok, lookup));
    return;
  }
  Waiter w{Waiter::Kind::Dns,  std::move(name), std::move(type),       count,  0,
           std::move(respond), connection,      has_owner(connection), nullptr};
  add(std::move(w), timeout);
}

nlohmann::json LongPoll::events_after(std::uint64_t after) const {
  const auto& log = ctx_.registry.events();
  auto events = log.after(after, kEventLimit);
  nlohmann::json out = nlohmann::json::object();
  // A full page: the index is the last event returned, so `after=index` continues from there.
  out["index"] = events.size() >= kEventLimit ? events.back().index : log.last_index();
  auto& list = out["events"] = nlohmann::json::array();
  for (const auto& e : events) list.push_back(core::native::to_json(e));
  return out;
}

void LongPoll::wait_events(std::uint64_t after, Duration wait, Respond respond,
                           ConnectionToken connection) {
  const auto& log = ctx_.registry.events();
  // Consul: an index from the future (e.g. the client kept one across a reset of its own) returns
  // at once so the client can start over from the current index.
  if (wait.count() == 0 || after > log.last_index() || !log.after(after, 1).empty()) {
    respond(json_response(http::status::ok, events_after(after)));
    return;
  }
  Waiter w{Waiter::Kind::Events,  {},     {}, 0, after, std::move(respond), connection,
           has_owner(connection), nullptr};
  add(std::move(w), wait);
}

void LongPoll::add(Waiter waiter, Duration timeout) {
  const auto id = next_id_++;
  waiter.timer = std::make_unique<asio::steady_timer>(io_, timeout);
  std::weak_ptr<LongPoll> weak = weak_from_this();
  waiter.timer->async_wait([weak, id](boost::system::error_code ec) {
    if (ec) return;  // operation_aborted: answered or dropped before the timeout
    if (auto self = weak.lock()) self->on_timeout(id);
  });
  waiters_.emplace(id, std::move(waiter));
}

void LongPoll::schedule_evaluate() {
  // Coalesce: many commits in one burst are evaluated once, after they all published.
  if (evaluate_posted_ || waiters_.empty()) return;
  evaluate_posted_ = true;
  std::weak_ptr<LongPoll> weak = weak_from_this();
  asio::post(io_, [weak] {
    if (auto self = weak.lock()) {
      self->evaluate_posted_ = false;
      self->evaluate();
    }
  });
}

void LongPoll::evaluate() {
  std::vector<std::pair<std::uint64_t, Response>> done;
  std::vector<std::uint64_t> gone;
  for (auto& [id, w] : waiters_) {
    if (closed(w)) {
      gone.push_back(id);
      continue;
    }
    if (w.kind == Waiter::Kind::Dns) {
      auto lookup = ctx_.dns_lookup(w.name, w.type);
      if (answer_count(lookup) == w.count) {
        done.emplace_back(id, json_response(http::status::ok, lookup));
      }
    } else if (!ctx_.registry.events().after(w.after, 1).empty()) {
      done.emplace_back(id, json_response(http::status::ok, events_after(w.after)));
    }
  }
  for (auto id : gone) waiters_.erase(id);
  for (auto& [id, res] : done) complete(id, std::move(res));
}

void LongPoll::on_timeout(std::uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  if (closed(it->second)) {
    waiters_.erase(it);
    return;
  }
  complete(id, timeout_response(it->second));
}

Response LongPoll::timeout_response(const Waiter& w) const {
  if (w.kind == Waiter::Kind::Dns) {
    return json_response(http::status::request_timeout, ctx_.dns_lookup(w.name, w.type));
  }
  return json_response(http::status::ok, events_after(w.after));
}

void LongPoll::complete(std::uint64_t id, Response res) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Respond respond = std::move(it->second.respond);
  waiters_.erase(it);  // destroys (and so cancels) the timer
  asio::post(io_, [respond = std::move(respond), res = std::move(res)]() mutable {
    respond(std::move(res));
  });
}

void LongPoll::drop_closed() {
  std::erase_if(waiters_, [](const auto& entry) { return closed(entry.second); });
}

void LongPoll::flush() {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, w] : waiters_) ids.push_back(id);
  for (auto id : ids) on_timeout(id);
}

}  // namespace emu::api
