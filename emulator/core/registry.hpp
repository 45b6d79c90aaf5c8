#pragma once
// Registry: the one mutable state of the daemon (namespaces, discovery services, tasks). Every
// command validates, builds one StoreBatch, commits it, then applies it to memory, publishes a new
// ZoneSnapshot for DNS and tells observers. Runs on the core thread only; DNS threads read the
// published snapshot and never wait on the registry.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "emulator/core/cloudmap_state.hpp"
#include "emulator/core/events.hpp"
#include "emulator/core/model.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/route53_records.hpp"
#include "emulator/core/snapshot_holder.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"
#include "emulator/core/zone_model.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace emu::core {

/// Settings resolved once at startup.
struct RegistryConfig {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::string default_namespace = "local";
  Duration health_propagation_delay{0};        ///< AWS: ~30 s before a health change reaches DNS
  Duration stopped_task_retention{3'600'000};  ///< ECS keeps STOPPED tasks visible for an hour
};

/// Create or update a namespace.
struct NamespaceSpec {
  std::string name;
  std::string type = "DNS_PRIVATE";
  std::optional<std::string> description;
  std::optional<std::uint32_t> negative_ttl;
  std::string creator_request_id;
  std::string region;  ///< empty = the registry's
  std::map<std::string, std::string> tags;
  std::string vpc;  ///< private DNS namespaces: the VPC (set at creation only)
};

/// Create or update a discovery service (native PUT /v1/services/{dns-name}); unset = keep/default.
struct ServiceSpec {
  std::optional<std::uint32_t> ttl;
  std::optional<RecordTypes> records;
  std::optional<Routing> routing;
  std::optional<std::optional<HealthCheckSpec>> health_check;  ///< set to nullopt = remove
  std::optional<OnUnhealthy> on_unhealthy;
  std::optional<std::string> description;
  std::optional<bool> custom_health;
  std::optional<int> failure_threshold;
  std::string creator_request_id;
  std::map<std::string, std::string> tags;
};

/// Register an endpoint (native POST /v1/services/{dns-name}/tasks) or an instance.
struct TaskSpec {
  std::string id;  ///< empty = a new 32-hex task id
  Launch launch = Launch::External;
  std::string ipv4;
  std::string ipv6;
  std::uint16_t port = 0;
  std::optional<HealthCheckSpec> health_check;  ///< overrides the service's
  std::optional<Health> initial_health;
  std::map<std::string, std::string> attributes;
  bool require_address = true;     ///< false: a Cloud Map instance of an HTTP namespace (no IP)
  std::string container_id;        ///< the Docker container behind an endpoint (compose discovery)
  std::string creator_request_id;  ///< Cloud Map RegisterInstance's CreatorRequestId
  TaskSource source = TaskSource::Emulator;  ///< Compose: discovered from Docker, not ours to stop
};

/// What set_health or force_health did: the task as committed, and its healthStatus (the forced
/// value if any, else the observed one) before and after.
struct HealthChange {
  Task task;
  Health before = Health::Unknown;
  Health after = Health::Unknown;
  bool changed() const { return before != after; }
};

/// `<service>.<namespace>` split; `game-server` alone means the default namespace.
struct DnsName {
  std::string service;
  std::string ns;
  std::string full() const { return service + "." + ns; }
};

/// Filters for tasks().
struct TaskFilter {
  std::string service_dns_name;  ///< empty = all
  std::optional<TaskStatus> last_status;
  bool include_instances = true;  ///< Cloud Map RegisterInstance entries
};

/// What observers learn after each commit.
struct CommitInfo {
  std::vector<Event> events;
  std::set<std::string> tasks;  ///< keys of tasks that changed (added, updated, stopped, erased)
  std::set<std::string> health_changed;  ///< keys of tasks whose healthStatus changed
  bool reset = false;
};

/// Checks a DNS label (1-63 of [a-z0-9_-], as Cloud Map names allow `_`; not starting or ending
/// with '-'); returns the reason.
std::optional<std::string> label_error(std::string_view label);
/// Splits and validates a DNS name such as `game-server.local` (lowercased).
Result<DnsName> parse_dns_name(std::string_view name, std::string_view default_ns,
                               std::string_view field = "name");
/// Validates a namespace name (one or more labels).
std::optional<std::string> namespace_name_error(std::string_view name);

class Registry {
 public:
  using Observer = std::function<void(const CommitInfo&)>;

  Registry(const TimeSource& time, TimerQueue& timers, Store& store, RegistryConfig config,
           std::uint64_t seed);

  /// Reads the store into memory and publishes the zones (at startup).
  Result<void> load();
  /// The same from rows already read (the daemon reads the store once for every layer).
  Result<void> load(const StoreContents& contents);
  const RegistryConfig& config() const { return config_; }

