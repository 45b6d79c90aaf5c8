#include "emulator/core/ecs/ecs_tasks.hpp"

#include <algorithm>

#include "emulator/core/ecs/docker_task_driver.hpp"
#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"
#include "emulator/core/ecs/reconciler.hpp"

namespace emu::core::ecs {

namespace {

constexpr const char* kRegistryGone =
    "ResourceInitializationError: unable to register the task in AWS Cloud Map: the service "
    "registry no longer exists";

/// The containers of a task definition, before the runtime created them.
std::vector<TaskContainer> containers_of(const TaskDefinition& td) {
  std::vector<TaskContainer> out;
  for (const auto& c : td.containers) {
    TaskContainer tc;
    tc.name = c.name;
    tc.image = c.image;
    tc.essential = c.essential;
    tc.health_check = c.health_check.has_value() && !c.health_check->command.empty();
    out.push_back(tc);
  }
  return out;
}

IpPool make_pool(const std::string& cidr) {
  auto pool = IpPool::parse(cidr);
  if (pool) return *pool;
  return *IpPool::parse("10.10.0.0/16");  // validate() rejects a bad CIDR before we get here
}

std::string cluster_key(const std::string& region, const std::string& cluster) {
  return region + "/" + cluster;
}

/// The port a task registers with: the registry's port, its containerPort, else the first
/// port mapping of the named (or first) container.
std::uint16_t port_for(const TaskDefinition& td, const ServiceRegistry* reg) {
  if (reg && reg->port) return static_cast<std::uint16_t>(*reg->port);
  if (reg && reg->container_port) return static_cast<std::uint16_t>(*reg->container_port);
  for (const auto& c : td.containers) {
    if (reg && !reg->container_name.empty() && c.name != reg->container_name) continue;
    if (!c.port_mappings.empty()) {
      const auto& m = c.port_mappings.front();
      const bool bridge_host = td.network_mode == "bridge" && m.host_port > 0;
      return static_cast<std::uint16_t>(bridge_host ? m.host_port : m.container_port);
    }
  }
  return 0;
}

}  // namespace

EcsTasks::EcsTasks(const EcsPart& part) : EcsPart(part), pool_(make_pool(config_.task_cidr)) {}

bool EcsTasks::docker() const { return driver_ && driver_->enabled(); }

std::string EcsTasks::availability_zone(const std::string& region) {
  return region + static_cast<char>('a' + (az_next_++ % 3));
}

// ---------------------------------------------------------------------------------- commands

Result<Task> EcsTasks::start_one(const RunTaskInput& input, const TaskDefinition& td,
                                 const EcsService* service) {
  const bool docker = this->docker();
  // A Docker task's address comes from Docker once its containers run.
  const auto ip = docker ? std::optional<std::string>("") : pool_.allocate(used_ips_);
  if (!ip && !service)
    return invalid_parameter("ResourceInitializationError: no free private IP address in " +
                             config_.task_cidr);
  const auto now = time_.wall_now();
  Task t;
  t.id = registry_.new_task_id();
  t.arn = catalog_.task_arn(input.region, input.cluster, t.id);
  t.launch = docker ? Launch::Docker : Launch::Simulated;
  t.region = input.region;
  t.cluster = input.cluster;
  t.task_definition_arn = td.arn;
  t.started_by = input.started_by;
  t.group = input.group.empty() ? "family:" + td.family : input.group;
  t.ipv4 = ip.value_or("");
  TaskExtra extra = input.extra;
  extra.availability_zone = availability_zone(input.region);
  const ServiceRegistry* reg = nullptr;
  if (service) {
    t.ecs_service = service->name;
    t.service_id = service->discovery_service_id;
    if (!service->registries.empty()) reg = &service->registries.front();
  }
  t.port = port_for(td, reg);
  t.attributes = {{"AVAILABILITY_ZONE", extra.availability_zone},
                  {"REGION", input.region},
                  {"ECS_CLUSTER_NAME", input.cluster},
                  {"ECS_TASK_DEFINITION_FAMILY", td.family}};
  if (!docker) t.attributes["AWS_INSTANCE_IPV4"] = t.ipv4;
  if (t.port) t.attributes["AWS_INSTANCE_PORT"] = std::to_string(t.port);
  if (service) t.attributes["ECS_SERVICE_NAME"] = service->name;
  if (docker) extra.containers = containers_of(td);
  if (!ip) t.service_id.clear();  // it never gets as far as Cloud Map
  // A service task that cannot get an address fails to start (it counts for the throttle).
  auto change = ip ? transition(t, TaskEvent::Create, now)
                   : transition(t, TaskEvent::CreateFailed, now,
                                {kTaskFailedToStart,
                                 "ResourceInitializationError: no free private IP address in " +
                                     config_.task_cidr});
  if (!change) return change.error();
  // One command, one transaction: the ECS row, the tags, the task and its event.
  extras_[t.id] = extra;
  (void)catalog_.replace_tags(t.arn, input.tags);  // a new ARN: nothing to restore on failure
  auto put = registry_.put_task(change->task, change->kind, change->message,
                                {extra_row(t.id), catalog_.tags_row(t.arn)});
  if (!put) {
    extras_.erase(t.id);
    (void)catalog_.replace_tags(t.arn, {});
    return put.error();
  }
  index(*put);
  if (docker) {
    driver_->schedule_launch(t.id);
  } else if (ip) {
    schedule_step(t.id);
  }
  return *put;
}

Result<RunTaskOutput> EcsTasks::run_task(const RunTaskInput& input) {
  if (auto r = catalog_.check_active(input.region, input.cluster); !r) return r.error();
  const TaskDefinition* td = catalog_.task_definition_by_arn(input.task_definition_arn);
  if (!td) return client_error("Unable to describe task definition.");
  if (td->status != "ACTIVE") return client_error("TaskDefinition is inactive");
  RunTaskOutput out;
  for (int i = 0; i < input.count; ++i) {
    auto t = start_one(input, *td, nullptr);
    if (t) {
      out.tasks.push_back(*t);
    } else if (t.error().code == Code::Internal || t.error().code == Code::Unavailable) {
      return t.error();
    } else {
      out.failures.emplace_back(td->arn, "RESOURCE:ENI");
    }
  }
  return out;
}

Result<Task> EcsTasks::move(Task task, TaskEvent event, const StopCause& cause,
                            const std::string& note, std::vector<StoreChange> also) {
  auto change = transition(task, event, time_.wall_now(), cause, note);
  if (!change) return change.error();
  auto put = registry_.put_task(std::move(change->task), change->kind, std::move(change->message),
                                std::move(also));
  if (put) index(*put);
  return put;
}

Result<Task> EcsTasks::begin_stop(const Task& t, std::string code, std::string reason) {
  if (t.desired_status == TaskStatus::Stopped || t.last_status == TaskStatus::Stopped) return t;
  const StopCause cause{std::move(code), std::move(reason)};
  if (t.launch == Launch::Docker) {
    const auto it = extras_.find(t.id);
    const bool created = it != extras_.end() &&
                         std::any_of(it->second.containers.begin(), it->second.containers.end(),
                                     [](const TaskContainer& c) { return !c.docker_id.empty(); });
    if (!created) {
      // Nothing runs yet: STOPPED at once. A launch already under way has its containers stopped
      // when it reports them (containers_created).
      if (driver_) driver_->cancel_launch(t.id);
      return move(t, TaskEvent::Terminated, cause);
    }
  }
  auto put = move(t, TaskEvent::StopRequested, cause);
  if (!put) return put.error();
  if (t.launch == Launch::Docker) {
    // Docker: DEPROVISIONING once the containers have exited (containers_stopped), then STOPPED.
    if (driver_) driver_->schedule_container_stop(t.id);
  } else {
    schedule_step(t.id);
  }
  return *put;
}

Result<Task> EcsTasks::stop_task(const std::string& region, const std::string& cluster_name,
                                 const std::string& task_id, const std::string& reason) {
  if (auto r = catalog_.check_active(region, cluster_name); !r) return r.error();
  const Task* t = registry_.task(task_id);
  if (!t || !is_ecs_task(*t) || t->region != region || t->cluster != cluster_name) {
    return invalid_parameter("The referenced task was not found.");
  }
  return begin_stop(*t, "UserInitiated", reason.empty() ? "Task stopped by user" : reason);
}

Result<Task> EcsTasks::stop_task(const std::string& task_id, const std::string& reason) {
  const Task* t = registry_.task(task_id);
  if (!t || !is_ecs_task(*t)) return not_found("task " + task_id + " not found");
  return begin_stop(*t, "UserInitiated", reason.empty() ? "Task stopped by user" : reason);
}

// --------------------------------------------------------------------------------- stepping

void EcsTasks::schedule_step(const std::string& task_id) {
  if (const auto it = steps_.find(task_id); it != steps_.end()) timers_.cancel(it->second);
  const auto gen = generation_;
  steps_[task_id] = timers_.schedule(time_.now() + config_.step, [this, task_id, gen] {
    if (gen != generation_) return;
    steps_.erase(task_id);
    step(task_id);
  });
}

void EcsTasks::step(const std::string& task_id) {
  const Task* current = registry_.task(task_id);
  // Docker tasks step only from DEPROVISIONING: the runtime's reports move them before that.
  if (!current || current->last_status == TaskStatus::Stopped ||
      (current->launch != Launch::Simulated &&
       !(current->launch == Launch::Docker && current->last_status == TaskStatus::Deprovisioning)))
    return;
  Task t = *current;
  auto event = step_towards_desired(t.last_status, t.desired_status);
  if (!event) return;  // RUNNING stays until stopped
  StopCause cause;
  if (*event == TaskEvent::Activate && !t.service_id.empty() &&
      !registry_.service_by_id(t.service_id)) {
    // ECS: service discovery resources are created in ACTIVATING; without them it fails.
    t.service_id.clear();
    event = TaskEvent::Terminated;
    cause = {kTaskFailedToStart, kRegistryGone};
  }
  auto put = move(t, *event, cause);
  if (!put) return;  // the store failed; the task keeps its state and the next change retries
  if (put->last_status == TaskStatus::Running) note_running(*put);
  if (put->last_status != TaskStatus::Running && put->last_status != TaskStatus::Stopped)
    schedule_step(put->id);
}

void EcsTasks::note_running(const Task& t) {
  if (!t.ecs_service.empty() && on_running_) on_running_(t);
}

// ------------------------------------------------------------------------------- queries

std::vector<const Task*> EcsTasks::sorted(const std::set<std::string>& ids) const {
  std::vector<const Task*> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    if (const Task* t = registry_.task(id)) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const Task* a, const Task* b) {
    return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
  });
  return out;
}

