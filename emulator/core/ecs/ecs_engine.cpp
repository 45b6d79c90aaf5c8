#include "emulator/core/ecs/ecs_engine.hpp"

#include <algorithm>
#include <cmath>

#include "emulator/core/ecs/ecs_errors.hpp"

namespace emu::core::ecs {

using nlohmann::json;

HealthCheckSpec to_probe_spec(const ContainerHealthCheck& check, double time_scale) {
  auto scaled = [&](int seconds) {
    const auto ms = static_cast<std::int64_t>(std::llround(seconds * 1000.0 * time_scale));
    return Duration(std::max<std::int64_t>(ms, 1));
  };
  HealthCheckSpec spec;
  spec.type = ProbeType::Command;
  spec.command = check.command;
  spec.interval = scaled(check.interval);
  spec.timeout = scaled(check.timeout);
  spec.retries = check.retries;
  spec.start_period = check.start_period == 0 ? Duration(0) : scaled(check.start_period);
  return spec;
}

EcsEngine::EcsEngine(const TimeSource& time, TimerQueue& timers, Store& store, Registry& registry,
                     EcsConfig config, std::uint64_t seed)
    : store_(store),
      registry_(registry),
      config_(std::move(config)),
      catalog_(time, store, config_, seed),
      account_settings_(store, config_.account_id),
      part_(time, timers, store, registry, config_, catalog_),
      tasks_(part_),
      driver_(part_, tasks_),
      scheduler_(part_, tasks_) {
  tasks_.set_driver(&driver_);
  tasks_.set_on_running([this](const Task& t) { scheduler_.note_running(t); });
  registry_.add_observer([this](const CommitInfo& info) { on_commit(info); });
}

Result<void> EcsEngine::validate(const EcsConfig& config) {
  if (auto pool = IpPool::parse(config.task_cidr); !pool) return pool.error();
  if (!(config.time_scale > 0.0) || !std::isfinite(config.time_scale)) {
    return invalid("--time-scale: must be a number greater than 0");
  }
  if (config.stop_timeout_s < 0) return invalid("container stop timeout: must be 0 or more");
  if (config.docker_network.empty()) return invalid("Docker network: must not be empty");
  return {};
}

// ------------------------------------------------------------------------------------ state

Result<void> EcsEngine::load() {
  const auto contents = store_.load();
  if (!contents) return contents.error();
  return load(*contents);
}

Result<void> EcsEngine::load(const StoreContents& contents) {
  clear();
  for (const auto& row : contents.entities) {
    if (row.kind == "ecs-meta" && row.id == "instance") {
      if (auto r = driver_.load_instance(json::parse(row.body, nullptr, false)); !r) return r;
      continue;
    }
    if (row.kind == "ecs-account-setting") {
      const json j = json::parse(row.body, nullptr, false);
      if (auto r = account_settings_.load_row(row, j); !r) return r;
      continue;
    }
    const bool catalog =
        row.kind == "cluster" || row.kind == "task-definition" || row.kind == "ecs-tags";
    if (!catalog && row.kind != "ecs-service" && row.kind != "ecs-task") continue;
    const json j = json::parse(row.body, nullptr, false);
    if (j.is_discarded())
      return Error{Code::Internal, "state row " + row.kind + "/" + row.id + ": not JSON"};
    auto r = catalog                     ? catalog_.load_row(row, j)
             : row.kind == "ecs-service" ? scheduler_.load_service(j)
                                         : tasks_.load_extra(row.id, j);
    if (!r) return r;
  }
  if (auto r = driver_.ensure_instance_id(); !r) return r;
  tasks_.resume();
  scheduler_.resume();
  return {};
}

void EcsEngine::clear() {
  tasks_.clear();
  driver_.clear();
  scheduler_.clear();
  catalog_.clear();
  account_settings_.clear();
}

void EcsEngine::on_commit(const CommitInfo& info) {
  if (info.reset) {
    // The containers of Docker tasks go with the state they belonged to.
    auto containers = tasks_.all_container_ids();
    clear();  // the store's EraseAll already dropped our rows
    driver_.after_reset(std::move(containers));
    return;
  }
  driver_.remove_later(tasks_.on_commit(info));
  scheduler_.on_commit(info);
}

// ------------------------------------------------------------------------ clusters, tags

Result<Cluster> EcsEngine::delete_cluster(const std::string& region, const std::string& name) {
  if (auto r = catalog_.check_active(region, name); !r) return r.error();
  for (const EcsService* s : scheduler_.services(region, name)) {
    if (s->status != "INACTIVE") {
      return ecs_error("ClusterContainsServicesException",
                       "The Cluster cannot be deleted while Services are active.");
    }
  }
  for (const Task* t : tasks_.tasks(region, name)) {
    if (t->desired_status != TaskStatus::Stopped && t->last_status != TaskStatus::Stopped) {
      return ecs_error("ClusterContainsTasksException",
                       "The Cluster cannot be deleted while Tasks are active.");
    }
  }
  return catalog_.deactivate_cluster(region, name);
}

bool EcsEngine::resource_exists(const std::string& a) const {
  return catalog_.has(a) || scheduler_.has(a) || tasks_.task_by_arn(a) != nullptr;
}

Result<void> EcsEngine::tag_resource(const std::string& a, const Tags& tags) {
  if (!resource_exists(a))
    return ecs_error("ResourceNotFoundException", "The specified resource wasn't found.");
  return catalog_.add_tags(a, tags);
}

Result<void> EcsEngine::untag_resource(const std::string& a, const std::vector<std::string>& keys) {
  if (!resource_exists(a))
    return ecs_error("ResourceNotFoundException", "The specified resource wasn't found.");
  return catalog_.remove_tags(a, keys);
}

}  // namespace emu::core::ecs
