// HealthMonitor in simulated time with a scripted executor: intervals, retries, start period,
// timeouts, stale results, overlap, watch/unwatch. No sockets, no sleeps.

#include "emulator/health/health_monitor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/fake_probe_executor.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::health {
namespace {

using namespace std::chrono_literals;
using core::Health;
using test::FakeProbeExecutor;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

/// Records what the monitor reports; `on_change` lets a test call back into the monitor.
struct RecordingSink final : HealthSink {
  struct Change {
    std::string task_id;
    Health health;
    std::string reason;
    TimePoint at;
  };
  explicit RecordingSink(const TimeSource& clock) : clock(clock) {}
  void on_probe_result(const std::string& task_id, const core::ProbeRecord& record) override {
    results.push_back({task_id, record});
  }
  void on_health_changed(const std::string& task_id, Health health, std::string reason) override {
    changes.push_back({task_id, health, std::move(reason), clock.now()});
    if (on_change) on_change(task_id, health);
  }
  struct Skip {
    std::string task_id;
    SkipReason reason;
    std::string detail;
    std::uint64_t count;
    TimePoint at;
  };
  void on_probes_skipped(const std::string& task_id, SkipReason reason, const std::string& detail,
                         std::uint64_t count) override {
    skips.push_back({task_id, reason, detail, count, clock.now()});
  }
  const TimeSource& clock;
  std::vector<std::pair<std::string, core::ProbeRecord>> results;
  std::vector<Change> changes;
  std::vector<Skip> skips;
  std::function<void(const std::string&, Health)> on_change;
};

Target http_target(const std::string& id, Duration interval = 30s, Duration timeout = 5s,
                   int retries = 3, Duration start_period = 0s) {
  Target t;
  t.task_id = id;
  t.ip = "10.0.0.2";
  t.port = 8080;
  t.check.type = core::ProbeType::Http;
  t.check.path = "/health";
  t.check.interval = interval;
  t.check.timeout = timeout;
  t.check.retries = retries;
  t.check.start_period = start_period;
  return t;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  /// Seconds since the test's start, for readable assertions on start times.
  std::vector<Duration> offsets(const std::vector<TimePoint>& points) const {
    std::vector<Duration> out;
    for (auto p : points) out.push_back(std::chrono::duration_cast<Duration>(p - t0));
    return out;
  }

  test::SimTime sim;
  TimePoint t0 = sim.clock.now();
  FakeProbeExecutor fake{sim.clock, sim.timers};
  RecordingSink sink{sim.clock};
  HealthMonitor monitor{sim.clock, sim.timers, fake, sink};
};

TEST_F(HealthMonitorTest, FirstProbeRunsAtWatch) {
  monitor.watch(http_target("a"));
  ASSERT_EQ(fake.calls("a").size(), 1u);  // at registration, before any time passes
  EXPECT_EQ(fake.calls("a")[0].started, t0);
  EXPECT_EQ(fake.calls("a")[0].timeout, 5s);
  EXPECT_EQ(fake.calls("a")[0].spec.path, "/health");
  EXPECT_EQ(fake.calls("a")[0].spec.port, 8080);
  EXPECT_EQ(monitor.state("a"), Health::Unknown);  // UNKNOWN before a result
  EXPECT_TRUE(monitor.probing("a"));
}

TEST_F(HealthMonitorTest, FirstSuccessMakesItHealthyAtOnce) {
  fake.always("a", {Outcome::Pass, 10ms, "http 200"});
  monitor.watch(http_target("a"));
  sim.advance(10ms);
  EXPECT_EQ(monitor.state("a"), Health::Healthy);
  ASSERT_EQ(sink.changes.size(), 1u);
  EXPECT_EQ(sink.changes[0].health, Health::Healthy);
  EXPECT_EQ(sink.changes[0].reason, "first successful probe (http 200)");
}

TEST_F(HealthMonitorTest, IntervalIsStartToStart) {
  fake.always("a", {Outcome::Pass, 2s});  // latency does not push the schedule
  monitor.watch(http_target("a", 30s));
  sim.advance(95s);
  EXPECT_THAT(offsets(fake.starts("a")), ElementsAre(0s, 30s, 60s, 90s));
  EXPECT_EQ(monitor.stats().max_lateness, 0ms);
}

TEST_F(HealthMonitorTest, UnhealthyAfterRetriesConsecutiveFailures) {
  fake.always("a", {Outcome::Fail, 10ms, "http 503"});
  monitor.watch(http_target("a", 30s, 5s, 3));
  sim.advance(59s);
  EXPECT_EQ(monitor.state("a"), Health::Unknown);  // two failures are not enough
  sim.advance(1s + 10ms);
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);  // but three are
  ASSERT_EQ(sink.changes.size(), 1u);
  EXPECT_EQ(sink.changes[0].reason, "3 failed probes (http 503)");
  EXPECT_EQ(sink.changes[0].at, t0 + 60s + 10ms);
  EXPECT_EQ(sink.results.size(), 3u);
}

