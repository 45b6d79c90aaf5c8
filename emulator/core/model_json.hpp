#pragma once
// The persistence format of the model: what the Store keeps as JSON bodies. Internal field names
// (not the API's); durations in milliseconds, times in epoch milliseconds. Reading is strict and
// returns an error naming the field, so a damaged row is reported, not guessed.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "emulator/core/model.hpp"
#include "emulator/core/result.hpp"

namespace emu::core::persist {

nlohmann::json to_json(const Namespace& ns);
nlohmann::json to_json(const Service& service);
nlohmann::json to_json(const Task& task);
Result<Namespace> namespace_from(const nlohmann::json& j);
Result<Service> service_from(const nlohmann::json& j);
Result<Task> task_from(const nlohmann::json& j);

/// The stored text of a task: byte for byte `to_json(task).dump()`, written without building a
/// JSON tree (a registration, and a fixture of 10,000 tasks, write one per task).
std::string task_body(const Task& task);
/// Reads a stored task body: the same result as `task_from` of the parsed text. The rows this
/// format writes are read without building a JSON tree (a restart reads every task); anything
/// else (non-ASCII text, unknown fields, other number forms, damage) takes the general parser.
Result<Task> task_from_body(std::string_view body);

}  // namespace emu::core::persist
