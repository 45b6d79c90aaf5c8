#include "emulator/core/model_json.hpp"

namespace emu::core::persist {
namespace {
using nlohmann::json;

json hc_json(const HealthCheckSpec& h) {
  json j{{"type", to_string(h.type)},
         {"path", h.path},
         {"grpcService", h.grpc_service},
         {"command", h.command},
         {"intervalMs", h.interval.count()},
         {"timeoutMs", h.timeout.count()},
         {"retries", h.retries},
         {"startPeriodMs", h.start_period.count()}};
  if (h.port) j["port"] = *h.port;
  return j;
}

HealthCheckSpec hc_from(const json& j) {
  HealthCheckSpec h;
  h.type = parse_probe_type(j.value("type", "none")).value_or(ProbeType::None);
  h.path = j.value("path", "/");
  if (j.contains("port")) h.port = j.at("port").get<std::uint16_t>();
  h.grpc_service = j.value("grpcService", "");
  h.command = j.value("command", std::vector<std::string>{});
  h.interval = Duration(j.value("intervalMs", 30000));
  h.timeout = Duration(j.value("timeoutMs", 5000));
  h.retries = j.value("retries", 3);
  h.start_period = Duration(j.value("startPeriodMs", 0));
  return h;
}

json time_json(const std::optional<WallTime>& t) {
  return t ? json(epoch_millis(*t)) : json(nullptr);
}
std::optional<WallTime> time_from(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return from_epoch_millis(j.at(key).get<std::int64_t>());
}

template <typename F>
auto guarded(const char* what, F&& f) -> Result<decltype(f())> {
  try {
    return f();
  } catch (const std::exception& e) {
    return Error{Code::Internal, std::string("stored ") + what + " is damaged: " + e.what()};
  }
}
}  // namespace

json to_json(const Namespace& n) {
  return {{"id", n.id},
          {"name", n.name},
          {"arn", n.arn},
          {"region", n.region},
          {"type", n.type},
          {"description", n.description},
          {"hostedZoneId", n.hosted_zone_id},
          {"vpc", n.vpc},
          {"creatorRequestId", n.creator_request_id},
          {"negativeTtl", n.negative_ttl},
          {"createdAt", epoch_millis(n.created_at)},
          {"tags", n.tags}};
}

json to_json(const Service& s) {
  json j{{"id", s.id},
         {"name", s.name},
         {"namespaceId", s.namespace_id},
         {"arn", s.arn},
         {"region", s.region},
         {"description", s.description},
         {"creatorRequestId", s.creator_request_id},
         {"ttl", s.ttl},
         {"records", {{"a", s.records.a}, {"aaaa", s.records.aaaa}, {"srv", s.records.srv}}},
         {"routing", to_string(s.routing)},
         {"onUnhealthy", to_string(s.on_unhealthy)},
         {"customHealth", s.custom_health},
         {"failureThreshold", s.failure_threshold},
         {"createdAt", epoch_millis(s.created_at)},
         {"tags", s.tags}};
  if (s.health_check) j["healthCheck"] = hc_json(*s.health_check);
  return j;
}

json to_json(const Task& t) {
  json j{{"id", t.id},
         {"arn", t.arn},
         {"serviceId", t.service_id},
         {"launch", to_string(t.launch)},
         {"source", to_string(t.source)},
         {"region", t.region},
         {"cluster", t.cluster},
         {"ecsService", t.ecs_service},
         {"taskDefinitionArn", t.task_definition_arn},
         {"startedBy", t.started_by},
         {"group", t.group},
         {"ipv4", t.ipv4},
         {"ipv6", t.ipv6},
         {"port", t.port},
         {"attributes", t.attributes},
         {"lastStatus", to_string(t.last_status)},
         {"desiredStatus", to_string(t.desired_status)},
         {"health", to_string(t.observed)},
         {"dnsHealth", to_string(t.dns_health)},
         {"healthReason", t.health_reason},
         {"stopCode", t.stop_code},
         {"stoppedReason", t.stopped_reason},
         {"containerId", t.container_id},
         {"creatorRequestId", t.creator_request_id},
         {"createdAt", epoch_millis(t.created_at)},
         {"startedAt", time_json(t.started_at)},
         {"stoppingAt", time_json(t.stopping_at)},
         {"stoppedAt", time_json(t.stopped_at)},
         {"version", t.version}};
  if (t.forced) j["forced"] = to_string(*t.forced);
  if (t.health_check) j["healthCheck"] = hc_json(*t.health_check);
  if (t.exit_code) j["exitCode"] = *t.exit_code;
  return j;
}

Result<Namespace> namespace_from(const json& j) {
  return guarded("namespace", [&] {
    Namespace n;
    n.id = j.at("id").get<std::string>();
    n.name = j.at("name").get<std::string>();
    n.arn = j.value("arn", "");
    n.region = j.value("region", "");
    n.type = j.value("type", "DNS_PRIVATE");
    n.description = j.value("description", "");
    n.hosted_zone_id = j.value("hostedZoneId", "");
    n.vpc = j.value("vpc", "");
    n.creator_request_id = j.value("creatorRequestId", "");
    n.negative_ttl = j.value("negativeTtl", 5u);
    n.created_at = from_epoch_millis(j.value("createdAt", std::int64_t{0}));
    n.tags = j.value("tags", std::map<std::string, std::string>{});
    return n;
  });
}

Result<Service> service_from(const json& j) {
  return guarded("service", [&] {
    Service s;
    s.id = j.at("id").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.namespace_id = j.at("namespaceId").get<std::string>();
    s.arn = j.value("arn", "");
    s.region = j.value("region", "");
    s.description = j.value("description", "");
    s.creator_request_id = j.value("creatorRequestId", "");
    s.ttl = j.value("ttl", 10u);
    const auto& r = j.at("records");
    s.records = {r.value("a", true), r.value("aaaa", false), r.value("srv", false)};
    s.routing = parse_routing(j.value("routing", "MULTIVALUE")).value_or(Routing::Multivalue);
    s.on_unhealthy = parse_on_unhealthy(j.value("onUnhealthy", "stop")).value_or(OnUnhealthy::Stop);
    s.custom_health = j.value("customHealth", false);
    s.failure_threshold = j.value("failureThreshold", 1);
    s.created_at = from_epoch_millis(j.value("createdAt", std::int64_t{0}));
    s.tags = j.value("tags", std::map<std::string, std::string>{});
    if (j.contains("healthCheck")) s.health_check = hc_from(j.at("healthCheck"));
    return s;
  });
}

Result<Task> task_from(const json& j) {
  return guarded("task", [&] {
    Task t;
    t.id = j.at("id").get<std::string>();
    t.arn = j.value("arn", "");
    t.service_id = j.value("serviceId", "");
    t.launch = parse_launch(j.value("launch", "external")).value_or(Launch::External);
    t.region = j.value("region", "");
    t.cluster = j.value("cluster", "default");
    t.ecs_service = j.value("ecsService", "");
    t.task_definition_arn = j.value("taskDefinitionArn", "");
    t.started_by = j.value("startedBy", "");
    t.group = j.value("group", "");
    t.ipv4 = j.value("ipv4", "");
    t.ipv6 = j.value("ipv6", "");
    t.port = j.value("port", std::uint16_t{0});
    t.attributes = j.value("attributes", std::map<std::string, std::string>{});
    if (j.contains("source")) {
      t.source =
          parse_task_source(j.at("source").get<std::string>()).value_or(TaskSource::Emulator);
    } else {
      // State written before `source` existed kept these facts as attributes.
      const auto it = t.attributes.find("ECS_EMULATOR_SOURCE");
      if (it != t.attributes.end() && it->second == "docker") t.source = TaskSource::Compose;
      t.attributes.erase("ECS_EMULATOR_SOURCE");
      t.attributes.erase("ECS_EMULATOR_ON_UNHEALTHY");
    }
    t.last_status =
        parse_task_status(j.value("lastStatus", "RUNNING")).value_or(TaskStatus::Running);
    t.desired_status =
        parse_task_status(j.value("desiredStatus", "RUNNING")).value_or(TaskStatus::Running);
    t.observed = parse_health(j.value("health", "UNKNOWN")).value_or(Health::Unknown);
    t.dns_health = parse_health(j.value("dnsHealth", "UNKNOWN")).value_or(Health::Unknown);
    if (j.contains("forced")) t.forced = parse_health(j.at("forced").get<std::string>());
    if (j.contains("healthCheck")) t.health_check = hc_from(j.at("healthCheck"));
    t.health_reason = j.value("healthReason", "");
    t.stop_code = j.value("stopCode", "");
    t.stopped_reason = j.value("stoppedReason", "");
    if (j.contains("exitCode")) t.exit_code = j.at("exitCode").get<int>();
    t.container_id = j.value("containerId", "");
    t.creator_request_id = j.value("creatorRequestId", "");
    t.created_at = from_epoch_millis(j.value("createdAt", std::int64_t{0}));
    t.started_at = time_from(j, "startedAt");
    t.stopping_at = time_from(j, "stoppingAt");
    t.stopped_at = time_from(j, "stoppedAt");
    t.version = j.value("version", std::int64_t{1});
    return t;
  });
}

}  // namespace emu::core::persist