TEST_F(HealthMonitorTest, EveryResultReachesTheSink) {
  fake.script("a", {{Outcome::Pass, 10ms, "exit 0", 0}, {Outcome::Fail, 20ms, "exit 3", 3}});
  monitor.watch(http_target("a", 1s));
  sim.advance(1500ms);
  ASSERT_EQ(sink.results.size(), 2u);
  EXPECT_TRUE(sink.results[0].second.ok);
  EXPECT_EQ(sink.results[0].second.detail, "exit 0");
  EXPECT_FALSE(sink.results[1].second.ok);
  EXPECT_EQ(sink.results[1].second.exit_code, 3);
  EXPECT_EQ(sink.results[1].second.time, sim.clock.wall_now() - 500ms + 20ms);
}

TEST_F(HealthMonitorTest, TimeoutCountsAsAFailure) {
  fake.always("a", {Outcome::Pass, 6s});  // would pass, but too late
  monitor.watch(http_target("a", 30s, 5s, 1));
  sim.advance(4999ms);
  EXPECT_EQ(monitor.state("a"), Health::Unknown);
  sim.advance(1ms);
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);
  ASSERT_EQ(sink.changes.size(), 1u);
  EXPECT_EQ(sink.changes[0].reason, "1 failed probe (timeout after 5s)");
  EXPECT_TRUE(fake.calls("a")[0].cancelled);  // the attempt was abandoned
  EXPECT_EQ(monitor.stats().timeouts, 1u);
  EXPECT_FALSE(monitor.probing("a"));
}

TEST_F(HealthMonitorTest, ProbeDurationsAreObservedByTypeTimeoutsAtTheTimeout) {
  fake.script("a", {{Outcome::Pass, 20ms}, {Outcome::Fail, 40ms}, {Outcome::Pass, 6s}});
  monitor.watch(http_target("a", 10s, 5s, 3));
  sim.advance(25s);  // 20 ms, 40 ms, then a timeout at 5 s
  const auto& http = monitor.probe_durations(core::ProbeType::Http);
  ASSERT_EQ(http.count(), 3u);
  EXPECT_NEAR(http.sum(), 5.06, 1e-9);
  EXPECT_EQ(http.counts()[4], 1u);   // le="0.025": the 20 ms probe
  EXPECT_EQ(http.counts()[5], 1u);   // le="0.05": the 40 ms one
  EXPECT_EQ(http.counts()[11], 1u);  // le="5": the timeout
  EXPECT_EQ(monitor.probe_durations(core::ProbeType::Tcp).count(), 0u);
}

TEST_F(HealthMonitorTest, SkippedProbesHaveNoDuration) {
  fake.always("a", {Outcome::Skipped, 10ms, "connect: too many open files"});
  monitor.watch(http_target("a", 1s));
  sim.advance(3500ms);
  EXPECT_EQ(monitor.stats().skipped_resources, 4u);
  EXPECT_EQ(monitor.probe_durations(core::ProbeType::Http).count(), 0u);
}

