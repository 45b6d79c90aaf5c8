#include "emulator/core/native_codec.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <initializer_list>

namespace emu::core::native {
namespace {

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

Error bad(const std::string& path, const std::string& reason) {
  return invalid_field(path, reason);
}

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

Result<void> only_keys(const json& obj, const std::string& path,
                       std::initializer_list<std::string_view> keys) {
  for (const auto& [k, v] : obj.items()) {
    bool known = false;
    for (auto allowed : keys) known = known || k == allowed;
    if (!known) {
      std::string list;
      for (auto allowed : keys) list += (list.empty() ? "" : ", ") + std::string(allowed);
      return bad(join(path, k), "unknown field (known: " + list + ")");
    }
  }
  return {};
}

Result<std::string> get_string(const json& obj, const std::string& path, std::string_view key) {
  const auto& v = obj.at(std::string(key));
  if (!v.is_string())
    return bad(join(path, key), std::string("must be a string, not ") + type_name(v));
  return v.get<std::string>();
}

Result<std::int64_t> get_int(const json& obj, const std::string& path, std::string_view key,
                             std::int64_t lo, std::int64_t hi) {
  const auto& v = obj.at(std::string(key));
  if (!v.is_number_integer() &&
      !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
    return bad(join(path, key), std::string("must be an integer, not ") + type_name(v));
  }
  const auto out_of_range = [&] {
    return bad(join(path, key), "must be " + std::to_string(lo) + ".." + std::to_string(hi));
  };
  // A float is range-checked as a double first: 5e34 does not fit an int64, and casting it is
  // undefined behaviour, not a large number.
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) return out_of_range();
    return static_cast<std::int64_t>(d);
  }
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
    return out_of_range();
  const auto n = v.get<std::int64_t>();
  if (n < lo || n > hi) return out_of_range();
  return n;
}

json time_or_null(const std::optional<WallTime>& t) {
  return t ? json(iso8601(*t)) : json(nullptr);
}

constexpr Duration kMinDuration{100};
constexpr Duration kMaxDuration{3'600'000};

}  // namespace

std::string iso8601(WallTime t) {
  const auto ms = epoch_millis(t);
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

Result<json> parse_json(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to get the position for the message (error path only).
    try {
      const json again = json::parse(text);
      (void)again;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
      return invalid_field("body", std::string("malformed JSON: ") + e.what());
    }
    return invalid_field("body", "malformed JSON");
  }
  return j;
}

Result<Duration> parse_duration(const json& v, const std::string& path) {
  double ms = 0;
  if (v.is_number()) {
    ms = v.get<double>() * 1000.0;
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0)
      return bad(path, "not a duration: \"" + s + "\" (use e.g. \"500ms\", \"2s\", \"1m\")");
    double n = 0;
    try {
      n = std::stod(s.substr(0, i));
    } catch (const std::exception&) {
      return bad(path, "not a duration: \"" + s + "\"");
    }
    const std::string unit = s.substr(i);
    if (unit == "ms")
      ms = n;
    else if (unit == "s" || unit.empty())
      ms = n * 1000;
    else if (unit == "m")
      ms = n * 60'000;
    else if (unit == "h")
      ms = n * 3'600'000;
    else
      return bad(path, "unknown duration unit \"" + unit + "\" (ms, s, m, h)");
  } else {
    return bad(
        path, std::string("must be a duration string or a number of seconds, not ") + type_name(v));
  }
  if (!std::isfinite(ms) || ms < 0) return bad(path, "must not be negative");
  if (ms > 86'400'000.0) return bad(path, "must be at most 24h");
  return Duration(static_cast<Duration::rep>(std::llround(ms)));
}

