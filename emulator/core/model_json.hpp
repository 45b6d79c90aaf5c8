#pragma once
// The persistence format of the model: what the Store keeps as JSON bodies. Internal field names
// (not the API's); durations in milliseconds, times in epoch milliseconds. Reading is strict and
// returns an error naming the field, so a damaged row is reported, not guessed.

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/core/model.hpp"
#include "emulator/core/result.hpp"

namespace emu::core::persist {

nlohmann::json to_json(const Namespace& ns);
nlohmann::json to_json(const Service& service);
nlohmann::json to_json(const Task& task);
Result<Namespace> namespace_from(const nlohmann::json& j);
Result<Service> service_from(const nlohmann::json& j);
Result<Task> task_from(const nlohmann::json& j);

}  // namespace emu::core::persist