TEST_F(HealthMonitorTest, StaleLateResultIsIgnored) {
  fake.ignore_cancel(true);  // the transport delivers anyway
  fake.always("a", {Outcome::Pass, 6s});
  monitor.watch(http_target("a", 30s, 5s, 1));
  sim.advance(5s);
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);
  sim.advance(1s);  // the late Pass of attempt 1 arrives now
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);
  EXPECT_EQ(sink.results.size(), 1u);
  EXPECT_EQ(sink.changes.size(), 1u);
  EXPECT_EQ(monitor.stats().stale_results, 1u);
}

TEST_F(HealthMonitorTest, NeverTwoAtOnceTicksAreSkipped) {
  // Timeout longer than the interval: a probe can outlive its tick.
  fake.always("a", {Outcome::Pass, 2500ms});
  monitor.watch(http_target("a", 1s, 10s));
  sim.advance(10s);
  EXPECT_EQ(fake.max_in_flight("a"), 1u);
  // Probes finish at 2.5s, 5.5s, 8.5s; the next grid tick after each end starts the next one.
  EXPECT_THAT(offsets(fake.starts("a")), ElementsAre(0s, 3s, 6s, 9s));
  EXPECT_EQ(monitor.stats().skipped_ticks, 7u);  // 1, 2, 4, 5, 7, 8, 10
}

TEST_F(HealthMonitorTest, UnwatchStopsProbing) {
  fake.always("a", {Outcome::Pass, 1s});
  monitor.watch(http_target("a", 10s));
  sim.advance(500ms);
  monitor.unwatch("a");
  EXPECT_TRUE(fake.calls("a")[0].cancelled);
  sim.advance(5min);
  EXPECT_EQ(fake.calls("a").size(), 1u);
  EXPECT_EQ(monitor.state("a"), std::nullopt);
  EXPECT_THAT(monitor.watched(), IsEmpty());
  EXPECT_THAT(sink.results, IsEmpty());  // the cancelled attempt reports nothing
  EXPECT_EQ(sim.timers.size(), 0u);      // no timers left behind
}

TEST_F(HealthMonitorTest, RewatchWithTheSameTargetIsANoOp) {
  monitor.watch(http_target("a", 10s));
  sim.advance(5s);
  monitor.watch(http_target("a", 10s));
  EXPECT_EQ(fake.calls("a").size(), 1u);
  sim.advance(5s);
  EXPECT_EQ(fake.calls("a").size(), 2u);  // still on the original grid
}

TEST_F(HealthMonitorTest, RewatchWithANewSpecReplacesTheOld) {
  fake.always("a", {Outcome::Pass, 10ms});
  monitor.watch(http_target("a", 10s));
  sim.advance(3s);
  EXPECT_EQ(monitor.state("a"), Health::Healthy);
  Target changed = http_target("a", 4s);
  changed.check.path = "/ready";
  fake.always("a", {Outcome::Fail, 1s});
  monitor.watch(changed);
  ASSERT_EQ(fake.calls("a").size(), 2u);  // the new check probes at once
  EXPECT_EQ(fake.calls("a")[1].spec.path, "/ready");
  EXPECT_EQ(monitor.state("a"), Health::Healthy);  // the state is kept
  sim.advance(9s);
  EXPECT_THAT(offsets(fake.starts("a")), ElementsAre(0s, 3s, 7s, 11s));  // the new interval
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);  // 3 failures of the new check
  EXPECT_THAT(monitor.watched(), ElementsAre("a"));
}

