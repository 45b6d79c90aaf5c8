// SqliteStore on real files: reopening, migrations, refusals (foreign, newer, non-regular files,
// a file held under any of its names), rollback of a failing batch, the log of a run of failing
// commits, integrity and the load of a large state file.

#include "emulator/store/sqlite_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
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

TEST_F(SqliteStoreTest, EmptyFileIsMigratedWithAWarning) {
  std::ofstream{path_};  // zero bytes: SQLite treats it as a new database
  ::testing::internal::CaptureStderr();
  auto store = open_ok(path_);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version().value(), SqliteStore::kSchemaVersion);
  EXPECT_TRUE(store->commit(Batch{}.upsert("task", "t1")).ok());
  // it may be a truncated state file: the operator is told
  EXPECT_THAT(log, HasSubstr("WARN state: state file " + path_ +
                             " is empty (0 bytes): starting with no state\n"));
}

TEST_F(SqliteStoreTest, NewOrNonEmptyFileOpensWithoutAWarning) {
  for (int round = 0; round < 2; ++round) {  // created, then reopened
    ::testing::internal::CaptureStderr();
    auto store = open_ok(path_);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    ASSERT_NE(store, nullptr);
  }
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

// SPEC section 12: one daemon per database, whatever the path. Each case names the file in
// another way; the second open meets the first one's lock.
struct OtherName {
  const char* what;
  std::string (*make)(const TempDir& dir, const std::string& path);  // returns the other name
};

const OtherName kOtherNames[] = {
    {"the same path", [](const TempDir&, const std::string& path) { return path; }},
    {"a symlink",
     [](const TempDir& dir, const std::string& path) {
       const std::string link = dir.file("link.db");
       std::filesystem::create_symlink(path, link);
       return link;
     }},
    {"dir/../file",
     [](const TempDir& dir, const std::string&) {
       std::filesystem::create_directory(dir.file("sub"));
       return dir.file("sub/../state.db");
     }},
    {"a hard link",
     [](const TempDir& dir, const std::string& path) {
       const std::string link = dir.file("hard.db");
       std::filesystem::create_hard_link(path, link);
       return link;
     }},
    {"a symlinked folder",
     [](const TempDir& dir, const std::string&) {
       std::filesystem::create_directory_symlink(dir.path(), dir.file("alias"));
       return dir.file("alias/state.db");
     }},
};

TEST_F(SqliteStoreTest, SecondOpenIsRefusedWhateverNamesTheFile) {
  const std::string pid = std::to_string(::getpid());
  for (const OtherName& other : kOtherNames) {
    SCOPED_TRACE(other.what);
    TempDir dir;
    const std::string path = dir.file("state.db");
    auto first = open_ok(path);
    ASSERT_NE(first, nullptr);
    const std::string name = other.make(dir, path);

    auto second = SqliteStore::open(name);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, Code::Conflict);
    EXPECT_THAT(second.error().message,
                HasSubstr("another ecs-emulator (pid " + pid + ") holds state file " + name));
    // the first one is unharmed, also by the refused attempt's descriptor
    EXPECT_TRUE(first->commit(Batch{}.upsert("task", "t1")).ok());
    EXPECT_EQ(first->integrity_check().value(), "ok");
    // once it is closed, the other name opens the same database
    first.reset();
    auto third = open_ok(name);
    ASSERT_NE(third, nullptr);
    EXPECT_THAT(rows(third->load().value()), ElementsAre("task/t1={}"));
  }
}

TEST_F(SqliteStoreTest, RefusalThroughAnotherNameSaysWhichFileItIs) {
  auto first = open_ok(path_);
  ASSERT_NE(first, nullptr);
  const std::string link = dir_.file("link.db");
  std::filesystem::create_symlink(path_, link);
  auto second = SqliteStore::open(link);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error().message,
              ::testing::EndsWith("holds state file " + link + " (" +
                                  std::filesystem::canonical(path_).string() + ")"));
}

