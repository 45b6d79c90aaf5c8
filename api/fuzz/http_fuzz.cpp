// libFuzzer: any bytes as what a client sends on one HTTP/1.1 connection. Requests are read as
// HttpSession reads them (Beast's request parser, HttpConfig's body limit, pipelining until the
// first error or `Connection: close`) and handed to the daemon's Router with the ECS and Cloud
// Map handlers (and Route 53's REST-XML) installed as emulator/runtime/daemon.cpp does, over a
// fresh in-memory state per input (so a crash reproduces from its input alone; the seeds build
// state within one input). After each request the posted work runs and simulated time moves on, so
// ECS lifecycles and answers that come later are exercised too.
//
// Fails on: a crash or sanitizer report, an exception out of Router::handle, a request answered
// zero or two times, a 500 (SPEC: ServerException only for bugs; the router turns a handler's
// exception into one), a response Beast cannot serialise and parse back as exactly one message,
// a JSON content type whose body is not JSON, or an XML one whose body is not well-formed XML.

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_context.hpp"
#include "api/aws/cloudmap_handlers.hpp"
#include "api/aws/ecs_handlers.hpp"
#include "api/http_config.hpp"
#include "api/route53/route53_handlers.hpp"
#include "api/route53/route53_xml.hpp"
#include "api/router.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/endpoint_policy.hpp"
#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/runtime/dns_lookup.hpp"
#include "tests/support/sim_time.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace emu;

/// Requests read from one input at most (HttpSession has no such cap, but libFuzzer's inputs are
/// small anyway; this bounds the work of a pathological one).
constexpr std::size_t kMaxRequests = 64;
/// Simulated time between two requests: long enough for a simulated task's lifecycle steps.
constexpr Duration kStep{1000};

[[noreturn]] void fail(const std::string& what, const api::Request* req = nullptr) {
  std::fprintf(stderr, "http_fuzz: %s", what.c_str());
  if (req) {
    std::fprintf(stderr, " (request: %s %s)", std::string(req->method_string()).c_str(),
                 std::string(req->target()).c_str());
  }
  std::fprintf(stderr, "\n");
  std::abort();
}

/// The client's bytes as a SyncReadStream: delivered in socket-sized pieces, then EOF.
class ByteStream {
 public:
  explicit ByteStream(std::string_view data) : data_(data) {}

  template <typename Buffers>
  std::size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    ec = {};
    if (data_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    const std::size_t n = asio::buffer_copy(
        buffers, asio::buffer(data_.data(), std::min<std::size_t>(data_.size(), 4096)));
    data_.remove_prefix(n);
    return n;
  }
  template <typename Buffers>
  std::size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::string_view data_;
};

/// A SyncWriteStream that keeps what is written.
struct StringSink {
  std::string out;
  template <typename Buffers>
  std::size_t write_some(const Buffers& buffers, beast::error_code& ec) {
    ec = {};
    std::size_t n = 0;
    for (auto b : beast::buffers_range_ref(buffers)) {
      out.append(static_cast<const char*>(b.data()), b.size());
      n += b.size();
    }
    return n;
  }
  template <typename Buffers>
  std::size_t write_some(const Buffers& buffers) {
    beast::error_code ec;
    return write_some(buffers, ec);
  }
};

/// The daemon's API over in-memory state and simulated time (the wiring of daemon.cpp).
struct ApiState {
  test::SimTime sim;
  core::MemoryStore store;
  core::Registry registry{sim.clock, sim.timers, store, core::RegistryConfig{}, 42};
  core::ecs::EcsEngine ecs{sim.clock, sim.timers, store, registry, core::ecs::EcsConfig{}, 7};
  core::EndpointPolicy policy{registry};
  api::aws::EcsHandlers ecs_handlers{ecs};
  asio::io_context io;  // before the router: its long polls hold timers on it
  api::ApiContext ctx{registry};
  std::optional<api::Router> router;

