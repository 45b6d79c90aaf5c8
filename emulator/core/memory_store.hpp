#pragma once
// MemoryStore: an in-memory Store for unit tests, with the same semantics as SqliteStore
// (atomic batches, EraseAll per kind or everything, an event index that only grows) and a
// Beast-style fail_count: fail_after(n) lets n more commits succeed and fails every later one with
// Code::Unavailable, leaving the contents untouched, so a test can walk every failure point.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"

namespace emu::core {

class MemoryStore final : public Store {
 public:
  /// Reads everything, ordered by (kind, id) like SqliteStore.
  Result<StoreContents> load() override;
  /// Applies the batch atomically: on any error nothing changes.
  Result<void> commit(const StoreBatch& batch) override;

  /// Lets the next n commits succeed; the (n+1)-th and every later one fail until heal().
  void fail_after(std::size_t n) { fail_after_ = n; }
  /// Stops injecting failures.
  void heal() { fail_after_.reset(); }
  /// Number of commits that succeeded since construction.
  std::size_t commits() const { return commits_; }
  /// Number of stored entities (all kinds).
  std::size_t size() const { return entities_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // (kind, id)
  std::map<Key, std::string> entities_;
  std::uint64_t event_index_ = 0;
  std::optional<std::size_t> fail_after_;  // commits still allowed to succeed
  std::size_t commits_ = 0;
};

}  // namespace emu::core