// The holder is another process: the kernel's lock table (/proc/locks) names it.
TEST_F(SqliteStoreTest, HolderInAnotherProcessIsNamedByItsPid) {
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(done[1]);
    auto store = SqliteStore::open(path_);
    const char ok = store ? 'y' : 'n';
    if (::write(ready[1], &ok, 1) != 1) _exit(2);
    char byte;
    while (::read(done[0], &byte, 1) < 0 && errno == EINTR) {
    }  // EOF: the parent is done
    _exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);  // blocks until the child has the store open
  ASSERT_EQ(ok, 'y');

  const std::string link = dir_.file("link.db");
  std::filesystem::create_symlink(path_, link);
  auto second = SqliteStore::open(link);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Code::Conflict);
  EXPECT_THAT(second.error().message,
              HasSubstr("another ecs-emulator (pid " + std::to_string(child) +
                        ") holds state file " + link));

  ::close(done[1]);  // the child exits, and the kernel drops its lock
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(ready[0]);
  EXPECT_NE(open_ok(link), nullptr);
}

TEST_F(SqliteStoreTest, NotARegularFileIsRefusedWithoutWaiting) {
  const std::string fifo = dir_.file("fifo.db");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // opening a FIFO for reading would block until a writer comes: it must not
  for (const std::string& path : {fifo, dir_.path(), std::string("/dev/null")}) {
    SCOPED_TRACE(path);
    auto store = SqliteStore::open(path);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().message, "state file " + path + " is not a regular file");
  }
}

/// Runs the scope in another working directory.
class InDirectory {
 public:
  explicit InDirectory(const std::string& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  InDirectory(const InDirectory&) = delete;
  InDirectory& operator=(const InDirectory&) = delete;
  ~InDirectory() { std::filesystem::current_path(old_); }

 private:
  std::filesystem::path old_;
};

// Debian's SQLite reads "file:..." as a URI; the store must open the very file it locked.
TEST_F(SqliteStoreTest, PathStartingWithFileColonIsThatFile) {
  {
    InDirectory in{dir_.path()};
    auto store = open_ok("file:state.db");
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->commit(Batch{}.upsert("task", "t1")).ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir_.file("file:state.db")));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

/// A full disk as this process sees it: writes to regular files past `bytes` fail (EFBIG, with
/// SIGXFSZ ignored rather than killing the test), until the scope ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
  bool ok_ = false;
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Each failed write gets its 503, but only the first failure of a run is logged (with SQLite's
// reason), and one line says when commits work again; the next run is logged again.
TEST_F(SqliteStoreTest, FailingCommitsAreLoggedOncePerRun) {
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->commit(Batch{}.upsert("task", "t0")).ok());
  const std::string big(1 << 20, 'x');  // a 1 MiB body does not fit under the limit
  std::vector<std::string> expected{"task/t0={}"};

  ::testing::internal::CaptureStderr();
  for (int run = 1; run <= 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    {
      FileSizeLimit full{256 * 1024};
      ASSERT_TRUE(full.ok());
      for (int i = 0; i < 3; ++i) {
        auto r = store->commit(Batch{}.upsert("task", "big", big));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Code::Unavailable);  // the API's 503
      }
    }
    for (int i = 0; i < 2; ++i) {
      const std::string id = "r" + std::to_string(run) + "-" + std::to_string(i);
      ASSERT_TRUE(store->commit(Batch{}.upsert("task", id)).ok());
      expected.push_back("task/" + id + "={}");
    }
  }
  const std::string log = ::testing::internal::GetCapturedStderr();

  const std::string failing = "ERROR state: commits fail: state file " + path_ + ": commit";
  const std::string again =
      "WARN state: commits succeed again on state file " + path_ + " failed=3\n";
  EXPECT_EQ(count(log, failing), 2u) << log;  // once per run, not once per failed commit
  EXPECT_EQ(count(log, again), 2u) << log;
  EXPECT_EQ(count(log, "\n"), 4u) << log;  // and nothing else
  EXPECT_LT(log.find(failing), log.find(again));
  EXPECT_THAT(log, HasSubstr("writes are refused until commits succeed again"));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rows(store->load().value()), expected);
  EXPECT_EQ(store->integrity_check().value(), "ok");
}

// A bad batch is a bug its caller reports (500), not a run of disk failures.
TEST_F(SqliteStoreTest, BadBatchIsNotLoggedAsAFailingDisk) {
  auto store = open_ok(path_);
  ASSERT_NE(store, nullptr);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(store->commit(Batch{}.upsert("", "no-kind")).error().code, Code::Internal);
  EXPECT_TRUE(store->commit(Batch{}.upsert("task", "t1")).ok());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
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
