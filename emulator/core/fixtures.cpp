#include "emulator/core/fixtures.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "emulator/core/fixture_error.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::core {
namespace {

/// What a file that is not a regular one is, for the error.
std::string not_regular(const std::string& file, mode_t mode) {
  const char* kind = S_ISDIR(mode)    ? " (a folder)"
                     : S_ISFIFO(mode) ? " (a FIFO)"
                     : S_ISSOCK(mode) ? " (a socket)"
                     : S_ISCHR(mode)  ? " (a character device)"
                     : S_ISBLK(mode)  ? " (a block device)"
                                      : "";
  return file + ": not a regular file" + kind + "; fixtures are JSON files or folders of them";
}

std::string too_large(const std::string& file) {
  return file + ": larger than " + std::to_string(kMaxFixtureBytes / (1024 * 1024)) +
         " MiB, the limit for a fixture file";
}

/// Closes a descriptor at the end of the scope.
struct FdGuard {
  explicit FdGuard(int fd) : fd(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() { ::close(fd); }
  int fd;
};

/// A regular file's bytes, at most kMaxFixtureBytes. A FIFO, socket or device is refused before
/// any read (std::ifstream would wait for a FIFO's writer, or fill memory from /dev/zero).
Result<std::string> read_fixture_file(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return invalid(file + ": cannot read: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return invalid(not_regular(file, st.st_mode));
  // O_NONBLOCK: should the path turn into a FIFO after the stat, open() still does not wait.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return invalid(file + ": cannot open: " + std::strerror(errno));
  FdGuard guard{fd};
  if (::fstat(fd, &st) != 0) return invalid(file + ": cannot read: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return invalid(not_regular(file, st.st_mode));
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFixtureBytes) return invalid(too_large(file));
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return invalid(file + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    // The size is checked again as the file is read: it may be growing.
    if (text.size() + static_cast<std::size_t>(n) > kMaxFixtureBytes)
      return invalid(too_large(file));
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

/// The files a --fixtures path names: itself, or a folder's *.json entries sorted by name. Entries
/// are not filtered by type: a *.json that is not a regular file is an error, not skipped.
Result<std::vector<std::string>> files_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return invalid(path + ": no such file or folder");
    return invalid(path + ": cannot read: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return std::vector<std::string>{path};
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path().string());
  }
  if (ec) return invalid(path + ": cannot read the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

/// A namespace name as the Registry keys it (DNS names are case-insensitive; a final dot is
/// optional).
std::string namespace_key(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

/// Two definitions of one namespace or service would merge silently, the last one winning (its
/// TTL, its health check): refuse them, naming both places.
Result<void> check_unique(const std::vector<FixtureSet>& sets) {
  std::map<std::string, std::string> namespaces, services;  // name -> "file: namespaces[i]"
  auto claim = [](std::map<std::string, std::string>& seen, const std::string& name,
                  const std::string& here, const char* what) -> Result<void> {
    auto [it, fresh] = seen.emplace(name, here);
    if (fresh) return {};
    return invalid(here + ": " + what + " " + name + " is also defined in " + it->second);
  };
  for (const auto& set : sets) {
    for (std::size_t i = 0; i < set.namespaces.size(); ++i) {
      const std::string here = set.file + ": namespaces[" + std::to_string(i) + "]";
      if (auto r = claim(namespaces, namespace_key(set.namespaces[i].name), here, "namespace"); !r)
        return r;
    }
    for (std::size_t i = 0; i < set.services.size(); ++i) {
      const std::string here = set.file + ": services[" + std::to_string(i) + "]";
      if (auto r = claim(services, set.services[i].dns_name, here, "service"); !r) return r;
    }
  }
  return {};
}

}  // namespace

Result<FixtureSet> parse_fixture(const nlohmann::json& doc, const std::string& file) {
  FixtureSet set;
  set.file = file;
  if (!doc.is_object()) return invalid(file + ": the document must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "namespaces" && key != "services" && key != "taskDefinitions" &&
        key != "ecsServices") {
      return fixture_invalid(
          file, key, "unknown field (known: namespaces, services, taskDefinitions, ecsServices)");
    }
    if (!value.is_array()) return fixture_invalid(file, key, "must be an array");
  }
  if (doc.contains("namespaces")) {
    const auto& list = doc.at("namespaces");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = "namespaces[" + std::to_string(i) + "]";
      auto spec = native::parse_namespace(list[i], path);
      if (!spec) return fixture_error(file, spec.error());
      if (spec->name.empty()) return fixture_invalid(file, path + ".name", "required");
      set.namespaces.push_back(std::move(*spec));
    }
  }
  if (doc.contains("services")) {
    const auto& list = doc.at("services");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = "services[" + std::to_string(i) + "]";
      const auto& item = list[i];
      auto spec = native::parse_service(item, path);
      if (!spec) return fixture_error(file, spec.error());
      if (!item.contains("name") || !item.at("name").is_string()) {
        return fixture_invalid(file, path + ".name",
                               "required (a DNS label such as \"game-server\")");
      }
      std::string name = item.at("name").get<std::string>();
      if (item.contains("namespace")) {
        if (!item.at("namespace").is_string())
          return fixture_invalid(file, path + ".namespace", "must be a string");
        name += "." + item.at("namespace").get<std::string>();
      }
      auto dns = parse_dns_name(name, "local", path + ".name");
      if (!dns) return fixture_error(file, dns.error());
      FixtureService fs;
      fs.dns_name = dns->full();
      fs.spec = std::move(*spec);
      if (item.contains("tasks")) {
        const auto& tasks = item.at("tasks");
        if (!tasks.is_array()) return fixture_invalid(file, path + ".tasks", "must be an array");
        for (std::size_t k = 0; k < tasks.size(); ++k) {
          auto task = native::parse_task(tasks[k], path + ".tasks[" + std::to_string(k) + "]");
          if (!task) return fixture_error(file, task.error());
          if (fs.spec.records && fs.spec.records->srv && task->port == 0) {
            return fixture_invalid(file, path + ".tasks[" + std::to_string(k) + "].port",
                                   "required (1..65535) because the service publishes SRV records");
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

Result<std::vector<FixtureSet>> load_fixture_files(const std::vector<std::string>& paths) {
  std::vector<FixtureSet> sets;
  for (const auto& path : paths) {
    auto files = files_of(path);
    if (!files) return files.error();
    for (const auto& file : *files) {
      auto text = read_fixture_file(file);
      if (!text) return text.error();
      auto doc = native::parse_json(*text);
      if (!doc) return fixture_error(file, doc.error());
      auto set = parse_fixture(*doc, file);
      if (!set) return set.error();
      sets.push_back(std::move(*set));
    }
  }
  if (auto r = check_unique(sets); !r) return r.error();
  return sets;
}

Result<std::vector<FixtureSet>> load_fixtures(const std::string& path) {
  return load_fixture_files({path});
}

namespace {
Result<void> apply_in(const FixtureSet& set, Registry& registry) {
  for (const auto& ns : set.namespaces) {
    if (auto r = registry.put_namespace(ns); !r) return fixture_error(set.file, r.error());
  }
  for (const auto& fs : set.services) {
    auto service = registry.put_service(fs.dns_name, fs.spec);
    if (!service) return fixture_error(set.file, service.error());
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
      if (!r) return fixture_error(set.file, r.error());
      ids.insert(r->id);
      endpoints.emplace(r->ipv4, r->ipv6, r->port);
    }
  }
  return {};
}

}  // namespace

Result<void> apply_fixture(const FixtureSet& set, Registry& registry) {
  // One store transaction for the whole file, and one zone publication after it.
  Registry::Transaction txn(registry);
  if (auto r = apply_in(set, registry); !r) return r;
  return txn.finish();
}

}  // namespace emu::core
