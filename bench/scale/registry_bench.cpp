// registry_bench: the Registry in-process (MemoryStore, simulated time), no HTTP: how the cost of
// one registration, of a zone publication, of a fixture apply and of a load (a restart) grows with
// the tasks present.
// Bounded: --registrations per size. Prints a table; never an assertion.
//   c++ -std=c++20 -O2 -I. bench/scale/registry_bench.cpp build/emulator/libemu_core.a -o rb
//   ./rb [registrations] [sizes, e.g. 100,1000,10000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emulator/core/fixtures.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/timer_queue.hpp"

using namespace emu;
using namespace emu::core;

namespace {
struct Clock : TimeSource {
  TimePoint now() const override { return TimePoint{}; }
  WallTime wall_now() const override { return WallTime{}; }
};

std::string ip(int net, int i) {
  return "10." + std::to_string(net) + "." + std::to_string(i / 250) + "." +
         std::to_string(i % 250 + 1);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int regs = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::vector<int> sizes;
  for (const char* p = argc > 2 ? argv[2] : "100,1000,10000"; *p;) {
    char* end = nullptr;
    sizes.push_back(static_cast<int>(std::strtol(p, &end, 10)));
    p = *end == ',' ? end + 1 : end;
  }
  std::printf("%8s %14s %12s %12s %8s %14s\n", "tasks", "fixture apply", "reg/s", "us/reg", "ratio",
              "load");
  double base = 0;
  for (int n : sizes) {
    Clock clock;
    TimerQueue timers;
    MemoryStore store;
    Registry registry(clock, timers, store, RegistryConfig{}, 1);
    if (!registry.load()) return 1;
    FixtureSet set;
    FixtureService fs;
    fs.dns_name = "bench.local";
    RecordTypes rt;
    rt.a = true;
    rt.srv = true;
    fs.spec.records = rt;
    for (int i = 0; i < n; ++i) {
      TaskSpec t;
      t.ipv4 = ip(50, i);
      t.port = 80;
      fs.tasks.push_back(t);
    }
    set.services.push_back(fs);
    auto t0 = std::chrono::steady_clock::now();
    if (!apply_fixture(set, registry)) return 1;
    const double apply = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < regs; ++i) {
      TaskSpec t;
      t.ipv4 = ip(100, i);
      t.port = 2000;
      if (!registry.register_task("bench.local", t)) return 1;
    }
    const double took = seconds_since(t0);
    const double rate = regs / took;
    if (base == 0) base = rate;
    // A restart: another Registry reads the same store (every row parsed, zones built once).
    t0 = std::chrono::steady_clock::now();
    Registry again(clock, timers, store, RegistryConfig{}, 2);
    if (!again.load()) return 1;
    const double load = seconds_since(t0);
    std::printf("%8d %11.1f ms %12.0f %12.1f %7.2fx %11.1f ms\n", n, apply * 1000, rate, 1e6 / rate,
                rate / base, load * 1000);
  }
}
