#include "emulator/core/compose_discovery.hpp"

#include <array>
#include <cctype>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "emulator/core/native_codec.hpp"

namespace emu::core {
namespace {

constexpr std::size_t kTaskIdLength = 32;
// ECS stop codes: the container went away / the emulator stopped tracking it.
constexpr const char* kStopExited = "EssentialContainerExited";
constexpr const char* kStopScheduler = "ServiceSchedulerInitiated";
/// The attributes discovery owns on a task (compared on re-observe, set or erased on update).
constexpr std::array<const char*, 3> kOwnedAttributes{kAttrContainerName, kAttrImage,
                                                      kAttrComposeService};

/// The task id of a container: its first 32 hex, lowercased; nullopt when it is no Docker id.
std::optional<std::string> task_id_of(std::string_view container_id) {
  if (container_id.size() < kTaskIdLength) return std::nullopt;
  std::string id(container_id.substr(0, kTaskIdLength));
  for (auto& ch : id) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return id;
}

/// How a container is named in messages: compose's name, else the short id.
std::string who(const ObservedContainer& c) {
  return "container " + (c.name.empty() ? c.id.substr(0, 12) : c.name);
}

Error bad_label(const ObservedContainer& c, const char* label, const std::string& value,
                const std::string& reason) {
  return invalid(who(c) + ": label " + label + "=\"" + value + "\": " + reason);
}

/// The port label: absent = 0 (no port); else 1..65535.
Result<std::uint16_t> parse_port(const ObservedContainer& c) {
  const auto it = c.labels.find(kLabelPort);
  if (it == c.labels.end()) return std::uint16_t{0};
  const std::string& v = it->second;
  if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos)
    return bad_label(c, kLabelPort, v, "must be a port number 1..65535");
  const int port = std::stoi(v);  // at most 5 digits: cannot throw
  if (port < 1 || port > 65535) return bad_label(c, kLabelPort, v, "must be 1..65535");
  return static_cast<std::uint16_t>(port);
}

/// Docker's health status as a task health; nullopt when the container has no healthcheck.
std::optional<Health> docker_health(const std::string& status) {
  if (status.empty()) return std::nullopt;
  if (status == "healthy") return Health::Healthy;
  if (status == "unhealthy") return Health::Unhealthy;
  return Health::Unknown;  // "starting" (Cloud Map: UNKNOWN counts as healthy in DNS)
}

/// The first preferred network with an address, else the first by name; {network, address}.
std::pair<std::string, std::string> pick(const std::map<std::string, std::string>& addresses,
                                         std::initializer_list<std::string> preferred) {
  for (const auto& name : preferred) {
    if (name.empty()) continue;
    if (const auto it = addresses.find(name); it != addresses.end() && !it->second.empty())
      return *it;
  }
  for (const auto& entry : addresses) {
    if (!entry.second.empty()) return entry;  // std::map: sorted by network name
  }
  return {};
}

/// Why a container that does not run leaves DNS.
std::string not_running_reason(const ObservedContainer& c) {
  if (c.exit_code) return "container exited with code " + std::to_string(*c.exit_code);
  if (c.state == "removing") return "container removed";
  return c.state.empty() ? "container not running" : "container " + c.state;
}

std::string endpoint(const std::string& ipv4, const std::string& ipv6, std::uint16_t port) {
  std::string s = ipv4.empty() ? ipv6 : ipv4;
  if (!ipv4.empty() && !ipv6.empty()) s += " " + ipv6;
  if (port) s += " port " + std::to_string(port);
  return s;
}

void set_or_erase(std::map<std::string, std::string>& m, const std::string& key,
                  const std::string& value) {
  if (value.empty()) {
    m.erase(key);
  } else {
    m[key] = value;
  }
}

}  // namespace

/// What the registry should hold for one running container.
struct ComposeDiscovery::Wanted {
  std::string task_id;
  std::string dns_name;  ///< `game-server.local`, lowercase
  std::string ipv4;
  std::string ipv6;
  std::uint16_t port = 0;
  std::optional<Health> health;  ///< nullopt: no Docker healthcheck (probes, if any, decide)
  std::string health_status;     ///< Docker's word for it, for the reason
  std::map<std::string, std::string> attributes;  ///< the kOwnedAttributes that apply
};

ComposeDiscovery::ComposeDiscovery(Registry& registry, ComposeConfig config)
    : registry_(registry), config_(std::move(config)) {}

