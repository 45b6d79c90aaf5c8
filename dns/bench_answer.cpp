// Microbenchmark of our own per-query cost: decode + answer + encode, no sockets. Prints ns per
// query for a few query shapes against a zone like the benchmark's (1000 services, 3 A each).
// Thread CPU time, so a busy machine does not inflate the figures.
//   dns_bench_answer [iterations]

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dns/pipeline.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace {

using emu::core::ZoneSnapshot;

double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::vector<std::uint8_t> make_query(const std::string& name, std::uint16_t type, bool edns) {
  std::vector<std::uint8_t> q = {
      0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(edns ? 1 : 0)};
  const std::string wire = ZoneSnapshot::to_wire(name);
  q.insert(q.end(), wire.begin(), wire.end());
  q.insert(q.end(), {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
  if (edns) q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});
  return q;
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 2000000;
  emu::core::ZoneModel model;
  emu::core::ZoneNamespace ns{.name = "local"};
  for (int i = 1; i <= 1000; ++i) {
    emu::core::ZoneService svc{.name = "svc-" + std::to_string(i)};
    svc.records.srv = true;
    for (std::uint8_t k = 1; k <= 3; ++k) {
      svc.endpoints.push_back(
          {.instance_id = "task-" + std::to_string(i) + "-" + std::to_string(k),
           .ipv4 = std::array<std::uint8_t, 4>{10, 0, static_cast<std::uint8_t>(i % 250), k},
           .port = 50051});
    }
    ns.services.push_back(svc);
  }
  emu::core::ZoneService big{.name = "big"};
  for (int k = 0; k < 100; ++k) {
    big.endpoints.push_back(
        {.instance_id = "b" + std::to_string(k),
         .ipv4 = std::array<std::uint8_t, 4>{10, 1, 0, static_cast<std::uint8_t>(k)}});
  }
  ns.services.push_back(big);
  model.namespaces.push_back(ns);
  const auto snap = ZoneSnapshot::build(model);

  struct Case {
    const char* label;
    std::vector<std::uint8_t> packet;
  };
  const Case cases[] = {
      {"A 3 values", make_query("svc-500.local", 1, false)},
      {"A 3 values +EDNS", make_query("SVC-500.Local", 1, true)},
      {"A 8 of 100", make_query("big.local", 1, false)},
      {"NXDOMAIN", make_query("nope-42.local", 1, false)},
      {"SRV 3 + glue", make_query("svc-7.local", 33, true)},
  };
  emu::dns::Rng rng(42);
  emu::dns::Query query;
  std::vector<std::uint8_t> out(emu::dns::kMaxMessage);
  std::size_t sink = 0;
  for (const Case& c : cases) {
    const double t0 = cpu_ns();
    for (long i = 0; i < iterations; ++i) {
      sink +=
          emu::dns::process(c.packet, emu::dns::Transport::Udp, snap.get(), rng, query, out).size;
    }
    const double ns_total = cpu_ns() - t0;
    std::printf("%-18s %7.1f ns/query\n", c.label, ns_total / static_cast<double>(iterations));
  }
  return sink == 0 ? 1 : 0;
}
