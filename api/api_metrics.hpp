#pragma once
// Request counters of the API, by route pattern, method and status, rendered as Prometheus text
// for GET /metrics (with the daemon's own counters from ApiContext::metrics appended).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

namespace emu::api {

class ApiMetrics {
 public:
  /// Counts one answered request.
  void record(std::string_view route, std::string_view method, unsigned status);
  /// Number of requests answered on a route with a status (for tests).
  std::uint64_t count(std::string_view route, std::string_view method, unsigned status) const;
  /// Prometheus exposition text of the counters; `pending_polls` is a gauge.
  std::string render(std::size_t pending_polls) const;

 private:
  std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> requests_;
};

}  // namespace emu::api
