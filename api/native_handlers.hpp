#pragma once
// The immediate native REST handlers (SPEC section 7): namespaces, services, tasks, health
// injection, DNS lookups, reset, healthz. Each takes a routed Call and returns the response;
// bodies are parsed and objects rendered with core::native so fixtures and the API agree.

#include "api/api_context.hpp"
#include "api/call.hpp"
#include "api/http_types.hpp"

namespace emu::api {

class NativeHandlers {
 public:
  /// Handlers over the daemon's context (not owned).
  explicit NativeHandlers(ApiContext& ctx) : ctx_(ctx) {}

  /// GET /healthz: 200 {"status":"ok"} when ready, else 503.
  Response healthz(const Call& call);
  /// GET /v1/namespaces
  Response list_namespaces(const Call& call);
  /// GET /v1/namespaces/{name}
  Response get_namespace(const Call& call);
  /// PUT /v1/namespaces/{name}: 201 created, 200 updated.
  Response put_namespace(const Call& call);
  /// DELETE /v1/namespaces/{name}: 409 while it has services.
  Response delete_namespace(const Call& call);
  /// GET /v1/services[?namespace=]
  Response list_services(const Call& call);
  /// GET /v1/services/{dns-name}
  Response get_service(const Call& call);
  /// PUT /v1/services/{dns-name}: 201 created, 200 updated.
  Response put_service(const Call& call);
  /// DELETE /v1/services/{dns-name}: stops its tasks.
  Response delete_service(const Call& call);
  /// POST /v1/services/{dns-name}/tasks: 201 task; 409 when ip:port already runs there.
  Response register_task(const Call& call);
  /// GET /v1/tasks[?service=&status=]
  Response list_tasks(const Call& call);
  /// GET /v1/tasks/{id}
  Response get_task(const Call& call);
  /// DELETE /v1/tasks/{id}: STOPPED, UserInitiated.
  Response stop_task(const Call& call);
  /// PUT /v1/tasks/{id}/health {"status": HEALTHY|UNHEALTHY|AUTO}
  Response put_task_health(const Call& call);
  /// GET /v1/dns/{name}?type=A
  Response dns(const Call& call);
  /// GET /v1/zones/{name}: every record of a zone (a namespace) as Name / Type / TTL / Value
  Response zone(const Call& call);
  /// POST /v1/reset, POST /moto-api/reset
  Response reset(const Call& call);

 private:
  /// `game-server` -> `game-server.local`, validated.
  Result<std::string> service_name(const std::string& raw) const;

  ApiContext& ctx_;
};

}  // namespace emu::api
