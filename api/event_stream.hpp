#pragma once
// GET /v1/events/stream: the lifecycle events of GET /v1/events as server-sent events
// (text/event-stream). Each event is one frame, `id: <index>` and `data: <the event's JSON as
// /v1/events gives it>`; a client resumes after the index in its `Last-Event-ID` header (what
// EventSource sends on reconnect) or `?after=`. A comment line every kHeartbeat keeps proxies
// and idle timers from closing a quiet stream. Commits only schedule a pump on the io thread
// (DNS runs on its own threads and never waits on this); a client that reads too slowly for its
// backlog to stay under kMaxBacklog is disconnected, and resumes from its last id.
// With `?probes=1` (or `only`, for probe results alone) a stream also carries every probe result
// of its services as it is kept, as `event: probe` frames without an id: they are not lifecycle
// events, so they move no Last-Event-ID and are not replayed on resume (a task's last 10 are in
// GET /v1/tasks/{id}).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_context.hpp"
#include "api/http_types.hpp"
#include "api/request_target.hpp"
#include "api/stream_body.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {

/// One SSE frame: `id: <id>`, one `data:` line per line of `data`, and the blank line.
std::string sse_frame(std::uint64_t id, std::string_view data);

/// One probe result as a frame: `event: probe` and `data:` {taskId, service, ip, port, time,
/// outcome, detail, exitCode, output}; no id.
std::string sse_probe_frame(std::string_view data);

/// Which events a stream carries (empty sets: all).
struct StreamFilter {
  /// Probe results: none (default), as well as the lifecycle events, or only them.
  enum class Probes { None, Also, Only };
  std::set<std::string> services;  ///< dns names (`game-server.local`)
  std::set<std::string> types;     ///< TaskHealthChanged, ...
  Probes probes = Probes::None;
  bool matches(const nlohmann::json& event) const;
  /// Whether a probe result of the service with this dns name goes to the stream.
  bool wants_probe(std::string_view service) const;
};

/// The index a stream starts after: `Last-Event-ID` (a reconnecting EventSource) wins over
/// `?after=`; neither means 0 (every retained event). A malformed one is a 400.
Result<std::uint64_t> resume_index(std::optional<std::string_view> last_event_id,
                                   const RequestTarget& target);
/// `?service=a,b&type=X,Y&probes=1|only` (a bare service name means the default namespace
/// `local`). A `probes` value other than 0, 1, true, false or only is a 400.
Result<StreamFilter> stream_filter(const RequestTarget& target);

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  /// Unwritten bytes after which a slow client is cut off (it resumes with Last-Event-ID).
  static constexpr std::size_t kMaxBacklog = 4 * 1024 * 1024;
  /// Events written to one client per pump before the others get their turn.
  static constexpr std::size_t kBatch = 1000;
  static constexpr std::chrono::seconds kHeartbeat{15};

  /// Create with std::make_shared, then attach() once.
  EventStream(ApiContext& ctx, boost::asio::io_context& io);
  /// Registers the registry observer (weak) and starts the heartbeat.
  void attach();
  /// Starts a stream of the events after `after` that pass `filter` on `open`'s connection.
  void open(std::uint64_t after, StreamFilter filter, const OpenStream& open);
  /// Streams open now.
  std::size_t clients() const { return clients_.size(); }
  /// Ends every stream (graceful shutdown); stops the heartbeat.
  void flush();
  /// The response head of a stream (also what tests check).
  static Response head();

 private:
  struct Client {
    std::shared_ptr<StreamBody> body;
    std::uint64_t after = 0;
    StreamFilter filter;
  };

  void schedule();
  void pump();
  void on_probe(const core::Task& task, const core::ProbeRecord& record);
  void count_probe_clients();
  /// Writes the next events to one client; true when more remain.
  bool feed(Client& client);
  void heartbeat();
  void arm_heartbeat();

  ApiContext& ctx_;
  boost::asio::io_context& io_;
  boost::asio::steady_timer heartbeat_;
  std::vector<Client> clients_;
  bool pump_posted_ = false;
  bool stopped_ = false;
  std::size_t probe_clients_ = 0;  ///< clients with probes != None (a probe costs 0 without)
};

}  // namespace emu::api
