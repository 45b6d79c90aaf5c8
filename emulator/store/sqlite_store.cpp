#include "emulator/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <iterator>
#include <limits>
#include <utility>

#include "emulator/log/log.hpp"

namespace emu::store {
namespace {

// Writers never wait on us (we own the file), so this only covers a reader such as the sqlite3
// shell holding a lock during a checkpoint. Kept short: a commit blocks the Registry's strand.
constexpr int kBusyTimeoutMs = 2000;

// Bounds the WAL file left behind after a checkpoint (SQLite otherwise keeps its high-water size).
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 67108864";

// The page cache, at most 64 MiB (SQLite's default is 2 MiB). A state of 10,000 tasks is ~14 MiB
// of pages: with the default, a commit into it reads its pages back from the OS and a fixture's
// one big transaction spills to the WAL before it commits. The cache grows only with the file.
constexpr const char* kCacheSize = "PRAGMA cache_size = -65536";

// Checkpoint the WAL every 8,192 pages (32 MiB) rather than SQLite's 1,000. Each commit into a
// large state dirties other pages than the last one did, so a checkpoint copies about one page per
// commit back into the database file, plus an fsync: fewer, larger checkpoints copy each hot page
// once. A clean shutdown still checkpoints everything; after kill -9 the next open reads at most
// this much WAL back. Durability is the same: a commit is in the WAL before COMMIT returns.
constexpr const char* kWalAutocheckpoint = "PRAGMA wal_autocheckpoint = 8192";

/// One schema step. Steps are applied in order, all pending ones in one transaction, and
/// PRAGMA user_version records the last one. Never edit a released step: append a new one.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
      -- Generic rows: a new entity kind needs no schema change. The CHECKs turn a bad batch into a
      -- constraint failure that rolls the whole batch back.
      CREATE TABLE entities (
        kind TEXT NOT NULL CHECK (kind <> ''),
        id   TEXT NOT NULL CHECK (id <> ''),
        body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
      ) WITHOUT ROWID;
      -- Small named values; 'event_index' is the high-water mark of event indexes.
      CREATE TABLE meta (
        key   TEXT NOT NULL PRIMARY KEY,
        value
      ) WITHOUT ROWID;
    )sql"},
};

static_assert(std::size(kMigrations) > 0 &&
                  kMigrations[std::size(kMigrations) - 1].version == SqliteStore::kSchemaVersion,
              "kSchemaVersion must be the last migration's version");

