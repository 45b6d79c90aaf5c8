#pragma once
// Small builders and views shared by the store tests.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "emulator/core/store.hpp"

namespace emu::store::test {

/// A batch builder: Batch{}.upsert("task", "t1", "{}").erase("task", "t0").index(7).
struct Batch {
  core::StoreBatch batch;

  Batch& upsert(std::string kind, std::string id, std::string body = "{}") {
    batch.changes.push_back(
        {core::StoreChange::Op::Upsert, std::move(kind), std::move(id), std::move(body)});
    return *this;
  }
  Batch& erase(std::string kind, std::string id) {
    batch.changes.push_back({core::StoreChange::Op::Erase, std::move(kind), std::move(id), {}});
    return *this;
  }
  Batch& erase_all(std::string kind = {}) {
    batch.changes.push_back({core::StoreChange::Op::EraseAll, std::move(kind), {}, {}});
    return *this;
  }
  Batch& index(std::uint64_t event_index) {
    batch.event_index = event_index;
    return *this;
  }
  operator const core::StoreBatch&() const { return batch; }  // NOLINT(google-explicit-constructor)
};

/// The entities as "kind/id=body" strings, in load() order.
inline std::vector<std::string> rows(const core::StoreContents& contents) {
  std::vector<std::string> out;
  out.reserve(contents.entities.size());
  for (const auto& e : contents.entities) out.push_back(e.kind + "/" + e.id + "=" + e.body);
  return out;
}

/// A task-shaped JSON body of roughly `size` bytes (what the Registry would store).
inline std::string task_body(const std::string& id, std::size_t size = 600) {
  std::string body = R"({"taskArn":"arn:aws:ecs:us-east-1:000000000000:task/default/)" + id +
                     R"(","lastStatus":"RUNNING","healthStatus":"HEALTHY","ip":"10.0.0.1",)" +
                     R"("port":8080,"pad":")";
  if (body.size() + 2 < size) body.append(size - body.size() - 2, 'x');
  body += "\"}";
  return body;
}

}  // namespace emu::store::test
