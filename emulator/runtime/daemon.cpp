#include "emulator/runtime/daemon.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "api/api_context.hpp"
#include "api/aws/cloudmap_handlers.hpp"
#include "api/aws/ecs_handlers.hpp"  // ECS layer
#include "api/http_listener.hpp"
#include "api/route53/route53_handlers.hpp"
#include "api/router.hpp"
#include "dns/dns_server.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"  // ECS layer
#include "emulator/core/endpoint_policy.hpp"
#include "emulator/core/fixtures.hpp"
#include "emulator/core/native_codec.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/log/log.hpp"
#include "emulator/runtime/daemon_metrics.hpp"
#include "emulator/runtime/dns_lookup.hpp"
#include "emulator/runtime/docker_backend.hpp"
#include "emulator/runtime/fd_limit.hpp"
#include "emulator/runtime/health_dns_meter.hpp"
#include "emulator/runtime/health_glue.hpp"
#include "emulator/runtime/heap_reserve.hpp"
#include "emulator/runtime/prober_thread.hpp"
#include "emulator/store/sqlite_store.hpp"
#include "emulator/timer/asio_timer_driver.hpp"

namespace emu::runtime {
namespace {

constexpr Duration kPurgeEvery{60'000};
constexpr auto kShutdownGrace = std::chrono::seconds(5);

bool write_ready_file(const std::string& path, const std::string& dns, const std::string& api) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << nlohmann::json{{"dns", dns}, {"api", api}, {"pid", ::getpid()}}.dump() << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

std::string host_of(const std::string& listen) {
  const auto colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

}  // namespace

int Daemon::run() {
  log::configure(config_.log_level, config_.log_format);
  // Connections and probes each hold a descriptor: a flood must not reach EMFILE at 1024.
  if (auto fd = raise_fd_limit(); !fd) {
    log::warn("runtime", fd.error().message);
  } else if (fd->raised()) {
    log::debug("runtime", "open-file limit raised",
               {{"soft", std::to_string(fd->after)}, {"was", std::to_string(fd->before)}});
  }
  // Before the state is loaded: the load's allocations land in one huge-page heap reserve.
  if (auto heap = reserve_heap(); !heap) {
    log::warn("runtime", heap.error().message);
  } else {
    log::debug("runtime", "heap reserved",
               {{"bytes", std::to_string(heap->bytes)}, {"huge", std::to_string(heap->huge)}});
  }
  boost::asio::io_context io;
  // Caught from here on: a SIGTERM during startup waits in the set (Asio queues it) and is handled
  // once the loop runs, so no signal ends the daemon without its clean shutdown.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  SteadyTimeSource clock;
  TimerQueue timers;

  auto store = store::SqliteStore::open(config_.state);
  if (!store) {
    log::error("state", store.error().message);
    return 1;
  }
  core::RegistryConfig rc;
  rc.region = config_.region;
  rc.account_id = config_.account_id;
  rc.default_namespace = config_.default_namespace;
  rc.health_propagation_delay = config_.health_propagation_delay;
  core::Registry registry(clock, timers, **store, rc, std::random_device{}());
  // The state is read once; the registry and the ECS layer each take their rows from it.
  auto stored = (*store)->load();
  if (!stored) {
    log::error("state", config_.state + ": " + stored.error().message);
    return 1;
  }
  if (auto r = registry.load(*stored); !r) {
    log::error("state", config_.state + ": " + r.error().message);
    return 1;
  }
  // Stops native endpoints that turn UNHEALTHY under `onUnhealthy: stop` (the lifecycle owner of
  // ECS tasks is the engine's scheduler; compose tasks are never stopped).
  core::EndpointPolicy endpoint_policy(registry);
  // --- ECS layer: clusters, task definitions, services, simulated tasks (before fixtures) ---
  core::ecs::EcsConfig ecs_config;
  ecs_config.region = config_.region;
  ecs_config.account_id = config_.account_id;
  ecs_config.task_cidr = config_.task_cidr;
  ecs_config.time_scale = config_.time_scale;
  ecs_config.docker_network = config_.docker_network;
  if (auto r = core::ecs::EcsEngine::validate(ecs_config); !r) {
    log::error("ecs", r.error().message);
    return 1;
  }
  core::ecs::EcsEngine ecs(clock, timers, **store, registry, ecs_config, std::random_device{}());
  // --- Docker: ECS tasks as containers, compose discovery (before ecs.load(): the runtime) ---
  std::optional<DockerBackend> docker;
  if (config_.docker) {
    docker.emplace(io, registry, ecs, DockerBackendConfig{*config_.docker, config_.docker_network});
    if (auto r = docker->connect(); !r) {
      log::error("docker", r.error().message);
      return 1;
    }
  }
  if (auto r = ecs.load(*stored); !r) {
    log::error("state", config_.state + ": " + r.error().message);
    return 1;
  }
  std::vector<core::StoredEntity>().swap(stored->entities);  // the rows are in memory now
  api::aws::EcsHandlers ecs_handlers(ecs);
  // --- end ECS layer ---
  std::optional<core::Registry::Bulk> bulk(registry);  // one snapshot build for all fixtures
  {
    // All paths at once: a name defined in two files is refused before anything is applied.
    auto sets = core::load_fixture_files(config_.fixtures);
    if (!sets) {
      log::error("fixtures", sets.error().message);
      return 1;
    }
    for (const auto& set : *sets) {  // refused before anything is applied, as duplicates are
      if (auto r = core::check_command_probes(set, config_.allow_command_probes); !r) {
        log::error("fixtures", r.error().message);
        return 1;
      }
    }
    for (const auto& set : *sets) {
      if (auto r = core::apply_fixture(set, registry); !r) {
        log::error("fixtures", r.error().message);
        return 1;
      }
      if (auto r = api::aws::apply_ecs_fixture(ecs_handlers, set, config_.region);
          !r) {  // ECS layer
        log::error("fixtures", r.error().message);
        return 1;
      }
      log::info("fixtures", "applied " + set.file,
                {{"services", std::to_string(set.services.size())}});
    }
  }
  bulk.reset();  // publish the zones once, with every fixture applied
  if (docker) {
    if (auto r = docker->start(); !r) {
      log::error("docker", r.error().message);
      return 1;
    }
  }

  timer::AsioTimerDriver driver(io, clock, timers);
  HealthDnsMeter health_dns(clock, registry);
  registry.add_observer([&](const core::CommitInfo& info) { health_dns.on_commit(info); });
  // The probes run on their own thread; what they find comes back in batches to this one.
  // Off: stored command probes (from an earlier run that allowed them) spawn nothing either.
  HealthGlue glue(registry);
  ProberThread prober(
      io, [&glue](std::vector<ProbeReport>& batch) { glue.apply(batch); },
      {.executor = {.allow_commands = config_.allow_command_probes != core::CommandProbes::Off}});

  registry.add_observer([&](const core::CommitInfo& info) {
    for (const auto& e : info.events) {
      log::info("events", e.message(),
                {{"type", std::string(e.type())}, {"index", std::to_string(e.index)}});
    }
  });
  ProbeFollower probes(registry, prober.control());  // probes resume after a restart

  // STOPPED tasks stay listed for an hour (ECS), then go.
  std::function<void()> purge = [&] {
    if (auto r = registry.purge_stopped(); !r)
      log::warn("state", "purge failed: " + r.error().message);
    timers.schedule(clock.now() + kPurgeEvery, purge);
  };
  timers.schedule(clock.now() + kPurgeEvery, purge);

  dns::DnsServerConfig dc;
  dc.listen = config_.dns_listen;
  dc.upstream = config_.upstream;
  dc.tcp.max_connections = config_.dns_tcp_max_connections;
  dc.tcp.max_per_client = config_.dns_tcp_max_per_client;
  dns::DnsServer dns_server(io, registry.zones(), dc);
  if (auto r = dns_server.start(); !r) {
    log::error("dns", "cannot listen on " + config_.dns_listen + ": " + r.error().message);
    return 1;
  }

  bool ready = false;
  api::ApiContext ctx{registry};
  ctx.dns_lookup = [&](const std::string& name, const std::string& type) {
    return dns_lookup(registry.zones(), name, type);
  };
  ctx.ready = [&] { return ready; };
  ctx.stop_ecs_task = [&](const std::string& id) { return ecs.stop_task(id, ""); };
  ctx.version = version();
  ctx.command_probes = config_.allow_command_probes;
  ctx.guard.allowed_origins = config_.allowed_origins;
  ctx.guard.allowed_hosts = config_.allowed_hosts;
  if (config_.allow_command_probes != core::CommandProbes::Off) {
    log::warn("health", "command probes run on this host as the daemon's user",
              {{"allow-command-probes", core::to_string(config_.allow_command_probes)}});
  }
  api::Router router(ctx, io);
  api::aws::install_ecs(router, ecs_handlers);  // ECS layer
  // --- Cloud Map (Route53AutoNaming_v20170314) ---
  api::aws::install_cloudmap(router, registry, clock);
  // --- end Cloud Map ---
  api::route53::install_route53(router, registry);  // Route 53: the namespaces' hosted zones
  api::HttpConfig hc;
  hc.listen = config_.api_listen;
  hc.max_connections = config_.api_max_connections;
  api::HttpListener listener(io, router, hc);
  if (auto r = listener.start(); !r) {
    log::error("api", "cannot listen on " + config_.api_listen + ": " + r.error().message);
    dns_server.stop();
    return 1;
  }

  ctx.metrics = [&] {
    const health::MonitorSnapshot probed = prober.control().snapshot();
    return daemon_metrics({registry, dns_server, probed, listener, health_dns});
  };
  driver.start();
  const std::string dns_addr =
      host_of(config_.dns_listen) + ":" + std::to_string(dns_server.port());
  const std::string api_addr = host_of(config_.api_listen) + ":" + std::to_string(listener.port());
  ecs_handlers.set_poll_endpoint("http://" + api_addr + "/");
  // The handler is in place before anyone learns the daemon is ready: a SIGTERM sent as soon as
  // the ready file appears gets the clean shutdown.
  bool stopping = false;
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log::info("runtime", "shutting down", {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stopping = true;
    ready = false;
    listener.stop();  // stop accepting, answer pending long polls; in-flight requests finish
    dns_server.stop();
    driver.stop();
    if (docker) docker->stop();  // containers keep running; a restart adopts them
    prober.control().unwatch_all();
  });
  ready = true;
  if (!config_.ready_file.empty() && !write_ready_file(config_.ready_file, dns_addr, api_addr)) {
    log::error("runtime", "cannot write the ready file " + config_.ready_file);
    return 1;
  }
  // Counted in place: tasks() would build and sort a list of every task for one number.
  std::size_t task_count = 0;
  registry.for_each_task([&task_count](const auto&, const core::Task& t) {
    if (t.launch != core::Launch::Instance) ++task_count;
  });
  log::info("runtime", "ready",
            {{"dns", dns_addr},
             {"api", api_addr},
             {"state", config_.state},
             {"namespaces", std::to_string(registry.namespaces().size())},
             {"tasks", std::to_string(task_count)}});

  while (!stopping && io.run_one() > 0) {
  }
  // Let in-flight work finish: run_for returns as soon as nothing is left, at most the grace.
  if (stopping) io.run_for(kShutdownGrace);
  log::info("runtime", "stopped");
  return 0;
}

}  // namespace emu::runtime