std::vector<const Task*> EcsTasks::tasks(const std::string& region,
                                         const std::string& cluster_name) const {
  const auto it = by_cluster_.find(cluster_key(region, cluster_name));
  return it == by_cluster_.end() ? std::vector<const Task*>{} : sorted(it->second);
}

std::vector<const Task*> EcsTasks::service_tasks(const std::string& key) const {
  const auto it = by_service_.find(key);
  return it == by_service_.end() ? std::vector<const Task*>{} : sorted(it->second);
}

const Task* EcsTasks::task_by_arn(const std::string& arn) const {
  const auto slash = arn.rfind('/');
  if (slash == std::string::npos) return nullptr;
  const Task* t = registry_.task(arn.substr(slash + 1));
  return t && is_ecs_task(*t) && t->arn == arn ? t : nullptr;
}

const TaskExtra* EcsTasks::task_extra(const std::string& task_id) const {
  const auto it = extras_.find(task_id);
  return it == extras_.end() ? nullptr : &it->second;
}

// --------------------------------------------------------------------------- docker tasks

TaskExtra* EcsTasks::extra(const std::string& task_id) {
  const auto it = extras_.find(task_id);
  return it == extras_.end() ? nullptr : &it->second;
}

StoreChange EcsTasks::extra_row(const std::string& task_id) const {
  const auto it = extras_.find(task_id);
  if (it == extras_.end()) return {StoreChange::Op::Erase, "ecs-task", task_id, {}};
  return {StoreChange::Op::Upsert, "ecs-task", task_id, stored::to_json(it->second).dump()};
}

