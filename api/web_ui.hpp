#pragma once
// The live web page's edge: GET / and /ui redirect to /ui/, GET /ui/{file} serves the embedded
// assets (ETag, If-None-Match -> 304), and GET /v1/overview gives the page one read of every
// service with its task counts (running / healthy / unhealthy / unknown) so the Services view
// does not fetch every task.

#include "api/api_context.hpp"
#include "api/call.hpp"
#include "api/http_types.hpp"

namespace emu::api {

class WebUi {
 public:
  explicit WebUi(ApiContext& ctx) : ctx_(ctx) {}

  /// GET /, GET /ui: 302 to /ui/ (GET /ui/ itself is the page).
  Response redirect(const Call& call);
  /// GET /ui/ and /ui/{file}.
  Response asset(const Call& call);
  /// GET /v1/overview: {"services": [<service> + "counts"], "tasks": {"total", "running"}}.
  Response overview(const Call& call);

 private:
  ApiContext& ctx_;
};

}  // namespace emu::api
