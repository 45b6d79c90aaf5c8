#include "emulator/core/ecs/service_scheduler.hpp"

#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"
#include "emulator/core/ecs/reconciler.hpp"

namespace emu::core::ecs {

ServiceScheduler::ServiceScheduler(const EcsPart& part, EcsTasks& tasks)
    : EcsPart(part), tasks_(tasks) {}

// ---------------------------------------------------------------------------------- services

const Service* ServiceScheduler::discovery_service_by_arn(const std::string& a) const {
  for (const Service* s : registry_.services()) {
    if (s->arn == a) return s;
  }
  return nullptr;
}

Result<std::string> ServiceScheduler::discovery_service_id(
    const std::vector<ServiceRegistry>& registries) const {
  if (registries.empty()) return std::string();
  const Service* d = discovery_service_by_arn(registries.front().registry_arn);
  if (!d)
    return invalid_parameter("The service registry " + registries.front().registry_arn +
                             " does not exist.");
  return d->id;
}

EcsService* ServiceScheduler::find_service(const std::string& key) {
  const auto it = services_.find(key);
  return it == services_.end() ? nullptr : &it->second;
}

Result<EcsService> ServiceScheduler::create_service(EcsService s, Tags tags) {
  if (auto r = catalog_.check_active(s.region, s.cluster); !r) return r.error();
  const auto key = service_key(s.region, s.cluster, s.name);
  if (const EcsService* existing = find_service(key); existing && existing->status != "INACTIVE") {
    if (!s.client_token.empty() && s.client_token == existing->client_token &&
        s.request == existing->request) {
      return *existing;
    }
    return invalid_parameter("Creation of service was not idempotent.");
  }
  auto discovery = discovery_service_id(s.registries);
  if (!discovery) return discovery.error();
  s.discovery_service_id = *discovery;
  const auto now = time_.wall_now();
  s.arn = catalog_.service_arn(s.region, s.cluster, s.name);
  s.status = "ACTIVE";
  s.created_at = now;
  s.primary = {catalog_.new_deployment_id(), s.task_definition_arn, now, now};
  s.old_deployments.clear();
  s.events.clear();
  s.steady = false;
  s.start_failures = 0;
  s.replaced_unhealthy = 0;
  (void)catalog_.replace_tags(s.arn, std::move(tags));
  if (auto r = stored::commit(store_, {stored::row(s), catalog_.tags_row(s.arn)}); !r)
    return r.error();
  services_[key] = s;
  mark_dirty(key);
  return s;
}

Result<EcsService> ServiceScheduler::update_service(const std::string& region,
                                                    const std::string& cluster_name,
                                                    const std::string& name,
                                                    const ServiceUpdate& u) {
  if (auto r = catalog_.check_active(region, cluster_name); !r) return r.error();
  const auto key = service_key(region, cluster_name, name);
  const EcsService* found = find_service(key);
  if (!found) return ecs_error("ServiceNotFoundException", "Service not found.");
  if (found->status != "ACTIVE")
    return ecs_error("ServiceNotActiveException", "Service was not ACTIVE.");
  EcsService s = *found;
  bool deploy = u.force_new_deployment;
  if (u.desired_count && *u.desired_count != s.desired_count) {
    s.desired_count = *u.desired_count;
    s.steady = false;
  }
  if (u.task_definition_arn && *u.task_definition_arn != s.task_definition_arn) {
    s.task_definition_arn = *u.task_definition_arn;
    deploy = true;
  }
  if (u.registries) {
    s.registries = *u.registries;
    auto discovery = discovery_service_id(s.registries);
    if (!discovery) return discovery.error();
    s.discovery_service_id = *discovery;
    deploy = true;
  }
  if (u.network_configuration) {
    s.network_configuration = *u.network_configuration;
    deploy = true;
  }
  if (u.deployment_configuration) s.deployment_configuration = *u.deployment_configuration;
  if (u.health_check_grace_period) s.health_check_grace_period = *u.health_check_grace_period;
  if (deploy) {
    const auto now = time_.wall_now();
    s.old_deployments.push_back(s.primary);
    s.primary = {catalog_.new_deployment_id(), s.task_definition_arn, now, now};
    s.steady = false;
  }
  if (auto r = stored::commit(store_, {stored::row(s)}); !r) return r.error();
  services_[key] = s;
  mark_dirty(key);
  return s;
}

Result<EcsService> ServiceScheduler::delete_service(const std::string& region,
                                                    const std::string& cluster_name,
                                                    const std::string& name, bool force) {
  if (auto r = catalog_.check_active(region, cluster_name); !r) return r.error();
  const auto key = service_key(region, cluster_name, name);
  const EcsService* found = find_service(key);
  if (!found || found->status == "INACTIVE")
    return ecs_error("ServiceNotFoundException", "Service not found.");
  if (found->status != "ACTIVE")
    return ecs_error("ServiceNotActiveException", "Service was not ACTIVE.");
  if (found->desired_count > 0 && !force) {
    return invalid_parameter("The service cannot be stopped while it is scaled above 0.");
  }
  EcsService s = *found;
  s.status = "DRAINING";
  s.desired_count = 0;
  s.steady = false;
  if (auto r = stored::commit(store_, {stored::row(s)}); !r) return r.error();
  services_[key] = s;
  mark_dirty(key);
  return s;
}

const EcsService* ServiceScheduler::service(const std::string& region,
                                            const std::string& cluster_name,
                                            const std::string& name) const {
  const auto it = services_.find(service_key(region, cluster_name, name));
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<const EcsService*> ServiceScheduler::services(const std::string& region,
                                                          const std::string& cluster_name) const {
  std::vector<const EcsService*> out;
  for (const auto& [key, s] : services_) {
    if (s.region == region && s.cluster == cluster_name) out.push_back(&s);
  }
  return out;
}

std::vector<const Task*> ServiceScheduler::service_tasks(const EcsService& s) const {
  std::vector<const Task*> out;
  for (const Task* t : tasks_.service_tasks(service_key(s.region, s.cluster, s.name))) {
    if (t->created_at >= s.created_at) out.push_back(t);  // not an older service's of that name
  }
  return out;
}

bool ServiceScheduler::has(const std::string& a) const {
  for (const auto& [k, s] : services_) {
    if (s.arn == a && s.status != "INACTIVE") return true;
  }
  return false;
}

// ------------------------------------------------------------------------------- scheduling

void ServiceScheduler::note_running(const Task& t) {
  // ECS: a task started after the last failure that reaches RUNNING ends the throttle.
  EcsService* s = find_service(service_key(t.region, t.cluster, t.ecs_service));
  if (s && s->start_failures && (!s->last_start_failure || t.created_at > *s->last_start_failure)) {
    s->start_failures = 0;
    s->throttled_until.reset();
    (void)stored::commit(store_, {stored::row(*s)});
  }
}

void ServiceScheduler::on_commit(const CommitInfo& info) {
  for (const auto& key : info.tasks) {
    const Task* t = registry_.task(key);
    if (!t) {
      known_stopped_.erase(key);
      continue;
    }
    if (is_ecs_task(*t) && !t->ecs_service.empty()) {
      mark_dirty(service_key(t->region, t->cluster, t->ecs_service));
    }
  }
}

void ServiceScheduler::mark_dirty(const std::string& key) {
  dirty_.insert(key);
  if (reconcile_timer_) return;
  const auto gen = generation_;
  // Deferred to the timer queue: never re-enter the Registry from inside its observer.
  reconcile_timer_ = timers_.schedule(time_.now(), [this, gen] {
    if (gen != generation_) return;
    reconcile_timer_.reset();
    run_dirty();
  });
}

void ServiceScheduler::run_dirty() {
  auto keys = std::move(dirty_);
  dirty_.clear();
  for (const auto& key : keys) reconcile_service(key);
}

void ServiceScheduler::reconcile_all() {
  for (const auto& [key, s] : services_) dirty_.insert(key);
  run_dirty();
}

void ServiceScheduler::add_event(EcsService& s, std::string message) {
  s.events.push_front({catalog_.new_uuid(), time_.wall_now(), std::move(message)});
  while (s.events.size() > config_.max_events) s.events.pop_back();
}

void ServiceScheduler::reconcile_service(const std::string& key) {
  EcsService* svc = find_service(key);
  if (!svc || svc->status == "INACTIVE") return;
  const auto now = time_.now();
  auto plan = reconcile(*svc, service_tasks(*svc), known_stopped_, now, time_.wall_now(),
                        {config_.throttle_base, config_.throttle_max});
  *svc = std::move(plan.service);
  known_stopped_.insert(plan.accounted.begin(), plan.accounted.end());
  for (auto& message : plan.events) add_event(*svc, std::move(message));
  if (plan.recheck_at) {
    const auto gen = generation_;
    timers_.schedule(*plan.recheck_at, [this, key, gen] {
      if (gen == generation_) mark_dirty(key);
    });
  }
  const std::string label = "(service " + svc->name + ")";
  std::vector<std::string> started, stopped;
  for (const auto& a : plan.actions) {
    if (a.kind == Action::Kind::StopTask) {
      const Task* t = registry_.task(a.task_id);
      if (!t) continue;
      const bool counted = a.reason != kHealthStopReason && t->last_status == TaskStatus::Running;
      const std::string id = t->id;
      if (auto r = tasks_.begin_stop(*t, a.stop_code, a.reason); r && counted)
        stopped.push_back(id);
    } else {
      const TaskDefinition* td = catalog_.task_definition_by_arn(svc->primary.task_definition_arn);
      if (!td) continue;
      RunTaskInput in;
      in.region = svc->region;
      in.cluster = svc->cluster;
      in.task_definition_arn = td->arn;
      in.started_by = svc->primary.id;
      in.group = "service:" + svc->name;
      in.extra.launch_type = svc->launch_type;
      in.extra.network_configuration = svc->network_configuration;
      auto t = tasks_.start_one(in, *td, svc);
      if (t) started.push_back(t->id);
    }
    svc = find_service(key);
    if (!svc) return;
  }
  if (!started.empty()) {
    std::string msg = label + " has started " + std::to_string(started.size()) + " tasks:";
    for (const auto& id : started) msg += " (task " + id + ")";
    msg += ".";
    if (svc->replaced_unhealthy > 0) {
      msg += " Amazon ECS replaced " + std::to_string(svc->replaced_unhealthy) +
             " tasks due to an unhealthy status.";
      svc->replaced_unhealthy = 0;
    }
    add_event(*svc, msg);
  }
  if (!stopped.empty()) {
    std::string msg = label + " has stopped " + std::to_string(stopped.size()) + " running tasks:";
    for (const auto& id : stopped) msg += " (task " + id + ")";
    add_event(*svc, msg + ".");
  }
  if (plan.changed) (void)stored::commit(store_, {stored::row(*svc)});
}

// ------------------------------------------------------------------------------------ state

Result<void> ServiceScheduler::load_service(const nlohmann::json& body) {
  auto s = stored::service_from(body);
  if (!s) return s.error();
  services_[service_key(s->region, s->cluster, s->name)] = *s;
  return {};
}

void ServiceScheduler::resume() {
  for (const auto& [key, s] : services_) {
    for (const Task* t : tasks_.service_tasks(key)) {
      if (t->last_status == TaskStatus::Stopped) known_stopped_.insert(t->id);
    }
    mark_dirty(key);
  }
}

void ServiceScheduler::clear() {
  ++generation_;
  if (reconcile_timer_) timers_.cancel(*reconcile_timer_);
  reconcile_timer_.reset();
  services_.clear();
  known_stopped_.clear();
  dirty_.clear();
}

}  // namespace emu::core::ecs
