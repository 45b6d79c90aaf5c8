#include "emulator/core/memory_store.hpp"

#include <algorithm>
#include <iterator>

namespace emu::core {

Result<StoreContents> MemoryStore::load() {
  StoreContents contents;
  contents.entities.reserve(entities_.size());
  for (const auto& [key, body] : entities_) {
    contents.entities.push_back({key.first, key.second, body});
  }
  contents.event_index = event_index_;
  return contents;
}

Result<void> MemoryStore::commit(const StoreBatch& batch) {
  if (fail_after_) {
    if (*fail_after_ == 0) {
      return Error{Code::Unavailable, "memory store: injected commit failure"};
    }
    --*fail_after_;
  }
  // Validate first, as SqliteStore's CHECK constraints do, so a bad batch changes nothing.
  for (const StoreChange& change : batch.changes) {
    const bool needs_key = change.op != StoreChange::Op::EraseAll;
    if (needs_key && (change.kind.empty() || change.id.empty())) {
      return Error{Code::Internal, "memory store: an upsert or erase needs a kind and an id"};
    }
  }
  for (const StoreChange& change : batch.changes) {
    switch (change.op) {
      case StoreChange::Op::Upsert:
        entities_.insert_or_assign(Key{change.kind, change.id}, change.body);
        break;
      case StoreChange::Op::Erase:
        entities_.erase(Key{change.kind, change.id});
        break;
      case StoreChange::Op::EraseAll:
        if (change.kind.empty()) {
          entities_.clear();
        } else {
          // Keys are ordered by kind first: one contiguous range.
          auto first = entities_.lower_bound(Key{change.kind, std::string{}});
          auto last = first;
          while (last != entities_.end() && last->first.first == change.kind) ++last;
          entities_.erase(first, last);
        }
        break;
    }
  }
  if (batch.event_index) event_index_ = std::max(event_index_, *batch.event_index);
  ++commits_;
  return {};
}

}  // namespace emu::core
