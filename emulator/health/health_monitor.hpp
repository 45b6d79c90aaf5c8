#pragma once
// HealthMonitor: runs each watched task's probe on a start-to-start interval, owns the timeout,
// feeds core::HealthTracker and reports results and transitions to a HealthSink. Driven only by
// the injected clock and TimerQueue, so tests run it in simulated time with a fake executor.
//
// Timing (SPEC section 5; ECS/Docker):
// - the first probe runs at watch(), then one every `interval`, start to start, on a fixed grid;
// - never two at once per task: when a probe is still running at the next tick, that tick is
//   SKIPPED (Docker never overlaps checks either); the grid is kept, and the running attempt ends
//   by its result or its timeout;
// - the monitor owns the timeout (a TimerQueue timer at start + timeout): it counts as a failure,
//   the attempt is cancelled, and a late result of that attempt is ignored by attempt id.
// A skipped result (the probe could not run: the daemon was out of resources, or command probes
// are disabled) is not a result about the task: health and counters stay as they are, it is not
// added to the task's history, it is counted in stats() and reported to the sink, rate-limited
// (kSkipReportEvery for resources, once per watch for disabled commands).
// All calls happen on the one event-loop thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/health_tracker.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/prometheus_text.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"
#include "emulator/health/health_sink.hpp"
#include "emulator/health/probe.hpp"
#include "emulator/health/probe_executor.hpp"

namespace emu::health {

/// One task to watch: its resolved check (already scaled by --time-scale) and where it lives.
struct Target {
  std::string task_id;
  core::HealthCheckSpec check;  ///< type None: watched but never probed
  std::string ip;
  std::uint16_t port = 0;                  ///< default port for the probe (check.port overrides)
  std::map<std::string, std::string> env;  ///< extra environment for command probes
  bool operator==(const Target&) const = default;
};

/// At most one on_probes_skipped(Resources) per this much time: an fd shortage skips every probe.
inline constexpr Duration kSkipReportEvery{60'000};

/// Counters for logs, metrics and the benchmark.
struct MonitorStats {
  std::uint64_t started = 0;            ///< probe attempts started
  std::uint64_t skipped_ticks = 0;      ///< ticks skipped because the previous probe still ran
  std::uint64_t skipped_resources = 0;  ///< results skipped: the daemon was out of resources
  std::uint64_t skipped_disabled = 0;   ///< results skipped: command probes are disabled
  std::uint64_t timeouts = 0;           ///< attempts ended by the monitor's timeout
  std::uint64_t stale_results = 0;      ///< late results of abandoned attempts, ignored
  Duration max_lateness{0};             ///< worst start delay behind the schedule
  Duration total_lateness{0};           ///< sum of start delays (divide by `started`)
};

/// A copy of what metrics read of a monitor, for another thread (the prober thread's monitor is
/// read by the API thread's /metrics through one of these).
struct MonitorSnapshot {
  MonitorStats stats;
  std::size_t watched = 0;                    ///< tasks watched
  std::vector<metrics::Histogram> durations;  ///< by core::ProbeType; empty before the first copy
  /// The histogram of a probe type (an empty one before the first copy).
  const metrics::Histogram& probe_durations(core::ProbeType type) const;
};

/// Schedules probes for watched tasks and judges their results.
class HealthMonitor {
 public:
  /// All four are borrowed and must outlive the monitor.
  HealthMonitor(const TimeSource& clock, TimerQueue& timers, ProbeExecutor& executor,
                HealthSink& sink);
  /// Cancels timers and in-flight attempts; their late results are ignored.
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  /// Starts watching (the first probe starts now). Watching an already watched task with the same
  /// target is a no-op; with a different one, the old check is replaced: its in-flight attempt is
  /// abandoned, counters and the start period restart, the health state is kept.
  void watch(Target target);
  /// Stops probing the task and forgets it; a no-op for an unknown task.
  void unwatch(const std::string& task_id);
  /// The task's current health, or nullopt when it is not watched.
  std::optional<core::Health> state(const std::string& task_id) const;
  /// Ids of the watched tasks, sorted.
  std::vector<std::string> watched() const;
  /// True while a probe of the task is in flight.
  bool probing(const std::string& task_id) const;
  /// Counters since construction.
  const MonitorStats& stats() const { return stats_; }
  /// Seconds from start to result of the probes of a type (timeouts at the timeout; skipped
  /// results are not probes of the task and are not counted).
  const metrics::Histogram& probe_durations(core::ProbeType type) const {
    return durations_.at(static_cast<std::size_t>(type));
  }
  /// Counters, watched count and histograms, copied.
  MonitorSnapshot snapshot() const { return {stats_, watches_.size(), durations_}; }

 private:
  struct Running {
    std::uint64_t attempt = 0;  // monitor-wide, never reused: the staleness check
    ProbeExecutor::AttemptId executor_id = 0;
    TimerQueue::Id timeout_timer = 0;
    TimePoint started{};
  };
  struct Watch {
    Target target;
    ProbeSpec spec;
    core::HealthTracker tracker;
    std::optional<TimerQueue::Id> tick_timer;
    TimePoint next_tick{};
    std::optional<Running> running;
    bool disabled_reported = false;  // once per watch: "command probes are disabled"
  };

  void on_tick(Watch& w);
  void start_probe(Watch& w, TimePoint scheduled);
  void on_result(const std::string& task_id, std::uint64_t attempt, ProbeResult result);
  void on_timeout(Watch& w);
  void judge(const std::string& task_id, Watch& w, ProbeResult result);
  void skipped(const std::string& task_id, Watch& w, const ProbeResult& result);
  void stop(Watch& w);
  void observe_duration(const Watch& w);
  std::string reason(const Watch& w, core::Health from, const ProbeResult& result) const;

  const TimeSource& clock_;
  TimerQueue& timers_;
  ProbeExecutor& executor_;
  HealthSink& sink_;
  std::map<std::string, Watch> watches_;
  std::uint64_t next_attempt_ = 1;
  MonitorStats stats_;
  std::vector<metrics::Histogram> durations_;  // by core::ProbeType
  std::optional<TimePoint> last_resources_report_;
  std::uint64_t unreported_resources_ = 0;  // skipped since the last report
  // Executor callbacks may outlive the monitor; they check this token first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace emu::health
