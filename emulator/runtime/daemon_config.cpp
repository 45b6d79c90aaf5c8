#include "emulator/runtime/daemon_config.hpp"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string_view>

#include "emulator/core/native_codec.hpp"

namespace emu::runtime {
namespace {

struct Option {
  const char* flag;  // without the leading --
  const char* env;
  const char* arg;  // nullptr = no value
  const char* help;
  std::function<Result<void>(DaemonConfig&, const std::string&)> set;
};

Result<void> bad(const std::string& flag, const std::string& reason) {
  return invalid("--" + flag + ": " + reason);
}

Result<void> set_duration(const std::string& flag, const std::string& v, Duration& out) {
  auto d = core::native::parse_duration(nlohmann::json(v), "--" + flag);
  if (!d) return d.error();
  out = *d;
  return {};
}

// A comma-separated list, added to what earlier flags gave (so the flag can be repeated).
Result<void> add_list(const std::string& flag, const std::string& v,
                      std::vector<std::string>& out) {
  std::stringstream in(v);
  std::string item;
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) continue;
    if (item.find_first_of(" \t/") != std::string::npos && item.find("://") == std::string::npos)
      return bad(flag, "'" + item + "' is not a host name or origin");
    out.push_back(item);
  }
  return {};
}

Result<void> set_count(const std::string& flag, const std::string& v, std::size_t max,
                       std::size_t& out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-' || n < 1 || n > max)
    return bad(flag, "must be a whole number from 1 to " + std::to_string(max));
  out = static_cast<std::size_t>(n);
  return {};
}

bool host_port_ok(const std::string& v) {
  // host:port, [v6]:port, or host alone (for --upstream, port 53).
  return !v.empty() && v.find(' ') == std::string::npos;
}

