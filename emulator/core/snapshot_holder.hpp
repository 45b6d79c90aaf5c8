#pragma once
// SnapshotHolder: how the Registry (one writer, on the core thread) publishes an immutable
// ZoneSnapshot to the DNS threads. A reader keeps its own shared_ptr and checks an atomic
// generation per query; only when the generation moved does it take the mutex to copy the new
// pointer. So the answer path takes no lock and allocates nothing in the steady state, and a
// change is visible to the very next query.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace emu::core {

class ZoneSnapshot;

class SnapshotHolder {
 public:
  /// Publishes a new snapshot (writer side).
  void publish(std::shared_ptr<const ZoneSnapshot> snapshot) {
    {
      std::lock_guard lock(mutex_);
      current_ = std::move(snapshot);
    }
    generation_.fetch_add(1, std::memory_order_release);
  }
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
};

}  // namespace emu::core
