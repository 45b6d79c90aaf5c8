#include "emulator/runtime/health_glue.hpp"

#include "emulator/log/log.hpp"

namespace emu::runtime {

void HealthGlue::on_probe_result(const std::string& task_id, const core::ProbeRecord& record) {
  registry_.add_probe_result(task_id, record);
}

void HealthGlue::on_health_changed(const std::string& task_id, core::Health health,
                                   std::string reason) {
  if (auto r = registry_.set_health(task_id, health, std::move(reason)); !r) {
    log::error("health", "cannot record a health change",
               {{"task", task_id}, {"error", r.error().message}});
  }
}

void HealthGlue::apply(std::vector<ProbeReport>& batch) {
  std::optional<core::Registry::Bulk> bulk;
  for (auto& report : batch) {
    if (report.kind == ProbeReport::Kind::Changed && !bulk) bulk.emplace(registry_);
    report.replay(*this);
  }
}

std::optional<health::Target> probe_target(const core::Task& t) {
  const bool probe = t.registered() && t.health_check &&
                     t.health_check->type != core::ProbeType::None &&
                     (t.launch == core::Launch::External || t.launch == core::Launch::Instance);
  if (!probe) return std::nullopt;
  health::Target target;
  target.task_id = core::Registry::task_key(t);
  target.check = *t.health_check;
  target.ip = t.ipv4.empty() ? t.ipv6 : t.ipv4;
  target.port = t.port;
  return target;
}

void sync_watch(const core::Registry& registry, ProbeTargets& probes, const std::string& key) {
  const core::Task* t = registry.task(key);
  auto target = t ? probe_target(*t) : std::nullopt;
  if (!target) {
    probes.unwatch(key);
    return;
  }
  probes.watch(std::move(*target));  // a no-op when nothing changed
}

ProbeFollower::ProbeFollower(core::Registry& registry, health::HealthMonitor& monitor)
    : registry_(registry), owned_(std::make_unique<MonitorTargets>(monitor)), probes_(*owned_) {
  start();
}

ProbeFollower::ProbeFollower(core::Registry& registry, ProbeTargets& probes)
    : registry_(registry), probes_(probes) {
  start();
}

void ProbeFollower::start() {
  registry_.add_observer([this](const core::CommitInfo& info) { on_commit(info); });
  registry_.for_each_task([this](const std::string& key, const core::Task& t) {
    if (auto target = probe_target(t)) {
      probes_.watch(std::move(*target));
    } else {
      probes_.unwatch(key);
    }
  });
}

void ProbeFollower::on_commit(const core::CommitInfo& info) {
  if (info.reset) probes_.unwatch_all();
  for (const auto& key : info.tasks) sync_watch(registry_, probes_, key);
}

}  // namespace emu::runtime
