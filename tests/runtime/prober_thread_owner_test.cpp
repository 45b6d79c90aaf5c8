// ProberThread without a Registry: real TCP probes of a loopback listener run on the prober
// thread, and their reports arrive on the owner's thread, in batches. Small enough to build and
// run under ThreadSanitizer on its own with probe_control_test.cpp (see bench/README.md).

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <thread>

#include "emulator/runtime/prober_thread.hpp"

namespace emu::runtime {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;

TEST(ProberThreadOwnerTest, ReportsArriveOnTheOwnersThreadInBatches) {
  boost::asio::io_context owner;
  tcp::acceptor acceptor{owner, tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::function<void()> accept = [&] {
    acceptor.async_accept([&](const boost::system::error_code& ec, tcp::socket) {
      if (!ec) accept();
    });
  };
  accept();
  const auto owner_thread = std::this_thread::get_id();
  std::size_t batches = 0;
  std::size_t results = 0;
  bool healthy = false;
  bool on_owner = true;
  ProberThread prober{owner, [&](std::vector<ProbeReport>& batch) {
                        on_owner = on_owner && std::this_thread::get_id() == owner_thread;
                        ++batches;
                        for (const auto& r : batch) {
                          if (r.kind == ProbeReport::Kind::Result) ++results;
                          if (r.kind == ProbeReport::Kind::Changed)
                            healthy = r.health == core::Health::Healthy;
                        }
                      }};
  for (int i = 0; i < 20; ++i) {
    health::Target t;
    t.task_id = "task-" + std::to_string(i);
    t.check.type = core::ProbeType::Tcp;
    t.check.interval = 20ms;
    t.check.timeout = 500ms;
    t.ip = "127.0.0.1";
    t.port = acceptor.local_endpoint().port();
    prober.control().watch(std::move(t));
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (results < 200 && std::chrono::steady_clock::now() < deadline) {
    owner.run_one_for(10ms);
    owner.restart();
  }
  EXPECT_GE(results, 200u);
  EXPECT_TRUE(healthy);
  EXPECT_TRUE(on_owner);
  EXPECT_LT(batches, results);  // batched: fewer posts than results
  EXPECT_EQ(prober.control().snapshot().watched, 20u);
  prober.control().unwatch_all();
  while (prober.control().snapshot().watched != 0 && std::chrono::steady_clock::now() < deadline) {
    owner.run_one_for(10ms);
    owner.restart();
  }
  EXPECT_EQ(prober.control().snapshot().watched, 0u);
}

}  // namespace
}  // namespace emu::runtime
