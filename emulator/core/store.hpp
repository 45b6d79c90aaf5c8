#pragma once
// Store: where committed state lives. The Registry turns each command into one StoreBatch and
// commits it before it changes memory or answers, so an acknowledged write survives kill -9.
// The store is generic (kind, id, JSON body): new entity kinds need no schema change.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/result.hpp"

namespace emu::core {

/// One persisted entity.
struct StoredEntity {
  std::string kind;  ///< "namespace", "service", "task", "cluster", ...
  std::string id;    ///< unique within its kind
  std::string body;  ///< JSON text (emulator/core/model_json)
};

/// One change inside a batch.
struct StoreChange {
  enum class Op { Upsert, Erase, EraseAll };
  Op op = Op::Upsert;
  std::string kind;  ///< empty with EraseAll = every kind
  std::string id;
  std::string body;  ///< Upsert only
};

/// Everything one command changes, committed atomically.
struct StoreBatch {
  std::vector<StoreChange> changes;
  std::optional<std::uint64_t> event_index;  ///< high-water mark of event indexes, if it moved
  bool empty() const { return changes.empty() && !event_index; }
};

/// What load() returns.
struct StoreContents {
  std::vector<StoredEntity> entities;
  std::uint64_t event_index = 0;
};

/// Durable state. Implementations: SqliteStore (emulator/store), MemoryStore (tests).
class Store {
 public:
  virtual ~Store() = default;
  /// Reads everything (at startup).
  virtual Result<StoreContents> load() = 0;
  /// Applies the batch in one transaction; when it returns ok the batch is committed.
  virtual Result<void> commit(const StoreBatch& batch) = 0;
};

}  // namespace emu::core