  // Namespaces ------------------------------------------------------------------------------
  /// Creates a namespace, or updates description/TTL of an existing one (idempotent).
  /// With `op`, records that Cloud Map operation (target: the namespace) in the same commit.
  Result<Namespace> put_namespace(const NamespaceSpec& spec, const OperationRequest* op = nullptr);
  /// Deletes a namespace by name or id; Conflict while it has services.
  Result<Namespace> delete_namespace(std::string_view name_or_id,
                                     const OperationRequest* op = nullptr);
  const Namespace* namespace_by_name(std::string_view name) const;
  const Namespace* namespace_by_id(std::string_view id) const;
  std::vector<const Namespace*> namespaces() const;

  // Discovery services ----------------------------------------------------------------------
  /// Creates or updates the service `dns_name`; creates the default namespace on first use.
  Result<Service> put_service(std::string_view dns_name, const ServiceSpec& spec);
  /// Creates a service in a namespace given by id (Cloud Map CreateService).
  Result<Service> create_service_in(std::string_view namespace_id, std::string_view name,
                                    const ServiceSpec& spec);
  /// Updates a service by id.
  Result<Service> update_service(std::string_view service_id, const ServiceSpec& spec,
                                 const OperationRequest* op = nullptr);
  /// Deletes a service and stops (then erases) its tasks; with `require_empty`, Conflict instead.
  Result<Service> delete_service(std::string_view service_id, bool require_empty);
  const Service* service_by_dns_name(std::string_view dns_name) const;
  const Service* service_by_id(std::string_view id) const;
  std::vector<const Service*> services() const;
  /// `game-server.local` for a service.
  std::string dns_name(const Service& service) const;

  // Tasks -----------------------------------------------------------------------------------
  /// Registers an endpoint of `dns_name` (RUNNING at once); Conflict when ip:port already runs.
  Result<Task> register_task(std::string_view dns_name, const TaskSpec& spec);
  /// Registers into a service by id (Cloud Map RegisterInstance: upsert by instance id).
  Result<Task> register_in(std::string_view service_id, const TaskSpec& spec,
                           const OperationRequest* op = nullptr);
  /// Stops a task: STOPPED with the code and reason, records removed at once.
  Result<Task> stop_task(std::string_view key, std::string stop_code, std::string reason);
  /// Writes a task as given (ECS lifecycle steps, simulated and Docker tasks): a TaskStateChanged
  /// event of `kind`, in the owner's words `what`, with the records the change added or removed.
  /// `also` (the caller's own rows, e.g. the ECS task data) goes into the same store commit, so
  /// one command is one transaction: all of it is written, or none.
  Result<Task> put_task(Task task, TaskStateChanged::Kind kind, std::string what,
                        std::vector<StoreChange> also = {});
  /// Replaces the tags of a namespace or service given by id (Cloud Map Tag/UntagResource).
  Result<void> set_tags(std::string_view id, std::map<std::string, std::string> tags);
  /// Erases a task entirely (Cloud Map DeregisterInstance).
  Result<Task> erase_task(std::string_view key, const OperationRequest* op = nullptr);
  /// Fault injection, one commit: force HEALTHY/UNHEALTHY over what the probes observe, or
  /// nullopt = AUTO, so the latest observed health applies at once. A STOPPED task cannot be
  /// forced (IllegalTransition).
  Result<HealthChange> force_health(std::string_view key, std::optional<Health> health);
  /// Records what the probes (Docker, Cloud Map custom health) observe, also while the task is
  /// forced. A change of the task's healthStatus publishes TaskHealthChanged and reaches DNS after
  /// the propagation delay. Only records: what to do about an UNHEALTHY task is its lifecycle
  /// owner's decision (the ECS scheduler, EndpointPolicy). A STOPPED task's health stays as it is.
  Result<HealthChange> set_health(std::string_view key, Health observed, std::string reason);
  /// Keeps a probe result in the task's history (memory only, last 10) and tells the probe
  /// listeners (not a commit: a result that changes no health changes no state).
  void add_probe_result(std::string_view key, ProbeRecord record);
  /// Finds by key (task id, or `<service-id>/<instance-id>` for instances) or by plain task id.
  const Task* task(std::string_view key_or_id) const;
  std::vector<const Task*> tasks(const TaskFilter& filter = {}) const;
  /// Calls f(key, task) for every task in key order, without building a list (startup over
  /// 10,000 tasks). f must not change the registry.
  template <typename F>
  void for_each_task(F&& f) const {
    for (const auto& [key, task] : tasks_) f(key, task);
  }
  /// Erases STOPPED tasks older than the retention.
  Result<void> purge_stopped();