void EcsTasks::save_extra(const std::string& task_id) {
  if (!extras_.count(task_id)) return;
  // A failed write loses only container details; the next report writes them again.
  (void)stored::commit(store_, {extra_row(task_id)});
}

void EcsTasks::containers_created(const std::string& task_id, const std::string& first) {
  const Task* cur = registry_.task(task_id);
  if (!cur) return;
  Task t = *cur;
  const bool new_id = t.container_id != first;
  t.container_id = first;
  std::optional<TaskEvent> event;
  if (t.desired_status == TaskStatus::Stopped) {
    // Stopped while the launch was under way: these containers must not stay.
    if (driver_) driver_->schedule_container_stop(task_id);
  } else if (t.last_status == TaskStatus::Provisioning) {
    event = TaskEvent::Provisioned;
  }
  if (!event && new_id) event = TaskEvent::Updated;
  if (!event) {
    save_extra(task_id);
    return;
  }
  (void)move(t, *event, {}, {}, {extra_row(task_id)});
}

bool EcsTasks::containers_started(const std::string& task_id, const std::string& ipv4,
                                  const std::string& ipv6, std::vector<StoreChange> also) {
  const Task* cur = registry_.task(task_id);
  if (!cur) return false;
  if (cur->desired_status == TaskStatus::Stopped || cur->last_status == TaskStatus::Stopped) {
    // ECS: a task asked to stop while it started does not start; its containers stop.
    save_extra(task_id);
    if (driver_) driver_->schedule_container_stop(task_id);
    return false;
  }
  if (cur->last_status > TaskStatus::Pending) {  // a repeated report
    save_extra(task_id);
    return false;
  }
  Task t = *cur;
  t.ipv4 = ipv4;
  t.ipv6 = ipv6;
  if (!ipv4.empty()) t.attributes["AWS_INSTANCE_IPV4"] = ipv4;
  if (!ipv6.empty()) t.attributes["AWS_INSTANCE_IPV6"] = ipv6;
  // ECS: service discovery resources are created in ACTIVATING; without them it fails.
  const bool registry_gone = !t.service_id.empty() && !registry_.service_by_id(t.service_id);
  if (registry_gone) t.service_id.clear();
  auto put = move(t, TaskEvent::Activate, {}, {}, std::move(also));
  if (!put) return false;
  if (registry_gone) {
    fail_start(task_id, kRegistryGone);
    return false;
  }
  put = move(*put, TaskEvent::Started);
  if (!put) return false;
  note_running(*put);
  // Health Docker reported before RUNNING counts now.
  if (driver_) driver_->apply_container_health(task_id, "");
  return true;
}

