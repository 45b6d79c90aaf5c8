#include "emulator/core/fixtures.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "emulator/core/native_codec.hpp"

namespace emu::core {
namespace {

Error in_file(const std::string& file, const Error& e) { return {e.code, file + ": " + e.message}; }

}  // namespace

Result<FixtureSet> parse_fixture(const nlohmann::json& doc, const std::string& file) {
  FixtureSet set;
  set.file = file;
  if (!doc.is_object()) return invalid(file + ": the document must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "namespaces" && key != "services" && key != "taskDefinitions" &&
        key != "ecsServices") {
      return invalid(file + ": " + key +
                     ": unknown field (known: namespaces, services, taskDefinitions, ecsServices)");
    }
    if (!value.is_array()) return invalid(file + ": " + key + ": must be an array");
  }
  if (doc.contains("namespaces")) {
    const auto& list = doc.at("namespaces");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = "namespaces[" + std::to_string(i) + "]";
      auto spec = native::parse_namespace(list[i], path);
      if (!spec) return in_file(file, spec.error());
      if (spec->name.empty()) return invalid(file + ": " + path + ".name: required");
      set.namespaces.push_back(std::move(*spec));
    }
  }
  if (doc.contains("services")) {
    const auto& list = doc.at("services");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = "services[" + std::to_string(i) + "]";
      const auto& item = list[i];
      auto spec = native::parse_service(item, path);
      if (!spec) return in_file(file, spec.error());
      if (!item.contains("name") || !item.at("name").is_string()) {
        return invalid(file + ": " + path +
                       ".name: required (a DNS label such as \"game-server\")");
      }
      std::string name = item.at("name").get<std::string>();
      if (item.contains("namespace")) {
        if (!item.at("namespace").is_string())
          return invalid(file + ": " + path + ".namespace: must be a string");
        name += "." + item.at("namespace").get<std::string>();
      }
      auto dns = parse_dns_name(name, "local");
      if (!dns) return invalid(file + ": " + path + "." + dns.error().message);
      FixtureService fs;
      fs.dns_name = dns->full();
      fs.spec = std::move(*spec);
      if (item.contains("tasks")) {
        const auto& tasks = item.at("tasks");
        if (!tasks.is_array()) return invalid(file + ": " + path + ".tasks: must be an array");
        for (std::size_t k = 0; k < tasks.size(); ++k) {
          auto task = native::parse_task(tasks[k], path + ".tasks[" + std::to_string(k) + "]");
          if (!task) return in_file(file, task.error());
          if (fs.spec.records && fs.spec.records->srv && task->port == 0) {
            return invalid(file + ": " + path + ".tasks[" + std::to_string(k) +
                           "].port: required (1..65535) because the service publishes SRV records");
          }
          fs.tasks.push_back(std::move(*task));
        }
      }
      set.services.push_back(std::move(fs));
    }
  }
  if (doc.contains("taskDefinitions")) {
    for (const auto& td : doc.at("taskDefinitions")) set.task_definitions.push_back(td);
  }
  if (doc.contains("ecsServices")) {
    for (const auto& s : doc.at("ecsServices")) set.ecs_services.push_back(s);
  }
  return set;
}

Result<std::vector<FixtureSet>> load_fixtures(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json")
        files.push_back(entry.path().string());
    }
    if (ec) return invalid(path + ": cannot read the folder: " + ec.message());
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return invalid(path + ": no such file or folder");
  }
  std::vector<FixtureSet> sets;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return invalid(file + ": cannot open");
    std::stringstream buf;
    buf << in.rdbuf();
    auto doc = native::parse_json(buf.str());
    if (!doc) return in_file(file, doc.error());
    auto set = parse_fixture(*doc, file);
    if (!set) return set.error();
    sets.push_back(std::move(*set));
  }
  return sets;
}

Result<void> apply_fixture(const FixtureSet& set, Registry& registry) {
  for (const auto& ns : set.namespaces) {
    if (auto r = registry.put_namespace(ns); !r) return in_file(set.file, r.error());
  }
  for (const auto& fs : set.services) {
    auto service = registry.put_service(fs.dns_name, fs.spec);
    if (!service) return in_file(set.file, service.error());
    // Idempotent: an endpoint (or id) already running in the service is left as it is. The
    // running set is read once per service, not once per task (fixtures may hold thousands).
    std::set<std::string> ids;
    std::set<std::tuple<std::string, std::string, std::uint16_t>> endpoints;
    TaskFilter filter;
    filter.service_dns_name = fs.dns_name;
    for (const Task* t : registry.tasks(filter)) {
      if (!t->registered()) continue;
      ids.insert(t->id);
      endpoints.emplace(t->ipv4, t->ipv6, t->port);
    }
    for (const auto& task : fs.tasks) {
      const bool present = !task.id.empty()
                               ? ids.count(task.id) > 0
                               : endpoints.count({task.ipv4, task.ipv6, task.port}) > 0;
      if (present) continue;
      auto r = registry.register_task(fs.dns_name, task);
      if (!r) return in_file(set.file, r.error());
      ids.insert(r->id);
      endpoints.emplace(r->ipv4, r->ipv6, r->port);
    }
  }
  return {};
}

}  // namespace emu::core
