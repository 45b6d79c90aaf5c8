// libFuzzer: any bytes as a fixture file, through what the daemon does with one at startup
// (emulator/runtime/daemon.cpp): JSON parse, core::parse_fixture, then core::apply_fixture and
// api::aws::apply_ecs_fixture on an in-memory registry and ECS engine, inside one Bulk.
//
// Fails on a crash or sanitizer report, an exception, or a broken promise of fixtures/README.md:
// "Applying a fixture twice changes nothing, so a fixture can be given on every start of a
// persistent state file". A fixture that applied once is applied again after a restart (new
// registry and engine loaded from the same store): that must succeed and leave the counts of
// namespaces, services, tasks and task definitions as they were.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "api/aws/ecs_handlers.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/fixtures.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/native_codec.hpp"
#include "emulator/core/registry.hpp"
#include "tests/support/sim_time.hpp"

namespace {

using namespace emu;

/// Simulated time after applying: ECS services start their tasks (reconcile runs on timers).
constexpr Duration kSettle{5000};
const std::string kRegion = core::RegistryConfig{}.region;

/// FIXTURE_FUZZ_TRACE=1: print why an input was refused, and the counts of one that applied.
const bool kTrace = std::getenv("FIXTURE_FUZZ_TRACE") != nullptr;

void trace(const std::string& what) {
  if (kTrace) std::fprintf(stderr, "%s\n", what.c_str());
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fixture_fuzz: %s\n", what.c_str());
  std::abort();
}

/// One start of the daemon over `store`: load, then apply the fixture (daemon.cpp's order).
struct Start {
  core::Registry registry;
  core::ecs::EcsEngine ecs;
  api::aws::EcsHandlers handlers{ecs};

  Start(test::SimTime& sim, core::Store& store)
      : registry(sim.clock, sim.timers, store, core::RegistryConfig{}, 42),
        ecs(sim.clock, sim.timers, store, registry, core::ecs::EcsConfig{}, 7) {
    if (auto r = registry.load(); !r) fail("registry load: " + r.error().message);
    if (auto r = ecs.load(); !r) fail("ecs load: " + r.error().message);
  }

  Result<void> apply(const core::FixtureSet& set) {
    core::Registry::Bulk bulk(registry);
    if (auto r = core::apply_fixture(set, registry); !r) return r.error();
    return api::aws::apply_ecs_fixture(handlers, set, kRegion);
  }

  struct Counts {
    std::size_t namespaces, services, tasks, task_definitions;
    bool operator==(const Counts&) const = default;
  };
  Counts counts() const {
    return {registry.namespaces().size(), registry.services().size(), registry.tasks().size(),
            ecs.task_definitions(kRegion).size()};
  }
};

void run(std::string_view text) {
  auto doc = core::native::parse_json(text);
  if (!doc) return trace("parse: " + doc.error().message);
  auto set = core::parse_fixture(*doc, "fuzz.json");
  if (!set) return trace(set.error().message);

  test::SimTime sim;
  core::MemoryStore store;
  Start::Counts before{};
  {
    Start first(sim, store);
    // A refused fixture stops startup: nothing more to check.
    if (auto r = first.apply(*set); !r) return trace("apply: " + r.error().message);
    sim.advance(kSettle);
    before = first.counts();
  }
  // Timers of the first start refer to it: a restart begins with an empty queue, as a process.
  test::SimTime restarted;
  restarted.clock.set(sim.clock.now());
  Start second(restarted, store);
  if (auto r = second.apply(*set); !r) {
    fail("applied once, but not again after a restart: " + r.error().message);
  }
  restarted.advance(kSettle);
  const auto after = second.counts();
  trace("applied twice: " + std::to_string(after.namespaces) + " namespaces, " +
        std::to_string(after.services) + " services, " + std::to_string(after.tasks) + " tasks, " +
        std::to_string(after.task_definitions) + " task definitions");
  if (!(after == before)) {
    fail("applying again changed the state: namespaces " + std::to_string(before.namespaces) +
         "->" + std::to_string(after.namespaces) + ", services " + std::to_string(before.services) +
         "->" + std::to_string(after.services) + ", tasks " + std::to_string(before.tasks) + "->" +
         std::to_string(after.tasks) + ", task definitions " +
         std::to_string(before.task_definitions) + "->" + std::to_string(after.task_definitions));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    run({reinterpret_cast<const char*>(data), size});
  } catch (const std::exception& e) {
    fail(std::string("exception: ") + e.what());
  }
  return 0;
}
