#include "api/api_metrics.hpp"

namespace emu::api {

void ApiMetrics::record(std::string_view route, std::string_view method, unsigned status) {
  ++requests_[{std::string(route), std::string(method), status}];
}

std::uint64_t ApiMetrics::count(std::string_view route, std::string_view method,
                                unsigned status) const {
  auto it = requests_.find({std::string(route), std::string(method), status});
  return it == requests_.end() ? 0 : it->second;
}

std::string ApiMetrics::render(std::size_t pending_polls) const {
  std::string out =
      "# HELP emu_api_requests_total HTTP API requests answered, by route, method and status.\n"
      "# TYPE emu_api_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += "emu_api_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
           std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP emu_api_long_polls Long-poll requests (/v1/wait, /v1/events) waiting now.\n"
      "# TYPE emu_api_long_polls gauge\n"
      "emu_api_long_polls " +
      std::to_string(pending_polls) + "\n";
  return out;
}

}  // namespace emu::api
