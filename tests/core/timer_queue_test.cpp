#include "emulator/core/timer_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/sim_time.hpp"

namespace emu {
namespace {

using namespace std::chrono_literals;

TEST(TimerQueueTest, FiresInDeadlineThenScheduleOrder) {
  test::SimTime sim;
  std::vector<int> fired;
  const auto t0 = sim.clock.now();
  sim.timers.schedule(t0 + 20ms, [&] { fired.push_back(3); });
  sim.timers.schedule(t0 + 10ms, [&] { fired.push_back(1); });
  sim.timers.schedule(t0 + 10ms, [&] { fired.push_back(2); });  // same deadline: scheduling order
  sim.advance(15ms);
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  sim.advance(5ms);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
}

TEST(TimerQueueTest, CancelledTimersNeverFire) {
  test::SimTime sim;
  int fired = 0;
  const auto id = sim.timers.schedule(sim.clock.now() + 1s, [&] { ++fired; });
  sim.timers.cancel(id);
  sim.timers.cancel(id);  // twice is harmless
  sim.advance(2s);
  EXPECT_EQ(fired, 0);
  EXPECT_FALSE(sim.timers.next_deadline());
}

TEST(TimerQueueTest, CallbacksMayScheduleMoreWorkThatIsAlreadyDue) {
  test::SimTime sim;
  std::vector<TimePoint> at;
  std::function<void()> tick = [&] {
    at.push_back(sim.clock.now());
    if (at.size() < 3) sim.timers.schedule(sim.clock.now() + 1s, tick);
  };
  sim.timers.schedule(sim.clock.now(), tick);
  sim.advance(10s);
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(at[2] - at[0], 2s);  // each tick ran at its own deadline
}

TEST(TimerQueueTest, RearmIsCalledOnlyWhenTheEarliestDeadlineMovesEarlier) {
  TimerQueue q;
  int rearms = 0;
  q.on_rearm([&] { ++rearms; });
  const TimePoint t{std::chrono::hours(1)};
  (void)q.schedule(t + 10s, [] {});
  (void)q.schedule(t + 20s, [] {});  // later: the driver is already early enough
  (void)q.schedule(t + 5s, [] {});
  EXPECT_EQ(rearms, 2);
}

}  // namespace
}  // namespace emu