TEST_F(HealthMonitorTest, RewatchAbandonsTheRunningAttempt) {
  fake.ignore_cancel(true);
  fake.always("a", {Outcome::Fail, 2s});
  monitor.watch(http_target("a", 10s, 5s, 1));
  sim.advance(1s);
  Target changed = http_target("a", 10s, 5s, 1);
  changed.port = 9090;
  fake.always("a", {Outcome::Pass, 3s});
  monitor.watch(changed);
  sim.advance(1s);  // the old attempt's failure arrives: ignored
  EXPECT_EQ(monitor.state("a"), Health::Unknown);
  sim.advance(2s);
  EXPECT_EQ(monitor.state("a"), Health::Healthy);
  EXPECT_EQ(monitor.stats().stale_results, 1u);
}

TEST_F(HealthMonitorTest, NoneIsNeverProbed) {
  Target t = http_target("a");
  t.check.type = core::ProbeType::None;
  monitor.watch(t);
  sim.advance(10min);
  EXPECT_THAT(fake.calls(), IsEmpty());
  EXPECT_EQ(monitor.state("a"), Health::Unknown);
  EXPECT_THAT(monitor.watched(), ElementsAre("a"));
}

TEST_F(HealthMonitorTest, StartPeriodFailuresDoNotCount) {
  fake.always("a", {Outcome::Fail, 10ms});
  monitor.watch(http_target("a", 10s, 5s, 2, 60s));
  sim.advance(60s - 1ms);  // probes at 0..50s fail inside the grace period
  EXPECT_EQ(monitor.state("a"), Health::Unknown);
  EXPECT_EQ(sink.results.size(), 6u);  // still recorded in the history
  sim.advance(11s);                    // 60s and 70s count
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);
  EXPECT_EQ(sink.changes[0].at, t0 + 70s + 10ms);
}

TEST_F(HealthMonitorTest, RecoversAfterTheNextSuccess) {
  fake.script("a", {{Outcome::Fail, 10ms, "grpc: NOT_SERVING"},
                    {Outcome::Fail, 10ms, "grpc: NOT_SERVING"},
                    {Outcome::Pass, 10ms, "grpc: SERVING"}});
  monitor.watch(http_target("a", 1s, 500ms, 2));
  sim.advance(3s);
  ASSERT_EQ(sink.changes.size(), 2u);
  EXPECT_EQ(sink.changes[0].health, Health::Unhealthy);
  EXPECT_EQ(sink.changes[0].reason, "2 failed probes (grpc: NOT_SERVING)");
  EXPECT_EQ(sink.changes[1].health, Health::Healthy);
  EXPECT_EQ(sink.changes[1].reason, "successful probe (grpc: SERVING)");
}

TEST_F(HealthMonitorTest, SinkMayUnwatchFromItsCallback) {
  fake.always("a", {Outcome::Fail, 10ms});
  sink.on_change = [&](const std::string& id, Health h) {
    if (h == Health::Unhealthy) monitor.unwatch(id);  // the lead stops the task
  };
  monitor.watch(http_target("a", 1s, 500ms, 1));
  sim.advance(1min);
  EXPECT_EQ(fake.calls("a").size(), 1u);
  EXPECT_THAT(monitor.watched(), IsEmpty());
}

TEST_F(HealthMonitorTest, SinkMayWatchFromItsCallback) {
  fake.always("a", {Outcome::Fail, 10ms});
  fake.always("b", {Outcome::Pass, 10ms});
  sink.on_change = [&](const std::string& id, Health h) {
    if (id == "a" && h == Health::Unhealthy) {
      monitor.unwatch("a");
      monitor.watch(http_target("b", 1s));  // the replacement task
    }
  };
  monitor.watch(http_target("a", 1s, 500ms, 1));
  sim.advance(2s);
  EXPECT_THAT(monitor.watched(), ElementsAre("b"));
  EXPECT_EQ(monitor.state("b"), Health::Healthy);
}

TEST_F(HealthMonitorTest, TasksAreIndependent) {
  fake.always("a", {Outcome::Pass, 10ms});
  fake.always("b", {Outcome::Fail, 10ms});
  monitor.watch(http_target("a", 1s, 500ms, 2));
  monitor.watch(http_target("b", 2s, 500ms, 2));
  sim.advance(3s);
  EXPECT_EQ(monitor.state("a"), Health::Healthy);
  EXPECT_EQ(monitor.state("b"), Health::Unhealthy);
  EXPECT_EQ(fake.calls("a").size(), 4u);
  EXPECT_EQ(fake.calls("b").size(), 2u);
}

