#pragma once
// The daemon's families of GET /metrics (state, DNS, probes, HTTP connections); the API's own
// request counters come from api::ApiMetrics. Names follow the Prometheus conventions: prefix
// `ecs_emulator_`, `_total` on counters, base units (`_seconds`).

#include <string>

namespace emu::core {
class Registry;
}
namespace emu::dns {
class DnsServer;
}
namespace emu::health {
struct MonitorSnapshot;
}
namespace emu::api {
class HttpListener;
}

namespace emu::runtime {

class HealthDnsMeter;

/// What the daemon's families are read from; all borrowed, read on the event loop.
struct MetricsSources {
  const core::Registry& registry;
  const dns::DnsServer& dns;
  const health::MonitorSnapshot& probes;  ///< the prober thread's monitor, copied
  const api::HttpListener& http;
  const HealthDnsMeter& health_dns;
};

/// Prometheus text of the daemon's families.
std::string daemon_metrics(const MetricsSources& s);

}  // namespace emu::runtime