const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = {
      {"dns-listen", "ECS_EMULATOR_DNS_LISTEN", "ADDR:PORT",
       "DNS listen address, UDP and TCP (default 127.0.0.1:9053; port 0 picks one)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (!host_port_ok(v)) return bad("dns-listen", "expected ADDR:PORT");
         c.dns_listen = v;
         return {};
       }},
      {"api-listen", "ECS_EMULATOR_API_LISTEN", "ADDR:PORT",
       "HTTP API listen address: native REST and AWS JSON 1.1 (default 127.0.0.1:9080)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (!host_port_ok(v)) return bad("api-listen", "expected ADDR:PORT");
         c.api_listen = v;
         return {};
       }},
      {"state", "ECS_EMULATOR_STATE",
       "PATH|:memory:", "SQLite state file (default ./ecs-emulator.db); :memory: keeps nothing",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (v.empty()) return bad("state", "empty path");
         c.state = v;
         return {};
       }},
      {"fixtures", "ECS_EMULATOR_FIXTURES", "PATH",
       "fixture file or folder of *.json, applied at startup; repeatable (env: comma-separated)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         std::stringstream in(v);
         std::string item;
         while (std::getline(in, item, ',')) {
           if (!item.empty()) c.fixtures.push_back(item);
         }
         return {};
       }},
      {"upstream", "ECS_EMULATOR_UPSTREAM", "ADDR[:PORT]",
       "forward names outside our zones to this DNS server (default: off, answer REFUSED)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (v.empty() || v == "off") {
           c.upstream.reset();
           return {};
         }
         if (!host_port_ok(v)) return bad("upstream", "expected ADDR[:PORT]");
         c.upstream = v;
         return {};
       }},
      {"time-scale", "ECS_EMULATOR_TIME_SCALE", "F",
       "multiply ECS health-check timings (e.g. 0.1 for fast tests; default 1)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         char* end = nullptr;
         const double f = std::strtod(v.c_str(), &end);
         if (end == v.c_str() || *end != '\0' || !(f > 0) || f > 100)
           return bad("time-scale", "must be a number in (0, 100]");
         c.time_scale = f;
         return {};
       }},
      {"health-propagation-delay", "ECS_EMULATOR_HEALTH_PROPAGATION_DELAY", "D",
       "delay before a health change reaches DNS, as AWS's ~30s (default 0)",
       [](DaemonConfig& c, const std::string& v) {
         return set_duration("health-propagation-delay", v, c.health_propagation_delay);
       }},
      {"docker", "ECS_EMULATOR_DOCKER", "[unix:///var/run/docker.sock]",
       "run ECS tasks as Docker containers and discover labelled compose containers",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         const std::string url = v.empty() ? std::string("unix:///var/run/docker.sock") : v;
         if (url.rfind("unix:///", 0) != 0 && url.rfind('/', 0) != 0)
           return bad("docker",
                      "expected the Docker socket as unix:///path (tcp is not supported)");
         c.docker = url;
         return {};
       }},
      {"docker-network", "ECS_EMULATOR_DOCKER_NETWORK", "NAME",
       "Docker network of task containers; its address is a task's private IP (default bridge)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (v.empty() || v.find_first_of(" /:") != std::string::npos)
           return bad("docker-network", "expected a Docker network name");
         c.docker_network = v;
         return {};
       }},
      {"account-id", "ECS_EMULATOR_ACCOUNT_ID", "ID",
       "AWS account id in every ARN (default 000000000000)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (v.size() != 12 || v.find_first_not_of("0123456789") != std::string::npos)
           return bad("account-id", "must be 12 digits");
         c.account_id = v;
         return {};
       }},
      {"region", "ECS_EMULATOR_REGION", "REGION", "default AWS region (default us-east-1)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (v.empty() ||
             v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
           return bad("region", "expected a region name such as us-east-1");
         c.region = v;
         return {};
       }},
      {"default-namespace", "ECS_EMULATOR_DEFAULT_NAMESPACE", "NAME",
       "namespace of names given without one (default local)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (auto e = core::namespace_name_error(v)) return bad("default-namespace", *e);
         c.default_namespace = v;
         return {};
       }},
      {"task-cidr", "ECS_EMULATOR_TASK_CIDR", "CIDR",
       "private IPs of simulated tasks: data only, never probed (default 10.10.0.0/16)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         const auto slash = v.find('/');
         if (slash == std::string::npos || !core::native::parse_ipv4(v.substr(0, slash)))
           return bad("task-cidr", "expected an IPv4 CIDR such as 10.10.0.0/16");
         const int bits = std::atoi(v.c_str() + slash + 1);
         if (bits < 8 || bits > 30) return bad("task-cidr", "prefix length must be 8..30");
         c.task_cidr = v;
         return {};
       }},
      {"log-format", "ECS_EMULATOR_LOG_FORMAT", "text|json", "log line format (default text)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (!log::parse_format(v, c.log_format)) return bad("log-format", "must be text or json");
         return {};
       }},
      {"log-level", "ECS_EMULATOR_LOG_LEVEL", "LEVEL", "debug, info, warn or error (default info)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         if (!log::parse_level(v, c.log_level))
           return bad("log-level", "must be debug, info, warn or error");
         return {};
       }},
      {"api-max-connections", "ECS_EMULATOR_API_MAX_CONNECTIONS", "N",
       "HTTP API: open connections at most; when full the longest-idle one is closed, and with "
       "none idle a new one gets 503 (default 512)",
       [](DaemonConfig& c, const std::string& v) {
         return set_count("api-max-connections", v, 65536, c.api_max_connections);
       }},
      {"dns-tcp-max-connections", "ECS_EMULATOR_DNS_TCP_MAX_CONNECTIONS", "N",
       "DNS over TCP: open connections at most; when full the least recently active one is "
       "closed for a new one (default 256)",
       [](DaemonConfig& c, const std::string& v) {
         return set_count("dns-tcp-max-connections", v, 65536, c.dns_tcp_max_connections);
       }},
      {"dns-tcp-max-per-client", "ECS_EMULATOR_DNS_TCP_MAX_PER_CLIENT", "N",
       "DNS over TCP: open connections from one address at most (default 16)",
       [](DaemonConfig& c, const std::string& v) {
         return set_count("dns-tcp-max-per-client", v, 65536, c.dns_tcp_max_per_client);
       }},
      {"allow-command-probes", "ECS_EMULATOR_ALLOW_COMMAND_PROBES", "off|fixtures|all",
       "host-run command probes (they run as the daemon's user): off (default), only from "
       "fixture files, or also from the API",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         auto policy = core::parse_command_probes(v);
         if (!policy) return bad("allow-command-probes", "must be off, fixtures or all");
         c.allow_command_probes = *policy;
         return {};
       }},
      {"allowed-origins", "ECS_EMULATOR_ALLOWED_ORIGINS", "LIST",
       "more web origins that may call the API (loopback origins always may); "
       "http://app.test:3000, app.test, *.app.test or *; comma-separated, repeatable",
       [](DaemonConfig& c, const std::string& v) {
         return add_list("allowed-origins", v, c.allowed_origins);
       }},
      {"allowed-hosts", "ECS_EMULATOR_ALLOWED_HOSTS", "LIST",
       "more dotted names the API answers to in Host (IP addresses, single-label names and "
       "*.localhost always do); emulator.test, *.corp.test or *; comma-separated, repeatable",
       [](DaemonConfig& c, const std::string& v) {
         return add_list("allowed-hosts", v, c.allowed_hosts);
       }},
      {"ready-file", "ECS_EMULATOR_READY_FILE", "PATH",
       "once ready, write {\"dns\": ADDR:PORT, \"api\": ADDR:PORT} here (for test harnesses)",
       [](DaemonConfig& c, const std::string& v) -> Result<void> {
         c.ready_file = v;
         return {};
       }},
  };
  return kOptions;
}

}  // namespace

