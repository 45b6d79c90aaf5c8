#pragma once
// HealthDnsMeter: how long a health change takes to reach DNS. A change is noted when a registry
// commit changes a task's healthStatus (probes or forced); it is observed when a commit carries it
// into the task's DNS health (the registry publishes the snapshot before its observers run), or
// takes the task out of DNS by stopping it. With --health-propagation-delay this is about that
// delay. Single-threaded: the event loop's.

#include <map>
#include <string>

#include "emulator/core/model.hpp"
#include "emulator/core/prometheus_text.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/time.hpp"

namespace emu::runtime {

class HealthDnsMeter {
 public:
  /// Both are borrowed and outlive the meter.
  HealthDnsMeter(const TimeSource& clock, const core::Registry& registry);

  /// The registry's observer: notes the health changes this commit made and observes the ones it
  /// brought into DNS.
  void on_commit(const core::CommitInfo& info);
  /// Seconds from a health change to the DNS snapshot that carries it.
  const metrics::Histogram& histogram() const { return histogram_; }
  /// Changes noted and not yet in DNS.
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    core::Health health;
    TimePoint since;
  };
  const TimeSource& clock_;
  const core::Registry& registry_;
  std::map<std::string, Pending, std::less<>> pending_;
  metrics::Histogram histogram_;
};

}  // namespace emu::runtime