TEST_F(HealthMonitorTest, CommandTargetsGetTaskIpAndPort) {
  Target t = http_target("a");
  t.check.type = core::ProbeType::Command;
  t.check.command = {"CMD-SHELL", "curl -f http://$TASK_IP:$TASK_PORT/ || exit 1"};
  monitor.watch(t);
  const ProbeSpec spec = fake.calls("a")[0].spec;
  EXPECT_THAT(spec.argv,
              ElementsAre("/bin/sh", "-c", "curl -f http://$TASK_IP:$TASK_PORT/ || exit 1"));
  EXPECT_EQ(spec.env.at("TASK_IP"), "10.0.0.2");
  EXPECT_EQ(spec.env.at("TASK_PORT"), "8080");
}

// --- skipped results: the probe could not run, so it says nothing about the task -------------

const FakeProbeExecutor::Step kOutOfFds{Outcome::Skipped, 10ms, "connect: too many open files"};

TEST_F(HealthMonitorTest, SkippedResultsNeverChangeHealth) {
  // Healthy, then the daemon runs out of file descriptors for good (issue 10: a healthy task was
  // withdrawn from DNS because its TCP probes failed with EMFILE).
  fake.script("a", {{Outcome::Pass, 10ms, "tcp: connected"}, kOutOfFds});
  monitor.watch(http_target("a", 30s, 5s, 3));
  sim.advance(10min - 1s);  // 20 probes: 0s, 30s, ... 570s
  EXPECT_EQ(monitor.state("a"), Health::Healthy);
  ASSERT_EQ(sink.changes.size(), 1u);  // the first success, nothing after
  EXPECT_EQ(sink.results.size(), 1u);  // skipped results are not in the task's history
  EXPECT_EQ(monitor.stats().started, 20u);
  EXPECT_EQ(monitor.stats().skipped_resources, 19u);
  EXPECT_EQ(monitor.stats().skipped_disabled, 0u);
}

TEST_F(HealthMonitorTest, SkippedResultsLeaveAnUnknownTaskUnknown) {
  fake.always("a", kOutOfFds);
  monitor.watch(http_target("a", 10s, 5s, 1));
  sim.advance(95s);
  EXPECT_EQ(monitor.state("a"), Health::Unknown);
  EXPECT_THAT(sink.changes, IsEmpty());
  EXPECT_EQ(monitor.stats().skipped_resources, 10u);
}

TEST_F(HealthMonitorTest, SkippedBetweenFailuresDoNotAddUpToTheThreshold) {
  const FakeProbeExecutor::Step fail{Outcome::Fail, 10ms, "http 503"};
  const auto skip = kOutOfFds;
  fake.script("a", {{Outcome::Pass, 10ms}, fail, skip, skip, skip, fail, skip, skip, skip, fail});
  monitor.watch(http_target("a", 10s, 5s, 3));
  sim.advance(85s);                                // pass, fail, 3 skipped, fail, 3 skipped
  EXPECT_EQ(monitor.state("a"), Health::Healthy);  // 2 failures: skips neither count nor reset
  EXPECT_EQ(monitor.stats().skipped_resources, 6u);
  sim.advance(10s);  // the third failure
  EXPECT_EQ(monitor.state("a"), Health::Unhealthy);
  ASSERT_EQ(sink.changes.size(), 2u);
  EXPECT_EQ(sink.changes[1].reason, "3 failed probes (http 503)");
  EXPECT_EQ(sink.results.size(), 4u);  // pass, fail, fail, fail
}

