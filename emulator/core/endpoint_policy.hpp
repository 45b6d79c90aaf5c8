#pragma once
// EndpointPolicy: the lifecycle owner of native endpoints (tasks registered through the native
// API or a fixture). The decision is one pure function, endpoint_action(); EndpointPolicy runs it
// after every commit that changed a task and executes what it says. The other kinds of task have
// their own owners: ECS tasks the ECS scheduler (reconcile()), which stops and replaces unhealthy
// service tasks through their whole lifecycle; Cloud Map instances are never stopped (their
// health only decides DNS); compose-discovered tasks are Docker's, never stopped by us.

#include <optional>
#include <string>

#include "emulator/core/model.hpp"
#include "emulator/core/registry.hpp"

namespace emu::core {

/// What to do with one endpoint.
struct EndpointStop {
  std::string stop_code;
  std::string reason;
  bool operator==(const EndpointStop&) const = default;
};

/// SPEC 5: an UNHEALTHY native endpoint of a service with `onUnhealthy: stop` is stopped with
/// ServiceSchedulerInitiated / "Task failed container health checks"; under `withdraw` it only
/// leaves DNS while unhealthy. Anything else: nothing to do.
[[nodiscard]] std::optional<EndpointStop> endpoint_action(const Service& service, const Task& task);

/// Runs endpoint_action() for every task whose healthStatus a commit changed (a task registered
/// UNHEALTHY stays until its health changes, as before a first probe). Observes `registry` from
/// construction; must outlive every later commit of it (the registry cannot drop observers).
class EndpointPolicy {
 public:
  explicit EndpointPolicy(Registry& registry);
  EndpointPolicy(const EndpointPolicy&) = delete;
  EndpointPolicy& operator=(const EndpointPolicy&) = delete;

 private:
  void on_commit(const CommitInfo& info);
  Registry& registry_;
};

}  // namespace emu::core
