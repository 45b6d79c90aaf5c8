#include "api/api_metrics.hpp"

namespace emu::api {

void ApiMetrics::record(std::string_view route, std::string_view operation, std::string_view method,
                        unsigned status) {
  std::string op(operation);
  if (!op.empty() && operations_.find(op) == operations_.end()) {
    if (operations_.size() >= kMaxOperations) {
      op = "other";
    } else {
      operations_.insert(op);
    }
  }
  ++requests_[Key{std::string(route), std::move(op), std::string(method), status}];
}

std::uint64_t ApiMetrics::count(std::string_view route, std::string_view method,
                                unsigned status) const {
  std::uint64_t n = 0;
  for (const auto& [key, v] : requests_) {
    if (std::get<0>(key) == route && std::get<2>(key) == method && std::get<3>(key) == status)
      n += v;
  }
  return n;
}

std::uint64_t ApiMetrics::count_operation(std::string_view operation, unsigned status) const {
  std::uint64_t n = 0;
  for (const auto& [key, v] : requests_) {
    if (std::get<1>(key) == operation && std::get<3>(key) == status) n += v;
  }
  return n;
}

void ApiMetrics::render(metrics::TextWriter& out, std::size_t pending_polls) const {
  out.family("ecs_emulator_api_requests_total", metrics::Type::Counter,
             "HTTP API requests answered, by route (a native route pattern, or aws, refused, "
             "preflight, unmatched), AWS operation (service:Operation, empty on native routes), "
             "method and status.");
  for (const auto& [key, n] : requests_) {
    const auto& [route, operation, method, status] = key;
    const std::string code = std::to_string(status);
    out.sample("ecs_emulator_api_requests_total",
               {{"route", route}, {"operation", operation}, {"method", method}, {"status", code}},
               n);
  }
  out.family("ecs_emulator_api_long_polls", metrics::Type::Gauge,
             "Long-poll requests (/v1/wait, /v1/events) waiting now.");
  out.sample("ecs_emulator_api_long_polls", {}, static_cast<std::uint64_t>(pending_polls));
}

}  // namespace emu::api