/// Resets a statement when the step sequence ends, whatever the outcome.
class ResetGuard {
 public:
  explicit ResetGuard(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;
  ~ResetGuard() { sqlite3_reset(stmt_); }

 private:
  sqlite3_stmt* stmt_;
};

/// Steps a statement that returns no rows; SQLITE_DONE on success.
int run(sqlite3_stmt* stmt) {
  ResetGuard reset{stmt};
  return sqlite3_step(stmt);
}

int bind(sqlite3_stmt* stmt, int index, const std::string& text) {
  // SQLITE_STATIC: the batch outlives the step, so SQLite need not copy the bytes.
  return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string column_string(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  return text ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

bool is_constraint(int rc) { return (rc & 0xff) == SQLITE_CONSTRAINT; }

}  // namespace

void SqliteStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

void SqliteStore::StmtFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqliteStore::SqliteStore(std::string path, std::optional<FileLock> lock, Db db)
    : path_(std::move(path)), lock_(std::move(lock)), db_(std::move(db)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, Sync sync) {
  if (path.empty()) return Error{Code::InvalidArgument, "state file path is empty"};
  const bool in_memory = path == ":memory:";

  // Two daemons on one file would interleave two histories and both acknowledge writes: refuse
  // the second one before it touches the database at all. The lock is on the file itself, so a
  // symlink, "dir/../file" or a hard link to it meets the same lock.
  std::optional<FileLock> lock;
  if (!in_memory) {
    auto acquired = FileLock::acquire(path, "state file");
    if (!acquired) return acquired.error();
    lock.emplace(std::move(acquired).value());
  }
  const bool empty_file = lock && !lock->created() && lock->size() == 0;

  sqlite3* raw = nullptr;
  // NOMUTEX: one caller at a time (the Registry's strand), so SQLite's own mutexes are waste.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  // Debian's SQLite takes "file:..." as a URI (SQLITE_USE_URI), which could name another file
  // than the one locked above; "./file:..." is the same file and never a URI.
  const std::string sqlite_path = path.rfind("file:", 0) == 0 ? "./" + path : path;
  const int rc = sqlite3_open_v2(sqlite_path.c_str(), &raw, flags, nullptr);
  Db db{raw};  // a handle comes back even on most failures and must be closed
  if (rc != SQLITE_OK) {
    return Error{Code::Unavailable, "cannot open state file " + path + ": " +
                                        (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  }
  sqlite3_extended_result_codes(db.get(), 1);

  std::unique_ptr<SqliteStore> store{new SqliteStore(path, std::move(lock), std::move(db))};
  if (auto r = store->configure(sync); !r) return r.error();
  if (auto r = store->migrate(); !r) return r.error();
  if (auto r = store->prepare_statements(); !r) return r.error();
  if (empty_file) {
    // SQLite takes zero bytes for a new database; say so, as it may be a state file truncated by
    // a full disk or a wrong redirection rather than a fresh one.
    log::warn("state", "state file " + path + " is empty (0 bytes): starting with no state");
  }
  return store;
}

Result<void> SqliteStore::configure(Sync sync) {
  sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);

  // Read the header before changing anything: a foreign or newer file must stay untouched.
  auto version = schema_version();
  if (!version) return version.error();
  if (*version > kSchemaVersion) {
    return Error{Code::Unavailable,
                 "state file " + path_ + " has schema version " + std::to_string(*version) +
                     ", newer than this ecs-emulator supports (" + std::to_string(kSchemaVersion) +
                     "); refusing to open it (upgrade ecs-emulator)"};
  }
  if (*version == 0) {
    // Version 0 with tables is another program's database (a wrong --state): leave it alone
    // rather than add our tables to it.
    auto tables = prepare("SELECT count(*) FROM sqlite_schema");
    if (!tables) return tables.error();
    const int rc = sqlite3_step(tables->get());
    if (rc != SQLITE_ROW) return fail("cannot read the schema", rc);
    if (sqlite3_column_int(tables->get(), 0) != 0) {
      return Error{Code::Unavailable, "state file " + path_ +
                                          " is an SQLite database of another program (schema "
                                          "version 0 with tables); refusing to open it"};
    }
  }
  if (sqlite3_db_readonly(db_.get(), "main") == 1) {
    // SQLite silently falls back to read-only on a write-protected file; we need to write.
    return Error{Code::Unavailable, "state file " + path_ + " is read-only"};
  }

  if (path_ != ":memory:") {
    auto mode = prepare("PRAGMA journal_mode = WAL");
    if (!mode) return mode.error();
    ResetGuard reset{mode->get()};
    const int rc = sqlite3_step(mode->get());
    if (rc != SQLITE_ROW) return fail("cannot enable WAL", rc);
    const std::string got = column_string(mode->get(), 0);
    if (got != "wal") {
      return Error{Code::Unavailable,
                   "state file " + path_ + ": cannot enable WAL (journal_mode is " + got + ")"};
    }
  }
  // In WAL mode NORMAL writes each commit to the WAL file (the OS page cache) before COMMIT
  // returns: a commit survives kill -9 of the process, which is what SPEC section 8 asks for.
  // Power loss or a kernel crash may lose the last commits (never corrupt the file); FULL adds an
  // fsync per commit to cover that too.
  if (auto r =
          exec(sync == Sync::Full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
               "cannot set synchronous");
      !r) {
    return r;
  }
  if (auto r = exec(kCacheSize, "cannot set cache_size"); !r) return r;
  if (auto r = exec(kWalAutocheckpoint, "cannot set wal_autocheckpoint"); !r) return r;
  return exec(kJournalSizeLimit, "cannot set journal_size_limit");
}

Result<void> SqliteStore::migrate() {
  auto version = schema_version();
  if (!version) return version.error();
  if (*version == kSchemaVersion) return {};

  if (auto r = exec("BEGIN IMMEDIATE", "cannot begin migration"); !r) return r;
  for (const Migration& step : kMigrations) {
    if (step.version <= *version) continue;
    char* message = nullptr;
    const int rc = sqlite3_exec(db_.get(), step.sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      Error error{Code::Unavailable, "state file " + path_ + ": migration to schema version " +
                                         std::to_string(step.version) +
                                         " failed: " + (message ? message : sqlite3_errstr(rc))};
      sqlite3_free(message);
      rollback();
      return error;
    }
  }
  // user_version lives in the database header and is part of the transaction.
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  if (auto r = exec(set_version.c_str(), "cannot record schema version"); !r) {
    rollback();
    return r;
  }
  if (auto r = exec("COMMIT", "cannot commit migration"); !r) {
    rollback();
    return r;
  }
  return {};
}

Result<void> SqliteStore::prepare_statements() {
  struct Entry {
    Stmt* slot;
    const char* sql;
  };
  const Entry entries[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&begin_read_, "BEGIN DEFERRED"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&upsert_,
       "INSERT INTO entities (kind, id, body) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body"},
      {&erase_, "DELETE FROM entities WHERE kind = ?1 AND id = ?2"},
      {&erase_kind_, "DELETE FROM entities WHERE kind = ?1"},
      {&erase_all_, "DELETE FROM entities"},
      // max(): the event index only grows, whatever order batches arrive in.
      {&set_event_index_,
       "INSERT INTO meta (key, value) VALUES ('event_index', ?1) "
       "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)"},
      // The primary key order: no sort step.
      {&select_entities_, "SELECT kind, id, body FROM entities ORDER BY kind, id"},
      {&select_event_index_, "SELECT value FROM meta WHERE key = 'event_index'"},
  };
  for (const Entry& entry : entries) {
    auto stmt = prepare(entry.sql);
    if (!stmt) return stmt.error();
    *entry.slot = std::move(stmt).value();
  }
  return {};
}

Result<SqliteStore::Stmt> SqliteStore::prepare(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt stmt{raw};
  if (rc != SQLITE_OK) return fail("cannot prepare statement", rc);
  return stmt;
}

Result<void> SqliteStore::exec(const char* sql, const char* what) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(what, rc);
  return {};
}

Result<int> SqliteStore::schema_version() {
  auto stmt = prepare("PRAGMA user_version");
  if (!stmt) return stmt.error();
  const int rc = sqlite3_step(stmt->get());
  if ((rc & 0xff) == SQLITE_NOTADB) {
    return Error{Code::Unavailable, "state file " + path_ + " is not an SQLite database (" +
                                        sqlite3_errmsg(db_.get()) + "); refusing to open it"};
  }
  if (rc != SQLITE_ROW) return fail("cannot read schema version", rc);
  return sqlite3_column_int(stmt->get(), 0);
}

Result<core::StoreContents> SqliteStore::load() {
  // One read transaction: the entities and the event index come from the same commit.
  if (const int rc = run(begin_read_.get()); rc != SQLITE_DONE) return fail("load: begin", rc);
  core::StoreContents contents;
  {
    sqlite3_stmt* stmt = select_entities_.get();
    ResetGuard reset{stmt};
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      contents.entities.push_back(
          {column_string(stmt, 0), column_string(stmt, 1), column_string(stmt, 2)});
    }
    if (rc != SQLITE_DONE) {
      Error error = fail("load: reading entities", rc);
      rollback();
      return error;
    }
  }
  {
    sqlite3_stmt* stmt = select_event_index_.get();
    ResetGuard reset{stmt};
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const sqlite3_int64 value = sqlite3_column_int64(stmt, 0);
      if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER || value < 0) {
        rollback();
        return Error{Code::Unavailable,
                     "state file " + path_ + ": meta.event_index is not a non-negative integer"};
      }
      contents.event_index = static_cast<std::uint64_t>(value);
    } else if (rc != SQLITE_DONE) {
      Error error = fail("load: reading event index", rc);
      rollback();
      return error;
    }
  }
  if (const int rc = run(commit_.get()); rc != SQLITE_DONE) {
    Error error = fail("load: end", rc);
    rollback();
    return error;
  }
  return contents;
}

