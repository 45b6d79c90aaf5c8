#pragma once
// Lifecycle events: published after their change is committed; indexes only grow, across reset
// and restart (the high-water mark is persisted). Each event is a typed value (one struct per
// kind, held in a std::variant) that describes itself: the runtime logs message() as one readable
// line, GET /v1/events serves to_json(), and Cloud Map's InstancesRevision follows
// revision_service(). No consumer recovers a kind by reading a string.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "emulator/core/model.hpp"
#include "emulator/core/time.hpp"

namespace emu::core {

/// What one change did to one task, as describe_change(before, after) finds it.
struct TaskChange {
  std::string task_id;
  std::string service;     ///< `web.local`; empty when the task is in no discovery service
  std::string service_id;  ///< srv-...
  std::string ipv4;
  std::string ipv6;
  std::uint16_t port = 0;
  std::optional<TaskStatus> old_status;  ///< nullopt: the task is new
  TaskStatus new_status = TaskStatus::Running;
  Health old_health = Health::Unknown;
  Health new_health = Health::Unknown;
  std::string stop_code;
  std::string reason;
  std::vector<std::string> records_added;    ///< `A 10.0.0.1`, `SRV 1 1 80 id.web.local.`
  std::vector<std::string> records_removed;  ///< the same, leaving DNS
  /// The IPv4 address, else the IPv6 one.
  const std::string& ip() const { return ipv4.empty() ? ipv6 : ipv4; }
};

// One struct per kind of event. The kind's name is the `type` of /v1/events.

struct NamespaceCreated {
  std::string ns, namespace_id;
};
struct NamespaceUpdated {
  std::string ns, namespace_id;
};
struct NamespaceDeleted {
  std::string ns, namespace_id;
};
struct ServiceCreated {
  std::string service, service_id;
};
struct ServiceUpdated {
  std::string service, service_id;
};
struct ServiceDeleted {
  std::string service, service_id;
  std::vector<std::string> records_removed;
};
/// A registration (native POST, Cloud Map RegisterInstance); `again` = an upsert (TaskUpdated).
struct TaskRegistered {
  TaskChange change;
  bool again = false;
};
/// A Cloud Map instance erased (DeregisterInstance).
struct TaskDeregistered {
  TaskChange change;
};
/// A task stopped by the registry (native DELETE, service deleted).
struct TaskStopped {
  TaskChange change;
};
/// Observed health changed; `dns_delay` when DNS follows later (--health-propagation-delay).
struct TaskHealthChanged {
  TaskChange change;
  std::optional<Duration> dns_delay;
};
/// A delayed health change reached DNS.
struct TaskDnsHealthChanged {
  TaskChange change;
};
/// A step of a task's lifecycle written by its owner (ECS engine, compose discovery).
struct TaskStateChanged {
  enum class Kind { Provisioning, StatusChanged, Stopping, Stopped, HealthChanged, Updated };
  Kind kind = Kind::StatusChanged;
  std::string what;  ///< the owner's own words: `task 1f.. (service:web) PENDING -> ACTIVATING`
  TaskChange change;
};
/// POST /v1/reset.
struct StateReset {};

using EventBody =
    std::variant<NamespaceCreated, NamespaceUpdated, NamespaceDeleted, ServiceCreated,
                 ServiceUpdated, ServiceDeleted, TaskRegistered, TaskDeregistered, TaskStopped,
                 TaskHealthChanged, TaskDnsHealthChanged, TaskStateChanged, StateReset>;

/// One lifecycle event.
struct Event {
  std::uint64_t index = 0;
  WallTime time{};
  EventBody body;

  /// TaskRegistered, TaskHealthChanged, TaskStopped, ServiceCreated, ...
  std::string_view type() const;
  /// One line a person can read.
  std::string message() const;
  /// taskId, service, ip, port, old/new, reason, records (the body of the /v1/events entry).
  nlohmann::json detail() const;
  /// The discovery service (`web.local`) whose Cloud Map InstancesRevision this changes, if any:
  /// registrations, deregistrations, stops and lifecycle steps do; health changes do not.
  std::optional<std::string_view> revision_service() const;
  /// The typed body, if it is a T.
  template <typename T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
};

/// The name of a TaskStateChanged kind (TaskProvisioning, TaskStatusChanged, ...).
std::string_view to_string(TaskStateChanged::Kind kind);

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
