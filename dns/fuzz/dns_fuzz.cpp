// libFuzzer: any bytes through decode -> answer, over UDP and TCP. Whatever we send back must
// be a DNS message ldns can parse, no larger than allowed, with the client's id.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dns/pipeline.hpp"
#include "emulator/core/zone_snapshot.hpp"

// ldns last: under clang its common.h macros (bool) break libstdc++ headers included after it.
#include <ldns/ldns.h>

namespace {

std::shared_ptr<const emu::core::ZoneSnapshot> zones() {
  using namespace emu::core;
  ZoneModel m;
  ZoneNamespace local{.name = "local"};
  ZoneService game{.name = "game-server"};
  game.records.srv = true;
  game.records.aaaa = true;
  for (std::uint8_t i = 1; i <= 12; ++i) {
    ZoneEndpoint e{.instance_id = "t" + std::to_string(i), .port = 50051, .healthy = i % 3 != 0};
    e.ipv4 = std::array<std::uint8_t, 4>{10, 0, 0, i};
    if (i % 2 == 0)
      e.ipv6 =
          std::array<std::uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i};
    game.endpoints.push_back(e);
  }
  local.services.push_back(game);
  ZoneService w{.name = "w", .routing = Routing::Weighted};
  w.endpoints.push_back({.instance_id = "a", .ipv4 = std::array<std::uint8_t, 4>{10, 1, 1, 1}});
  local.services.push_back(w);
  // The user's record sets (Route 53): a CNAME chain into a service, a CNAME loop, a weighted
  // pair, TXT and MX beside an A, so the chase, the weighted choice and user rdata are fuzzed.
  const auto wire = [](std::string_view dotted) { return ZoneSnapshot::to_wire(dotted); };
  const std::string a1{'\x0a', '\x02', '\x00', '\x01'}, a2{'\x0a', '\x02', '\x00', '\x02'};
  local.record_sets = {
      {.name = "alias.local.", .type = 5, .rdata = {wire("hop.local")}},
      {.name = "hop.local.", .type = 5, .rdata = {wire("game-server.local")}},
      {.name = "loop1.local.", .type = 5, .rdata = {wire("loop2.local")}},
      {.name = "loop2.local.", .type = 5, .rdata = {wire("loop1.local")}},
      {.name = "out.local.", .type = 5, .rdata = {wire("example.com")}},
      {.name = "ab.local.", .type = 1, .weight = 3, .rdata = {a1}},
      {.name = "ab.local.", .type = 1, .weight = 1, .rdata = {a2}},
      {.name = "db.local.", .type = 1, .multivalue = true, .rdata = {a1, a2}},
      {.name = "db.local.", .type = 16, .rdata = {std::string("\x05hello", 6)}},
      {.name = "db.local.",
       .type = 15,
       .rdata = {std::string("\x00\x0a", 2) + wire("alias.local")}},
      {.name = "deep.sub.local.", .type = 16, .rdata = {std::string("\x01x", 2)}},
  };
  m.namespaces.push_back(local);
  m.namespaces.push_back({.name = "demo.local", .services = {game}});
  return ZoneSnapshot::build(m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto snap = zones();
  static emu::dns::Rng rng(1);
  static std::vector<std::uint8_t> out(emu::dns::kMaxMessage);
  emu::dns::Query q;
  for (auto t : {emu::dns::Transport::Udp, emu::dns::Transport::Tcp}) {
    const auto r = emu::dns::process({data, size}, t, snap.get(), rng, q, out, size % 2 == 0);
    if (r.action != emu::dns::Action::Send) continue;
    if (r.size < 12 || r.size > q.max_response() || out[0] != data[0] || out[1] != data[1])
      std::abort();
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, out.data(), r.size) != LDNS_STATUS_OK) std::abort();
    ldns_pkt_free(pkt);
  }
  return 0;
}