Result<void> SqliteStore::commit(const core::StoreBatch& batch) {
  if (batch.empty()) return {};
  Result<void> committed = commit_batch(batch);
  track(committed);
  return committed;
}

Result<void> SqliteStore::commit_batch(const core::StoreBatch& batch) {
  if (const int rc = run(begin_.get()); rc != SQLITE_DONE) return fail("commit: begin", rc);
  if (auto r = apply(batch); !r) {
    rollback();
    return r;
  }
  if (const int rc = run(commit_.get()); rc != SQLITE_DONE) {
    Error error = fail("commit", rc);
    rollback();  // COMMIT can fail and leave the transaction open (SQLITE_BUSY)
    return error;
  }
  return {};
}

// The API caller gets a 503 for every failed write, but timers and probes commit too and nobody
// answers them: the operator learns of a full disk here, once per run rather than once per write.
// A bad batch (Code::Internal, a bug) is the caller's to report and does not start a run.
void SqliteStore::track(const Result<void>& committed) {
  if (committed) {
    if (failed_commits_ > 0) {
      log::warn("state", "commits succeed again on state file " + path_,
                {{"failed", std::to_string(failed_commits_)}});
      failed_commits_ = 0;
    }
    return;
  }
  if (committed.error().code != Code::Unavailable) return;
  if (failed_commits_++ == 0) {
    log::error("state", "commits fail: " + committed.error().message +
                            "; writes are refused until commits succeed again");
  }
}

