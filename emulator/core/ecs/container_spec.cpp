#include "emulator/core/ecs/container_spec.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "emulator/core/docker_model.hpp"

namespace emu::core::ecs {

using nlohmann::json;

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

/// The containerDefinitions[] entry of that name in the registered body ({} when absent: task
/// definitions built in code carry only ContainerInfo).
json definition_of(const TaskDefinition& td, const std::string& name) {
  const auto it = td.body.find("containerDefinitions");
  if (it == td.body.end() || !it->is_array()) return json::object();
  for (const auto& def : *it) {
    if (def.is_object() && def.value("name", "") == name) return def;
  }
  return json::object();
}

/// containerOverrides[] entry of that name ({} when none).
json override_of(const json& overrides, const std::string& name) {
  if (!overrides.is_object()) return json::object();
  const auto it = overrides.find("containerOverrides");
  if (it == overrides.end() || !it->is_array()) return json::object();
  for (const auto& o : *it) {
    if (o.is_object() && o.value("name", "") == name) return o;
  }
  return json::object();
}

bool string_list(const json& j) {
  return j.is_array() &&
         std::all_of(j.begin(), j.end(), [](const json& v) { return v.is_string(); });
}

/// `environment` [{name, value}] with the override's entries winning, as Docker's NAME=value.
json environment(const json& def, const json& over) {
  std::map<std::string, std::string> env;
  for (const json* list : {&def, &over}) {
    const auto it = list->find("environment");
    if (it == list->end() || !it->is_array()) continue;
    for (const auto& e : *it) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) continue;
      const auto& v = e.value("value", json());
      env[e["name"].get<std::string>()] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  json out = json::array();
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

/// The cluster ARN from a task ARN (`...:task/<cluster>/<id>` -> `...:cluster/<cluster>`), as the
/// Fargate agent labels containers.
std::string cluster_arn_of(const Task& task) {
  const auto pos = task.arn.find(":task/");
  if (pos == std::string::npos) return task.cluster;
  return task.arn.substr(0, pos) + ":cluster/" + task.cluster;
}

}  // namespace

std::string docker_name(const TaskDefinition& td, const std::string& container_name,
                        const std::string& task_id) {
  const std::string raw = "ecs-" + td.family + "-" + std::to_string(td.revision) + "-" +
                          container_name + "-" + task_id.substr(0, 12);
  std::string out;
  for (char c : raw) {
    if (name_char(c)) out += c;
  }
  return out;
}

std::int64_t health_nanoseconds(int seconds, double time_scale) {
  if (seconds <= 0) return 0;
  const auto ns = static_cast<std::int64_t>(std::llround(seconds * 1e9 * time_scale));
  return std::max<std::int64_t>(ns, 1'000'000);  // Docker: 0 or at least 1 ms
}

TaskPlan plan_for(const TaskDefinition& td, const Task& task, const EcsConfig& cfg,
                  const json& overrides) {
  TaskPlan plan;
  plan.task_id = task.id;
  plan.task_arn = task.arn;
  if (!td.containers.empty()) plan.image_of_first = td.containers.front().image;
  std::string first;
  for (const auto& c : td.containers) {
    const json def = definition_of(td, c.name);
    const json over = override_of(overrides, c.name);
    ContainerPlan cp;
    cp.container_name = c.name;
    cp.docker_name = docker_name(td, c.name, task.id);
    cp.essential = c.essential;
    json& b = cp.body;
    b["Image"] = c.image;
    if (string_list(over.value("command", json()))) {
      b["Cmd"] = over["command"];
    } else if (string_list(def.value("command", json()))) {
      b["Cmd"] = def["command"];
    }
    if (string_list(def.value("entryPoint", json()))) b["Entrypoint"] = def["entryPoint"];
    b["Env"] = environment(def, over);
    if (def.contains("workingDirectory") && def["workingDirectory"].is_string())
      b["WorkingDir"] = def["workingDirectory"];
    if (def.contains("user") && def["user"].is_string()) b["User"] = def["user"];
    json labels = json::object();
    if (def.contains("dockerLabels") && def["dockerLabels"].is_object()) {
      for (const auto& [k, v] : def["dockerLabels"].items()) {
        if (v.is_string()) labels[k] = v;
      }
    }
    // Ours last: a dockerLabel cannot hide which task a container belongs to.
    labels[kLabelTaskId] = task.id;
    labels[kLabelTaskArn] = task.arn;
    labels[kLabelCluster] = cluster_arn_of(task);
    labels[kLabelFamily] = td.family;
    labels[kLabelRevision] = std::to_string(td.revision);
    labels[kLabelContainerName] = c.name;
    b["Labels"] = labels;
    if (!c.port_mappings.empty()) {
      json ports = json::object();
      for (const auto& m : c.port_mappings)
        ports[std::to_string(m.container_port) + "/" + m.protocol] = json::object();
      b["ExposedPorts"] = ports;
    }
    if (c.health_check && !c.health_check->command.empty()) {
      const auto& h = *c.health_check;
      // ECS passes the command to Docker as it is: ["CMD-SHELL", "..."] or ["CMD", argv...].
      b["Healthcheck"] = {{"Test", h.command},
                          {"Interval", health_nanoseconds(h.interval, cfg.time_scale)},
                          {"Timeout", health_nanoseconds(h.timeout, cfg.time_scale)},
                          {"StartPeriod", health_nanoseconds(h.start_period, cfg.time_scale)},
                          {"Retries", h.retries}};
    }
    const auto stop = def.find("stopTimeout");
    b["StopTimeout"] =
        stop != def.end() && stop->is_number_integer() ? stop->get<int>() : cfg.stop_timeout_s;
    bool init = false;
    if (def.contains("linuxParameters") && def["linuxParameters"].is_object()) {
      const auto& lp = def["linuxParameters"];
      init = lp.contains("initProcessEnabled") && lp["initProcessEnabled"].is_boolean() &&
             lp["initProcessEnabled"].get<bool>();
    }
    // The containers of a task share the first one's network namespace (one ENI in awsvpc).
    b["HostConfig"] = {{"NetworkMode", first.empty() ? cfg.docker_network : "container:" + first},
                       {"Init", init}};
    if (first.empty()) first = cp.docker_name;
    plan.containers.push_back(std::move(cp));
  }
  return plan;
}

}  // namespace emu::core::ecs
