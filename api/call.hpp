#pragma once
// One routed request as handlers see it: the request, its decoded target, the path parameters
// matched by the route ({name}, {id} ...), and how to answer.

#include <string>
#include <vector>

#include "api/http_types.hpp"
#include "api/request_target.hpp"

namespace emu::api {

/// A request matched to a route.
struct Call {
  const Request& req;
  const RequestTarget& target;
  std::vector<std::string> params;  ///< decoded path parameters, in route order
  Respond respond;                  ///< exactly once
  ConnectionToken connection;       ///< expires when the client's connection closes
  OpenStream open_stream = {};      ///< empty where the transport cannot stream
};

}  // namespace emu::api
