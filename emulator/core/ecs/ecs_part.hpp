#pragma once
// What every part of the ECS layer works with (EcsTasks, DockerTaskDriver, ServiceScheduler):
// time, the timer queue, the store, the registry, the settings and the catalog. EcsEngine owns
// them all and hands each part one EcsPart, so the parts name their dependencies once.

#include "emulator/core/ecs/ecs_catalog.hpp"
#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::core::ecs {

/// The shared dependencies, by reference (they outlive every part).
class EcsPart {
 public:
  EcsPart(const TimeSource& time, TimerQueue& timers, Store& store, Registry& registry,
          const EcsConfig& config, EcsCatalog& catalog)
      : time_(time),
        timers_(timers),
        store_(store),
        registry_(registry),
        config_(config),
        catalog_(catalog) {}

 protected:
  const TimeSource& time_;
  TimerQueue& timers_;
  Store& store_;
  Registry& registry_;
  const EcsConfig& config_;
  EcsCatalog& catalog_;
};

}  // namespace emu::core::ecs
