#pragma once
// Settings of the ECS layer, resolved once at startup (EcsEngine::validate checks them).

#include <cstddef>
#include <string>

#include "emulator/core/time.hpp"

namespace emu::core::ecs {

struct EcsConfig {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::string task_cidr = "10.10.0.0/16";
  Duration step{50};        ///< delay between two lifecycle states of a simulated task
  double time_scale = 1.0;  ///< multiplies ECS health-check timings (probes of real containers)
  std::size_t max_events = 100;
  Duration throttle_base{10'000};         ///< first restart delay after repeated start failures
  Duration throttle_max{900'000};         ///< ECS: up to 15 minutes
  std::string docker_network = "bridge";  ///< Docker tasks: network of a task's first container
  int stop_timeout_s = 30;  ///< ECS_CONTAINER_STOP_TIMEOUT; a container's stopTimeout wins
};

}  // namespace emu::core::ecs
