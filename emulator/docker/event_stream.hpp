#pragma once
// EventStream: Docker's container events, live. A background thread GETs
// `/v1.41/events?filters={"type":["container"]}` (chunked, one JSON object per line, never ends)
// and hands each event the daemon acts on (parse_container_event) to on_event. When the stream
// drops it calls on_disconnect, reconnects
// with a bounded exponential backoff, and calls on_connected once the new subscription is live
// (the daemon resynchronises there: events that happened in between are not replayed).
// Callbacks run on the stream's thread: the caller posts to its own loop.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "emulator/core/time.hpp"

namespace emu::docker {

/// A container event in plain values (see parse_container_event).
struct ContainerEvent {
  std::string id;
  /// create | start | restart | die | oom | stop | destroy | health_status
  std::string action;
  /// for health_status: healthy | unhealthy | starting
  std::string health;
  /// for die: Actor.Attributes.exitCode
  std::optional<int> exit_code;
  /// Actor.Attributes: the container's labels, plus name and image
  std::map<std::string, std::string> attributes;
};

/// A container event the daemon acts on, or nullopt: other types (network, image), exec_*
/// actions, attach/kill/resize/... and malformed objects are ignored. Docker sends
/// "health_status: healthy"; that becomes action "health_status" with health "healthy" (pure).
[[nodiscard]] std::optional<ContainerEvent> parse_container_event(const nlohmann::json& event);

/// Reassembles lines from a byte stream cut anywhere (pure).
class LineBuffer {
 public:
  /// Appends `bytes` and returns the complete lines so far, without '\n' (or "\r\n"); empty
  /// lines are dropped. A partial last line waits for the next call.
  std::vector<std::string> feed(std::string_view bytes);
  /// Bytes of the partial line held back.
  std::size_t pending() const { return partial_.size(); }

 private:
  std::string partial_;
};

/// What EventStream calls, on its own thread.
struct EventStreamCallbacks {
  /// Each event that parse_container_event keeps, in order (exec_*, attach, ... are dropped).
  std::function<void(const ContainerEvent&)> on_event;
  /// Each time a subscription is live (200 received): the first time and after a reconnect.
  std::function<void()> on_connected;
  /// Once per lost subscription (not for each failed reconnect attempt), with the reason.
  std::function<void(const std::string& reason)> on_disconnect;
};

/// Follows Docker's container events on its own thread; see the file comment.
class EventStream {
 public:
  using Callbacks = EventStreamCallbacks;

  struct Options {
    std::string socket_path = "/var/run/docker.sock";
    Duration initial_backoff = std::chrono::milliseconds(100);
    Duration max_backoff = std::chrono::seconds(5);
    /// Connect, send and read the response headers within this; the stream itself has none.
    Duration connect_timeout = std::chrono::seconds(10);
  };

  /// Default backoff (100 ms doubling to 5 s) on `socket_path`.
  EventStream(std::string socket_path, Callbacks callbacks);
  /// Everything explicit (tests shorten the backoff).
  EventStream(Options options, Callbacks callbacks);
  /// Stops (see stop()).
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  /// Starts the thread; it connects at once. Call once.
  void start();
  /// Returns promptly: stops the thread's loop (which closes the connection or cancels the
  /// backoff wait) and joins it. No callback runs after stop() returns. Idempotent; not from a
  /// callback.
  void stop();

  /// The request target (exposed for tests).
  static std::string target();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace emu::docker
