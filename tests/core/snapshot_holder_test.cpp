// SnapshotHolder: readers see each publish at once, and a replaced snapshot is freed by the
// writer's next publish, never by a reader moving on (the DNS threads do not pay for frees).
#include "emulator/core/snapshot_holder.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "emulator/core/zone_snapshot.hpp"

namespace emu::core {
namespace {

std::shared_ptr<const ZoneSnapshot> empty_snapshot() { return ZoneSnapshot::build(ZoneModel{}); }

TEST(SnapshotHolderTest, AReaderSeesThePublishedSnapshotAtOnce) {
  SnapshotHolder holder;
  SnapshotHolder::Reader reader(holder);
  EXPECT_EQ(reader.get(), nullptr);
  auto first = empty_snapshot();
  const ZoneSnapshot* first_ptr = first.get();
  holder.publish(std::move(first));
  EXPECT_EQ(reader.get(), first_ptr);
  auto second = empty_snapshot();
  const ZoneSnapshot* second_ptr = second.get();
  holder.publish(std::move(second));
  EXPECT_EQ(reader.get(), second_ptr);
}

TEST(SnapshotHolderTest, AReaderMovingOnNeverFreesTheOldSnapshot) {
  SnapshotHolder holder;
  SnapshotHolder::Reader reader(holder);
  auto first = empty_snapshot();
  std::weak_ptr<const ZoneSnapshot> old = first;
  holder.publish(std::move(first));
  ASSERT_NE(reader.get(), nullptr);  // the reader now holds the first snapshot

  holder.publish(empty_snapshot());
  EXPECT_EQ(holder.retired(), 1u);
  reader.get();  // moves to the second: drops its reference, not the last one
  EXPECT_FALSE(old.expired());

  holder.publish(empty_snapshot());  // the writer frees what only it still holds
  EXPECT_TRUE(old.expired());
}

TEST(SnapshotHolderTest, RetiredSnapshotsStayBoundedByTheReaders) {
  SnapshotHolder holder;
  SnapshotHolder::Reader slow(holder);
  holder.publish(empty_snapshot());
  slow.get();  // holds the first snapshot and never reads again
  for (int i = 0; i < 100; ++i) holder.publish(empty_snapshot());
  // The slow reader's snapshot and the one just replaced: nothing else is kept.
  EXPECT_LE(holder.retired(), 2u);
}

}  // namespace
}  // namespace emu::core
