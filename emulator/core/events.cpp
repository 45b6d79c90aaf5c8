#include "emulator/core/events.hpp"

namespace emu::core {
namespace {

using nlohmann::json;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + list[i];
  return out;
}

/// `; A 10.0.0.1 removed from web.local.; A 10.0.0.2 added to web.local.` (empty: none moved).
std::string records_suffix(const TaskChange& c, std::string_view separator = "; ") {
  std::string out;
  if (!c.records_removed.empty())
    out += std::string(separator) + join(c.records_removed) + " removed from " + c.service + ".";
  if (!c.records_added.empty())
    out += std::string(separator) + join(c.records_added) + " added to " + c.service + ".";
  return out;
}

/// `task 1f.. (web.local)`, or `task 1f..` when the task is in no service.
std::string task_phrase(const TaskChange& c, std::string_view noun = "task") {
  std::string out = std::string(noun) + " " + c.task_id;
  if (!c.service.empty()) out += " (" + c.service + ")";
  return out;
}

std::string health_phrase(Health h, const std::string& reason) {
  std::string s = to_string(h);
  if (!reason.empty()) s += " (" + reason + ")";
  return s;
}

json records_json(const TaskChange& c) {
  return {{"recordsAdded", c.records_added}, {"recordsRemoved", c.records_removed}};
}

json task_json(const TaskChange& c) {
  json j = records_json(c);
  j["taskId"] = c.task_id;
  j["service"] = c.service;
  j["ip"] = c.ip();
  j["port"] = c.port;
  return j;
}

}  // namespace

std::string_view to_string(TaskStateChanged::Kind kind) {
  switch (kind) {
    case TaskStateChanged::Kind::Provisioning:
      return "TaskProvisioning";
    case TaskStateChanged::Kind::StatusChanged:
      return "TaskStatusChanged";
    case TaskStateChanged::Kind::Stopping:
      return "TaskStopping";
    case TaskStateChanged::Kind::Stopped:
      return "TaskStopped";
    case TaskStateChanged::Kind::HealthChanged:
      return "TaskHealthChanged";
    case TaskStateChanged::Kind::Updated:
      return "TaskUpdated";
  }
  return "TaskStatusChanged";
}

std::string_view Event::type() const {
  return std::visit(
      Overloaded{
          [](const NamespaceCreated&) -> std::string_view { return "NamespaceCreated"; },
          [](const NamespaceUpdated&) -> std::string_view { return "NamespaceUpdated"; },
          [](const NamespaceDeleted&) -> std::string_view { return "NamespaceDeleted"; },
          [](const ServiceCreated&) -> std::string_view { return "ServiceCreated"; },
          [](const ServiceUpdated&) -> std::string_view { return "ServiceUpdated"; },
          [](const ServiceDeleted&) -> std::string_view { return "ServiceDeleted"; },
          [](const TaskRegistered& e) -> std::string_view {
            return e.again ? "TaskUpdated" : "TaskRegistered";
          },
          [](const TaskDeregistered&) -> std::string_view { return "TaskDeregistered"; },
          [](const TaskStopped&) -> std::string_view { return "TaskStopped"; },
          [](const TaskHealthChanged&) -> std::string_view { return "TaskHealthChanged"; },
          [](const TaskDnsHealthChanged&) -> std::string_view { return "TaskDnsHealthChanged"; },
          [](const TaskStateChanged& e) { return to_string(e.kind); },
          [](const StateReset&) -> std::string_view { return "Reset"; },
      },
      body);
}

std::string Event::message() const {
  return std::visit(
      Overloaded{
          [](const NamespaceCreated& e) {
            return "namespace " + e.ns + " created (zone " + e.ns + ".)";
          },
          [](const NamespaceUpdated& e) { return "namespace " + e.ns + " updated"; },
          [](const NamespaceDeleted& e) { return "namespace " + e.ns + " deleted"; },
          [](const ServiceCreated& e) { return "service " + e.service + " created"; },
          [](const ServiceUpdated& e) { return "service " + e.service + " updated"; },
          [](const ServiceDeleted& e) {
            std::string m = "service " + e.service + " deleted";
            if (!e.records_removed.empty()) {
              m += "; " + std::to_string(e.records_removed.size()) + " records removed from " +
                   e.service + ".";
            }
            return m;
          },
          [](const TaskRegistered& e) {
            return task_phrase(e.change) + " registered" + records_suffix(e.change);
          },
          [](const TaskDeregistered& e) {
            return task_phrase(e.change, "instance") + " deregistered" + records_suffix(e.change);
          },
          [](const TaskStopped& e) {
            const auto& c = e.change;
            return task_phrase(c) + " STOPPED (" + c.stop_code + ": " + c.reason + ")" +
                   records_suffix(c);
          },
          [](const TaskHealthChanged& e) {
            const auto& c = e.change;
            std::string m = task_phrase(c) + " " + health_phrase(c.new_health, c.reason);
            const std::string records = records_suffix(c);
            if (!records.empty()) {
              m += records;
            } else if (e.dns_delay) {
              m += "; DNS follows in " + std::to_string(e.dns_delay->count()) + " ms";
            }
            return m;
          },
          [](const TaskDnsHealthChanged& e) {
            return task_phrase(e.change) + " " + to_string(e.change.new_health) + " reached DNS" +
                   records_suffix(e.change, ": ");
          },
          [](const TaskStateChanged& e) { return e.what + records_suffix(e.change); },
          [](const StateReset&) {
            return std::string("state reset: every namespace, service and task removed");
          },
      },
      body);
}

