#include "emulator/runtime/daemon_metrics.hpp"

#include <utility>

#include "api/http_listener.hpp"
#include "dns/dns_server.hpp"
#include "emulator/core/prometheus_text.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/health/health_monitor.hpp"
#include "emulator/health/probe.hpp"
#include "emulator/runtime/health_dns_meter.hpp"

namespace emu::runtime {
namespace {

using metrics::TextWriter;
using metrics::Type;

double seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

void state(TextWriter& w, const core::Registry& registry) {
  std::uint64_t active = 0, stopped = 0, unhealthy = 0;
  for (const core::Task* t : registry.tasks()) {
    if (t->last_status == core::TaskStatus::Stopped) {
      ++stopped;
      continue;
    }
    ++active;
    if (t->health() == core::Health::Unhealthy) ++unhealthy;
  }
  w.family("ecs_emulator_tasks", Type::Gauge,
           "Tasks now: active (not STOPPED), stopped (listed until purged), unhealthy (active "
           "and UNHEALTHY).");
  w.sample("ecs_emulator_tasks", {{"state", "active"}}, active);
  w.sample("ecs_emulator_tasks", {{"state", "stopped"}}, stopped);
  w.sample("ecs_emulator_tasks", {{"state", "unhealthy"}}, unhealthy);
  w.family("ecs_emulator_namespaces", Type::Gauge, "Namespaces now.");
  w.sample("ecs_emulator_namespaces", {}, static_cast<std::uint64_t>(registry.namespaces().size()));
  w.family("ecs_emulator_services", Type::Gauge, "Discovery services now.");
  w.sample("ecs_emulator_services", {}, static_cast<std::uint64_t>(registry.services().size()));
  w.family("ecs_emulator_events_total", Type::Counter,
           "Lifecycle events recorded (the index of the last one; kept across restarts).");
  w.sample("ecs_emulator_events_total", {}, registry.events().last_index());
}

void dns(TextWriter& w, const dns::DnsServer& server) {
  const dns::DnsStats d = server.stats();
  w.family("ecs_emulator_dns_queries_total", Type::Counter,
           "DNS packets received (UDP and TCP), by question type (other: a type not listed, "
           "none: no readable question).");
  for (std::size_t t = 0; t < dns::DnsStats::kTypes; ++t) {
    if (d.queries_by_type[t] == 0) continue;
    w.sample("ecs_emulator_dns_queries_total", {{"type", dns::kQtypeNames[t]}},
             d.queries_by_type[t]);
  }
  w.family("ecs_emulator_dns_responses_total", Type::Counter,
           "DNS responses this server wrote, by question type and rcode (forwarded and dropped "
           "queries are not among them).");
  for (std::size_t t = 0; t < dns::DnsStats::kTypes; ++t) {
    for (std::size_t c = 0; c < dns::DnsStats::kRcodes; ++c) {
      if (d.responses[t][c] == 0) continue;
      w.sample("ecs_emulator_dns_responses_total",
               {{"type", dns::kQtypeNames[t]}, {"rcode", dns::kRcodeNames[c]}}, d.responses[t][c]);
    }
  }
  w.family("ecs_emulator_dns_truncated_total", Type::Counter,
           "DNS responses sent with TC=1 (too large for the client's UDP size: retry over TCP).");
  w.sample("ecs_emulator_dns_truncated_total", {}, d.truncated);
  w.family("ecs_emulator_dns_forwarded_total", Type::Counter,
           "DNS queries outside our zones relayed to the --upstream resolver.");
  w.sample("ecs_emulator_dns_forwarded_total", {}, d.forwarded);
  w.family("ecs_emulator_dns_dropped_total", Type::Counter,
           "DNS packets not answered: shorter than a header, a response (QR=1), or oversize.");
  w.sample("ecs_emulator_dns_dropped_total", {}, d.dropped);
  w.family("ecs_emulator_dns_tcp_accept_errors_total", Type::Counter,
           "DNS TCP accept() failures (out of file descriptors or memory: the listener pauses).");
  w.sample("ecs_emulator_dns_tcp_accept_errors_total", {}, d.tcp_accept_errors);
  w.family("ecs_emulator_dns_tcp_connections_closed_total", Type::Counter,
           "DNS TCP connections the server closed: refused (address over "
           "--dns-tcp-max-per-client), evicted (least recently active, server full), spent "
           "(query budget or lifetime).");
  const std::pair<const char*, std::uint64_t> closed[] = {
      {"refused", d.tcp_refused}, {"evicted", d.tcp_evicted}, {"spent", d.tcp_spent}};
  for (const auto& [reason, n] : closed)
    w.sample("ecs_emulator_dns_tcp_connections_closed_total", {{"reason", reason}}, n);
}

void probes(TextWriter& w, const health::MonitorSnapshot& monitor, const HealthDnsMeter& meter) {
  const auto& s = monitor.stats;
  w.family("ecs_emulator_probes_total", Type::Counter, "Health probe attempts started.");
  w.sample("ecs_emulator_probes_total", {}, s.started);
  w.family("ecs_emulator_probe_timeouts_total", Type::Counter,
           "Health probe attempts ended by their timeout (each counts as a failure).");
  w.sample("ecs_emulator_probe_timeouts_total", {}, s.timeouts);
  w.family("ecs_emulator_probe_skipped_ticks_total", Type::Counter,
           "Probe ticks skipped because the task's previous probe was still running.");
  w.sample("ecs_emulator_probe_skipped_ticks_total", {}, s.skipped_ticks);
  w.family("ecs_emulator_probes_skipped_total", Type::Counter,
           "Probes that did not run, so did not count for or against the task: the daemon was "
           "out of resources (file descriptors, memory, processes) or command probes are "
           "disabled.");
  w.sample("ecs_emulator_probes_skipped_total",
           {{"reason", health::skip_reason_name(health::SkipReason::Resources)}},
           s.skipped_resources);
  w.sample("ecs_emulator_probes_skipped_total",
           {{"reason", health::skip_reason_name(health::SkipReason::CommandsDisabled)}},
           s.skipped_disabled);
  w.family("ecs_emulator_probes_watched", Type::Gauge, "Tasks whose health is probed now.");
  w.sample("ecs_emulator_probes_watched", {}, static_cast<std::uint64_t>(monitor.watched));
  w.family("ecs_emulator_probe_lateness_seconds_total", Type::Counter,
           "Sum of the delays of probe starts behind their schedule.");
  w.sample("ecs_emulator_probe_lateness_seconds_total", {}, seconds(s.total_lateness));
  w.family("ecs_emulator_probe_lateness_seconds_max", Type::Gauge,
           "Largest delay of a probe start behind its schedule since the daemon started.");
  w.sample("ecs_emulator_probe_lateness_seconds_max", {}, seconds(s.max_lateness));
  w.family("ecs_emulator_probe_duration_seconds", Type::Histogram,
           "Health probe attempts from start to result, by probe type (a timeout counts at the "
           "timeout; skipped probes are not counted).");
  for (const auto type : {core::ProbeType::Http, core::ProbeType::Tcp, core::ProbeType::Grpc,
                          core::ProbeType::Command}) {
    w.histogram("ecs_emulator_probe_duration_seconds", {{"type", health::probe_type_name(type)}},
                monitor.probe_durations(type));
  }
  w.family("ecs_emulator_health_change_to_dns_seconds", Type::Histogram,
           "Time from a task's health change (probes or forced) to the DNS snapshot that carries "
           "it (--health-propagation-delay included).");
  w.histogram("ecs_emulator_health_change_to_dns_seconds", {}, meter.histogram());
}

void http(TextWriter& w, const api::HttpListener& listener) {
  const auto& h = listener.stats();
  w.family("ecs_emulator_http_connections", Type::Gauge, "Open HTTP API connections.");
  w.sample("ecs_emulator_http_connections", {}, static_cast<std::uint64_t>(listener.connections()));
  w.family("ecs_emulator_http_accept_errors_total", Type::Counter,
           "HTTP accept() failures (out of file descriptors or memory: the listener pauses).");
  w.sample("ecs_emulator_http_accept_errors_total", {}, h.accept_errors);
  w.family("ecs_emulator_http_connections_shed_total", Type::Counter,
           "HTTP connections shed at --api-max-connections: idle_closed (longest idle, for a new "
           "one), refused (503), dropped (closed unanswered).");
  const std::pair<const char*, std::uint64_t> shed[] = {
      {"idle_closed", h.idle_closed}, {"refused", h.refused}, {"dropped", h.dropped}};
  for (const auto& [reason, n] : shed)
    w.sample("ecs_emulator_http_connections_shed_total", {{"reason", reason}}, n);
}

}  // namespace

std::string daemon_metrics(const MetricsSources& s) {
  TextWriter w;
  state(w, s.registry);
  dns(w, s.dns);
  probes(w, s.probes, s.health_dns);
  http(w, s.http);
  return w.take();
}

}  // namespace emu::runtime
