// ProbeControl: the handoff between the Registry's thread and the prober thread. Both loops are
// io_contexts polled by hand on the test's thread, so every post is counted; the monitor runs in
// simulated time with a fake executor.

#include "emulator/runtime/probe_control.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_probe_executor.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::runtime {
namespace {

using namespace std::chrono_literals;
using core::Health;
using health::Outcome;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Kind = ProbeReport::Kind;

health::Target target(const std::string& id, std::uint16_t port = 80) {
  health::Target t;
  t.task_id = id;
  t.check.type = core::ProbeType::Tcp;
  t.check.interval = 1000ms;
  t.check.timeout = 500ms;
  t.check.retries = 2;
  t.ip = "10.0.0.1";
  t.port = port;
  return t;
}

struct Fixture {
  test::SimTime sim;
  boost::asio::io_context owner;
  boost::asio::io_context prober;
  test::FakeProbeExecutor probes{sim.clock, sim.timers};
  std::vector<std::vector<ProbeReport>> batches;
  ProbeControl control{owner, prober,
                       [this](std::vector<ProbeReport>& batch) { batches.push_back(batch); },
                       Duration::zero()};
  health::HealthMonitor monitor{sim.clock, sim.timers, probes, control.prober_sink()};

  Fixture() { control.attach(&monitor); }
  ~Fixture() { control.attach(nullptr); }
  /// Runs what is ready on the prober's loop, then on the owner's; returns the owner's count.
  std::size_t hop() {
    prober.poll();
    prober.restart();
    const std::size_t n = owner.poll();
    owner.restart();
    return n;
  }
};

TEST(ProbeControlTest, CommandsReachTheMonitorOnTheProberLoopWithOnePostForMany) {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.control.watch(target("t" + std::to_string(i)));
  EXPECT_THAT(f.monitor.watched(), IsEmpty());  // nothing ran on the prober's loop yet
  EXPECT_EQ(f.control.watched(), 100u);
  EXPECT_EQ(f.prober.poll(), 1u);  // one wake-up for all hundred
  f.prober.restart();
  EXPECT_EQ(f.monitor.watched().size(), 100u);
  EXPECT_EQ(f.control.snapshot().watched, 100u);
  EXPECT_EQ(f.control.snapshot().stats.started, 100u);  // the first probe starts at watch

  f.control.watch(target("t1"));  // the same target: nothing to tell the prober
  EXPECT_EQ(f.prober.poll(), 0u);
  f.prober.restart();
  f.control.watch(target("t1", 81));  // a new check replaces the old one
  f.control.unwatch("t2");
  f.control.unwatch("unknown");  // a no-op
  EXPECT_EQ(f.prober.poll(), 1u);
  f.prober.restart();
  EXPECT_EQ(f.monitor.watched().size(), 99u);
  EXPECT_EQ(f.probes.calls().back().spec.port, 81);
  f.control.unwatch_all();
  f.hop();
  EXPECT_THAT(f.monitor.watched(), IsEmpty());
  EXPECT_EQ(f.control.watched(), 0u);
  EXPECT_EQ(f.control.snapshot().watched, 0u);
}

TEST(ProbeControlTest, ResultsComeBackInOneBatchPerFlushInOrder) {
  Fixture f;
  f.probes.fallback({Outcome::Pass, 10ms, "tcp: connected"});
  for (int i = 0; i < 50; ++i) f.control.watch(target("t" + std::to_string(i)));
  f.hop();
  f.sim.advance(10ms);     // fifty results on the prober's side
  EXPECT_EQ(f.hop(), 1u);  // one post to the owner for all of them
  ASSERT_EQ(f.batches.size(), 1u);
  const auto& batch = f.batches[0];
  ASSERT_EQ(batch.size(), 100u);  // each: its result, then its first transition
  EXPECT_EQ(batch[0].kind, Kind::Result);
  EXPECT_EQ(batch[0].record.detail, "tcp: connected");
  EXPECT_EQ(batch[1].kind, Kind::Changed);
  EXPECT_EQ(batch[1].task_id, batch[0].task_id);
  EXPECT_EQ(batch[1].health, Health::Healthy);
  EXPECT_EQ(f.control.snapshot().stats.started, 50u);

  f.sim.advance(1s);  // the next round: unchanged health, results only
  EXPECT_EQ(f.hop(), 1u);
  ASSERT_EQ(f.batches.size(), 2u);
  EXPECT_EQ(f.batches[1].size(), 50u);
  for (const auto& r : f.batches[1]) EXPECT_EQ(r.kind, Kind::Result);
  EXPECT_EQ(f.hop(), 0u);  // nothing new: no post
}

TEST(ProbeControlTest, ReportsOfATaskNoLongerWatchedAreDropped) {
  Fixture f;
  f.probes.fallback({Outcome::Fail, 10ms, "connect: connection refused"});
  f.control.watch(target("a"));
  f.control.watch(target("b"));
  f.hop();
  f.sim.advance(10ms);
  f.prober.poll();  // the batch is on its way to the owner...
  f.prober.restart();
  f.control.unwatch("a");  // ...when the owner stops probing a
  f.owner.poll();
  f.owner.restart();
  ASSERT_EQ(f.batches.size(), 1u);
  ASSERT_EQ(f.batches[0].size(), 1u);
  EXPECT_EQ(f.batches[0][0].task_id, "b");

  // Watched again after an unwatch: a new generation, the old watch's late reports are dropped.
  f.sim.advance(1s);
  f.prober.poll();
  f.prober.restart();
  f.control.unwatch("b");
  f.control.watch(target("b"));
  f.owner.poll();
  f.owner.restart();
  EXPECT_EQ(f.batches.size(), 1u);  // an empty batch is not delivered
  f.hop();                          // the new watch reaches the prober: its first probe runs
  f.sim.advance(10ms);
  f.hop();
  ASSERT_EQ(f.batches.size(), 2u);
  EXPECT_EQ(f.batches[1][0].task_id, "b");
}

TEST(ProbeControlTest, CommandsSentBeforeAMonitorIsAttachedWaitForIt) {
  test::SimTime sim;
  boost::asio::io_context owner;
  boost::asio::io_context prober;
  test::FakeProbeExecutor probes{sim.clock, sim.timers};
  ProbeControl control{owner, prober, nullptr, Duration::zero()};
  health::HealthMonitor monitor{sim.clock, sim.timers, probes, control.prober_sink()};
  control.watch(target("a"));
  prober.poll();  // no monitor yet: the command waits
  prober.restart();
  EXPECT_THAT(monitor.watched(), IsEmpty());
  control.watch(target("b"));
  control.attach(&monitor);
  EXPECT_THAT(monitor.watched(), ElementsAre("a", "b"));
  control.attach(nullptr);
}

TEST(ProbeControlTest, ReplayMakesTheSinkCallOfEachKind) {
  struct Recorder final : health::HealthSink {
    std::vector<std::string> calls;
    void on_probe_result(const std::string& id, const core::ProbeRecord& r) override {
      calls.push_back("result " + id + " " + r.detail);
    }
    void on_health_changed(const std::string& id, Health h, std::string why) override {
      calls.push_back("changed " + id + " " + std::string(core::to_string(h)) + " " + why);
    }
    void on_probes_skipped(const std::string& id, health::SkipReason, const std::string& detail,
                           std::uint64_t count) override {
      calls.push_back("skipped " + id + " " + detail + " " + std::to_string(count));
    }
  } sink;
  ProbeReport result{.kind = Kind::Result, .task_id = "a"};
  result.record.detail = "http 200";
  ProbeReport changed{.kind = Kind::Changed,
                      .task_id = "a",
                      .health = Health::Healthy,
                      .text = "first successful probe"};
  ProbeReport skipped{.kind = Kind::Skipped,
                      .task_id = "b",
                      .text = "connect: too many open files",
                      .skip = health::SkipReason::Resources,
                      .count = 3};
  result.replay(sink);
  changed.replay(sink);
  skipped.replay(sink);
  EXPECT_THAT(sink.calls,
              ElementsAre("result a http 200", "changed a HEALTHY first successful probe",
                          "skipped b connect: too many open files 3"));
}

}  // namespace
}  // namespace emu::runtime
