#pragma once
// Long polls: GET /v1/wait (until a DNS answer has exactly N records) and GET /v1/events
// (the Consul blocking-query model). Each waiter keeps its Respond and answers later: after a
// registry commit makes its condition true, or at its timeout (an asio steady_timer). Waiters
// whose connection closed are dropped. Everything runs on the io_context thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/api_context.hpp"
#include "api/http_types.hpp"
#include "emulator/core/time.hpp"

namespace emu::api {

class LongPoll : public std::enable_shared_from_this<LongPoll> {
 public:
  /// Most events one response carries; the index then points at the last one returned.
  static constexpr std::size_t kEventLimit = 1000;

  /// Create with std::make_shared, then attach() once.
  LongPoll(ApiContext& ctx, boost::asio::io_context& io);
  /// Registers the registry observer (holds only a weak pointer to this).
  void attach();

  /// Answers 200 with the lookup once it has exactly `count` answers, else 408 at `timeout`.
  void wait_dns(std::string name, std::string type, std::size_t count, Duration timeout,
                Respond respond, ConnectionToken connection);
  /// Answers with the events after `after` at once if there are any, else when one arrives or
  /// `wait` passes.
  void wait_events(std::uint64_t after, Duration wait, Respond respond, ConnectionToken connection);
  /// {"index": latest, "events": [...]} for the events after `after`.
  nlohmann::json events_after(std::uint64_t after) const;

  /// Drops waiters whose connection has closed.
  void drop_closed();
  /// Answers every waiter now as at its timeout (graceful shutdown).
  void flush();
  /// Number of waiting requests.
  std::size_t pending() const { return waiters_.size(); }

 private:
  struct Waiter {
    enum class Kind { Dns, Events } kind;
    std::string name;
    std::string type;
    std::size_t count = 0;
    std::uint64_t after = 0;
    Respond respond;
    ConnectionToken connection;
    bool has_connection = false;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void add(Waiter waiter, Duration timeout);
  void schedule_evaluate();
  void evaluate();
  void on_timeout(std::uint64_t id);
  /// Removes the waiter and posts its response (never answers from inside a commit).
  void complete(std::uint64_t id, Response res);
  Response timeout_response(const Waiter& waiter) const;
  static bool closed(const Waiter& waiter);

  ApiContext& ctx_;
  boost::asio::io_context& io_;
  std::map<std::uint64_t, Waiter> waiters_;
  std::uint64_t next_id_ = 1;
  bool evaluate_posted_ = false;
};

}  // namespace emu::api
