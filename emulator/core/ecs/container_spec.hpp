#pragma once
// From a task definition to the Docker containers of one task (the Docker launch backend), as a
// pure function: plan_for() builds the Docker Engine API `POST /containers/create` bodies the
// TaskRuntime sends. Names and labels follow the ECS agent, so `docker ps` reads like an ECS
// container instance.

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/ecs/task_runtime.hpp"
#include "emulator/core/model.hpp"

namespace emu::core::ecs {

/// `ecs-<family>-<revision>-<container>-<first 12 of the task id>` (ECS agent style), keeping
/// only [a-zA-Z0-9_.-].
std::string docker_name(const TaskDefinition& td, const std::string& container_name,
                        const std::string& task_id);

/// An ECS healthCheck time (whole seconds) as Docker's nanoseconds, multiplied by `time_scale`.
/// 0 stays 0 (Docker: inherit); anything else is at least 1 ms (Docker's minimum).
std::int64_t health_nanoseconds(int seconds, double time_scale);

/// The containers of `task`, one per containerDefinitions[] entry in order: Image, Cmd,
/// Entrypoint, Env, WorkingDir, User, Labels (dockerLabels + the ECS agent's), ExposedPorts,
/// Healthcheck (scaled by cfg.time_scale), StopTimeout, HostConfig (NetworkMode: cfg.docker_network
/// for the first, `container:<first>` for the others). `overrides` is RunTask's overrides
/// (containerOverrides[].command and .environment apply).
[[nodiscard]] TaskPlan plan_for(const TaskDefinition& td, const Task& task, const EcsConfig& cfg,
                                const nlohmann::json& overrides = nlohmann::json::object());

}  // namespace emu::core::ecs
