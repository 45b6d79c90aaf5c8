#include "emulator/core/ecs/ecs_engine.hpp"

#include <algorithm>
#include <cmath>

#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"

namespace emu::core::ecs {

using nlohmann::json;

namespace {

constexpr const char* kTaskFailedToStart = "TaskFailedToStart";

IpPool make_pool(const std::string& cidr) {
  auto pool = IpPool::parse(cidr);
  if (pool) return *pool;
  return *IpPool::parse("10.10.0.0/16");  // validate() rejects a bad CIDR before we get here
}

std::string region_key(const std::string& region, const std::string& name) {
  return region + "/" + name;
}

bool is_active(const Task& t) {
  return t.desired_status != TaskStatus::Stopped && t.last_status != TaskStatus::Stopped;
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
    : time_(time),
      timers_(timers),
      store_(store),
      registry_(registry),
      config_(std::move(config)),
      pool_(make_pool(config_.task_cidr)),
      rng_(seed) {
  registry_.add_observer([this](const CommitInfo& info) { on_commit(info); });
}

Result<void> EcsEngine::validate(const EcsConfig& config) {
  if (auto pool = IpPool::parse(config.task_cidr); !pool) return pool.error();
  if (!(config.time_scale > 0.0) || !std::isfinite(config.time_scale)) {
    return invalid("--time-scale: must be a number greater than 0");
  }
  return {};
}

// ------------------------------------------------------------------------------------ state

Result<void> EcsEngine::load() {
  auto contents = store_.load();
  if (!contents) return contents.error();
  clear();
  for (const auto& row : contents->entities) {
    const bool mine = row.kind == "cluster" || row.kind == "task-definition" ||
                      row.kind == "ecs-service" || row.kind == "ecs-task" || row.kind == "ecs-tags";
    if (!mine) continue;
    const json j = json::parse(row.body, nullptr, false);
    if (j.is_discarded())
      return Error{Code::Internal, "state row " + row.kind + "/" + row.id + ": not JSON"};
    if (row.kind == "cluster") {
      auto c = stored::cluster_from(j);
      if (!c) return c.error();
      clusters_[region_key(c->region, c->name)] = *c;
    } else if (row.kind == "task-definition") {
      auto td = stored::task_definition_from(j);
      if (!td) return td.error();
      auto& last = last_revision_[region_key(td->region, td->family)];
      last = std::max(last, td->revision);
      task_definitions_[td->arn] = *td;
    } else if (row.kind == "ecs-service") {
      auto s = stored::service_from(j);
      if (!s) return s.error();
      services_[service_key(s->region, s->cluster, s->name)] = *s;
    } else if (row.kind == "ecs-task") {
      auto e = stored::task_extra_from(j);
      if (!e) return e.error();
      extras_[row.id] = *e;
    } else {
      Tags tags;
      for (const auto& [k, v] : j.items()) {
        if (v.is_string()) tags[k] = v.get<std::string>();
      }
      tags_[row.id] = tags;
    }
  }
  // Simulated tasks resume their lifecycle; stopped ones are already accounted for.
  for (const Task* t : registry_.tasks()) {
    if (t->launch != Launch::Simulated) continue;
    if (t->last_status == TaskStatus::Stopped) {
      known_stopped_.insert(t->id);
    } else if (t->last_status != TaskStatus::Running || t->desired_status == TaskStatus::Stopped) {
      schedule_step(t->id);
    }
  }
  for (const auto& [key, s] : services_) mark_dirty(key);
  return {};
}

void EcsEngine::clear() {
  ++generation_;
  for (const auto& [id, timer] : steps_) timers_.cancel(timer);
  if (reconcile_timer_) timers_.cancel(*reconcile_timer_);
  reconcile_timer_.reset();
  clusters_.clear();
  task_definitions_.clear();
  last_revision_.clear();
  services_.clear();
  extras_.clear();
  tags_.clear();
  steps_.clear();
  known_stopped_.clear();
  dirty_.clear();
}

Result<void> EcsEngine::persist(std::vector<StoreChange> changes) {
  StoreBatch batch;
  batch.changes = std::move(changes);
  return store_.commit(batch);
}

StoreChange EcsEngine::row(const Cluster& c) const {
  return {StoreChange::Op::Upsert, "cluster", region_key(c.region, c.name),
          stored::to_json(c).dump()};
}
StoreChange EcsEngine::row(const TaskDefinition& td) const {
  return {StoreChange::Op::Upsert, "task-definition", td.arn, stored::to_json(td).dump()};
}
StoreChange EcsEngine::row(const EcsService& s) const {
  return {StoreChange::Op::Upsert, "ecs-service", service_key(s.region, s.cluster, s.name),
          stored::to_json(s).dump()};
}
StoreChange EcsEngine::tags_row(const std::string& arn) const {
  const auto it = tags_.find(arn);
  if (it == tags_.end() || it->second.empty()) return {StoreChange::Op::Erase, "ecs-tags", arn, {}};
  return {StoreChange::Op::Upsert, "ecs-tags", arn, json(it->second).dump()};
}

void EcsEngine::on_commit(const CommitInfo& info) {
  if (info.reset) {
    clear();  // the store's EraseAll already dropped our rows
    return;
  }
  for (const auto& key : info.tasks) {
    const Task* t = registry_.task(key);
    if (!t) {
      if (extras_.erase(key)) (void)persist({{StoreChange::Op::Erase, "ecs-task", key, {}}});
      known_stopped_.erase(key);
      continue;
    }
    if (t->launch == Launch::Simulated && !t->ecs_service.empty()) {
      mark_dirty(service_key(t->region, t->cluster, t->ecs_service));
    }
  }
}

// --------------------------------------------------------------------------------- ids, arns

std::string EcsEngine::arn(const std::string& region, const std::string& resource) const {
  return "arn:aws:ecs:" + region + ":" + config_.account_id + ":" + resource;
}
std::string EcsEngine::cluster_arn(const std::string& region, const std::string& name) const {
  return arn(region, "cluster/" + name);
}
std::string EcsEngine::task_arn(const std::string& region, const std::string& cluster,
                                const std::string& id) const {
  return arn(region, "task/" + cluster + "/" + id);
}
std::string EcsEngine::service_arn(const std::string& region, const std::string& cluster,
                                   const std::string& name) const {
  return arn(region, "service/" + cluster + "/" + name);
}

std::string EcsEngine::new_uuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (auto& c : out) {
    if (c == 'x')
      c = kHex[rng_() % 16];
    else if (c == 'y')
      c = kHex[8 + rng_() % 4];
  }
  return out;
}

std::string EcsEngine::new_deployment_id() {
  std::string digits(19, '0');
  digits[0] = static_cast<char>('1' + rng_() % 9);
  for (std::size_t i = 1; i < digits.size(); ++i) digits[i] = static_cast<char>('0' + rng_() % 10);
  return "ecs-svc/" + digits;
}

std::string EcsEngine::availability_zone(const std::string& region) {
  return region + static_cast<char>('a' + (az_next_++ % 3));
}

// ---------------------------------------------------------------------------------- clusters

Result<Cluster> EcsEngine::create_cluster(Cluster c, Tags tags) {
  const auto key = region_key(c.region, c.name);
  if (const auto it = clusters_.find(key); it != clusters_.end() && it->second.status == "ACTIVE") {
    return it->second;  // ECS: CreateCluster of an existing ACTIVE cluster returns it
  }
  c.arn = cluster_arn(c.region, c.name);
  c.status = "ACTIVE";
  c.created_at = time_.wall_now();
  auto previous_tags = tags_[c.arn];
  tags_[c.arn] = std::move(tags);
  if (auto r = persist({row(c), tags_row(c.arn)}); !r) {
    tags_[c.arn] = std::move(previous_tags);
    return r.error();
  }
  clusters_[key] = c;
  return c;
}

Result<Cluster> EcsEngine::delete_cluster(const std::string& region, const std::string& name) {
  const auto it = clusters_.find(region_key(region, name));
  if (it == clusters_.end() || it->second.status != "ACTIVE") {
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  }
  for (const EcsService* s : services(region, name)) {
    if (s->status != "INACTIVE") {
      return ecs_error("ClusterContainsServicesException",
                       "The Cluster cannot be deleted while Services are active.");
    }
  }
  for (const Task* t : tasks(region, name)) {
    if (is_active(*t)) {
      return ecs_error("ClusterContainsTasksException",
                       "The Cluster cannot be deleted while Tasks are active.");
    }
  }
  Cluster c = it->second;
  c.status = "INACTIVE";
  if (auto r = persist({row(c)}); !r) return r.error();
  it->second = c;
  return c;
}

const Cluster* EcsEngine::cluster(const std::string& region, const std::string& name) const {
  const auto it = clusters_.find(region_key(region, name));
  return it == clusters_.end() ? nullptr : &it->second;
}

std::vector<const Cluster*> EcsEngine::clusters(const std::string& region) const {
  std::vector<const Cluster*> out;
  for (const auto& [key, c] : clusters_) {
    if (c.region == region) out.push_back(&c);
  }
  return out;
}

// -------------------------------------------------------------------------- task definitions

Result<TaskDefinition> EcsEngine::register_task_definition(TaskDefinition td, Tags tags) {
  int& last = last_revision_[region_key(td.region, td.family)];
  td.revision = last + 1;
  td.arn = arn(td.region, "task-definition/" + td.family + ":" + std::to_string(td.revision));
  td.status = "ACTIVE";
  td.registered_at = time_.wall_now();
  td.deregistered_at.reset();
  tags_[td.arn] = std::move(tags);
  if (auto r = persist({row(td), tags_row(td.arn)}); !r) {
    tags_.erase(td.arn);
    return r.error();
  }
  last = td.revision;
  task_definitions_[td.arn] = td;
  return td;
}

Result<TaskDefinition> EcsEngine::deregister_task_definition(const std::string& region,
                                                             const std::string& family,
                                                             int revision) {
  const TaskDefinition* found = task_definition(region, family, revision);
  if (!found) return client_error("The specified task definition does not exist.");
  TaskDefinition td = *found;
  if (td.status == "ACTIVE") {
    td.status = "INACTIVE";
    td.deregistered_at = time_.wall_now();
    if (auto r = persist({row(td)}); !r) return r.error();
    task_definitions_[td.arn] = td;
  }
  return td;
}

const TaskDefinition* EcsEngine::task_definition(const std::string& region,
                                                 const std::string& family,
                                                 std::optional<int> revision) const {
  if (revision)
    return task_definition_by_arn(
        arn(region, "task-definition/" + family + ":" + std::to_string(*revision)));
  const TaskDefinition* best = nullptr;
  for (const auto& [a, td] : task_definitions_) {
    if (td.region != region || td.family != family || td.status != "ACTIVE") continue;
    if (!best || td.revision > best->revision) best = &td;
  }
  return best;
}

const TaskDefinition* EcsEngine::task_definition_by_arn(const std::string& a) const {
  const auto it = task_definitions_.find(a);
  return it == task_definitions_.end() ? nullptr : &it->second;
}

std::vector<const TaskDefinition*> EcsEngine::task_definitions(const std::string& region) const {
  std::vector<const TaskDefinition*> out;
  for (const auto& [a, td] : task_definitions_) {
    if (td.region == region) out.push_back(&td);
  }
  std::sort(out.begin(), out.end(), [](const TaskDefinition* a, const TaskDefinition* b) {
    return a->family != b->family ? a->family < b->family : a->revision < b->revision;
  });
  return out;
}

// ------------------------------------------------------------------------------------- tasks

std::set<std::string> EcsEngine::used_ips() const {
  std::set<std::string> used;
  for (const Task* t : registry_.tasks()) {
    if (t->launch == Launch::Simulated && t->last_status != TaskStatus::Stopped &&
        !t->ipv4.empty()) {
      used.insert(t->ipv4);
    }
  }
  return used;
}

Result<Task> EcsEngine::start_one(const RunTaskInput& input, const TaskDefinition& td,
                                  const EcsService* service) {
  const auto ip = pool_.allocate(used_ips());
  if (!ip && !service)
    return ecs_error("ResourceInitializationError",
                     "no free private IP address in " + config_.task_cidr);
  const auto now = time_.wall_now();
  Task t;
  t.id = registry_.new_task_id();
  t.arn = task_arn(input.region, input.cluster, t.id);
  t.launch = Launch::Simulated;
  t.region = input.region;
  t.cluster = input.cluster;
  t.task_definition_arn = td.arn;
  t.started_by = input.started_by;
  t.group = input.group.empty() ? "family:" + td.family : input.group;
  t.ipv4 = ip.value_or("");
  t.created_at = now;
  t.last_status = TaskStatus::Provisioning;
  t.desired_status = TaskStatus::Running;
  TaskExtra extra = input.extra;
  extra.availability_zone = availability_zone(input.region);
  const ServiceRegistry* reg = nullptr;
  if (service) {
    t.ecs_service = service->name;
    t.service_id = service->discovery_service_id;
    if (!service->registries.empty()) reg = &service->registries.front();
  }
  t.port = port_for(td, reg);
  t.attributes = {{"AWS_INSTANCE_IPV4", t.ipv4},
                  {"AVAILABILITY_ZONE", extra.availability_zone},
                  {"REGION", input.region},
                  {"ECS_CLUSTER_NAME", input.cluster},
                  {"ECS_TASK_DEFINITION_FAMILY", td.family}};
  if (t.port) t.attributes["AWS_INSTANCE_PORT"] = std::to_string(t.port);
  if (service) t.attributes["ECS_SERVICE_NAME"] = service->name;
  std::string message = "task " + t.id + " (" + t.group + ") PROVISIONING";
  if (!ip) {
    // A service task that cannot get an address fails to start (it counts for the throttle).
    t.service_id.clear();
    t.last_status = TaskStatus::Stopped;
    t.desired_status = TaskStatus::Stopped;
    t.stop_code = kTaskFailedToStart;
    t.stopped_reason =
        "ResourceInitializationError: no free private IP address in " + config_.task_cidr;
    t.stopping_at = now;
    t.stopped_at = now;
    message = "task " + t.id + " (" + t.group + ") STOPPED (" + t.stop_code + ": " +
              t.stopped_reason + ")";
  }
  extras_[t.id] = extra;
  tags_[t.arn] = input.tags;
  if (auto r = persist({{StoreChange::Op::Upsert, "ecs-task", t.id, stored::to_json(extra).dump()},
                        tags_row(t.arn)});
      !r) {
    return r.error();
  }
  auto put = registry_.put_task(t, ip ? "TaskProvisioning" : "TaskStopped", message);
  if (!put) return put.error();
  if (ip) schedule_step(t.id);
  return *put;
}

Result<RunTaskOutput> EcsEngine::run_task(const RunTaskInput& input) {
  const Cluster* c = cluster(input.region, input.cluster);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  const TaskDefinition* td = task_definition_by_arn(input.task_definition_arn);
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

void EcsEngine::schedule_step(const std::string& task_id) {
  if (const auto it = steps_.find(task_id); it != steps_.end()) timers_.cancel(it->second);
  const auto gen = generation_;
  steps_[task_id] = timers_.schedule(time_.now() + config_.step, [this, task_id, gen] {
    if (gen != generation_) return;
    steps_.erase(task_id);
    step(task_id);
  });
}

void EcsEngine::step(const std::string& task_id) {
  const Task* current = registry_.task(task_id);
  if (!current || current->launch != Launch::Simulated ||
      current->last_status == TaskStatus::Stopped)
    return;
  Task t = *current;
  const auto old = t.last_status;
  const auto now = time_.wall_now();
  if (t.desired_status != TaskStatus::Stopped) {
    switch (old) {
      case TaskStatus::Provisioning:
        t.last_status = TaskStatus::Pending;
        break;
      case TaskStatus::Pending:
        t.last_status = TaskStatus::Activating;
        // ECS: service discovery resources are created in ACTIVATING; without them it fails.
        if (!t.service_id.empty() && !registry_.service_by_id(t.service_id)) {
          t.service_id.clear();
          t.last_status = TaskStatus::Stopped;
          t.desired_status = TaskStatus::Stopped;
          t.stop_code = kTaskFailedToStart;
          t.stopped_reason =
              "ResourceInitializationError: unable to register the task in AWS Cloud Map: the "
              "service registry no longer exists";
          t.stopping_at = now;
          t.stopped_at = now;
        }
        break;
      case TaskStatus::Activating:
        t.last_status = TaskStatus::Running;
        t.started_at = now;
        break;
      default:
        return;  // RUNNING stays until stopped
    }
  } else {
    switch (old) {
      case TaskStatus::Deactivating:
        t.last_status = TaskStatus::Stopping;
        break;
      case TaskStatus::Stopping:
        t.last_status = TaskStatus::Deprovisioning;
        break;
      case TaskStatus::Deprovisioning:
        t.last_status = TaskStatus::Stopped;
        t.stopped_at = now;
        break;
      default:
        t.last_status = TaskStatus::Deactivating;
        break;
    }
  }
  ++t.version;
  std::string message =
      "task " + t.id + " (" + t.group + ") " + to_string(old) + " -> " + to_string(t.last_status);
  if (t.last_status == TaskStatus::Stopped)
    message += " (" + t.stop_code + ": " + t.stopped_reason + ")";
  auto put = registry_.put_task(
      t, t.last_status == TaskStatus::Stopped ? "TaskStopped" : "TaskStatusChanged", message);
  if (!put) return;  // the store failed; the task keeps its state and the next change retries
  if (t.last_status == TaskStatus::Running && !t.ecs_service.empty()) {
    // ECS: a task started after the last failure that reaches RUNNING ends the throttle.
    EcsService* s = find_service(service_key(t.region, t.cluster, t.ecs_service));
    if (s && s->start_failures &&
        (!s->last_start_failure || t.created_at > *s->last_start_failure)) {
      s->start_failures = 0;
      s->throttled_until.reset();
      (void)persist({row(*s)});
    }
  }
  if (t.last_status != TaskStatus::Running && t.last_status != TaskStatus::Stopped)
    schedule_step(t.id);
}

Result<Task> EcsEngine::begin_stop(const Task& task, std::string code, std::string reason) {
  if (task.desired_status == TaskStatus::Stopped || task.last_status == TaskStatus::Stopped)
    return task;
  Task t = task;
  t.desired_status = TaskStatus::Stopped;
  t.stop_code = std::move(code);
  t.stopped_reason = std::move(reason);
  t.stopping_at = time_.wall_now();
  if (t.last_status <= TaskStatus::Running) t.last_status = TaskStatus::Deactivating;
  ++t.version;
  auto put = registry_.put_task(t, "TaskStopping",
                                "task " + t.id + " (" + t.group + ") stopping (" + t.stop_code +
                                    ": " + t.stopped_reason + ")");
  if (!put) return put.error();
  schedule_step(t.id);
  return *put;
}

Result<Task> EcsEngine::stop_task(const std::string& region, const std::string& cluster_name,
                                  const std::string& task_id, const std::string& reason) {
  const Cluster* c = cluster(region, cluster_name);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  const Task* t = registry_.task(task_id);
  if (!t || t->launch != Launch::Simulated || t->region != region || t->cluster != cluster_name) {
    return invalid_parameter("The referenced task was not found.");
  }
  return begin_stop(*t, "UserInitiated", reason.empty() ? "Task stopped by user" : reason);
}

std::vector<const Task*> EcsEngine::tasks(const std::string& region,
                                          const std::string& cluster_name) const {
  std::vector<const Task*> out;
  for (const Task* t : registry_.tasks()) {
    if (t->launch == Launch::Simulated && t->region == region && t->cluster == cluster_name)
      out.push_back(t);
  }
  return out;
}

const TaskExtra* EcsEngine::task_extra(const std::string& task_id) const {
  const auto it = extras_.find(task_id);
  return it == extras_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------------- services

const Service* EcsEngine::discovery_service_by_arn(const std::string& a) const {
  for (const Service* s : registry_.services()) {
    if (s->arn == a) return s;
  }
  return nullptr;
}

EcsService* EcsEngine::find_service(const std::string& key) {
  const auto it = services_.find(key);
  return it == services_.end() ? nullptr : &it->second;
}

Result<EcsService> EcsEngine::create_service(EcsService s, Tags tags) {
  const Cluster* c = cluster(s.region, s.cluster);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  const auto key = service_key(s.region, s.cluster, s.name);
  if (const EcsService* existing = find_service(key); existing && existing->status != "INACTIVE") {
    if (!s.client_token.empty() && s.client_token == existing->client_token &&
        s.request == existing->request) {
      return *existing;
    }
    return invalid_parameter("Creation of service was not idempotent.");
  }
  if (!s.registries.empty()) {
    const Service* d = discovery_service_by_arn(s.registries.front().registry_arn);
    if (!d)
      return invalid_parameter("The service registry " + s.registries.front().registry_arn +
                               " does not exist.");
    s.discovery_service_id = d->id;
  }
  const auto now = time_.wall_now();
  s.arn = service_arn(s.region, s.cluster, s.name);
  s.status = "ACTIVE";
  s.created_at = now;
  s.primary = {new_deployment_id(), s.task_definition_arn, now, now};
  s.old_deployments.clear();
  s.events.clear();
  s.steady = false;
  s.start_failures = 0;
  s.replaced_unhealthy = 0;
  tags_[s.arn] = std::move(tags);
  if (auto r = persist({row(s), tags_row(s.arn)}); !r) return r.error();
  services_[key] = s;
  mark_dirty(key);
  return s;
}

Result<EcsService> EcsEngine::update_service(const std::string& region,
                                             const std::string& cluster_name,
                                             const std::string& name, const ServiceUpdate& u) {
  const Cluster* c = cluster(region, cluster_name);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
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
    s.discovery_service_id.clear();
    if (!s.registries.empty()) {
      const Service* d = discovery_service_by_arn(s.registries.front().registry_arn);
      if (!d)
        return invalid_parameter("The service registry " + s.registries.front().registry_arn +
                                 " does not exist.");
      s.discovery_service_id = d->id;
    }
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
    s.primary = {new_deployment_id(), s.task_definition_arn, now, now};
    s.steady = false;
  }
  if (auto r = persist({row(s)}); !r) return r.error();
  services_[key] = s;
  mark_dirty(key);
  return s;
}

Result<EcsService> EcsEngine::delete_service(const std::string& region,
                                             const std::string& cluster_name,
                                             const std::string& name, bool force) {
  const Cluster* c = cluster(region, cluster_name);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
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
  if (auto r = persist({row(s)}); !r) return r.error();
  services_[key] = s;
  mark_dirty(key);
  return s;
}

const EcsService* EcsEngine::service(const std::string& region, const std::string& cluster_name,
                                     const std::string& name) const {
  const auto it = services_.find(service_key(region, cluster_name, name));
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<const EcsService*> EcsEngine::services(const std::string& region,
                                                   const std::string& cluster_name) const {
  std::vector<const EcsService*> out;
  for (const auto& [key, s] : services_) {
    if (s.region == region && s.cluster == cluster_name) out.push_back(&s);
  }
  return out;
}

std::vector<const Task*> EcsEngine::service_tasks(const EcsService& s) const {
  std::vector<const Task*> out;
  for (const Task* t : registry_.tasks()) {
    if (t->launch == Launch::Simulated && t->region == s.region && t->cluster == s.cluster &&
        t->ecs_service == s.name && t->created_at >= s.created_at) {
      out.push_back(t);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------- scheduling

void EcsEngine::mark_dirty(const std::string& key) {
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

void EcsEngine::run_dirty() {
  auto keys = std::move(dirty_);
  dirty_.clear();
  for (const auto& key : keys) reconcile_service(key);
}

void EcsEngine::reconcile_all() {
  for (const auto& [key, s] : services_) dirty_.insert(key);
  run_dirty();
}

void EcsEngine::add_event(EcsService& s, std::string message) {
  s.events.push_front({new_uuid(), time_.wall_now(), std::move(message)});
  while (s.events.size() > config_.max_events) s.events.pop_back();
}

void EcsEngine::reconcile_service(const std::string& key) {
  EcsService* svc = find_service(key);
  if (!svc || svc->status == "INACTIVE") return;
  const std::string label = "(service " + svc->name + ")";
  const auto now = time_.now();
  bool changed = false;
  // Tasks that stopped since the last pass: health failures and start failures.
  for (const Task* t : service_tasks(*svc)) {
    if (t->last_status != TaskStatus::Stopped || known_stopped_.count(t->id)) continue;
    known_stopped_.insert(t->id);
    if (t->stopped_reason == kHealthStopReason) {
      add_event(*svc, label + " (task " + t->id + ") failed container health checks.");
      ++svc->replaced_unhealthy;
      changed = true;
    } else if (!t->started_at && t->stop_code == kTaskFailedToStart) {
      // ECS throttle: tasks that never reach RUNNING delay the next start, doubling up to 15 min.
      ++svc->start_failures;
      svc->last_start_failure = t->stopped_at.value_or(time_.wall_now());
      if (svc->start_failures >= 2) {
        auto delay = config_.throttle_base * (1LL << std::min(svc->start_failures - 2, 20));
        if (delay > config_.throttle_max) delay = config_.throttle_max;
        svc->throttled_until = now + delay;
        add_event(*svc, label + " is unable to consistently start tasks successfully.");
        const auto gen = generation_;
        timers_.schedule(now + delay, [this, key, gen] {
          if (gen == generation_) mark_dirty(key);
        });
      }
      changed = true;
    }
  }
  const auto tasks = service_tasks(*svc);
  const auto actions = reconcile(*svc, tasks, now);
  std::vector<std::string> started, stopped;
  std::string started_reason;
  for (const auto& a : actions) {
    if (a.kind == Action::Kind::StopTask) {
      const Task* t = registry_.task(a.task_id);
      if (!t) continue;
      const bool health = a.reason == kHealthStopReason;
      const bool was_running = t->last_status == TaskStatus::Running;
      const std::string id = t->id;
      known_stopped_.insert(id);
      if (health) {
        add_event(*svc, label + " (task " + id + ") failed container health checks.");
        ++svc->replaced_unhealthy;
      }
      if (auto r = begin_stop(*t, a.stop_code, a.reason); r && !health && was_running)
        stopped.push_back(id);
      svc = find_service(key);
    } else {
      const TaskDefinition* td = task_definition_by_arn(svc->primary.task_definition_arn);
      if (!td) continue;
      RunTaskInput in;
      in.region = svc->region;
      in.cluster = svc->cluster;
      in.task_definition_arn = td->arn;
      in.started_by = svc->primary.id;
      in.group = "service:" + svc->name;
      in.extra.launch_type = svc->launch_type;
      in.extra.network_configuration = svc->network_configuration;
      auto t = start_one(in, *td, svc);
      if (t) started.push_back(t->id);
      svc = find_service(key);
    }
  }
  if (!svc) return;
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
  if (!actions.empty()) {
    svc->steady = false;
    changed = true;
  }
  const auto now_tasks = service_tasks(*svc);
  // Old deployments are gone once none of their tasks is active.
  if (!svc->old_deployments.empty()) {
    const bool old_active = std::any_of(now_tasks.begin(), now_tasks.end(), [&](const Task* t) {
      return is_active(*t) && t->started_by != svc->primary.id;
    });
    if (!old_active) {
      svc->old_deployments.clear();
      changed = true;
    }
  }
  if (svc->status == "DRAINING") {
    const bool draining = std::any_of(now_tasks.begin(), now_tasks.end(), [](const Task* t) {
      return t->last_status != TaskStatus::Stopped && t->last_status < TaskStatus::Stopping;
    });
    if (!draining) {
      svc->status = "INACTIVE";
      changed = true;
    }
  } else if (actions.empty() && !svc->steady) {
    int running = 0, other = 0;
    for (const Task* t : now_tasks) {
      if (!is_active(*t)) continue;
      (t->last_status == TaskStatus::Running ? running : other)++;
    }
    if (running == svc->desired_count && other == 0 && svc->old_deployments.empty()) {
      svc->steady = true;
      add_event(*svc, label + " has reached a steady state.");
      changed = true;
    }
  }
  if (changed) (void)persist({row(*svc)});
}

// -------------------------------------------------------------------------------------- tags

bool EcsEngine::resource_exists(const std::string& a) const {
  for (const auto& [k, c] : clusters_) {
    if (c.arn == a && c.status == "ACTIVE") return true;
  }
  if (task_definitions_.count(a)) return true;
  for (const auto& [k, s] : services_) {
    if (s.arn == a && s.status != "INACTIVE") return true;
  }
  for (const Task* t : registry_.tasks()) {
    if (t->launch == Launch::Simulated && t->arn == a) return true;
  }
  return false;
}

Result<void> EcsEngine::tag_resource(const std::string& a, const Tags& tags) {
  if (!resource_exists(a))
    return ecs_error("ResourceNotFoundException", "The specified resource wasn't found.");
  auto before = tags_[a];
  for (const auto& [k, v] : tags) tags_[a][k] = v;
  if (auto r = persist({tags_row(a)}); !r) {
    tags_[a] = std::move(before);
    return r.error();
  }
  return {};
}

Result<void> EcsEngine::untag_resource(const std::string& a, const std::vector<std::string>& keys) {
  if (!resource_exists(a))
    return ecs_error("ResourceNotFoundException", "The specified resource wasn't found.");
  auto before = tags_[a];
  for (const auto& k : keys) tags_[a].erase(k);
  if (auto r = persist({tags_row(a)}); !r) {
    tags_[a] = std::move(before);
    return r.error();
  }
  return {};
}

Tags EcsEngine::tags_of(const std::string& a) const {
  const auto it = tags_.find(a);
  return it == tags_.end() ? Tags{} : it->second;
}

}  // namespace emu::core::ecs
