// HealthTracker: the policy alone, no time source (dnsdist style): `now` is a parameter.

#include "emulator/core/health_tracker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace emu::core {
namespace {

using namespace std::chrono_literals;
using T = HealthTransition;

TimePoint at(Duration d) { return TimePoint{} + d; }

TEST(HealthTrackerTest, UnknownBeforeAnyResult) {
  const HealthTracker tracker{{.retries = 3, .start_period = 0s}};
  EXPECT_EQ(tracker.state(), Health::Unknown);
  EXPECT_EQ(tracker.consecutive_failures(), 0);
}

TEST(HealthTrackerTest, UnhealthyOnlyAfterRetriesConsecutiveFailures) {
  HealthTracker tracker{{.retries = 3, .start_period = 0s}};
  EXPECT_EQ(tracker.record(Outcome::Pass, at(0s)), T::Changed);  // first success applies at once
  EXPECT_EQ(tracker.state(), Health::Healthy);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(30s)), T::Pending);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(60s)), T::Pending);  // two failures are not enough
  EXPECT_EQ(tracker.state(), Health::Healthy);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(90s)), T::Changed);  // but three are
  EXPECT_EQ(tracker.state(), Health::Unhealthy);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(120s)), T::Unchanged);  // already unhealthy
  EXPECT_EQ(tracker.consecutive_failures(), 3);
}

TEST(HealthTrackerTest, UnknownToUnhealthyWithoutEverSucceeding) {
  HealthTracker tracker{{.retries = 2, .start_period = 0s}};
  EXPECT_EQ(tracker.record(Outcome::Fail, at(0s)), T::Pending);
  EXPECT_EQ(tracker.state(), Health::Unknown);  // one failure leaves it UNKNOWN
  EXPECT_EQ(tracker.record(Outcome::Fail, at(1s)), T::Changed);
  EXPECT_EQ(tracker.state(), Health::Unhealthy);
}

TEST(HealthTrackerTest, SuccessResetsTheFailureCount) {
  HealthTracker tracker{{.retries = 3, .start_period = 0s}};
  (void)tracker.record(Outcome::Pass, at(0s));
  EXPECT_EQ(tracker.record(Outcome::Fail, at(1s)), T::Pending);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(2s)), T::Pending);
  EXPECT_EQ(tracker.record(Outcome::Pass, at(3s)), T::Unchanged);  // still healthy, count reset
  EXPECT_EQ(tracker.consecutive_failures(), 0);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(4s)), T::Pending);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(5s)), T::Pending);  // two again: not enough
  EXPECT_EQ(tracker.state(), Health::Healthy);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(6s)), T::Changed);
}

TEST(HealthTrackerTest, OneSuccessRecoversAnUnhealthyTask) {
  HealthTracker tracker{{.retries = 1, .start_period = 0s}};
  EXPECT_EQ(tracker.record(Outcome::Fail, at(0s)), T::Changed);
  EXPECT_EQ(tracker.state(), Health::Unhealthy);
  EXPECT_EQ(tracker.record(Outcome::Pass, at(1s)), T::Changed);
  EXPECT_EQ(tracker.state(), Health::Healthy);
}

TEST(HealthTrackerTest, RetriesBelowOneMeanOne) {
  HealthTracker tracker{{.retries = 0, .start_period = 0s}};
  EXPECT_EQ(tracker.retries(), 1);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(0s)), T::Changed);
}

TEST(HealthTrackerTest, FailuresInsideTheStartPeriodDoNotCount) {
  HealthTracker tracker{{.retries = 2, .start_period = 10s}, at(0s)};
  EXPECT_EQ(tracker.record(Outcome::Fail, at(1s)), T::Unchanged);  // ECS: grace period
  EXPECT_EQ(tracker.record(Outcome::Fail, at(5s)), T::Unchanged);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(9999ms)), T::Unchanged);
  EXPECT_EQ(tracker.state(), Health::Unknown);
  EXPECT_EQ(tracker.consecutive_failures(), 0);
  EXPECT_EQ(tracker.record(Outcome::Fail, at(10s)), T::Pending);  // the period is over
  EXPECT_EQ(tracker.record(Outcome::Fail, at(11s)), T::Changed);
  EXPECT_EQ(tracker.state(), Health::Unhealthy);
}