json Event::detail() const {
  return std::visit(
      Overloaded{
          [](const NamespaceCreated& e) -> json {
            return {{"namespace", e.ns}, {"namespaceId", e.namespace_id}};
          },
          [](const NamespaceUpdated& e) -> json {
            return {{"namespace", e.ns}, {"namespaceId", e.namespace_id}};
          },
          [](const NamespaceDeleted& e) -> json {
            return {{"namespace", e.ns}, {"namespaceId", e.namespace_id}};
          },
          [](const ServiceCreated& e) -> json {
            return {{"service", e.service}, {"serviceId", e.service_id}};
          },
          [](const ServiceUpdated& e) -> json {
            return {{"service", e.service}, {"serviceId", e.service_id}};
          },
          [](const ServiceDeleted& e) -> json {
            return {{"service", e.service},
                    {"serviceId", e.service_id},
                    {"recordsRemoved", e.records_removed}};
          },
          [](const TaskRegistered& e) {
            json j = task_json(e.change);
            j["newStatus"] = to_string(e.change.new_status);
            j["newHealth"] = to_string(e.change.new_health);
            return j;
          },
          [](const TaskDeregistered& e) {
            json j = task_json(e.change);
            j["ip"] = e.change.ipv4;
            return j;
          },
          [](const TaskStopped& e) {
            const auto& c = e.change;
            json j = task_json(c);
            j["oldStatus"] = c.old_status ? json(to_string(*c.old_status)) : json(nullptr);
            j["newStatus"] = to_string(c.new_status);
            j["stopCode"] = c.stop_code;
            j["reason"] = c.reason;
            return j;
          },
          [](const TaskHealthChanged& e) {
            json j = task_json(e.change);
            j["oldHealth"] = to_string(e.change.old_health);
            j["newHealth"] = to_string(e.change.new_health);
            j["reason"] = e.change.reason;
            return j;
          },
          [](const TaskDnsHealthChanged& e) {
            json j = records_json(e.change);
            j["taskId"] = e.change.task_id;
            j["service"] = e.change.service;
            j["newHealth"] = to_string(e.change.new_health);
            j["reason"] = e.change.reason;
            return j;
          },
          [](const TaskStateChanged& e) {
            const auto& c = e.change;
            json j = task_json(c);
            j["oldStatus"] = c.old_status ? json(to_string(*c.old_status)) : json(nullptr);
            j["newStatus"] = to_string(c.new_status);
            j["newHealth"] = to_string(c.new_health);
            j["stopCode"] = c.stop_code;
            j["reason"] = c.reason;
            return j;
          },
          [](const StateReset&) { return json::object(); },
      },
      body);
}

std::optional<std::string_view> Event::revision_service() const {
  // Cloud Map: registrations, deregistrations and service changes move InstancesRevision;
  // health changes do not.
  const auto of = [](const std::string& service) -> std::optional<std::string_view> {
    if (service.empty()) return std::nullopt;
    return std::string_view(service);
  };
  return std::visit(Overloaded{
                        [&](const ServiceCreated& e) { return of(e.service); },
                        [&](const ServiceUpdated& e) { return of(e.service); },
                        [&](const ServiceDeleted& e) { return of(e.service); },
                        [&](const TaskRegistered& e) { return of(e.change.service); },
                        [&](const TaskDeregistered& e) { return of(e.change.service); },
                        [&](const TaskStopped& e) { return of(e.change.service); },
                        [&](const TaskStateChanged& e) {
                          return e.kind == TaskStateChanged::Kind::HealthChanged
                                     ? std::optional<std::string_view>()
                                     : of(e.change.service);
                        },
                        [](const auto&) { return std::optional<std::string_view>(); },
                    },
                    body);
}

}  // namespace emu::core
