#include "emulator/runtime/health_dns_meter.hpp"

#include <chrono>

namespace emu::runtime {

HealthDnsMeter::HealthDnsMeter(const TimeSource& clock, const core::Registry& registry)
    : clock_(clock), registry_(registry), histogram_(metrics::Histogram::default_seconds()) {}

void HealthDnsMeter::on_commit(const core::CommitInfo& info) {
  if (info.reset) {
    pending_.clear();
    return;
  }
  const TimePoint now = clock_.now();
  // A change of a task's healthStatus (probes, or forced through the API) starts the clock.
  for (const auto& key : info.health_changed) {
    const core::Task* t = registry_.task(key);
    if (!t) continue;
    if (t->last_status == core::TaskStatus::Stopped) {
      // Stopped by its owner in the same command (an earlier observer): out of DNS at once.
      pending_.erase(key);
      histogram_.observe(0.0);
      continue;
    }
    const core::Health health = t->health();
    const auto it = pending_.find(key);
    if (it != pending_.end() && it->second.health != health && t->dns_health == health) {
      pending_.erase(it);  // flapped back before DNS followed: DNS never changed
      continue;
    }
    // The latest change is timed from when it was made.
    if (it == pending_.end() || it->second.health != health) pending_[key] = {health, now};
  }
  // DNS carries it once the task's DNS health follows, or the task leaves DNS by stopping.
  for (const auto& key : info.tasks) {
    const auto it = pending_.find(key);
    if (it == pending_.end()) continue;
    const core::Task* t = registry_.task(key);
    const bool gone = !t || t->last_status == core::TaskStatus::Stopped;
    if (!gone && t->dns_health != it->second.health) continue;
    histogram_.observe(std::chrono::duration<double>(now - it->second.since).count());
    pending_.erase(it);
  }
}

}  // namespace emu::runtime
