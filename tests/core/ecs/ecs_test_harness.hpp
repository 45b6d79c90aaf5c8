#pragma once
// In-process ECS layer for tests: Registry + EcsEngine over a MemoryStore, in simulated time.

#include <algorithm>
#include <string>
#include <vector>

#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core::ecs::test {

inline TaskDefinition web_definition() {
  TaskDefinition td;
  td.region = "us-east-1";
  td.family = "web";
  td.network_mode = "awsvpc";
  ContainerInfo c;
  c.name = "web";
  c.image = "nginx";
  c.port_mappings.push_back({8080, 8080, "tcp"});
  c.health_check = ContainerHealthCheck{{"CMD-SHELL", "true"}, 5, 2, 3, 0};
  td.containers.push_back(c);
  return td;
}

struct EcsHarness {
  emu::test::SimTime sim;
  MemoryStore store;
  Registry registry{sim.clock, sim.timers, store, RegistryConfig{}, 7};
  EcsEngine engine;
  std::string cloudmap_arn;
  std::string td_arn;

  explicit EcsHarness(EcsConfig config = {})
      : engine(sim.clock, sim.timers, store, registry, std::move(config), 11) {
    ServiceSpec spec;
    spec.records = RecordTypes{true, false, true};
    auto s = registry.put_service("web.local", spec);
    cloudmap_arn = s->arn;
    Cluster c;
    c.region = "us-east-1";
    c.name = "demo";
    (void)engine.create_cluster(c, {});
    td_arn = engine.register_task_definition(web_definition(), {})->arn;
  }

  EcsService web(int desired) const {
    EcsService s;
    s.region = "us-east-1";
    s.cluster = "demo";
    s.name = "web";
    s.desired_count = desired;
    s.task_definition_arn = td_arn;
    s.registries.push_back({cloudmap_arn, std::nullopt, "", std::nullopt});
    return s;
  }

  const EcsService& svc() const { return *engine.service("us-east-1", "demo", "web"); }

  std::vector<const Task*> active() const {
    std::vector<const Task*> out;
    for (const Task* t : engine.service_tasks(svc())) {
      if (t->desired_status == TaskStatus::Running) out.push_back(t);
    }
    return out;
  }
  std::size_t count(TaskStatus status) const {
    const auto tasks = engine.tasks("us-east-1", "demo");
    return static_cast<std::size_t>(std::count_if(
        tasks.begin(), tasks.end(), [&](const Task* t) { return t->last_status == status; }));
  }
  /// The A records DNS has for web.local now.
  std::vector<std::string> a_records() const {
    std::vector<std::string> out;
    for (const Task* t : registry.tasks()) {
      if (t->service_id == registry.service_by_dns_name("web.local")->id && t->registered() &&
          t->dns_health != Health::Unhealthy) {
        out.push_back(t->ipv4);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  bool has_event(const std::string& text) const {
    for (const auto& e : svc().events) {
      if (e.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace emu::core::ecs::test
