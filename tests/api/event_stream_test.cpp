// GET /v1/events/stream (server-sent events) and the embedded web page: the SSE framing, where a
// stream resumes, what it carries as the registry changes, and how the page's files are served.
// The io_context is driven by hand until a condition holds, with a deadline.
#include "api/event_stream.hpp"

#include <gtest/gtest.h>

#include <string>

#include "api/stream_body.hpp"
#include "api/web_assets.hpp"
#include "tests/api/api_test_env.hpp"

namespace emu::api::test {
namespace {

using http::verb;

TEST(SseFrame, OneEventIsIdDataAndABlankLine) {
  EXPECT_EQ(sse_frame(7, R"({"type":"TaskRegistered"})"),
            "id: 7\ndata: {\"type\":\"TaskRegistered\"}\n\n");
}

TEST(SseFrame, EachLineOfTheDataGetsItsOwnField) {
  // A bare line break inside a field would end it; any of CR, LF, CRLF splits.
  EXPECT_EQ(sse_frame(1, "a\nb\r\nc\rd"), "id: 1\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(sse_frame(2, ""), "id: 2\ndata: \n\n");
}

RequestTarget target_of(const std::string& raw) {
  auto t = parse_target(raw);
  EXPECT_TRUE(t.ok());
  return *t;
}

TEST(ResumeIndex, LastEventIdWinsOverTheQueryAndNeitherMeansFromTheStart) {
  EXPECT_EQ(*resume_index(std::nullopt, target_of("/v1/events/stream")), 0u);
  EXPECT_EQ(*resume_index(std::nullopt, target_of("/v1/events/stream?after=12")), 12u);
  EXPECT_EQ(*resume_index("40", target_of("/v1/events/stream?after=12")), 40u);
  // An empty header (EventSource before any id) falls back to the query.
  EXPECT_EQ(*resume_index("", target_of("/v1/events/stream?after=3")), 3u);
}

TEST(ResumeIndex, AMalformedIndexIsABadRequestNamingItsSource) {
  auto h = resume_index("x1", target_of("/v1/events/stream"));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("Last-Event-ID"), std::string::npos);
  auto q = resume_index(std::nullopt, target_of("/v1/events/stream?after=-1"));
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("after"), std::string::npos);
}

TEST(StreamFilterTest, BareServiceNamesMeanTheDefaultNamespace) {
  auto f = *stream_filter(target_of("/v1/events/stream?service=Web,api.prod.&type=TaskStopped"));
  EXPECT_TRUE(f.services.contains("web.local"));
  EXPECT_TRUE(f.services.contains("api.prod"));
  EXPECT_TRUE(f.matches({{"service", "web.local"}, {"type", "TaskStopped"}}));
  EXPECT_FALSE(f.matches({{"service", "web.local"}, {"type", "TaskRegistered"}}));
  EXPECT_FALSE(f.matches({{"service", "other.local"}, {"type", "TaskStopped"}}));
}

/// A client of the stream as the session sees it: the head, then what it would write.
struct FakeStream {
  std::optional<Response> head;
  std::shared_ptr<StreamBody> body;
  std::string written;
  OpenStream open() {
    return [this](Response h, std::shared_ptr<StreamBody> b) {
      head = std::move(h);
      body = std::move(b);
      body->on_wake([this] { drain(); });
      drain();
    };
  }
  void drain() {
    while (body && !body->empty()) written += body->take();
  }
  /// The ids of the frames written so far.
  std::vector<std::uint64_t> ids() const {
    std::vector<std::uint64_t> out;
    std::size_t pos = 0;
    while ((pos = written.find("id: ", pos)) != std::string::npos) {
      out.push_back(std::stoull(written.substr(pos + 4)));
      pos += 4;
    }
    return out;
  }
};

class EventStreamTest : public ApiTest {
 protected:
  std::optional<Response> open(FakeStream& s, std::string target, std::string last_id = {}) {
    Request req{verb::get, target, 11};
    req.set(http::field::host, "localhost");
    if (!last_id.empty()) req.set("Last-Event-ID", last_id);
    std::optional<Response> plain;
    router.handle(
        std::move(req), [&plain](Response r) { plain = std::move(r); }, {}, s.open());
    return plain;
  }
};

TEST_F(EventStreamTest, StreamsTheBacklogThenEachNewEventAsItCommits) {
  (void)add_task("web", "10.0.0.1", 80);
  const auto before = registry.events().last_index();
  ASSERT_GT(before, 0u);
  FakeStream s;
  EXPECT_FALSE(open(s, "/v1/events/stream"));
  ASSERT_TRUE(s.head);
  EXPECT_EQ(s.head->result_int(), 200u);
  EXPECT_EQ((*s.head)[http::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_EQ((*s.head)[http::field::cache_control], "no-cache");
  EXPECT_EQ(s.written.rfind("retry: 1000\n\n", 0), 0u);
  ASSERT_FALSE(s.ids().empty());
  EXPECT_EQ(s.ids().back(), before);
  EXPECT_EQ(router.open_streams(), 1u);

  const auto id = add_task("web", "10.0.0.2", 80);
  ASSERT_TRUE(run_until([&] { return s.ids().back() == registry.events().last_index(); }));
  // The data is the event exactly as GET /v1/events gives it.
  auto polled = body_of(call(verb::get, "/v1/events?after=" + std::to_string(before)));
  const auto last = s.written.rfind("data: ");
  auto streamed = json::parse(s.written.substr(last + 6, s.written.find('\n', last) - last - 6));
  EXPECT_EQ(streamed, polled["events"].back());
  EXPECT_EQ(streamed["taskId"], id);
}

TEST_F(EventStreamTest, ResumesAfterLastEventIdWithoutRepeatingOrSkipping) {
  (void)add_task("web", "10.0.0.1", 80);
  const auto mark = registry.events().last_index();
  (void)add_task("web", "10.0.0.2", 80);
  (void)add_task("api", "10.0.0.3", 80);
  FakeStream s;
  open(s, "/v1/events/stream?after=0", std::to_string(mark));
  std::vector<std::uint64_t> expected;
  for (const auto& e : registry.events().after(mark, 100000)) expected.push_back(e.index);
  EXPECT_EQ(s.ids(), expected);
}

TEST_F(EventStreamTest, FiltersByServiceAndType) {
  FakeStream s;
  open(s, "/v1/events/stream?service=api&type=TaskRegistered");
  (void)add_task("web", "10.0.0.1", 80);
  const auto api_task = add_task("api", "10.0.0.2", 80);
  ASSERT_TRUE(run_until([&] { return !s.ids().empty(); }));
  settle();
  ASSERT_EQ(s.ids().size(), 1u) << s.written;
  EXPECT_NE(s.written.find(api_task), std::string::npos);
}

TEST(StreamFilterTest, ProbesAreOffByDefaultAndABadValueNamesTheParameter) {
  EXPECT_EQ(stream_filter(target_of("/v1/events/stream"))->probes, StreamFilter::Probes::None);
  EXPECT_EQ(stream_filter(target_of("/v1/events/stream?probes=1"))->probes,
            StreamFilter::Probes::Also);
  auto only = *stream_filter(target_of("/v1/events/stream?probes=only&service=web"));
  EXPECT_EQ(only.probes, StreamFilter::Probes::Only);
  EXPECT_TRUE(only.wants_probe("web.local"));
  EXPECT_FALSE(only.wants_probe("api.local"));
  EXPECT_FALSE(only.matches({{"service", "web.local"}, {"type", "TaskRegistered"}}));
  auto bad = stream_filter(target_of("/v1/events/stream?probes=yes"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "probes");
}

TEST(SseFrame, AProbeFrameIsNamedAndHasNoId) {
  EXPECT_EQ(sse_probe_frame(R"({"outcome":"PASS"})"),
            "event: probe\ndata: {\"outcome\":\"PASS\"}\n\n");
}

core::ProbeRecord probe(bool ok, std::string detail) {
  core::ProbeRecord r;
  r.ok = ok;
  r.detail = std::move(detail);
  return r;
}

TEST_F(EventStreamTest, ProbeResultsReachOnlyTheStreamsThatAskForThemAndMoveNoId) {
  const auto web = add_task("web", "10.0.0.1", 80);
  const auto api = add_task("api", "10.0.0.2", 80);
  FakeStream plain, also, only;
  open(plain, "/v1/events/stream");
  open(also, "/v1/events/stream?probes=1");
  open(only, "/v1/events/stream?probes=only&service=web");
  const auto plain_ids = plain.ids();
  const auto also_ids = also.ids();
  EXPECT_TRUE(only.ids().empty());  // no lifecycle backlog

  registry.add_probe_result(web, probe(false, "http 503"));
  registry.add_probe_result(api, probe(true, "http 200"));
  settle();
  EXPECT_EQ(plain.written.find("event: probe"), std::string::npos);
  EXPECT_EQ(plain.ids(), plain_ids);
  EXPECT_EQ(also.ids(), also_ids);  // probe frames carry no id
  // Both results to `also`; only web's to `only`, with the task and its outcome.
  std::size_t n = 0;
  for (auto p = also.written.find("event: probe"); p != std::string::npos;
       p = also.written.find("event: probe", p + 1))
    ++n;
  EXPECT_EQ(n, 2u);
  const auto at = only.written.find("event: probe\ndata: ");
  ASSERT_NE(at, std::string::npos) << only.written;
  const auto data_at = at + std::string("event: probe\ndata: ").size();
  auto j = json::parse(only.written.substr(data_at, only.written.find('\n', data_at) - data_at));
  EXPECT_EQ(j["taskId"], web);
  EXPECT_EQ(j["service"], "web.local");
  EXPECT_EQ(j["outcome"], "FAIL");
  EXPECT_EQ(j["detail"], "http 503");
  EXPECT_EQ(j["ip"], "10.0.0.1");
  EXPECT_EQ(only.written.find(api), std::string::npos);
  EXPECT_TRUE(only.ids().empty());
}

TEST_F(EventStreamTest, AClosedClientIsDroppedAndShutdownEndsTheRest) {
  FakeStream gone, stays;
  open(gone, "/v1/events/stream");
  open(stays, "/v1/events/stream");
  EXPECT_EQ(router.open_streams(), 2u);
  gone.body->close();  // what the session does when the client leaves
  (void)add_task("web", "10.0.0.1", 80);
  ASSERT_TRUE(run_until([&] { return router.open_streams() == 1u; }));
  router.shutdown();
  EXPECT_TRUE(stays.body->finished());
  EXPECT_EQ(router.open_streams(), 0u);
}

TEST_F(EventStreamTest, ABadResumeIndexIs400AndATransportThatCannotStreamIs503) {
  FakeStream s;
  auto bad = open(s, "/v1/events/stream", "abc");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result_int(), 400u);
  EXPECT_FALSE(s.head);
  EXPECT_EQ(status(call(verb::get, "/v1/events/stream")), 503u);
}

// --- the embedded page ---

TEST(WebAssets, ThePageIsEmbeddedWithTypesAndEtags) {
  const WebAsset* index = find_web_asset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("app.js"), std::string_view::npos);
  ASSERT_NE(find_web_asset("app.js"), nullptr);
  EXPECT_EQ(find_web_asset("app.js")->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(find_web_asset("style.css"), nullptr);
  EXPECT_EQ(find_web_asset("missing.js"), nullptr);
  for (const auto& a : web_assets()) {
    EXPECT_GE(a.etag.size(), 3u);
    EXPECT_EQ(a.etag.front(), '"');
    EXPECT_EQ(a.etag.back(), '"');
    EXPECT_FALSE(a.body.empty()) << a.path;
  }
  EXPECT_NE(find_web_asset("app.js")->etag, index->etag);
}

class WebUiTest : public ApiTest {};

TEST_F(WebUiTest, RootRedirectsToThePage) {
  for (const char* path : {"/", "/ui"}) {
    auto res = call(verb::get, path);
    EXPECT_EQ(status(res), 302u) << path;
    EXPECT_EQ(res[http::field::location], "/ui/");
  }
}

TEST_F(WebUiTest, ServesEachFileWithItsTypeAndRevalidatesWithTheEtag) {
  auto page = call(verb::get, "/ui/");
  ASSERT_EQ(status(page), 200u);
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(page.body(), std::string(find_web_asset("index.html")->body));
  auto js = call(verb::get, "/ui/app.js");
  ASSERT_EQ(status(js), 200u);
  EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(js[http::field::etag], find_web_asset("app.js")->etag);
  EXPECT_EQ(js[http::field::cache_control], "no-cache");

  Request again{verb::get, "/ui/app.js", 11};
  again.set(http::field::host, "localhost");
  again.set(http::field::if_none_match, std::string(js[http::field::etag]));
  std::optional<Response> out;
  router.handle(std::move(again), [&out](Response r) { out = std::move(r); });
  ASSERT_TRUE(out);
  EXPECT_EQ(status(*out), 304u);
  EXPECT_TRUE(out->body().empty());
  EXPECT_EQ(status(call(verb::get, "/ui/nope.js")), 404u);
}

TEST_F(WebUiTest, OverviewCountsEachServicesTasksByHealth) {
  const auto a = add_task("web", "10.0.0.1", 80);
  (void)add_task("web", "10.0.0.2", 80);
  (void)add_task("api", "10.0.0.3", 80);
  ASSERT_EQ(status(call(verb::put, "/v1/tasks/" + a + "/health", R"({"status":"HEALTHY"})")), 200u);
  auto body = body_of(call(verb::get, "/v1/overview"));
  ASSERT_EQ(body["services"].size(), 2u);
  json web;
  for (const auto& s : body["services"])
    if (s["name"] == "web.local") web = s;
  EXPECT_EQ(web["counts"]["running"], 2);
  EXPECT_EQ(web["counts"]["healthy"], 1);
  EXPECT_EQ(web["counts"]["unknown"], 1);
  EXPECT_EQ(web["counts"]["unhealthy"], 0);
  EXPECT_EQ(body["tasks"]["running"], 3);
  EXPECT_EQ(body["eventIndex"], registry.events().last_index());
}

}  // namespace
}  // namespace emu::api::test