TEST(HealthTrackerTest, TheFirstSuccessEndsTheStartPeriod) {
  HealthTracker tracker{{.retries = 2, .start_period = 60s}, at(0s)};
  EXPECT_EQ(tracker.record(Outcome::Fail, at(1s)), T::Unchanged);
  EXPECT_EQ(tracker.record(Outcome::Pass, at(2s)), T::Changed);
  EXPECT_FALSE(tracker.in_start_period(at(3s)));
  EXPECT_EQ(tracker.record(Outcome::Fail, at(3s)), T::Pending);  // now failures count
  EXPECT_EQ(tracker.record(Outcome::Fail, at(4s)), T::Changed);
  EXPECT_EQ(tracker.state(), Health::Unhealthy);
}

TEST(HealthTrackerTest, StartPeriodRunsFromStartedAt) {
  HealthTracker tracker{{.retries = 1, .start_period = 5s}, at(100s)};
  EXPECT_TRUE(tracker.in_start_period(at(104s)));
  EXPECT_EQ(tracker.record(Outcome::Fail, at(104s)), T::Unchanged);
  EXPECT_FALSE(tracker.in_start_period(at(105s)));
  EXPECT_EQ(tracker.record(Outcome::Fail, at(105s)), T::Changed);
}

TEST(HealthTrackerTest, InitialStateIsCarriedOver) {
  HealthTracker healthy{{.retries = 2, .start_period = 60s}, at(0s), Health::Healthy};
  EXPECT_EQ(healthy.record(Outcome::Fail, at(1s)), T::Pending);  // no grace for a known task
  HealthTracker unhealthy{{.retries = 2, .start_period = 0s}, at(0s), Health::Unhealthy};
  EXPECT_EQ(unhealthy.record(Outcome::Fail, at(1s)), T::Unchanged);
  EXPECT_EQ(unhealthy.record(Outcome::Pass, at(2s)), T::Changed);
}

TEST(HealthTrackerTest, SkippedNeverChangesTheState) {
  for (const Health initial : {Health::Unknown, Health::Healthy, Health::Unhealthy}) {
    HealthTracker tracker{{.retries = 1, .start_period = 0s}, at(0s), initial};
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(tracker.record(Outcome::Skipped, at(Duration(i))), T::Unchanged);
    }
    EXPECT_EQ(tracker.state(), initial);
  }
}

TEST(HealthTrackerTest, SkippedNeitherCountsNorResetsFailures) {
  HealthTracker tracker{{.retries = 3, .start_period = 0s}};
  (void)tracker.record(Outcome::Pass, at(0s));
  EXPECT_EQ(tracker.record(Outcome::Fail, at(1s)), T::Pending);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(tracker.record(Outcome::Skipped, at(2s)), T::Unchanged);
  EXPECT_EQ(tracker.consecutive_failures(), 1);  // not added to, not reset (it is no success)
  EXPECT_EQ(tracker.record(Outcome::Fail, at(3s)), T::Pending);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(tracker.record(Outcome::Skipped, at(4s)), T::Unchanged);
  EXPECT_EQ(tracker.state(), Health::Healthy);  // 2 failures and 10 skips are not 3 failures
  EXPECT_EQ(tracker.record(Outcome::Fail, at(5s)), T::Changed);
  EXPECT_EQ(tracker.consecutive_failures(), 3);
}

TEST(HealthTrackerTest, SkippedDoesNotEndTheStartPeriod) {
  HealthTracker tracker{{.retries = 1, .start_period = 10s}, at(0s)};
  EXPECT_EQ(tracker.record(Outcome::Skipped, at(1s)), T::Unchanged);
  EXPECT_TRUE(tracker.in_start_period(at(2s)));  // only a success ends it early
  EXPECT_EQ(tracker.record(Outcome::Fail, at(2s)), T::Unchanged);
}

// A table over thresholds (dnsdist's loop): N-1 failures are not enough, N are.
TEST(HealthTrackerTest, ThresholdTable) {
  for (int retries = 1; retries <= 10; ++retries) {
    HealthTracker tracker{{.retries = retries, .start_period = 0s}};
    (void)tracker.record(Outcome::Pass, at(0s));
    for (int i = 1; i < retries; ++i) {
      EXPECT_EQ(tracker.record(Outcome::Fail, at(Duration(i))), T::Pending) << retries;
    }
    EXPECT_EQ(tracker.state(), Health::Healthy) << retries;
    EXPECT_EQ(tracker.record(Outcome::Fail, at(Duration(retries))), T::Changed) << retries;
    EXPECT_EQ(tracker.state(), Health::Unhealthy) << retries;
  }
}

}  // namespace
}  // namespace emu::core
