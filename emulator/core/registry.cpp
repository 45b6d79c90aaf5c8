#include "emulator/core/registry.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "emulator/core/model_json.hpp"
#include "emulator/core/native_codec.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace emu::core {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return std::string(s);
}

constexpr char kZoneIdChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

Error no_such_zone(std::string_view id) {
  return Error{
      Code::NotFound, "No hosted zone found with ID: " + std::string(id), {}, "NoSuchHostedZone"};
}

bool is_active(const Task& t) { return t.last_status != TaskStatus::Stopped; }

/// DNS-visible: registered and not withdrawn as unhealthy.
bool visible(const Task& t) { return t.registered() && t.dns_health != Health::Unhealthy; }

}  // namespace

std::optional<std::string> label_error(std::string_view label) {
  if (label.empty()) return "empty DNS label";
  if (label.size() > 63) return "DNS label longer than 63 characters";
  for (char c : label) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok)
      return std::string("invalid character '") + c + "' in DNS label (allowed: a-z 0-9 - _)";
  }
  if (label.front() == '-' || label.back() == '-') return "DNS label cannot start or end with '-'";
  return std::nullopt;
}

std::optional<std::string> namespace_name_error(std::string_view name) {
  const std::string n = lower(strip_dot(name));
  if (n.empty()) return "namespace name is empty";
  if (n.size() > 253) return "namespace name longer than 253 characters";
  std::size_t start = 0;
  while (true) {
    const auto dot = n.find('.', start);
    const auto label =
        std::string_view(n).substr(start, dot == std::string::npos ? n.npos : dot - start);
    if (auto e = label_error(label)) return *e;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

Result<DnsName> parse_dns_name(std::string_view name, std::string_view default_ns,
                               std::string_view field) {
  const std::string n = lower(strip_dot(name));
  if (n.empty()) return invalid_field(std::string(field), "empty");
  const auto dot = n.find('.');
  DnsName out;
  out.service = n.substr(0, dot);
  out.ns = dot == std::string::npos ? std::string(default_ns) : n.substr(dot + 1);
  if (auto e = label_error(out.service)) return invalid_field(std::string(field), *e);
  if (auto e = namespace_name_error(out.ns)) return invalid_field(std::string(field), *e);
  if (out.full().size() > 253)
    return invalid_field(std::string(field), "longer than 253 characters");
  return out;
}

// One command's changes, built before the commit.
struct Registry::Pending {
  std::vector<Namespace> namespaces;
  std::vector<std::string> erased_namespaces;
  std::vector<Service> services;
  std::vector<std::string> erased_services;
  std::vector<Task> tasks;
  std::vector<std::string> erased_tasks;
  std::vector<std::string> health_changed;
  bool reset = false;
  std::vector<Event> events;
  std::vector<StoreChange> also;  ///< rows of other owners (ECS) committed with these
  CloudMapChanges cloudmap;
  /// Route 53: a zone's user record sets as they become (empty: none left), and the change.
  std::map<std::string, std::vector<UserRecordSet>> user_records;
  std::vector<Route53Change> route53_changes;
  std::vector<OwnZone> own_zones;  ///< created or changed
  std::vector<std::string> erased_own_zones;
  std::vector<std::string> caller_references;
  bool zones_changed() const {
    return reset || !user_records.empty() || !namespaces.empty() || !erased_namespaces.empty() ||
           !services.empty() || !erased_services.empty() || !own_zones.empty() ||
           !erased_own_zones.empty();
  }
};

Registry::Registry(const TimeSource& time, TimerQueue& timers, Store& store, RegistryConfig config,
                   std::uint64_t seed)
    : time_(time), timers_(timers), store_(store), config_(std::move(config)), rng_(seed) {
  publish_zones();
}

Result<void> Registry::load() {
  const auto contents = store_.load();
  if (!contents) return contents.error();
  return load(*contents);
}

Result<void> Registry::load(const StoreContents& contents) {
  namespaces_.clear();
  services_.clear();
  tasks_.clear();
  keys_by_id_.clear();
  keys_by_addr_.clear();
  keys_by_service_.clear();
  cloudmap_.clear();
  user_records_.clear();
  route53_changes_.clear();
  own_zones_.clear();
  caller_references_.clear();
  const auto task_rows = static_cast<std::size_t>(
      std::count_if(contents.entities.begin(), contents.entities.end(),
                    [](const StoredEntity& row) { return row.kind == "task"; }));
  keys_by_id_.reserve(task_rows);  // no rehashing while 10,000 tasks are indexed
  keys_by_addr_.reserve(task_rows);
  for (const auto& row : contents.entities) {
    if (auto ours = cloudmap_.load_row(row); !ours) {
      return ours.error();
    } else if (*ours) {
      continue;
    }
    const auto where = [&](const Error& e) {
      return Error{Code::Internal, "state row " + row.kind + "/" + row.id + ": " + e.message};
    };
    if (row.kind == "task") {
      // Most rows are tasks: read without a JSON tree (persist::task_from_body).
      auto t = persist::task_from_body(row.body);
      if (!t) return where(t.error());
      std::string key = task_key(*t);
      index_task(key, *t);
      tasks_.insert_or_assign(tasks_.end(), std::move(key), std::move(*t));  // rows in key order
      continue;
    }
    if (row.kind == kCallerReferenceKind) {
      caller_references_.insert(row.id);
      continue;
    }
    if (row.kind == kOwnZoneKind) {
      const auto parsed = native::parse_json(row.body);
      if (!parsed) return where(parsed.error());
      auto z = own_zone_from(*parsed);
      if (!z) return where(z.error());
      own_zones_[z->id] = std::move(*z);
      continue;
    }
    if (row.kind == kUserRecordsKind || row.kind == kChangeKind) {
      const auto parsed = native::parse_json(row.body);
      if (!parsed) return where(parsed.error());
      if (row.kind == kChangeKind) {
        auto c = change_from(*parsed);
        if (!c) return where(c.error());
        route53_changes_[c->id] = std::move(*c);
      } else {
        auto sets = record_sets_from(*parsed);
        if (!sets) return where(sets.error());
        user_records_[row.id] = std::move(*sets);
      }
      continue;
    }
    // Unknown kinds belong to other layers (ECS entities); they load them themselves.
    if (row.kind != "namespace" && row.kind != "service") continue;
    const auto parsed = native::parse_json(row.body);
    if (!parsed) return where(parsed.error());
    if (row.kind == "namespace") {
      auto n = persist::namespace_from(*parsed);
      if (!n) return n.error();
      namespaces_[n->id] = std::move(*n);
    } else {
      auto s = persist::service_from(*parsed);
      if (!s) return s.error();
      services_[s->id] = std::move(*s);
    }
  }
  events_.resume_after(contents.event_index);
  zones_full_ = true;
  cloudmap_.finish_load(contents.event_index);
  publish_zones();
  return {};
}

// --------------------------------------------------------------------------- commit machinery

Result<void> Registry::commit(Pending& p) {
  StoreBatch batch;
  if (p.reset) batch.changes.push_back({StoreChange::Op::EraseAll, "", "", ""});
  for (const auto& id : p.erased_namespaces)
    batch.changes.push_back({StoreChange::Op::Erase, "namespace", id, ""});
  for (const auto& id : p.erased_services)
    batch.changes.push_back({StoreChange::Op::Erase, "service", id, ""});
  for (const auto& key : p.erased_tasks)
    batch.changes.push_back({StoreChange::Op::Erase, "task", key, ""});
  for (const auto& n : p.namespaces)
    batch.changes.push_back(
        {StoreChange::Op::Upsert, "namespace", n.id, persist::to_json(n).dump()});
  for (const auto& s : p.services)
    batch.changes.push_back({StoreChange::Op::Upsert, "service", s.id, persist::to_json(s).dump()});
  for (const auto& t : p.tasks)
    batch.changes.push_back({StoreChange::Op::Upsert, "task", task_key(t), persist::task_body(t)});
  for (const auto& [zone, sets] : p.user_records) {
    if (sets.empty()) {
      batch.changes.push_back({StoreChange::Op::Erase, kUserRecordsKind, zone, ""});
    } else {
      batch.changes.push_back(
          {StoreChange::Op::Upsert, kUserRecordsKind, zone, record_sets_json(sets).dump()});
    }
  }
  for (const auto& c : p.route53_changes)
    batch.changes.push_back({StoreChange::Op::Upsert, kChangeKind, c.id, change_json(c).dump()});
  for (const auto& id : p.erased_own_zones)
    batch.changes.push_back({StoreChange::Op::Erase, kOwnZoneKind, id, ""});
  for (const auto& z : p.own_zones)
    batch.changes.push_back({StoreChange::Op::Upsert, kOwnZoneKind, z.id, own_zone_json(z).dump()});
  for (const auto& ref : p.caller_references)
    batch.changes.push_back({StoreChange::Op::Upsert, kCallerReferenceKind, ref, "{}"});
  for (auto& c : p.also) batch.changes.push_back(std::move(c));
  for (const auto& e : p.events) {
    if (e.as<StateReset>()) {
      p.cloudmap.reset = true;
      p.cloudmap.revisions.clear();
      p.cloudmap.revision_base = e.index;
    } else if (const auto service = e.revision_service()) {
      p.cloudmap.revisions[std::string(*service)] = e.index;
    }
  }
  cloudmap_.to_batch(p.cloudmap, batch);
  if (!p.events.empty()) batch.event_index = events_.last_index();
  if (txn_depth_ > 0) {
    // Inside a Transaction: the store gets everything at once when it finishes.
    for (auto& c : batch.changes) txn_batch_.changes.push_back(std::move(c));
    if (batch.event_index) txn_batch_.event_index = batch.event_index;
  } else if (!batch.empty()) {
    if (auto r = store_.commit(batch); !r) return r.error();
  }
  cloudmap_.apply(p.cloudmap);
  const bool dns_changed = changes_dns(p);
  apply(p);
  events_.append(p.events);
  if (dns_changed) {  // a probe result that changes nothing DNS sees costs no rebuild
    note_zone_changes(p);
    publish_zones();
  }
  CommitInfo info;
  info.events = p.events;
  info.reset = p.reset;
  for (const auto& t : p.tasks) info.tasks.insert(task_key(t));
  for (const auto& k : p.erased_tasks) info.tasks.insert(k);
  info.health_changed.insert(p.health_changed.begin(), p.health_changed.end());
  notify(std::move(info));
  return {};
}

void Registry::notify(CommitInfo info) {
  untold_.push_back(std::move(info));
  if (telling_) return;  // committed by an observer: told once the current commit has been
  telling_ = true;
  while (!untold_.empty()) {
    const CommitInfo next = std::move(untold_.front());
    untold_.pop_front();
    for (const auto& observer : observers_) observer(next);
  }
  telling_ = false;
}

bool Registry::changes_dns(const Pending& p) const {
  if (p.zones_changed()) return true;
  // What the ZoneModel takes from a task: registration, DNS health, addresses, port, id.
  const auto same_for_dns = [](const Task& a, const Task& b) {
    return a.registered() == b.registered() &&
           (a.dns_health == Health::Unhealthy) == (b.dns_health == Health::Unhealthy) &&
           a.ipv4 == b.ipv4 && a.ipv6 == b.ipv6 && a.port == b.port && a.id == b.id &&
           a.service_id == b.service_id;
  };
  for (const auto& key : p.erased_tasks) {
    if (const auto it = tasks_.find(key); it != tasks_.end() && it->second.registered())
      return true;
  }
  for (const auto& t : p.tasks) {
    const auto it = tasks_.find(task_key(t));
    if (it == tasks_.end() ? t.registered() : !same_for_dns(it->second, t)) return true;
  }
  return false;
}

void Registry::apply(const Pending& p) {
  if (p.reset) {
    namespaces_.clear();
    services_.clear();
    tasks_.clear();
    keys_by_id_.clear();
    keys_by_addr_.clear();
    keys_by_service_.clear();
    user_records_.clear();
    route53_changes_.clear();
    own_zones_.clear();
    caller_references_.clear();
  }
  for (const auto& id : p.erased_own_zones) own_zones_.erase(id);
  for (const auto& z : p.own_zones) own_zones_[z.id] = z;
  caller_references_.insert(p.caller_references.begin(), p.caller_references.end());
  for (const auto& [zone, sets] : p.user_records) {
    if (sets.empty()) {
      user_records_.erase(zone);
    } else {
      user_records_[zone] = sets;
    }
  }
  for (const auto& c : p.route53_changes) route53_changes_[c.id] = c;
  for (const auto& id : p.erased_namespaces) namespaces_.erase(id);
  for (const auto& id : p.erased_services) services_.erase(id);
  for (const auto& key : p.erased_tasks) {
    if (const auto it = tasks_.find(key); it != tasks_.end()) {
      unindex_task(key, it->second);
      tasks_.erase(it);
    }
  }
  for (const auto& n : p.namespaces) namespaces_[n.id] = n;
  for (const auto& s : p.services) services_[s.id] = s;
  for (const auto& t : p.tasks) {
    std::string key = task_key(t);
    auto [it, added] = tasks_.try_emplace(key);
    auto& slot = it->second;
    if (!added) unindex_task(key, slot);
    auto history = std::move(slot.last_results);  // the probe history is memory only
    slot = t;
    if (slot.last_results.empty()) slot.last_results = std::move(history);
    index_task(key, slot);
  }
}

namespace {
std::string addr_key(std::string_view service_id, std::string_view ip, std::uint16_t port) {
  std::string k(service_id);
  k += '|';
  k += ip;
  k += '|';
  k += std::to_string(port);
  return k;
}
}  // namespace

void Registry::index_task(const std::string& key, const Task& t) {
  keys_by_id_[t.id].insert(key);
  if (!t.service_id.empty()) keys_by_service_[t.service_id].insert(key);
  if (!t.registered()) return;
  if (!t.ipv4.empty()) keys_by_addr_[addr_key(t.service_id, t.ipv4, t.port)].insert(key);
  if (!t.ipv6.empty()) keys_by_addr_[addr_key(t.service_id, t.ipv6, t.port)].insert(key);
}

void Registry::unindex_task(const std::string& key, const Task& t) {
  const auto drop = [&](auto& index, const std::string& k) {
    if (const auto it = index.find(k); it != index.end()) {
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  };
  drop(keys_by_id_, t.id);
  if (!t.service_id.empty()) drop(keys_by_service_, t.service_id);
  if (!t.registered()) return;
  if (!t.ipv4.empty()) drop(keys_by_addr_, addr_key(t.service_id, t.ipv4, t.port));
  if (!t.ipv6.empty()) drop(keys_by_addr_, addr_key(t.service_id, t.ipv6, t.port));
}

const std::set<std::string>* Registry::tasks_at(std::string_view service_id, std::string_view ip,
                                                std::uint16_t port) const {
  if (ip.empty()) return nullptr;
  const auto it = keys_by_addr_.find(addr_key(service_id, ip, port));
  return it == keys_by_addr_.end() ? nullptr : &it->second;
}

Result<void> Registry::end_transaction() {
  if (--txn_depth_ > 0) return {};
  StoreBatch batch = std::move(txn_batch_);
  txn_batch_ = StoreBatch{};
  if (batch.empty()) return {};
  return store_.commit(batch);
}

void Registry::note_zone_changes(const Pending& p) {
  if (p.zones_changed()) {
    zones_full_ = true;  // zones or services changed: rare, rebuilt in full
    return;
  }
  for (const auto& t : p.tasks) zones_changed_.insert(task_key(t));
  for (const auto& k : p.erased_tasks) zones_changed_.insert(k);
}

namespace {
ZoneEndpoint zone_endpoint(const std::string& key, const Task& t) {
  ZoneEndpoint e;
  e.instance_id = lower(t.id);
  std::array<std::uint8_t, 4> v4{};
  std::array<std::uint8_t, 16> v6{};
  if (!t.ipv4.empty() && native::parse_ipv4(t.ipv4, &v4)) e.ipv4 = v4;
  if (!t.ipv6.empty() && native::parse_ipv6(t.ipv6, &v6)) e.ipv6 = v6;
  e.port = t.port;
  e.healthy = t.dns_health != Health::Unhealthy;
  e.key = key;
  return e;
}
}  // namespace

namespace {
// The user's record sets of a zone, ready for the wire.
std::vector<ZoneRecordSet> zone_record_sets(const std::vector<UserRecordSet>& sets) {
  std::vector<ZoneRecordSet> out;
  for (const auto& set : sets) {
    ZoneRecordSet rs;
    rs.name = set.name;
    rs.type = record_type_code(set.type);
    rs.ttl = set.ttl;
    if (set.weight) rs.weight = static_cast<std::uint32_t>(*set.weight);
    rs.multivalue = set.multivalue;
    for (const auto& v : set.values) {
      if (auto rdata = encode_rdata(set.type, v)) rs.rdata.push_back(std::move(*rdata));
    }
    out.push_back(std::move(rs));
  }
  return out;
}
}  // namespace

void Registry::publish_zones() {
  if (bulk_depth_ > 0) {
    zones_dirty_ = true;
    return;
  }
  zones_dirty_ = false;
  if (zones_full_) {
    zone_builder_.load(zone_model());
    zones_full_ = false;
  } else {
    // Only the changed tasks' names are rebuilt; the rest of the snapshot is shared.
    for (const auto& key : zones_changed_) {
      const auto it = tasks_.find(key);
      if (it == tasks_.end() || !it->second.registered()) {
        zone_builder_.erase_endpoint(key);
      } else {
        zone_builder_.set_endpoint(it->second.service_id, zone_endpoint(key, it->second));
      }
    }
  }
  zones_changed_.clear();
  zones_.publish(zone_builder_.snapshot());
}

ZoneModel Registry::zone_model() const {
  std::unordered_map<std::string_view, std::vector<std::pair<const std::string*, const Task*>>>
      by_service;
  for (const auto& [key, t] : tasks_) {
    if (t.registered()) by_service[t.service_id].emplace_back(&key, &t);
  }
  ZoneModel model;
  for (const auto& [id, ns] : namespaces_) {
    if (!ns.is_dns()) continue;
    ZoneNamespace zn;
    zn.name = ns.name;
    zn.negative_ttl = ns.negative_ttl;
    zn.record_sets = zone_record_sets(user_record_sets(ns.hosted_zone_id));
    for (const auto& [sid, s] : services_) {
      if (s.namespace_id != id) continue;
      ZoneService zs;
      zs.name = s.name;
      zs.records = s.records;
      zs.routing = s.routing;
      zs.ttl = s.ttl;
      zs.key = sid;
      if (const auto it = by_service.find(sid); it != by_service.end()) {
        for (const auto& [key, t] : it->second) zs.endpoints.push_back(zone_endpoint(*key, *t));
      }
      zn.services.push_back(std::move(zs));
    }
    model.namespaces.push_back(std::move(zn));
  }
  for (const auto& [id, z] : own_zones_) {
    ZoneNamespace zn;
    zn.name = z.name;
    zn.negative_ttl = kOwnZoneNegativeTtl;
    zn.record_sets = zone_record_sets(user_record_sets(id));
    model.namespaces.push_back(std::move(zn));
  }
  return model;
}

Event Registry::make_event(Pending& p, EventBody body) {
  Event e;
  e.index = events_.next_index();
  e.time = time_.wall_now();
  e.body = std::move(body);
  p.events.push_back(e);
  return e;
}

TaskChange Registry::describe_change(const Task* before, const Task& after) const {
  TaskChange c;
  c.task_id = after.id;
  c.service_id = after.service_id;
  if (const Service* s = service_by_id(after.service_id)) c.service = dns_name(*s);
  c.ipv4 = after.ipv4;
  c.ipv6 = after.ipv6;
  c.port = after.port;
  if (before) c.old_status = before->last_status;
  c.new_status = after.last_status;
  c.old_health = before ? before->health() : after.health();
  c.new_health = after.health();
  c.stop_code = after.stop_code;
  c.reason = after.stopped_reason;
  // Deregistering takes a task's records out of the zone, also those withdrawn as unhealthy
  // (which Route 53's fail-open could still answer).
  const bool deregistered = before && before->registered() && !after.registered();
  const auto old_records = before && (visible(*before) || deregistered)
                               ? records_of(*before)
                               : std::vector<std::string>{};
  const auto new_records = visible(after) ? records_of(after) : std::vector<std::string>{};
  for (const auto& r : new_records) {
    if (std::find(old_records.begin(), old_records.end(), r) == old_records.end())
      c.records_added.push_back(r);
  }
  for (const auto& r : old_records) {
    if (std::find(new_records.begin(), new_records.end(), r) == new_records.end())
      c.records_removed.push_back(r);
  }
  return c;
}

std::string Registry::arn(std::string_view service, std::string_view resource) const {
  return "arn:aws:" + std::string(service) + ":" + config_.region + ":" + config_.account_id + ":" +
         std::string(resource);
}

std::string Registry::new_task_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (auto& c : id) c = kHex[rng_() % 16];
  return id;
}

std::string Registry::new_cloudmap_id(std::string_view prefix) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(prefix);
  for (int i = 0; i < 16; ++i) id += kChars[rng_() % 36];
  return id;
}

std::string Registry::new_operation_id() {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  for (int i = 0; i < 32; ++i) id += kChars[rng_() % 36];
  id += '-';
  for (int i = 0; i < 8; ++i) id += kChars[rng_() % 36];
  return id;
}

void Registry::add_operation(Pending& p, const OperationRequest* op,
                             std::map<std::string, std::string> targets) {
  if (!op) return;
  CloudMapOperation o;
  o.id = op->id;
  o.region = op->region;
  o.type = op->type;
  o.created = time_.wall_now();
  o.targets = std::move(targets);
  o.seq = cloudmap_.next_seq();
  p.cloudmap.operations.push_back(std::move(o));
}

Result<void> Registry::record_operation(const OperationRequest& op,
                                        std::map<std::string, std::string> targets) {
  Pending p;
  add_operation(p, &op, std::move(targets));
  return commit(p);
}

std::string Registry::task_key(const Task& task) {
  if (task.launch == Launch::Instance) return task.service_id + "/" + task.id;
  return task.id;
}

std::vector<std::string> Registry::records_of(const Task& t) const {
  std::vector<std::string> out;
  const Service* s = service_by_id(t.service_id);
  if (!s) return out;
  if (s->records.a && !t.ipv4.empty()) out.push_back("A " + t.ipv4);
  if (s->records.aaaa && !t.ipv6.empty()) out.push_back("AAAA " + t.ipv6);
  if (s->records.srv)
    out.push_back("SRV 1 1 " + std::to_string(t.port) + " " + lower(t.id) + "." + dns_name(*s) +
                  ".");
  return out;
}

// --------------------------------------------------------------------------- namespaces

Result<Namespace> Registry::ensure_namespace(Pending& p, std::string_view name) {
  if (const Namespace* n = namespace_by_name(name)) return *n;
  for (const auto& n : p.namespaces) {
    if (n.name == name) return n;
  }
  if (auto e = namespace_name_error(name)) return invalid_field("namespace", *e);
  for (const auto& [id, z] : own_zones_) {
    if (z.name == lower(name))
      return conflict("a Route 53 hosted zone named " + z.name + " exists (" + z.id +
                      "); ecs-emulator serves one zone per name");
  }
  Namespace n;
  n.id = new_cloudmap_id("ns-");
  n.name = lower(name);
  n.region = config_.region;
  n.arn = arn("servicediscovery", "namespace/" + n.id);
  n.hosted_zone_id = route53_id('Z');
  n.created_at = time_.wall_now();
  p.namespaces.push_back(n);
  make_event(p, NamespaceCreated{n.name, n.id});
  return n;
}

Result<Namespace> Registry::put_namespace(const NamespaceSpec& spec, const OperationRequest* op) {
  const std::string name = lower(strip_dot(spec.name));
  if (auto e = namespace_name_error(name)) return invalid_field("name", *e);
  Pending p;
  const Namespace* existing = namespace_by_name(name);
  Namespace n;
  if (existing) {
    n = *existing;
  } else {
    auto created = ensure_namespace(p, name);
    if (!created) return created.error();
    n = *created;
    p.namespaces.clear();  // re-added below with the spec applied
    n.type = spec.type;
    n.creator_request_id = spec.creator_request_id;
    n.tags = spec.tags;
    n.vpc = spec.vpc;
    if (!spec.region.empty()) n.region = spec.region;
    // Cloud Map: a namespace's ARN names the region of the call that created it.
    n.arn =
        "arn:aws:servicediscovery:" + n.region + ":" + config_.account_id + ":namespace/" + n.id;
  }
  const Namespace before = n;
  if (spec.description) n.description = *spec.description;
  if (spec.negative_ttl) n.negative_ttl = *spec.negative_ttl;
  const bool same =
      existing && n.description == before.description && n.negative_ttl == before.negative_ttl;
  if (same && !op) return n;  // nothing changes: applying twice is a no-op
  add_operation(p, op, {{"NAMESPACE", n.id}});
  if (same) {
    if (auto r = commit(p); !r) return r.error();
    return n;
  }
  p.namespaces.push_back(n);
  if (existing) {
    make_event(p, NamespaceUpdated{n.name, n.id});
  }
  if (auto r = commit(p); !r) return r.error();
  return n;
}

Result<Namespace> Registry::delete_namespace(std::string_view name_or_id,
                                             const OperationRequest* op) {
  const Namespace* n = namespace_by_id(name_or_id);
  if (!n) n = namespace_by_name(lower(strip_dot(name_or_id)));
  if (!n) return not_found("namespace " + std::string(name_or_id) + " not found");
  for (const auto& [id, s] : services_) {
    if (s.namespace_id == n->id)
      return conflict("namespace " + n->name + " still has services (first: " + s.name + ")");
  }
  if (const auto u = user_records_.find(n->hosted_zone_id); u != user_records_.end()) {
    // Route 53 refuses to delete a hosted zone that holds records other than SOA and NS.
    return conflict("namespace " + n->name + "'s hosted zone " + n->hosted_zone_id + " still has " +
                    std::to_string(u->second.size()) +
                    " record sets created through Route 53 (first: " + u->second.front().name +
                    " " + u->second.front().type + ")");
  }
  Namespace copy = *n;
  Pending p;
  p.erased_namespaces.push_back(copy.id);
  make_event(p, NamespaceDeleted{copy.name, copy.id});
  add_operation(p, op, {{"NAMESPACE", copy.id}});
  if (auto r = commit(p); !r) return r.error();
  return copy;
}

const Namespace* Registry::namespace_by_name(std::string_view name) const {
  for (const auto& [id, n] : namespaces_) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const Namespace* Registry::namespace_by_id(std::string_view id) const {
  const auto it = namespaces_.find(id);
  return it == namespaces_.end() ? nullptr : &it->second;
}

std::vector<const Namespace*> Registry::namespaces() const {
  std::vector<const Namespace*> out;
  for (const auto& [id, n] : namespaces_) out.push_back(&n);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

// --------------------------------------------------------------------------- services

namespace {
Result<void> validate_service(const Service& s) {
  if (!s.records.a && !s.records.aaaa && !s.records.srv)
    return invalid_field("records", "at least one of A, AAAA, SRV");
  if (s.ttl > 2147483647u) return invalid_field("ttl", "must be 0..2147483647");
  return {};
}

void apply_spec(Service& s, const ServiceSpec& spec) {
  if (spec.ttl) s.ttl = *spec.ttl;
  if (spec.records) s.records = *spec.records;
  if (spec.routing) s.routing = *spec.routing;
  if (spec.health_check) s.health_check = *spec.health_check;
  if (spec.on_unhealthy) s.on_unhealthy = *spec.on_unhealthy;
  if (spec.description) s.description = *spec.description;
  if (spec.custom_health) s.custom_health = *spec.custom_health;
  if (spec.failure_threshold) s.failure_threshold = *spec.failure_threshold;
}

bool same_service(const Service& a, const Service& b) {
  return a.ttl == b.ttl && a.records == b.records && a.routing == b.routing &&
         a.health_check == b.health_check && a.on_unhealthy == b.on_unhealthy &&
         a.description == b.description && a.custom_health == b.custom_health &&
         a.failure_threshold == b.failure_threshold;
}
}  // namespace

Result<Service> Registry::put_service(std::string_view dns_name, const ServiceSpec& spec) {
  auto name = parse_dns_name(dns_name, config_.default_namespace);
  if (!name) return name.error();
  if (const Service* existing = service_by_dns_name(name->full()))
    return update_service(existing->id, spec, nullptr);
  Pending p;
  auto ns = ensure_namespace(p, name->ns);
  if (!ns) return ns.error();
  Service s;
  s.id = new_cloudmap_id("srv-");
  s.name = name->service;
  s.namespace_id = ns->id;
  s.region = ns->region.empty() ? config_.region
                                : ns->region;  // a service lives in its namespace's region
  s.arn = "arn:aws:servicediscovery:" + s.region + ":" + config_.account_id + ":service/" + s.id;
  s.created_at = time_.wall_now();
  s.creator_request_id = spec.creator_request_id;
  s.tags = spec.tags;
  apply_spec(s, spec);
  if (auto r = validate_service(s); !r) return r.error();
  p.services.push_back(s);
  make_event(p, ServiceCreated{name->full(), s.id});
  if (auto r = commit(p); !r) return r.error();
  return s;
}

Result<Service> Registry::create_service_in(std::string_view namespace_id, std::string_view name,
                                            const ServiceSpec& spec) {
  const Namespace* ns = namespace_by_id(namespace_id);
  if (!ns) return not_found("namespace " + std::string(namespace_id) + " not found");
  if (auto e = label_error(lower(name))) return invalid_field("name", *e);
  return put_service(lower(name) + "." + ns->name, spec);
}

Result<Service> Registry::update_service(std::string_view service_id, const ServiceSpec& spec,
                                         const OperationRequest* op) {
  const Service* existing = service_by_id(service_id);
  if (!existing) return not_found("service " + std::string(service_id) + " not found");
  Service s = *existing;
  apply_spec(s, spec);
  if (auto r = validate_service(s); !r) return r.error();
  Pending p;
  add_operation(p, op, {{"SERVICE", s.id}});
  if (same_service(s, *existing)) {  // applying twice changes nothing
    if (op) {
      if (auto r = commit(p); !r) return r.error();
    }
    return s;
  }
  p.services.push_back(s);
  // Tasks that inherit the service's probe follow it.
  if (!(s.health_check == existing->health_check)) {
    for (const auto& [key, t] : tasks_) {
      if (t.service_id == s.id && is_active(t) && t.health_check == existing->health_check) {
        Task copy = t;
        copy.health_check = s.health_check;
        p.tasks.push_back(std::move(copy));
      }
    }
  }
  const std::string full = dns_name(s);
  make_event(p, ServiceUpdated{full, s.id});
  if (auto r = commit(p); !r) return r.error();
  return s;
}

Result<Service> Registry::delete_service(std::string_view service_id, bool require_empty) {
  const Service* existing = service_by_id(service_id);
  if (!existing) return not_found("service " + std::string(service_id) + " not found");
  const Service s = *existing;
  const std::string full = dns_name(s);
  Pending p;
  std::vector<std::string> removed;
  for (const auto& [key, t] : tasks_) {
    if (t.service_id != s.id) continue;
    if (t.registered() && require_empty) {
      return conflict("service " + full + " still has registered instances (first: " + t.id + ")");
    }
    if (visible(t)) {
      for (auto& r : records_of(t)) removed.push_back(r);
    }
    p.erased_tasks.push_back(key);
  }
  p.erased_services.push_back(s.id);
  make_event(p, ServiceDeleted{full, s.id, std::move(removed)});
  if (auto r = commit(p); !r) return r.error();
  return s;
}

const Service* Registry::service_by_dns_name(std::string_view dns_name_in) const {
  auto name = parse_dns_name(dns_name_in, config_.default_namespace);
  if (!name) return nullptr;
  const Namespace* ns = namespace_by_name(name->ns);
  if (!ns) return nullptr;
  for (const auto& [id, s] : services_) {
    if (s.namespace_id == ns->id && s.name == name->service) return &s;
  }
  return nullptr;
}

const Service* Registry::service_by_id(std::string_view id) const {
  const auto it = services_.find(id);
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<const Service*> Registry::services() const {
  std::vector<const Service*> out;
  for (const auto& [id, s] : services_) out.push_back(&s);
  std::sort(out.begin(), out.end(),
            [this](auto* a, auto* b) { return dns_name(*a) < dns_name(*b); });
  return out;
}

std::string Registry::dns_name(const Service& s) const {
  const Namespace* ns = namespace_by_id(s.namespace_id);
  return s.name + "." + (ns ? ns->name : std::string("?"));
}

// --------------------------------------------------------------------------- tasks

Result<Task> Registry::register_task(std::string_view dns_name_in, const TaskSpec& spec) {
  auto name = parse_dns_name(dns_name_in, config_.default_namespace);
  if (!name) return name.error();
  const Service* s = service_by_dns_name(name->full());
  if (!s) {
    // A registration creates its service (and namespace) on first use, as Consul does.
    auto created = put_service(name->full(), ServiceSpec{});
    if (!created) return created.error();
    s = service_by_id(created->id);
  }
  return register_in(s->id, spec);
}

Result<Task> Registry::register_in(std::string_view service_id, const TaskSpec& spec,
                                   const OperationRequest* op) {
  const Service* s = service_by_id(service_id);
  if (!s) return not_found("service " + std::string(service_id) + " not found");
  if (spec.require_address && spec.ipv4.empty() && spec.ipv6.empty())
    return invalid_field("ip", "an IPv4 or IPv6 address is required");
  if (!spec.ipv4.empty() && !native::parse_ipv4(spec.ipv4))
    return invalid_field("ip", "not an IPv4 address: " + spec.ipv4);
  if (!spec.ipv6.empty() && !native::parse_ipv6(spec.ipv6))
    return invalid_field("ipv6", "not an IPv6 address: " + spec.ipv6);
  if (s->records.srv && spec.port == 0)
    return invalid_field("port", "required (1..65535) because the service publishes SRV records");
  const std::string full = dns_name(*s);
  const bool upsert = spec.launch == Launch::Instance;
  const Task* previous = nullptr;
  if (upsert) {
    if (const auto it = keys_by_id_.find(spec.id); it != keys_by_id_.end()) {
      for (const auto& key : it->second) {  // key order: the last registered one, as a scan
        const Task& t = tasks_.find(key)->second;
        if (t.service_id == s->id && t.registered()) previous = &t;
      }
    }
  } else {
    // Cloud Map allows several instances on one address; the native API does not.
    const std::string* first = nullptr;
    for (const auto* at :
         {tasks_at(s->id, spec.ipv4, spec.port), tasks_at(s->id, spec.ipv6, spec.port)}) {
      if (at && !at->empty() && (!first || *at->begin() < *first)) first = &*at->begin();
    }
    if (first) {
      return conflict("endpoint " + (spec.ipv4.empty() ? spec.ipv6 : spec.ipv4) + ":" +
                      std::to_string(spec.port) + " already runs in " + full + " (task " +
                      tasks_.find(*first)->second.id + ")");
    }
  }
  if (!upsert && !spec.id.empty() && task(spec.id))
    return conflict("task " + spec.id + " already exists");
  Task t;
  if (previous) t = *previous;
  const auto now = time_.wall_now();
  t.id = spec.id.empty() ? new_task_id() : spec.id;
  t.launch = spec.launch;
  t.source = spec.source;
  t.service_id = s->id;
  t.region = s->region.empty() ? config_.region : s->region;
  if (t.launch != Launch::Instance) t.arn = arn("ecs", "task/" + t.cluster + "/" + t.id);
  t.ipv4 = spec.ipv4;
  t.ipv6 = spec.ipv6;
  t.port = spec.port;
  t.attributes = spec.attributes;
  if (!spec.container_id.empty()) t.container_id = spec.container_id;
  if (t.launch == Launch::Instance) t.creator_request_id = spec.creator_request_id;
  if (!t.ipv4.empty()) t.attributes["AWS_INSTANCE_IPV4"] = t.ipv4;
  if (!t.ipv6.empty()) t.attributes["AWS_INSTANCE_IPV6"] = t.ipv6;
  if (t.port) t.attributes["AWS_INSTANCE_PORT"] = std::to_string(t.port);
  t.last_status = TaskStatus::Running;
  t.desired_status = TaskStatus::Running;
  if (!previous) {
    t.observed = spec.initial_health.value_or(Health::Unknown);
    t.dns_health = t.health();
    t.created_at = now;
    t.started_at = now;
  }
  t.health_check = spec.health_check ? spec.health_check : s->health_check;
  t.group = "service:" + s->name;
  Pending p;
  p.tasks.push_back(t);
  make_event(p, TaskRegistered{describe_change(previous, t), previous != nullptr});
  add_operation(p, op, {{"INSTANCE", t.id}, {"SERVICE", t.service_id}});
  if (auto r = commit(p); !r) return r.error();
  return t;
}

Result<void> Registry::set_tags(std::string_view id, std::map<std::string, std::string> tags) {
  Pending p;
  if (const Namespace* n = namespace_by_id(id)) {
    Namespace copy = *n;
    copy.tags = std::move(tags);
    p.namespaces.push_back(std::move(copy));
  } else if (const Service* s = service_by_id(id)) {
    Service copy = *s;
    copy.tags = std::move(tags);
    p.services.push_back(std::move(copy));
  } else {
    return not_found("resource " + std::string(id) + " not found");
  }
  return commit(p);
}

Result<Task> Registry::stop_in(Pending& p, const Task& task, std::string stop_code,
                               std::string reason) {
  Task t = task;
  const auto now = time_.wall_now();
  t.desired_status = TaskStatus::Stopped;
  t.last_status = TaskStatus::Stopped;
  t.stop_code = std::move(stop_code);
  t.stopped_reason = std::move(reason);
  if (!t.stopping_at) t.stopping_at = now;
  t.stopped_at = now;
  ++t.version;
  p.tasks.push_back(t);
  make_event(p, TaskStopped{describe_change(&task, t)});
  return t;
}

Result<Task> Registry::stop_task(std::string_view key, std::string stop_code, std::string reason) {
  const Task* t = task(key);
  if (!t) return not_found("task " + std::string(key) + " not found");
  if (t->last_status == TaskStatus::Stopped) return *t;  // stopping twice is a no-op, as StopTask
  Pending p;
  auto stopped = stop_in(p, *t, std::move(stop_code), std::move(reason));
  if (!stopped) return stopped.error();
  if (auto r = commit(p); !r) return r.error();
  return stopped;
}

Result<Task> Registry::put_task(Task t, TaskStateChanged::Kind kind, std::string what,
                                std::vector<StoreChange> also) {
  if (t.id.empty()) return invalid_field("taskId", "required");
  const Task* before = task(task_key(t));
  Pending p;
  p.tasks.push_back(t);
  p.also = std::move(also);
  make_event(p, TaskStateChanged{kind, std::move(what), describe_change(before, t)});
  if (auto r = commit(p); !r) return r.error();
  return t;
}

Result<Task> Registry::erase_task(std::string_view key, const OperationRequest* op) {
  const Task* t = task(key);
  if (!t) return not_found("instance " + std::string(key) + " not found");
  const Task copy = *t;
  Pending p;
  p.erased_tasks.push_back(task_key(copy));
  Task gone = copy;  // described as a change to a task that is no longer registered
  gone.service_id.clear();
  TaskChange change = describe_change(&copy, gone);
  change.service_id = copy.service_id;
  if (const Service* s = service_by_id(copy.service_id)) change.service = dns_name(*s);
  make_event(p, TaskDeregistered{std::move(change)});
  add_operation(p, op, {{"INSTANCE", copy.id}, {"SERVICE", copy.service_id}});
  if (auto r = commit(p); !r) return r.error();
  return copy;
}

Result<HealthChange> Registry::force_health(std::string_view key, std::optional<Health> health) {
  const Task* t = task(key);
  if (!t) return not_found("task " + std::string(key) + " not found");
  if (t->last_status == TaskStatus::Stopped)
    return Error{Code::IllegalTransition, "task " + t->id + " is STOPPED"};
  Task after = *t;
  after.forced = health;
  return commit_health(*t, std::move(after),
                       health ? std::string("forced ") + to_string(*health) + " via API"
                              : std::string("AUTO: probes decide again"));
}

Result<HealthChange> Registry::set_health(std::string_view key, Health observed,
                                          std::string reason) {
  const Task* found = task(key);
  if (!found) return not_found("task " + std::string(key) + " not found");
  if (found->last_status == TaskStatus::Stopped || found->observed == observed)
    return HealthChange{*found, found->health(), found->health()};
  Task after = *found;
  after.observed = observed;
  return commit_health(*found, std::move(after), std::move(reason));
}

Result<HealthChange> Registry::commit_health(const Task& before, Task t, std::string reason) {
  HealthChange change{t, before.health(), t.health()};
  Pending p;
  ++t.version;
  if (!change.changed()) {
    // Observed while forced, or forced to what was observed: kept, nothing anyone sees changes.
    p.tasks.push_back(t);
    if (auto r = commit(p); !r) return r.error();
    change.task = t;
    return change;
  }
  const Health health = change.after;
  t.health_reason = reason;
  const bool delay = config_.health_propagation_delay.count() > 0;
  if (!delay) t.dns_health = health;
  TaskChange described = describe_change(&before, t);
  described.reason = reason;
  make_event(p, TaskHealthChanged{std::move(described),
                                  delay ? std::optional<Duration>(config_.health_propagation_delay)
                                        : std::nullopt});
  p.tasks.push_back(t);
  p.health_changed.push_back(task_key(t));
  if (auto r = commit(p); !r) return r.error();
  if (delay) {
    const std::string k = task_key(t);
    timers_.schedule(time_.now() + config_.health_propagation_delay,
                     [this, k, health, reason] { (void)change_dns_health(k, health, reason); });
  }
  change.task = t;
  return change;
}

Result<Task> Registry::change_dns_health(std::string_view key, Health health, std::string reason) {
  const Task* found = task(key);
  if (!found || found->health() != health || found->dns_health == health) {
    return found ? Result<Task>(*found) : Result<Task>(not_found("task gone"));
  }
  Task t = *found;
  t.dns_health = health;
  Pending p;
  p.tasks.push_back(t);
  TaskChange change = describe_change(found, t);
  change.reason = reason;
  make_event(p, TaskDnsHealthChanged{std::move(change)});
  if (auto r = commit(p); !r) return r.error();
  return t;
}

void Registry::add_probe_result(std::string_view key, ProbeRecord record) {
  const auto it = tasks_.find(key);
  if (it == tasks_.end()) return;
  auto& history = it->second.last_results;
  if (record.output.size() > 4096) record.output.resize(4096);
  history.push_back(std::move(record));
  if (history.size() > 10) history.erase(history.begin(), history.end() - 10);
  for (const auto& listener : probe_listeners_) listener(it->second, history.back());
}

const Task* Registry::task(std::string_view key_or_id) const {
  if (const auto it = tasks_.find(key_or_id); it != tasks_.end()) return &it->second;
  // By plain id: the first key holding it (key order, as a scan of tasks_ would find).
  const auto it = keys_by_id_.find(std::string(key_or_id));
  if (it == keys_by_id_.end() || it->second.empty()) return nullptr;
  return &tasks_.find(*it->second.begin())->second;
}

std::vector<const Task*> Registry::tasks(const TaskFilter& filter) const {
  std::string service_id;
  if (!filter.service_dns_name.empty()) {
    const Service* s = service_by_dns_name(filter.service_dns_name);
    if (!s) return {};
    service_id = s->id;
  }
  std::vector<const Task*> out;
  const auto keep = [&](const Task& t) {
    if (filter.last_status && t.last_status != *filter.last_status) return;
    if (!filter.include_instances && t.launch == Launch::Instance) return;
    out.push_back(&t);
  };
  if (!service_id.empty()) {
    // One service's tasks from the index: the cost follows the service, not the whole state.
    if (const auto it = keys_by_service_.find(service_id); it != keys_by_service_.end()) {
      for (const auto& key : it->second) keep(tasks_.find(key)->second);
    }
  } else {
    for (const auto& [key, t] : tasks_) keep(t);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) {
    return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
  });
  return out;
}

Result<void> Registry::purge_stopped() {
  const auto cutoff = time_.wall_now() - config_.stopped_task_retention;
  Pending p;
  for (const auto& [key, t] : tasks_) {
    if (t.last_status == TaskStatus::Stopped && t.stopped_at && *t.stopped_at < cutoff)
      p.erased_tasks.push_back(key);
  }
  if (p.erased_tasks.empty()) return {};
  return commit(p);
}

// --------------------------------------------------------------------------- Route 53

Result<Route53Change> Registry::change_record_sets(std::string_view hosted_zone_id,
                                                   const std::vector<RecordChange>& changes,
                                                   std::string comment) {
  const Namespace* ns = namespace_of_zone(hosted_zone_id);
  if (ns == nullptr) {
    const OwnZone* own = own_zone(hosted_zone_id);
    if (own == nullptr) return no_such_zone(hosted_zone_id);
    // A zone of one's own: nothing in it is Cloud Map's.
    return commit_record_sets(own->id, own->name, changes, {}, std::move(comment));
  }
  // What Cloud Map writes in the zone: each service's name (its A/AAAA/SRV) and, with SRV, its
  // instances' names (A/AAAA). An empty type asks for any.
  std::vector<const Service*> mine;
  for (const auto& [id, s] : services_) {
    if (s.namespace_id == ns->id) mine.push_back(&s);
  }
  const std::string zone_suffix = "." + ns->name + ".";
  const ManagedRecords managed = [&](const std::string& name, const std::string& type) {
    for (const Service* s : mine) {
      const std::string fqdn = s->name + zone_suffix;
      const bool any = type.empty();
      if (name == fqdn) {
        if (any || (type == "A" && s->records.a) || (type == "AAAA" && s->records.aaaa) ||
            (type == "SRV" && s->records.srv))
          return true;
      } else if (s->records.srv && name.size() > fqdn.size() + 1 && name.ends_with("." + fqdn) &&
                 name.find('.') == name.size() - fqdn.size() - 1) {
        if (any || type == "A" || type == "AAAA") return true;
      }
    }
    return false;
  };
  return commit_record_sets(ns->hosted_zone_id, ns->name, changes, managed, std::move(comment));
}

Result<Route53Change> Registry::commit_record_sets(const std::string& hosted_zone_id,
                                                   const std::string& zone_name,
                                                   const std::vector<RecordChange>& changes,
                                                   const ManagedRecords& managed,
                                                   std::string comment) {
  const auto current = user_records_.find(hosted_zone_id);
  auto next = apply_change_batch(
      current == user_records_.end() ? std::vector<UserRecordSet>{} : current->second, changes,
      zone_name, managed);
  if (!next) return next.error();
  Pending p;
  p.user_records[hosted_zone_id] = std::move(*next);
  p.route53_changes.push_back(new_change(std::move(comment)));
  if (auto r = commit(p); !r) return r.error();
  return p.route53_changes.front();
}

std::string Registry::route53_id(char prefix) {
  std::string id(1, prefix);
  for (int i = 0; i < 21; ++i) id.push_back(kZoneIdChars[rng_() % 36]);
  return id;
}

Route53Change Registry::new_change(std::string comment) {
  Route53Change change;
  change.id = route53_id('C');
  change.submitted = time_.wall_now();
  change.comment = std::move(comment);
  return change;
}

const Namespace* Registry::namespace_of_zone(std::string_view hosted_zone_id) const {
  for (const auto& [id, n] : namespaces_) {
    if (n.is_dns() && n.hosted_zone_id == hosted_zone_id) return &n;
  }
  return nullptr;
}

const OwnZone* Registry::own_zone(std::string_view hosted_zone_id) const {
  const auto it = own_zones_.find(hosted_zone_id);
  return it == own_zones_.end() ? nullptr : &it->second;
}

std::vector<const OwnZone*> Registry::own_zones() const {
  std::vector<const OwnZone*> out;
  for (const auto& [id, z] : own_zones_) out.push_back(&z);
  return out;
}

const std::string* Registry::zone_named(std::string_view name) const {
  for (const auto& [id, z] : own_zones_) {
    if (z.name == name) return &z.name;
  }
  for (const auto& [id, n] : namespaces_) {
    if (n.is_dns() && n.name == name) return &n.name;
  }
  return nullptr;
}

Result<std::pair<OwnZone, Route53Change>> Registry::create_hosted_zone(const HostedZoneSpec& spec) {
  const std::string name = lower(strip_dot(spec.name));
  if (name.empty() || namespace_name_error(name)) {
    return Error{Code::InvalidArgument,
                 "The domain name is invalid: " + spec.name.substr(0, 255) +
                     (name.empty() ? "" : " (" + *namespace_name_error(name) + ")"),
                 {},
                 "InvalidDomainName"};
  }
  if (spec.caller_reference.empty() || spec.caller_reference.size() > 128) {
    return Error{Code::InvalidArgument,
                 "1 validation error detected: Value at 'callerReference' failed to satisfy "
                 "constraint: Member must have length between 1 and 128",
                 {},
                 "InvalidInput"};
  }
  // Route 53 takes a CallerReference once: a retry of a request that succeeded is told so.
  bool used = caller_references_.count(spec.caller_reference) != 0;
  for (const auto& [id, n] : namespaces_) {
    used = used || (n.is_dns() && (n.creator_request_id.empty() ? n.id : n.creator_request_id) ==
                                      spec.caller_reference);
  }
  if (used) {
    return Error{Code::Conflict,
                 "A hosted zone has already been created with the specified caller reference.",
                 {},
                 "HostedZoneAlreadyExists"};
  }
  if (spec.private_zone) {
    const std::string& vpc = spec.vpc_id;
    const bool ok = vpc.size() >= 12 && vpc.size() <= 21 && vpc.starts_with("vpc-") &&
                    std::all_of(vpc.begin() + 4, vpc.end(), [](char c) {
                      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    });
    if (!ok) {
      return Error{Code::InvalidArgument,
                   "The VPC ID '" + vpc.substr(0, 64) + "' is not valid",
                   {},
                   "InvalidVPCId"};
    }
  }
  if (zone_named(name)) {
    // Route 53 would create a second zone of the name (in another VPC, or with other name
    // servers); one DNS server answers one zone per name.
    return Error{Code::Conflict,
                 "Cannot create hosted zone with DNS name " + name +
                     ". because a hosted zone "
                     "with that name already exists (ecs-emulator serves one zone per name)",
                 {},
                 "ConflictingDomainExists"};
  }
  OwnZone z;
  z.id = route53_id('Z');
  z.name = name;
  z.caller_reference = spec.caller_reference;
  z.comment = spec.comment;
  z.private_zone = spec.private_zone;
  if (z.private_zone) {
    z.vpc_id = spec.vpc_id;
    z.vpc_region = spec.vpc_region.empty() ? config_.region : spec.vpc_region;
  }
  z.created = time_.wall_now();
  Pending p;
  p.own_zones.push_back(z);
  p.caller_references.push_back(z.caller_reference);
  p.route53_changes.push_back(new_change({}));
  if (auto r = commit(p); !r) return r.error();
  return std::pair{std::move(z), p.route53_changes.front()};
}

Result<const OwnZone*> Registry::editable_zone(std::string_view hosted_zone_id) const {
  if (const OwnZone* z = own_zone(hosted_zone_id)) return z;
  if (const Namespace* ns = namespace_of_zone(hosted_zone_id)) {
    // Route 53's answer to a change of a zone Cloud Map created.
    return Error{Code::InvalidArgument,
                 "The resource hostedzone/" + ns->hosted_zone_id +
                     " can only be managed through servicediscovery.amazonaws.com (" + ns->arn +
                     ")",
                 {},
                 "AccessDenied"};
  }
  return no_such_zone(hosted_zone_id);
}

Result<Route53Change> Registry::delete_hosted_zone(std::string_view hosted_zone_id) {
  const auto z = editable_zone(hosted_zone_id);
  if (!z) return z.error();
  if (!user_record_sets((*z)->id).empty()) {
    return Error{Code::Conflict,
                 "The specified hosted zone contains non-required resource record sets and so "
                 "cannot be deleted.",
                 {},
                 "HostedZoneNotEmpty"};
  }
  Pending p;
  p.erased_own_zones.push_back((*z)->id);
  p.route53_changes.push_back(new_change({}));
  if (auto r = commit(p); !r) return r.error();
  return p.route53_changes.front();
}

Result<OwnZone> Registry::update_hosted_zone_comment(std::string_view hosted_zone_id,
                                                     std::string comment) {
  const auto z = editable_zone(hosted_zone_id);
  if (!z) return z.error();
  OwnZone copy = **z;
  copy.comment = std::move(comment);
  Pending p;
  p.own_zones.push_back(copy);
  if (auto r = commit(p); !r) return r.error();
  return copy;
}

const std::vector<UserRecordSet>& Registry::user_record_sets(
    std::string_view hosted_zone_id) const {
  static const std::vector<UserRecordSet> kNone;
  const auto it = user_records_.find(hosted_zone_id);
  return it == user_records_.end() ? kNone : it->second;
}

const Route53Change* Registry::route53_change(std::string_view id) const {
  const auto it = route53_changes_.find(id);
  return it == route53_changes_.end() ? nullptr : &it->second;
}

bool Registry::change_in_sync(const Route53Change& change) const {
  return time_.wall_now() >= change.submitted + std::chrono::duration_cast<WallTime::duration>(
                                                    config_.health_propagation_delay);
}

Result<void> Registry::reset() {
  Pending p;
  p.reset = true;
  make_event(p, StateReset{});
  return commit(p);
}

}  // namespace emu::core
