// ProberThread: real TCP probes of a loopback listener on the prober thread, their results
// recorded in a Registry on the test's thread (the owner), through ProbeFollower, ProbeControl
// and HealthGlue as the daemon wires them. Waits are on conditions with a deadline.

#include "emulator/runtime/prober_thread.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "emulator/core/memory_store.hpp"
#include "emulator/runtime/health_glue.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::runtime {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using core::Health;

struct Fixture {
  boost::asio::io_context owner;
  test::SimTime sim;  // the registry's time; the probes run in real time on their thread
  core::MemoryStore store;
  core::Registry registry{sim.clock, sim.timers, store, core::RegistryConfig{}, 42};
  HealthGlue glue{registry};
  std::optional<tcp::acceptor> acceptor{
      std::in_place, owner, tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::uint16_t port = acceptor->local_endpoint().port();
  std::size_t batches = 0;
  std::size_t reports = 0;
  ProberThread prober{owner, [this](std::vector<ProbeReport>& batch) {
                        ++batches;
                        reports += batch.size();
                        glue.apply(batch);
                      }};
  ProbeFollower follower{registry, prober.control()};

  Fixture() { accept(); }
  void accept() {
    acceptor->async_accept([this](const boost::system::error_code& ec, tcp::socket) {
      if (!ec) accept();  // accepting is the answer; the socket closes here
    });
  }
  /// A task probing the listener (`offset` 0) or a port next to it (refused, most likely).
  std::string add(std::uint16_t offset = 0) {
    core::TaskSpec spec;
    spec.ipv4 = "127.0.0.1";
    spec.port = static_cast<std::uint16_t>(port + offset);
    core::HealthCheckSpec check;
    check.type = core::ProbeType::Tcp;
    check.interval = 50ms;
    check.timeout = 500ms;
    check.retries = 2;
    spec.health_check = check;
    auto r = registry.register_task("web.local", spec);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->id : "";
  }
  /// Runs the owner's loop until `done` or 10 s.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      owner.run_one_for(10ms);
      owner.restart();
    }
    return true;
  }
};

TEST(ProberThreadTest, ProbesOnTheirThreadReachTheRegistryInBatches) {
  Fixture f;
  const std::string id = f.add();
  ASSERT_EQ(f.prober.control().watched(), 1u);
  ASSERT_TRUE(f.run_until([&] { return f.registry.task(id)->health() == Health::Healthy; }));
  EXPECT_EQ(f.registry.task(id)->last_results.back().detail, "tcp: connected");
  // Unchanged health: more results, recorded without a commit.
  const auto version = f.registry.task(id)->version;
  ASSERT_TRUE(f.run_until([&] { return f.registry.task(id)->last_results.size() >= 5; }));
  EXPECT_EQ(f.registry.task(id)->version, version);
  EXPECT_GE(f.reports, 5u);
  EXPECT_LE(f.batches, f.reports);

  f.acceptor.reset();  // the endpoint goes away: connection refused, twice, is UNHEALTHY
  ASSERT_TRUE(f.run_until([&] { return f.registry.task(id)->health() == Health::Unhealthy; }));
  EXPECT_NE(f.registry.task(id)->health_reason.find("connection refused"), std::string::npos);
  EXPECT_GE(f.prober.control().snapshot().stats.started, 7u);

  ASSERT_TRUE(f.registry.stop_task(id, "UserInitiated", "Task stopped by user").ok());
  EXPECT_EQ(f.prober.control().watched(), 0u);
  ASSERT_TRUE(f.run_until([&] { return f.prober.control().snapshot().watched == 0; }));
}

TEST(ProberThreadTest, StopsWithProbesInFlight) {
  Fixture f;
  for (std::uint16_t i = 0; i < 20; ++i) f.add(i);
  ASSERT_TRUE(f.run_until([&] { return f.prober.control().snapshot().stats.started >= 20; }));
  // The fixture's destructor stops the thread with probes running; nothing is delivered after.
}

}  // namespace
}  // namespace emu::runtime
