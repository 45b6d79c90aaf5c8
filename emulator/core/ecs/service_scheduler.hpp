#pragma once
// ServiceScheduler: the ECS services of every region (kind "ecs-service") and what keeps them
// at their goal. After every change of a service or of one of its tasks the service is marked
// dirty; one pass per dirty service, from the timer queue, asks the pure reconcile() for a Plan
// and carries it out: the service's own changes and events, then its task starts and stops
// through the task lifecycle (EcsTasks). Core thread only.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "emulator/core/ecs/ecs_catalog.hpp"
#include "emulator/core/ecs/ecs_config.hpp"
#include "emulator/core/ecs/ecs_model.hpp"
#include "emulator/core/ecs/ecs_part.hpp"
#include "emulator/core/ecs/ecs_tasks.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::core::ecs {

class ServiceScheduler : private EcsPart {
 public:
  ServiceScheduler(const EcsPart& part, EcsTasks& tasks);
  ServiceScheduler(const ServiceScheduler&) = delete;
  ServiceScheduler& operator=(const ServiceScheduler&) = delete;

  /// Creates a service (ACTIVE) with its first deployment; scheduling starts at once. With the
  /// same clientToken and body as an existing ACTIVE one, that one is returned.
  Result<EcsService> create_service(EcsService service, Tags tags);
  Result<EcsService> update_service(const std::string& region, const std::string& cluster,
                                    const std::string& name, const ServiceUpdate& update);
  /// DRAINING (INACTIVE once its tasks have stopped); needs desiredCount 0 unless `force`.
  Result<EcsService> delete_service(const std::string& region, const std::string& cluster,
                                    const std::string& name, bool force);
  /// The newest service of that name (ACTIVE or DRAINING first, else INACTIVE).
  const EcsService* service(const std::string& region, const std::string& cluster,
                            const std::string& name) const;
  std::vector<const EcsService*> services(const std::string& region,
                                          const std::string& cluster) const;
  /// The service's tasks (created since the service was), any status, oldest first.
  std::vector<const Task*> service_tasks(const EcsService& service) const;
  /// True when the ARN names a service that is not INACTIVE.
  bool has(const std::string& arn) const;
  /// The Cloud Map service with this ARN, if any.
  const Service* discovery_service_by_arn(const std::string& arn) const;

  /// Runs the scheduler of every service now (tests; it schedules itself otherwise).
  void reconcile_all();
  /// A service task reached RUNNING (EcsTasks): one started after the last start failure ends
  /// the ECS start throttle.
  void note_running(const Task& task);
  /// Marks the services of the changed tasks dirty (the Registry's commit).
  void on_commit(const CommitInfo& info);

  /// Takes a stored "ecs-service" row.
  Result<void> load_service(const nlohmann::json& body);
  /// After load: the stopped tasks are accounted for, and every service gets a pass.
  void resume();
  void clear();

 private:
  EcsService* find_service(const std::string& key);
  void mark_dirty(const std::string& service_key);
  void run_dirty();
  void reconcile_service(const std::string& key);
  void add_event(EcsService& service, std::string message);
  /// The Cloud Map service id of the service's first registry (InvalidParameter if none).
  Result<std::string> discovery_service_id(const std::vector<ServiceRegistry>& registries) const;

  EcsTasks& tasks_;
  std::map<std::string, EcsService> services_;  // region/cluster/name
  std::set<std::string> known_stopped_;         // service tasks already accounted for
  std::set<std::string> dirty_;
  std::optional<TimerQueue::Id> reconcile_timer_;
  std::uint64_t generation_ = 0;  // bumped on clear: stale timers do nothing
};

}  // namespace emu::core::ecs
