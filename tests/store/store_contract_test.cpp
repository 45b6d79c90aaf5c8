// The Store contract, run against every implementation: MemoryStore (the unit-test double),
// SqliteStore on ":memory:" and SqliteStore on a file. A behaviour the Registry relies on must
// hold for all three, or tests on MemoryStore would prove nothing about production.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "emulator/core/memory_store.hpp"
#include "emulator/store/sqlite_store.hpp"
#include "tests/store/store_helpers.hpp"
#include "tests/store/temp_dir.hpp"

namespace emu::store {
namespace {

using test::Batch;
using test::rows;
using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<core::Store>(const TempDir&)> make;
};

std::unique_ptr<core::Store> open_or_null(const std::string& path) {
  auto store = SqliteStore::open(path);
  if (!store) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  return std::move(store).value();
}

const StoreKind kKinds[] = {
    {"Memory", [](const TempDir&) { return std::make_unique<core::MemoryStore>(); }},
    {"SqliteInMemory", [](const TempDir&) { return open_or_null(":memory:"); }},
    {"SqliteFile", [](const TempDir& dir) { return open_or_null(dir.file("state.db")); }},
};

class StoreContractTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().make(dir_);
    ASSERT_NE(store_, nullptr);
  }

  void commit(const core::StoreBatch& batch) {
    auto r = store_->commit(batch);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  core::StoreContents load() {
    auto contents = store_->load();
    EXPECT_TRUE(contents.ok()) << contents.error().message;
    return contents.ok() ? std::move(contents).value() : core::StoreContents{};
  }

  TempDir dir_;
  std::unique_ptr<core::Store> store_;
};

TEST_P(StoreContractTest, EmptyStoreLoadsNothing) {
  auto contents = load();
  EXPECT_THAT(contents.entities, IsEmpty());
  EXPECT_EQ(contents.event_index, 0u);
}

TEST_P(StoreContractTest, UpsertsLoadInKindThenIdOrder) {
  commit(Batch{}.upsert("task", "t2", "{\"n\":2}").upsert("service", "web", "{}"));
  commit(Batch{}.upsert("task", "t1", "{\"n\":1}"));
  EXPECT_THAT(rows(load()),
              ElementsAre("service/web={}", "task/t1={\"n\":1}", "task/t2={\"n\":2}"));
}

TEST_P(StoreContractTest, UpsertReplacesTheBody) {
  commit(Batch{}.upsert("task", "t1", "{\"status\":\"RUNNING\"}"));
  commit(Batch{}.upsert("task", "t1", "{\"status\":\"STOPPED\"}"));
  EXPECT_THAT(rows(load()), ElementsAre("task/t1={\"status\":\"STOPPED\"}"));
}

TEST_P(StoreContractTest, SameIdInTwoKindsAreTwoEntities) {
  commit(Batch{}.upsert("service", "x", "1").upsert("task", "x", "2"));
  EXPECT_THAT(rows(load()), ElementsAre("service/x=1", "task/x=2"));
}

TEST_P(StoreContractTest, EraseRemovesOneEntity) {
  commit(Batch{}.upsert("task", "t1").upsert("task", "t2"));
  commit(Batch{}.erase("task", "t1"));
  EXPECT_THAT(rows(load()), ElementsAre("task/t2={}"));
  // erasing what is not there is not an error
  commit(Batch{}.erase("task", "t1").erase("nothing", "here"));
  EXPECT_THAT(rows(load()), ElementsAre("task/t2={}"));
}

TEST_P(StoreContractTest, EraseAllOfOneKindKeepsTheOthers) {
  commit(Batch{}
             .upsert("namespace", "demo")
             .upsert("task", "t1")
             .upsert("task", "t2")
             .upsert("taskx", "t3"));
  commit(Batch{}.erase_all("task"));
  EXPECT_THAT(rows(load()), ElementsAre("namespace/demo={}", "taskx/t3={}"));
}

TEST_P(StoreContractTest, EraseAllWithoutKindEmptiesEverythingButKeepsTheEventIndex) {
  commit(Batch{}.upsert("namespace", "demo").upsert("task", "t1").index(42));
  commit(Batch{}.erase_all());  // POST /v1/reset
  auto contents = load();
  EXPECT_THAT(contents.entities, IsEmpty());
  // blocking queries must never see the index go back, even across a reset
  EXPECT_EQ(contents.event_index, 42u);
}

TEST_P(StoreContractTest, EventIndexOnlyGrows) {
  commit(Batch{}.index(5));
  EXPECT_EQ(load().event_index, 5u);
  commit(Batch{}.index(3));  // a lower mark is ignored
  EXPECT_EQ(load().event_index, 5u);
  commit(Batch{}.upsert("task", "t1"));  // a batch without a mark leaves it alone
  EXPECT_EQ(load().event_index, 5u);
  commit(Batch{}.index(9));
  EXPECT_EQ(load().event_index, 9u);
}

TEST_P(StoreContractTest, ChangesApplyInBatchOrder) {
  commit(Batch{}.upsert("task", "t1").erase("task", "t1").upsert("task", "t2"));
  EXPECT_THAT(rows(load()), ElementsAre("task/t2={}"));
  commit(Batch{}.erase_all().upsert("task", "t3"));
  EXPECT_THAT(rows(load()), ElementsAre("task/t3={}"));
}

TEST_P(StoreContractTest, EmptyBatchIsOk) {
  commit(Batch{});
  EXPECT_THAT(load().entities, IsEmpty());
}

TEST_P(StoreContractTest, BadBatchChangesNothing) {
  commit(Batch{}.upsert("task", "t1", "old").index(1));
  // the first change is fine, the last is not: all or nothing
  auto r = store_->commit(
      Batch{}.upsert("task", "t1", "new").upsert("task", "t2").upsert("task", "").index(7));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Internal);
  auto contents = load();
  EXPECT_THAT(rows(contents), ElementsAre("task/t1=old"));
  EXPECT_EQ(contents.event_index, 1u);
  // an erase without an id is refused too
  EXPECT_FALSE(store_->commit(Batch{}.erase_all().erase("task", "")).ok());
  EXPECT_THAT(rows(load()), ElementsAre("task/t1=old"));
  // and the store keeps working
  commit(Batch{}.upsert("task", "t2"));
  EXPECT_THAT(rows(load()), ElementsAre("task/t1=old", "task/t2={}"));
}

TEST_P(StoreContractTest, BodiesAreKeptByteForByte) {
  const std::string body = "{\"name\":\"caf\xc3\xa9\",\"nul\":\"a\\u0000b\",\"q\":\"'\\\"\"}";
  commit(Batch{}.upsert("task", "t'1; DROP TABLE entities", body));
  auto contents = load();
  ASSERT_EQ(contents.entities.size(), 1u);
  EXPECT_EQ(contents.entities[0].id, "t'1; DROP TABLE entities");
  EXPECT_EQ(contents.entities[0].body, body);
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreContractTest, ::testing::ValuesIn(kKinds),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace emu::store
