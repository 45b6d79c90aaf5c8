// raise_fd_limit: the soft RLIMIT_NOFILE goes up to the hard one, and what it did is reported.
// The real call runs on this test process (raising a soft limit to the hard one is harmless).

#include "emulator/runtime/fd_limit.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>

namespace emu::runtime {
namespace {

TEST(FdLimitTest, TargetIsTheHardLimit) {
  const struct {
    rlim_t soft, hard, target;
  } cases[] = {
      {1024, 524288, 524288},                         // the usual systemd/Docker defaults
      {1024, 1024, 1024},                             // nothing to raise
      {4096, 2048, 4096},                             // never lowered
      {1024, RLIM_INFINITY, kUnlimitedFdTarget},      // unlimited: a finite ask
      {RLIM_INFINITY, RLIM_INFINITY, RLIM_INFINITY},  // already unlimited
      {kUnlimitedFdTarget * 2, RLIM_INFINITY, kUnlimitedFdTarget * 2},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(fd_soft_target(rlimit{c.soft, c.hard}), c.target) << c.soft << "/" << c.hard;
  }
}

class RaiseFdLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  rlimit saved_{};
};

TEST_F(RaiseFdLimitTest, RaisesTheSoftLimitToTheHardOneAndSaysSo) {
  if (saved_.rlim_max == RLIM_INFINITY || saved_.rlim_max < 128) {
    GTEST_SKIP() << "needs a finite hard RLIMIT_NOFILE of at least 128";
  }
  rlimit lowered = saved_;
  lowered.rlim_cur = std::min<rlim_t>(64, saved_.rlim_max / 2);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);

  auto r = raise_fd_limit();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->before, lowered.rlim_cur);
  EXPECT_EQ(r->after, saved_.rlim_max);
  EXPECT_EQ(r->hard, saved_.rlim_max);
  EXPECT_TRUE(r->raised());
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, saved_.rlim_max);
  EXPECT_EQ(now.rlim_max, saved_.rlim_max);  // the hard limit is left alone

  // Again: nothing left to do, and it says so.
  auto again = raise_fd_limit();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->raised());
  EXPECT_EQ(again->before, saved_.rlim_max);
  EXPECT_EQ(again->after, saved_.rlim_max);
}

}  // namespace
}  // namespace emu::runtime
