#include "emulator/core/model_json.hpp"

#include <charconv>
#include <limits>

#include "emulator/core/native_codec.hpp"

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

// --------------------------------------------------------------------------- task rows

namespace {

/// Writes JSON as nlohmann's dump() does: no spaces, strings escaped the same way. The caller
/// gives keys in std::map order (dump()'s order). Gives up (ok() false) on text outside ASCII,
/// whose UTF-8 checks belong to dump().
class BodyWriter {
 public:
  explicit BodyWriter(std::string& out) : out_(out) {}
  bool ok() const { return ok_; }

  void open() {
    out_ += '{';
    first_ = true;
  }
  void close() {  // a nested object ends: its parent goes on after it
    out_ += '}';
    first_ = false;
  }
  void key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    text(k);
    out_ += ':';
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    text(v);
  }
  void num(std::string_view k, std::int64_t v) {
    key(k);
    number(v);
  }
  void time(std::string_view k, const std::optional<WallTime>& t) {
    key(k);
    if (t) {
      number(epoch_millis(*t));
    } else {
      out_ += "null";
    }
  }
  void strings(std::string_view k, const std::vector<std::string>& list) {
    key(k);
    out_ += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out_ += ',';
      text(list[i]);
    }
    out_ += ']';
  }
  void text(std::string_view v) {
    out_ += '"';
    for (const char c : v) {
      const auto u = static_cast<unsigned char>(c);
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (u < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out_ += "\\u00";
            out_ += kHex[u >> 4];
            out_ += kHex[u & 0xf];
          } else {
            ok_ = ok_ && u < 0x80;
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  void number(std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }

 private:
  std::string& out_;
  bool first_ = true;
  bool ok_ = true;
};

// hc_json's keys, in order.
void write_hc(BodyWriter& w, const HealthCheckSpec& h) {
  w.key("healthCheck");
  w.open();
  w.strings("command", h.command);
  w.str("grpcService", h.grpc_service);
  w.num("intervalMs", h.interval.count());
  w.str("path", h.path);
  if (h.port) w.num("port", *h.port);
  w.num("retries", h.retries);
  w.num("startPeriodMs", h.start_period.count());
  w.num("timeoutMs", h.timeout.count());
  w.str("type", to_string(h.type));
  w.close();
}

/// Reads the JSON this file writes, without a tree. Every method returns false on anything it
/// does not expect (the caller then takes the general parser, which decides what it means).
class BodyReader {
 public:
  explicit BodyReader(std::string_view in) : in_(in) {}

  bool at_end() {
    ws();
    return pos_ == in_.size();
  }
  bool eat(char c) {
    ws();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    ws();
    return pos_ < in_.size() && in_[pos_] == c;
  }
  bool literal(std::string_view word) {
    ws();
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  /// A string of ASCII text.
  bool text(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    while (pos_ < in_.size()) {
      const std::size_t start = pos_;
      while (pos_ < in_.size() && in_[pos_] != '"' && in_[pos_] != '\\') {
        const auto u = static_cast<unsigned char>(in_[pos_]);
        if (u < 0x20 || u >= 0x80) return false;
        ++pos_;
      }
      out.append(in_.substr(start, pos_ - start));
      if (pos_ >= in_.size()) return false;
      if (in_[pos_++] == '"') return true;
      if (pos_ >= in_.size()) return false;
      switch (in_[pos_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned v = 0;
          if (pos_ + 4 > in_.size()) return false;
          for (int i = 0; i < 4; ++i) {
            const char c = in_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') {
              v |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
              v |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
              v |= static_cast<unsigned>(c - 'A' + 10);
            } else {
              return false;
            }
          }
          if (v >= 0x80) return false;  // outside ASCII: the general parser
          out += static_cast<char>(v);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  /// An integer within [lo, hi] (no fraction, no exponent).
  bool integer(std::int64_t& out, std::int64_t lo, std::int64_t hi) {
    ws();
    const char* begin = in_.data() + pos_;
    const char* end = in_.data() + in_.size();
    if (begin < end && *begin == '-' && begin + 1 < end && begin[1] == '0') return false;
    if (begin < end && *begin == '0' && begin + 1 < end && begin[1] >= '0' && begin[1] <= '9')
      return false;  // a leading zero is not JSON
    const auto r = std::from_chars(begin, end, out);
    if (r.ec != std::errc{} || out < lo || out > hi) return false;
    if (r.ptr < end && (*r.ptr == '.' || *r.ptr == 'e' || *r.ptr == 'E')) return false;
    pos_ += static_cast<std::size_t>(r.ptr - begin);
    return true;
  }
  template <typename T>
  bool integer_as(T& out) {
    std::int64_t v = 0;
    if (!integer(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max())) return false;
    out = static_cast<T>(v);
    return true;
  }
  bool time(std::optional<WallTime>& out) {
    if (literal("null")) {
      out.reset();
      return true;
    }
    std::int64_t v = 0;
    if (!integer_as(v)) return false;
    out = from_epoch_millis(v);
    return true;
  }
  /// An object's members: f(key) reads each value. A key without escapes is a view of the
  /// input (no copy); the view lives until the next key.
  template <typename F>
  bool members(F&& f) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    std::string scratch;
    do {
      std::string_view key;
      if (!name(key, scratch) || !eat(':') || !f(key)) return false;
    } while (eat(','));
    return eat('}');
  }
  bool name(std::string_view& out, std::string& scratch) {
    if (!peek('"')) return false;
    const std::size_t start = pos_ + 1;
    std::size_t end = start;
    while (end < in_.size() && in_[end] != '"' && in_[end] != '\\' &&
           static_cast<unsigned char>(in_[end]) >= 0x20 &&
           static_cast<unsigned char>(in_[end]) < 0x80)
      ++end;
    if (end < in_.size() && in_[end] == '"') {
      out = in_.substr(start, end - start);
      pos_ = end + 1;
      return true;
    }
    if (!text(scratch)) return false;
    out = scratch;
    return true;
  }
  bool strings(std::vector<std::string>& out) {
    out.clear();
    if (!eat('[')) return false;
    if (eat(']')) return true;
    do {
      if (!text(out.emplace_back())) return false;
    } while (eat(','));
    return eat(']');
  }
  bool string_map(std::map<std::string, std::string>& out) {
    out.clear();
    std::string value;
    return members([&](std::string_view key) {
      if (!text(value)) return false;
      out.insert_or_assign(std::string(key), value);
      return true;
    });
  }

 private:
  void ws() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t'))
      ++pos_;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

bool read_hc(BodyReader& r, HealthCheckSpec& h) {
  h = HealthCheckSpec{};
  std::string text;
  return r.members([&](std::string_view k) {
    if (k == "type") {
      if (!r.text(text)) return false;
      h.type = parse_probe_type(text).value_or(ProbeType::None);
    } else if (k == "path") {
      return r.text(h.path);
    } else if (k == "port") {
      std::uint16_t port = 0;
      if (!r.integer_as(port)) return false;
      h.port = port;
    } else if (k == "grpcService") {
      return r.text(h.grpc_service);
    } else if (k == "command") {
      return r.strings(h.command);
    } else if (k == "intervalMs" || k == "timeoutMs" || k == "startPeriodMs") {
      int v = 0;  // hc_from reads these as int
      if (!r.integer_as(v)) return false;
      (k == "intervalMs"  ? h.interval
       : k == "timeoutMs" ? h.timeout
                          : h.start_period) = Duration(v);
    } else if (k == "retries") {
      return r.integer_as(h.retries);
    } else {
      return false;
    }
    return true;
  });
}

// Fills a task from its body; false when the text needs the general parser.
bool read_task(std::string_view body, Task& t) {
  BodyReader r(body);
  bool has_id = false, has_source = false;
  std::string text;
  const bool ok = r.members([&](std::string_view k) {
    if (k == "id") {
      has_id = true;
      return r.text(t.id);
    }
    if (k == "arn") return r.text(t.arn);
    if (k == "serviceId") return r.text(t.service_id);
    if (k == "region") return r.text(t.region);
    if (k == "cluster") return r.text(t.cluster);
    if (k == "ecsService") return r.text(t.ecs_service);
    if (k == "taskDefinitionArn") return r.text(t.task_definition_arn);
    if (k == "startedBy") return r.text(t.started_by);
    if (k == "group") return r.text(t.group);
    if (k == "ipv4") return r.text(t.ipv4);
    if (k == "ipv6") return r.text(t.ipv6);
    if (k == "healthReason") return r.text(t.health_reason);
    if (k == "stopCode") return r.text(t.stop_code);
    if (k == "stoppedReason") return r.text(t.stopped_reason);
    if (k == "containerId") return r.text(t.container_id);
    if (k == "creatorRequestId") return r.text(t.creator_request_id);
    if (k == "port") return r.integer_as(t.port);
    if (k == "attributes") return r.string_map(t.attributes);
    if (k == "version") return r.integer_as(t.version);
    if (k == "startedAt") return r.time(t.started_at);
    if (k == "stoppingAt") return r.time(t.stopping_at);
    if (k == "stoppedAt") return r.time(t.stopped_at);
    if (k == "createdAt") {
      std::int64_t v = 0;
      if (!r.integer_as(v)) return false;
      t.created_at = from_epoch_millis(v);
      return true;
    }
    if (k == "exitCode") {
      int v = 0;
      if (!r.integer_as(v)) return false;
      t.exit_code = v;
      return true;
    }
    if (k == "healthCheck") {
      HealthCheckSpec h;
      if (!read_hc(r, h)) return false;
      t.health_check = std::move(h);
      return true;
    }
    if (!r.text(text)) return false;  // the rest are enum names
    if (k == "launch") {
      t.launch = parse_launch(text).value_or(Launch::External);
    } else if (k == "source") {
      has_source = true;
      t.source = parse_task_source(text).value_or(TaskSource::Emulator);
    } else if (k == "lastStatus") {
      t.last_status = parse_task_status(text).value_or(TaskStatus::Running);
    } else if (k == "desiredStatus") {
      t.desired_status = parse_task_status(text).value_or(TaskStatus::Running);
    } else if (k == "health") {
      t.observed = parse_health(text).value_or(Health::Unknown);
    } else if (k == "dnsHealth") {
      t.dns_health = parse_health(text).value_or(Health::Unknown);
    } else if (k == "forced") {
      t.forced = parse_health(text);
    } else {
      return false;  // a field this reader does not know
    }
    return true;
  });
  // Rows from before `source` existed need task_from's translation.
  return ok && r.at_end() && has_id && has_source;
}

}  // namespace

std::string task_body(const Task& t) {
  std::string out;
  out.reserve(768);
  BodyWriter w(out);
  w.open();
  w.str("arn", t.arn);
  w.key("attributes");
  w.open();
  for (const auto& [k, v] : t.attributes) w.str(k, v);
  w.close();
  w.str("cluster", t.cluster);
  w.str("containerId", t.container_id);
  w.num("createdAt", epoch_millis(t.created_at));
  w.str("creatorRequestId", t.creator_request_id);
  w.str("desiredStatus", to_string(t.desired_status));
  w.str("dnsHealth", to_string(t.dns_health));
  w.str("ecsService", t.ecs_service);
  if (t.exit_code) w.num("exitCode", *t.exit_code);
  if (t.forced) w.str("forced", to_string(*t.forced));
  w.str("group", t.group);
  w.str("health", to_string(t.observed));
  if (t.health_check) write_hc(w, *t.health_check);
  w.str("healthReason", t.health_reason);
  w.str("id", t.id);
  w.str("ipv4", t.ipv4);
  w.str("ipv6", t.ipv6);
  w.str("lastStatus", to_string(t.last_status));
  w.str("launch", to_string(t.launch));
  w.num("port", t.port);
  w.str("region", t.region);
  w.str("serviceId", t.service_id);
  w.str("source", to_string(t.source));
  w.time("startedAt", t.started_at);
  w.str("startedBy", t.started_by);
  w.str("stopCode", t.stop_code);
  w.time("stoppedAt", t.stopped_at);
  w.str("stoppedReason", t.stopped_reason);
  w.time("stoppingAt", t.stopping_at);
  w.str("taskDefinitionArn", t.task_definition_arn);
  w.num("version", t.version);
  w.close();
  if (!w.ok()) return to_json(t).dump();  // non-ASCII text: dump() checks its UTF-8
  return out;
}

Result<Task> task_from_body(std::string_view body) {
  if (Task t; read_task(body, t)) return t;
  auto parsed = native::parse_json(body);
  if (!parsed) return parsed.error();
  return task_from(*parsed);
}

}  // namespace emu::core::persist
