// SqliteStore on real files: reopening, migrations, refusals (foreign, newer, busy, read-only
// files), rollback of a failing batch, integrity and the load of a large state file.

#include "emulator/store/sqlite_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

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

std::unique_ptr<SqliteStore> open_ok(const std::string& path) {
  auto store = SqliteStore::open(path);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store.ok() ? std::move(store).value() : nullptr;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs SQL on the file with a plain connection, outside SqliteStore (a tool or an old binary).
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

std::string raw_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  TempDir dir_;
  const std::string path_ = dir_.file("state.db");
};

TEST_F(SqliteStoreTest, ReopenedFileReadsBackEverything) {
  {
    auto store = open_ok(path_);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->commit(Batch{}.upsert("namespace", "demo", "{\"n\":1}").index(3)).ok());
    ASSERT_TRUE(store->commit(Batch{}.upsert("task", "t1").upsert("task", "t2").index(5)).ok());
    ASSERT_TRUE(store->commit(Batch{}.erase("task", "t1")).ok());
  }
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  auto contents = store->load();
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_THAT(rows(*contents), ElementsAre("namespace/demo={\"n\":1}", "task/t2={}"));
  EXPECT_EQ(contents->event_index, 5u);
}

TEST_F(SqliteStoreTest, NewFileIsMigratedFromVersionZeroInWalMode) {
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version().value(), SqliteStore::kSchemaVersion);
  EXPECT_EQ(raw_query(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw_query(path_, "SELECT count(*) FROM sqlite_schema WHERE name = 'entities'"), "1");
}

TEST_F(SqliteStoreTest, EmptyFileIsMigrated) {
  std::ofstream{path_};  // zero bytes: SQLite treats it as a new database
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version().value(), SqliteStore::kSchemaVersion);
  EXPECT_TRUE(store->commit(Batch{}.upsert("task", "t1")).ok());
}

TEST_F(SqliteStoreTest, OtherProgramsDatabaseIsRefusedAndLeftUntouched) {
  // a wrong --state pointing at some application's database (user_version 0, its own tables)
  raw_exec(path_, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept');");
  const std::string before = read_file(path_);
  auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message,
              HasSubstr(path_ + " is an SQLite database of another program"));
  EXPECT_EQ(read_file(path_), before);
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefusedAndLeftUntouched) {
  const int newer = SqliteStore::kSchemaVersion + 1;
  raw_exec(path_, "CREATE TABLE future (x); PRAGMA user_version = " + std::to_string(newer));
  const std::string before = read_file(path_);

  auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(path_));
  EXPECT_THAT(store.error().message, HasSubstr("schema version " + std::to_string(newer)));
  EXPECT_THAT(store.error().message, HasSubstr("newer"));
  // not converted to WAL, not migrated: byte for byte what it was
  EXPECT_EQ(read_file(path_), before);
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
}

TEST_F(SqliteStoreTest, NonDatabaseFileIsRefusedAndLeftUntouched) {
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 100; ++i) out << "this is a fixture file, not a database\n";
  }
  const std::string before = read_file(path_);
  auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Code::Unavailable);
  EXPECT_THAT(store.error().message, HasSubstr(path_ + " is not an SQLite database"));
  EXPECT_EQ(read_file(path_), before);
}

TEST_F(SqliteStoreTest, SecondOpenOfTheSameFileIsRefusedWhileTheFirstIsOpen) {
  auto first = open_ok(path_);
  ASSERT_NE(first, nullptr);
  auto second = SqliteStore::open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Code::Conflict);
  EXPECT_THAT(second.error().message,
              HasSubstr("state file " + path_ + " is in use by another ecs-emulator"));
  // the first one is unharmed
  EXPECT_TRUE(first->commit(Batch{}.upsert("task", "t1")).ok());
  // once it is closed, the file can be opened again
  first.reset();
  auto third = open_ok(path_);
  ASSERT_NE(third, nullptr);
  EXPECT_THAT(rows(third->load().value()), ElementsAre("task/t1={}"));
}

TEST_F(SqliteStoreTest, InMemoryStoresAreIndependent) {
  auto a = open_ok(":memory:");
  auto b = open_ok(":memory:");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->commit(Batch{}.upsert("task", "t1")).ok());
  EXPECT_THAT(b->load().value().entities, IsEmpty());
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAClearError) {
  const std::string path = dir_.file("no/such/dir/state.db");
  auto store = SqliteStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(path));
}

TEST_F(SqliteStoreTest, EmptyPathIsRefused) {
  auto store = SqliteStore::open("");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Code::InvalidArgument);
}

// Beast-style walk over SqliteStore: batch n is a bad one (a valid upsert, then a change the
// schema's CHECK refuses); exactly the n-1 batches before it survive, also after reopening.
TEST_F(SqliteStoreTest, FailingBatchAtEveryPointRollsBackEntirely) {
  constexpr int kBatches = 6;
  for (int n = 1; n <= kBatches; ++n) {
    SCOPED_TRACE("batch " + std::to_string(n) + " fails");
    const std::string path = dir_.file("walk" + std::to_string(n) + ".db");
    std::vector<std::string> expected;
    {
      auto store = open_ok(path);
      ASSERT_NE(store, nullptr);
      for (int i = 1; i < n; ++i) {
        const std::string id = "t" + std::to_string(i);
        ASSERT_TRUE(store->commit(Batch{}.upsert("task", id).index(i)).ok());
        expected.push_back("task/" + id + "={}");
      }
      auto r = store->commit(Batch{}
                                 .erase_all()
                                 .upsert("task", "bad" + std::to_string(n))
                                 .upsert("", "no-kind")
                                 .index(1000));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, Code::Internal);
      EXPECT_THAT(r.error().message, HasSubstr("CHECK constraint failed"));
      EXPECT_THAT(r.error().message, HasSubstr(path));
      auto contents = store->load().value();
      EXPECT_EQ(rows(contents), expected);
      EXPECT_EQ(contents.event_index, static_cast<std::uint64_t>(n - 1));
    }
    auto reopened = open_ok(path);
    ASSERT_NE(reopened, nullptr);
    auto contents = reopened->load().value();
    EXPECT_EQ(rows(contents), expected);
    EXPECT_EQ(contents.event_index, static_cast<std::uint64_t>(n - 1));
    EXPECT_EQ(reopened->integrity_check().value(), "ok");
  }
}

TEST_F(SqliteStoreTest, IntegrityCheckIsOk) {
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->commit(Batch{}.upsert("task", "t1")).ok());
  auto report = store->integrity_check();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(*report, "ok");
}

// SPEC section 10: startup must stay fast with a big state file. Prints the figure; the assertion
// is only on the contents (timings are not asserted in tests).
TEST_F(SqliteStoreTest, LoadsTenThousandTasks) {
  constexpr int kTasks = 10000;
  {
    auto store = open_ok(path_);
    ASSERT_NE(store, nullptr);
    Batch batch;
    for (int i = 0; i < kTasks; ++i) {
      const std::string id = "task-" + std::to_string(i);
      batch.upsert("task", id, test::task_body(id));
    }
    batch.upsert("namespace", "demo").index(kTasks);
    ASSERT_TRUE(store->commit(batch).ok());
  }
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto contents = store->load();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_EQ(contents->entities.size(), static_cast<std::size_t>(kTasks + 1));
  EXPECT_EQ(contents->event_index, static_cast<std::uint64_t>(kTasks));
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  std::cout << "[ measure  ] load of " << kTasks << " tasks (~600 B each): " << ms << " ms\n";
  RecordProperty("load_10k_ms", std::to_string(ms));
}

}  // namespace
}  // namespace emu::store
