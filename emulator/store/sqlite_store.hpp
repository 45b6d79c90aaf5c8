#pragma once
// SqliteStore: the durable Store (SPEC section 8). One SQLite file in WAL mode, owned by one
// ecs-emulator at a time (an flock on the database file itself, whatever path names it: SPEC
// section 12); one transaction per commit(); a schema versioned by PRAGMA user_version with
// ordered migrations applied at open(). A run of failing commits (disk full, I/O error) is logged
// once when it starts and once when commits succeed again. Not thread-safe: the Registry's strand
// is its only caller.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/store/file_lock.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace emu::store {

class SqliteStore final : public core::Store {
 public:
  /// How hard a commit is pushed to the disk.
  enum class Sync {
    Normal,  ///< WAL + synchronous=NORMAL: survives kill -9; power loss may lose the last commits
    Full,    ///< WAL + synchronous=FULL: an fsync per commit, also survives power loss
  };

  /// The schema version this binary writes; open() refuses files with a newer one.
  static constexpr int kSchemaVersion = 1;

  /// Opens (creating if needed) and migrates the state file; ":memory:" is a throwaway database.
  /// Fails when the file is not a regular file or not a database, has a newer schema, or is in
  /// use by another emulator (Code::Conflict, naming its pid). A zero-byte file is a new database
  /// (with a warning in the log: it may be a truncated state file).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   Sync sync = Sync::Normal);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

  /// Reads every entity (ordered by kind, id) and the event index in one read transaction.
  Result<core::StoreContents> load() override;
  /// Applies the batch in one BEGIN IMMEDIATE ... COMMIT; on any failure it is rolled back whole.
  /// The first failure of a run (Code::Unavailable: the disk) is logged, and so is the first
  /// success after it.
  Result<void> commit(const core::StoreBatch& batch) override;
  /// Runs PRAGMA integrity_check; "ok" when the file is sound, else SQLite's findings.
  Result<std::string> integrity_check();
  /// The schema version stored in the file (PRAGMA user_version).
  Result<int> schema_version();
  /// The path given to open().
  const std::string& path() const { return path_; }

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using Db = std::unique_ptr<sqlite3, DbCloser>;
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  SqliteStore(std::string path, std::optional<FileLock> lock, Db db);
  Result<void> configure(Sync sync);
  Result<void> migrate();
  Result<void> prepare_statements();
  Result<Stmt> prepare(const char* sql);
  Result<void> exec(const char* sql, const char* what);
  Result<void> commit_batch(const core::StoreBatch& batch);
  Result<void> apply(const core::StoreBatch& batch);
  void track(const Result<void>& committed);
  void rollback();
  Error fail(const char* what, int rc) const;

  // Declaration order is destruction order reversed: statements die before the connection,
  // and the lock is released only after the connection is closed.
  std::string path_;
  std::optional<FileLock> lock_;  // empty for ":memory:"
  Db db_;
  Stmt begin_;
  Stmt begin_read_;
  Stmt commit_;
  Stmt rollback_;
  Stmt upsert_;
  Stmt erase_;
  Stmt erase_kind_;
  Stmt erase_all_;
  Stmt set_event_index_;
  Stmt select_entities_;
  Stmt select_event_index_;
  std::uint64_t failed_commits_ = 0;  // in the current run of failures; 0 when commits succeed
};

}  // namespace emu::store