bool ComposeDiscovery::wants(const ObservedContainer& c) {
  // The ECS engine's own containers are tasks already, whatever labels they copy.
  return c.labels.contains(kLabelService) && !c.labels.contains(kLabelTaskId);
}

bool ComposeDiscovery::discovered(const Task& task) { return task.source == TaskSource::Compose; }

Result<ComposeDiscovery::Wanted> ComposeDiscovery::decide(const ObservedContainer& c) const {
  Wanted w;
  const auto id = task_id_of(c.id);
  if (!id) return invalid(who(c) + ": \"" + c.id + "\" is not a Docker container id");
  w.task_id = *id;

  const std::string& label = c.labels.at(kLabelService);
  auto name = parse_dns_name(label, registry_.config().default_namespace);
  if (!name) {
    return bad_label(c, kLabelService, label, std::string(name.error().reason()));
  }
  w.dns_name = name->full();

  auto port = parse_port(c);
  if (!port) return port.error();
  w.port = *port;

  const auto [v4_network, ipv4] = pick(c.networks, {config_.network});
  w.ipv4 = ipv4;
  w.ipv6 = pick(c.networks6, {config_.network, v4_network}).second;
  if (w.ipv4.empty() && w.ipv6.empty()) {
    return invalid(who(c) + " (" + w.dns_name +
                   "): no IP address on any network (containers with network_mode host or none "
                   "cannot be discovered)");
  }
  if (!w.ipv4.empty() && !native::parse_ipv4(w.ipv4))
    return invalid(who(c) + ": Docker reported \"" + w.ipv4 + "\", not an IPv4 address");
  if (!w.ipv6.empty() && !native::parse_ipv6(w.ipv6))
    return invalid(who(c) + ": Docker reported \"" + w.ipv6 + "\", not an IPv6 address");

  w.health = docker_health(c.health);
  w.health_status = c.health;
  w.attributes[kAttrContainerName] = c.name;
  w.attributes[kAttrImage] = c.image;
  if (const auto it = c.labels.find(kLabelComposeService); it != c.labels.end())
    w.attributes[kAttrComposeService] = it->second;
  std::erase_if(w.attributes, [](const auto& kv) { return kv.second.empty(); });
  return w;
}

Result<void> ComposeDiscovery::observe(const ObservedContainer& c) {
  if (!wants(c)) return {};
  const auto id = task_id_of(c.id);
  if (!id) return invalid(who(c) + ": \"" + c.id + "\" is not a Docker container id");
  if (!c.running()) return deregister(*id, kStopExited, not_running_reason(c));

  auto w = decide(c);
  if (!w) {
    // A container that can no longer be discovered (it lost its address) leaves DNS.
    if (auto r = deregister(*id, kStopScheduler, w.error().message); !r) return r;
    return w.error();
  }
  const Task* t = registry_.task(w->task_id);
  if (!t) return register_new(c, *w);
  if (!discovered(*t)) {
    return conflict(who(c) + ": task " + t->id +
                    " exists and was not discovered from Docker; left alone");
  }
  const Service* s = registry_.service_by_dns_name(w->dns_name);
  if (t->last_status == TaskStatus::Stopped || !s || s->id != t->service_id) {
    // The container runs again under the same id (or, oddly, names another service): its old
    // task makes room for a fresh registration.
    Registry::Bulk bulk(registry_);
    if (auto r = registry_.erase_task(Registry::task_key(*t)); !r) return r.error();
    return register_new(c, *w);
  }
  if (auto r = update(*t, c, *w); !r) return r;
  return follow_health(w->task_id, *w);
}

Result<void> ComposeDiscovery::register_new(const ObservedContainer& c, const Wanted& w) {
  const auto in_context = [&](const Error& e) {
    return Error{e.code, who(c) + " (" + w.dns_name + "): " + e.message};
  };
  if (!registry_.service_by_dns_name(w.dns_name)) {
    // Ours to create: compose containers are not ours to replace, so unhealthy withdraws.
    ServiceSpec spec;
    spec.on_unhealthy = OnUnhealthy::Withdraw;
    if (auto s = registry_.put_service(w.dns_name, spec); !s) return in_context(s.error());
  }
  TaskSpec spec;
  spec.id = w.task_id;
  spec.launch = Launch::External;
  spec.ipv4 = w.ipv4;
  spec.ipv6 = w.ipv6;
  spec.port = w.port;
  if (w.health) spec.health_check = HealthCheckSpec{};  // Docker's healthcheck, not our probes
  spec.initial_health = w.health;
  spec.attributes = w.attributes;
  spec.container_id = c.id;
  spec.source = TaskSource::Compose;  // withdrawn when unhealthy, never stopped (EndpointPolicy)
  if (auto r = registry_.register_task(w.dns_name, spec); !r) return in_context(r.error());
  return {};
}

