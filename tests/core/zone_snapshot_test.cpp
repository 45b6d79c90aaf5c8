// ZoneSnapshot: names, zones (longest suffix wins) and what is published at each name.

#include "emulator/core/zone_snapshot.hpp"

#include <gtest/gtest.h>

#include "tests/support/zone_fixtures.hpp"

namespace emu::core {
namespace {

std::span<const std::uint8_t> span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(ZoneSnapshotTest, ToWire) {
  EXPECT_EQ(ZoneSnapshot::to_wire("Demo.Local"), std::string("\4demo\5local\0", 12));
  EXPECT_EQ(ZoneSnapshot::to_wire("demo.local."), std::string("\4demo\5local\0", 12));
  EXPECT_EQ(ZoneSnapshot::to_wire(""), std::string(1, '\0'));
  EXPECT_EQ(ZoneSnapshot::to_wire("a..b"), "");
  EXPECT_EQ(ZoneSnapshot::to_wire(std::string(64, 'a')), "");
}

TEST(ZoneSnapshotTest, LooksUpNamesAndZones) {
  const auto snap = ZoneSnapshot::build(dns::test::test_model());
  const auto game = snap->lookup(span(ZoneSnapshot::to_wire("game-server.local")));
  ASSERT_NE(game.node, nullptr);
  EXPECT_EQ(game.node->kind, ZoneSnapshot::Kind::Service);
  EXPECT_EQ(game.node->a_healthy.size(), 3u);
  EXPECT_EQ(game.node->srv_healthy.size(), 3u);
  EXPECT_EQ(game.zone->apex, ZoneSnapshot::to_wire("local"));

  const auto inst = snap->lookup(span(ZoneSnapshot::to_wire("t1.game-server.local")));
  ASSERT_NE(inst.node, nullptr);
  EXPECT_EQ(inst.node->kind, ZoneSnapshot::Kind::Instance);

  // absent names still find their zone; the longest apex wins
  const auto absent = snap->lookup(span(ZoneSnapshot::to_wire("x.y.demo.local")));
  EXPECT_EQ(absent.node, nullptr);
  ASSERT_NE(absent.zone, nullptr);
  EXPECT_EQ(absent.zone->apex, ZoneSnapshot::to_wire("demo.local"));

  const auto outside = snap->lookup(span(ZoneSnapshot::to_wire("example.com")));
  EXPECT_EQ(outside.zone, nullptr);
  EXPECT_EQ(snap->lookup(span(ZoneSnapshot::to_wire(""))).zone, nullptr);

  // a service without endpoints has no name
  EXPECT_EQ(snap->find(span(ZoneSnapshot::to_wire("empty.local"))), nullptr);
}

TEST(ZoneSnapshotTest, ManyNames) {
  ZoneModel m;
  ZoneNamespace ns{.name = "local"};
  for (int i = 0; i < 5000; ++i) {
    ZoneService s{.name = "svc-" + std::to_string(i)};
    s.endpoints.push_back(dns::test::v4("i", 10, 0, 0, 1));
    ns.services.push_back(s);
  }
  m.namespaces.push_back(ns);
  const auto snap = ZoneSnapshot::build(m);
  EXPECT_EQ(snap->size(), 5001u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_NE(snap->find(span(ZoneSnapshot::to_wire("svc-" + std::to_string(i) + ".local"))),
              nullptr);
  }
  EXPECT_EQ(snap->find(span(ZoneSnapshot::to_wire("svc-5000.local"))), nullptr);
}

TEST(ZoneSnapshotTest, InvalidNamesAreSkipped) {
  ZoneModel m;
  ZoneNamespace ns{.name = "local"};
  ns.services.push_back(ZoneService{.name = "a.b", .endpoints = {dns::test::v4("i", 10, 0, 0, 1)}});
  ns.services.push_back(
      ZoneService{.name = std::string(70, 'x'), .endpoints = {dns::test::v4("i", 10, 0, 0, 1)}});
  m.namespaces.push_back(ns);
  m.namespaces.push_back(ZoneNamespace{.name = "bad..name"});
  EXPECT_EQ(ZoneSnapshot::build(m)->size(), 1u);
}

TEST(ZoneSnapshotTest, NamesBetweenAUsersRecordAndTheApexAreEmptyNonTerminals) {
  // RFC 8020: "b.corp" exists (NOERROR, no data) when only "a.b.corp" has records; a name
  // beside it does not, and a service at an empty non-terminal's name still publishes there.
  ZoneModel m;
  ZoneNamespace ns{.name = "corp"};
  ns.record_sets.push_back(ZoneRecordSet{.name = "a.b.c.corp.", .type = 16, .rdata = {"\4deep"}});
  ns.services.push_back(ZoneService{.name = "c", .endpoints = {dns::test::v4("i", 10, 0, 0, 1)}});
  m.namespaces.push_back(ns);
  const auto snap = ZoneSnapshot::build(m);
  const auto ent = snap->lookup(span(ZoneSnapshot::to_wire("b.c.corp")));
  ASSERT_NE(ent.node, nullptr);
  EXPECT_TRUE(ent.node->user.empty());
  EXPECT_TRUE(ent.node->a_healthy.empty());
  ASSERT_NE(ent.zone, nullptr);
  EXPECT_EQ(ent.zone->apex, ZoneSnapshot::to_wire("corp"));
  const auto svc = snap->find(span(ZoneSnapshot::to_wire("c.corp")));
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->a_healthy.size(), 1u);
  ASSERT_NE(snap->find(span(ZoneSnapshot::to_wire("a.b.c.corp"))), nullptr);
  EXPECT_EQ(snap->find(span(ZoneSnapshot::to_wire("x.c.corp"))), nullptr);
}

}  // namespace
}  // namespace emu::core
