#include "emulator/core/ecs/docker_task_driver.hpp"

#include <algorithm>
#include <set>

#include "emulator/core/ecs/container_spec.hpp"
#include "emulator/core/ecs/ecs_json.hpp"

namespace emu::core::ecs {

using nlohmann::json;

namespace {

constexpr const char* kMetaKind = "ecs-meta";
constexpr const char* kInstanceRow = "instance";

/// Docker's health status (`docker inspect` State.Health.Status) as ours.
std::optional<Health> docker_health(const std::string& status) {
  if (status == "healthy") return Health::Healthy;
  if (status == "unhealthy") return Health::Unhealthy;
  if (status == "starting") return Health::Unknown;
  return std::nullopt;  // no healthcheck
}

std::string first_container_id(const TaskExtra& extra) {
  for (const auto& c : extra.containers) {
    if (!c.docker_id.empty()) return c.docker_id;
  }
  return {};
}

}  // namespace

DockerTaskDriver::DockerTaskDriver(const EcsPart& part, EcsTasks& tasks)
    : EcsPart(part), tasks_(tasks) {
  instance_id_ = catalog_.new_uuid();
  instance_id_.erase(std::remove(instance_id_.begin(), instance_id_.end(), '-'),
                     instance_id_.end());
  instance_id_.resize(16);  // replaced by the stored one in load_instance()
}

// --------------------------------------------------------------------------------- identity

Result<void> DockerTaskDriver::load_instance(const json& j) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return Error{Code::Internal, "state row ecs-meta/instance: expected {\"id\": ...}"};
  instance_id_ = j["id"].get<std::string>();
  instance_saved_ = true;
  return {};
}

StoreChange DockerTaskDriver::instance_row() const {
  return {StoreChange::Op::Upsert, kMetaKind, kInstanceRow, json{{"id", instance_id_}}.dump()};
}

Result<void> DockerTaskDriver::ensure_instance_id() {
  if (instance_saved_) return {};
  auto r = stored::commit(store_, {instance_row()});
  instance_saved_ = r.ok();
  return r;
}

void DockerTaskDriver::after_reset(std::vector<std::string> container_ids) {
  // The instance keeps its identity (and so its claim on containers) across a reset.
  instance_saved_ = false;
  (void)ensure_instance_id();  // retried before the next launch if the store fails now
  remove_later(std::move(container_ids));
}

void DockerTaskDriver::clear() {
  ++generation_;
  for (const auto& [id, timer] : launches_) timers_.cancel(timer);
  launches_.clear();
}

// ------------------------------------------------------------------------------- containers

const Task* DockerTaskDriver::docker_task(const std::string& task_id) const {
  const Task* t = registry_.task(task_id);
  return t && t->launch == Launch::Docker ? t : nullptr;
}

