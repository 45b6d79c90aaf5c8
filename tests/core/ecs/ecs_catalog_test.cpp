// EcsCatalog on its own: ARNs, task definition revisions and tags over a MemoryStore.
#include "emulator/core/ecs/ecs_catalog.hpp"

#include <gtest/gtest.h>

#include "emulator/core/memory_store.hpp"
#include "tests/core/ecs/ecs_test_harness.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core::ecs {
namespace {

struct CatalogHarness {
  emu::test::SimTime sim;
  MemoryStore store;
  EcsConfig config;
  EcsCatalog catalog{sim.clock, store, config, 3};
};

TEST(EcsCatalogTest, ArnsFollowTheRegionAndAccount) {
  CatalogHarness h;
  EXPECT_EQ(h.catalog.cluster_arn("eu-west-1", "demo"),
            "arn:aws:ecs:eu-west-1:000000000000:cluster/demo");
  EXPECT_EQ(h.catalog.task_arn("us-east-1", "demo", "abc"),
            "arn:aws:ecs:us-east-1:000000000000:task/demo/abc");
  EXPECT_EQ(h.catalog.service_arn("us-east-1", "demo", "web"),
            "arn:aws:ecs:us-east-1:000000000000:service/demo/web");
  EXPECT_EQ(h.catalog.new_deployment_id().rfind("ecs-svc/", 0), 0u);
  EXPECT_EQ(h.catalog.new_uuid().size(), 36u);
}

TEST(EcsCatalogTest, ClusterTagsAreWrittenWithTheClusterAndRestoredWhenTheStoreFails) {
  CatalogHarness h;
  Cluster c;
  c.region = "us-east-1";
  c.name = "demo";
  auto made = h.catalog.create_cluster(c, {{"team", "a"}});
  ASSERT_TRUE(made);
  EXPECT_TRUE(h.catalog.has(made->arn));
  EXPECT_TRUE(h.catalog.check_active("us-east-1", "demo").ok());
  EXPECT_FALSE(h.catalog.check_active("us-west-2", "demo").ok());  // per region
  EXPECT_EQ(h.catalog.tags_of(made->arn), (Tags{{"team", "a"}}));
  h.store.fail_after(0);
  EXPECT_FALSE(h.catalog.add_tags(made->arn, {{"env", "dev"}}));
  h.store.heal();
  EXPECT_EQ(h.catalog.tags_of(made->arn), (Tags{{"team", "a"}}));
  ASSERT_TRUE(h.catalog.add_tags(made->arn, {{"env", "dev"}}));
  ASSERT_TRUE(h.catalog.remove_tags(made->arn, {"team"}));
  EXPECT_EQ(h.catalog.tags_of(made->arn), (Tags{{"env", "dev"}}));
  ASSERT_TRUE(h.catalog.deactivate_cluster("us-east-1", "demo"));
  EXPECT_FALSE(h.catalog.has(made->arn));  // an INACTIVE cluster is no taggable resource
  EXPECT_FALSE(h.catalog.check_active("us-east-1", "demo").ok());
}

TEST(EcsCatalogTest, RevisionsSurviveALoadAndAreNeverReused) {
  CatalogHarness h;
  ASSERT_TRUE(h.catalog.register_task_definition(test::web_definition(), {}));
  auto second = h.catalog.register_task_definition(test::web_definition(), {{"k", "v"}});
  ASSERT_TRUE(second);
  ASSERT_TRUE(h.catalog.deregister_task_definition("us-east-1", "web", 2));
  EcsCatalog again{h.sim.clock, h.store, h.config, 4};
  auto contents = h.store.load();
  ASSERT_TRUE(contents);
  for (const auto& row : contents->entities)
    ASSERT_TRUE(again.load_row(row, nlohmann::json::parse(row.body)));
  EXPECT_EQ(again.task_definition("us-east-1", "web", std::nullopt)->revision, 1);
  EXPECT_EQ(again.task_definition("us-east-1", "web", 2)->status, "INACTIVE");
  EXPECT_EQ(again.tags_of(second->arn), (Tags{{"k", "v"}}));
  EXPECT_EQ(again.register_task_definition(test::web_definition(), {})->revision, 3);
}

}  // namespace
}  // namespace emu::core::ecs
