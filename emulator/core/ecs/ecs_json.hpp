#pragma once
// The stored form of the ECS entities (kinds "cluster", "task-definition", "ecs-service",
// "ecs-task", "ecs-tags"): JSON bodies of the generic Store. Times are epoch milliseconds.

#include <nlohmann/json.hpp>
#include <vector>

#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"

namespace emu::core::ecs::stored {

nlohmann::json to_json(const Cluster& c);
nlohmann::json to_json(const TaskDefinition& td);
nlohmann::json to_json(const EcsService& s);
nlohmann::json to_json(const TaskExtra& e);
nlohmann::json to_json(const ContainerInfo& c);
nlohmann::json to_json(const TaskContainer& c);
Result<Cluster> cluster_from(const nlohmann::json& j);
Result<TaskDefinition> task_definition_from(const nlohmann::json& j);
Result<EcsService> service_from(const nlohmann::json& j);
Result<TaskExtra> task_extra_from(const nlohmann::json& j);
Result<ContainerInfo> container_from(const nlohmann::json& j);
Result<TaskContainer> task_container_from(const nlohmann::json& j);

/// The Upsert of an entity's row (kind and id as load() expects them).
StoreChange row(const Cluster& c);
StoreChange row(const TaskDefinition& td);
StoreChange row(const EcsService& s);
/// Writes `changes` in one store commit.
Result<void> commit(Store& store, std::vector<StoreChange> changes);

}  // namespace emu::core::ecs::stored
