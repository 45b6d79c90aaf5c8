#include "api/request_target.hpp"

#include <gtest/gtest.h>

namespace emu::api {
namespace {

TEST(RequestTargetTest, SplitsAndDecodesPathAndQuery) {
  auto t = parse_target("/v1/services/game%2Dserver.local/tasks?service=a%20b&type=A+AAAA&x");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/v1/services/game%2Dserver.local/tasks");
  EXPECT_EQ(t->segments,
            (std::vector<std::string>{"v1", "services", "game-server.local", "tasks"}));
  EXPECT_EQ(t->param("service"), "a b");
  EXPECT_EQ(t->param("type"), "A AAAA");  // '+' is a space in queries
  EXPECT_EQ(t->param("x"), "");
  EXPECT_FALSE(t->param("missing"));
}

TEST(RequestTargetTest, AbsoluteFormRoutesByPath) {
  auto t = parse_target("http://data-127.0.0.1:9080/v1/tasks?status=RUNNING");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/v1/tasks");
  EXPECT_EQ(t->param("status"), "RUNNING");
  auto root = parse_target("HTTP://example.com");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->path, "/");
  EXPECT_TRUE(root->segments.empty());
}

TEST(RequestTargetTest, RejectsBadEscapesAndRelativePaths) {
  EXPECT_FALSE(parse_target("/v1/dns/%zz").ok());
  EXPECT_FALSE(parse_target("/v1/dns/%4").ok());
  EXPECT_FALSE(parse_target("/v1/wait?name=%").ok());
  EXPECT_FALSE(parse_target("v1/tasks").ok());
  EXPECT_EQ(percent_decode("%41%62+c", false), "Ab+c");
}

TEST(RequestTargetTest, EmptySegmentsAreDropped) {
  auto t = parse_target("//v1//tasks/");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->segments, (std::vector<std::string>{"v1", "tasks"}));
}

}  // namespace
}  // namespace emu::api
