#pragma once
// What the HTTP handlers may use. The runtime builds one ApiContext and owns everything in it;
// handlers stay free of sockets and of the other subsystems' types.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/request_guard.hpp"
#include "emulator/core/command_probes.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {

struct ApiContext {
  core::Registry& registry;
  /// What DNS answers now for (name, type): {"name","type","rcode","answers":[{"value","ttl"}],
  /// "authority":[...]} (the runtime runs the real responder on the current snapshot).
  std::function<nlohmann::json(const std::string& name, const std::string& type)> dns_lookup;
  /// Prometheus text of the daemon's counters (DNS, probes, API), appended to /metrics.
  std::function<std::string()> metrics;
  /// True once state is loaded, fixtures applied and DNS and API listen (GET /healthz).
  std::function<bool()> ready;
  std::string version = "0.1.0";
  /// --allow-command-probes: whether a request may define a host-run command probe (SPEC 12).
  core::CommandProbes command_probes = core::CommandProbes::Off;
  /// --allowed-origins / --allowed-hosts: which pages and names may reach the API (SPEC 12).
  RequestGuardConfig guard;
  /// Stops an ECS task (simulated or Docker) through its lifecycle owner, the ECS engine
  /// (DEACTIVATING ... STOPPED, its containers stopped): DELETE /v1/tasks/{id} of an ECS task.
  /// Unset (no ECS layer): such a task is not the native API's to stop (Conflict).
  std::function<Result<core::Task>(const std::string& task_id)> stop_ecs_task;
};

}  // namespace emu::api