void EcsTasks::fail_start(const std::string& task_id, const std::string& reason) {
  const Task* cur = registry_.task(task_id);
  if (!cur || cur->last_status == TaskStatus::Stopped) return;
  std::vector<StoreChange> also;
  if (const auto it = extras_.find(task_id); it != extras_.end()) {
    for (auto& c : it->second.containers) {
      if (c.reason.empty() && c.last_status != "STOPPED") c.reason = reason;
      if (c.docker_id.empty()) c.last_status = "STOPPED";  // never created
    }
    also.push_back(extra_row(task_id));
  }
  // Counts for the ECS throttle (the scheduler): stopped before RUNNING with this code (a task
  // already stopping keeps its own).
  auto put = move(*cur, TaskEvent::Terminated, {kTaskFailedToStart, reason}, {}, std::move(also));
  if (!put) return;
  // Containers created before the failure must not stay.
  const auto it = extras_.find(task_id);
  if (driver_ && it != extras_.end() &&
      std::any_of(it->second.containers.begin(), it->second.containers.end(), is_live)) {
    driver_->schedule_container_stop(task_id);
  }
}

void EcsTasks::container_exited(const std::string& task_id, bool essential) {
  const Task* cur = registry_.task(task_id);
  if (!cur || cur->last_status == TaskStatus::Stopped) return;  // already accounted for
  if (cur->desired_status != TaskStatus::Stopped) {
    // ECS: an essential container that exits stops the task; a non-essential one does not.
    if (essential) (void)begin_stop(*cur, kEssentialExited, kEssentialExitedReason);
    return;
  }
  const auto it = extras_.find(task_id);
  if (it == extras_.end() ||
      std::none_of(it->second.containers.begin(), it->second.containers.end(), is_live)) {
    containers_stopped(task_id);
  }
}