Result<void> SqliteStore::apply(const core::StoreBatch& batch) {
  using Op = core::StoreChange::Op;
  for (const core::StoreChange& change : batch.changes) {
    sqlite3_stmt* stmt = nullptr;
    switch (change.op) {
      case Op::Upsert:
        stmt = upsert_.get();
        bind(stmt, 1, change.kind);
        bind(stmt, 2, change.id);
        bind(stmt, 3, change.body);
        break;
      case Op::Erase:
        // An empty key matches nothing in SQL; reject it like the CHECKs reject such an upsert,
        // so that SqliteStore and MemoryStore agree.
        if (change.kind.empty() || change.id.empty()) {
          return Error{Code::Internal,
                       "state file " + path_ + ": commit: an erase needs a kind and an id"};
        }
        stmt = erase_.get();
        bind(stmt, 1, change.kind);
        bind(stmt, 2, change.id);
        break;
      case Op::EraseAll:
        if (change.kind.empty()) {
          stmt = erase_all_.get();
        } else {
          stmt = erase_kind_.get();
          bind(stmt, 1, change.kind);
        }
        break;
    }
    if (const int rc = run(stmt); rc != SQLITE_DONE) {
      return fail(change.op == Op::Upsert ? "commit: upsert" : "commit: erase", rc);
    }
  }
  if (batch.event_index) {
    if (*batch.event_index >
        static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max())) {
      return Error{Code::Internal, "state file " + path_ + ": event index " +
                                       std::to_string(*batch.event_index) + " out of range"};
    }
    sqlite3_stmt* stmt = set_event_index_.get();
    sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(*batch.event_index));
    if (const int rc = run(stmt); rc != SQLITE_DONE) return fail("commit: event index", rc);
  }
  return {};
}

void SqliteStore::rollback() {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, ...).
  if (sqlite3_get_autocommit(db_.get())) return;
  if (rollback_) {
    run(rollback_.get());
  } else {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Error SqliteStore::fail(const char* what, int rc) const {
  // A constraint failure means the caller built a bad batch (a bug); anything else is the disk.
  const Code code = is_constraint(rc) ? Code::Internal : Code::Unavailable;
  return Error{code, "state file " + path_ + ": " + what + ": " + sqlite3_errmsg(db_.get()) +
                         " (code " + std::to_string(rc) + ")"};
}

Result<std::string> SqliteStore::integrity_check() {
  auto stmt = prepare("PRAGMA integrity_check");
  if (!stmt) return stmt.error();
  std::string report;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    if (!report.empty()) report += '\n';
    report += column_string(stmt->get(), 0);
  }
  if (rc != SQLITE_DONE) return fail("integrity_check", rc);
  return report;
}

}  // namespace emu::store
