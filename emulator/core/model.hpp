#pragma once
// Value types of the model (SPEC section 3). Plain data: the Registry owns the only mutable copy;
// every other layer gets values or const references. AWS names are converted to these C++ names
// in the codecs only (api/, store/).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/time.hpp"

namespace emu::core {

/// Health of a task or instance. UNKNOWN counts as healthy for DNS (Cloud Map custom health).
enum class Health { Unknown, Healthy, Unhealthy };
/// Cloud Map DNS routing policy.
enum class Routing { Multivalue, Weighted };
/// What an UNHEALTHY task does: ECS stops it; a withdrawn endpoint only leaves DNS meanwhile.
enum class OnUnhealthy { Stop, Withdraw };
/// ECS task lifecycle, in order (SPEC section 6).
enum class TaskStatus {
  Provisioning,
  Pending,
  Activating,
  Running,
  Deactivating,
  Stopping,
  Deprovisioning,
  Stopped
};
/// Who a task belongs to. Compose-discovered tasks are Docker's: the emulator follows them and
/// never stops or replaces them.
enum class TaskSource { Emulator, Compose };
/// ECS: the stop code and reason of a task stopped for failing its health checks (SPEC 5).
inline constexpr const char* kSchedulerStopCode = "ServiceSchedulerInitiated";
inline constexpr const char* kHealthStopReason = "Task failed container health checks";
/// Probe types (SPEC section 5).
enum class ProbeType { None, Http, Tcp, Grpc, Command };

/// Which DNS records a discovery service publishes per instance.
struct RecordTypes {
  bool a = true;
  bool aaaa = false;
  bool srv = false;
  bool operator==(const RecordTypes&) const = default;
};

/// How to probe a task and how to judge the results.
struct HealthCheckSpec {
  ProbeType type = ProbeType::None;
  std::string path = "/";             ///< http: request path
  std::optional<std::uint16_t> port;  ///< default: the task's port
  std::string grpc_service;           ///< grpc: service name for Health/Check ("" = server)
  std::vector<std::string> command;   ///< command: ["CMD", argv...] or ["CMD-SHELL", "script"]
  Duration interval{30000};
  Duration timeout{5000};
  int retries = 3;
  Duration start_period{0};
  bool operator==(const HealthCheckSpec&) const = default;
};

/// A Cloud Map namespace; a private DNS namespace is a DNS zone.
struct Namespace {
  std::string id;    ///< ns- + 16 [a-z0-9]
  std::string name;  ///< lowercase, no trailing dot: "local", "demo.local"
  std::string arn;
  std::string region;
  std::string type = "DNS_PRIVATE";  ///< DNS_PRIVATE | DNS_PUBLIC | HTTP
  std::string description;
  std::string hosted_zone_id;  ///< Z + 21 [A-Z0-9]
  std::string vpc;  ///< private DNS: the VPC given at creation (Route 53 shows it); may be empty
  std::string creator_request_id;
  std::uint32_t negative_ttl = 5;  ///< SOA minimum / negative-answer TTL (AWS: 900; ours: short)
  WallTime created_at{};
  std::map<std::string, std::string> tags;

