#pragma once
// Lifecycle events: published after their change is committed; indexes only grow, across reset
// and restart (the high-water mark is persisted). The runtime logs each as one readable line,
// and GET /v1/events serves them (the Consul blocking-query model).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emulator/core/time.hpp"

namespace emu::core {

/// One lifecycle event.
struct Event {
  std::uint64_t index = 0;
  WallTime time{};
  std::string type;     ///< TaskRegistered, TaskHealthChanged, TaskStopped, ServiceCreated, ...
  std::string message;  ///< one line a person can read
  nlohmann::json detail =
      nlohmann::json::object();  ///< taskId, service, ip, port, old/new, reason, records
};

/// The recent events, capped; indexes keep growing when old ones are dropped.
class EventLog {
 public:
  explicit EventLog(std::size_t capacity = 10000) : capacity_(capacity) {}
  /// Latest index handed out (0 = none yet).
  std::uint64_t last_index() const { return last_; }
  /// Continues numbering after `index` (at load).
  void resume_after(std::uint64_t index) {
    if (index > last_) last_ = index;
  }
  /// Assigns the next index (used while a commit is prepared).
  std::uint64_t next_index() { return ++last_; }
  /// Stores committed events.
  void append(const std::vector<Event>& events) {
    for (const auto& e : events) {
      events_.push_back(e);
      if (events_.size() > capacity_) events_.pop_front();
    }
  }
  /// Events with index > after, at most `limit`.
  std::vector<Event> after(std::uint64_t after, std::size_t limit = 1000) const {
    std::vector<Event> out;
    for (const auto& e : events_) {
      if (e.index > after) {
        out.push_back(e);
        if (out.size() >= limit) break;
      }
    }
    return out;
  }
  void clear() { events_.clear(); }

 private:
  std::size_t capacity_;
  std::uint64_t last_ = 0;
  std::deque<Event> events_;
};

}  // namespace emu::core
