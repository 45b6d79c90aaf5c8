// MemoryStore's failure injection (Beast's fail_count): walk every failure point of a sequence
// of commits and check that exactly the batches before it are visible.

#include "emulator/core/memory_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/store/store_helpers.hpp"

namespace emu::core {
namespace {

using store::test::Batch;
using store::test::rows;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Batch i registers task i, stops task i-2 and moves the event index to i.
std::vector<StoreBatch> make_batches(int count) {
  std::vector<StoreBatch> batches;
  for (int i = 1; i <= count; ++i) {
    Batch b;
    b.upsert("task", "t" + std::to_string(i), "{\"i\":" + std::to_string(i) + "}");
    if (i > 2) b.erase("task", "t" + std::to_string(i - 2));
    if (i % 4 == 0) b.erase_all("service").upsert("service", "s" + std::to_string(i));
    b.index(static_cast<std::uint64_t>(i));
    batches.push_back(b.batch);
  }
  return batches;
}

StoreContents reference_after(const std::vector<StoreBatch>& batches, std::size_t applied) {
  MemoryStore reference;
  for (std::size_t i = 0; i < applied; ++i) EXPECT_TRUE(reference.commit(batches[i]).ok());
  return reference.load().value();
}

TEST(MemoryStoreTest, FailAtEveryPointLeavesExactlyTheEarlierBatches) {
  const auto batches = make_batches(12);
  // commit n fails (n = 1 .. size+1; size+1 means none fails)
  for (std::size_t n = 1; n <= batches.size() + 1; ++n) {
    SCOPED_TRACE("commit " + std::to_string(n) + " fails");
    MemoryStore store;
    store.fail_after(n - 1);
    std::size_t acknowledged = 0;
    for (const auto& batch : batches) {
      auto r = store.commit(batch);
      if (!r) {
        EXPECT_EQ(r.error().code, Code::Unavailable);
        break;
      }
      ++acknowledged;
    }
    EXPECT_EQ(acknowledged, n - 1);
    EXPECT_EQ(store.commits(), n - 1);
    auto contents = store.load().value();
    auto expected = reference_after(batches, n - 1);
    EXPECT_EQ(rows(contents), rows(expected));
    EXPECT_EQ(contents.event_index, n - 1);
  }
}

TEST(MemoryStoreTest, FailureIsStickyUntilHealed) {
  MemoryStore store;
  store.fail_after(1);
  EXPECT_TRUE(store.commit(Batch{}.upsert("task", "t1")).ok());
  // a dead disk stays dead
  EXPECT_FALSE(store.commit(Batch{}.upsert("task", "t2")).ok());
  EXPECT_FALSE(store.commit(Batch{}.upsert("task", "t3")).ok());
  EXPECT_THAT(rows(store.load().value()), ElementsAre("task/t1={}"));
  store.heal();
  EXPECT_TRUE(store.commit(Batch{}.upsert("task", "t4")).ok());
  EXPECT_THAT(rows(store.load().value()), ElementsAre("task/t1={}", "task/t4={}"));
  EXPECT_EQ(store.commits(), 2u);
}

TEST(MemoryStoreTest, FailAfterZeroFailsTheFirstCommit) {
  MemoryStore store;
  store.fail_after(0);
  auto r = store.commit(Batch{}.upsert("task", "t1").index(3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
  auto contents = store.load().value();
  EXPECT_THAT(contents.entities, IsEmpty());
  EXPECT_EQ(contents.event_index, 0u);
  EXPECT_EQ(store.size(), 0u);
}

}  // namespace
}  // namespace emu::core
