#include "emulator/core/timer_queue.hpp"

namespace emu {

TimerQueue::Id TimerQueue::schedule(TimePoint when, Callback fn) {
  const Id id = next_id_++;
  const bool earliest = queue_.empty() || when < queue_.begin()->first.first;
  queue_.emplace(Key{when, id}, std::move(fn));
  index_.emplace(id, when);
  if (earliest && rearm_) rearm_();
  return id;
}

void TimerQueue::cancel(Id id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return;
  queue_.erase(Key{it->second, id});
  index_.erase(it);
}

std::optional<TimePoint> TimerQueue::next_deadline() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.first;
}

std::size_t TimerQueue::run_due(TimePoint now) {
  std::size_t fired = 0;
  while (!queue_.empty() && queue_.begin()->first.first <= now) {
    auto node = queue_.extract(queue_.begin());
    index_.erase(node.key().second);
    node.mapped()();  // may schedule or cancel other timers
    ++fired;
  }
  return fired;
}

}  // namespace emu
