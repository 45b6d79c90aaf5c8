#pragma once
// The zones the DNS and core tests share: endpoint and zone-model builders (no ldns, no sockets),
// so a test of emulator/core/zone_snapshot needs nothing but emu_core.

#include <array>
#include <cstdint>
#include <string>

#include "emulator/core/zone_model.hpp"

namespace emu::dns::test {

/// An IPv4 endpoint of a zone service.
inline core::ZoneEndpoint v4(const std::string& id, std::uint8_t a, std::uint8_t b, std::uint8_t c,
                             std::uint8_t d, std::uint16_t port = 50051, bool healthy = true) {
  core::ZoneEndpoint e;
  e.instance_id = id;
  e.ipv4 = std::array<std::uint8_t, 4>{a, b, c, d};
  e.port = port;
  e.healthy = healthy;
  return e;
}

/// The zones most tests use.
inline core::ZoneModel test_model() {
  using core::ZoneService;
  core::ZoneModel m;
  core::ZoneNamespace local{.name = "local", .negative_ttl = 5};
  ZoneService game{.name = "game-server", .ttl = 10};
  game.records.srv = true;
  for (std::uint8_t i = 1; i <= 3; ++i)
    game.endpoints.push_back(v4("t" + std::to_string(i), 10, 0, 0, i));
  local.services.push_back(game);

  ZoneService v6{.name = "v6svc", .ttl = 30};
  v6.records = {.a = false, .aaaa = true, .srv = false};
  core::ZoneEndpoint e;
  e.instance_id = "i6";
  e.ipv6 = std::array<std::uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  v6.endpoints.push_back(e);
  local.services.push_back(v6);

  local.services.push_back(ZoneService{.name = "empty", .ttl = 10});

  ZoneService sick{.name = "sick", .ttl = 10};
  sick.endpoints = {v4("s1", 10, 0, 2, 1, 80, false), v4("s2", 10, 0, 2, 2, 80, false)};
  local.services.push_back(sick);

  ZoneService mixed{.name = "mixed", .ttl = 10};
  mixed.endpoints = {v4("m1", 10, 0, 3, 1, 80, true), v4("m2", 10, 0, 3, 2, 80, false)};
  local.services.push_back(mixed);

  ZoneService weighted{.name = "weighted", .routing = core::Routing::Weighted, .ttl = 10};
  for (std::uint8_t i = 1; i <= 3; ++i)
    weighted.endpoints.push_back(v4("w" + std::to_string(i), 10, 0, 4, i));
  local.services.push_back(weighted);

  ZoneService big{.name = "big", .ttl = 10};
  for (std::uint8_t i = 1; i <= 20; ++i)
    big.endpoints.push_back(v4("b" + std::to_string(i), 10, 0, 5, i));
  local.services.push_back(big);

  ZoneService many{.name = "many-srv", .ttl = 10};
  many.records.srv = true;
  for (int i = 1; i <= 40; ++i) {
    many.endpoints.push_back(v4("0123456789abcdef0123456789abcd" + std::to_string(i + 10), 10, 0, 6,
                                static_cast<std::uint8_t>(i)));
  }
  local.services.push_back(many);
  m.namespaces.push_back(local);

  core::ZoneNamespace demo{.name = "demo.local", .negative_ttl = 60};
  ZoneService web{.name = "web", .ttl = 60};
  web.endpoints.push_back(v4("w", 10, 0, 1, 1));
  demo.services.push_back(web);
  m.namespaces.push_back(demo);
  return m;
}

}  // namespace emu::dns::test
