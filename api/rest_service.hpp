#pragma once
// The hook for AWS's REST protocols (Route 53's REST-XML): a service routed by the first segment
// of the path ("/2013-04-01/..."), whatever the method, that answers in its own shapes, refusals
// of the RequestGuard included.

#include <functional>
#include <string>
#include <string_view>

#include "api/http_types.hpp"
#include "api/request_target.hpp"

namespace emu::api {

/// A REST answer and the operation it was, for /metrics ("ListHostedZones"; "unknown" when the
/// request named none).
struct RestReply {
  Response response;
  std::string operation;
};

/// One REST service.
struct RestService {
  /// IAM's service prefix, the metrics label's first part ("route53").
  std::string service;
  /// Answers one request of the service; never throws.
  std::function<RestReply(const Request&, const RequestTarget&)> handle;
  /// An error the router answers for the service, in the service's shape: 403 for a request the
  /// RequestGuard refused, 500 for an exception out of `handle` (a bug).
  std::function<Response(http::status, std::string_view message)> fail;
};

}  // namespace emu::api
