#include "emulator/core/health_tracker.hpp"

namespace emu::core {

HealthTracker::HealthTracker(HealthPolicy policy, TimePoint started_at, Health initial)
    : retries_(std::max(1, policy.retries)),
      start_period_(std::max(Duration::zero(), policy.start_period)),
      started_at_(started_at),
      state_(initial) {
  if (initial == Health::Healthy) succeeded_ = true;
  if (initial == Health::Unhealthy) {
    succeeded_ = true;  // already judged: no grace period for a check that replaces another
    failures_ = retries_;
  }
}

bool HealthTracker::in_start_period(TimePoint now) const {
  return !succeeded_ && now < started_at_ + start_period_;
}

HealthTransition HealthTracker::record(Outcome outcome, TimePoint now) {
  // Not a result about the task: it must not reset the failure count (it is not a success) nor
  // add to it (a daemon out of file descriptors must not withdraw healthy tasks from DNS).
  if (outcome == Outcome::Skipped) return HealthTransition::Unchanged;
  if (outcome == Outcome::Pass) {
    failures_ = 0;  // ECS/Docker: a success resets the consecutive-failure count
    succeeded_ = true;
    if (state_ == Health::Healthy) return HealthTransition::Unchanged;
    state_ = Health::Healthy;  // the first success applies at once (Envoy first_check_)
    return HealthTransition::Changed;
  }
  // ECS: failures during startPeriod do not count toward retries.
  if (in_start_period(now)) return HealthTransition::Unchanged;
  if (failures_ < retries_) ++failures_;
  if (state_ == Health::Unhealthy) return HealthTransition::Unchanged;
  if (failures_ < retries_) return HealthTransition::Pending;
  state_ = Health::Unhealthy;
  return HealthTransition::Changed;
}

}  // namespace emu::core
