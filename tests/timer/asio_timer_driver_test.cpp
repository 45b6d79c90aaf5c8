// AsioTimerDriver on a real io_context and SteadyTimeSource: what the daemon relies on is that a
// scheduled timer fires no earlier than its deadline, that a deadline added later but earlier
// than the armed one is honoured, that deadlines within the slack share one wake-up, and that
// nothing fires (or stays pending) after stop().

#include "emulator/timer/asio_timer_driver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"
#include "tests/support/run_until.hpp"

namespace emu::timer {
namespace {

using namespace std::chrono_literals;

using test::run_until;

struct AsioTimerDriverTest : ::testing::Test {
  boost::asio::io_context io;
  SteadyTimeSource clock;
  TimerQueue timers;
  AsioTimerDriver driver{io, clock, timers};
};

TEST_F(AsioTimerDriverTest, FiresADueTimerNoEarlierThanItsDeadline) {
  const TimePoint due = clock.now() + 30ms;
  std::optional<TimePoint> fired_at;
  timers.schedule(due, [&] { fired_at = clock.now(); });
  driver.start();
  ASSERT_TRUE(run_until(io, [&] { return fired_at.has_value(); }));
  EXPECT_GE(*fired_at, due);
  EXPECT_EQ(timers.size(), 0u);
  driver.stop();
}

TEST_F(AsioTimerDriverTest, DeadlinesWithinTheSlackShareOneWakeUp) {
  // 50 ms of slack: the driver sleeps past the second deadline before it fires the first, then
  // fires both, in order, in the same wake-up. (Only lower bounds: a loaded machine is later.)
  AsioTimerDriver coalescing{io, clock, timers, 50ms};
  const TimePoint t0 = clock.now();
  std::vector<std::pair<int, TimePoint>> fired;
  timers.schedule(t0 + 10ms, [&] { fired.emplace_back(1, clock.now()); });
  timers.schedule(t0 + 20ms, [&] { fired.emplace_back(2, clock.now()); });
  coalescing.start();
  ASSERT_TRUE(run_until(io, [&] { return fired.size() == 2; }));
  EXPECT_EQ(fired[0].first, 1);
  EXPECT_EQ(fired[1].first, 2);
  EXPECT_GE(fired[0].second, t0 + 20ms);  // the first waited for the second: one wake-up
  coalescing.stop();
}

TEST_F(AsioTimerDriverTest, AnEarlierDeadlineScheduledLaterRearms) {
  driver.start();
  bool late = false;
  bool early = false;
  timers.schedule(clock.now() + 1h, [&] { late = true; });  // armed for an hour from now
  timers.schedule(clock.now() + 20ms, [&] { early = true; });
  // Without the re-arm the driver would sleep until the hour-long deadline.
  ASSERT_TRUE(run_until(io, [&] { return early; }));
  EXPECT_FALSE(late);
  EXPECT_EQ(timers.size(), 1u);
  driver.stop();
}

TEST_F(AsioTimerDriverTest, TimersScheduledFromACallbackKeepFiring) {
  driver.start();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 3) timers.schedule(clock.now() + 10ms, tick);
  };
  timers.schedule(clock.now() + 10ms, tick);
  ASSERT_TRUE(run_until(io, [&] { return ticks == 3; }));
  driver.stop();
}

TEST_F(AsioTimerDriverTest, NothingFiresAfterStop) {
  bool fired = false;
  timers.schedule(clock.now() + 10ms, [&] { fired = true; });
  driver.start();
  driver.stop();
  timers.schedule(clock.now() + 5ms, [&] { fired = true; });  // no re-arm once stopped
  // The cancelled wait completes at once and no other wait is pending, so run() returns.
  io.run();
  EXPECT_FALSE(fired);
  EXPECT_EQ(timers.size(), 2u);
}

}  // namespace
}  // namespace emu::timer
