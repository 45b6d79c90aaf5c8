#pragma once
// FakeProbeExecutor: scripted outcomes and latency per task, completing through the TimerQueue,
// so simulated time decides when a result arrives ("latency 6s, timeout 5s" deterministically
// exercises the timeout path). Records every call.
//
//   fake.script("task-a", {{Outcome::Pass, 10ms}, {Outcome::Fail, 10ms}});  // then the last
//   repeats fake.always("task-b", {Outcome::Fail, 6s, "http 503"});
//   fake.always("task-c", {Outcome::Skipped, 0ms, "connect: too many open files"});

#include <algorithm>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"
#include "emulator/health/probe_executor.hpp"

namespace emu::test {

/// A ProbeExecutor whose results come from a script, after a scripted latency.
class FakeProbeExecutor final : public health::ProbeExecutor {
 public:
  /// One scripted result.
  struct Step {
    health::Outcome outcome = health::Outcome::Pass;
    Duration latency{10};
    std::string detail;  ///< "" = "ok" / "fail" / "skipped"
    std::optional<int> exit_code;
    /// Why, when outcome is Skipped.
    health::SkipReason skip_reason = health::SkipReason::Resources;
  };
  /// One run() call as observed.
  struct Call {
    AttemptId id = 0;
    health::ProbeSpec spec;
    Duration timeout{0};
    TimePoint started{};
    bool cancelled = false;
    bool completed = false;
  };

  FakeProbeExecutor(const TimeSource& clock, TimerQueue& timers) : clock_(clock), timers_(timers) {}

  /// Results for the task's next probes, in order; the last one then repeats.
  void script(const std::string& task_id, std::vector<Step> steps) {
    scripts_[task_id] = std::deque<Step>(steps.begin(), steps.end());
  }
  /// The same result for every probe of the task.
  void always(const std::string& task_id, Step step) { script(task_id, {std::move(step)}); }
  /// The result of a probe of a task with no script (a pass unless set): so that the first probe,
  /// which starts as the task is registered, before its id is known, can fail too.
  void fallback(Step step) { fallback_ = std::move(step); }
  /// When true, cancel() is ignored and the scripted result arrives late anyway (a transport that
  /// does not notice the cancel): the monitor must drop it by attempt id.
  void ignore_cancel(bool on) { ignore_cancel_ = on; }

  AttemptId run(const health::ProbeSpec& spec, Duration timeout, Callback done) override {
    const AttemptId id = next_id_++;
    const Step step = next_step(spec.task_id);
    calls_.push_back({id, spec, timeout, clock_.now(), false, false});
    auto& pending = pending_[id];
    pending.done = std::move(done);
    pending.result = {
        step.outcome,
        step.detail.empty() ? default_detail(step.outcome) : step.detail,
        step.exit_code,
        {},
        step.outcome == health::Outcome::Skipped ? step.skip_reason : health::SkipReason::None};
    // Completes through the timer queue: never inline, even with zero latency.
    pending.timer = timers_.schedule(clock_.now() + step.latency, [this, id] { complete(id); });
    max_in_flight_[spec.task_id] = std::max(max_in_flight_[spec.task_id], in_flight(spec.task_id));
    return id;
  }

  void cancel(AttemptId id) override {
    if (ignore_cancel_) return;
    const auto it = pending_.find(id);
    if (it == pending_.end()) return;
    call(id).cancelled = true;
    timers_.cancel(it->second.timer);
    it->second.result = health::ProbeResult::fail("cancelled");
    // done is still called exactly once, later.
    it->second.timer = timers_.schedule(clock_.now(), [this, id] { complete(id); });
  }

  /// Every call, oldest first.
  const std::vector<Call>& calls() const { return calls_; }
  /// The calls for one task.
  std::vector<Call> calls(const std::string& task_id) const {
    std::vector<Call> out;
    for (const auto& c : calls_) {
      if (c.spec.task_id == task_id) out.push_back(c);
    }
    return out;
  }
  /// Start times of the task's probes.
  std::vector<TimePoint> starts(const std::string& task_id) const {
    std::vector<TimePoint> out;
    for (const auto& c : calls(task_id)) out.push_back(c.started);
    return out;
  }
  /// Attempts of the task whose callback has not run yet.
  std::size_t in_flight(const std::string& task_id) const {
    std::size_t n = 0;
    for (const auto& c : calls_) n += c.spec.task_id == task_id && !c.completed ? 1 : 0;
    return n;
  }
  /// The most attempts of the task ever in flight at once (excluding cancelled ones).
  std::size_t max_in_flight(const std::string& task_id) const {
    const auto it = max_in_flight_.find(task_id);
    return it == max_in_flight_.end() ? 0 : it->second;
  }

 private:
  Step fallback_;
  struct Pending {
    Callback done;
    health::ProbeResult result;
    TimerQueue::Id timer = 0;
  };

  static std::string default_detail(health::Outcome outcome) {
    switch (outcome) {
      case health::Outcome::Pass:
        return "ok";
      case health::Outcome::Fail:
        return "fail";
      case health::Outcome::Skipped:
        return "skipped";
    }
    return "fail";
  }

  Step next_step(const std::string& task_id) {
    const auto it = scripts_.find(task_id);
    if (it == scripts_.end() || it->second.empty()) return fallback_;
    Step step = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return step;
  }

  Call& call(AttemptId id) {
    return *std::find_if(calls_.begin(), calls_.end(), [id](const Call& c) { return c.id == id; });
  }

  void complete(AttemptId id) {
    auto node = pending_.extract(id);
    if (node.empty()) return;
    call(id).completed = true;
    node.mapped().done(std::move(node.mapped().result));
  }

  const TimeSource& clock_;
  TimerQueue& timers_;
  std::map<std::string, std::deque<Step>> scripts_;
  std::map<AttemptId, Pending> pending_;
  std::vector<Call> calls_;
  std::map<std::string, std::size_t> max_in_flight_;
  AttemptId next_id_ = 1;
  bool ignore_cancel_ = false;
};

}  // namespace emu::test