  // Cloud Map ---------------------------------------------------------------------------------
  /// Operations and InstancesRevisions (persisted; changed only by commits).
  const CloudMapState& cloudmap() const { return cloudmap_; }
  /// Records an operation on its own (a retried create that changes nothing else).
  Result<void> record_operation(const OperationRequest& op,
                                std::map<std::string, std::string> targets);
  /// A new operation id: 32 [a-z0-9] + "-" + 8 [a-z0-9].
  std::string new_operation_id();

  // Route 53 ----------------------------------------------------------------------------------
  /// Applies a ChangeResourceRecordSets batch to the hosted zone `hosted_zone_id` (a DNS
  /// namespace's): all or nothing, InvalidChangeBatch as Route 53 words it, NoSuchHostedZone.
  /// The record sets and the change are committed together and reach the next DNS query.
  Result<Route53Change> change_record_sets(std::string_view hosted_zone_id,
                                           const std::vector<RecordChange>& changes,
                                           std::string comment = {});
  /// Creates a hosted zone of one's own (Route 53 CreateHostedZone), served by DNS at once with
  /// SOA and NS. A CallerReference is taken once (HostedZoneAlreadyExists, also after its zone is
  /// deleted); a name that a zone or DNS namespace already has is ConflictingDomainExists (one
  /// zone per name here); a bad VPC id is InvalidVPCId.
  Result<std::pair<OwnZone, Route53Change>> create_hosted_zone(const HostedZoneSpec& spec);
  /// Deletes a zone of one's own: HostedZoneNotEmpty while it holds the user's record sets;
  /// a namespace's zone is AccessDenied (Cloud Map manages it); NoSuchHostedZone.
  Result<Route53Change> delete_hosted_zone(std::string_view hosted_zone_id);
  /// Replaces a zone's comment (empty: none), with the same refusals as delete_hosted_zone.
  Result<OwnZone> update_hosted_zone_comment(std::string_view hosted_zone_id, std::string comment);
  /// A zone of one's own by id, or null.
  const OwnZone* own_zone(std::string_view hosted_zone_id) const;
  /// Every zone of one's own (by id).
  std::vector<const OwnZone*> own_zones() const;
  /// The DNS namespace whose hosted zone has this id, or null.
  const Namespace* namespace_of_zone(std::string_view hosted_zone_id) const;
  /// The user's record sets of a hosted zone (sorted by name, type, identifier).
  const std::vector<UserRecordSet>& user_record_sets(std::string_view hosted_zone_id) const;
  /// A submitted change by id ("C..."), or null.
  const Route53Change* route53_change(std::string_view id) const;
  /// INSYNC once the health propagation delay has passed since the change was submitted.
  bool change_in_sync(const Route53Change& change) const;

  /// Empties all state (POST /v1/reset); event indexes keep growing.
  Result<void> reset();

  /// Defers publishing the zones until the outermost Bulk ends: loading N fixture tasks then
  /// costs one snapshot build instead of N. Nothing is visible to DNS before the Bulk ends.
  class Bulk {
   public:
    explicit Bulk(Registry& registry) : registry_(registry) { ++registry_.bulk_depth_; }
    ~Bulk() {
      if (--registry_.bulk_depth_ == 0 && registry_.zones_dirty_) registry_.publish_zones();
    }
    Bulk(const Bulk&) = delete;
    Bulk& operator=(const Bulk&) = delete;

   private:
    Registry& registry_;
  };

  /// Groups commands into one store transaction (a fixture of 10,000 tasks is one commit, not
  /// 10,000): each command still validates and applies to memory at once, but the store sees
  /// the combined batch when the outermost Transaction finishes, and DNS sees the result only
  /// after that (a Bulk is implied). If that commit fails, the caller must not go on as if it
  /// had succeeded (startup exits).
  class Transaction {
   public:
    explicit Transaction(Registry& registry) : registry_(registry), bulk_(registry) {
      ++registry_.txn_depth_;
    }
    ~Transaction() { (void)finish(); }
    /// Commits the combined batch (outermost only); idempotent.
    Result<void> finish() {
      if (finished_) return {};
      finished_ = true;
      return registry_.end_transaction();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    Registry& registry_;
    Bulk bulk_;
    bool finished_ = false;
  };

  // Observing -------------------------------------------------------------------------------
  SnapshotHolder& zones() { return zones_; }
  const EventLog& events() const { return events_; }
  /// Called after every commit, on the core thread, in commit order: a commit that an observer
  /// makes is told to every observer after the one being told.
  void add_observer(Observer observer) { observers_.push_back(std::move(observer)); }
  /// Called with every probe result as it is kept (core thread), the task as it is then.
  using ProbeListener = std::function<void(const Task&, const ProbeRecord&)>;
  void add_probe_listener(ProbeListener listener) {
    probe_listeners_.push_back(std::move(listener));
  }
  /// The ZoneModel of the current state (what the snapshot was built from).
  ZoneModel zone_model() const;

