#pragma once
// FakeTaskRuntime: the Docker side of EcsEngine for tests. Records what the engine asks (launch,
// stop, remove) and reports nothing by itself; the test plays Docker's reports back through the
// engine's on_* calls (start() does the usual "created, then started" pair).

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/ecs/task_runtime.hpp"

namespace emu::test {

class FakeTaskRuntime final : public core::ecs::TaskRuntime {
 public:
  struct Stop {
    std::string task_id;
    std::vector<std::string> container_ids;
    int timeout_s = 0;
  };

  void launch(const core::ecs::TaskPlan& plan) override { launches.push_back(plan); }
  void stop(const std::string& task_id, const std::vector<std::string>& container_ids,
            int stop_timeout_s) override {
    stops.push_back({task_id, container_ids, stop_timeout_s});
  }
  void remove(const std::vector<std::string>& container_ids) override {
    removes.push_back(container_ids);
  }

  /// The Docker id the fake gives a task's container.
  static std::string docker_id(const std::string& task_id, const std::string& container) {
    return "d0c" + task_id.substr(0, 8) + container;
  }
  /// Docker created and started every container of a launch, at `ip`.
  static void start(core::ecs::EcsEngine& engine, const core::ecs::TaskPlan& plan,
                    const std::string& ip) {
    std::vector<std::pair<std::string, std::string>> ids;
    for (const auto& c : plan.containers)
      ids.emplace_back(c.container_name, docker_id(plan.task_id, c.container_name));
    engine.on_containers_created(plan.task_id, ids);
    engine.on_task_started(plan.task_id, ip, "");
  }

  std::vector<core::ecs::TaskPlan> launches;
  std::vector<Stop> stops;
  std::vector<std::vector<std::string>> removes;
};

}  // namespace emu::test
