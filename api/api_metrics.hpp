#pragma once
// Request counters of the API, by route, AWS operation, method and status, rendered as
// Prometheus text for GET /metrics (with the daemon's own families from ApiContext::metrics
// appended). Single-threaded: the event loop's.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "emulator/core/prometheus_text.hpp"

namespace emu::api {

class ApiMetrics {
 public:
  /// Distinct AWS operation labels kept; further ones are counted as "other" (a client choosing
  /// X-Amz-Target must not grow /metrics without bound).
  static constexpr std::size_t kMaxOperations = 256;

  /// Counts one answered request. `route` is the native route pattern ("/v1/tasks/{id}") or
  /// "aws", "refused", "preflight", "unmatched"; `operation` the AWS operation
  /// ("ecs:CreateService"), empty for native routes.
  void record(std::string_view route, std::string_view operation, std::string_view method,
              unsigned status);
  /// Requests answered on a route with a status, over every operation (for tests).
  std::uint64_t count(std::string_view route, std::string_view method, unsigned status) const;
  /// Requests of an AWS operation answered with a status (for tests).
  std::uint64_t count_operation(std::string_view operation, unsigned status) const;
  /// The API's families; `pending_polls` is a gauge.
  void render(metrics::TextWriter& out, std::size_t pending_polls) const;

 private:
  using Key = std::tuple<std::string, std::string, std::string, unsigned>;
  std::map<Key, std::uint64_t, std::less<>> requests_;
  std::set<std::string, std::less<>> operations_;  // distinct non-empty operation labels
};

}  // namespace emu::api