TaskContainer* DockerTaskDriver::container_of(const std::string& task_id, const std::string& name) {
  TaskExtra* extra = tasks_.extra(task_id);
  if (!extra) return nullptr;
  for (auto& c : extra->containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

int DockerTaskDriver::stop_timeout_of(const Task& task) const {
  // One timeout per stop call: the longest of the containers' (each create body carries its own
  // StopTimeout as well).
  const TaskDefinition* td = catalog_.task_definition_by_arn(task.task_definition_arn);
  if (!td) return config_.stop_timeout_s;
  const auto defs = td->body.find("containerDefinitions");
  if (defs == td->body.end() || !defs->is_array() || defs->empty()) return config_.stop_timeout_s;
  int longest = 0;
  for (const auto& def : *defs) {
    const auto it = def.find("stopTimeout");
    longest =
        std::max(longest, it != def.end() && it->is_number_integer() ? it->get<int>()
                                                                     : config_.stop_timeout_s);
  }
  return longest;
}

void DockerTaskDriver::remove_later(std::vector<std::string> container_ids) {
  if (!runtime_ || container_ids.empty()) return;
  const auto gen = generation_;
  timers_.schedule(time_.now(), [this, ids = std::move(container_ids), gen] {
    if (gen == generation_ && runtime_) runtime_->remove(ids);
  });
}

void DockerTaskDriver::schedule_launch(const std::string& task_id) {
  cancel_launch(task_id);
  const auto gen = generation_;
  // Deferred: the runtime may report back at once, and must not re-enter the Registry from
  // inside the command that created the task.
  launches_[task_id] = timers_.schedule(time_.now(), [this, task_id, gen] {
    if (gen != generation_) return;
    launches_.erase(task_id);
    launch(task_id);
  });
}

void DockerTaskDriver::cancel_launch(const std::string& task_id) {
  if (const auto it = launches_.find(task_id); it != launches_.end()) {
    timers_.cancel(it->second);
    launches_.erase(it);
  }
}

void DockerTaskDriver::relaunch(const std::string& task_id) {
  TaskExtra* extra = tasks_.extra(task_id);
  if (!extra) return;
  for (auto& c : extra->containers) {
    c.docker_id.clear();
    c.last_status = "PENDING";
    c.exit_code.reset();
    c.reason.clear();
  }
  tasks_.save_extra(task_id);
  schedule_launch(task_id);
}

void DockerTaskDriver::launch(const std::string& task_id) {
  const Task* t = docker_task(task_id);
  if (!runtime_ || !t || t->desired_status == TaskStatus::Stopped ||
      t->last_status == TaskStatus::Stopped) {
    return;
  }
  const TaskDefinition* td = catalog_.task_definition_by_arn(t->task_definition_arn);
  if (!td) {
    tasks_.fail_start(task_id, "ClientException: Unable to describe task definition.");
    return;
  }
  const TaskExtra* extra = tasks_.task_extra(task_id);
  (void)ensure_instance_id();  // engines that never ran load() (tests) claim theirs now
  auto plan = plan_for(*td, *t, config_, extra ? extra->overrides : json::object());
  for (auto& c : plan.containers) c.body["Labels"][kLabelInstance] = instance_id_;
  runtime_->launch(plan);
}

void DockerTaskDriver::schedule_container_stop(const std::string& task_id) {
  const auto gen = generation_;
  timers_.schedule(time_.now(), [this, task_id, gen] {
    if (gen == generation_) stop_containers(task_id);
  });
}

void DockerTaskDriver::stop_containers(const std::string& task_id) {
  const Task* t = docker_task(task_id);
  const TaskExtra* extra = tasks_.task_extra(task_id);
  if (!t || !extra) return;
  std::vector<std::string> ids;
  for (const auto& c : extra->containers) {
    if (is_live(c)) ids.push_back(c.docker_id);
  }
  if (ids.empty()) {
    // Nothing left to wait for.
    if (t->desired_status == TaskStatus::Stopped) tasks_.containers_stopped(task_id);
    return;
  }
  const int timeout = stop_timeout_of(*t);
  tasks_.containers_stopping(task_id);
  // Last: the runtime may report the exits from inside stop().
  if (runtime_) runtime_->stop(task_id, ids, timeout);
}

void DockerTaskDriver::apply_container_health(const std::string& task_id,
                                              const std::string& reason) {
  const Task* cur = registry_.task(task_id);
  const TaskExtra* extra = tasks_.task_extra(task_id);
  if (!cur || !extra || cur->desired_status == TaskStatus::Stopped ||
      cur->last_status == TaskStatus::Stopped) {
    return;
  }
  // SPEC 5: over the essential containers with a health check, UNHEALTHY > UNKNOWN > HEALTHY.
  bool any = false;
  Health task_health = Health::Healthy;
  for (const auto& c : extra->containers) {
    if (!c.essential || !c.health_check) continue;
    any = true;
    if (c.health == Health::Unhealthy) {
      task_health = Health::Unhealthy;
    } else if (c.health == Health::Unknown && task_health != Health::Unhealthy) {
      task_health = Health::Unknown;
    }
  }
  if (!any || cur->observed == task_health) return;
  // Recorded also while forced (AUTO then applies it). An UNHEALTHY service task is stopped and
  // replaced by the scheduler.
  const std::string why = reason.empty() ? std::string("Docker health check") : reason;
  (void)registry_.set_health(task_id, task_health, why);
}

// ----------------------------------------------------------------------------------- reports

void DockerTaskDriver::on_containers_created(
    const std::string& task_id, const std::vector<std::pair<std::string, std::string>>& ids) {
  TaskExtra* extra = tasks_.extra(task_id);
  if (!docker_task(task_id) || !extra) return;
  for (const auto& [name, docker_id] : ids) {
    TaskContainer* c = container_of(task_id, name);
    if (!c) {
      extra->containers.push_back(TaskContainer{});
      c = &extra->containers.back();
      c->name = name;
    }
    c->docker_id = docker_id;
    if (c->last_status == "STOPPED") c->last_status = "PENDING";  // a relaunch after a restart
    c->exit_code.reset();
  }
  tasks_.containers_created(task_id, first_container_id(*extra));
}

void DockerTaskDriver::on_task_started(const std::string& task_id, const std::string& ipv4,
                                       const std::string& ipv6) {
  TaskExtra* extra = tasks_.extra(task_id);
  if (!docker_task(task_id) || !extra) return;
  for (auto& c : extra->containers) {
    if (is_live(c)) c.last_status = "RUNNING";
  }
  (void)tasks_.containers_started(task_id, ipv4, ipv6, {tasks_.extra_row(task_id)});
}

void DockerTaskDriver::on_launch_failed(const std::string& task_id, const std::string& reason) {
  if (docker_task(task_id)) tasks_.fail_start(task_id, reason);
}

void DockerTaskDriver::on_container_health(const std::string& task_id,
                                           const std::string& container_name, Health health,
                                           const std::string& reason) {
  TaskContainer* c = container_of(task_id, container_name);
  if (!docker_task(task_id) || !c) return;
  if (c->health == health) return;
  c->health = health;
  tasks_.save_extra(task_id);
  apply_container_health(
      task_id, reason.empty() ? "container " + container_name + ": " + to_string(health) : reason);
}

void DockerTaskDriver::on_container_exited(const std::string& task_id,
                                           const std::string& container_name, int exit_code,
                                           const std::string& reason) {
  TaskContainer* c = container_of(task_id, container_name);
  if (!docker_task(task_id) || !c) return;
  c->exit_code = exit_code;
  c->last_status = "STOPPED";
  if (!reason.empty()) c->reason = reason;
  const bool essential = c->essential;
  tasks_.save_extra(task_id);
  tasks_.container_exited(task_id, essential);
}

// ------------------------------------------------------------------------------------ adopt

std::vector<std::string> DockerTaskDriver::adopt(const std::vector<ObservedContainer>& containers) {
  std::vector<std::string> orphans;
  std::map<std::string, std::vector<const ObservedContainer*>> seen;
  for (const auto& oc : containers) {
    const auto label = oc.labels.find(kLabelTaskId);
    if (label == oc.labels.end()) continue;
    // Another emulator's container (same Docker engine, other state): not ours to judge.
    const auto owner = oc.labels.find(kLabelInstance);
    if (owner == oc.labels.end() || owner->second != instance_id_) continue;
    const Task* t = docker_task(label->second);
    const auto name = oc.labels.find(kLabelContainerName);
    const bool known = t && t->last_status != TaskStatus::Stopped && tasks_.task_extra(t->id) &&
                       name != oc.labels.end() && container_of(t->id, name->second);
    if (!known) {
      orphans.push_back(oc.id);
      continue;
    }
    seen[t->id].push_back(&oc);
  }
  for (const auto& id : tasks_.live_docker_tasks()) adopt_task(id, seen[id]);
  return orphans;
}

void DockerTaskDriver::adopt_task(const std::string& task_id,
                                  const std::vector<const ObservedContainer*>& seen) {
  TaskExtra* extra = tasks_.extra(task_id);
  if (!extra) return;
  std::set<std::string> found;
  AdoptedTask view;
  for (const ObservedContainer* oc : seen) {
    const std::string& name = oc->labels.at(kLabelContainerName);
    TaskContainer* c = container_of(task_id, name);
    found.insert(name);
    c->docker_id = oc->id;
    if (oc->state == "running" || oc->state == "paused" || oc->state == "restarting") {
      c->last_status = "RUNNING";
      c->exit_code.reset();
    } else if (oc->state == "created") {
      c->last_status = "PENDING";
    } else {
      c->last_status = "STOPPED";
      c->exit_code = oc->exit_code;
      if (!oc->error.empty()) c->reason = oc->error;
    }
    if (const auto h = docker_health(oc->health)) c->health = *h;
    // The first container owns the network namespace: its address is the task's.
    if (view.ipv4.empty() && view.ipv6.empty()) {
      auto pick = [&](const std::map<std::string, std::string>& nets) {
        const auto net = nets.find(config_.docker_network);
        if (net != nets.end() && !net->second.empty()) return net->second;
        for (const auto& [n, ip] : nets) {
          if (!ip.empty()) return ip;
        }
        return std::string();
      };
      view.ipv4 = pick(oc->networks);
      view.ipv6 = pick(oc->networks6);
    }
  }
  view.all_running = true;
  view.essentials_running = true;
  for (auto& c : extra->containers) {
    if (!found.count(c.name) && !c.docker_id.empty() && c.last_status != "STOPPED") {
      c.last_status = "STOPPED";  // gone while the emulator was away
      c.reason = kNotFoundAfterRestart;
    }
    view.created = view.created || found.count(c.name);
    const bool running = found.count(c.name) && c.last_status == "RUNNING";
    view.all_running = view.all_running && running;
    if (c.essential && !running) {
      view.essentials_running = false;
      if (c.exit_code) view.essential_exited = true;
    }
  }
  view.first_container_id = first_container_id(*extra);
  tasks_.save_extra(task_id);
  tasks_.adopted(task_id, view);
}

}  // namespace emu::core::ecs