const char* version() { return "0.1.0"; }

std::string help_text() {
  std::string out =
      "ecs-emulator: local AWS ECS service discovery (ECS + Cloud Map APIs, authoritative DNS, "
      "health probes)\n\n"
      "Usage:\n"
      "  ecs-emulator [serve] [options]   run the daemon (default)\n"
      "  ecs-emulator healthcheck [--api-listen ADDR:PORT]\n"
      "                                   exit 0 when the local daemon is ready (GET /healthz)\n"
      "  ecs-emulator --version | --help\n\n"
      "Options (each also an environment variable; flags win):\n";
  for (const auto& o : options()) {
    std::string flag = std::string("  --") + o.flag + (o.arg ? std::string(" ") + o.arg : "");
    if (flag.size() < 42) flag.resize(42, ' ');
    out += flag + o.help + "\n" + std::string(44, ' ') + "env " + o.env + "\n";
  }
  out +=
      "\nExamples:\n"
      "  ecs-emulator --fixtures fixtures/game-server.json --state :memory:\n"
      "  dig @127.0.0.1 -p 9053 game-server.local\n";
  return out;
}

Result<DaemonConfig> parse_config(int argc, const char* const* argv) {
  DaemonConfig c;
  // Environment first, then flags on top.
  for (const auto& o : options()) {
    if (const char* v = std::getenv(o.env); v && *v) {
      if (auto r = o.set(c, v); !r)
        return Error{r.error().code, std::string(o.env) + ": " + r.error().message};
    }
  }
  bool fixtures_from_flags = false;
  int i = 1;
  if (argc > 1 && argv[1][0] != '-') {
    const std::string_view cmd = argv[1];
    if (cmd != "serve" && cmd != "healthcheck")
      return invalid("unknown command \"" + std::string(cmd) + "\" (serve, healthcheck)");
    c.command = cmd;
    i = 2;
  }
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      c.command = "help";
      return c;
    }
    if (arg == "--version" || arg == "-V") {
      c.command = "version";
      return c;
    }
    if (arg.rfind("--", 0) != 0) return invalid("unexpected argument \"" + arg + "\" (see --help)");
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Option* opt = nullptr;
    for (const auto& o : options()) {
      if (name == o.flag) opt = &o;
    }
    if (!opt) return invalid("unknown option --" + name + " (see --help)");
    if (!has_value) {
      const bool optional_value = name == "docker";
      if (i + 1 < argc && (std::string_view(argv[i + 1]).rfind("--", 0) != 0 || !optional_value)) {
        value = argv[++i];
      } else if (!optional_value) {
        return invalid("--" + name + ": needs a value " + opt->arg);
      }
    }
    if (name == "fixtures" && !fixtures_from_flags) {
      c.fixtures.clear();  // flags replace the environment's list
      fixtures_from_flags = true;
    }
    if (auto r = opt->set(c, value); !r) return r.error();
  }
  return c;
}

}  // namespace emu::runtime