  bool is_dns() const { return type != "HTTP"; }
};

/// A Cloud Map (discovery) service: one DNS name, `<name>.<namespace>`.
struct Service {
  std::string id;    ///< srv- + 16 [a-z0-9]
  std::string name;  ///< one DNS label, lowercase
  std::string namespace_id;
  std::string arn;
  std::string region;
  std::string description;
  std::string creator_request_id;
  std::uint32_t ttl = 10;
  RecordTypes records;
  Routing routing = Routing::Multivalue;
  std::optional<HealthCheckSpec> health_check;  ///< default probe for the service's tasks (native)
  OnUnhealthy on_unhealthy = OnUnhealthy::Stop;
  bool custom_health = false;  ///< HealthCheckCustomConfig present (Cloud Map)
  int failure_threshold = 1;
  WallTime created_at{};
  std::map<std::string, std::string> tags;
};

/// One probe result, kept per task like `docker inspect`'s health log.
struct ProbeRecord {
  WallTime time{};
  bool ok = false;
  std::string detail;  ///< "http 503", "grpc: NOT_SERVING", "connect: connection refused", "exit 1"
  std::optional<int> exit_code;
  std::string output;  ///< capped at 4 KiB
};

/// How a task came to exist.
enum class Launch {
  External,   ///< registered endpoint (native API / fixture): nothing runs
  Simulated,  ///< ECS task without a runtime: steps through the lifecycle
  Docker,     ///< ECS task as a container
  Instance,   ///< Cloud Map RegisterInstance
};

/// A task of a service and, while registered, an instance of its discovery service.
struct Task {
  std::string id;          ///< 32 lowercase hex for tasks; the Cloud Map InstanceId for instances
  std::string arn;         ///< long-format task ARN (empty for plain Cloud Map instances)
  std::string service_id;  ///< discovery service (empty: not discoverable)
  Launch launch = Launch::External;
  TaskSource source = TaskSource::Emulator;
  std::string region;
  std::string cluster = "default";
  std::string ecs_service;  ///< ECS service name when a service launched it
  std::string task_definition_arn;
  std::string started_by;
  std::string group;
  std::string ipv4;
  std::string ipv6;
  std::uint16_t port = 0;
  std::map<std::string, std::string> attributes;  ///< Cloud Map attributes
  TaskStatus last_status = TaskStatus::Running;
  TaskStatus desired_status = TaskStatus::Running;
  Health observed = Health::Unknown;    ///< what the probes (or Docker, or Cloud Map) last said
  std::optional<Health> forced;         ///< fault injection; nullopt = AUTO (observed decides)
  Health dns_health = Health::Unknown;  ///< what DNS acts on (after --health-propagation-delay)
  std::optional<HealthCheckSpec> health_check;  ///< resolved: task override, else service default
  std::string health_reason;                    ///< why the last health change happened
  std::string stop_code;
  std::string stopped_reason;
  std::optional<int> exit_code;
  std::string container_id;        ///< docker backend
  std::string creator_request_id;  ///< Cloud Map instances: RegisterInstance's CreatorRequestId
  WallTime created_at{};
  std::optional<WallTime> started_at;
  std::optional<WallTime> stopping_at;
  std::optional<WallTime> stopped_at;
  std::int64_t version = 1;
  /// Newest last, at most 10; memory only (not persisted). A vector: an empty one allocates
  /// nothing, and every commit copies tasks (a deque allocates even when empty).
  std::vector<ProbeRecord> last_results;

  /// The task's healthStatus: the forced value while there is one, else the observed one.
  Health health() const { return forced.value_or(observed); }
  /// Registered in Cloud Map (and so in DNS): from ACTIVATING until it starts to stop.
  bool registered() const {
    return !service_id.empty() && last_status >= TaskStatus::Activating &&
           last_status <= TaskStatus::Running && desired_status != TaskStatus::Stopped;
  }
};

/// Names for the enums, as the APIs spell them.
const char* to_string(Health h);
const char* to_string(TaskStatus s);
const char* to_string(Routing r);
const char* to_string(OnUnhealthy o);
const char* to_string(ProbeType t);
const char* to_string(Launch l);
const char* to_string(TaskSource s);
std::optional<Health> parse_health(std::string_view s);
std::optional<TaskStatus> parse_task_status(std::string_view s);
std::optional<Routing> parse_routing(std::string_view s);
std::optional<OnUnhealthy> parse_on_unhealthy(std::string_view s);
std::optional<ProbeType> parse_probe_type(std::string_view s);
std::optional<Launch> parse_launch(std::string_view s);
std::optional<TaskSource> parse_task_source(std::string_view s);

}  // namespace emu::core
