#pragma once
// ProbeControl: the handoff between the thread that owns the Registry (the API thread) and the
// prober thread, which runs the HealthMonitor and the probes' I/O on its own io_context.
//
// Owner -> prober: watch/unwatch/unwatch_all are queued under a mutex; one post wakes the prober
// for however many commands are queued, and watching a task with the target it already has sends
// nothing (ProbeFollower re-syncs a task on every commit that touches it).
// Prober -> owner: what the monitor reports (results, transitions, skipped probes) is batched on
// the prober thread and posted to the owner once per `flush_every` (one post for all the results
// of that time, not one per result); the owner replays the batch in order. A report about a task
// the owner no longer watches (or watches again after an unwatch, a new generation) is dropped.
// Metrics: a copy of the monitor's counters, taken on the prober thread at each flush, after
// each batch of commands and every 5 * flush_every (skipped probes count without a report),
// readable from any thread.
//
// Threads: watch/unwatch/unwatch_all/watched on the owner's thread (the one running `owner`);
// attach/prober_sink on the prober thread (the one running `prober`); snapshot from anywhere.
// Destroy it after the prober thread stopped and before the owner's io_context runs again.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/core/model.hpp"
#include "emulator/health/health_monitor.hpp"
#include "emulator/health/health_sink.hpp"
#include "emulator/runtime/probe_targets.hpp"

namespace emu::runtime {

/// How often the prober thread posts its batch of reports to the owner (at most).
inline constexpr Duration kProbeFlushEvery{20};

/// One HealthSink call of the prober thread's monitor, carried to the owner's thread.
struct ProbeReport {
  enum class Kind : std::uint8_t { Result, Changed, Skipped };
  Kind kind = Kind::Result;
  std::string task_id;
  std::uint64_t generation = 0;                        ///< the watch it came from
  core::ProbeRecord record;                            ///< Result
  core::Health health = core::Health::Unknown;         ///< Changed
  std::string text;                                    ///< Changed: the reason; Skipped: detail
  health::SkipReason skip = health::SkipReason::None;  ///< Skipped
  std::uint64_t count = 0;                             ///< Skipped: how many since the last one

  /// Makes the HealthSink call this report stands for (moves the strings out).
  void replay(health::HealthSink& sink);
};

/// The thread-safe start/stop handoff and the batched way back (see the file comment).
class ProbeControl final : public ProbeTargets {
 public:
  /// Receives each batch on the owner's thread, in order, reports of unwatched tasks removed.
  using Deliver = std::function<void(std::vector<ProbeReport>& batch)>;

  /// `flush_every` zero: a batch is posted as soon as the prober's ready handlers have run.
  ProbeControl(boost::asio::io_context& owner, boost::asio::io_context& prober, Deliver deliver,
               Duration flush_every = kProbeFlushEvery);
  ~ProbeControl() override;
  ProbeControl(const ProbeControl&) = delete;
  ProbeControl& operator=(const ProbeControl&) = delete;

  // Owner's thread.
  void watch(health::Target target) override;
  void unwatch(const std::string& task_id) override;
  void unwatch_all() override;
  /// Tasks the owner asked to probe (some may not have reached the prober yet).
  std::size_t watched() const { return live_.size(); }

  // Prober thread.
  /// The monitor the commands apply to (nullptr: none; commands wait). Applies queued commands.
  void attach(health::HealthMonitor* monitor);
  /// The sink to build the prober thread's monitor with.
  health::HealthSink& prober_sink();

  /// The monitor's counters as of the last flush or command batch; any thread.
  health::MonitorSnapshot snapshot() const;

 private:
  struct Command {
    enum class Op : std::uint8_t { Watch, Unwatch, UnwatchAll };
    Op op = Op::Watch;
    health::Target target;  ///< Watch (target.task_id is the task for Unwatch too)
    std::uint64_t generation = 0;
  };
  struct Live {
    health::Target target;
    std::uint64_t generation = 0;
  };
  class BatchSink;

  void send(Command command);                    // owner
  void deliver(std::vector<ProbeReport> batch);  // owner
  void drain();                                  // prober
  void queue(ProbeReport report);                // prober
  void flush();                                  // prober
  void refresh_snapshot();                       // prober
  void arm_snapshot_timer();                     // prober

  boost::asio::io_context& owner_;
  boost::asio::io_context& prober_;
  const Deliver deliver_;
  const Duration flush_every_;

  // Owner's thread only.
  std::unordered_map<std::string, Live> live_;
  std::uint64_t next_generation_ = 1;

  // Shared.
  std::mutex commands_mutex_;
  std::vector<Command> commands_;
  mutable std::mutex snapshot_mutex_;
  health::MonitorSnapshot snapshot_;

  // Prober thread only.
  health::HealthMonitor* monitor_ = nullptr;
  std::unordered_map<std::string, std::uint64_t> generations_;
  std::vector<ProbeReport> batch_;
  boost::asio::steady_timer flush_timer_;
  bool flush_armed_ = false;
  boost::asio::steady_timer snapshot_timer_;  // counters that change without a report
  std::unique_ptr<BatchSink> sink_;
};

}  // namespace emu::runtime
