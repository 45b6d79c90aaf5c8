#pragma once
// AsioProbeExecutor: the real ProbeExecutor, at the edge. Every probe is asynchronous on the given
// io_context (never blocks the event loop): http (Beast), tcp (connect), grpc (nghttp2 h2c),
// command (child process in its own session under a supervisor, pidfd-watched). Single-threaded:
// call run() and cancel() on the io_context's thread.
//
// Results say "skipped" (Outcome::Skipped), not "failed", when the probe could not run: the daemon
// is out of file descriptors, memory or processes (SkipReason::Resources), or the probe is a
// command and commands are not allowed (SkipReason::CommandsDisabled).
//
// Timeouts: one steady_timer for all attempts, armed at the earliest deadline of a min-heap
// (deadlines of finished attempts are dropped lazily when they reach the top), instead of a
// timer per attempt.
//
// Shutdown: destroying the executor abandons the attempts in flight without calling their
// callbacks: sockets are closed and command probes' process groups are killed and reaped. This is
// safe whether or not the io_context is still running (or was stopped with probes in flight).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "emulator/health/probe_executor.hpp"

namespace emu::health {

class ProbeAttempt;

/// What the operator allows the executor to do (the daemon's --allow-command-probes).
struct ProbeExecutorOptions {
  /// False: command probes spawn nothing; they are skipped with SkipReason::CommandsDisabled.
  bool allow_commands = true;
};

/// The detail of a command probe refused by ProbeExecutorOptions::allow_commands.
inline constexpr const char* kCommandsDisabledDetail =
    "command probes are disabled (--allow-command-probes)";

/// Runs probes with Asio, Beast, nghttp2 and fork/execve.
class AsioProbeExecutor final : public ProbeExecutor {
 public:
  /// Probes run on `io`, which must outlive the executor's in-flight attempts' handlers.
  explicit AsioProbeExecutor(boost::asio::io_context& io, ProbeExecutorOptions options = {});
  /// Abandons in-flight attempts (kills and reaps command probes); no callback is called.
  ~AsioProbeExecutor() override;
  AsioProbeExecutor(const AsioProbeExecutor&) = delete;
  AsioProbeExecutor& operator=(const AsioProbeExecutor&) = delete;

  AttemptId run(const ProbeSpec& spec, Duration timeout, Callback done) override;
  void cancel(AttemptId id) override;
  /// Attempts started and not yet finished.
  std::size_t in_flight() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Deadline {
    Clock::time_point at;
    AttemptId id = 0;
  };
  // Shared (weakly) with the completion wrappers, which erase their entry even after a cancel(),
  // and with the deadline timer's handler.
  struct State {
    explicit State(boost::asio::io_context& io) : timer(io) {}
    std::unordered_map<AttemptId, std::weak_ptr<ProbeAttempt>> attempts;
    std::vector<Deadline> deadlines;  // a min-heap on `at`
    boost::asio::steady_timer timer;
    std::optional<Clock::time_point> armed_for;
  };

  static void arm(const std::shared_ptr<State>& state);
  static void on_deadline(const std::shared_ptr<State>& state);

  boost::asio::io_context& io_;
  const ProbeExecutorOptions options_;
  std::shared_ptr<State> state_;
  AttemptId next_id_ = 1;
};

}  // namespace emu::health