  ApiState() {
    if (!registry.load() || !ecs.load()) fail("loading an empty store failed");
    ctx.dns_lookup = [this](const std::string& name, const std::string& type) {
      return runtime::dns_lookup(registry.zones(), name, type);
    };
    ctx.metrics = [] { return std::string("ecs_emulator_dns_queries_total 0\n"); };
    ctx.ready = [] { return true; };
    router.emplace(ctx, io);
    api::aws::install_ecs(*router, ecs_handlers);
    api::aws::install_cloudmap(*router, registry, sim.clock);
    api::route53::install_route53(*router, registry);
  }
  ~ApiState() { router.reset(); }  // before the registry it observes and the io its timers use

  void settle() {
    if (io.stopped()) io.restart();
    io.poll();
  }
};

/// HTTP_FUZZ_TRACE=1: print each request line and its answer (reading a reproducer, or the ids a
/// seed needs).
const bool kTrace = std::getenv("HTTP_FUZZ_TRACE") != nullptr;

/// What HttpSession would write for `res`: serialised by Beast, and it must parse back as
/// exactly one response (no header or body framing broken by what a handler put in it).
void check_response(const api::Request& req, const api::Response& res) {
  if (kTrace) {
    std::fprintf(stderr, "%s %s -> %u %s\n", std::string(req.method_string()).c_str(),
                 std::string(req.target()).c_str(), res.result_int(), res.body().c_str());
  }
  if (res.result_int() == 500) fail("500: " + res.body(), &req);
  if (res.result_int() < 100 || res.result_int() > 599) fail("status out of range", &req);
  StringSink sink;
  api::Response copy = res;
  beast::error_code ec;
  http::write(sink, copy, ec);
  if (ec) fail("serialising the response: " + ec.message(), &req);
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (req.method() == http::verb::head) parser.skip(true);
  const auto used = parser.put(asio::buffer(sink.out), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) fail("the response does not parse back: " + ec.message(), &req);
  if (used != sink.out.size()) fail("the response carries bytes past its end", &req);
  const auto type = res[http::field::content_type];
  if (type.find("json") != std::string_view::npos && !res.body().empty() &&
      !nlohmann::json::accept(res.body())) {
    fail("a JSON content type with a body that is not JSON", &req);
  }
  if (type.find("xml") != std::string_view::npos && !api::route53::well_formed(res.body())) {
    fail("an XML content type with a body that is not one well-formed XML document", &req);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ApiState state;
  const api::HttpConfig config;
  ByteStream stream({reinterpret_cast<const char*>(data), size});
  beast::flat_buffer buffer;
  auto open = std::make_shared<const int>(0);  // the connection, as HttpSession's open_

  struct Sent {
    api::Request req;
    int answers = 0;
  };
  std::vector<std::unique_ptr<Sent>> sent;
  for (std::size_t i = 0; i < kMaxRequests; ++i) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(config.body_limit);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    // Any error ends the connection (HttpSession answers 400/413/431 itself, or just closes).
    if (ec) {
      if (kTrace && ec != http::error::end_of_stream)
        std::fprintf(stderr, "read: %s\n", ec.message().c_str());
      break;
    }
    api::Request req = parser.release();
    const bool keep_alive = req.keep_alive();
    sent.push_back(std::make_unique<Sent>(Sent{req, 0}));
    Sent* s = sent.back().get();
    try {
      state.router->handle(
          std::move(req),
          [s](api::Response res) {
            ++s->answers;
            check_response(s->req, res);
          },
          api::ConnectionToken(open));
    } catch (const std::exception& e) {
      fail(std::string("exception out of Router::handle: ") + e.what(), &s->req);
    }
    state.settle();
    state.sim.advance(kStep);
    state.settle();
    if (!keep_alive) break;
  }
  // Graceful stop: pending long polls are answered now (Router::shutdown, as the listener does).
  state.router->shutdown();
  state.settle();
  for (const auto& s : sent) {
    if (s->answers != 1) {
      fail("answered " + std::to_string(s->answers) + " times, not once", &s->req);
    }
  }
  open.reset();
  state.router->drop_closed();
  return 0;
}
