#include "emulator/core/ecs/ip_pool.hpp"

#include <gtest/gtest.h>

namespace emu::core::ecs {
namespace {

TEST(IpPoolTest, ReservesTheFirstFourAndTheLastAddress) {
  auto pool = IpPool::parse("10.1.2.0/28");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->capacity(), 11u);
  EXPECT_EQ(pool->allocate({}), "10.1.2.4");  // like a VPC subnet: .0-.3 are reserved
  EXPECT_FALSE(pool->contains("10.1.2.15"));  // and the broadcast address
  EXPECT_TRUE(pool->contains("10.1.2.14"));
}

TEST(IpPoolTest, SkipsUsedAddressesAndReportsExhaustion) {
  auto pool = IpPool::parse("10.1.2.7/28");  // host bits are ignored
  ASSERT_TRUE(pool);
  std::set<std::string> used;
  for (int i = 0; i < 11; ++i) {
    auto ip = pool->allocate(used);
    ASSERT_TRUE(ip);
    EXPECT_FALSE(used.count(*ip));
    used.insert(*ip);
  }
  EXPECT_FALSE(pool->allocate(used));  // all 11 are taken
  used.erase("10.1.2.9");
  EXPECT_EQ(pool->allocate(used), "10.1.2.9");  // a freed address comes back
}

TEST(IpPoolTest, RejectsBadCidrs) {
  for (const char* bad :
       {"10.0.0.0", "10.0.0/16", "300.0.0.0/16", "10.0.0.0/4", "10.0.0.0/30", "10.0.0.0/x", ""}) {
    EXPECT_FALSE(IpPool::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace emu::core::ecs
