#include "api/native_handlers.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "api/api_error.hpp"
#include "api/query_params.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::api {

namespace native = core::native;
using nlohmann::json;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  return s;
}

std::string strip_dot(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Result<std::string> NativeHandlers::service_name(const std::string& raw) const {
  auto parsed = core::parse_dns_name(strip_dot(raw), ctx_.registry.config().default_namespace);
  if (!parsed) return parsed.error();  // names the field "name"
  return parsed->full();
}

Response NativeHandlers::healthz(const Call&) {
  if (ctx_.ready && !ctx_.ready()) {
    return json_response(http::status::service_unavailable, {{"status", "starting"}});
  }
  return json_response(http::status::ok, {{"status", "ok"}, {"version", ctx_.version}});
}

Response NativeHandlers::list_namespaces(const Call&) {
  json list = json::array();
  for (const auto* ns : ctx_.registry.namespaces())
    list.push_back(native::to_json(*ns, ctx_.registry));
  return json_response(http::status::ok, {{"namespaces", std::move(list)}});
}

Response NativeHandlers::get_namespace(const Call& call) {
  const auto name = lower(strip_dot(call.params.at(0)));
  if (auto why = core::namespace_name_error(name))
    return error_response(invalid_field("name", *why));
  const auto* ns = ctx_.registry.namespace_by_name(name);
  if (!ns) return error_response(not_found("namespace " + name + " not found"));
  return json_response(http::status::ok, native::to_json(*ns, ctx_.registry));
}

Response NativeHandlers::put_namespace(const Call& call) {
  const auto name = lower(strip_dot(call.params.at(0)));
  if (auto why = core::namespace_name_error(name))
    return error_response(invalid_field("name", *why));
  auto body = body_object(call.req);
  if (!body) return error_response(body.error());
  auto spec = native::parse_namespace(*body, "");
  if (!spec) return error_response(spec.error());
  if (!spec->name.empty() && lower(strip_dot(spec->name)) != name) {
    return error_response(
        invalid_field("name", "'" + spec->name + "' does not match the path '" + name + "'"));
  }
  spec->name = name;
  const bool existed = ctx_.registry.namespace_by_name(name) != nullptr;
  auto ns = ctx_.registry.put_namespace(*spec);
  if (!ns) return error_response(ns.error());
  return json_response(existed ? http::status::ok : http::status::created,
                       native::to_json(*ns, ctx_.registry));
}

Response NativeHandlers::delete_namespace(const Call& call) {
  const auto name = lower(strip_dot(call.params.at(0)));
  if (auto why = core::namespace_name_error(name))
    return error_response(invalid_field("name", *why));
  if (!ctx_.registry.namespace_by_name(name)) {
    return error_response(not_found("namespace " + name + " not found"));
  }
  auto ns = ctx_.registry.delete_namespace(name);
  if (!ns) return error_response(ns.error());
  return json_response(http::status::ok, native::to_json(*ns, ctx_.registry));
}

Response NativeHandlers::list_services(const Call& call) {
  std::string ns_id;
  if (auto ns_name = call.target.param("namespace")) {
    const auto* ns = ctx_.registry.namespace_by_name(lower(strip_dot(*ns_name)));
    if (!ns) return error_response(not_found("namespace " + *ns_name + " not found"));
    ns_id = ns->id;
  }
  json list = json::array();
  for (const auto* s : ctx_.registry.services()) {
    if (!ns_id.empty() && s->namespace_id != ns_id) continue;
    list.push_back(native::to_json(*s, ctx_.registry));
  }
  return json_response(http::status::ok, {{"services", std::move(list)}});
}

Response NativeHandlers::get_service(const Call& call) {
  auto name = service_name(call.params.at(0));
  if (!name) return error_response(name.error());
  const auto* s = ctx_.registry.service_by_dns_name(*name);
  if (!s) return error_response(not_found("service " + *name + " not found"));
  return json_response(http::status::ok, native::to_json(*s, ctx_.registry));
}

Response NativeHandlers::put_service(const Call& call) {
  auto name = service_name(call.params.at(0));
  if (!name) return error_response(name.error());
  auto body = body_object(call.req);
  if (!body) return error_response(body.error());
  auto spec = native::parse_service(*body, "");
  if (!spec) return error_response(spec.error());
  if (spec->health_check) {
    if (auto r = core::check_command_probe(*spec->health_check, ctx_.command_probes,
                                           core::ProbeSource::Api, "healthCheck");
        !r) {
      return error_response(r.error());
    }
  }
  const bool existed = ctx_.registry.service_by_dns_name(*name) != nullptr;
  auto s = ctx_.registry.put_service(*name, *spec);
  if (!s) return error_response(s.error());
  return json_response(existed ? http::status::ok : http::status::created,
                       native::to_json(*s, ctx_.registry));
}

Response NativeHandlers::delete_service(const Call& call) {
  auto name = service_name(call.params.at(0));
  if (!name) return error_response(name.error());
  const auto* s = ctx_.registry.service_by_dns_name(*name);
  if (!s) return error_response(not_found("service " + *name + " not found"));
  auto deleted = ctx_.registry.delete_service(s->id, /*require_empty=*/false);
  if (!deleted) return error_response(deleted.error());
  return json_response(http::status::ok, native::to_json(*deleted, ctx_.registry));
}

Response NativeHandlers::register_task(const Call& call) {
  auto name = service_name(call.params.at(0));
  if (!name) return error_response(name.error());
  auto body = body_object(call.req);
  if (!body) return error_response(body.error());
  auto spec = native::parse_task(*body, "");
  if (!spec) return error_response(spec.error());
  if (auto r = core::check_command_probe(spec->health_check, ctx_.command_probes,
                                         core::ProbeSource::Api, "healthCheck");
      !r) {
    return error_response(r.error());
  }
  auto task = ctx_.registry.register_task(*name, *spec);
  if (!task) return error_response(task.error());
  return json_response(http::status::created, native::to_json(*task, ctx_.registry));
}

Response NativeHandlers::list_tasks(const Call& call) {
  core::TaskFilter filter;
  if (auto service = call.target.param("service")) {
    auto name = service_name(*service);
    if (!name) {
      // The name came from the `service` parameter: name that field.
      return error_response(invalid_field("service", name.error().reason()));
    }
    if (!ctx_.registry.service_by_dns_name(*name)) {
      return error_response(not_found("service " + *name + " not found"));
    }
    filter.service_dns_name = *name;
  }
  if (auto status = call.target.param("status")) {
    auto parsed = core::parse_task_status(upper(*status));
    if (!parsed) {
      return error_response(
          invalid_field("status",
                        "must be one of PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, "
                        "STOPPING, DEPROVISIONING, STOPPED, got '" +
                            *status + "'"));
    }
    filter.last_status = *parsed;
  }
  json list = json::array();
  for (const auto* t : ctx_.registry.tasks(filter))
    list.push_back(native::to_json(*t, ctx_.registry));
  return json_response(http::status::ok, {{"tasks", std::move(list)}});
}

Response NativeHandlers::get_task(const Call& call) {
  const auto& id = call.params.at(0);
  const auto* t = ctx_.registry.task(id);
  if (!t) return error_response(not_found("task " + id + " not found"));
  return json_response(http::status::ok, native::to_json(*t, ctx_.registry));
}

Response NativeHandlers::stop_task(const Call& call) {
  const auto& id = call.params.at(0);
  const core::Task* found = ctx_.registry.task(id);
  if (!found) return error_response(not_found("task " + id + " not found"));
  // An ECS task steps through its stop states under its owner; anything else stops at once.
  const bool ecs = core::ecs::is_ecs_task(*found);
  if (ecs && !ctx_.stop_ecs_task) {
    return error_response(conflict("task " + id + " is an ECS task: stop it with ECS StopTask"));
  }
  auto t = ecs ? ctx_.stop_ecs_task(id)
               : ctx_.registry.stop_task(id, "UserInitiated", "Task stopped by user");
  if (!t) return error_response(t.error());
  return json_response(http::status::ok, native::to_json(*t, ctx_.registry));
}

Response NativeHandlers::put_task_health(const Call& call) {
  const auto& id = call.params.at(0);
  auto body = body_object(call.req);
  if (!body) return error_response(body.error());
  auto it = body->find("status");
  if (it == body->end())
    return error_response(invalid_field("status", "required (HEALTHY, UNHEALTHY or AUTO)"));
  if (!it->is_string()) {
    return error_response(invalid_field("status", "must be a string (HEALTHY, UNHEALTHY or AUTO)"));
  }
  const auto status = upper(it->get<std::string>());
  std::optional<core::Health> health;
  if (status == "HEALTHY") {
    health = core::Health::Healthy;
  } else if (status == "UNHEALTHY") {
    health = core::Health::Unhealthy;
  } else if (status != "AUTO") {
    return error_response(invalid_field(
        "status", "must be HEALTHY, UNHEALTHY or AUTO, got '" + it->get<std::string>() + "'"));
  }
  if (!ctx_.registry.task(id)) return error_response(not_found("task " + id + " not found"));
  auto forced = ctx_.registry.force_health(id, health);
  if (!forced) return error_response(forced.error());
  // The task as it is now: forcing UNHEALTHY under `onUnhealthy: stop` has stopped it already.
  const core::Task* t = ctx_.registry.task(core::Registry::task_key(forced->task));
  return json_response(http::status::ok, native::to_json(t ? *t : forced->task, ctx_.registry));
}

Response NativeHandlers::dns(const Call& call) {
  const auto& name = call.params.at(0);
  if (auto why = lookup_name_error(name)) return error_response(invalid_field("name", *why));
  auto type = dns_type_param(call.target, "type", "A");
  if (!type) return error_response(type.error());
  if (!ctx_.dns_lookup)
    return error_response(Error{Code::Unavailable, "DNS lookups are not wired"});
  return json_response(http::status::ok, ctx_.dns_lookup(name, *type));
}

Response NativeHandlers::reset(const Call&) {
  auto r = ctx_.registry.reset();
  if (!r) return error_response(r.error());
  return json_response(http::status::ok, {{"status", "ok"}});
}

}  // namespace emu::api