  /// The key a task is stored under.
  static std::string task_key(const Task& task);
  /// New random ids in AWS formats.
  std::string new_task_id();
  std::string new_cloudmap_id(std::string_view prefix);  ///< ns- / srv- + 16 [a-z0-9]

 private:
  struct Pending;  // one command's changes, built before the commit
  Result<void> commit(Pending& pending);
  void apply(const Pending& pending);
  bool changes_dns(const Pending& pending) const;
  void publish_zones();
  Result<void> end_transaction();
  void note_zone_changes(const Pending& pending);
  void index_task(const std::string& key, const Task& task);
  void unindex_task(const std::string& key, const Task& task);
  /// The tasks registered in `service_id` at ip:port (conflict checks; key order).
  const std::set<std::string>* tasks_at(std::string_view service_id, std::string_view ip,
                                        std::uint16_t port) const;
  Result<Namespace> ensure_namespace(Pending& pending, std::string_view name);
  Event make_event(Pending& pending, EventBody body);
  /// What changes from `before` (nullptr: a new task) to `after`: status, health, and the DNS
  /// records the change adds or removes.
  TaskChange describe_change(const Task* before, const Task& after) const;
  Result<Task> stop_in(Pending& pending, const Task& task, std::string stop_code,
                       std::string reason);
  void add_operation(Pending& pending, const OperationRequest* op,
                     std::map<std::string, std::string> targets);
  Result<Task> change_dns_health(std::string_view key, Health health, std::string reason);
  Result<HealthChange> commit_health(const Task& before, Task after, std::string reason);
  void notify(CommitInfo info);
  std::vector<std::string> records_of(const Task& task) const;
  std::string arn(std::string_view service, std::string_view resource) const;
  /// The name (no trailing dot) of a zone of one's own or of a namespace with this name, or null.
  const std::string* zone_named(std::string_view name) const;
  /// Why a zone of one's own may not be deleted or changed: NoSuchHostedZone, or AccessDenied
  /// for a namespace's zone.
  Result<const OwnZone*> editable_zone(std::string_view hosted_zone_id) const;
  /// A Route 53 id: `prefix` and 21 random letters and digits (zones Z..., changes C...).
  std::string route53_id(char prefix);
  Route53Change new_change(std::string comment);
  /// Applies `changes` to a zone's record sets (`managed`: what Cloud Map writes there) and
  /// commits the result with its change in one transaction.
  Result<Route53Change> commit_record_sets(const std::string& hosted_zone_id,
                                           const std::string& zone_name,
                                           const std::vector<RecordChange>& changes,
                                           const ManagedRecords& managed, std::string comment);

  const TimeSource& time_;
  TimerQueue& timers_;
  Store& store_;
  RegistryConfig config_;
  std::mt19937_64 rng_;
  std::map<std::string, Namespace, std::less<>> namespaces_;  // by id
  std::map<std::string, Service, std::less<>> services_;      // by id
  std::map<std::string, Task, std::less<>> tasks_;            // by task_key
  EventLog events_;
  CloudMapState cloudmap_;
  std::map<std::string, std::vector<UserRecordSet>, std::less<>> user_records_;  // by zone id
  std::map<std::string, Route53Change, std::less<>> route53_changes_;            // by change id
  std::map<std::string, OwnZone, std::less<>> own_zones_;                        // by zone id
  std::set<std::string, std::less<>> caller_references_;  // CreateHostedZone's, ever used
  SnapshotHolder zones_;
  std::vector<Observer> observers_;
  std::vector<ProbeListener> probe_listeners_;
  std::deque<CommitInfo> untold_;  // commits observers have not been told yet
  bool telling_ = false;
  int bulk_depth_ = 0;
  bool zones_dirty_ = false;
  int txn_depth_ = 0;
  StoreBatch txn_batch_;  // what the open Transaction has committed so far
  // Incremental zones: the builder keeps the pieces of the last snapshot; a commit that changes
  // only tasks rebuilds only their names (zones_changed_), anything else reloads it in full.
  ZoneBuilder zone_builder_;
  bool zones_full_ = true;
  std::set<std::string> zones_changed_;  // task keys
  // Indexes over tasks_ (maintained by apply and load), so a registration costs O(log n).
  std::unordered_map<std::string, std::set<std::string>> keys_by_id_;       // task id -> keys
  std::unordered_map<std::string, std::set<std::string>> keys_by_addr_;     // registered at ip:port
  std::unordered_map<std::string, std::set<std::string>> keys_by_service_;  // service id -> keys
};

}  // namespace emu::core
