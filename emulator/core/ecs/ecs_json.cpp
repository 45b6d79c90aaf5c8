#include "emulator/core/ecs/ecs_json.hpp"

namespace emu::core::ecs::stored {

using nlohmann::json;

namespace {

json time_json(WallTime t) { return epoch_millis(t); }
WallTime time_from(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? from_epoch_millis(j[key].get<std::int64_t>())
                                               : WallTime{};
}

json deployment_json(const Deployment& d) {
  return {{"id", d.id},
          {"taskDefinition", d.task_definition_arn},
          {"createdAt", time_json(d.created_at)},
          {"updatedAt", time_json(d.updated_at)}};
}
Deployment deployment_from(const json& j) {
  Deployment d;
  d.id = j.value("id", "");
  d.task_definition_arn = j.value("taskDefinition", "");
  d.created_at = time_from(j, "createdAt");
  d.updated_at = time_from(j, "updatedAt");
  return d;
}

}  // namespace

json to_json(const Cluster& c) {
  return {{"region", c.region},
          {"name", c.name},
          {"arn", c.arn},
          {"status", c.status},
          {"settings", c.settings},
          {"configuration", c.configuration},
          {"serviceConnectDefaults", c.service_connect_defaults},
          {"capacityProviders", c.capacity_providers},
          {"createdAt", time_json(c.created_at)}};
}

Result<Cluster> cluster_from(const json& j) {
  try {
    Cluster c;
    c.region = j.at("region").get<std::string>();
    c.name = j.at("name").get<std::string>();
    c.arn = j.at("arn").get<std::string>();
    c.status = j.value("status", "ACTIVE");
    c.settings = j.value("settings", json::array());
    c.configuration = j.value("configuration", json());
    c.service_connect_defaults = j.value("serviceConnectDefaults", json());
    c.capacity_providers = j.value("capacityProviders", std::vector<std::string>{});
    c.created_at = time_from(j, "createdAt");
    return c;
  } catch (const json::exception& e) {
    return Error{Code::Internal, std::string("cluster: ") + e.what()};
  }
}

json to_json(const ContainerInfo& c) {
  json ports = json::array();
  for (const auto& p : c.port_mappings) {
    ports.push_back(
        {{"containerPort", p.container_port}, {"hostPort", p.host_port}, {"protocol", p.protocol}});
  }
  json j = {
      {"name", c.name}, {"image", c.image}, {"essential", c.essential}, {"portMappings", ports}};
  if (c.health_check) {
    j["healthCheck"] = {{"command", c.health_check->command},
                        {"interval", c.health_check->interval},
                        {"timeout", c.health_check->timeout},
                        {"retries", c.health_check->retries},
                        {"startPeriod", c.health_check->start_period}};
  }
  return j;
}

Result<ContainerInfo> container_from(const json& j) {
  try {
    ContainerInfo c;
    c.name = j.value("name", "");
    c.image = j.value("image", "");
    c.essential = j.value("essential", true);
    for (const auto& p : j.value("portMappings", json::array())) {
      PortMapping m;
      m.container_port = p.value("containerPort", 0);
      m.host_port = p.value("hostPort", 0);
      m.protocol = p.value("protocol", "tcp");
      c.port_mappings.push_back(m);
    }
    if (j.contains("healthCheck") && j["healthCheck"].is_object()) {
      const auto& h = j["healthCheck"];
      ContainerHealthCheck hc;
      hc.command = h.value("command", std::vector<std::string>{});
      hc.interval = h.value("interval", 30);
      hc.timeout = h.value("timeout", 5);
      hc.retries = h.value("retries", 3);
      hc.start_period = h.value("startPeriod", 0);
      c.health_check = hc;
    }
    return c;
  } catch (const json::exception& e) {
    return Error{Code::Internal, std::string("container: ") + e.what()};
  }
}

json to_json(const TaskDefinition& td) {
  json containers = json::array();
  for (const auto& c : td.containers) containers.push_back(to_json(c));
  json j = {{"region", td.region},
            {"family", td.family},
            {"revision", td.revision},
            {"arn", td.arn},
            {"status", td.status},
            {"networkMode", td.network_mode},
            {"containers", containers},
            {"body", td.body},
            {"registeredAt", time_json(td.registered_at)}};
  if (td.deregistered_at) j["deregisteredAt"] = time_json(*td.deregistered_at);
  return j;
}

Result<TaskDefinition> task_definition_from(const json& j) {
  try {
    TaskDefinition td;
    td.region = j.at("region").get<std::string>();
    td.family = j.at("family").get<std::string>();
    td.revision = j.at("revision").get<int>();
    td.arn = j.at("arn").get<std::string>();
    td.status = j.value("status", "ACTIVE");
    td.network_mode = j.value("networkMode", "bridge");
    for (const auto& c : j.value("containers", json::array())) {
      auto info = container_from(c);
      if (!info) return info.error();
      td.containers.push_back(*info);
    }
    td.body = j.value("body", json::object());
    td.registered_at = time_from(j, "registeredAt");
    if (j.contains("deregisteredAt")) td.deregistered_at = time_from(j, "deregisteredAt");
    return td;
  } catch (const json::exception& e) {
    return Error{Code::Internal, std::string("task definition: ") + e.what()};
  }
}

json to_json(const EcsService& s) {
  json registries = json::array();
  for (const auto& r : s.registries) {
    json e = {{"registryArn", r.registry_arn}};
    if (r.port) e["port"] = *r.port;
    if (!r.container_name.empty()) e["containerName"] = r.container_name;
    if (r.container_port) e["containerPort"] = *r.container_port;
    registries.push_back(e);
  }
  json events = json::array();
  for (const auto& e : s.events) {
    events.push_back(
        {{"id", e.id}, {"createdAt", time_json(e.created_at)}, {"message", e.message}});
  }
  json old = json::array();
  for (const auto& d : s.old_deployments) old.push_back(deployment_json(d));
  json j = {{"region", s.region},
            {"cluster", s.cluster},
            {"name", s.name},
            {"arn", s.arn},
            {"status", s.status},
            {"desiredCount", s.desired_count},
            {"taskDefinition", s.task_definition_arn},
            {"launchType", s.launch_type},
            {"schedulingStrategy", s.scheduling_strategy},
            {"serviceRegistries", registries},
            {"discoveryServiceId", s.discovery_service_id},
            {"networkConfiguration", s.network_configuration},
            {"deploymentConfiguration", s.deployment_configuration},
            {"clientToken", s.client_token},
            {"primary", deployment_json(s.primary)},
            {"oldDeployments", old},
            {"events", events},
            {"steady", s.steady},
            {"startFailures", s.start_failures},
            {"replacedUnhealthy", s.replaced_unhealthy},
            {"createdAt", time_json(s.created_at)},
            {"request", s.request}};
  if (s.health_check_grace_period)
    j["healthCheckGracePeriodSeconds"] = *s.health_check_grace_period;
  return j;
}

Result<EcsService> service_from(const json& j) {
  try {
    EcsService s;
    s.region = j.at("region").get<std::string>();
    s.cluster = j.at("cluster").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.arn = j.at("arn").get<std::string>();
    s.status = j.value("status", "ACTIVE");
    s.desired_count = j.value("desiredCount", 0);
    s.task_definition_arn = j.value("taskDefinition", "");
    s.launch_type = j.value("launchType", "FARGATE");
    s.scheduling_strategy = j.value("schedulingStrategy", "REPLICA");
    for (const auto& r : j.value("serviceRegistries", json::array())) {
      ServiceRegistry reg;
      reg.registry_arn = r.value("registryArn", "");
      if (r.contains("port")) reg.port = r["port"].get<int>();
      reg.container_name = r.value("containerName", "");
      if (r.contains("containerPort")) reg.container_port = r["containerPort"].get<int>();
      s.registries.push_back(reg);
    }
    s.discovery_service_id = j.value("discoveryServiceId", "");
    s.network_configuration = j.value("networkConfiguration", json());
    s.deployment_configuration = j.value("deploymentConfiguration", s.deployment_configuration);
    if (j.contains("healthCheckGracePeriodSeconds")) {
      s.health_check_grace_period = j["healthCheckGracePeriodSeconds"].get<int>();
    }
    s.client_token = j.value("clientToken", "");
    s.primary = deployment_from(j.value("primary", json::object()));
    for (const auto& d : j.value("oldDeployments", json::array()))
      s.old_deployments.push_back(deployment_from(d));
    for (const auto& e : j.value("events", json::array())) {
      s.events.push_back({e.value("id", ""), time_from(e, "createdAt"), e.value("message", "")});
    }
    s.steady = j.value("steady", false);
    s.start_failures = j.value("startFailures", 0);
    s.replaced_unhealthy = j.value("replacedUnhealthy", 0);
    s.created_at = time_from(j, "createdAt");
    s.request = j.value("request", json::object());
    return s;
  } catch (const json::exception& e) {
    return Error{Code::Internal, std::string("ecs service: ") + e.what()};
  }
}

json to_json(const TaskContainer& c) {
  json j = {{"name", c.name},
            {"image", c.image},
            {"dockerId", c.docker_id},
            {"essential", c.essential},
            {"healthCheck", c.health_check},
            {"health", to_string(c.health)},
            {"lastStatus", c.last_status}};
  if (c.exit_code) j["exitCode"] = *c.exit_code;
  if (!c.reason.empty()) j["reason"] = c.reason;
  return j;
}

Result<TaskContainer> task_container_from(const json& j) {
  try {
    TaskContainer c;
    c.name = j.at("name").get<std::string>();
    c.image = j.value("image", "");
    c.docker_id = j.value("dockerId", "");
    c.essential = j.value("essential", true);
    c.health_check = j.value("healthCheck", false);
    c.health = parse_health(j.value("health", "UNKNOWN")).value_or(Health::Unknown);
    c.last_status = j.value("lastStatus", "PENDING");
    if (j.contains("exitCode") && j["exitCode"].is_number_integer())
      c.exit_code = j["exitCode"].get<int>();
    c.reason = j.value("reason", "");
    return c;
  } catch (const json::exception& e) {
    return Error{Code::Internal, std::string("task container: ") + e.what()};
  }
}

json to_json(const TaskExtra& e) {
  json j = {{"launchType", e.launch_type},
            {"availabilityZone", e.availability_zone},
            {"overrides", e.overrides},
            {"networkConfiguration", e.network_configuration}};
  if (!e.containers.empty()) {
    json containers = json::array();
    for (const auto& c : e.containers) containers.push_back(to_json(c));
    j["containers"] = containers;
  }
  return j;
}

Result<TaskExtra> task_extra_from(const json& j) {
  try {
    TaskExtra e;
    e.launch_type = j.value("launchType", "FARGATE");
    e.availability_zone = j.value("availabilityZone", "");
    e.overrides = j.value("overrides", json::object());
    e.network_configuration = j.value("networkConfiguration", json());
    for (const auto& c : j.value("containers", json::array())) {
      auto container = task_container_from(c);
      if (!container) return container.error();
      e.containers.push_back(*container);
    }
    return e;
  } catch (const json::exception& ex) {
    return Error{Code::Internal, std::string("ecs task: ") + ex.what()};
  }
}

StoreChange row(const Cluster& c) {
  return {StoreChange::Op::Upsert, "cluster", c.region + "/" + c.name, to_json(c).dump()};
}
StoreChange row(const TaskDefinition& td) {
  return {StoreChange::Op::Upsert, "task-definition", td.arn, to_json(td).dump()};
}
StoreChange row(const EcsService& s) {
  return {StoreChange::Op::Upsert, "ecs-service", service_key(s.region, s.cluster, s.name),
          to_json(s).dump()};
}

Result<void> commit(Store& store, std::vector<StoreChange> changes) {
  StoreBatch batch;
  batch.changes = std::move(changes);
  return store.commit(batch);
}

}  // namespace emu::core::ecs::stored
