#include "emulator/health/health_monitor.hpp"

#include <algorithm>
#include <utility>

namespace emu::health {

namespace {

// A zero interval would re-arm the tick at the same instant forever ("prevent live lock").
constexpr Duration kMinInterval{1};
constexpr Duration kMinTimeout{1};

std::string format_duration(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

core::HealthPolicy policy_of(const core::HealthCheckSpec& check) {
  return {.retries = check.retries, .start_period = check.start_period};
}

}  // namespace

const metrics::Histogram& MonitorSnapshot::probe_durations(core::ProbeType type) const {
  static const metrics::Histogram kEmpty(metrics::Histogram::default_seconds());
  const auto i = static_cast<std::size_t>(type);
  return i < durations.size() ? durations[i] : kEmpty;
}

HealthMonitor::HealthMonitor(const TimeSource& clock, TimerQueue& timers, ProbeExecutor& executor,
                             HealthSink& sink)
    : clock_(clock),
      timers_(timers),
      executor_(executor),
      sink_(sink),
      durations_(static_cast<std::size_t>(core::ProbeType::Command) + 1,
                 metrics::Histogram(metrics::Histogram::default_seconds())) {}

HealthMonitor::~HealthMonitor() {
  for (auto& [id, w] : watches_) stop(w);
}

void HealthMonitor::watch(Target target) {
  const TimePoint now = clock_.now();
  core::Health carried = core::Health::Unknown;
  if (auto it = watches_.find(target.task_id); it != watches_.end()) {
    if (it->second.target == target) return;  // idempotent re-watch
    carried = it->second.tracker.state();     // a replaced check keeps the task's health
    stop(it->second);
    watches_.erase(it);
  }
  const std::string id = target.task_id;
  ProbeSpec spec =
      make_probe_spec(target.check, target.task_id, target.ip, target.port, target.env);
  core::HealthTracker tracker{policy_of(target.check), now, carried};
  auto [it, inserted] = watches_.emplace(
      id, Watch{std::move(target), std::move(spec), tracker, std::nullopt, now, std::nullopt});
  Watch& w = it->second;
  if (w.spec.type == core::ProbeType::None) return;  // never probed
  // The first probe runs at registration, then one per interval on a fixed grid.
  w.next_tick = now;
  start_probe(w, now);
  w.next_tick = now + std::max(kMinInterval, w.target.check.interval);
  w.tick_timer = timers_.schedule(w.next_tick, [this, &w] { on_tick(w); });
}

void HealthMonitor::unwatch(const std::string& task_id) {
  const auto it = watches_.find(task_id);
  if (it == watches_.end()) return;
  stop(it->second);
  watches_.erase(it);
}

std::optional<core::Health> HealthMonitor::state(const std::string& task_id) const {
  const auto it = watches_.find(task_id);
  if (it == watches_.end()) return std::nullopt;
  return it->second.tracker.state();
}

std::vector<std::string> HealthMonitor::watched() const {
  std::vector<std::string> ids;
  ids.reserve(watches_.size());
  for (const auto& [id, w] : watches_) ids.push_back(id);
  return ids;
}

bool HealthMonitor::probing(const std::string& task_id) const {
  const auto it = watches_.find(task_id);
  return it != watches_.end() && it->second.running.has_value();
}

// Timer callbacks hold the Watch by reference: a map node stays where it is, and stop() cancels
// both of a watch's timers before it is erased (no lookup, no copy of the id per timer).
void HealthMonitor::on_tick(Watch& w) {
  const TimePoint now = clock_.now();
  const TimePoint scheduled = w.next_tick;
  const Duration interval = std::max(kMinInterval, w.target.check.interval);
  // Start to start on a fixed grid; after a stall, the next tick is the first one in the future.
  TimePoint next = scheduled + interval;
  if (next <= now) next += interval * ((now - next) / interval + 1);
  w.next_tick = next;
  w.tick_timer = timers_.schedule(next, [this, &w] { on_tick(w); });
  if (w.running) {
    ++stats_.skipped_ticks;  // never two at once: this tick is skipped
    return;
  }
  start_probe(w, scheduled);
}

void HealthMonitor::start_probe(Watch& w, TimePoint scheduled) {
  const TimePoint now = clock_.now();
  const std::uint64_t attempt = next_attempt_++;
  const Duration lateness =
      std::max(Duration::zero(), std::chrono::duration_cast<Duration>(now - scheduled));
  ++stats_.started;
  stats_.total_lateness += lateness;
  stats_.max_lateness = std::max(stats_.max_lateness, lateness);

  const std::string id = w.target.task_id;
  const Duration timeout = std::max(kMinTimeout, w.target.check.timeout);
  Running running;
  running.attempt = attempt;
  running.started = now;
  // The executor never calls back inline, so `w` is still valid after run().
  running.executor_id =
      executor_.run(w.spec, timeout,
                    [this, alive = std::weak_ptr<bool>(alive_), id, attempt](ProbeResult result) {
                      if (alive.expired()) return;  // the monitor is gone
                      on_result(id, attempt, std::move(result));
                    });
  // Envoy's split: the timeout belongs to the policy owner, not the transport.
  running.timeout_timer = timers_.schedule(now + timeout, [this, &w] { on_timeout(w); });
  w.running = running;
}

void HealthMonitor::on_result(const std::string& task_id, std::uint64_t attempt,
                              ProbeResult result) {
  const auto it = watches_.find(task_id);
  if (it == watches_.end() || !it->second.running || it->second.running->attempt != attempt) {
    ++stats_.stale_results;  // a late result of an abandoned attempt
    return;
  }
  Watch& w = it->second;
  if (!result.is_skipped()) observe_duration(w);
  timers_.cancel(w.running->timeout_timer);
  w.running.reset();
  judge(task_id, w, std::move(result));
}

void HealthMonitor::on_timeout(Watch& w) {
  // The timer is cancelled whenever the attempt ends otherwise: it is the running attempt's.
  if (!w.running) return;
  const std::string task_id = w.target.task_id;
  executor_.cancel(w.running->executor_id);  // its late result will be ignored by attempt id
  observe_duration(w);
  w.running.reset();
  ++stats_.timeouts;
  // A timeout is just another failure.
  judge(task_id, w,
        ProbeResult::fail("timeout after " +
                          format_duration(std::max(kMinTimeout, w.target.check.timeout))));
}

void HealthMonitor::observe_duration(const Watch& w) {
  const auto type = static_cast<std::size_t>(w.target.check.type);
  if (!w.running || type >= durations_.size()) return;
  durations_[type].observe(
      std::chrono::duration<double>(clock_.now() - w.running->started).count());
}

void HealthMonitor::judge(const std::string& task_id, Watch& w, ProbeResult result) {
  if (result.is_skipped()) return skipped(task_id, w, result);
  const std::string id = task_id;  // the sink may unwatch: do not keep references into the map
  const core::Health before = w.tracker.state();
  const core::HealthTransition transition = w.tracker.record(result.outcome, clock_.now());
  const core::Health after = w.tracker.state();
  std::string why;
  if (transition == core::HealthTransition::Changed) why = reason(w, before, result);

  core::ProbeRecord record;
  record.time = clock_.wall_now();
  record.ok = result.ok();
  record.detail = std::move(result.detail);
  record.exit_code = result.exit_code;
  record.output = std::move(result.output);
  if (record.output.size() > kMaxProbeOutput) record.output.resize(kMaxProbeOutput);

  // From here on `w` may be gone: the sink may call watch() or unwatch().
  sink_.on_probe_result(id, record);
  if (transition == core::HealthTransition::Changed)
    sink_.on_health_changed(id, after, std::move(why));
}

void HealthMonitor::skipped(const std::string& task_id, Watch& w, const ProbeResult& result) {
  // Says nothing about the task: the tracker is left alone (record(Skipped) would be Unchanged).
  const std::string id = task_id;  // the sink may unwatch: do not keep references into the map
  if (result.skip_reason == SkipReason::CommandsDisabled) {
    ++stats_.skipped_disabled;
    if (w.disabled_reported) return;
    w.disabled_reported = true;
    return sink_.on_probes_skipped(id, result.skip_reason, result.detail, 1);
  }
  // Out of resources: every probe of every task fails the same way at the same time, so one
  // report per kSkipReportEvery, with how many were skipped since the last one.
  ++stats_.skipped_resources;
  ++unreported_resources_;
  const TimePoint now = clock_.now();
  if (last_resources_report_ && now - *last_resources_report_ < kSkipReportEvery) return;
  last_resources_report_ = now;
  const std::uint64_t count = std::exchange(unreported_resources_, 0);
  sink_.on_probes_skipped(id, SkipReason::Resources, result.detail, count);
}

std::string HealthMonitor::reason(const Watch& w, core::Health from,
                                  const ProbeResult& result) const {
  const std::string detail = result.detail.empty() ? std::string{} : " (" + result.detail + ")";
  if (w.tracker.state() == core::Health::Healthy) {
    return (from == core::Health::Unknown ? "first successful probe" : "successful probe") + detail;
  }
  const int n = w.tracker.consecutive_failures();
  return std::to_string(n) + (n == 1 ? " failed probe" : " failed probes") + detail;
}

void HealthMonitor::stop(Watch& w) {
  if (w.tick_timer) timers_.cancel(*w.tick_timer);
  w.tick_timer.reset();
  if (w.running) {
    timers_.cancel(w.running->timeout_timer);
    executor_.cancel(w.running->executor_id);
    w.running.reset();
  }
}

}  // namespace emu::health
