#pragma once
// SnapshotHolder: how the Registry (one writer, on the core thread) publishes an immutable
// ZoneSnapshot to the DNS threads. A reader keeps its own shared_ptr and checks an atomic
// generation per query; only when the generation moved does it take the mutex to copy the new
// pointer. So the answer path takes no lock and allocates nothing in the steady state, and a
// change is visible to the very next query.
//
// Freeing is the writer's: a replaced snapshot is retired, not released, so a reader that moves
// to the next one drops a reference and never the last (a 10,000-address service node freed on a
// DNS thread at every change was DNS CPU under churn). Each publish frees the retired snapshots
// that only the holder still references; at most one per reader is ever waiting.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace emu::core {

class ZoneSnapshot;

class SnapshotHolder {
 public:
  /// Publishes a new snapshot (writer side).
  void publish(std::shared_ptr<const ZoneSnapshot> snapshot) {
    std::shared_ptr<const ZoneSnapshot> previous;
    {
      std::lock_guard lock(mutex_);
      previous = std::exchange(current_, std::move(snapshot));
    }
    generation_.fetch_add(1, std::memory_order_release);
    // use_count() == 1: no reader holds it and none can take it any more (it is not current).
    std::erase_if(retired_, [](const auto& s) { return s.use_count() == 1; });
    if (previous) retired_.push_back(std::move(previous));
  }
  /// Snapshots replaced but still held by a reader (writer side; for tests).
  std::size_t retired() const { return retired_.size(); }
  /// The current snapshot (takes the mutex: for slow paths and refreshes).
  std::shared_ptr<const ZoneSnapshot> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  /// Increments on every publish; compare with a cached value to know when to reload.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  /// A reader's cached view: refresh() is one atomic load unless something was published.
  class Reader {
   public:
    explicit Reader(const SnapshotHolder& holder) : holder_(&holder) {}
    const ZoneSnapshot* get() {
      const auto g = holder_->generation();
      if (g != seen_ || !cached_) {
        cached_ = holder_->load();
        seen_ = g;
      }
      return cached_.get();
    }

   private:
    const SnapshotHolder* holder_;
    std::shared_ptr<const ZoneSnapshot> cached_;
    std::uint64_t seen_ = ~std::uint64_t{0};
  };

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ZoneSnapshot> current_;
  std::atomic<std::uint64_t> generation_{0};
  std::vector<std::shared_ptr<const ZoneSnapshot>> retired_;  // the writer's only
};

}  // namespace emu::core