void EcsTasks::containers_stopping(const std::string& task_id) {
  const Task* cur = registry_.task(task_id);
  // Out of Cloud Map; now the containers get SIGTERM (SIGKILL after the stop timeout).
  if (cur && cur->last_status == TaskStatus::Deactivating) (void)move(*cur, TaskEvent::Deactivated);
}

void EcsTasks::containers_stopped(const std::string& task_id) {
  const Task* cur = registry_.task(task_id);
  if (!cur || cur->last_status == TaskStatus::Stopped) return;
  if (cur->last_status == TaskStatus::Deprovisioning) {
    schedule_step(task_id);  // a repeated report (or adopted after a restart): STOPPED next
    return;
  }
  Task t = *cur;
  if (const auto it = extras_.find(task_id); it != extras_.end()) {
    // ECS: the task's exit code is its first essential container's.
    for (const auto& c : it->second.containers) {
      if (c.essential && c.exit_code) {
        t.exit_code = c.exit_code;
        break;
      }
    }
  }
  if (t.last_status == TaskStatus::Deactivating) {
    // The containers exited before they were asked to stop: out of Cloud Map, then on.
    auto put = move(t, TaskEvent::Deactivated);
    if (!put) return;
    t = *put;
  }
  if (t.last_status != TaskStatus::Stopping) {
    (void)move(t,
               TaskEvent::Terminated);  // not stopping through the lifecycle: nothing to wait for
    return;
  }
  // All containers have exited: DEPROVISIONING, then STOPPED after a step (as simulated tasks).
  if (auto put = move(t, TaskEvent::ContainersStopped); put) schedule_step(task_id);
}

void EcsTasks::adopted(const std::string& task_id, const AdoptedTask& seen) {
  const Task* cur = registry_.task(task_id);
  if (!cur || !driver_) return;
  if (cur->desired_status == TaskStatus::Stopped) {
    // It was stopping: finish (the driver ends it at once when no container is left).
    driver_->schedule_container_stop(task_id);
    return;
  }
  if (cur->last_status <= TaskStatus::Pending) {
    if (!seen.created) {
      // Choice: a task whose launch never got as far as a container is launched again (nothing
      // of it exists, so nothing can start twice).
      driver_->relaunch(task_id);
    } else if (seen.all_running) {
      (void)containers_started(task_id, seen.ipv4, seen.ipv6);  // only the report was lost
    } else {
      fail_start(task_id,
                 "ResourceInitializationError: the emulator restarted while the task was starting");
    }
    return;
  }
  if (!seen.essentials_running) {
    (void)begin_stop(*cur, kEssentialExited,
                     seen.essential_exited ? kEssentialExitedReason : kNotFoundAfterRestart);
    return;
  }
  // Running as it was: refresh what Docker may have changed (ids, address), start nothing.
  Task t = *cur;
  bool changed = false;
  if (t.container_id != seen.first_container_id) {
    t.container_id = seen.first_container_id;
    changed = true;
  }
  const auto& ipv4 = seen.ipv4;
  const auto& ipv6 = seen.ipv6;
  if ((!ipv4.empty() && ipv4 != t.ipv4) || (!ipv6.empty() && ipv6 != t.ipv6)) {
    if (!ipv4.empty()) t.ipv4 = t.attributes["AWS_INSTANCE_IPV4"] = ipv4;
    if (!ipv6.empty()) t.ipv6 = t.attributes["AWS_INSTANCE_IPV6"] = ipv6;
    changed = true;
  }
  if (t.last_status == TaskStatus::Activating) {
    (void)move(t, TaskEvent::Started, {}, "adopted after a restart");
  } else if (changed) {
    (void)move(t, TaskEvent::Updated, {}, "adopted after a restart");
  }
  driver_->apply_container_health(task_id, "Docker health check (after a restart)");
}

