#include "emulator/core/ecs/ecs_catalog.hpp"

#include <algorithm>

#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"

namespace emu::core::ecs {

using nlohmann::json;

namespace {

std::string region_key(const std::string& region, const std::string& name) {
  return region + "/" + name;
}

}  // namespace

EcsCatalog::EcsCatalog(const TimeSource& time, Store& store, const EcsConfig& config,
                       std::uint64_t seed)
    : time_(time), store_(store), config_(config), rng_(seed) {}

// --------------------------------------------------------------------------------- ids, arns

std::string EcsCatalog::arn(const std::string& region, const std::string& resource) const {
  return "arn:aws:ecs:" + region + ":" + config_.account_id + ":" + resource;
}
std::string EcsCatalog::cluster_arn(const std::string& region, const std::string& name) const {
  return arn(region, "cluster/" + name);
}
std::string EcsCatalog::task_arn(const std::string& region, const std::string& cluster,
                                 const std::string& id) const {
  return arn(region, "task/" + cluster + "/" + id);
}
std::string EcsCatalog::service_arn(const std::string& region, const std::string& cluster,
                                    const std::string& name) const {
  return arn(region, "service/" + cluster + "/" + name);
}

std::string EcsCatalog::new_uuid() {
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

std::string EcsCatalog::new_deployment_id() {
  std::string digits(19, '0');
  digits[0] = static_cast<char>('1' + rng_() % 9);
  for (std::size_t i = 1; i < digits.size(); ++i) digits[i] = static_cast<char>('0' + rng_() % 10);
  return "ecs-svc/" + digits;
}

// ---------------------------------------------------------------------------------- clusters

Result<Cluster> EcsCatalog::create_cluster(Cluster c, Tags tags) {
  const auto key = region_key(c.region, c.name);
  if (const auto it = clusters_.find(key); it != clusters_.end() && it->second.status == "ACTIVE") {
    return it->second;  // ECS: CreateCluster of an existing ACTIVE cluster returns it
  }
  c.arn = cluster_arn(c.region, c.name);
  c.status = "ACTIVE";
  c.created_at = time_.wall_now();
  auto previous_tags = replace_tags(c.arn, std::move(tags));
  if (auto r = stored::commit(store_, {stored::row(c), tags_row(c.arn)}); !r) {
    replace_tags(c.arn, std::move(previous_tags));
    return r.error();
  }
  clusters_[key] = c;
  return c;
}

Result<Cluster> EcsCatalog::update_cluster(const Cluster& updated) {
  const auto it = clusters_.find(region_key(updated.region, updated.name));
  if (it == clusters_.end() || it->second.status != "ACTIVE") {
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  }
  Cluster c = it->second;
  c.settings = updated.settings;
  c.configuration = updated.configuration;
  c.service_connect_defaults = updated.service_connect_defaults;
  if (auto r = stored::commit(store_, {stored::row(c)}); !r) return r.error();
  it->second = c;
  return c;
}

Result<Cluster> EcsCatalog::deactivate_cluster(const std::string& region, const std::string& name) {
  const auto it = clusters_.find(region_key(region, name));
  if (it == clusters_.end() || it->second.status != "ACTIVE") {
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  }
  Cluster c = it->second;
  c.status = "INACTIVE";
  if (auto r = stored::commit(store_, {stored::row(c)}); !r) return r.error();
  it->second = c;
  return c;
}

const Cluster* EcsCatalog::cluster(const std::string& region, const std::string& name) const {
  const auto it = clusters_.find(region_key(region, name));
  return it == clusters_.end() ? nullptr : &it->second;
}

Result<void> EcsCatalog::check_active(const std::string& region, const std::string& name) const {
  const Cluster* c = cluster(region, name);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  return {};
}

std::vector<const Cluster*> EcsCatalog::clusters(const std::string& region) const {
  std::vector<const Cluster*> out;
  for (const auto& [key, c] : clusters_) {
    if (c.region == region) out.push_back(&c);
  }
  return out;
}

// -------------------------------------------------------------------------- task definitions

Result<TaskDefinition> EcsCatalog::register_task_definition(TaskDefinition td, Tags tags) {
  int& last = last_revision_[region_key(td.region, td.family)];
  td.revision = last + 1;
  td.arn = arn(td.region, "task-definition/" + td.family + ":" + std::to_string(td.revision));
  td.status = "ACTIVE";
  td.registered_at = time_.wall_now();
  td.deregistered_at.reset();
  replace_tags(td.arn, std::move(tags));  // a new ARN: nothing to restore on failure
  if (auto r = stored::commit(store_, {stored::row(td), tags_row(td.arn)}); !r) {
    tags_.erase(td.arn);
    return r.error();
  }
  last = td.revision;
  task_definitions_[td.arn] = td;
  return td;
}

Result<TaskDefinition> EcsCatalog::deregister_task_definition(const std::string& region,
                                                              const std::string& family,
                                                              int revision) {
  const TaskDefinition* found = task_definition(region, family, revision);
  if (!found) return client_error("The specified task definition does not exist.");
  TaskDefinition td = *found;
  if (td.status == "ACTIVE") {
    td.status = "INACTIVE";
    td.deregistered_at = time_.wall_now();
    if (auto r = stored::commit(store_, {stored::row(td)}); !r) return r.error();
    task_definitions_[td.arn] = td;
  }
  return td;
}

const TaskDefinition* EcsCatalog::task_definition(const std::string& region,
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

const TaskDefinition* EcsCatalog::task_definition_by_arn(const std::string& a) const {
  const auto it = task_definitions_.find(a);
  return it == task_definitions_.end() ? nullptr : &it->second;
}

std::vector<const TaskDefinition*> EcsCatalog::task_definitions(const std::string& region) const {
  std::vector<const TaskDefinition*> out;
  for (const auto& [a, td] : task_definitions_) {
    if (td.region == region) out.push_back(&td);
  }
  std::sort(out.begin(), out.end(), [](const TaskDefinition* a, const TaskDefinition* b) {
    return a->family != b->family ? a->family < b->family : a->revision < b->revision;
  });
  return out;
}

// -------------------------------------------------------------------------------------- tags

bool EcsCatalog::has(const std::string& a) const {
  for (const auto& [k, c] : clusters_) {
    if (c.arn == a && c.status == "ACTIVE") return true;
  }
  return task_definitions_.count(a) > 0;
}

Tags EcsCatalog::tags_of(const std::string& a) const {
  const auto it = tags_.find(a);
  return it == tags_.end() ? Tags{} : it->second;
}

Tags EcsCatalog::replace_tags(const std::string& a, Tags tags) {
  auto& slot = tags_[a];
  Tags previous = std::move(slot);
  slot = std::move(tags);
  if (slot.empty()) tags_.erase(a);
  return previous;
}

StoreChange EcsCatalog::tags_row(const std::string& a) const {
  const auto it = tags_.find(a);
  if (it == tags_.end() || it->second.empty()) return {StoreChange::Op::Erase, "ecs-tags", a, {}};
  return {StoreChange::Op::Upsert, "ecs-tags", a, json(it->second).dump()};
}

Result<void> EcsCatalog::add_tags(const std::string& a, const Tags& tags) {
  Tags merged = tags_of(a);
  for (const auto& [k, v] : tags) merged[k] = v;
  auto before = replace_tags(a, std::move(merged));
  if (auto r = stored::commit(store_, {tags_row(a)}); !r) {
    replace_tags(a, std::move(before));
    return r.error();
  }
  return {};
}

Result<void> EcsCatalog::remove_tags(const std::string& a, const std::vector<std::string>& keys) {
  Tags kept = tags_of(a);
  for (const auto& k : keys) kept.erase(k);
  auto before = replace_tags(a, std::move(kept));
  if (auto r = stored::commit(store_, {tags_row(a)}); !r) {
    replace_tags(a, std::move(before));
    return r.error();
  }
  return {};
}

// ------------------------------------------------------------------------------------- state

Result<void> EcsCatalog::load_row(const StoredEntity& row, const json& j) {
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
  } else if (row.kind == "ecs-tags") {
    Tags tags;
    for (const auto& [k, v] : j.items()) {
      if (v.is_string()) tags[k] = v.get<std::string>();
    }
    tags_[row.id] = tags;
  }
  return {};
}

void EcsCatalog::clear() {
  clusters_.clear();
  task_definitions_.clear();
  last_revision_.clear();
  tags_.clear();
}

}  // namespace emu::core::ecs
