#include "emulator/core/ecs/ecs_engine.hpp"

#include <algorithm>
#include <cmath>

#include "emulator/core/ecs/container_spec.hpp"
#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"

namespace emu::core::ecs {

using nlohmann::json;

namespace {

constexpr const char* kEssentialExited = "EssentialContainerExited";
constexpr const char* kEssentialExitedReason = "Essential container in task exited";
constexpr const char* kNotFoundAfterRestart = "container not found after restart";

/// A container the runtime created and that has not exited (yet).
bool live(const TaskContainer& c) { return !c.docker_id.empty() && c.last_status != "STOPPED"; }

/// Docker's health status (`docker inspect` State.Health.Status) as ours.
std::optional<Health> docker_health(const std::string& status) {
  if (status == "healthy") return Health::Healthy;
  if (status == "unhealthy") return Health::Unhealthy;
  if (status == "starting") return Health::Unknown;
  return std::nullopt;  // no healthcheck
}

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
  instance_id_ = new_uuid();
  instance_id_.erase(std::remove(instance_id_.begin(), instance_id_.end(), '-'),
                     instance_id_.end());
  instance_id_.resize(16);  // replaced by the stored one in load()
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
  auto contents = store_.load();
  if (!contents) return contents.error();
  clear();
  for (const auto& row : contents->entities) {
    if (row.kind == kMetaKind && row.id == kInstanceRow) {
      const json j = json::parse(row.body, nullptr, false);
      if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
        return Error{Code::Internal, "state row ecs-meta/instance: expected {\"id\": ...}"};
      instance_id_ = j["id"].get<std::string>();
      instance_saved_ = true;
      continue;
    }
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
  if (auto r = ensure_instance_id(); !r) return r;
  // Simulated tasks resume their lifecycle; stopped ones are already accounted for. Docker tasks
  // wait for adopt(): only the containers can tell where they are.
  for (const Task* t : registry_.tasks()) {
    if (!is_ecs_task(*t)) continue;
    if (t->last_status == TaskStatus::Stopped) {
      known_stopped_.insert(t->id);
    } else if (t->launch == Launch::Simulated && (t->last_status != TaskStatus::Running ||
                                                  t->desired_status == TaskStatus::Stopped)) {
      schedule_step(t->id);
    } else if (t->launch == Launch::Docker && t->last_status == TaskStatus::Deprovisioning) {
      schedule_step(t->id);  // its containers are gone already: nothing to wait for
    }
  }
  for (const auto& [key, s] : services_) mark_dirty(key);
  return {};
}

void EcsEngine::clear() {
  ++generation_;
  for (const auto& [id, timer] : steps_) timers_.cancel(timer);
  for (const auto& [id, timer] : launches_) timers_.cancel(timer);
  if (reconcile_timer_) timers_.cancel(*reconcile_timer_);
  reconcile_timer_.reset();
  clusters_.clear();
  task_definitions_.clear();
  last_revision_.clear();
  services_.clear();
  extras_.clear();
  tags_.clear();
  steps_.clear();
  launches_.clear();
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

StoreChange EcsEngine::instance_row() const {
  return {StoreChange::Op::Upsert, kMetaKind, kInstanceRow, json{{"id", instance_id_}}.dump()};
}

Result<void> EcsEngine::ensure_instance_id() {
  if (instance_saved_) return {};
  auto r = persist({instance_row()});
  instance_saved_ = r.ok();
  return r;
}

void EcsEngine::on_commit(const CommitInfo& info) {
  if (info.reset) {
    // The containers of Docker tasks go with the state they belonged to.
    std::vector<std::string> containers;
    for (const auto& [id, extra] : extras_) {
      for (const auto& c : extra.containers) {
        if (!c.docker_id.empty()) containers.push_back(c.docker_id);
      }
    }
    clear();  // the store's EraseAll already dropped our rows
    // The instance keeps its identity (and so its claim on containers) across a reset.
    instance_saved_ = false;
    (void)ensure_instance_id();  // retried before the next launch if the store fails now
    remove_later(std::move(containers));
    return;
  }
  for (const auto& key : info.tasks) {
    const Task* t = registry_.task(key);
    if (!t) {
      if (const auto it = extras_.find(key); it != extras_.end()) {
        // A purged Docker task: its (exited) containers are removed with it.
        std::vector<std::string> containers;
        for (const auto& c : it->second.containers) {
          if (!c.docker_id.empty()) containers.push_back(c.docker_id);
        }
        extras_.erase(it);
        (void)persist({{StoreChange::Op::Erase, "ecs-task", key, {}}});
        remove_later(std::move(containers));
      }
      known_stopped_.erase(key);
      continue;
    }
    if (is_ecs_task(*t) && !t->ecs_service.empty()) {
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
    // Docker tasks get their address from Docker, not from the pool.
    if (t->launch == Launch::Simulated && t->last_status != TaskStatus::Stopped &&
        !t->ipv4.empty()) {
      used.insert(t->ipv4);
    }
  }
  return used;
}

Result<Task> EcsEngine::start_one(const RunTaskInput& input, const TaskDefinition& td,
                                  const EcsService* service) {
  const bool docker = runtime_ != nullptr;
  // A Docker task's address comes from Docker once its containers run.
  const auto ip = docker ? std::optional<std::string>("") : pool_.allocate(used_ips());
  if (!ip && !service)
    return invalid_parameter("ResourceInitializationError: no free private IP address in " +
                             config_.task_cidr);
  const auto now = time_.wall_now();
  Task t;
  t.id = registry_.new_task_id();
  t.arn = task_arn(input.region, input.cluster, t.id);
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
  tags_[t.arn] = input.tags;  // a new ARN: nothing to restore on failure
  auto put = registry_.put_task(change->task, change->kind, change->message,
                                {extra_row(t.id), tags_row(t.arn)});
  if (!put) {
    extras_.erase(t.id);
    tags_.erase(t.arn);
    return put.error();
  }
  if (docker) {
    schedule_launch(t.id);
  } else if (ip) {
    schedule_step(t.id);
  }
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

Result<Task> EcsEngine::move(Task task, TaskEvent event, const StopCause& cause,
                             const std::string& note, std::vector<StoreChange> also) {
  auto change = transition(task, event, time_.wall_now(), cause, note);
  if (!change) return change.error();
  return registry_.put_task(std::move(change->task), change->kind, std::move(change->message),
                            std::move(also));
}

StoreChange EcsEngine::extra_row(const std::string& task_id) const {
  const auto it = extras_.find(task_id);
  if (it == extras_.end()) return {StoreChange::Op::Erase, "ecs-task", task_id, {}};
  return {StoreChange::Op::Upsert, "ecs-task", task_id, stored::to_json(it->second).dump()};
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
    cause = {kTaskFailedToStart,
             "ResourceInitializationError: unable to register the task in AWS Cloud Map: the "
             "service registry no longer exists"};
  }
  auto put = move(t, *event, cause);
  if (!put) return;  // the store failed; the task keeps its state and the next change retries
  if (put->last_status == TaskStatus::Running) note_running(*put);
  if (put->last_status != TaskStatus::Running && put->last_status != TaskStatus::Stopped)
    schedule_step(put->id);
}

void EcsEngine::note_running(const Task& t) {
  if (t.ecs_service.empty()) return;
  // ECS: a task started after the last failure that reaches RUNNING ends the throttle.
  EcsService* s = find_service(service_key(t.region, t.cluster, t.ecs_service));
  if (s && s->start_failures && (!s->last_start_failure || t.created_at > *s->last_start_failure)) {
    s->start_failures = 0;
    s->throttled_until.reset();
    (void)persist({row(*s)});
  }
}

Result<Task> EcsEngine::begin_stop(const Task& task, std::string code, std::string reason) {
  if (task.desired_status == TaskStatus::Stopped || task.last_status == TaskStatus::Stopped)
    return task;
  const StopCause cause{std::move(code), std::move(reason)};
  const Task& t = task;
  if (t.launch == Launch::Docker) {
    const auto it = extras_.find(t.id);
    const bool created = it != extras_.end() &&
                         std::any_of(it->second.containers.begin(), it->second.containers.end(),
                                     [](const TaskContainer& c) { return !c.docker_id.empty(); });
    if (!created) {
      // Nothing runs yet: STOPPED at once. A launch already under way has its containers stopped
      // when it reports them (on_containers_created).
      if (const auto l = launches_.find(t.id); l != launches_.end()) {
        timers_.cancel(l->second);
        launches_.erase(l);
      }
      return move(t, TaskEvent::Terminated, cause);
    }
  }
  auto put = move(t, TaskEvent::StopRequested, cause);
  if (!put) return put.error();
  if (t.launch == Launch::Docker) {
    // Docker: DEPROVISIONING once the containers have exited (on_container_exited), then STOPPED.
    schedule_container_stop(t.id);
  } else {
    schedule_step(t.id);
  }
  return *put;
}

Result<Task> EcsEngine::stop_task(const std::string& region, const std::string& cluster_name,
                                  const std::string& task_id, const std::string& reason) {
  const Cluster* c = cluster(region, cluster_name);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  const Task* t = registry_.task(task_id);
  if (!t || !is_ecs_task(*t) || t->region != region || t->cluster != cluster_name) {
    return invalid_parameter("The referenced task was not found.");
  }
  return begin_stop(*t, "UserInitiated", reason.empty() ? "Task stopped by user" : reason);
}

Result<Task> EcsEngine::stop_task(const std::string& task_id, const std::string& reason) {
  const Task* t = registry_.task(task_id);
  if (!t || !is_ecs_task(*t)) return not_found("task " + task_id + " not found");
  return begin_stop(*t, "UserInitiated", reason.empty() ? "Task stopped by user" : reason);
}

std::vector<const Task*> EcsEngine::tasks(const std::string& region,
                                          const std::string& cluster_name) const {
  std::vector<const Task*> out;
  for (const Task* t : registry_.tasks()) {
    if (is_ecs_task(*t) && t->region == region && t->cluster == cluster_name) out.push_back(t);
  }
  return out;
}

const TaskExtra* EcsEngine::task_extra(const std::string& task_id) const {
  const auto it = extras_.find(task_id);
  return it == extras_.end() ? nullptr : &it->second;
}

// ------------------------------------------------------------------------------ docker tasks

TaskContainer* EcsEngine::container_of(const std::string& task_id, const std::string& name) {
  const auto it = extras_.find(task_id);
  if (it == extras_.end()) return nullptr;
  for (auto& c : it->second.containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void EcsEngine::save_extra(const std::string& task_id) {
  if (!extras_.count(task_id)) return;
  // A failed write loses only container details; the next report writes them again.
  (void)persist({extra_row(task_id)});
}

int EcsEngine::stop_timeout_of(const Task& task) const {
  // One timeout per stop call: the longest of the containers' (each create body carries its own
  // StopTimeout as well).
  const TaskDefinition* td = task_definition_by_arn(task.task_definition_arn);
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

void EcsEngine::remove_later(std::vector<std::string> container_ids) {
  if (!runtime_ || container_ids.empty()) return;
  const auto gen = generation_;
  timers_.schedule(time_.now(), [this, ids = std::move(container_ids), gen] {
    if (gen == generation_ && runtime_) runtime_->remove(ids);
  });
}

void EcsEngine::schedule_launch(const std::string& task_id) {
  if (const auto it = launches_.find(task_id); it != launches_.end()) timers_.cancel(it->second);
  const auto gen = generation_;
  // Deferred: the runtime may report back at once, and must not re-enter the Registry from
  // inside the command that created the task.
  launches_[task_id] = timers_.schedule(time_.now(), [this, task_id, gen] {
    if (gen != generation_) return;
    launches_.erase(task_id);
    launch(task_id);
  });
}

void EcsEngine::launch(const std::string& task_id) {
  const Task* t = registry_.task(task_id);
  if (!runtime_ || !t || t->launch != Launch::Docker || t->desired_status == TaskStatus::Stopped ||
      t->last_status == TaskStatus::Stopped) {
    return;
  }
  const TaskDefinition* td = task_definition_by_arn(t->task_definition_arn);
  if (!td) {
    fail_start(task_id, "ClientException: Unable to describe task definition.");
    return;
  }
  const TaskExtra* extra = task_extra(task_id);
  (void)ensure_instance_id();  // engines that never ran load() (tests) claim theirs now
  auto plan = plan_for(*td, *t, config_, extra ? extra->overrides : json::object());
  for (auto& c : plan.containers) c.body["Labels"][kLabelInstance] = instance_id_;
  runtime_->launch(plan);
}

void EcsEngine::schedule_container_stop(const std::string& task_id) {
  const auto gen = generation_;
  timers_.schedule(time_.now(), [this, task_id, gen] {
    if (gen == generation_) stop_containers(task_id);
  });
}

void EcsEngine::stop_containers(const std::string& task_id) {
  const Task* t = registry_.task(task_id);
  const auto it = extras_.find(task_id);
  if (!t || t->launch != Launch::Docker || it == extras_.end()) return;
  std::vector<std::string> ids;
  for (const auto& c : it->second.containers) {
    if (live(c)) ids.push_back(c.docker_id);
  }
  if (ids.empty()) {
    if (t->desired_status == TaskStatus::Stopped) finish_stop(task_id);  // nothing left to wait for
    return;
  }
  const int timeout = stop_timeout_of(*t);
  if (t->last_status == TaskStatus::Deactivating) {
    // Out of Cloud Map; now the containers get SIGTERM (SIGKILL after the stop timeout).
    (void)move(*t, TaskEvent::Deactivated);
  }
  // Last: the runtime may report the exits from inside stop().
  if (runtime_) runtime_->stop(task_id, ids, timeout);
}

void EcsEngine::finish_stop(const std::string& task_id) {
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

void EcsEngine::fail_start(const std::string& task_id, const std::string& reason) {
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
  // Counts for the ECS throttle (reconcile_service): stopped before RUNNING with this code
  // (a task already stopping keeps its own).
  auto put = move(*cur, TaskEvent::Terminated, {kTaskFailedToStart, reason}, {}, std::move(also));
  if (!put) return;
  // Containers created before the failure must not stay.
  const auto it = extras_.find(task_id);
  if (it != extras_.end() &&
      std::any_of(it->second.containers.begin(), it->second.containers.end(), live)) {
    schedule_container_stop(task_id);
  }
}

void EcsEngine::on_containers_created(const std::string& task_id,
                                      const std::vector<std::pair<std::string, std::string>>& ids) {
  const Task* cur = registry_.task(task_id);
  const auto it = extras_.find(task_id);
  if (!cur || cur->launch != Launch::Docker || it == extras_.end()) return;
  for (const auto& [name, docker_id] : ids) {
    TaskContainer* c = container_of(task_id, name);
    if (!c) {
      it->second.containers.push_back(TaskContainer{});
      c = &it->second.containers.back();
      c->name = name;
    }
    c->docker_id = docker_id;
    if (c->last_status == "STOPPED") c->last_status = "PENDING";  // a relaunch after a restart
    c->exit_code.reset();
  }
  Task t = *cur;
  std::string first;
  for (const auto& c : it->second.containers) {
    if (!c.docker_id.empty()) {
      first = c.docker_id;
      break;
    }
  }
  const bool new_id = t.container_id != first;
  t.container_id = first;
  std::optional<TaskEvent> event;
  if (t.desired_status == TaskStatus::Stopped) {
    // Stopped while the launch was under way: these containers must not stay.
    schedule_container_stop(task_id);
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

void EcsEngine::on_task_started(const std::string& task_id, const std::string& ipv4,
                                const std::string& ipv6) {
  const Task* cur = registry_.task(task_id);
  const auto it = extras_.find(task_id);
  if (!cur || cur->launch != Launch::Docker || it == extras_.end()) return;
  for (auto& c : it->second.containers) {
    if (live(c)) c.last_status = "RUNNING";
  }
  if (cur->desired_status == TaskStatus::Stopped || cur->last_status == TaskStatus::Stopped) {
    // ECS: a task asked to stop while it started does not start; its containers stop.
    save_extra(task_id);
    schedule_container_stop(task_id);
    return;
  }
  if (cur->last_status > TaskStatus::Pending) {  // a repeated report
    save_extra(task_id);
    return;
  }
  start_docker_task(task_id, ipv4, ipv6, {extra_row(task_id)});
}

void EcsEngine::start_docker_task(const std::string& task_id, const std::string& ipv4,
                                  const std::string& ipv6, std::vector<StoreChange> also) {
  const Task* cur = registry_.task(task_id);
  if (!cur) return;
  Task t = *cur;
  t.ipv4 = ipv4;
  t.ipv6 = ipv6;
  if (!ipv4.empty()) t.attributes["AWS_INSTANCE_IPV4"] = ipv4;
  if (!ipv6.empty()) t.attributes["AWS_INSTANCE_IPV6"] = ipv6;
  // ECS: service discovery resources are created in ACTIVATING; without them it fails.
  const bool registry_gone = !t.service_id.empty() && !registry_.service_by_id(t.service_id);
  if (registry_gone) t.service_id.clear();
  auto put = move(t, TaskEvent::Activate, {}, {}, std::move(also));
  if (!put) return;
  if (registry_gone) {
    fail_start(task_id,
               "ResourceInitializationError: unable to register the task in AWS Cloud Map: the "
               "service registry no longer exists");
    return;
  }
  put = move(*put, TaskEvent::Started);
  if (!put) return;
  note_running(*put);
  // Health Docker reported before RUNNING counts now.
  apply_container_health(task_id, "");
}

void EcsEngine::on_launch_failed(const std::string& task_id, const std::string& reason) {
  const Task* cur = registry_.task(task_id);
  if (!cur || cur->launch != Launch::Docker) return;
  fail_start(task_id, reason);
}

void EcsEngine::on_container_health(const std::string& task_id, const std::string& container_name,
                                    Health health, const std::string& reason) {
  const Task* cur = registry_.task(task_id);
  TaskContainer* c = container_of(task_id, container_name);
  if (!cur || cur->launch != Launch::Docker || !c) return;
  if (c->health == health) return;
  c->health = health;
  save_extra(task_id);
  apply_container_health(
      task_id, reason.empty() ? "container " + container_name + ": " + to_string(health) : reason);
}

void EcsEngine::apply_container_health(const std::string& task_id, const std::string& reason) {
  const Task* cur = registry_.task(task_id);
  const auto it = extras_.find(task_id);
  if (!cur || it == extras_.end() || cur->desired_status == TaskStatus::Stopped ||
      cur->last_status == TaskStatus::Stopped) {
    return;
  }
  // SPEC 5: over the essential containers with a health check, UNHEALTHY > UNKNOWN > HEALTHY.
  bool any = false;
  Health task_health = Health::Healthy;
  for (const auto& c : it->second.containers) {
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
  // replaced by the scheduler (reconcile_service, after on_commit marks its service dirty).
  const std::string why = reason.empty() ? std::string("Docker health check") : reason;
  (void)registry_.set_health(task_id, task_health, why);
}

void EcsEngine::on_container_exited(const std::string& task_id, const std::string& container_name,
                                    int exit_code, const std::string& reason) {
  const Task* cur = registry_.task(task_id);
  TaskContainer* c = container_of(task_id, container_name);
  if (!cur || cur->launch != Launch::Docker || !c) return;
  c->exit_code = exit_code;
  c->last_status = "STOPPED";
  if (!reason.empty()) c->reason = reason;
  const bool essential = c->essential;
  save_extra(task_id);
  if (cur->last_status == TaskStatus::Stopped) return;  // already accounted for
  if (cur->desired_status != TaskStatus::Stopped) {
    // ECS: an essential container that exits stops the task; a non-essential one does not.
    if (essential) (void)begin_stop(*cur, kEssentialExited, kEssentialExitedReason);
    return;
  }
  const auto& containers = extras_[task_id].containers;
  if (std::none_of(containers.begin(), containers.end(), live)) finish_stop(task_id);
}

std::vector<std::string> EcsEngine::adopt(const std::vector<ObservedContainer>& containers) {
  std::vector<std::string> orphans;
  std::map<std::string, std::vector<const ObservedContainer*>> seen;
  for (const auto& oc : containers) {
    const auto label = oc.labels.find(kLabelTaskId);
    if (label == oc.labels.end()) continue;
    // Another emulator's container (same Docker engine, other state): not ours to judge.
    const auto owner = oc.labels.find(kLabelInstance);
    if (owner == oc.labels.end() || owner->second != instance_id_) continue;
    const Task* t = registry_.task(label->second);
    const auto name = oc.labels.find(kLabelContainerName);
    const bool known = t && t->launch == Launch::Docker && t->last_status != TaskStatus::Stopped &&
                       extras_.count(t->id) && name != oc.labels.end() &&
                       container_of(t->id, name->second);
    if (!known) {
      orphans.push_back(oc.id);
      continue;
    }
    seen[t->id].push_back(&oc);
  }
  std::vector<std::string> live_tasks;
  for (const Task* t : registry_.tasks()) {
    if (t->launch == Launch::Docker && t->last_status != TaskStatus::Stopped &&
        extras_.count(t->id))
      live_tasks.push_back(t->id);
  }
  for (const auto& id : live_tasks) adopt_task(id, seen[id]);
  return orphans;
}

void EcsEngine::adopt_task(const std::string& task_id,
                           const std::vector<const ObservedContainer*>& seen) {
  auto& extra = extras_[task_id];
  std::set<std::string> found;
  std::string ipv4, ipv6;
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
    if (ipv4.empty() && ipv6.empty()) {
      auto pick = [&](const std::map<std::string, std::string>& nets) {
        const auto net = nets.find(config_.docker_network);
        if (net != nets.end() && !net->second.empty()) return net->second;
        for (const auto& [n, ip] : nets) {
          if (!ip.empty()) return ip;
        }
        return std::string();
      };
      ipv4 = pick(oc->networks);
      ipv6 = pick(oc->networks6);
    }
  }
  bool created = false, all_running = true, essentials_running = true;
  const TaskContainer* exited_essential = nullptr;
  for (auto& c : extra.containers) {
    if (!found.count(c.name) && !c.docker_id.empty() && c.last_status != "STOPPED") {
      c.last_status = "STOPPED";  // gone while the emulator was away
      c.reason = kNotFoundAfterRestart;
    }
    created = created || found.count(c.name);
    const bool running = found.count(c.name) && c.last_status == "RUNNING";
    all_running = all_running && running;
    if (c.essential && !running) {
      essentials_running = false;
      if (!exited_essential && c.exit_code) exited_essential = &c;
    }
  }
  save_extra(task_id);
  const Task* cur = registry_.task(task_id);
  if (!cur) return;
  if (cur->desired_status == TaskStatus::Stopped) {
    // It was stopping: finish (stop_containers finishes at once when nothing is left).
    schedule_container_stop(task_id);
    return;
  }
  if (cur->last_status <= TaskStatus::Pending) {
    if (!created) {
      // Choice: a task whose launch never got as far as a container is launched again (nothing
      // of it exists, so nothing can start twice).
      for (auto& c : extra.containers) {
        c.docker_id.clear();
        c.last_status = "PENDING";
        c.exit_code.reset();
        c.reason.clear();
      }
      save_extra(task_id);
      schedule_launch(task_id);
    } else if (all_running) {
      start_docker_task(task_id, ipv4, ipv6);  // it had started; only the report was lost
    } else {
      fail_start(task_id,
                 "ResourceInitializationError: the emulator restarted while the task was starting");
    }
    return;
  }
  if (!essentials_running) {
    (void)begin_stop(*cur, kEssentialExited,
                     exited_essential ? kEssentialExitedReason : kNotFoundAfterRestart);
    return;
  }
  // Running as it was: refresh what Docker may have changed (ids, address), start nothing.
  Task t = *cur;
  bool changed = false;
  std::string first;
  for (const auto& c : extra.containers) {
    if (!c.docker_id.empty()) {
      first = c.docker_id;
      break;
    }
  }
  if (t.container_id != first) {
    t.container_id = first;
    changed = true;
  }
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
  apply_container_health(task_id, "Docker health check (after a restart)");
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
    if (is_ecs_task(*t) && t->region == s.region && t->cluster == s.cluster &&
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
      if (auto r = begin_stop(*t, a.stop_code, a.reason); r && counted) stopped.push_back(id);
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
  if (plan.changed) (void)persist({row(*svc)});
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
    if (is_ecs_task(*t) && t->arn == a) return true;
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