std::vector<std::string> EcsTasks::live_docker_tasks() const {
  std::vector<const Task*> live;
  for (const auto& [id, extra] : extras_) {
    const Task* t = registry_.task(id);
    if (t && t->launch == Launch::Docker && t->last_status != TaskStatus::Stopped)
      live.push_back(t);
  }
  std::sort(live.begin(), live.end(), [](const Task* a, const Task* b) {
    return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
  });
  std::vector<std::string> out;
  for (const Task* t : live) out.push_back(t->id);
  return out;
}

std::vector<std::string> EcsTasks::all_container_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, extra] : extras_) {
    for (const auto& c : extra.containers) {
      if (!c.docker_id.empty()) out.push_back(c.docker_id);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------ state

Result<void> EcsTasks::load_extra(const std::string& task_id, const nlohmann::json& body) {
  auto e = stored::task_extra_from(body);
  if (!e) return e.error();
  extras_[task_id] = *e;
  return {};
}

void EcsTasks::resume() {
  // The one pass over all tasks, at startup; from here on the indexes follow the commits.
  for (const Task* t : registry_.tasks()) {
    if (!is_ecs_task(*t)) continue;
    index(*t);
    if (t->launch == Launch::Simulated && t->last_status != TaskStatus::Stopped &&
        (t->last_status != TaskStatus::Running || t->desired_status == TaskStatus::Stopped)) {
      schedule_step(t->id);
    } else if (t->launch == Launch::Docker && t->last_status == TaskStatus::Deprovisioning) {
      schedule_step(t->id);  // its containers are gone already: nothing to wait for
    }
  }
}

std::vector<std::string> EcsTasks::on_commit(const CommitInfo& info) {
  std::vector<std::string> containers;
  for (const auto& key : info.tasks) {
    if (const Task* t = registry_.task(key)) {
      index(*t);
      continue;
    }
    unindex(key);
    if (const auto it = extras_.find(key); it != extras_.end()) {
      // A purged Docker task: its (exited) containers are removed with it.
      for (const auto& c : it->second.containers) {
        if (!c.docker_id.empty()) containers.push_back(c.docker_id);
      }
      extras_.erase(it);
      (void)stored::commit(store_, {{StoreChange::Op::Erase, "ecs-task", key, {}}});
    }
  }
  return containers;
}

void EcsTasks::index(const Task& t) {
  unindex(t.id);
  if (!is_ecs_task(t)) return;
  Indexed ix;
  ix.cluster = cluster_key(t.region, t.cluster);
  if (!t.ecs_service.empty()) ix.service = service_key(t.region, t.cluster, t.ecs_service);
  // Docker tasks get their address from Docker, not from the pool.
  if (t.launch == Launch::Simulated && t.last_status != TaskStatus::Stopped && !t.ipv4.empty())
    ix.ipv4 = t.ipv4;
  by_cluster_[ix.cluster].insert(t.id);
  if (!ix.service.empty()) by_service_[ix.service].insert(t.id);
  if (!ix.ipv4.empty() && ip_refs_[ix.ipv4]++ == 0) used_ips_.insert(ix.ipv4);
  indexed_.emplace(t.id, std::move(ix));
}

void EcsTasks::unindex(const std::string& task_id) {
  const auto it = indexed_.find(task_id);
  if (it == indexed_.end()) return;
  const Indexed& ix = it->second;
  auto drop = [&](std::map<std::string, std::set<std::string>>& by, const std::string& key) {
    const auto set = by.find(key);
    if (set == by.end()) return;
    set->second.erase(task_id);
    if (set->second.empty()) by.erase(set);
  };
  drop(by_cluster_, ix.cluster);
  if (!ix.service.empty()) drop(by_service_, ix.service);
  if (!ix.ipv4.empty()) {
    if (const auto ref = ip_refs_.find(ix.ipv4); ref != ip_refs_.end() && --ref->second == 0) {
      ip_refs_.erase(ref);
      used_ips_.erase(ix.ipv4);
    }
  }
  indexed_.erase(it);
}

void EcsTasks::clear() {
  ++generation_;
  for (const auto& [id, timer] : steps_) timers_.cancel(timer);
  steps_.clear();
  extras_.clear();
  indexed_.clear();
  by_cluster_.clear();
  by_service_.clear();
  ip_refs_.clear();
  used_ips_.clear();
}

}  // namespace emu::core::ecs
