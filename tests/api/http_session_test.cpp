// HttpListener + HttpSession over real loopback sockets (port 0): keep-alive, pipelining in
// order, 413, malformed requests, the header and idle timeouts cutting off only the slow client,
// 100-continue and graceful stop. The server runs on its own thread; the test talks plain
// blocking sockets.
#include "api/http_session.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <future>
#include <string>
#include <thread>

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
  ApiContext ctx{registry, {}, {}, {}, {}};
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