Result<void> ComposeDiscovery::update(const Task& task, const ObservedContainer& c,
                                      const Wanted& w) {
  bool same = task.ipv4 == w.ipv4 && task.ipv6 == w.ipv6 && task.port == w.port &&
              task.container_id == c.id;
  for (const char* key : kOwnedAttributes) {
    const auto have = task.attributes.find(key);
    const auto want = w.attributes.find(key);
    const bool has = have != task.attributes.end(), wanted = want != w.attributes.end();
    same = same && has == wanted && (!has || have->second == want->second);
  }
  if (same) return {};  // nothing changed: no commit, no event

  Task t = task;
  t.ipv4 = w.ipv4;
  t.ipv6 = w.ipv6;
  t.port = w.port;
  t.container_id = c.id;
  for (const char* key : kOwnedAttributes) t.attributes.erase(key);
  for (const auto& [key, value] : w.attributes) t.attributes[key] = value;
  set_or_erase(t.attributes, "AWS_INSTANCE_IPV4", t.ipv4);
  set_or_erase(t.attributes, "AWS_INSTANCE_IPV6", t.ipv6);
  set_or_erase(t.attributes, "AWS_INSTANCE_PORT", t.port ? std::to_string(t.port) : "");
  ++t.version;
  std::string message = "task " + t.id + " (" + w.dns_name + ") follows " + who(c);
  if (task.ipv4 != t.ipv4 || task.ipv6 != t.ipv6 || task.port != t.port) {
    message += ": " + endpoint(task.ipv4, task.ipv6, task.port) + " -> " +
               endpoint(t.ipv4, t.ipv6, t.port);
  }
  if (auto r =
          registry_.put_task(std::move(t), TaskStateChanged::Kind::Updated, std::move(message));
      !r)
    return Error{r.error().code, who(c) + " (" + w.dns_name + "): " + r.error().message};
  return {};
}

Result<void> ComposeDiscovery::follow_health(const std::string& task_key, const Wanted& w) {
  if (!w.health) return {};  // no Docker healthcheck: what a probe found stays
  const Task* t = registry_.task(task_key);
  if (!t || t->observed == *w.health) return {};
  auto r = registry_.set_health(task_key, *w.health, "docker health check: " + w.health_status);
  if (!r) return r.error();
  return {};
}

Result<void> ComposeDiscovery::gone(const std::string& container_id, std::optional<int> exit_code) {
  const auto id = task_id_of(container_id);
  if (!id) return invalid("\"" + container_id + "\" is not a Docker container id");
  return deregister(
      *id, kStopExited,
      exit_code ? "container exited with code " + std::to_string(*exit_code) : "container removed");
}

Result<void> ComposeDiscovery::deregister(const std::string& task_id, std::string stop_code,
                                          std::string reason) {
  const Task* t = registry_.task(task_id);
  if (!t || !discovered(*t) || t->last_status == TaskStatus::Stopped) return {};
  auto r = registry_.stop_task(Registry::task_key(*t), std::move(stop_code), std::move(reason));
  if (!r) return r.error();
  return {};
}

Result<void> ComposeDiscovery::resync(const std::vector<ObservedContainer>& containers) {
  Registry::Bulk bulk(registry_);  // DNS sees the outcome once, not every step
  std::set<std::string> listed;
  for (const auto& c : containers) {
    if (!wants(c)) continue;
    if (const auto id = task_id_of(c.id)) listed.insert(*id);
  }
  std::vector<Error> errors;
  // Deregister the missing first: a new container may have taken a vanished one's address.
  std::vector<std::string> missing;
  for (const Task* t : registry_.tasks()) {
    if (discovered(*t) && t->last_status != TaskStatus::Stopped && !listed.contains(t->id))
      missing.push_back(Registry::task_key(*t));
  }
  for (const auto& key : missing) {
    if (auto r = deregister(key, kStopExited, "container removed"); !r) errors.push_back(r.error());
  }
  for (const auto& c : containers) {
    if (auto r = observe(c); !r) errors.push_back(r.error());
  }
  if (errors.empty()) return {};
  if (errors.size() == 1) return errors.front();
  std::string message = std::to_string(errors.size()) + " containers skipped: ";
  for (std::size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i].message;
  return Error{errors.front().code, message};
}

}  // namespace emu::core
