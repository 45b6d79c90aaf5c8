#pragma once
// ComposeDiscovery: containers that docker compose starts with the label
// `ecs-emulator.service=<dns-name>` become tasks of that service while they run (SPEC section 6,
// `--docker`). The Docker edge turns inspect results and the event stream into calls here; this
// class only decides and drives the Registry (parse labels -> decide -> registry command).
//
// Decisions:
// - Task id = the first 32 hex of the container id, lowercased: a daemon restart or a resync
//   finds the same task. Task::container_id = the full id. Launch stays External (nothing of ours
//   runs; the ECS engine leaves it alone); Task::source = Compose marks the task as discovered
//   (a typed, persisted field: no attribute a caller sets can fake it), and only such tasks are
//   ever updated or deregistered here (never tasks of the API, fixtures or the ECS engine).
//   Attributes: DOCKER_CONTAINER_NAME, DOCKER_IMAGE and, when compose set it, COMPOSE_SERVICE
//   (its `com.docker.compose.service` label).
// - Containers the ECS engine launched (label ecs-emulator.task-id) are never discovered, even
//   when their task definition copies the service label: they are tasks already.
// - A missing service is created with onUnhealthy=withdraw (and otherwise the defaults: A records,
//   MULTIVALUE, TTL 10). An existing service (a fixture, the API) keeps its settings; a
//   discovered task's UNHEALTHY only withdraws it from DNS and never stops it, whatever the
//   service says (EndpointPolicy leaves Compose tasks alone): the container is not ours.
// - Health: with a Docker healthcheck, Docker drives the task ("starting" -> UNKNOWN, which DNS
//   treats as healthy; "healthy" -> HEALTHY; "unhealthy" -> UNHEALTHY, reason `docker health
//   check: unhealthy`), through Registry::set_health so --health-propagation-delay applies, and
//   the task gets probe type none so the emulator's probes never fight Docker's. Without one the
//   task starts UNKNOWN and inherits its service's probe, if the service has one (the emulator
//   then probes the container); the container's state never resets what a probe found.
// - Address: the IPv4 on ComposeConfig::network when the container has one there, else on the
//   first network (by name) with one; the IPv6 from the same preference, then the IPv4's network,
//   then the first by name. No address at all (network_mode host or none) -> not registered.
// - Port: the ecs-emulator.port label, 1..65535, else 0 (no port). A bad port or service label
//   -> InvalidArgument naming the container, the label and the reason; the container is skipped.
// - Deregistration (the container died, stopped, was removed, or no longer runs): the task is
//   STOPPED, so its records leave DNS at once and `GET /v1/services/{name}/tasks` still shows it
//   with stopCode EssentialContainerExited and `container exited with code N` / `container
//   removed` for the retention of STOPPED tasks (an hour), as ECS shows a task whose essential
//   container exited. A running container that became undiscoverable (lost its address) is
//   STOPPED with ServiceSchedulerInitiated and the reason.
// - A container that runs again under the same id (docker restart, compose start) replaces its
//   STOPPED task: the old one is erased and a fresh one registered (new createdAt).
// - Docker is the source of truth for discovered tasks: a discovered task stopped through the API
//   while its container runs comes back at the container's next event or the next resync.
// - Re-observing an unchanged container commits nothing and publishes no event.

#include <optional>
#include <string>
#include <vector>

#include "emulator/core/docker_model.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"

namespace emu::core {

/// Task attributes that discovery writes.
inline constexpr const char* kAttrContainerName = "DOCKER_CONTAINER_NAME";
inline constexpr const char* kAttrImage = "DOCKER_IMAGE";
inline constexpr const char* kAttrComposeService = "COMPOSE_SERVICE";
/// The label docker compose puts on each container of a compose service.
inline constexpr const char* kLabelComposeService = "com.docker.compose.service";

/// Settings resolved once at startup.
struct ComposeConfig {
  std::string network;  ///< preferred Docker network for the address; "" = any
};

class ComposeDiscovery {
 public:
  ComposeDiscovery(Registry& registry, ComposeConfig config);

  /// A container started or changed (from inspect): registers or updates it when it has the
  /// label and runs; a container that does not run is deregistered.
  Result<void> observe(const ObservedContainer& c);
  /// A container died, stopped or was destroyed.
  Result<void> gone(const std::string& container_id, std::optional<int> exit_code);
  /// The full list of labelled containers (after start and each event-stream reconnect):
  /// registers the new, updates the changed, deregisters those missing. Every container is
  /// handled; the error, if any, names each one that was skipped.
  Result<void> resync(const std::vector<ObservedContainer>& containers);
  /// True when the container carries the discovery label (and is not an ECS engine task).
  static bool wants(const ObservedContainer& c);
  /// True when discovery registered this task (source Compose).
  static bool discovered(const Task& task);

 private:
  struct Wanted;  // what the registry should hold for one container
  Result<Wanted> decide(const ObservedContainer& c) const;
  Result<void> register_new(const ObservedContainer& c, const Wanted& w);
  Result<void> update(const Task& task, const ObservedContainer& c, const Wanted& w);
  Result<void> follow_health(const std::string& task_key, const Wanted& w);
  Result<void> deregister(const std::string& task_id, std::string stop_code, std::string reason);

  Registry& registry_;
  const ComposeConfig config_;
};

}  // namespace emu::core
