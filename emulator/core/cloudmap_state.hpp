#pragma once
// CloudMapState: what Cloud Map remembers beyond namespaces, services and instances: its async
// operations (GetOperation / ListOperations) and each service's InstancesRevision. The Registry
// owns it and changes it only inside the commit of the command it describes, so it is persisted
// with that command (store rows of its own kinds) and answers the same after a restart.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"
#include "emulator/core/time.hpp"

namespace emu::core {

/// One Cloud Map async operation (all of them finish at once: SUCCESS).
struct CloudMapOperation {
  std::string id;  ///< 32 [a-z0-9] + "-" + 8 [a-z0-9]
  std::string region;
  std::string type;  ///< CREATE_NAMESPACE, DELETE_NAMESPACE, UPDATE_SERVICE, REGISTER_INSTANCE, ...
  WallTime created{};
  std::map<std::string, std::string> targets;  ///< NAMESPACE / SERVICE / INSTANCE -> id
  std::uint64_t seq = 0;                       ///< recording order (ListOperations: oldest first)
};

/// Asks a registry command to record the Cloud Map operation that made it, in its own commit.
/// The command fills in the targets (the namespace it created, the instance it registered).
struct OperationRequest {
  std::string id;  ///< Registry::new_operation_id()
  std::string region;
  std::string type;
};

/// One command's changes to the Cloud Map state (part of the Registry's pending batch).
struct CloudMapChanges {
  std::vector<CloudMapOperation> operations;
  std::map<std::string, std::uint64_t> revisions;  ///< service DNS name -> event index
  std::optional<std::uint64_t> revision_base;      ///< set at reset (and once after an upgrade)
  bool reset = false;
};

class CloudMapState {
 public:
  /// Operations kept for GetOperation/ListOperations (oldest dropped first).
  static constexpr std::size_t kMaxOperations = 10000;
  /// Store kinds.
  static constexpr const char* kOperationKind = "cloudmap-operation";
  static constexpr const char* kRevisionKind = "cloudmap-revision";
  static constexpr const char* kSettingsKind = "cloudmap";  ///< one row, id "revisions"

  /// Oldest first.
  const std::deque<CloudMapOperation>& operations() const { return operations_; }
  const CloudMapOperation* operation(std::string_view id) const;
  /// InstancesRevision of the service `web.local` (never below the base, never 0).
  std::uint64_t revision(std::string_view service_dns_name) const;

  /// Takes a row of one of this state's kinds (false: not ours); at load, before finish_load.
  Result<bool> load_row(const StoredEntity& row);
  /// After the rows: a state file without a revision base (written before revisions were
  /// persisted) starts from the event high-water mark, as revisions did then.
  void finish_load(std::uint64_t event_index);
  /// Empties everything (before load).
  void clear();

  /// The next recording sequence number.
  std::uint64_t next_seq() { return ++last_seq_; }
  /// True when the base is not persisted yet: the next commit writes it.
  bool base_unsaved() const { return base_unsaved_; }
  /// Adds the store changes of `changes` (and the rows of operations it drops) to `batch`.
  void to_batch(const CloudMapChanges& changes, StoreBatch& batch) const;
  /// Applies committed changes to memory.
  void apply(const CloudMapChanges& changes);

 private:
  std::deque<CloudMapOperation> operations_;
  std::map<std::string, std::uint64_t, std::less<>> revisions_;
  std::uint64_t base_ = 1;
  std::uint64_t last_seq_ = 0;
  bool base_unsaved_ = true;
};

}  // namespace emu::core
