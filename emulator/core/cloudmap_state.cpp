#include "emulator/core/cloudmap_state.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace emu::core {
namespace {

using nlohmann::json;

constexpr const char* kSettingsId = "revisions";

std::int64_t nanos_of(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

WallTime from_nanos(std::int64_t ns) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(ns))};
}

json to_json(const CloudMapOperation& op) {
  return {{"id", op.id},   {"region", op.region},   {"type", op.type},
          {"seq", op.seq}, {"targets", op.targets}, {"createdNanos", nanos_of(op.created)}};
}

Result<CloudMapOperation> operation_from(const json& j) {
  if (!j.is_object()) return Error{Code::Internal, "operation: not an object"};
  try {
    CloudMapOperation op;
    op.id = j.at("id").get<std::string>();
    op.region = j.at("region").get<std::string>();
    op.type = j.at("type").get<std::string>();
    op.seq = j.at("seq").get<std::uint64_t>();
    op.targets = j.at("targets").get<std::map<std::string, std::string>>();
    op.created = from_nanos(j.at("createdNanos").get<std::int64_t>());
    return op;
  } catch (const json::exception& e) {
    return Error{Code::Internal, std::string("operation: ") + e.what()};
  }
}

Result<std::uint64_t> revision_from(const json& j) {
  if (!j.is_object() || !j.contains("revision") || !j["revision"].is_number_unsigned())
    return Error{Code::Internal, "revision: not {\"revision\": N}"};
  return j["revision"].get<std::uint64_t>();
}

}  // namespace

const CloudMapOperation* CloudMapState::operation(std::string_view id) const {
  for (const auto& op : operations_) {
    if (op.id == id) return &op;
  }
  return nullptr;
}

std::uint64_t CloudMapState::revision(std::string_view service_dns_name) const {
  const auto it = revisions_.find(service_dns_name);
  return std::max(base_, it == revisions_.end() ? 0 : it->second);
}

void CloudMapState::clear() {
  operations_.clear();
  revisions_.clear();
  base_ = 1;
  last_seq_ = 0;
  base_unsaved_ = true;
}

Result<bool> CloudMapState::load_row(const StoredEntity& row) {
  const bool ours =
      row.kind == kOperationKind || row.kind == kRevisionKind || row.kind == kSettingsKind;
  if (!ours) return false;
  const json j = json::parse(row.body, nullptr, /*allow_exceptions=*/false);
  const auto where = [&](const Error& e) {
    return Error{Code::Internal, "state row " + row.kind + "/" + row.id + ": " + e.message};
  };
  if (row.kind == kOperationKind) {
    auto op = operation_from(j);
    if (!op) return where(op.error());
    last_seq_ = std::max(last_seq_, op->seq);
    operations_.push_back(std::move(*op));
  } else {
    auto revision = revision_from(j);
    if (!revision) return where(revision.error());
    if (row.kind == kRevisionKind) {
      revisions_[row.id] = *revision;
    } else if (row.id == kSettingsId) {
      base_ = std::max<std::uint64_t>(1, *revision);
      base_unsaved_ = false;
    }
  }
  return true;
}

void CloudMapState::finish_load(std::uint64_t event_index) {
  std::sort(operations_.begin(), operations_.end(),
            [](const auto& a, const auto& b) { return a.seq < b.seq; });
  if (base_unsaved_) base_ = std::max<std::uint64_t>(1, event_index);
}

void CloudMapState::to_batch(const CloudMapChanges& c, StoreBatch& batch) const {
  using Op = StoreChange::Op;
  if (!c.reset) {
    // The oldest operations beyond the cap leave the store with the commit that drops them.
    const std::size_t total = operations_.size() + c.operations.size();
    const std::size_t drop =
        std::min(operations_.size(), total > kMaxOperations ? total - kMaxOperations : 0);
    for (std::size_t i = 0; i < drop; ++i)
      batch.changes.push_back({Op::Erase, kOperationKind, operations_[i].id, ""});
  }
  for (const auto& op : c.operations)
    batch.changes.push_back({Op::Upsert, kOperationKind, op.id, to_json(op).dump()});
  for (const auto& [service, revision] : c.revisions) {
    batch.changes.push_back(
        {Op::Upsert, kRevisionKind, service, json{{"revision", revision}}.dump()});
  }
  if (c.revision_base || base_unsaved_) {
    batch.changes.push_back({Op::Upsert, kSettingsKind, kSettingsId,
                             json{{"revision", c.revision_base.value_or(base_)}}.dump()});
  }
}

void CloudMapState::apply(const CloudMapChanges& c) {
  if (c.reset) {
    operations_.clear();
    revisions_.clear();
  }
  if (c.revision_base) base_ = std::max<std::uint64_t>(1, *c.revision_base);
  base_unsaved_ = false;
  for (const auto& op : c.operations) operations_.push_back(op);
  while (operations_.size() > kMaxOperations) operations_.pop_front();
  for (const auto& [service, revision] : c.revisions) revisions_[service] = revision;
}

}  // namespace emu::core