TEST_F(HealthMonitorTest, ResourceSkipsAreReportedOncePerMinuteWithACount) {
  // Three tasks every 10 s, all skipped: 3 per tick, reported at most once per kSkipReportEvery.
  for (const char* id : {"a", "b", "c"}) {
    fake.always(id, {Outcome::Skipped, 0ms, "connect: too many open files"});
    monitor.watch(http_target(id, 10s));
  }
  sim.advance(125s);  // ticks at 0, 10, ... 120 s: 13 x 3 skipped
  EXPECT_EQ(monitor.stats().skipped_resources, 39u);
  ASSERT_EQ(sink.skips.size(), 3u);
  EXPECT_EQ(sink.skips[0].at, t0);
  EXPECT_EQ(sink.skips[0].count, 1u);  // the first one at once
  EXPECT_EQ(sink.skips[1].at, t0 + 60s);
  EXPECT_EQ(sink.skips[1].count, 18u);  // b and c at 0 s, 15 in 10..50 s, a at 60 s
  EXPECT_EQ(sink.skips[2].at, t0 + 120s);
  EXPECT_EQ(sink.skips[2].count, 18u);
  for (const auto& skip : sink.skips) {
    EXPECT_EQ(skip.reason, SkipReason::Resources);
    EXPECT_EQ(skip.detail, "connect: too many open files");
  }
  EXPECT_THAT(sink.results, IsEmpty());
  EXPECT_THAT(sink.changes, IsEmpty());
}

TEST_F(HealthMonitorTest, DisabledCommandProbesAreReportedOncePerWatch) {
  Target t = http_target("a", 10s);
  t.check.type = core::ProbeType::Command;
  t.check.command = {"CMD-SHELL", "true"};
  fake.always("a", {Outcome::Skipped, 10ms, "command probes are disabled", std::nullopt,
                    SkipReason::CommandsDisabled});
  monitor.watch(t);
  sim.advance(55s);
  EXPECT_EQ(monitor.state("a"), Health::Unknown);
  EXPECT_EQ(monitor.stats().skipped_disabled, 6u);
  EXPECT_EQ(monitor.stats().skipped_resources, 0u);
  ASSERT_EQ(sink.skips.size(), 1u);
  EXPECT_EQ(sink.skips[0].reason, SkipReason::CommandsDisabled);
  EXPECT_EQ(sink.skips[0].task_id, "a");
  t.check.command = {"CMD-SHELL", "false"};  // a new check: said again, once
  monitor.watch(t);
  sim.advance(55s);
  EXPECT_EQ(sink.skips.size(), 2u);
  EXPECT_THAT(sink.results, IsEmpty());
}

TEST(HealthMonitorLifetimeTest, ResultsAfterTheMonitorIsGoneAreDropped) {
  test::SimTime sim;
  FakeProbeExecutor fake{sim.clock, sim.timers};
  fake.ignore_cancel(true);
  RecordingSink sink{sim.clock};
  {
    HealthMonitor monitor{sim.clock, sim.timers, fake, sink};
    monitor.watch(http_target("a"));
  }
  sim.advance(1min);  // the fake still completes the attempt: nobody is called
  EXPECT_THAT(sink.results, IsEmpty());
}

TEST(ProbeSpecTest, CommandForms) {
  core::HealthCheckSpec check;
  check.type = core::ProbeType::Command;
  check.command = {"CMD", "/bin/check", "--fast"};
  EXPECT_THAT(make_probe_spec(check, "t", "127.0.0.1", 80).argv,
              ElementsAre("/bin/check", "--fast"));
  check.command = {"CMD-SHELL", "exit", "1"};
  EXPECT_THAT(make_probe_spec(check, "t", "127.0.0.1", 80).argv,
              ElementsAre("/bin/sh", "-c", "exit 1"));
  check.command = {"/bin/true"};
  EXPECT_THAT(make_probe_spec(check, "t", "127.0.0.1", 80).argv, ElementsAre("/bin/true"));
  check.port = 9000;
  EXPECT_EQ(make_probe_spec(check, "t", "127.0.0.1", 80).env.at("TASK_PORT"), "9000");
}

}  // namespace
}  // namespace emu::health
