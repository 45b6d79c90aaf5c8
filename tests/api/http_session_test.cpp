// HttpListener + HttpSession over real loopback sockets (port 0): keep-alive, pipelining in
// order, 413, malformed requests, the header and idle timeouts cutting off only the slow client,
// 100-continue, the connection cap, the accept back-off and graceful stop. The server runs on its
// own thread; the test talks plain blocking sockets.
#include "api/http_session.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "api/http_listener.hpp"
#include "tests/api/api_test_env.hpp"

namespace emu::api::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// A blocking client with a receive timeout, so a broken server fails the test instead of hanging.
struct Client {
  asio::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;

  explicit Client(std::uint16_t port) {
    open();
    connect(port);
  }
  /// Opens the socket only (connect() later): its descriptor exists before the test needs it.
  Client() { open(); }
  void open() {
    socket.open(tcp::v4());
    timeval tv{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void connect(std::uint16_t port) {
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(std::string_view data) { asio::write(socket, asio::buffer(data)); }
  /// The next status line and header block as raw text (an interim 100 that http::read would
  /// take for the answer); "" on the 5 s timeout.
  std::string read_head() {
    for (;;) {
      const std::string_view seen(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (const auto end = seen.find("\r\n\r\n"); end != std::string_view::npos) {
        std::string head(seen.substr(0, end + 4));
        buffer.consume(head.size());
        return head;
      }
      beast::error_code ec;
      const auto n = socket.read_some(buffer.prepare(4096), ec);
      if (ec) return "";
      buffer.commit(n);
    }
  }
  Response read() {
    Response res;
    beast::error_code ec;
    http::read(socket, buffer, res, ec);
    if (ec) {
      res.result(http::status::unknown);
      res.body() = ec.message();
    }
    return res;
  }
  /// True when the server closed the connection (EOF or reset), false on the 5 s timeout.
  bool closed_by_server() {
    char c;
    beast::error_code ec;
    const auto n = socket.read_some(asio::buffer(&c, 1), ec);
    return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }
};

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) + "\r\n";
}

constexpr std::string_view kTask = "{\"ip\":\"10.0.0.1\",\"port\":1}";

/// The header of a task registration that waits for 100 Continue before its body.
std::string post_task_expecting_continue(std::size_t length, std::string_view version = "1.1") {
  return "POST /v1/services/web/tasks HTTP/" + std::string(version) +
         "\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n";
}

class HttpSessionTest : public ApiTest {
 protected:
  void start_server(HttpConfig config = {}) {
    config.listen = "127.0.0.1:0";
    listener = std::make_unique<HttpListener>(io, router, config);
    ASSERT_TRUE(listener->start().ok());
    ASSERT_NE(listener->port(), 0);
    server = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  /// Runs fn on the server thread and waits for it.
  template <typename Fn>
  void on_server(Fn fn) {
    std::promise<void> done;
    asio::post(io, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  void TearDown() override {
    if (server.joinable()) {
      on_server([this] { listener->stop(); });
      io.stop();
      server.join();
    }
  }

  /// Polls fn on the server thread until it returns true (5 s deadline).
  template <typename Fn>
  bool wait_on_server(Fn fn) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    bool done = false;
    while (!done && std::chrono::steady_clock::now() < deadline) on_server([&] { done = fn(); });
    return done;
  }
  /// n connections, each holding a 5-minute long poll (busy: never idle), once all are pending.
  std::vector<std::unique_ptr<Client>> long_polls(std::size_t n) {
    std::vector<std::unique_ptr<Client>> polls;
    for (std::size_t i = 0; i < n; ++i) {
      polls.push_back(std::make_unique<Client>(listener->port()));
      polls.back()->send(get("/v1/wait?name=web.local&count=1&timeout=5m"));
    }
    EXPECT_TRUE(wait_on_server([&] { return router.pending_polls() == n; }));
    return polls;
  }
  HttpListener::Stats stats() {
    HttpListener::Stats out;
    on_server([&] { out = listener->stats(); });
    return out;
  }

  std::unique_ptr<HttpListener> listener;
  std::thread server;
};

TEST_F(HttpSessionTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start_server();
  Client c(listener->port());
  for (int i = 0; i < 5; ++i) {
    c.send(get("/healthz"));
    auto res = c.read();
    EXPECT_EQ(res.result_int(), 200u) << res.body();
    EXPECT_TRUE(res.keep_alive());
  }
  c.send(
      "POST /v1/services/web/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\n"
      "{\"ip\":\"10.0.0.1\",\"port\":1}");
  EXPECT_EQ(c.read().result_int(), 201u);
  c.send(get("/v1/tasks", "Connection: close\r\n"));
  auto last = c.read();
  EXPECT_EQ(last.result_int(), 200u);
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpSessionTest, PipelinedRequestsAreAnsweredInOrder) {
  start_server();
  Client c(listener->port());
  // A long poll first: the quick answers behind it wait for it (HTTP/1.1 order).
  c.send(get("/v1/wait?name=web.local&count=5&timeout=200ms") + get("/healthz") +
         get("/v1/tasks/nope") + get("/v1/namespaces"));
  EXPECT_EQ(c.read().result_int(), 408u);
  EXPECT_EQ(c.read().result_int(), 200u);
  EXPECT_EQ(c.read().result_int(), 404u);
  EXPECT_EQ(c.read().result_int(), 200u);
}

TEST_F(HttpSessionTest, AbsoluteFormTargetThroughAProxySetting) {
  start_server();
  Client c(listener->port());
  c.send(get("http://data-127.0.0.1:9080/healthz"));
  EXPECT_EQ(c.read().result_int(), 200u);
}

TEST_F(HttpSessionTest, BodyOverTheLimitIs413AndTheConnectionCloses) {
  HttpConfig config;
  config.body_limit = 1 << 20;
  start_server(config);
  Client c(listener->port());
  const std::string body((1 << 20) + 1, 'x');
  c.send("PUT /v1/services/web HTTP/1.1\r\nHost: x\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  c.send(body);  // the server drains it, so the client still reads the answer
  auto res = c.read();
  EXPECT_EQ(res.result_int(), 413u) << res.body();
  EXPECT_EQ(json::parse(res.body(), nullptr, false)["error"], "TooLarge");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
  // Exactly at the limit is fine (it is then a bad JSON body: 400, not 413).
  Client ok(listener->port());
  const std::string at_limit(1 << 20, ' ');
  ok.send("PUT /v1/services/web HTTP/1.1\r\nHost: x\r\nContent-Length: " +
          std::to_string(at_limit.size()) + "\r\n\r\n" + at_limit);
  EXPECT_EQ(ok.read().result_int(), 201u);
}

TEST_F(HttpSessionTest, ChunkedBodyOverTheLimitIs413) {
  start_server();
  Client c(listener->port());
  c.send("POST /v1/services/web/tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk(64 * 1024, 'x');
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 17; ++i) {
    beast::error_code ec;
    asio::write(c.socket, asio::buffer(std::string(size) + chunk + "\r\n"), ec);
    if (ec) break;
  }
  EXPECT_EQ(c.read().result_int(), 413u);
}

TEST(ExpectsContinueTest, OnlyHttp11AndLaterAsking100Continue) {
  const struct {
    unsigned version;
    const char* expect;  ///< nullptr: no Expect field
    bool wants;
  } cases[] = {
      {11, "100-continue", true},  {11, "100-Continue", true},    {20, "100-continue", true},
      {10, "100-continue", false},  // RFC 9110 10.1.1: ignored in HTTP/1.0
      {11, nullptr, false},        {11, "something-else", false},
  };
  for (const auto& c : cases) {
    http::request_header<> req;
    req.version(c.version);
    if (c.expect) req.set(http::field::expect, c.expect);
    EXPECT_EQ(expects_continue(req), c.wants) << c.version << " " << (c.expect ? c.expect : "-");
  }
}

TEST_F(HttpSessionTest, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  start_server();
  Client c(listener->port());
  c.send(post_task_expecting_continue(kTask.size()));
  // Nothing more is sent until the 100 arrives (curl would wait 1 s, then send anyway).
  EXPECT_EQ(c.read_head(), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send(std::string(kTask) + get("/healthz"));  // pipelining goes on after the body
  EXPECT_EQ(c.read().result_int(), 201u);
  EXPECT_EQ(c.read().result_int(), 200u);
}

TEST_F(HttpSessionTest, ExpectContinueComesAfterTheAnswersOfEarlierRequests) {
  start_server();
  Client c(listener->port());
  // A pipelined long poll first: HTTP/1.1 answers in order, the 100 included.
  c.send(get("/v1/wait?name=web.local&count=5&timeout=200ms") +
         post_task_expecting_continue(kTask.size()));
  EXPECT_EQ(c.read().result_int(), 408u);
  EXPECT_EQ(c.read_head(), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send(kTask);
  EXPECT_EQ(c.read().result_int(), 201u);
}

TEST_F(HttpSessionTest, ExpectContinueWithABodyOverTheLimitGets413Only) {
  HttpConfig config;
  config.body_limit = 1024;
  start_server(config);
  Client c(listener->port());
  c.send(post_task_expecting_continue(1025));
  auto res = c.read();  // the first message: a 100 here would read as status 100
  EXPECT_EQ(res.result_int(), 413u) << res.body();
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpSessionTest, Http10ExpectContinueIsIgnored) {
  start_server();
  Client c(listener->port());
  c.send(post_task_expecting_continue(kTask.size(), "1.0"));
  // A round trip on another connection: the server has seen the header meanwhile (one thread).
  Client other(listener->port());
  other.send(get("/healthz"));
  EXPECT_EQ(other.read().result_int(), 200u);
  c.send(kTask);
  auto res = c.read();  // the final answer first, no 100
  EXPECT_EQ(res.result_int(), 201u) << res.body();
}

TEST_F(HttpSessionTest, MalformedRequestIs400ThenClose) {
  start_server();
  Client c(listener->port());
  c.send("GET /healthz HTTP/9\r\n\r\n");
  auto res = c.read();
  EXPECT_EQ(res.result_int(), 400u) << res.body();
  EXPECT_EQ(json::parse(res.body(), nullptr, false)["error"], "InvalidArgument");
  EXPECT_TRUE(c.closed_by_server());
  Client d(listener->port());
  d.send("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary junk\r\n\r\n");  // TLS hello
  EXPECT_EQ(d.read().result_int(), 400u);
}

TEST_F(HttpSessionTest, HalfSentRequestIsCutOffWhileOthersAreServed) {
  HttpConfig config;
  config.header_timeout = 300ms;
  start_server(config);
  Client slow(listener->port());
  slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // no blank line: never completes
  const auto began = std::chrono::steady_clock::now();
  Client fast(listener->port());
  for (int i = 0; i < 20; ++i) {
    fast.send(get("/v1/tasks"));
    EXPECT_EQ(fast.read().result_int(), 200u);
  }
  EXPECT_TRUE(slow.closed_by_server());
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  fast.send(get("/healthz"));  // the fast one is still served
  EXPECT_EQ(fast.read().result_int(), 200u);
}

TEST_F(HttpSessionTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  HttpConfig config;
  config.idle_timeout = 200ms;
  start_server(config);
  Client c(listener->port());
  c.send(get("/healthz"));
  EXPECT_EQ(c.read().result_int(), 200u);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpSessionTest, LongPollOutlivesTheIdleTimeout) {
  HttpConfig config;
  config.idle_timeout = 100ms;
  start_server(config);
  Client c(listener->port());
  c.send(get("/v1/wait?name=web.local&count=1&timeout=400ms"));
  EXPECT_EQ(c.read().result_int(), 408u);  // not cut off at 100 ms
}

TEST_F(HttpSessionTest, ClientThatLeavesDropsItsLongPoll) {
  start_server();
  {
    Client c(listener->port());
    c.send(get("/v1/wait?name=web.local&count=1&timeout=5m"));
    std::size_t pending = 0;
    for (int i = 0; i < 500 && pending == 0; ++i) {
      on_server([&] { pending = router.pending_polls(); });
    }
    EXPECT_EQ(pending, 1u);
  }  // closes the socket
  std::size_t pending = 1;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (pending != 0 && std::chrono::steady_clock::now() < deadline) {
    on_server([&] { pending = router.pending_polls(); });
  }
  EXPECT_EQ(pending, 0u);
}

TEST_F(HttpSessionTest, ManyConcurrentConnections) {
  start_server();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(std::make_unique<Client>(listener->port()));
  for (auto& c : clients) c->send(get("/healthz"));
  for (auto& c : clients) EXPECT_EQ(c->read().result_int(), 200u);
}

TEST_F(HttpSessionTest, AtTheCapTheConnectionIdleTheLongestMakesRoom) {
  HttpConfig config;
  config.max_connections = 4;
  start_server(config);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<Client>(listener->port()));
    idle.back()->send(get("/healthz"));
    EXPECT_EQ(idle.back()->read().result_int(), 200u);
    on_server([] {});  // the server has finished the write: idle in this order
  }
  ASSERT_TRUE(wait_on_server([&] { return listener->connections() == 4; }));
  Client fifth(listener->port());
  fifth.send(get("/healthz"));
  EXPECT_EQ(fifth.read().result_int(), 200u);
  EXPECT_TRUE(idle[0]->closed_by_server());  // idle the longest
  for (int i = 1; i < 4; ++i) {
    idle[i]->send(get("/healthz"));
    EXPECT_EQ(idle[i]->read().result_int(), 200u) << i;
  }
  const auto s = stats();
  EXPECT_EQ(s.accepted, 5u);
  EXPECT_EQ(s.idle_closed, 1u);
  EXPECT_EQ(s.refused, 0u);
  EXPECT_EQ(s.dropped, 0u);
  on_server([&] { EXPECT_EQ(listener->connections(), 4u); });
}

TEST_F(HttpSessionTest, AtTheCapWithOnlyLongPollsTheNewConnectionGets503) {
  HttpConfig config;
  config.max_connections = 4;
  start_server(config);
  auto polls = long_polls(4);
  {
    Client fifth(listener->port());
    fifth.send(get("/healthz"));
    auto res = fifth.read();
    EXPECT_EQ(res.result_int(), 503u) << res.body();
    EXPECT_EQ(json::parse(res.body(), nullptr, false)["error"], "Unavailable");
    EXPECT_EQ(res[http::field::retry_after], "1");
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(fifth.closed_by_server());
  }  // closed: the refusing session stops draining
  const auto s = stats();
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.idle_closed, 0u);
  on_server([&] { EXPECT_EQ(router.pending_polls(), 4u); });  // the long polls go on
  // A poll that ends frees its place.
  polls[0].reset();
  ASSERT_TRUE(wait_on_server([&] { return router.pending_polls() == 3; }));
  ASSERT_TRUE(wait_on_server([&] { return listener->connections() == 3; }));
  Client next(listener->port());
  next.send(get("/healthz"));
  EXPECT_EQ(next.read().result_int(), 200u);
}

TEST_F(HttpSessionTest, PastTheRefusalsInFlightANewConnectionIsClosedUnanswered) {
  HttpConfig config;
  config.max_connections = 1;
  start_server(config);
  auto poll = long_polls(1);
  // Refused connections that neither read nor close drain for HttpSession::kLinger (1 s), so
  // these stay open while the next one arrives.
  std::vector<std::unique_ptr<Client>> refused;
  for (std::size_t i = 0; i < HttpListener::kMaxRefusing; ++i) {
    refused.push_back(std::make_unique<Client>(listener->port()));
  }
  ASSERT_TRUE(
      wait_on_server([&] { return listener->stats().refused == HttpListener::kMaxRefusing; }));
  Client dropped(listener->port());
  EXPECT_TRUE(dropped.closed_by_server());  // EOF, not a 503
  EXPECT_EQ(stats().dropped, 1u);
  EXPECT_EQ(refused.front()->read().result_int(), 503u);
}

/// Fills this process's descriptor table up to a lowered soft limit, so the server's accept()
/// fails with EMFILE; restores both on destruction.
class FdExhaustion {
 public:
  FdExhaustion() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int top = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      top = std::max(top, std::stoi(entry.path().filename().string()));
    }
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(top) + 1;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;) fds_.push_back(fd);
  }
  ~FdExhaustion() { release(); }
  void release() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
};

TEST_F(HttpSessionTest, AcceptFailuresBackOffAndAreLoggedOncePerRun) {
  start_server();
  testing::internal::CaptureStderr();
  // A run of failures: the client connects while this process has no descriptor left.
  auto run_of_failures = [&] {
    Client c;  // its descriptor exists before the table is full
    FdExhaustion full;
    const auto before = stats().accept_errors;
    const auto began = std::chrono::steady_clock::now();
    c.connect(listener->port());  // the kernel completes it; the server's accept() gets EMFILE
    std::uint64_t errors = 0;
    ASSERT_TRUE(
        wait_on_server([&] { return (errors = listener->stats().accept_errors - before) >= 3; }));
    const auto waited = std::chrono::steady_clock::now() - began;
    // Each retry waits kAcceptBackoff after the last failure: no more failures than that allows
    // (a spinning accept loop would have thousands by now).
    EXPECT_LE(errors, 1 + static_cast<std::uint64_t>(waited / HttpListener::kAcceptBackoff));
    full.release();
    c.send(get("/healthz"));  // accepted at the next retry
    EXPECT_EQ(c.read().result_int(), 200u);
  };
  run_of_failures();
  run_of_failures();  // within kAcceptLogEvery of the first: not logged again
  const auto log = testing::internal::GetCapturedStderr();
  auto count = [&](std::string_view what) {
    std::size_t n = 0;
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("accept failed"), 1u) << log;
  EXPECT_EQ(count("accepting again"), 1u) << log;
  EXPECT_EQ(stats().accepted, 2u);
}

TEST_F(HttpSessionTest, GracefulStopFinishesInFlightRequestsThenCloses) {
  start_server();
  Client c(listener->port());
  std::uint64_t latest = 0;
  on_server([&] { latest = registry.events().last_index(); });
  c.send(get("/v1/events?after=" + std::to_string(latest) + "&wait=5m"));
  Client idle(listener->port());
  std::size_t pending = 0;
  for (int i = 0; i < 500 && pending == 0; ++i)
    on_server([&] { pending = router.pending_polls(); });
  ASSERT_EQ(pending, 1u);
  on_server([&] { listener->stop(); });
  auto res = c.read();  // answered now, not in 5 minutes
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(idle.closed_by_server());
  // No longer accepting.
  asio::io_context io2;
  tcp::socket s(io2);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), listener->port()), ec);
  EXPECT_TRUE(ec);
}

TEST(HttpListenerTest, ParsesListenAddresses) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:9080")->port(), 9080);
  EXPECT_EQ(parse_endpoint("[::1]:53")->address().to_string(), "::1");
  EXPECT_EQ(parse_endpoint(":9080")->address().to_string(), "0.0.0.0");
  EXPECT_EQ(parse_endpoint("9080")->port(), 9080);
  EXPECT_FALSE(parse_endpoint("127.0.0.1:99999").ok());
  EXPECT_FALSE(parse_endpoint("nohost:80").ok());
  EXPECT_FALSE(parse_endpoint("127.0.0.1:").ok());
}

TEST(HttpListenerTest, BindFailureIsAnError) {
  boost::asio::io_context io;
  emu::test::SimTime sim;
  core::MemoryStore store;
  core::Registry registry(sim.clock, sim.timers, store, {}, 1);
  ApiContext ctx{registry, {}, {}, {}};
  Router router(ctx, io);
  HttpListener first(io, router, HttpConfig{"127.0.0.1:0"});
  ASSERT_TRUE(first.start().ok());
  HttpListener second(io, router, HttpConfig{"127.0.0.1:" + std::to_string(first.port())});
  auto r = second.start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
}

}  // namespace
}  // namespace emu::api::test