std::string format_duration(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

Result<HealthCheckSpec> parse_health_check(const json& v, const std::string& path) {
  if (!v.is_object()) return bad(path, std::string("must be an object, not ") + type_name(v));
  if (auto r = only_keys(v, path,
                         {"type", "port", "path", "service", "command", "interval", "timeout",
                          "retries", "startPeriod"});
      !r)
    return r.error();
  HealthCheckSpec h;
  if (!v.contains("type"))
    return bad(join(path, "type"), "required (http, tcp, grpc, command or none)");
  auto type = get_string(v, path, "type");
  if (!type) return type.error();
  const auto t = parse_probe_type(*type);
  if (!t)
    return bad(join(path, "type"),
               "must be http, tcp, grpc, command or none, not \"" + *type + "\"");
  h.type = *t;
  if (v.contains("port")) {
    auto p = get_int(v, path, "port", 1, 65535);
    if (!p) return p.error();
    h.port = static_cast<std::uint16_t>(*p);
  }
  if (v.contains("path")) {
    auto p = get_string(v, path, "path");
    if (!p) return p.error();
    if (p->empty() || p->front() != '/') return bad(join(path, "path"), "must start with '/'");
    h.path = *p;
  }
  if (v.contains("service")) {
    auto s = get_string(v, path, "service");
    if (!s) return s.error();
    h.grpc_service = *s;
  }
  if (v.contains("command")) {
    const auto& c = v.at("command");
    if (!c.is_array()) return bad(join(path, "command"), "must be an array of strings");
    for (const auto& part : c) {
      if (!part.is_string()) return bad(join(path, "command"), "must be an array of strings");
      h.command.push_back(part.get<std::string>());
    }
  }
  if (h.type == ProbeType::Command) {
    if (h.command.size() < 2 || (h.command[0] != "CMD" && h.command[0] != "CMD-SHELL")) {
      return bad(join(path, "command"),
                 "must be [\"CMD\", argv...] or [\"CMD-SHELL\", \"script\"]");
    }
  }
  for (auto [key, field] : {std::pair<const char*, Duration*>{"interval", &h.interval},
                            {"timeout", &h.timeout},
                            {"startPeriod", &h.start_period}}) {
    if (!v.contains(key)) continue;
    auto d = parse_duration(v.at(key), join(path, key));
    if (!d) return d.error();
    const bool allow_zero = std::string_view(key) == "startPeriod";
    if (!(allow_zero && d->count() == 0) && (*d < kMinDuration || *d > kMaxDuration)) {
      return bad(join(path, key), allow_zero ? "must be 0 or 100ms..1h" : "must be 100ms..1h");
    }
    *field = *d;
  }
  if (v.contains("retries")) {
    auto r = get_int(v, path, "retries", 1, 10);
    if (!r) return r.error();
    h.retries = static_cast<int>(*r);
  }
  return h;
}

Result<NamespaceSpec> parse_namespace(const json& body, const std::string& path) {
  if (!body.is_object())
    return bad(path.empty() ? "body" : path,
               std::string("must be an object, not ") + type_name(body));
  if (auto r = only_keys(body, path, {"name", "negativeTtl", "description"}); !r) return r.error();
  NamespaceSpec spec;
  if (body.contains("name")) {
    auto n = get_string(body, path, "name");
    if (!n) return n.error();
    if (auto e = namespace_name_error(*n)) return bad(join(path, "name"), *e);
    spec.name = *n;
  }
  if (body.contains("negativeTtl")) {
    auto t = get_int(body, path, "negativeTtl", 0, 86400);
    if (!t) return t.error();
    spec.negative_ttl = static_cast<std::uint32_t>(*t);
  }
  if (body.contains("description")) {
    auto d = get_string(body, path, "description");
    if (!d) return d.error();
    spec.description = *d;
  }
  return spec;
}

Result<ServiceSpec> parse_service(const json& body, const std::string& path) {
  if (!body.is_object())
    return bad(path.empty() ? "body" : path,
               std::string("must be an object, not ") + type_name(body));
  if (auto r = only_keys(body, path,
                         {"name", "namespace", "tasks", "ttl", "records", "routing", "healthCheck",
                          "onUnhealthy", "description"});
      !r)
    return r.error();
  ServiceSpec spec;
  if (body.contains("ttl")) {
    auto t = get_int(body, path, "ttl", 0, 2147483647);
    if (!t) return t.error();
    spec.ttl = static_cast<std::uint32_t>(*t);
  }
  if (body.contains("records")) {
    const auto& r = body.at("records");
    if (!r.is_array() || r.empty())
      return bad(join(path, "records"), "must be a non-empty array of \"A\", \"AAAA\", \"SRV\"");
    RecordTypes types{false, false, false};
    for (const auto& item : r) {
      std::string s = item.is_string() ? item.get<std::string>() : "";
      for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (s == "A")
        types.a = true;
      else if (s == "AAAA")
        types.aaaa = true;
      else if (s == "SRV")
        types.srv = true;
      else
        return bad(join(path, "records"), "unknown record type " + item.dump() + " (A, AAAA, SRV)");
    }
    spec.records = types;
  }
  if (body.contains("routing")) {
    auto s = get_string(body, path, "routing");
    if (!s) return s.error();
    std::string up = *s;
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto r = parse_routing(up);
    if (!r) return bad(join(path, "routing"), "must be MULTIVALUE or WEIGHTED, not \"" + *s + "\"");
    spec.routing = *r;
  }
  if (body.contains("healthCheck")) {
    const auto& h = body.at("healthCheck");
    if (h.is_null()) {
      spec.health_check = std::optional<HealthCheckSpec>{};
    } else {
      auto hc = parse_health_check(h, join(path, "healthCheck"));
      if (!hc) return hc.error();
      spec.health_check = std::optional<HealthCheckSpec>{*hc};
    }
  }
  if (body.contains("onUnhealthy")) {
    auto s = get_string(body, path, "onUnhealthy");
    if (!s) return s.error();
    auto o = parse_on_unhealthy(*s);
    if (!o) return bad(join(path, "onUnhealthy"), "must be stop or withdraw, not \"" + *s + "\"");
    spec.on_unhealthy = *o;
  }
  if (body.contains("description")) {
    auto d = get_string(body, path, "description");
    if (!d) return d.error();
    spec.description = *d;
  }
  return spec;
}

Result<TaskSpec> parse_task(const json& body, const std::string& path) {
  if (!body.is_object())
    return bad(path.empty() ? "body" : path,
               std::string("must be an object, not ") + type_name(body));
  if (auto r = only_keys(
          body, path, {"id", "ip", "ipv6", "port", "healthCheck", "initialHealth", "attributes"});
      !r)
    return r.error();
  TaskSpec spec;
  if (body.contains("id")) {
    auto id = get_string(body, path, "id");
    if (!id) return id.error();
    std::string low = *id;
    for (auto& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto e = label_error(low)) return bad(join(path, "id"), *e);
    spec.id = *id;
  }
  if (body.contains("ip")) {
    auto ip = get_string(body, path, "ip");
    if (!ip) return ip.error();
    if (parse_ipv4(*ip))
      spec.ipv4 = *ip;
    else if (parse_ipv6(*ip))
      spec.ipv6 = *ip;
    else
      return bad(join(path, "ip"), "not an IPv4 or IPv6 address: \"" + *ip + "\"");
  }
  if (body.contains("ipv6")) {
    auto ip = get_string(body, path, "ipv6");
    if (!ip) return ip.error();
    if (!parse_ipv6(*ip)) return bad(join(path, "ipv6"), "not an IPv6 address: \"" + *ip + "\"");
    spec.ipv6 = *ip;
  }
  if (spec.ipv4.empty() && spec.ipv6.empty())
    return bad(join(path, "ip"), "required (an IPv4 or IPv6 address)");
  if (body.contains("port")) {
    auto p = get_int(body, path, "port", 0, 65535);
    if (!p) return p.error();
    spec.port = static_cast<std::uint16_t>(*p);
  }
  if (body.contains("healthCheck") && !body.at("healthCheck").is_null()) {
    auto hc = parse_health_check(body.at("healthCheck"), join(path, "healthCheck"));
    if (!hc) return hc.error();
    spec.health_check = *hc;
  }
  if (body.contains("initialHealth")) {
    auto s = get_string(body, path, "initialHealth");
    if (!s) return s.error();
    auto h = parse_health(*s);
    if (!h)
      return bad(join(path, "initialHealth"),
                 "must be HEALTHY, UNHEALTHY or UNKNOWN, not \"" + *s + "\"");
    spec.initial_health = *h;
  }
  if (body.contains("attributes")) {
    const auto& a = body.at("attributes");
    if (!a.is_object()) return bad(join(path, "attributes"), "must be an object of strings");
    for (const auto& [k, v] : a.items()) {
      if (!v.is_string()) return bad(join(join(path, "attributes"), k), "must be a string");
      spec.attributes[k] = v.get<std::string>();
    }
  }
  return spec;
}

json to_json(const HealthCheckSpec& h) {
  json j{{"type", to_string(h.type)},
         {"interval", format_duration(h.interval)},
         {"timeout", format_duration(h.timeout)},
         {"retries", h.retries},
         {"startPeriod", format_duration(h.start_period)}};
  if (h.port) j["port"] = *h.port;
  if (h.type == ProbeType::Http) j["path"] = h.path;
  if (h.type == ProbeType::Grpc) j["service"] = h.grpc_service;
  if (h.type == ProbeType::Command) j["command"] = h.command;
  return j;
}

json to_json(const Namespace& n, const Registry& registry) {
  std::size_t services = 0;
  for (const Service* s : registry.services()) services += s->namespace_id == n.id;
  return {{"name", n.name},
          {"id", n.id},
          {"arn", n.arn},
          {"type", n.type},
          {"hostedZoneId", n.hosted_zone_id},
          {"negativeTtl", n.negative_ttl},
          {"description", n.description},
          {"serviceCount", services},
          {"createdAt", iso8601(n.created_at)}};
}

json to_json(const Service& s, const Registry& registry) {
  json records = json::array();
  if (s.records.a) records.push_back("A");
  if (s.records.aaaa) records.push_back("AAAA");
  if (s.records.srv) records.push_back("SRV");
  std::size_t running = 0;
  TaskFilter f;
  f.service_dns_name = registry.dns_name(s);
  for (const Task* t : registry.tasks(f)) running += t->registered();
  const Namespace* ns = registry.namespace_by_id(s.namespace_id);
  return {{"name", registry.dns_name(s)},
          {"service", s.name},
          {"namespace", ns ? ns->name : ""},
          {"id", s.id},
          {"arn", s.arn},
          {"ttl", s.ttl},
          {"records", records},
          {"routing", to_string(s.routing)},
          {"onUnhealthy", to_string(s.on_unhealthy)},
          {"healthCheck", s.health_check ? to_json(*s.health_check) : json(nullptr)},
          {"description", s.description},
          {"runningTasks", running},
          {"createdAt", iso8601(s.created_at)}};
}

json to_json(const ProbeRecord& r) {
  json j{{"time", iso8601(r.time)}, {"outcome", r.ok ? "PASS" : "FAIL"}, {"detail", r.detail}};
  if (r.exit_code) j["exitCode"] = *r.exit_code;
  if (!r.output.empty()) j["output"] = r.output;
  return j;
}

json to_json(const Task& t, const Registry& registry) {
  const Service* s = registry.service_by_id(t.service_id);
  json results = json::array();
  for (const auto& r : t.last_results) results.push_back(to_json(r));
  json j{{"taskId", t.id},
         {"taskArn", t.arn},
         {"service", s ? registry.dns_name(*s) : ""},
         {"serviceId", t.service_id},
         {"launch", to_string(t.launch)},
         {"ip", t.ipv4.empty() ? t.ipv6 : t.ipv4},
         {"port", t.port},
         {"lastStatus", to_string(t.last_status)},
         {"desiredStatus", to_string(t.desired_status)},
         {"healthStatus", to_string(t.health())},
         {"dnsHealth", to_string(t.dns_health)},
         {"forcedHealth", t.forced ? json(to_string(*t.forced)) : json(nullptr)},
         {"healthReason", t.health_reason},
         {"healthCheck", t.health_check ? to_json(*t.health_check) : json(nullptr)},
         {"lastResults", results},
         {"attributes", t.attributes},
         {"createdAt", iso8601(t.created_at)},
         {"startedAt", time_or_null(t.started_at)},
         {"stoppingAt", time_or_null(t.stopping_at)},
         {"stoppedAt", time_or_null(t.stopped_at)}};
  if (!t.ipv6.empty() && !t.ipv4.empty()) j["ipv6"] = t.ipv6;
  if (!t.stop_code.empty()) j["stopCode"] = t.stop_code;
  if (!t.stopped_reason.empty()) j["stoppedReason"] = t.stopped_reason;
  if (t.exit_code) j["exitCode"] = *t.exit_code;
  if (!t.ecs_service.empty()) j["ecsService"] = t.ecs_service;
  return j;
}

json to_json(const Event& e) {
  json j = e.detail();
  j["index"] = e.index;
  j["time"] = iso8601(e.time);
  j["type"] = e.type();
  j["message"] = e.message();
  return j;
}

bool parse_ipv4(std::string_view text, std::array<std::uint8_t, 4>* out) {
  if (text.size() > 15) return false;
  char buf[16] = {};
  text.copy(buf, text.size());
  std::array<std::uint8_t, 4> tmp{};
  if (inet_pton(AF_INET, buf, tmp.data()) != 1) return false;
  if (out) *out = tmp;
  return true;
}

bool parse_ipv6(std::string_view text, std::array<std::uint8_t, 16>* out) {
  if (text.size() > 45) return false;
  char buf[46] = {};
  text.copy(buf, text.size());
  std::array<std::uint8_t, 16> tmp{};
  if (inet_pton(AF_INET6, buf, tmp.data()) != 1) return false;
  if (out) *out = tmp;
  return true;
}

}  // namespace emu::core::native
