#include "api/aws/ecs_handlers.hpp"

#include <algorithm>
#include <set>

#include "api/aws/aws_validate.hpp"
#include "api/aws/model/aws_model.hpp"
#include "api/router.hpp"
#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"
#include "emulator/core/fixture_error.hpp"

namespace emu::api::aws {

using core::ecs::client_error;
using core::ecs::ecs_error;
using core::ecs::invalid_parameter;
using core::ecs::Tags;
using nlohmann::json;

namespace {

constexpr const char* kDefaultCluster = "default";

// ------------------------------------------------------------------------------ input helpers

/// The model's checks of an ECS input (api/aws/aws_validate.hpp): a mistyped member is a
/// SerializationException ("Field x must be a string."), a broken length, range, enum or pattern
/// an InvalidParameterException with AWS's "N validation errors detected" text. A missing
/// required member is left to the handler, which answers ECS's own message for it ("Family must
/// be specified.", "Container list cannot be empty.").
Result<void> validate_ecs_input(const model::Operation& op, const json& in) {
  auto violations = validate(model::kEcsModel, op, in);
  std::erase_if(violations, [](const Violation& v) { return v.rule == "Member must not be null"; });
  for (const auto& v : violations) {
    if (v.type) {
      return ecs_error("SerializationException",
                       "Field " + v.path + v.rule.substr(std::string_view("Member").size()) + ".");
    }
  }
  if (violations.empty()) return {};
  return invalid_parameter(validation_message(violations));
}

Error serialization(const std::string& field, const char* expected) {
  return ecs_error("SerializationException", "Field " + field + " must be " + expected + ".");
}

Result<std::optional<std::string>> opt_string(const json& in, const char* key) {
  if (!in.contains(key) || in[key].is_null()) return std::optional<std::string>{};
  if (!in[key].is_string()) return serialization(key, "a string");
  return std::optional<std::string>{in[key].get<std::string>()};
}

Result<std::optional<int>> opt_int(const json& in, const char* key) {
  if (!in.contains(key) || in[key].is_null()) return std::optional<int>{};
  if (!in[key].is_number_integer()) return serialization(key, "an integer");
  const auto v = in[key].get<std::int64_t>();
  if (v < INT32_MIN || v > INT32_MAX)
    return invalid_parameter(std::string(key) + " is out of range.");
  return std::optional<int>{static_cast<int>(v)};
}

Result<std::optional<bool>> opt_bool(const json& in, const char* key) {
  if (!in.contains(key) || in[key].is_null()) return std::optional<bool>{};
  if (!in[key].is_boolean()) return serialization(key, "a boolean");
  return std::optional<bool>{in[key].get<bool>()};
}

Result<std::vector<std::string>> string_list(const json& in, const char* key) {
  std::vector<std::string> out;
  if (!in.contains(key) || in[key].is_null()) return out;
  if (!in[key].is_array()) return serialization(key, "a list of strings");
  for (const auto& v : in[key]) {
    if (!v.is_string()) return serialization(key, "a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

/// ECS names: up to 255 letters, numbers, hyphens and underscores.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

/// The last path part of an ARN (`.../cluster/name` -> name), or the input itself.
std::string name_from(const std::string& ref) {
  if (ref.rfind("arn:", 0) != 0) return ref;
  const auto slash = ref.rfind('/');
  return slash == std::string::npos ? ref : ref.substr(slash + 1);
}

/// The region of an ECS ARN, or empty.
std::string region_of_arn(const std::string& arn) {
  if (arn.rfind("arn:", 0) != 0) return {};
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  const auto end = arn.find(':', pos);
  return end == std::string::npos ? std::string() : arn.substr(pos, end - pos);
}

Result<Tags> parse_tags(const json& in, const char* key = "tags") {
  Tags tags;
  if (!in.contains(key) || in[key].is_null()) return tags;
  if (!in[key].is_array()) return serialization(key, "a list of tags");
  for (const auto& t : in[key]) {
    if (!t.is_object() || !t.contains("key") || !t["key"].is_string()) {
      return invalid_parameter("Tag keys must be non-empty strings.");
    }
    const auto k = t["key"].get<std::string>();
    const auto v = t.contains("value") && t["value"].is_string() ? t["value"].get<std::string>()
                                                                 : std::string();
    if (k.empty()) return invalid_parameter("Tag keys must be non-empty strings.");
    tags[k] = v;
  }
  return tags;
}

json tags_json(const Tags& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"key", k}, {"value", v}});
  return out;
}

/// Paging over a list (of ARNs, of settings): nextToken is the offset, opaque to clients;
/// maxResults is 1 to `max_limit`.
Result<json> page(const json& items, const json& in, const char* list_key, int default_max,
                  int max_limit = 100) {
  auto max = opt_int(in, "maxResults");
  if (!max) return max.error();
  const int limit = max->value_or(default_max);
  if (limit < 1 || limit > max_limit) {
    return invalid_parameter("maxResults must be between 1 and " + std::to_string(max_limit) + ".");
  }
  auto token = opt_string(in, "nextToken");
  if (!token) return token.error();
  std::size_t offset = 0;
  if (token->has_value() && !(*token)->empty()) {
    const auto& t = **token;
    if (t.rfind("ecs-emu-", 0) != 0 || t.size() > 20 ||
        !std::all_of(t.begin() + 8, t.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        t.size() == 8) {
      return invalid_parameter("Invalid nextToken.");
    }
    offset = std::stoul(t.substr(8));
  }
  json out = {{list_key, json::array()}};
  for (std::size_t i = offset; i < items.size() && i < offset + static_cast<std::size_t>(limit);
       ++i) {
    out[list_key].push_back(items[i]);
  }
  if (offset + static_cast<std::size_t>(limit) < items.size()) {
    out["nextToken"] = "ecs-emu-" + std::to_string(offset + static_cast<std::size_t>(limit));
  }
  return out;
}

bool includes(const json& in, const char* what) {
  if (!in.contains("include") || !in["include"].is_array()) return false;
  return std::any_of(in["include"].begin(), in["include"].end(),
                     [&](const json& v) { return v.is_string() && v.get<std::string>() == what; });
}

std::string container_status(core::TaskStatus s) {
  using core::TaskStatus;
  if (s <= TaskStatus::Activating) return "PENDING";
  if (s >= TaskStatus::Deprovisioning) return "STOPPED";
  return "RUNNING";
}

/// A stable UUID-shaped id derived from a task id and a salt (container and ENI ids).
std::string derived_uuid(const std::string& task_id, int salt) {
  std::string hex = task_id;
  while (hex.size() < 32) hex += "0";
  for (std::size_t i = 0; i < 32; ++i) {
    const int v = (std::isxdigit(static_cast<unsigned char>(hex[i]))
                       ? std::stoi(std::string(1, hex[i]), nullptr, 16)
                       : 0);
    hex[i] = "0123456789abcdef"[(v + salt * 7 + static_cast<int>(i)) % 16];
  }
  hex[12] = '4';
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

// ------------------------------------------------------------------- task definition input

Result<core::ecs::ContainerHealthCheck> parse_health_check(const json& h,
                                                           const std::string& container) {
  core::ecs::ContainerHealthCheck hc;
  if (!h.is_object()) return serialization("healthCheck", "a structure");
  auto command = string_list(h, "command");
  if (!command) return command.error();
  if (command->empty()) {
    return client_error("Invalid 'healthCheck' setting for container '" + container +
                        "': command is required.");
  }
  hc.command = *command;
  struct Range {
    const char* key;
    int* value;
    int min;
    int max;
  };
  for (const Range& r :
       {Range{"interval", &hc.interval, 5, 300}, Range{"timeout", &hc.timeout, 2, 60},
        Range{"retries", &hc.retries, 1, 10}, Range{"startPeriod", &hc.start_period, 0, 300}}) {
    auto v = opt_int(h, r.key);
    if (!v) return v.error();
    if (!*v) continue;
    if (**v < r.min || **v > r.max) {
      return client_error("Invalid 'healthCheck." + std::string(r.key) +
                          "' setting for container '" + container + "': " + std::to_string(**v) +
                          ". Must be between " + std::to_string(r.min) + " and " +
                          std::to_string(r.max) + ".");
    }
    *r.value = **v;
  }
  return hc;
}

}  // namespace

Result<core::ecs::TaskDefinition> parse_register_task_definition(const json& in,
                                                                 const std::string& region) {
  core::ecs::TaskDefinition td;
  td.region = region;
  auto family = opt_string(in, "family");
  if (!family) return family.error();
  if (!family->has_value()) return client_error("Family must be specified.");
  if (!valid_name(**family)) {
    return client_error(
        "Family '" + **family +
        "' is invalid: up to 255 letters (uppercase and lowercase), numbers, hyphens, and "
        "underscores are allowed.");
  }
  td.family = **family;
  auto mode = opt_string(in, "networkMode");
  if (!mode) return mode.error();
  td.network_mode = mode->value_or("bridge");
  auto compat = string_list(in, "requiresCompatibilities");
  if (!compat) return compat.error();
  const bool fargate = std::count(compat->begin(), compat->end(), "FARGATE") > 0;
  if (fargate && td.network_mode != "awsvpc") {
    return client_error("Fargate only supports network mode 'awsvpc'.");
  }
  for (const char* key :
       {"cpu", "memory", "taskRoleArn", "executionRoleArn", "pidMode", "ipcMode"}) {
    if (auto v = opt_string(in, key); !v) return v.error();
  }
  if (!in.contains("containerDefinitions") || !in["containerDefinitions"].is_array()) {
    return client_error("Container list cannot be empty.");
  }
  const auto& defs = in["containerDefinitions"];
  if (defs.empty()) return client_error("Container list cannot be empty.");
  json containers = json::array();
  bool any_essential = false;
  std::set<std::string> names;
  for (const auto& def : defs) {
    if (!def.is_object()) return serialization("containerDefinitions", "a list of structures");
    auto name = opt_string(def, "name");
    if (!name) return name.error();
    if (!name->has_value() || (*name)->empty())
      return client_error("Container.name should not be null or empty.");
    auto image = opt_string(def, "image");
    if (!image) return image.error();
    if (!image->has_value() || (*image)->empty())
      return client_error("Container.image should not be null or empty.");
    if (!names.insert(**name).second)
      return client_error("Duplicate container name '" + **name + "'.");
    core::ecs::ContainerInfo info;
    info.name = **name;
    info.image = **image;
    auto essential = opt_bool(def, "essential");
    if (!essential) return essential.error();
    info.essential = essential->value_or(true);  // ECS: omitted means essential
    any_essential = any_essential || info.essential;
    json out = def;
    out["essential"] = info.essential;
    if (!out.contains("cpu")) out["cpu"] = 0;
    for (const char* k : {"environment", "mountPoints", "volumesFrom"}) {
      if (!out.contains(k)) out[k] = json::array();
    }
    json ports = json::array();
    if (def.contains("portMappings") && !def["portMappings"].is_null()) {
      if (!def["portMappings"].is_array())
        return serialization("portMappings", "a list of structures");
      if (td.network_mode == "none" && !def["portMappings"].empty()) {
        return client_error("Port mappings are not allowed when networkMode is 'none'.");
      }
      for (const auto& pm : def["portMappings"]) {
        if (!pm.is_object()) return serialization("portMappings", "a list of structures");
        auto cp = opt_int(pm, "containerPort");
        auto hp = opt_int(pm, "hostPort");
        auto proto = opt_string(pm, "protocol");
        if (!cp) return cp.error();
        if (!hp) return hp.error();
        if (!proto) return proto.error();
        core::ecs::PortMapping m;
        m.container_port = cp->value_or(0);
        m.host_port = hp->value_or(0);
        m.protocol = proto->value_or("tcp");
        if (m.container_port < 1 || m.container_port > 65535) {
          return client_error("Invalid containerPort for container '" + info.name +
                              "': must be 1-65535.");
        }
        if (m.host_port < 0 || m.host_port > 65535) {
          return client_error("Invalid hostPort for container '" + info.name +
                              "': must be 0-65535.");
        }
        if (td.network_mode == "awsvpc" || td.network_mode == "host") {
          if (m.host_port != 0 && m.host_port != m.container_port) {
            return client_error(
                "When networkMode=" + td.network_mode +
                ", the host ports and container ports in port mappings must match.");
          }
          m.host_port = m.container_port;
        }
        json p = pm;
        p["containerPort"] = m.container_port;
        p["protocol"] = m.protocol;
        if (td.network_mode != "bridge" || m.host_port != 0) p["hostPort"] = m.host_port;
        ports.push_back(p);
        info.port_mappings.push_back(m);
      }
    }
    out["portMappings"] = ports;
    if (def.contains("healthCheck") && !def["healthCheck"].is_null()) {
      auto hc = parse_health_check(def["healthCheck"], info.name);
      if (!hc) return hc.error();
      info.health_check = *hc;
      out["healthCheck"] = {{"command", hc->command},
                            {"interval", hc->interval},
                            {"timeout", hc->timeout},
                            {"retries", hc->retries}};
      if (def["healthCheck"].contains("startPeriod"))
        out["healthCheck"]["startPeriod"] = hc->start_period;
    }
    td.containers.push_back(info);
    containers.push_back(out);
  }
  if (!any_essential) return client_error("All tasks must have at least one essential container.");
  json body = in;
  body.erase("tags");
  body["containerDefinitions"] = containers;
  body["networkMode"] = td.network_mode;
  for (const char* k : {"volumes", "placementConstraints"}) {
    if (!body.contains(k)) body[k] = json::array();
  }
  body["requiresCompatibilities"] = *compat;
  json compatibilities = json::array({"EC2"});
  if (td.network_mode == "awsvpc") compatibilities.push_back("FARGATE");
  body["compatibilities"] = compatibilities;
  td.body = body;
  return td;
}

// ---------------------------------------------------------------------------------- plumbing

EcsHandlers::EcsHandlers(core::ecs::EcsEngine& engine) : engine_(engine) {}

void install_ecs(Router& router, EcsHandlers& handlers) {
  router.set_aws_handler(
      std::string(kEcsPrefix),
      [&handlers](const Request& req, std::string_view op) { return handlers.handle(req, op); });
}

Response EcsHandlers::handle(const Request& req, std::string_view operation) {
  auto parsed = parse_call(req, operation, engine_.config().region);
  if (!parsed) {
    AwsCall call;
    call.request_id = uuid4();
    return fail(call, to_aws_error(parsed.error(), AwsApi::Ecs));
  }
  try {
    auto out = call(operation, parsed->input, parsed->region);
    if (!out) return fail(*parsed, to_aws_error(out.error(), AwsApi::Ecs));
    return ok(*parsed, *out);
  } catch (const std::exception& e) {
    return fail(*parsed, "ServerException", std::string("internal error: ") + e.what(),
                http::status::internal_server_error);
  }
}

Result<json> EcsHandlers::call(std::string_view op, const json& in, const std::string& region) {
  if (!in.is_object())
    return ecs_error("SerializationException", "The request body must be a JSON object.");
  // The operation table: operation name -> handler; the input is checked against the model's
  // shape (api/aws/model) before the handler runs, so handlers keep only semantic checks.
  using Handler = Result<Json> (EcsHandlers::*)(const Json&, const std::string&);
  struct Entry {
    std::string_view name;
    Handler handler;
  };
  static constexpr Entry kOperations[] = {
      {"CreateCluster", &EcsHandlers::create_cluster},
      {"CreateService", &EcsHandlers::create_service},
      {"DeleteAccountSetting", &EcsHandlers::delete_account_setting},
      {"DeleteCluster", &EcsHandlers::delete_cluster},
      {"DeleteService", &EcsHandlers::delete_service},
      {"DeregisterTaskDefinition", &EcsHandlers::deregister_task_definition},
      {"DescribeClusters", &EcsHandlers::describe_clusters},
      {"DescribeServices", &EcsHandlers::describe_services},
      {"DescribeTaskDefinition", &EcsHandlers::describe_task_definition},
      {"DescribeTasks", &EcsHandlers::describe_tasks},
      {"DiscoverPollEndpoint", &EcsHandlers::discover_poll_endpoint},
      {"ListAccountSettings", &EcsHandlers::list_account_settings},
      {"ListClusters", &EcsHandlers::list_clusters},
      {"ListServices", &EcsHandlers::list_services},
      {"ListTagsForResource", &EcsHandlers::list_tags_for_resource},
      {"ListTaskDefinitionFamilies", &EcsHandlers::list_task_definition_families},
      {"ListTaskDefinitions", &EcsHandlers::list_task_definitions},
      {"ListTasks", &EcsHandlers::list_tasks},
      {"PutAccountSetting", &EcsHandlers::put_account_setting},
      {"PutAccountSettingDefault", &EcsHandlers::put_account_setting_default},
      {"RegisterTaskDefinition", &EcsHandlers::register_task_definition},
      {"RunTask", &EcsHandlers::run_task},
      {"StopTask", &EcsHandlers::stop_task},
      {"SubmitAttachmentStateChanges", &EcsHandlers::submit_attachment_state_changes},
      {"SubmitContainerStateChange", &EcsHandlers::submit_state_change},
      {"SubmitTaskStateChange", &EcsHandlers::submit_state_change},
      {"TagResource", &EcsHandlers::tag_resource},
      {"UntagResource", &EcsHandlers::untag_resource},
      {"UpdateCluster", &EcsHandlers::update_cluster},
      {"UpdateClusterSettings", &EcsHandlers::update_cluster_settings},
      {"UpdateService", &EcsHandlers::update_service},
  };
  const auto* modelled = model::kEcsModel.operation(op);
  if (!modelled) {
    return ecs_error("UnknownOperationException",
                     "The operation " + std::string(op) + " is not supported by ecs-emulator.");
  }
  if (auto checked = validate_ecs_input(*modelled, in); !checked) return checked.error();
  for (const auto& e : kOperations) {
    if (e.name == op) return (this->*e.handler)(in, region);
  }
  const auto answer = not_emulated(AwsApi::Ecs, std::string(kEcsPrefix) + "." + std::string(op));
  return ecs_error(answer.type, answer.message);
}

Result<std::string> EcsHandlers::active_cluster(const json& in, const std::string& region) const {
  auto ref = opt_string(in, "cluster");
  if (!ref) return ref.error();
  const std::string name = name_from(ref->value_or(kDefaultCluster));
  const auto* c = engine_.cluster(region, name);
  if (!c || c->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  return name;
}

Result<const core::ecs::TaskDefinition*> EcsHandlers::resolve_task_definition(
    const std::string& ref, const std::string& region) const {
  std::string spec = ref;
  std::string r = region;
  if (ref.rfind("arn:", 0) == 0) {
    const auto pos = ref.find(":task-definition/");
    if (pos == std::string::npos) return client_error("Unable to describe task definition.");
    spec = ref.substr(pos + 17);
    r = region_of_arn(ref);
  }
  const auto colon = spec.find(':');
  std::optional<int> revision;
  std::string family = spec;
  if (colon != std::string::npos) {
    family = spec.substr(0, colon);
    const auto rev = spec.substr(colon + 1);
    if (rev.empty() || rev.size() > 9 || !std::all_of(rev.begin(), rev.end(), ::isdigit)) {
      return client_error("Invalid revision number. Number: " + rev);
    }
    revision = std::stoi(rev);
  }
  const auto* td = engine_.task_definition(r, family, revision);
  if (!td) return client_error("Unable to describe task definition.");
  return td;
}

// --------------------------------------------------------------------------------- shapes

json EcsHandlers::cluster_json(const core::ecs::Cluster& c, bool tags, bool settings) const {
  int running = 0, pending = 0, services = 0;
  if (c.status == "ACTIVE") {
    for (const core::Task* t : engine_.tasks(c.region, c.name)) {
      if (t->desired_status == core::TaskStatus::Stopped ||
          t->last_status == core::TaskStatus::Stopped)
        continue;
      (t->last_status == core::TaskStatus::Running ? running : pending)++;
    }
    for (const auto* s : engine_.services(c.region, c.name)) services += s->status == "ACTIVE";
  }
  json out = {{"clusterArn", c.arn},
              {"clusterName", c.name},
              {"status", c.status},
              {"registeredContainerInstancesCount", 0},
              {"runningTasksCount", running},
              {"pendingTasksCount", pending},
              {"activeServicesCount", services},
              {"statistics", json::array()},
              {"tags", tags ? tags_json(engine_.tags_of(c.arn)) : json::array()},
              {"capacityProviders", c.capacity_providers},
              {"defaultCapacityProviderStrategy", json::array()}};
  if (settings) {
    out["settings"] = c.settings.empty()
                          ? json::array({{{"name", "containerInsights"}, {"value", "disabled"}}})
                          : c.settings;
  }
  if (!c.configuration.is_null()) out["configuration"] = c.configuration;
  if (!c.service_connect_defaults.is_null())
    out["serviceConnectDefaults"] = c.service_connect_defaults;
  return out;
}

json EcsHandlers::task_definition_json(const core::ecs::TaskDefinition& td) const {
  json out = td.body;
  out["taskDefinitionArn"] = td.arn;
  out["family"] = td.family;
  out["revision"] = td.revision;
  out["status"] = td.status;
  out["requiresAttributes"] = json::array();
  out["registeredAt"] = epoch_seconds(td.registered_at);
  out["registeredBy"] = "arn:aws:iam::" + engine_.config().account_id + ":root";
  if (td.deregistered_at) out["deregisteredAt"] = epoch_seconds(*td.deregistered_at);
  return out;
}

json EcsHandlers::task_json(const core::Task& t, bool tags) const {
  using core::TaskStatus;
  const auto* extra = engine_.task_extra(t.id);
  const auto* td = engine_.task_definition_by_arn(t.task_definition_arn);
  const std::string launch = extra ? extra->launch_type : "FARGATE";
  json out = {
      {"taskArn", t.arn},
      {"clusterArn", engine_.cluster_arn(t.region, t.cluster)},
      {"taskDefinitionArn", t.task_definition_arn},
      {"lastStatus", core::to_string(t.last_status)},
      {"desiredStatus", t.desired_status == TaskStatus::Stopped ? "STOPPED" : "RUNNING"},
      {"healthStatus", core::to_string(t.health())},
      {"launchType", launch},
      {"group", t.group},
      {"version", t.version},
      {"createdAt", epoch_seconds(t.created_at)},
      {"availabilityZone", extra ? extra->availability_zone : t.region + "a"},
      {"overrides", extra && !extra->overrides.empty()
                        ? extra->overrides
                        : json{{"containerOverrides", json::array()},
                               {"inferenceAcceleratorOverrides", json::array()}}},
      {"attributes", json::array({{{"name", "ecs.cpu-architecture"}, {"value", "x86_64"}}})},
      {"enableExecuteCommand", false},
      {"tags", tags ? tags_json(engine_.tags_of(t.arn)) : json::array()}};
  if (!t.started_by.empty()) out["startedBy"] = t.started_by;
  if (td) {
    if (td->body.contains("cpu")) out["cpu"] = td->body["cpu"];
    if (td->body.contains("memory")) out["memory"] = td->body["memory"];
  }
  if (launch == "FARGATE") {
    out["platformVersion"] = "1.4.0";
    out["platformFamily"] = "Linux";
    out["ephemeralStorage"] = {{"sizeInGiB", 20}};
  }
  if (t.last_status >= TaskStatus::Pending) out["pullStartedAt"] = epoch_seconds(t.created_at);
  if (t.last_status >= TaskStatus::Activating) out["pullStoppedAt"] = epoch_seconds(t.created_at);
  if (t.started_at) {
    out["startedAt"] = epoch_seconds(*t.started_at);
    out["connectivity"] = "CONNECTED";
    out["connectivityAt"] = epoch_seconds(*t.started_at);
  }
  if (t.stopping_at) out["stoppingAt"] = epoch_seconds(*t.stopping_at);
  if (t.stopped_at) {
    out["stoppedAt"] = epoch_seconds(*t.stopped_at);
    out["executionStoppedAt"] = epoch_seconds(*t.stopped_at);
  }
  if (!t.stop_code.empty()) out["stopCode"] = t.stop_code;
  if (!t.stopped_reason.empty()) out["stoppedReason"] = t.stopped_reason;
  const bool awsvpc = td && td->network_mode == "awsvpc";
  const std::string eni = derived_uuid(t.id, 99);
  if (awsvpc) {
    const bool attached =
        t.last_status >= TaskStatus::Pending && t.last_status < TaskStatus::Stopped;
    out["attachments"] = json::array(
        {{{"id", eni},
          {"type", "ElasticNetworkInterface"},
          {"status", attached ? "ATTACHED"
                              : (t.last_status == TaskStatus::Stopped ? "DELETED" : "PRECREATED")},
          {"details", json::array({{{"name", "subnetId"}, {"value", "subnet-emulator"}},
                                   {{"name", "privateIPv4Address"}, {"value", t.ipv4}}})}}});
  } else {
    out["attachments"] = json::array();
  }
  json containers = json::array();
  if (t.launch == core::Launch::Docker && extra && !extra->containers.empty()) {
    // Docker tasks: what the runtime reported, container by container (botocore ECS Container).
    int i = 0;
    for (const auto& c : extra->containers) {
      json cj = {{"containerArn", engine_.arn(t.region, "container/" + t.cluster + "/" + t.id +
                                                            "/" + derived_uuid(t.id, ++i))},
                 {"taskArn", t.arn},
                 {"name", c.name},
                 {"image", c.image},
                 {"lastStatus", c.last_status},
                 {"healthStatus", c.health_check ? core::to_string(c.health) : "UNKNOWN"},
                 {"cpu", "0"},
                 {"networkBindings", json::array()},
                 {"networkInterfaces", json::array()}};
      if (!c.docker_id.empty()) cj["runtimeId"] = c.docker_id;
      if (c.exit_code) cj["exitCode"] = *c.exit_code;
      if (!c.reason.empty()) cj["reason"] = c.reason;
      if (!t.ipv4.empty() || !t.ipv6.empty()) {
        // The containers of a task share the first one's network namespace: one address.
        json ni = json::object();
        if (awsvpc) ni["attachmentId"] = eni;
        if (!t.ipv4.empty()) ni["privateIpv4Address"] = t.ipv4;
        if (!t.ipv6.empty()) ni["ipv6Address"] = t.ipv6;
        cj["networkInterfaces"].push_back(ni);
      }
      containers.push_back(cj);
    }
  } else if (td) {
    int i = 0;
    for (const auto& c : td->containers) {
      json cj = {{"containerArn", engine_.arn(t.region, "container/" + t.cluster + "/" + t.id +
                                                            "/" + derived_uuid(t.id, ++i))},
                 {"taskArn", t.arn},
                 {"name", c.name},
                 {"image", c.image},
                 {"lastStatus", container_status(t.last_status)},
                 {"healthStatus", c.health_check ? core::to_string(t.health()) : "UNKNOWN"},
                 {"cpu", "0"},
                 {"networkBindings", json::array()},
                 {"networkInterfaces", json::array()}};
      if (t.started_at) cj["runtimeId"] = t.id + "-" + std::to_string(i);
      if (awsvpc && !t.ipv4.empty()) {
        cj["networkInterfaces"].push_back({{"attachmentId", eni}, {"privateIpv4Address", t.ipv4}});
      } else if (!awsvpc && t.started_at) {
        for (const auto& pm : c.port_mappings) {
          cj["networkBindings"].push_back(
              {{"bindIP", "0.0.0.0"},
               {"containerPort", pm.container_port},
               {"hostPort", pm.host_port ? pm.host_port : pm.container_port},
               {"protocol", pm.protocol}});
        }
      }
      if (t.last_status == TaskStatus::Stopped && t.started_at) cj["exitCode"] = 0;
      containers.push_back(cj);
    }
  }
  out["containers"] = containers;
  return out;
}

json EcsHandlers::service_json(const core::ecs::EcsService& s, bool tags) const {
  using core::TaskStatus;
  const auto tasks = engine_.service_tasks(s);
  auto counts = [&](const std::string& deployment, bool all) {
    std::pair<int, int> rp{0, 0};
    for (const core::Task* t : tasks) {
      if (t->desired_status == TaskStatus::Stopped || t->last_status == TaskStatus::Stopped)
        continue;
      if (!all && t->started_by != deployment) continue;
      (t->last_status == TaskStatus::Running ? rp.first : rp.second)++;
    }
    return rp;
  };
  const auto [running, pending] = counts("", true);
  json registries = json::array();
  for (const auto& r : s.registries) {
    json e = {{"registryArn", r.registry_arn}};
    if (r.port) e["port"] = *r.port;
    if (!r.container_name.empty()) e["containerName"] = r.container_name;
    if (r.container_port) e["containerPort"] = *r.container_port;
    registries.push_back(e);
  }
  json deployment_config = s.deployment_configuration;
  if (!deployment_config.contains("deploymentCircuitBreaker")) {
    deployment_config["deploymentCircuitBreaker"] = {{"enable", false}, {"rollback", false}};
  }
  json deployments = json::array();
  auto deployment_json = [&](const core::ecs::Deployment& d, bool primary) {
    const auto [r, p] = counts(d.id, false);
    const bool done = primary && s.steady;
    json j = {{"id", d.id},
              {"status", primary ? "PRIMARY" : "ACTIVE"},
              {"taskDefinition", d.task_definition_arn},
              {"desiredCount", primary ? s.desired_count : r + p},
              {"pendingCount", p},
              {"runningCount", r},
              {"failedTasks", primary ? s.start_failures : 0},
              {"createdAt", epoch_seconds(d.created_at)},
              {"updatedAt", epoch_seconds(d.updated_at)},
              {"launchType", s.launch_type},
              {"rolloutState", done ? "COMPLETED" : "IN_PROGRESS"},
              {"rolloutStateReason",
               "ECS deployment " + d.id + (done ? " completed." : " in progress.")}};
    if (s.launch_type == "FARGATE") {
      j["platformVersion"] = "1.4.0";
      j["platformFamily"] = "Linux";
    }
    if (!s.network_configuration.is_null()) j["networkConfiguration"] = s.network_configuration;
    return j;
  };
  if (s.status != "INACTIVE") {
    deployments.push_back(deployment_json(s.primary, true));
    for (auto it = s.old_deployments.rbegin(); it != s.old_deployments.rend(); ++it) {
      deployments.push_back(deployment_json(*it, false));
    }
  }
  json events = json::array();
  for (const auto& e : s.events) {
    events.push_back(
        {{"id", e.id}, {"createdAt", epoch_seconds(e.created_at)}, {"message", e.message}});
  }
  json out = {{"serviceArn", s.arn},
              {"serviceName", s.name},
              {"clusterArn", engine_.cluster_arn(s.region, s.cluster)},
              {"loadBalancers", json::array()},
              {"serviceRegistries", registries},
              {"status", s.status},
              {"desiredCount", s.desired_count},
              {"runningCount", running},
              {"pendingCount", pending},
              {"launchType", s.launch_type},
              {"taskDefinition", s.task_definition_arn},
              {"deploymentConfiguration", deployment_config},
              {"deployments", deployments},
              {"events", events},
              {"createdAt", epoch_seconds(s.created_at)},
              {"placementConstraints", json::array()},
              {"placementStrategy", json::array()},
              {"schedulingStrategy", s.scheduling_strategy},
              {"deploymentController", {{"type", "ECS"}}},
              {"createdBy", "arn:aws:iam::" + engine_.config().account_id + ":root"},
              {"enableECSManagedTags", false},
              {"propagateTags", "NONE"},
              {"enableExecuteCommand", false},
              {"tags", tags ? tags_json(engine_.tags_of(s.arn)) : json::array()}};
  if (s.launch_type == "FARGATE") {
    out["platformVersion"] = "LATEST";
    out["platformFamily"] = "Linux";
  }
  if (!s.network_configuration.is_null()) out["networkConfiguration"] = s.network_configuration;
  if (s.health_check_grace_period)
    out["healthCheckGracePeriodSeconds"] = *s.health_check_grace_period;
  return out;
}

// -------------------------------------------------------------------------------- clusters

Result<json> EcsHandlers::create_cluster(const json& in, const std::string& region) {
  auto name = opt_string(in, "clusterName");
  if (!name) return name.error();
  core::ecs::Cluster c;
  c.region = region;
  c.name = name->value_or(kDefaultCluster);
  if (!valid_name(c.name)) {
    return invalid_parameter(
        "Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, "
        "hyphens and "
        "underscores.");
  }
  auto tags = parse_tags(in);
  if (!tags) return tags.error();
  auto providers = string_list(in, "capacityProviders");
  if (!providers) return providers.error();
  c.capacity_providers = *providers;
  // Last of the checks: a new Service Connect namespace is created here, so a request refused
  // for another member leaves none behind.
  if (auto applied = apply_cluster_update(in, c); !applied) return applied.error();
  // ECS: a cluster created without a containerInsights setting takes the account's.
  const bool insights_given = std::any_of(c.settings.begin(), c.settings.end(), [](const json& s) {
    return s.value("name", std::string()) == "containerInsights";
  });
  const auto& account = engine_.account_settings();
  const auto insights = account.effective(region, account.root_arn(), "containerInsights");
  if (!insights_given && insights.value != "disabled")
    c.settings.push_back({{"name", "containerInsights"}, {"value", insights.value}});
  auto created = engine_.create_cluster(c, *tags);
  if (!created) return created.error();
  return json{{"cluster", cluster_json(*created, true, true)}};
}

Result<json> EcsHandlers::describe_clusters(const json& in, const std::string& region) {
  auto refs = string_list(in, "clusters");
  if (!refs) return refs.error();
  if (refs->empty()) refs->push_back(kDefaultCluster);
  if (refs->size() > 100) return invalid_parameter("clusters can have at most 100 items.");
  json out = {{"clusters", json::array()}, {"failures", json::array()}};
  for (const auto& ref : *refs) {
    const auto name = name_from(ref);
    const auto* c = engine_.cluster(region, name);
    if (!c) {
      out["failures"].push_back(
          {{"arn", engine_.cluster_arn(region, name)}, {"reason", "MISSING"}});
      continue;
    }
    out["clusters"].push_back(cluster_json(*c, includes(in, "TAGS"), includes(in, "SETTINGS")));
  }
  return out;
}

Result<json> EcsHandlers::list_clusters(const json& in, const std::string& region) {
  std::vector<std::string> arns;
  for (const auto* c : engine_.clusters(region)) {
    if (c->status == "ACTIVE") arns.push_back(c->arn);
  }
  return page(arns, in, "clusterArns", 100);
}

Result<json> EcsHandlers::delete_cluster(const json& in, const std::string& region) {
  auto ref = opt_string(in, "cluster");
  if (!ref) return ref.error();
  if (!ref->has_value()) return invalid_parameter("cluster must be specified.");
  auto c = engine_.delete_cluster(region, name_from(**ref));
  if (!c) return c.error();
  return json{{"cluster", cluster_json(*c, false, false)}};
}

Result<const core::Namespace*> EcsHandlers::resolve_namespace(const std::string& ref,
                                                              const std::string& region) const {
  const auto& registry = engine_.registry();
  if (ref.rfind("arn:", 0) == 0) {
    for (const auto* n : registry.namespaces()) {
      if (n->arn == ref) return n;
    }
  } else if (const auto* n = registry.namespace_by_name(ref); n && n->region == region) {
    return n;
  }
  return ecs_error("NamespaceNotFoundException", "Namespace not found.");
}

Result<void> EcsHandlers::apply_cluster_update(const json& in, core::ecs::Cluster& c) {
  if (in.contains("settings") && in["settings"].is_array()) {
    if (!c.settings.is_array()) c.settings = json::array();
    for (const auto& setting : in["settings"]) {
      const auto name = setting.value("name", std::string());
      auto it = std::find_if(c.settings.begin(), c.settings.end(), [&](const json& existing) {
        return existing.value("name", std::string()) == name;
      });
      if (it != c.settings.end()) {
        *it = setting;
      } else {
        c.settings.push_back(setting);
      }
    }
  }
  if (in.contains("configuration") && in["configuration"].is_object())
    c.configuration = in["configuration"];
  if (in.contains("serviceConnectDefaults") && in["serviceConnectDefaults"].is_object()) {
    auto ref = opt_string(in["serviceConnectDefaults"], "namespace");
    if (!ref) return ref.error();
    if (!ref->has_value()) {
      return invalid_parameter("serviceConnectDefaults.namespace must be specified.");
    }
    if (ref->value().empty()) {
      c.service_connect_defaults = json();  // ECS: "" removes the default namespace
    } else if (auto ns = resolve_namespace(**ref, c.region)) {
      c.service_connect_defaults = {{"namespace", (*ns)->arn}};
    } else if (ref->value().rfind("arn:", 0) == 0) {
      return invalid_parameter("The namespace " + **ref + " was not found.");
    } else {
      core::NamespaceSpec spec;
      spec.name = **ref;
      spec.type = "HTTP";
      spec.region = c.region;
      auto created = engine_.registry().put_namespace(spec);
      if (!created) return created.error();
      c.service_connect_defaults = {{"namespace", created->arn}};
    }
  }
  return {};
}

Result<json> EcsHandlers::update_cluster(const json& in, const std::string& region) {
  auto ref = opt_string(in, "cluster");
  if (!ref) return ref.error();
  if (!ref->has_value()) return invalid_parameter("cluster must be specified.");
  const auto* existing = engine_.cluster(region, name_from(**ref));
  if (!existing || existing->status != "ACTIVE")
    return ecs_error("ClusterNotFoundException", "Cluster not found.");
  core::ecs::Cluster c = *existing;
  if (auto applied = apply_cluster_update(in, c); !applied) return applied.error();
  auto updated = engine_.update_cluster(c);
  if (!updated) return updated.error();
  return json{{"cluster", cluster_json(*updated, false, true)}};
}

Result<json> EcsHandlers::update_cluster_settings(const json& in, const std::string& region) {
  if (!in.contains("settings") || !in["settings"].is_array())
    return invalid_parameter("settings must be specified.");
  return update_cluster(
      json{{"cluster", in.value("cluster", json())}, {"settings", in["settings"]}}, region);
}

// ------------------------------------------------------------------------ account settings

namespace {

json setting_json(const core::ecs::AccountSetting& s) {
  return {{"name", s.name},
          {"value", s.value},
          {"principalArn", s.principal_arn},
          {"type", s.aws_managed ? "aws_managed" : "user"}};
}

/// `name` (a SettingName; the model checked the enum) and `value` (required if `value_needed`).
Result<std::pair<std::string, std::string>> setting_name_value(const json& in, bool value_needed) {
  auto name = opt_string(in, "name");
  if (!name) return name.error();
  if (!name->has_value()) return invalid_parameter("name must be specified.");
  auto value = opt_string(in, "value");
  if (!value) return value.error();
  if (value_needed && !value->has_value()) return invalid_parameter("value must be specified.");
  return std::pair{**name, value->value_or("")};
}

}  // namespace

Result<std::string> EcsHandlers::principal_of(const json& in) const {
  auto ref = opt_string(in, "principalArn");
  if (!ref) return ref.error();
  const auto& settings = engine_.account_settings();
  if (!ref->has_value()) return settings.root_arn();  // no IAM: the caller is the root user
  // arn:<partition>:iam::<account>:root | user/... | role/...
  const auto& arn = **ref;
  const auto iam = arn.find(":iam::");
  const auto colon = iam == std::string::npos ? iam : arn.find(':', iam + 6);
  const auto resource = colon == std::string::npos ? std::string() : arn.substr(colon + 1);
  if (arn.rfind("arn:", 0) != 0 || resource.empty() ||
      !(resource == "root" || resource.rfind("user/", 0) == 0 || resource.rfind("role/", 0) == 0)) {
    return invalid_parameter("principalArn " + arn + " is not a valid IAM user, role or root ARN.");
  }
  return arn;
}

Result<json> EcsHandlers::put_account_setting(const json& in, const std::string& region) {
  auto setting = setting_name_value(in, true);
  if (!setting) return setting.error();
  auto principal = principal_of(in);
  if (!principal) return principal.error();
  auto put = engine_.account_settings().put(region, *principal, setting->first, setting->second);
  if (!put) return put.error();
  return json{{"setting", setting_json(*put)}};
}

Result<json> EcsHandlers::put_account_setting_default(const json& in, const std::string& region) {
  auto setting = setting_name_value(in, true);
  if (!setting) return setting.error();
  auto& settings = engine_.account_settings();
  auto put = settings.put(region, settings.root_arn(), setting->first, setting->second);
  if (!put) return put.error();
  return json{{"setting", setting_json(*put)}};
}

Result<json> EcsHandlers::delete_account_setting(const json& in, const std::string& region) {
  auto setting = setting_name_value(in, false);
  if (!setting) return setting.error();
  auto principal = principal_of(in);
  if (!principal) return principal.error();
  auto removed = engine_.account_settings().remove(region, *principal, setting->first);
  if (!removed) return removed.error();
  return json{{"setting", setting_json(*removed)}};
}

Result<json> EcsHandlers::list_account_settings(const json& in, const std::string& region) {
  auto name = opt_string(in, "name");
  if (!name) return name.error();
  auto value = opt_string(in, "value");
  if (!value) return value.error();
  if (value->has_value() && !name->has_value()) {
    return invalid_parameter("You must also specify an account setting name to use value.");
  }
  auto effective = opt_bool(in, "effectiveSettings");
  if (!effective) return effective.error();
  auto principal = principal_of(in);
  if (!principal) return principal.error();
  const auto& settings = engine_.account_settings();
  std::vector<core::ecs::AccountSetting> found;
  if (effective->value_or(false)) {
    for (const auto& rule : core::ecs::AccountSettings::rules())
      found.push_back(settings.effective(region, *principal, rule.name));
  } else {
    found = settings.explicit_settings(region, *principal);
  }
  json items = json::array();
  for (const auto& s : found) {
    if (name->has_value() && s.name != **name) continue;
    if (value->has_value() && s.value != **value) continue;
    items.push_back(setting_json(s));
  }
  return page(items, in, "settings", 10, 10);
}

// ------------------------------------------------------------------------ agent endpoints

Result<json> EcsHandlers::discover_poll_endpoint(const json&, const std::string&) {
  // No container agent polls the emulator: every endpoint is its own API.
  return json{{"endpoint", poll_endpoint_},
              {"telemetryEndpoint", poll_endpoint_},
              {"serviceConnectEndpoint", poll_endpoint_}};
}

Result<json> EcsHandlers::submit_state_change(const json&, const std::string&) {
  // Agent reports: accepted, as ECS does; the emulator's own lifecycle owns the task states.
  return json{{"acknowledgment", "ACK"}};
}

Result<json> EcsHandlers::submit_attachment_state_changes(const json& in, const std::string&) {
  if (!in.contains("attachments") || !in["attachments"].is_array())
    return invalid_parameter("attachments must be specified.");
  return json{{"acknowledgment", "ACK"}};
}

// ------------------------------------------------------------------------ task definitions

Result<json> EcsHandlers::register_task_definition(const json& in, const std::string& region) {
  auto td = parse_register_task_definition(in, region);
  if (!td) return td.error();
  auto tags = parse_tags(in);
  if (!tags) return tags.error();
  auto registered = engine_.register_task_definition(*td, *tags);
  if (!registered) return registered.error();
  return json{{"taskDefinition", task_definition_json(*registered)}, {"tags", tags_json(*tags)}};
}

Result<json> EcsHandlers::describe_task_definition(const json& in, const std::string& region) {
  auto ref = opt_string(in, "taskDefinition");
  if (!ref) return ref.error();
  if (!ref->has_value()) return client_error("Unable to describe task definition.");
  auto td = resolve_task_definition(**ref, region);
  if (!td) return td.error();
  json out = {{"taskDefinition", task_definition_json(**td)}};
  if (includes(in, "TAGS")) out["tags"] = tags_json(engine_.tags_of((*td)->arn));
  return out;
}

Result<json> EcsHandlers::list_task_definitions(const json& in, const std::string& region) {
  auto family = opt_string(in, "familyPrefix");
  auto status = opt_string(in, "status");
  auto sort = opt_string(in, "sort");
  if (!family) return family.error();
  if (!status) return status.error();
  if (!sort) return sort.error();
  const auto want = status->value_or("ACTIVE");
  if (want != "ACTIVE" && want != "INACTIVE")
    return invalid_parameter("status must be ACTIVE or INACTIVE.");
  const auto order = sort->value_or("ASC");
  if (order != "ASC" && order != "DESC") return invalid_parameter("sort must be ASC or DESC.");
  std::vector<std::string> arns;
  for (const auto* td : engine_.task_definitions(region)) {
    if (td->status != want) continue;
    if (family->has_value() && td->family != **family) continue;
    arns.push_back(td->arn);
  }
  if (order == "DESC") std::reverse(arns.begin(), arns.end());
  return page(arns, in, "taskDefinitionArns", 100);
}

Result<json> EcsHandlers::list_task_definition_families(const json& in, const std::string& region) {
  auto prefix = opt_string(in, "familyPrefix");
  auto status = opt_string(in, "status");
  if (!prefix) return prefix.error();
  if (!status) return status.error();
  const auto want = status->value_or("ALL");
  if (want != "ACTIVE" && want != "INACTIVE" && want != "ALL") {
    return invalid_parameter("status must be ACTIVE, INACTIVE or ALL.");
  }
  std::map<std::string, bool> families;  // family -> has an ACTIVE revision
  for (const auto* td : engine_.task_definitions(region)) {
    if (prefix->has_value() && td->family.rfind(**prefix, 0) != 0) continue;
    families[td->family] = families[td->family] || td->status == "ACTIVE";
  }
  std::vector<std::string> names;
  for (const auto& [f, active] : families) {
    if (want == "ALL" || (want == "ACTIVE") == active) names.push_back(f);
  }
  return page(names, in, "families", 100);
}

Result<json> EcsHandlers::deregister_task_definition(const json& in, const std::string& region) {
  auto ref = opt_string(in, "taskDefinition");
  if (!ref) return ref.error();
  if (!ref->has_value()) return client_error("taskDefinition must be specified.");
  std::string spec = **ref;
  if (spec.rfind("arn:", 0) == 0) {
    const auto pos = spec.find(":task-definition/");
    spec = pos == std::string::npos ? std::string() : spec.substr(pos + 17);
  }
  if (spec.find(':') == std::string::npos)
    return client_error("Invalid revision number. You must specify a revision.");
  auto td = resolve_task_definition(**ref, region);
  if (!td) return client_error("The specified task definition does not exist.");
  auto out = engine_.deregister_task_definition((*td)->region, (*td)->family, (*td)->revision);
  if (!out) return out.error();
  return json{{"taskDefinition", task_definition_json(*out)}};
}

// ----------------------------------------------------------------------------------- tasks

Result<json> EcsHandlers::run_task(const json& in, const std::string& region) {
  auto token = opt_string(in, "clientToken");
  if (!token) return token.error();
  if (token->has_value() && (*token)->size() > 64)
    return invalid_parameter("clientToken can be at most 64 characters.");
  const std::string token_key = token->has_value() ? region + "/" + **token : std::string();
  if (!token_key.empty()) {
    if (const auto it = run_task_tokens_.find(token_key); it != run_task_tokens_.end())
      return it->second;
  }
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto ref = opt_string(in, "taskDefinition");
  if (!ref) return ref.error();
  if (!ref->has_value()) return client_error("TaskDefinition must be specified.");
  auto td = resolve_task_definition(**ref, region);
  if (!td) return td.error();
  if ((*td)->status != "ACTIVE") return client_error("TaskDefinition is inactive");
  auto count = opt_int(in, "count");
  if (!count) return count.error();
  const int n = count->value_or(1);
  if (n < 1 || n > 10) return invalid_parameter("count must be between 1 and 10.");
  auto started_by = opt_string(in, "startedBy");
  auto group = opt_string(in, "group");
  auto launch = opt_string(in, "launchType");
  if (!started_by) return started_by.error();
  if (!group) return group.error();
  if (!launch) return launch.error();
  if (started_by->value_or("").size() > 128)
    return invalid_parameter("startedBy can be at most 128 characters.");
  const auto& compat = (*td)->body.value("requiresCompatibilities", json::array());
  const bool fargate_td = std::count(compat.begin(), compat.end(), "FARGATE") > 0;
  const std::string launch_type = launch->value_or(fargate_td ? "FARGATE" : "EC2");
  const bool has_network =
      in.contains("networkConfiguration") && in["networkConfiguration"].is_object();
  if ((*td)->network_mode == "awsvpc" && !has_network) {
    return invalid_parameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  auto tags = parse_tags(in);
  if (!tags) return tags.error();
  core::ecs::RunTaskInput input;
  input.region = region;
  input.cluster = *cluster;
  input.task_definition_arn = (*td)->arn;
  input.count = n;
  input.started_by = started_by->value_or("");
  input.group = group->value_or("");
  input.extra.launch_type = launch_type;
  if (in.contains("overrides") && in["overrides"].is_object())
    input.extra.overrides = in["overrides"];
  if (has_network) input.extra.network_configuration = in["networkConfiguration"];
  input.tags = *tags;
  auto run = engine_.run_task(input);
  if (!run) return run.error();
  json out = {{"tasks", json::array()}, {"failures", json::array()}};
  for (const auto& t : run->tasks) out["tasks"].push_back(task_json(t, true));
  for (const auto& [arn, reason] : run->failures)
    out["failures"].push_back({{"arn", arn}, {"reason", reason}});
  if (!token_key.empty()) run_task_tokens_[token_key] = out;
  return out;
}

Result<json> EcsHandlers::stop_task(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto ref = opt_string(in, "task");
  auto reason = opt_string(in, "reason");
  if (!ref) return ref.error();
  if (!reason) return reason.error();
  if (!ref->has_value()) return invalid_parameter("task must be specified.");
  auto t = engine_.stop_task(region, *cluster, name_from(**ref), reason->value_or(""));
  if (!t) return t.error();
  return json{{"task", task_json(*t, false)}};
}

Result<json> EcsHandlers::describe_tasks(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto refs = string_list(in, "tasks");
  if (!refs) return refs.error();
  if (refs->empty()) return invalid_parameter("Tasks cannot be empty.");
  if (refs->size() > 100) return invalid_parameter("tasks can have at most 100 items.");
  json out = {{"tasks", json::array()}, {"failures", json::array()}};
  const bool tags = includes(in, "TAGS");
  for (const auto& ref : *refs) {
    const auto id = name_from(ref);
    const core::Task* t = engine_.registry().task(id);
    if (!t || !core::ecs::is_ecs_task(*t) || t->region != region || t->cluster != *cluster) {
      out["failures"].push_back(
          {{"arn", engine_.task_arn(region, *cluster, id)}, {"reason", "MISSING"}});
      continue;
    }
    out["tasks"].push_back(task_json(*t, tags));
  }
  return out;
}

Result<json> EcsHandlers::list_tasks(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto family = opt_string(in, "family");
  auto service = opt_string(in, "serviceName");
  auto started_by = opt_string(in, "startedBy");
  auto desired = opt_string(in, "desiredStatus");
  auto launch = opt_string(in, "launchType");
  auto instance = opt_string(in, "containerInstance");
  for (auto* r : {&family, &service, &started_by, &desired, &launch, &instance}) {
    if (!*r) return r->error();
  }
  const auto want = desired->value_or("RUNNING");
  if (want != "RUNNING" && want != "PENDING" && want != "STOPPED") {
    return invalid_parameter("desiredStatus must be RUNNING, PENDING or STOPPED.");
  }
  std::string service_name;
  if (service->has_value()) {
    service_name = name_from(**service);
    const auto* s = engine_.service(region, *cluster, service_name);
    if (!s || s->status == "INACTIVE")
      return ecs_error("ServiceNotFoundException", "Service not found.");
  }
  std::vector<std::pair<WallTime, std::string>> found;
  // ECS never sets PENDING as a desired status; simulated tasks are on no container instance.
  if (want != "PENDING" && !instance->has_value()) {
    for (const core::Task* t : engine_.tasks(region, *cluster)) {
      const bool stopped = t->desired_status == core::TaskStatus::Stopped;
      if ((want == "STOPPED") != stopped) continue;
      if (family->has_value() &&
          t->task_definition_arn.find(":task-definition/" + **family + ":") == std::string::npos) {
        continue;
      }
      if (!service_name.empty() && t->ecs_service != service_name) continue;
      if (started_by->has_value() && t->started_by != **started_by) continue;
      if (launch->has_value()) {
        const auto* extra = engine_.task_extra(t->id);
        if (!extra || extra->launch_type != **launch) continue;
      }
      found.emplace_back(t->created_at, t->arn);
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> arns;
  for (auto& [time, arn] : found) arns.push_back(arn);
  return page(arns, in, "taskArns", 100);
}

// -------------------------------------------------------------------------------- services

Result<std::vector<core::ecs::ServiceRegistry>> EcsHandlers::parse_registries(
    const json& in, const core::ecs::TaskDefinition* td) const {
  std::vector<core::ecs::ServiceRegistry> out;
  if (!in.contains("serviceRegistries") || in["serviceRegistries"].is_null()) return out;
  const auto& list = in["serviceRegistries"];
  if (!list.is_array()) return serialization("serviceRegistries", "a list of structures");
  if (list.size() > 1)
    return invalid_parameter("Each service may be associated with one service registry.");
  for (const auto& r : list) {
    if (!r.is_object()) return serialization("serviceRegistries", "a list of structures");
    auto arn = opt_string(r, "registryArn");
    auto port = opt_int(r, "port");
    auto name = opt_string(r, "containerName");
    auto cport = opt_int(r, "containerPort");
    if (!arn) return arn.error();
    if (!port) return port.error();
    if (!name) return name.error();
    if (!cport) return cport.error();
    if (!arn->has_value())
      return invalid_parameter("serviceRegistries.registryArn must be specified.");
    const core::Service* d = engine_.discovery_service_by_arn(**arn);
    if (!d) return invalid_parameter("The service registry " + **arn + " does not exist.");
    core::ecs::ServiceRegistry reg;
    reg.registry_arn = **arn;
    reg.port = *port;
    reg.container_name = name->value_or("");
    reg.container_port = *cport;
    if (reg.port && reg.container_port) {
      return invalid_parameter(
          "You cannot specify both port and containerPort in a service registry.");
    }
    if (reg.container_port && reg.container_name.empty()) {
      return invalid_parameter(
          "containerName must be specified with containerPort in a service registry.");
    }
    if (td && !reg.container_name.empty()) {
      const auto it = std::find_if(td->containers.begin(), td->containers.end(),
                                   [&](const auto& c) { return c.name == reg.container_name; });
      if (it == td->containers.end()) {
        return invalid_parameter("The container " + reg.container_name +
                                 " does not exist in the task definition.");
      }
      if (reg.container_port) {
        const bool mapped =
            std::any_of(it->port_mappings.begin(), it->port_mappings.end(),
                        [&](const auto& m) { return m.container_port == *reg.container_port; });
        if (!mapped) {
          return invalid_parameter("The container " + reg.container_name +
                                   " does not have a port mapping for port " +
                                   std::to_string(*reg.container_port) + ".");
        }
      }
    }
    if (td && d->records.srv && !reg.port && !reg.container_port) {
      bool has_port = false;
      for (const auto& c : td->containers) has_port = has_port || !c.port_mappings.empty();
      if (!has_port) {
        return invalid_parameter("SRV records of service registry " + reg.registry_arn +
                                 " need a port: give port, or containerName and containerPort.");
      }
    }
    out.push_back(reg);
  }
  return out;
}

Result<json> EcsHandlers::create_service(const json& in, const std::string& region) {
  auto name = opt_string(in, "serviceName");
  if (!name) return name.error();
  if (!name->has_value()) return invalid_parameter("serviceName must be specified.");
  if (!valid_name(**name)) {
    return invalid_parameter(
        "Service name can have up to 255 characters: letters (uppercase and lowercase), numbers, "
        "hyphens and "
        "underscores.");
  }
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto strategy = opt_string(in, "schedulingStrategy");
  if (!strategy) return strategy.error();
  if (strategy->value_or("REPLICA") != "REPLICA") {
    return invalid_parameter(
        "The DAEMON scheduling strategy needs container instances; ecs-emulator runs REPLICA "
        "services.");
  }
  auto ref = opt_string(in, "taskDefinition");
  if (!ref) return ref.error();
  if (!ref->has_value()) return invalid_parameter("TaskDefinition must be specified.");
  auto td = resolve_task_definition(**ref, region);
  if (!td) return td.error();
  if ((*td)->status != "ACTIVE") return client_error("TaskDefinition is inactive");
  auto desired = opt_int(in, "desiredCount");
  if (!desired) return desired.error();
  if (!desired->has_value())
    return invalid_parameter("desiredCount must be specified for the REPLICA scheduling strategy.");
  if (**desired < 0) return invalid_parameter("desiredCount must be 0 or more.");
  auto token = opt_string(in, "clientToken");
  if (!token) return token.error();
  if (token->value_or("").size() > 36)
    return invalid_parameter("clientToken can be at most 36 characters.");
  auto launch = opt_string(in, "launchType");
  if (!launch) return launch.error();
  const auto& compat = (*td)->body.value("requiresCompatibilities", json::array());
  const bool fargate_td = std::count(compat.begin(), compat.end(), "FARGATE") > 0;
  const std::string launch_type = launch->value_or(fargate_td ? "FARGATE" : "EC2");
  const bool has_network =
      in.contains("networkConfiguration") && in["networkConfiguration"].is_object();
  if ((*td)->network_mode == "awsvpc" && !has_network) {
    return invalid_parameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  auto grace = opt_int(in, "healthCheckGracePeriodSeconds");
  if (!grace) return grace.error();
  if (grace->has_value() && **grace < 0)
    return invalid_parameter("healthCheckGracePeriodSeconds must be 0 or more.");
  auto registries = parse_registries(in, *td);
  if (!registries) return registries.error();
  auto tags = parse_tags(in);
  if (!tags) return tags.error();
  core::ecs::EcsService s;
  s.region = region;
  s.cluster = *cluster;
  s.name = **name;
  s.desired_count = **desired;
  s.task_definition_arn = (*td)->arn;
  s.launch_type = launch_type;
  s.registries = *registries;
  if (has_network) s.network_configuration = in["networkConfiguration"];
  if (in.contains("deploymentConfiguration") && in["deploymentConfiguration"].is_object()) {
    for (const auto& [k, v] : in["deploymentConfiguration"].items())
      s.deployment_configuration[k] = v;
  }
  s.health_check_grace_period = *grace;
  s.client_token = token->value_or("");
  s.request = in;
  auto created = engine_.create_service(s, *tags);
  if (!created) return created.error();
  return json{{"service", service_json(*created, true)}};
}

Result<json> EcsHandlers::update_service(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto ref = opt_string(in, "service");
  if (!ref) return ref.error();
  if (!ref->has_value()) return invalid_parameter("service must be specified.");
  core::ecs::ServiceUpdate u;
  auto desired = opt_int(in, "desiredCount");
  if (!desired) return desired.error();
  if (desired->has_value() && **desired < 0)
    return invalid_parameter("desiredCount must be 0 or more.");
  u.desired_count = *desired;
  const core::ecs::TaskDefinition* td = nullptr;
  auto td_ref = opt_string(in, "taskDefinition");
  if (!td_ref) return td_ref.error();
  if (td_ref->has_value()) {
    auto found = resolve_task_definition(**td_ref, region);
    if (!found) return found.error();
    if ((*found)->status != "ACTIVE") return client_error("TaskDefinition is inactive");
    td = *found;
    u.task_definition_arn = td->arn;
  }
  const auto name = name_from(**ref);
  const auto* existing = engine_.service(region, *cluster, name);
  if (!td && existing) td = engine_.task_definition_by_arn(existing->task_definition_arn);
  if (in.contains("serviceRegistries") && !in["serviceRegistries"].is_null()) {
    auto regs = parse_registries(in, td);
    if (!regs) return regs.error();
    u.registries = *regs;
  }
  if (in.contains("networkConfiguration") && in["networkConfiguration"].is_object()) {
    u.network_configuration = in["networkConfiguration"];
  }
  if (in.contains("deploymentConfiguration") && in["deploymentConfiguration"].is_object() &&
      existing) {
    json merged = existing->deployment_configuration;
    for (const auto& [k, v] : in["deploymentConfiguration"].items()) merged[k] = v;
    u.deployment_configuration = merged;
  }
  auto grace = opt_int(in, "healthCheckGracePeriodSeconds");
  auto force = opt_bool(in, "forceNewDeployment");
  if (!grace) return grace.error();
  if (!force) return force.error();
  u.health_check_grace_period = *grace;
  u.force_new_deployment = force->value_or(false);
  auto updated = engine_.update_service(region, *cluster, name, u);
  if (!updated) return updated.error();
  return json{{"service", service_json(*updated, false)}};
}

Result<json> EcsHandlers::describe_services(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto refs = string_list(in, "services");
  if (!refs) return refs.error();
  if (refs->empty()) return invalid_parameter("Services cannot be empty.");
  if (refs->size() > 10) return invalid_parameter("services can have at most 10 items.");
  json out = {{"services", json::array()}, {"failures", json::array()}};
  for (const auto& ref : *refs) {
    const auto name = name_from(ref);
    const auto* s = engine_.service(region, *cluster, name);
    if (!s) {
      out["failures"].push_back(
          {{"arn", engine_.service_arn(region, *cluster, name)}, {"reason", "MISSING"}});
      continue;
    }
    out["services"].push_back(service_json(*s, includes(in, "TAGS")));
  }
  return out;
}

Result<json> EcsHandlers::list_services(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto launch = opt_string(in, "launchType");
  auto strategy = opt_string(in, "schedulingStrategy");
  if (!launch) return launch.error();
  if (!strategy) return strategy.error();
  std::vector<std::string> arns;
  for (const auto* s : engine_.services(region, *cluster)) {
    if (s->status != "ACTIVE") continue;  // ECS: DRAINING and INACTIVE services are not listed
    if (launch->has_value() && s->launch_type != **launch) continue;
    if (strategy->has_value() && s->scheduling_strategy != **strategy) continue;
    arns.push_back(s->arn);
  }
  return page(arns, in, "serviceArns", 10);
}

Result<json> EcsHandlers::delete_service(const json& in, const std::string& region) {
  auto cluster = active_cluster(in, region);
  if (!cluster) return cluster.error();
  auto ref = opt_string(in, "service");
  auto force = opt_bool(in, "force");
  if (!ref) return ref.error();
  if (!force) return force.error();
  if (!ref->has_value()) return invalid_parameter("service must be specified.");
  auto s = engine_.delete_service(region, *cluster, name_from(**ref), force->value_or(false));
  if (!s) return s.error();
  return json{{"service", service_json(*s, false)}};
}

// ------------------------------------------------------------------------------------ tags

Result<json> EcsHandlers::tag_resource(const json& in, const std::string&) {
  auto arn = opt_string(in, "resourceArn");
  if (!arn) return arn.error();
  if (!arn->has_value() || (*arn)->rfind("arn:aws:ecs:", 0) != 0) {
    return invalid_parameter("resourceArn must be an ECS resource ARN.");
  }
  if (!in.contains("tags")) return invalid_parameter("tags must be specified.");
  auto tags = parse_tags(in);
  if (!tags) return tags.error();
  if (auto r = engine_.tag_resource(**arn, *tags); !r) return r.error();
  return json::object();
}

Result<json> EcsHandlers::untag_resource(const json& in, const std::string&) {
  auto arn = opt_string(in, "resourceArn");
  if (!arn) return arn.error();
  if (!arn->has_value() || (*arn)->rfind("arn:aws:ecs:", 0) != 0) {
    return invalid_parameter("resourceArn must be an ECS resource ARN.");
  }
  auto keys = string_list(in, "tagKeys");
  if (!keys) return keys.error();
  if (auto r = engine_.untag_resource(**arn, *keys); !r) return r.error();
  return json::object();
}

Result<json> EcsHandlers::list_tags_for_resource(const json& in, const std::string&) {
  auto arn = opt_string(in, "resourceArn");
  if (!arn) return arn.error();
  if (!arn->has_value() || (*arn)->rfind("arn:aws:ecs:", 0) != 0) {
    return invalid_parameter("resourceArn must be an ECS resource ARN.");
  }
  if (!engine_.resource_exists(**arn)) {
    return ecs_error("ResourceNotFoundException", "The specified resource wasn't found.");
  }
  return json{{"tags", tags_json(engine_.tags_of(**arn))}};
}

// -------------------------------------------------------------------------------- fixtures

Result<void> apply_ecs_fixture(EcsHandlers& handlers, const core::FixtureSet& set,
                               const std::string& region) {
  auto& engine = handlers.engine();
  for (std::size_t i = 0; i < set.task_definitions.size(); ++i) {
    const std::string path = "taskDefinitions[" + std::to_string(i) + "]";
    const auto& body = set.task_definitions[i];
    auto td = parse_register_task_definition(body, region);
    if (!td) return core::fixture_error(set.file, td.error(), path);
    // Idempotent: the latest ACTIVE revision with the same body is kept.
    if (const auto* latest = engine.task_definition(region, td->family, std::nullopt);
        latest && latest->body == td->body) {
      continue;
    }
    if (auto r = handlers.call("RegisterTaskDefinition", body, region); !r) {
      return core::fixture_error(set.file, r.error(), path);
    }
  }
  for (std::size_t i = 0; i < set.ecs_services.size(); ++i) {
    const std::string path = "ecsServices[" + std::to_string(i) + "]";
    json body = set.ecs_services[i];
    if (!body.is_object())
      return core::fixture_invalid(set.file, path,
                                   "must be an object (a CreateService request body)");
    if (!body.contains("serviceName") || !body["serviceName"].is_string()) {
      return core::fixture_invalid(set.file, path + ".serviceName", "required");
    }
    const std::string cluster = name_from(body.value("cluster", std::string(kDefaultCluster)));
    const std::string name = body["serviceName"].get<std::string>();
    // A fixture cannot know a Cloud Map ARN in advance: a registryArn may name the discovery
    // service by its DNS name (`web.local`) instead.
    if (body.contains("serviceRegistries") && body["serviceRegistries"].is_array()) {
      for (std::size_t j = 0; j < body["serviceRegistries"].size(); ++j) {
        auto& reg = body["serviceRegistries"][j];
        if (!reg.is_object() || !reg.contains("registryArn") || !reg["registryArn"].is_string())
          continue;
        const auto ref = reg["registryArn"].get<std::string>();
        if (ref.rfind("arn:", 0) == 0) continue;
        const core::Service* d = engine.registry().service_by_dns_name(ref);
        if (!d) {
          return core::fixture_invalid(
              set.file, path + ".serviceRegistries[" + std::to_string(j) + "].registryArn",
              "no discovery service " + ref);
        }
        reg["registryArn"] = d->arn;
      }
    }
    const auto* c = engine.cluster(region, cluster);
    if (!c || c->status != "ACTIVE") {
      if (auto r = handlers.call("CreateCluster", json{{"clusterName", cluster}}, region); !r) {
        return core::fixture_error(set.file, r.error(), path + ".cluster");
      }
    }
    if (const auto* s = engine.service(region, cluster, name); s && s->status != "INACTIVE")
      continue;
    if (auto r = handlers.call("CreateService", body, region); !r)
      return core::fixture_error(set.file, r.error(), path);
  }
  return {};
}

}  // namespace emu::api::aws
