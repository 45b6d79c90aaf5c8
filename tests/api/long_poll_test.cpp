// /v1/wait and /v1/events: answers on a registry commit or at the timeout. The io_context is
// driven by hand (run_one/poll until a condition, with a deadline), never by sleeping.
#include "api/long_poll.hpp"

#include <gtest/gtest.h>

#include "tests/api/api_test_env.hpp"

namespace emu::api::test {
namespace {

using http::verb;
using namespace std::chrono_literals;

class LongPollTest : public ApiTest {};

TEST_F(LongPollTest, WaitReturnsAtOnceWhenTheConditionAlreadyHolds) {
  (void)add_task("web", "10.0.0.1", 80);
  auto res = call(verb::get, "/v1/wait?name=web.local&type=A&count=1");
  EXPECT_EQ(status(res), 200u);
  EXPECT_EQ(body_of(res)["answers"].size(), 1u);
  // count=0 holds for a name with no records.
  EXPECT_EQ(status(call(verb::get, "/v1/wait?name=nothing.local&count=0")), 200u);
}

TEST_F(LongPollTest, WaitCompletesOnTheCommitThatMakesItTrue) {
  auto pending = start("/v1/wait?name=web.local&type=A&count=2&timeout=30s");
  settle();
  EXPECT_FALSE(*pending);
  EXPECT_EQ(router.pending_polls(), 1u);
  (void)add_task("web", "10.0.0.1", 80);
  settle();
  EXPECT_FALSE(*pending);  // one is not enough
  (void)add_task("web", "10.0.0.2", 80);
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  EXPECT_EQ(status(**pending), 200u);
  EXPECT_EQ(body_of(**pending)["answers"].size(), 2u);
  EXPECT_EQ(router.pending_polls(), 0u);
}

TEST_F(LongPollTest, WaitForRemovalCompletesWhenATaskStops) {
  const auto id = add_task("web", "10.0.0.1", 80);
  (void)add_task("web", "10.0.0.2", 80);
  auto pending = start("/v1/wait?name=web.local&count=1");
  settle();
  EXPECT_FALSE(*pending);
  EXPECT_EQ(status(call(verb::delete_, "/v1/tasks/" + id)), 200u);
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  EXPECT_EQ(body_of(**pending)["answers"][0]["value"], "10.0.0.2");
}

TEST_F(LongPollTest, WaitIs408WithTheLastLookupAtTheTimeout) {
  (void)add_task("web", "10.0.0.1", 80);
  auto pending = start("/v1/wait?name=web.local&count=3&timeout=50ms");
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  EXPECT_EQ(status(**pending), 408u);
  EXPECT_EQ(body_of(**pending)["answers"].size(), 1u);
  EXPECT_EQ(router.metrics().count("/v1/wait", "GET", 408), 1u);
}

TEST_F(LongPollTest, WaitValidatesItsParameters) {
  struct Case {
    std::string query;
    std::string field;
  };
  const Case cases[] = {
      {"count=1", "name"},
      {"name=web&count=1&type=MX2", "type"},
      {"name=web", "count"},
      {"name=web&count=-1", "count"},
      {"name=web&count=abc", "count"},
      {"name=web&count=1001", "count"},
      {"name=web&count=1&timeout=abc", "timeout"},
      {"name=web&count=1&timeout=-1s", "timeout"},
      {"name=web&count=1&timeout=6m", "timeout"},
      {"name=web&count=1&timeout=", "timeout"},
      {"name=a..b&count=1", "name"},
  };
  for (const auto& c : cases) {
    auto res = call(verb::get, "/v1/wait?" + c.query);
    EXPECT_EQ(status(res), 400u) << c.query << " -> " << res.body();
    EXPECT_EQ(body_of(res)["field"], c.field) << c.query << " -> " << res.body();
  }
  // Numbers are seconds, as in bodies; 5m is the maximum.
  auto ok = start("/v1/wait?name=web&count=1&timeout=0.05");
  ASSERT_TRUE(run_until([&] { return ok->has_value(); }));
  EXPECT_EQ(status(**ok), 408u);
  auto max = start("/v1/wait?name=web&count=1&timeout=5m");
  settle();
  EXPECT_FALSE(*max);
}

TEST_F(LongPollTest, EventsReturnAtOnceWhenThereAreNewerOnes) {
  (void)add_task("web", "10.0.0.1", 80);
  auto res = call(verb::get, "/v1/events?after=0");
  ASSERT_EQ(status(res), 200u);
  auto j = body_of(res);
  ASSERT_FALSE(j["events"].empty());
  const auto latest = j["index"].get<std::uint64_t>();
  EXPECT_EQ(j["events"].back()["index"], latest);
  bool registered = false;
  for (const auto& e : j["events"]) registered = registered || e["type"] == "TaskRegistered";
  EXPECT_TRUE(registered) << j.dump();
  // Nothing newer and no wait: an empty list at once, with the same index.
  auto none = body_of(call(verb::get, "/v1/events?after=" + std::to_string(latest)));
  EXPECT_TRUE(none["events"].empty());
  EXPECT_EQ(none["index"], latest);
}

TEST_F(LongPollTest, BlockedEventsWakeOnAChange) {
  const auto latest = body_of(call(verb::get, "/v1/events"))["index"].get<std::uint64_t>();
  auto pending = start("/v1/events?after=" + std::to_string(latest) + "&wait=30s");
  settle();
  EXPECT_FALSE(*pending);
  (void)add_task("web", "10.0.0.1", 80);
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  auto j = body_of(**pending);
  EXPECT_EQ(status(**pending), 200u);
  EXPECT_GT(j["index"].get<std::uint64_t>(), latest);
  ASSERT_FALSE(j["events"].empty());
  EXPECT_GT(j["events"][0]["index"].get<std::uint64_t>(), latest);
}

TEST_F(LongPollTest, EventsWaitEndsWith200AndNoEvents) {
  const auto latest = body_of(call(verb::get, "/v1/events"))["index"].get<std::uint64_t>();
  auto pending = start("/v1/events?after=" + std::to_string(latest) + "&wait=50ms");
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  EXPECT_EQ(status(**pending), 200u);
  EXPECT_TRUE(body_of(**pending)["events"].empty());
}

TEST_F(LongPollTest, EventsIndexesKeepGrowingAcrossReset) {
  (void)add_task("web", "10.0.0.1", 80);
  const auto before = body_of(call(verb::get, "/v1/events"))["index"].get<std::uint64_t>();
  auto pending = start("/v1/events?after=" + std::to_string(before) + "&wait=10s");
  EXPECT_EQ(status(call(verb::post, "/v1/reset")), 200u);
  (void)add_task("web", "10.0.0.1", 80);
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  EXPECT_GT(body_of(**pending)["index"].get<std::uint64_t>(), before);
}

TEST_F(LongPollTest, EventsFromTheFutureReturnAtOnce) {
  auto res = call(verb::get, "/v1/events?after=999999&wait=5m");
  EXPECT_EQ(status(res), 200u);  // Consul: the client starts over from the returned index
}

TEST_F(LongPollTest, EventsValidateTheirParameters) {
  for (std::string q : {"after=x", "after=-1", "after=1.5", "wait=6m", "wait=abc", "wait=-1"}) {
    auto res = call(verb::get, "/v1/events?" + q);
    EXPECT_EQ(status(res), 400u) << q;
    EXPECT_EQ(body_of(res)["field"], q.substr(0, q.find('='))) << q << " -> " << res.body();
  }
}

TEST_F(LongPollTest, AWaiterWhoseConnectionClosedIsDropped) {
  auto connection = std::make_shared<int>(0);
  auto pending = start("/v1/wait?name=web.local&count=1&timeout=30s", ConnectionToken(connection));
  auto events = start("/v1/events?after=999&wait=30s", ConnectionToken(connection));
  settle();
  EXPECT_EQ(router.pending_polls(), 1u);  // the events call from the future returned at once
  connection.reset();
  router.drop_closed();
  EXPECT_EQ(router.pending_polls(), 0u);
  (void)add_task("web", "10.0.0.1", 80);
  settle();
  EXPECT_FALSE(*pending);  // never answered: nobody is there
}

TEST_F(LongPollTest, ShutdownAnswersEveryWaiterNow) {
  auto wait = start("/v1/wait?name=web.local&count=1&timeout=5m");
  const auto latest = body_of(call(verb::get, "/v1/events"))["index"].get<std::uint64_t>();
  auto events = start("/v1/events?after=" + std::to_string(latest) + "&wait=5m");
  settle();
  EXPECT_EQ(router.pending_polls(), 2u);
  router.shutdown();
  ASSERT_TRUE(run_until([&] { return wait->has_value() && events->has_value(); }, 1s));
  EXPECT_EQ(status(**wait), 408u);
  EXPECT_EQ(status(**events), 200u);
}

TEST_F(LongPollTest, ManyWaitersOneCommit) {
  std::vector<std::shared_ptr<std::optional<Response>>> waiters;
  for (int i = 0; i < 200; ++i) waiters.push_back(start("/v1/wait?name=web.local&count=1"));
  (void)add_task("web", "10.0.0.1", 80);
  ASSERT_TRUE(run_until([&] {
    return std::all_of(waiters.begin(), waiters.end(),
                       [](const auto& w) { return w->has_value(); });
  }));
  EXPECT_EQ(router.pending_polls(), 0u);
}

}  // namespace
}  // namespace emu::api::test
