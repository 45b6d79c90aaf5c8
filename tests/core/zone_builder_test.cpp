// ZoneBuilder: an incremental snapshot (one endpoint changed at a time, the rest shared) equals a
// full build of the same model, for seeded random change sequences; earlier snapshots stay as
// they were (copy-on-write). Also through the Registry: what it publishes after random commands
// equals a full build of its zone_model().

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/zone_snapshot.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core {
namespace {

std::string hex(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

template <typename Pool>
std::string addrs(const Pool& pool) {
  std::string out;
  for (const auto& a : pool) out += hex(std::string(a.begin(), a.end())) + ",";
  return out;
}

std::string srvs(const std::vector<const ZoneSnapshot::Srv*>& pool) {
  std::string out;
  for (const auto* s : pool)
    out +=
        hex(s->tail) + "@" + std::to_string(s->target_offset) + "->" + hex(s->target->owner) + ",";
  return out;
}

/// Everything a query can observe, in a canonical order.
std::string dump(const ZoneSnapshot& snap) {
  std::vector<std::string> lines;
  snap.for_each_node([&](const ZoneSnapshot::Node& n) {
    std::string l = hex(n.owner) + " zone=" + std::to_string(n.zone) +
                    " kind=" + std::to_string(static_cast<int>(n.kind)) +
                    " routing=" + std::to_string(static_cast<int>(n.routing)) +
                    " ttl=" + std::to_string(n.ttl) + " flags=" + std::to_string(n.has_a) +
                    std::to_string(n.has_aaaa) + std::to_string(n.has_srv);
    l += " a=" + addrs(n.a_healthy) + "/" + addrs(n.a_unhealthy);
    l += " aaaa=" + addrs(n.aaaa_healthy) + "/" + addrs(n.aaaa_unhealthy);
    l += " srv=" + srvs(n.srv_healthy) + "/" + srvs(n.srv_unhealthy);
    l += " heads=" + hex(std::string(n.a_head.begin(), n.a_head.end())) +
         hex(std::string(n.aaaa_head.begin(), n.aaaa_head.end()));
    // What lookup() finds for the name (the table answers it, not just holds it).
    const auto* found =
        snap.find({reinterpret_cast<const std::uint8_t*>(n.owner.data()), n.owner.size()});
    l += found == &n ? " found" : " LOST";
    lines.push_back(std::move(l));
  });
  std::sort(lines.begin(), lines.end());
  std::string out = "size=" + std::to_string(snap.size()) + "\n";
  for (const auto& z : snap.zones()) out += "zone " + hex(z.apex) + " " + hex(z.soa_tail) + "\n";
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A model the random changes edit: namespaces and services fixed, endpoints keyed.
struct RefModel {
  ZoneModel model;
  // (namespace index, service index) -> endpoints by key
  std::map<std::pair<std::size_t, std::size_t>, std::map<std::string, ZoneEndpoint>> eps;

  ZoneModel current() const {
    ZoneModel m = model;
    for (std::size_t n = 0; n < m.namespaces.size(); ++n) {
      for (std::size_t s = 0; s < m.namespaces[n].services.size(); ++s) {
        auto& svc = m.namespaces[n].services[s];
        svc.endpoints.clear();
        if (const auto it = eps.find({n, s}); it != eps.end()) {
          for (const auto& [k, e] : it->second) svc.endpoints.push_back(e);
        }
      }
    }
    return m;
  }
};

ZoneService service(std::string key, std::string name, bool a, bool aaaa, bool srv,
                    Routing routing = Routing::Multivalue, std::uint32_t ttl = 10) {
  ZoneService s;
  s.key = std::move(key);
  s.name = std::move(name);
  s.records = RecordTypes{a, aaaa, srv};
  s.routing = routing;
  s.ttl = ttl;
  return s;
}

// Namespaces that overlap (a.local is a zone and a service name of local), services that share a
// name (contested), labels that are invalid, every record combination.
RefModel awkward_model() {
  RefModel r;
  ZoneNamespace local{.name = "local", .negative_ttl = 5};
  local.services = {service("s-web", "web", true, false, true),
                    service("s-api", "api", true, true, true, Routing::Weighted, 30),
                    service("s-a", "a", true, false, true),  // its name is the zone a.local
                    service("s-dup1", "dup", true, false, true),
                    service("s-dup2", "dup", true, true, false),
                    service("s-bad", "bad.label", true, false, true),
                    service("s-v6", "v6", false, true, true)};
  ZoneNamespace sub{.name = "a.local", .negative_ttl = 60};
  sub.services = {service("s-deep", "deep", true, false, true),
                  service("s-x", "x", false, false, true)};
  ZoneNamespace other{.name = "corp.internal", .negative_ttl = 5};
  other.services = {service("s-corp", "svc", true, true, true)};
  r.model.namespaces = {local, sub, other};
  return r;
}

ZoneEndpoint random_endpoint(std::mt19937_64& rng, const std::string& key) {
  static const char* kIds[] = {"t1", "T1", "t2", "web", "deep", "x", "bad.id", "t3", "a", "zz"};
  ZoneEndpoint e;
  e.key = key;
  e.instance_id = kIds[rng() % std::size(kIds)];
  if (rng() % 4 != 0) e.ipv4 = std::array<std::uint8_t, 4>{10, 0, 0, std::uint8_t(rng() % 8)};
  if (rng() % 3 == 0) {
    std::array<std::uint8_t, 16> v6{};
    v6[0] = 0xfd;
    v6[15] = std::uint8_t(rng() % 8);
    e.ipv6 = v6;
  }
  e.port = std::uint16_t(1000 + rng() % 4);
  e.healthy = rng() % 3 != 0;
  return e;
}

TEST(ZoneBuilderTest, IncrementalEqualsFullBuildForRandomChanges) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    RefModel ref = awkward_model();
    ZoneBuilder builder;
    builder.load(ref.current());
    std::vector<std::pair<std::shared_ptr<const ZoneSnapshot>, std::string>> kept;
    for (int step = 0; step < 150; ++step) {
      // One or a few changes per snapshot (a commit, or a Bulk of several).
      const int changes = rng() % 5 == 0 ? 1 + int(rng() % 6) : 1;
      for (int c = 0; c < changes; ++c) {
        const std::string key = "k" + std::to_string(rng() % 24);
        // Where the key is now, if anywhere.
        std::pair<std::size_t, std::size_t> at{~0u, ~0u};
        for (auto& [where, m] : ref.eps)
          if (m.count(key)) at = where;
        if (rng() % 4 == 0) {
          if (at.first != ~0u) ref.eps[at].erase(key);
          builder.erase_endpoint(key);
        } else {
          const std::size_t n = rng() % ref.model.namespaces.size();
          const std::size_t s = rng() % ref.model.namespaces[n].services.size();
          if (at.first != ~0u && rng() % 2 == 0) {
            // Mostly a change in place (health, address), sometimes a move.
            ZoneEndpoint e = ref.eps[at][key];
            e.healthy = !e.healthy;
            if (rng() % 2) e.port = std::uint16_t(e.port + 1);
            ref.eps[at][key] = e;
            builder.set_endpoint(ref.model.namespaces[at.first].services[at.second].key, e);
            continue;
          }
          if (at.first != ~0u) ref.eps[at].erase(key);
          ZoneEndpoint e = random_endpoint(rng, key);
          ref.eps[{n, s}][key] = e;
          builder.set_endpoint(ref.model.namespaces[n].services[s].key, e);
        }
      }
      const auto snap = builder.snapshot();
      const std::string expected = dump(*ZoneSnapshot::build(ref.current()));
      ASSERT_EQ(dump(*snap), expected) << "step " << step;
      if (step % 25 == 0) kept.emplace_back(snap, expected);
    }
    for (const auto& [snap, text] : kept) EXPECT_EQ(dump(*snap), text);  // never modified
  }
}

TEST(ZoneBuilderTest, UnknownServiceIsNotPublished) {
  RefModel ref = awkward_model();
  ZoneBuilder builder;
  builder.load(ref.current());
  const auto before = dump(*builder.snapshot());
  ZoneEndpoint e;
  e.key = "k";
  e.instance_id = "i";
  e.ipv4 = std::array<std::uint8_t, 4>{10, 0, 0, 1};
  builder.set_endpoint("no-such-service", e);
  EXPECT_EQ(dump(*builder.snapshot()), before);
}

// `n` endpoints <key>/100.. with instance ids i0.., at 10.0.<net>.<i>:80.
void add_endpoints(ZoneService& svc, int n, std::uint8_t net) {
  for (int i = 0; i < n; ++i) {
    ZoneEndpoint e;
    e.key = svc.key + "/" + std::to_string(100 + i);
    e.instance_id = "i" + std::to_string(i);
    e.ipv4 = std::array<std::uint8_t, 4>{10, 0, net, std::uint8_t(i)};
    e.port = 80;
    svc.endpoints.push_back(e);
  }
}

TEST(ZoneBuilderTest, UnchangedPiecesAreShared) {
  ZoneModel m;
  ZoneNamespace ns{.name = "local"};
  for (int s = 0; s < 50; ++s) {
    ZoneService svc =
        service("svc-" + std::to_string(s), "svc-" + std::to_string(s), true, false, true);
    add_endpoints(svc, 20, std::uint8_t(s));
    ns.services.push_back(svc);
  }
  m.namespaces.push_back(ns);
  ZoneBuilder builder;
  builder.load(m);
  const auto first = builder.snapshot();
  ZoneEndpoint e = m.namespaces[0].services[7].endpoints[3];
  e.healthy = false;
  builder.set_endpoint("svc-7", e);
  const auto second = builder.snapshot();
  const auto name = [](const std::string& dotted) { return ZoneSnapshot::to_wire(dotted); };
  const auto find = [&](const ZoneSnapshot& s, const std::string& dotted) {
    const std::string w = name(dotted);
    return s.find({reinterpret_cast<const std::uint8_t*>(w.data()), w.size()});
  };
  // Another service's node and instances are the very same objects; the changed ones are new.
  EXPECT_EQ(find(*first, "svc-8.local"), find(*second, "svc-8.local"));
  EXPECT_EQ(find(*first, "i3.svc-8.local"), find(*second, "i3.svc-8.local"));
  EXPECT_EQ(find(*first, "i4.svc-7.local"), find(*second, "i4.svc-7.local"));
  EXPECT_NE(find(*first, "svc-7.local"), find(*second, "svc-7.local"));
  EXPECT_EQ(find(*first, "svc-7.local")->a_unhealthy.size(), 0u);
  EXPECT_EQ(find(*second, "svc-7.local")->a_unhealthy.size(), 1u);
  EXPECT_EQ(builder.snapshot(), second);  // nothing changed: the same snapshot
}

// A change to a large service patches the node published the time before, once no snapshot holds
// it, instead of copying all its addresses again; a node a snapshot still holds is never touched.
TEST(ZoneBuilderTest, ServiceNodeIsPatchedOnceNoSnapshotHoldsIt) {
  ZoneModel m;
  ZoneNamespace ns{.name = "local"};
  ZoneService svc = service("web", "web", true, false, true);
  add_endpoints(svc, 100, 0);
  ns.services.push_back(svc);
  m.namespaces.push_back(ns);
  ZoneBuilder builder;
  builder.load(m);
  const auto find = [](const ZoneSnapshot& s) {
    const std::string w = ZoneSnapshot::to_wire("web.local");
    return s.find({reinterpret_cast<const std::uint8_t*>(w.data()), w.size()});
  };
  const auto unhealthy = [&](int i) {
    auto& e = m.namespaces[0].services[0].endpoints[std::size_t(i)];
    e.healthy = false;
    builder.set_endpoint("web", e);
    return builder.snapshot();
  };
  auto first = builder.snapshot();
  const std::string first_text = dump(*first);
  auto second = unhealthy(10);
  auto third = unhealthy(20);  // `first` still holds its node: a new one
  const ZoneSnapshot::Node* second_node = find(*second);
  EXPECT_NE(find(*third), find(*first));
  EXPECT_EQ(dump(*first), first_text);
  second.reset();  // nobody holds second's node any more
  const auto fourth = unhealthy(30);
  EXPECT_EQ(find(*fourth), second_node);  // patched and published again
  EXPECT_EQ(find(*fourth)->a_unhealthy.size(), 3u);
  EXPECT_EQ(dump(*fourth), dump(*ZoneSnapshot::build(m)));
  EXPECT_EQ(dump(*first), first_text);
}

// Through the Registry: random registrations, stops, deregistrations and health changes; what it
// publishes after each command equals a full build of its state.
TEST(ZoneBuilderTest, RegistryPublishesWhatAFullBuildWould) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::SimTime sim;
    MemoryStore store;
    Registry registry(sim.clock, sim.timers, store, RegistryConfig{}, seed);
    ASSERT_TRUE(registry.load().ok());
    std::mt19937_64 rng(seed);
    ServiceSpec srv;
    srv.records = RecordTypes{true, true, true};
    ASSERT_TRUE(registry.put_service("web.local", srv).ok());
    ASSERT_TRUE(registry.put_service("api.corp", ServiceSpec{}).ok());
    const char* kServices[] = {"web.local", "api.corp", "db.local"};
    std::vector<std::string> keys;
    for (int step = 0; step < 200; ++step) {
      const int op = int(rng() % 6);
      if (op <= 2 || keys.empty()) {
        TaskSpec spec;
        spec.ipv4 = "10.0." + std::to_string(rng() % 3) + "." + std::to_string(1 + rng() % 20);
        if (rng() % 3 == 0) spec.ipv6 = "fd00::" + std::to_string(1 + rng() % 9);
        spec.port = std::uint16_t(80 + rng() % 3);
        if (rng() % 4 == 0) spec.initial_health = Health::Unhealthy;
        auto r = registry.register_task(kServices[rng() % 3], spec);
        if (r) keys.push_back(Registry::task_key(*r));
      } else {
        const std::string key = keys[rng() % keys.size()];
        if (op == 3) {
          (void)registry.stop_task(key, "UserInitiated", "test");
        } else if (op == 4) {
          (void)registry.erase_task(key);
          keys.erase(std::find(keys.begin(), keys.end(), key));
        } else {
          (void)registry.set_health(key, rng() % 2 ? Health::Healthy : Health::Unhealthy, "t");
        }
      }
      if (step == 120) {
        ServiceSpec ttl;
        ttl.ttl = 99;
        ASSERT_TRUE(registry.put_service("web.local", ttl).ok());  // a full reload midway
      }
      ASSERT_EQ(dump(*registry.zones().load()), dump(*ZoneSnapshot::build(registry.zone_model())))
          << "step " << step;
    }
  }
}

}  // namespace
}  // namespace emu::core
