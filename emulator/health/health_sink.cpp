#include "emulator/health/health_sink.hpp"

#include "emulator/log/log.hpp"

namespace emu::health {

void HealthSink::on_probes_skipped(const std::string& task_id, SkipReason reason,
                                   const std::string& detail, std::uint64_t count) {
  const std::string skipped = std::to_string(count);
  log::warn("health",
            reason == SkipReason::CommandsDisabled
                ? "command probe not run, health unchanged"
                : "probes skipped: the daemon is out of resources, health unchanged",
            {{"reason", skip_reason_name(reason)},
             {"task", task_id},
             {"detail", detail},
             {"skipped", skipped}});
}

}  // namespace emu::health
