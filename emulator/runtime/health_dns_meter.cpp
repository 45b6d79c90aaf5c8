#include "emulator/runtime/health_dns_meter.hpp"

#include <chrono>

namespace emu::runtime {

HealthDnsMeter::HealthDnsMeter(const TimeSource& clock, const core::Registry& registry)
    : clock_(clock), registry_(registry), histogram_(metrics::Histogram::default_seconds()) {}

void HealthDnsMeter::changed(const std::string& key, core::Health health, bool forced) {
  const core::Task* t = registry_.task(key);
  if (!t || (t->forced && !forced) || t->last_status == core::TaskStatus::Stopped ||
      t->dns_health == health) {
    pending_.erase(key);
    return;
  }
  const std::string k = core::Registry::task_key(*t);
  const auto it = pending_.find(k);
  // A flap back before DNS followed: time the latest change, from when it was decided.
  if (it == pending_.end() || it->second.health != health) pending_[k] = {health, clock_.now()};
}

void HealthDnsMeter::on_commit(const core::CommitInfo& info) {
  if (info.reset) {
    pending_.clear();
    return;
  }
  for (const auto& key : info.tasks) {
    const auto it = pending_.find(key);
    if (it == pending_.end()) continue;
    const core::Task* t = registry_.task(key);
    const bool gone = !t || t->last_status == core::TaskStatus::Stopped;
    if (!gone && t->forced && *t->forced != it->second.health) {  // overridden by a force
      pending_.erase(it);
      continue;
    }
    if (!gone && t->dns_health != it->second.health) continue;
    histogram_.observe(std::chrono::duration<double>(clock_.now() - it->second.since).count());
    pending_.erase(it);
  }
}

}  // namespace emu::runtime
