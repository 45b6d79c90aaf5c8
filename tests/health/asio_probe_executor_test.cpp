// AsioProbeExecutor against real servers on loopback only (127.0.0.x, port 0): a Beast HTTP
// server, a TCP listener, a Python gRPC health server, and real commands. No sleeps: the
// io_context runs until a condition holds, with a deadline.

#include "emulator/health/asio_probe_executor.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "emulator/core/timer_queue.hpp"
#include "emulator/health/health_monitor.hpp"
#include "emulator/health/probe_attempt.hpp"
#include "emulator/timer/asio_timer_driver.hpp"
#include "tests/support/run_until.hpp"

namespace emu::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using test::run_until;

/// One probe, run to completion.
ProbeResult run_probe(asio::io_context& io, ProbeExecutor& executor, const ProbeSpec& spec,
                      Duration timeout = 3s) {
  std::optional<ProbeResult> result;
  executor.run(spec, timeout, [&](ProbeResult r) { result = std::move(r); });
  EXPECT_TRUE(run_until(io, [&] { return result.has_value(); }));
  return result.value_or(ProbeResult::fail("test: no result"));
}

ProbeSpec spec_for(core::ProbeType type, const std::string& ip, std::uint16_t port) {
  ProbeSpec spec;
  spec.type = type;
  spec.task_id = "t";
  spec.ip = ip;
  spec.port = port;
  return spec;
}

ProbeSpec shell(const std::string& script) {
  ProbeSpec spec = spec_for(core::ProbeType::Command, "127.0.0.1", 8080);
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {{"TASK_IP", "127.0.0.1"}, {"TASK_PORT", "8080"}};
  return spec;
}

/// A tiny HTTP/1.1 server answering every request with `status` (or never, when silent).
class TinyHttpServer {
 public:
  TinyHttpServer(asio::io_context& io, const std::string& ip) : io_(io), acceptor_(io) {
    const tcp::endpoint endpoint{asio::ip::make_address(ip), 0};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port = acceptor_.local_endpoint().port();
    do_accept();
  }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : held_) s->close(ignored);
  }

  std::uint16_t port = 0;
  unsigned status = 200;
  bool silent = false;  // accept and never answer
  std::string last_target;
  std::string last_host;

 private:
  struct Session {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
  };

  void do_accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      if (silent) {
        held_.push_back(std::make_shared<tcp::socket>(std::move(socket)));
      } else {
        auto session = std::make_shared<Session>(std::move(socket));
        http::async_read(session->socket, session->buffer, session->request,
                         [this, session](boost::system::error_code ec, std::size_t) {
                           if (ec) return;
                           last_target = std::string(session->request.target());
                           last_host = std::string(session->request[http::field::host]);
                           session->response.result(status);
                           session->response.version(11);
                           // 1xx, 204 and 304 carry no body.
                           if (status >= 200 && status != 204 && status != 304) {
                             session->response.body() = "hello";
                           }
                           session->response.prepare_payload();
                           http::async_write(session->socket, session->response,
                                             [session](boost::system::error_code, std::size_t) {});
                         });
      }
      do_accept();
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> held_;
};

/// The Python gRPC health server (tests/health/grpc_health_server.py) as a child process.
class PythonGrpcServer {
 public:
  explicit PythonGrpcServer(const std::string& host) {
    int in[2], out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<std::string> args = {EMU_PYTHON, EMU_GRPC_HEALTH_SERVER, host};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    const std::string line = read_line(30s);  // importing grpc takes a while
    port = static_cast<std::uint16_t>(std::atoi(line.c_str()));
  }
  ~PythonGrpcServer() {
    kill();
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
  }
  /// Switches the answer (SERVING, NOT_SERVING, UNIMPLEMENTED) and waits for the ack.
  void set_mode(const std::string& mode) {
    const std::string line = mode + "\n";
    ASSERT_EQ(::write(to_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ASSERT_EQ(read_line(10s), "ok");
  }
  /// SIGKILL and reap.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  std::uint16_t port = 0;

 private:
  std::string read_line(std::chrono::milliseconds deadline) {
    std::string line;
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left <= 0ms) return line;
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return line;
      char c = 0;
      if (::read(from_, &c, 1) != 1) return line;
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  pid_t pid_ = 0;
  int to_ = -1;
  int from_ = -1;
};

/// The content of a /proc file, or nullopt when it is gone. Plain read(2): the process may exit
/// between open and read (ESRCH), which an ifstream turns into an exception.
std::optional<std::string> read_proc(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) content.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return content;
}

/// State letter from /proc/<pid>/stat, or nullopt when the pid is gone.
std::optional<char> proc_state(pid_t pid) {
  const auto content = read_proc("/proc/" + std::to_string(pid) + "/stat");
  if (!content) return std::nullopt;
  const auto paren = content->rfind(')');
  if (paren == std::string::npos || paren + 2 >= content->size()) return std::nullopt;
  return (*content)[paren + 2];
}

/// Zombie children of this test process (should always be none).
int zombie_children() {
  int zombies = 0;
  const std::string me = std::to_string(::getpid());
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string content = read_proc(entry.path() / "stat").value_or("");
    const auto paren = content.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(content.substr(paren + 2));
    char state = 0;
    std::string ppid;
    rest >> state >> ppid;
    if (ppid == me && state == 'Z') ++zombies;
  }
  return zombies;
}

/// A dead process: gone, or a zombie that is not ours to reap (reparented away from us).
bool dead(pid_t pid) {
  const auto s = proc_state(pid);
  return !s || *s == 'Z' || *s == 'X';
}

std::vector<pid_t> read_pids(const std::string& path) {
  std::ifstream in(path);
  std::vector<pid_t> pids;
  for (pid_t p; in >> p;) pids.push_back(p);
  return pids;
}

/// A shell snippet that starts `setsid sh -c 'BODY'` in the background (a new session: out of
/// the probe's process group), then waits until the escapee wrote its pid(s) to `file`.
std::string escapee(const std::string& file, const std::string& body = "exec sleep 300") {
  return "setsid sh -c 'echo $$ > " + file + ".tmp; mv " + file + ".tmp " + file + "; " + body +
         "' & while [ ! -s " + file + " ]; do sleep 0.01; done; ";
}

/// Removes a pid file at the end of a test, and SIGKILLs what it names if still there (only when
/// the test failed: an escapee would otherwise sleep on for minutes).
struct PidFile {
  explicit PidFile(std::string p) : path(std::move(p)) {}
  ~PidFile() {
    for (pid_t pid : read_pids(path)) {
      if (!dead(pid)) ::kill(pid, SIGKILL);
    }
    std::filesystem::remove(path);
  }
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  const std::string path;
};

/// Runs `io` until every pid is gone (not even a zombie: its reaper reaped it).
bool all_gone(asio::io_context& io, const std::vector<pid_t>& pids) {
  return run_until(io, [&] {
    for (pid_t p : pids) {
      if (proc_state(p)) return false;
    }
    return true;
  });
}

/// The escapees named in `pids` (exactly `count` of them) are gone, or go within the deadline.
void expect_gone(asio::io_context& io, const std::string& pids, std::size_t count = 1) {
  const auto ids = read_pids(pids);
  ASSERT_EQ(ids.size(), count);
  EXPECT_TRUE(all_gone(io, ids));
}

/// Fills this process's fd table under a lowered RLIMIT_NOFILE, so the next socket(), pipe() or
/// open() fails with EMFILE; the destructor closes them and restores the limit.
class FdExhaustion {
 public:
  FdExhaustion() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    struct rlimit low = saved_;
    low.rlim_cur = 256;  // far above what the test process holds, far below the usual limit
    ::setrlimit(RLIMIT_NOFILE, &low);
    for (;;) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      held_.push_back(fd);
    }
  }
  ~FdExhaustion() {
    for (int fd : held_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool exhausted() const { return !held_.empty() && ::open("/dev/null", O_RDONLY) < 0; }

 private:
  struct rlimit saved_ {};
  std::vector<int> held_;
};

class AsioProbeExecutorTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(zombie_children(), 0); }

  std::string temp_file(const std::string& name) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("emu-health-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove(path);
    return path.string();
  }

  asio::io_context io;
  AsioProbeExecutor executor{io};
};

// --- http -----------------------------------------------------------------------------------

TEST_F(AsioProbeExecutorTest, HttpAnswers200Then500ThenStops) {
  TinyHttpServer server{io, "127.0.0.2"};
  ProbeSpec spec = spec_for(core::ProbeType::Http, "127.0.0.2", server.port);
  spec.path = "/health?deep=1";
  ProbeResult r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Pass);
  EXPECT_EQ(r.detail, "http 200");
  EXPECT_EQ(server.last_target, "/health?deep=1");
  EXPECT_EQ(server.last_host, "127.0.0.2:" + std::to_string(server.port));

  server.status = 500;
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "http 500");

  server.stop();
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "connect: connection refused");
  EXPECT_EQ(executor.in_flight(), 0u);
}

TEST_F(AsioProbeExecutorTest, HttpStatusRanges) {
  TinyHttpServer server{io, "127.0.0.1"};
  const ProbeSpec spec = spec_for(core::ProbeType::Http, "127.0.0.1", server.port);
  for (const auto& [status, ok] : std::vector<std::pair<unsigned, bool>>{
           {200, true}, {204, true}, {302, true}, {399, true}, {404, false}, {503, false}}) {
    server.status = status;
    const ProbeResult r = run_probe(io, executor, spec);
    EXPECT_EQ(r.ok(), ok) << status;
    EXPECT_EQ(r.detail, "http " + std::to_string(status));
  }
}

TEST_F(AsioProbeExecutorTest, HttpTimeoutWhenTheServerNeverAnswers) {
  TinyHttpServer server{io, "127.0.0.1"};
  server.silent = true;
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult r =
      run_probe(io, executor, spec_for(core::ProbeType::Http, "127.0.0.1", server.port), 200ms);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "timeout after 200ms");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  server.stop();
}

TEST_F(AsioProbeExecutorTest, CallbackIsNeverInline) {
  bool called = false;
  executor.run(spec_for(core::ProbeType::Http, "not-an-ip", 80), 1s, [&](ProbeResult r) {
    called = true;
    EXPECT_EQ(r.detail, "http: bad address 'not-an-ip'");
  });
  EXPECT_FALSE(called);  // not from inside run()
  EXPECT_TRUE(run_until(io, [&] { return called; }));
}

// --- tcp ------------------------------------------------------------------------------------

TEST_F(AsioProbeExecutorTest, TcpListenerClosedDuringTheTest) {
  tcp::acceptor listener{io, tcp::endpoint{asio::ip::make_address("127.0.0.3"), 0}};
  const ProbeSpec spec =
      spec_for(core::ProbeType::Tcp, "127.0.0.3", listener.local_endpoint().port());
  ProbeResult r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Pass);
  EXPECT_EQ(r.detail, "tcp: connected");
  listener.close();
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "connect: connection refused");
}

TEST_F(AsioProbeExecutorTest, TcpProbeClosesWithAResetAndLeavesNoTimeWait) {
  // SO_LINGER 0: the probe's close is a reset, so the prober keeps no TIME_WAIT socket (10,000
  // probes a second would otherwise hold 600,000). The listener sees the reset.
  tcp::acceptor listener{io, tcp::endpoint{asio::ip::make_address("127.0.0.3"), 0}};
  const ProbeResult r = run_probe(
      io, executor, spec_for(core::ProbeType::Tcp, "127.0.0.3", listener.local_endpoint().port()));
  ASSERT_EQ(r.outcome, Outcome::Pass);
  // The connection is in the accept queue (the handshake completed) and the reset has arrived:
  // neither call blocks, and non-blocking mode makes sure of it.
  listener.non_blocking(true);
  tcp::socket accepted{io};
  boost::system::error_code ec;
  listener.accept(accepted, ec);
  ASSERT_FALSE(ec) << ec.message();
  accepted.non_blocking(true);
  std::array<char, 16> byte{};
  (void)accepted.read_some(asio::buffer(byte), ec);
  EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
}

/// A loopback listener whose accept queue is full (backlog 0, filled by connects nobody
/// accepts), so the next SYN is dropped and a connect really waits: the path where a probe's
/// connect is not decided inside connect(2) and goes to the event loop.
class FullAcceptQueue {
 public:
  FullAcceptQueue(asio::io_context& io, const char* ip) : listener_{io} {
    const tcp::endpoint at{asio::ip::make_address(ip), 0};
    listener_.open(at.protocol());
    listener_.bind(at);
    listener_.listen(0);
    port = listener_.local_endpoint().port();
    for (int i = 0; i < 8 && !full; ++i) {
      const ProbeConnect c = connect_probe_socket({at.address(), port});
      if (c.fd >= 0) fillers_.push_back(c.fd);
      full = c.state == ProbeConnect::State::Pending;
    }
  }
  ~FullAcceptQueue() { release(); }
  /// Empties the queue and drops the fillers, so the next SYN (a retransmission) is accepted.
  void release() {
    for (int fd : fillers_) ::close(fd);
    fillers_.clear();
    listener_.non_blocking(true);
    boost::system::error_code ec;
    for (;;) {
      tcp::socket accepted{listener_.get_executor()};
      listener_.accept(accepted, ec);
      if (ec) break;
    }
  }

  std::uint16_t port = 0;
  bool full = false;

 private:
  tcp::acceptor listener_;
  std::vector<int> fillers_;
};

TEST(ProbeConnectTest, LoopbackConnectsAndRefusalsAreDecidedInsideConnect) {
  asio::io_context io;
  tcp::acceptor listener{io, tcp::endpoint{asio::ip::make_address("127.0.0.3"), 0}};
  const tcp::endpoint at = listener.local_endpoint();
  ProbeConnect c = connect_probe_socket(at);
  EXPECT_EQ(c.state, ProbeConnect::State::Connected);
  ASSERT_GE(c.fd, 0);
  ::close(c.fd);
  listener.close();
  c = connect_probe_socket(at);
  EXPECT_EQ(c.state, ProbeConnect::State::Failed);
  EXPECT_EQ(c.fd, -1);
  EXPECT_EQ(c.error.value(), ECONNREFUSED);
}

TEST_F(AsioProbeExecutorTest, TcpAndHttpConnectsThatWaitTimeOut) {
  for (const auto type : {core::ProbeType::Tcp, core::ProbeType::Http}) {
    FullAcceptQueue queue{io, "127.0.0.3"};
    ASSERT_TRUE(queue.full);
    const ProbeResult r = run_probe(io, executor, spec_for(type, "127.0.0.3", queue.port), 300ms);
    EXPECT_EQ(r.outcome, Outcome::Fail);
    EXPECT_EQ(r.detail, "timeout after 300ms");
    EXPECT_EQ(executor.in_flight(), 0u);
  }
}

TEST_F(AsioProbeExecutorTest, TcpConnectThatWaitsPassesOnceTheQueueHasRoom) {
  // The probe's SYN is dropped while the queue is full; once there is room the kernel's
  // retransmission (about 1 s later) is accepted and the probe passes from the event loop.
  FullAcceptQueue queue{io, "127.0.0.3"};
  ASSERT_TRUE(queue.full);
  std::optional<ProbeResult> result;
  executor.run(spec_for(core::ProbeType::Tcp, "127.0.0.3", queue.port), 5s,
               [&](ProbeResult r) { result = std::move(r); });
  EXPECT_EQ(executor.in_flight(), 1u);
  queue.release();
  ASSERT_TRUE(run_until(
      io, [&] { return result.has_value(); }, 8s));
  EXPECT_EQ(result->outcome, Outcome::Pass) << result->detail;
  EXPECT_EQ(result->detail, "tcp: connected");
}

TEST_F(AsioProbeExecutorTest, EachAttemptTimesOutAtItsOwnDeadline) {
  // One timer for all attempts: a short timeout started after a long one still fires first, and
  // the long one keeps its own deadline.
  TinyHttpServer server{io, "127.0.0.1"};
  server.silent = true;
  const ProbeSpec spec = spec_for(core::ProbeType::Http, "127.0.0.1", server.port);
  std::optional<ProbeResult> slow;
  std::optional<ProbeResult> fast;
  executor.run(spec, 1s, [&](ProbeResult r) { slow = std::move(r); });
  executor.run(spec, 100ms, [&](ProbeResult r) { fast = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return fast.has_value(); }));
  EXPECT_EQ(fast->detail, "timeout after 100ms");
  EXPECT_FALSE(slow.has_value());
  EXPECT_EQ(executor.in_flight(), 1u);
  ASSERT_TRUE(run_until(io, [&] { return slow.has_value(); }));
  EXPECT_EQ(slow->detail, "timeout after 1s");
  EXPECT_EQ(executor.in_flight(), 0u);
  server.stop();
}

// --- grpc -----------------------------------------------------------------------------------

TEST_F(AsioProbeExecutorTest, GrpcServingThenNotServingThenKilled) {
  PythonGrpcServer server{"127.0.0.4"};
  ASSERT_NE(server.port, 0);
  ProbeSpec spec = spec_for(core::ProbeType::Grpc, "127.0.0.4", server.port);
  ProbeResult r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Pass) << r.detail;
  EXPECT_EQ(r.detail, "grpc: SERVING");

  spec.grpc_service = "game";  // optional service name
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.detail, "grpc: SERVING");

  server.set_mode("NOT_SERVING");
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "grpc: NOT_SERVING");

  spec.grpc_service = "other";
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_THAT(r.detail, StartsWith("grpc: status 5 (NOT_FOUND)"));

  server.set_mode("UNIMPLEMENTED");
  r = run_probe(io, executor, spec);
  EXPECT_THAT(r.detail, StartsWith("grpc: status 12 (UNIMPLEMENTED)"));

  server.set_mode("SERVING");
  spec.grpc_service = "";
  EXPECT_EQ(run_probe(io, executor, spec).outcome, Outcome::Pass);

  server.kill();
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "connect: connection refused");
}

TEST_F(AsioProbeExecutorTest, GrpcAgainstAnHttp1ServerFails) {
  TinyHttpServer server{io, "127.0.0.1"};
  const ProbeResult r =
      run_probe(io, executor, spec_for(core::ProbeType::Grpc, "127.0.0.1", server.port));
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_THAT(r.detail, StartsWith("grpc: "));
  server.stop();
}

// --- command --------------------------------------------------------------------------------

TEST_F(AsioProbeExecutorTest, CommandExitCodeAndOutputAreKept) {
  ProbeResult r = run_probe(io, executor, shell("echo out; echo err >&2; exit 0"));
  EXPECT_EQ(r.outcome, Outcome::Pass);
  EXPECT_EQ(r.detail, "exit 0");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "out\nerr\n");

  r = run_probe(io, executor, shell("echo failing; exit 3"));
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "exit 3");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "failing\n");
}

TEST_F(AsioProbeExecutorTest, CommandOutputIsCappedAt4KiB) {
  const ProbeResult r = run_probe(io, executor, shell("head -c 100000 /dev/zero | tr '\\0' a"));
  EXPECT_EQ(r.outcome, Outcome::Pass);  // the child is drained, never blocked by a full pipe
  EXPECT_EQ(r.output.size(), kMaxProbeOutput);
  EXPECT_EQ(r.output, std::string(kMaxProbeOutput, 'a'));
}

TEST_F(AsioProbeExecutorTest, CommandSeesTaskIpAndPort) {
  const ProbeResult r = run_probe(io, executor, shell("echo $TASK_IP:$TASK_PORT"));
  EXPECT_EQ(r.output, "127.0.0.1:8080\n");
}

TEST_F(AsioProbeExecutorTest, CmdRunsArgvDirectly) {
  ProbeSpec spec = shell("");
  spec.argv = {"false"};  // found on PATH
  ProbeResult r = run_probe(io, executor, spec);
  EXPECT_EQ(r.exit_code, 1);
  spec.argv = {"/nonexistent/check"};
  r = run_probe(io, executor, spec);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_THAT(r.detail, HasSubstr("No such file"));
}

TEST_F(AsioProbeExecutorTest, HangingCommandIsKilledWithItsGroup) {
  const std::string pids = temp_file("hang");
  // The shell leaves a grandchild in its process group, then hangs.
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult r = run_probe(
      io, executor, shell("sleep 60 & echo $$ $! > " + pids + "; echo started; wait"), 500ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.detail, "timeout after 500ms");
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_EQ(r.output, "started\n");  // what it printed before the kill is kept
  const auto ids = read_pids(pids);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(proc_state(ids[0]), std::nullopt);  // the leader is reaped: no zombie
  // The grandchild got SIGKILL with the group; its exit completes asynchronously.
  EXPECT_TRUE(run_until(io, [&] { return dead(ids[1]); }));
  std::filesystem::remove(pids);
}

TEST_F(AsioProbeExecutorTest, CancelKillsTheCommand) {
  const std::string pids = temp_file("cancel");
  std::optional<ProbeResult> result;
  const auto id = executor.run(shell("echo $$ > " + pids + "; exec sleep 60"), 60s,
                               [&](ProbeResult r) { result = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return read_pids(pids).size() == 1; }));
  const pid_t pid = read_pids(pids)[0];
  executor.cancel(id);
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->detail, "cancelled");
  EXPECT_EQ(proc_state(pid), std::nullopt);
  std::filesystem::remove(pids);
}

TEST_F(AsioProbeExecutorTest, ShutdownWithProbesInFlightKillsThem) {
  const std::string pids = temp_file("shutdown");
  bool called = false;
  {
    asio::io_context io2;
    AsioProbeExecutor executor2{io2};
    executor2.run(shell("sleep 60 & echo $$ $! > " + pids + "; wait"), 60s,
                  [&](ProbeResult) { called = true; });
    ASSERT_TRUE(run_until(io2, [&] { return read_pids(pids).size() == 2; }));
    io2.stop();  // the daemon's loop ends with the probe running
  }              // executor, then io_context, destroyed
  EXPECT_FALSE(called);
  const auto ids = read_pids(pids);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(proc_state(ids[0]), std::nullopt);
  EXPECT_TRUE(run_until(io, [&] { return dead(ids[1]); }));
  std::filesystem::remove(pids);
}

// --- command: nothing survives the probe ------------------------------------------------------

TEST_F(AsioProbeExecutorTest, EscapeeThatCalledSetsidDiesWhenTheProbePasses) {
  const PidFile guard{temp_file("setsid")};
  const std::string& pids = guard.path;
  // The escapee has a child of its own (in the escapee's new group): two generations to kill.
  // The probe passes once both pids are written (else the kill on exit can beat the second one).
  const ProbeResult r =
      run_probe(io, executor,
                shell(escapee(pids, "sleep 300 & echo $! >> " + pids + "; wait") +
                      "while [ $(wc -l < " + pids + ") -lt 2 ]; do sleep 0.01; done; exit 0"));
  EXPECT_EQ(r.outcome, Outcome::Pass) << r.detail;
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_TRUE(run_until(io, [&] { return read_pids(pids).size() == 2; }));
  expect_gone(io, pids, 2);
}

TEST_F(AsioProbeExecutorTest, DoubleForkedEscapeeDiesWhenTheProbeFails) {
  const PidFile guard{temp_file("double-fork")};
  const std::string& pids = guard.path;
  // daemon(3)'s pattern: a subshell forks the escapee and exits, the escapee is an orphan.
  const ProbeResult r = run_probe(io, executor, shell("(" + escapee(pids) + ") & wait; exit 3"));
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_EQ(r.exit_code, 3);
  expect_gone(io, pids);
}

TEST_F(AsioProbeExecutorTest, EscapeeDiesWhenTheProbeTimesOut) {
  const PidFile guard{temp_file("setsid-timeout")};
  const std::string& pids = guard.path;
  const ProbeResult r =
      run_probe(io, executor, shell(escapee(pids) + "echo started; exec sleep 300"), 500ms);
  EXPECT_EQ(r.detail, "timeout after 500ms");
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_EQ(r.output, "started\n");
  expect_gone(io, pids);
}

TEST_F(AsioProbeExecutorTest, EscapeeDiesWhenTheProbeIsCancelled) {
  const PidFile guard{temp_file("setsid-cancel")};
  const std::string& pids = guard.path;
  std::optional<ProbeResult> result;
  const auto id = executor.run(shell(escapee(pids) + "exec sleep 300"), 60s,
                               [&](ProbeResult r) { result = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return read_pids(pids).size() == 1; }));
  executor.cancel(id);
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->detail, "cancelled");
  expect_gone(io, pids);
}

TEST_F(AsioProbeExecutorTest, EscapeeDiesAtShutdown) {
  const PidFile guard{temp_file("setsid-shutdown")};
  const std::string& pids = guard.path;
  {
    asio::io_context io2;
    AsioProbeExecutor executor2{io2};
    executor2.run(shell(escapee(pids) + "exec sleep 300"), 60s, [](ProbeResult) {});
    ASSERT_TRUE(run_until(io2, [&] { return read_pids(pids).size() == 1; }));
    io2.stop();
  }  // the destructor returns once the supervisor has killed and reaped the tree
  const auto ids = read_pids(pids);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(proc_state(ids[0]), std::nullopt);
}

TEST_F(AsioProbeExecutorTest, EscapeeDiesWhenTheDaemonIsKilled) {
  // A stand-in daemon (a fork of this single-threaded test) starts the probe, then is SIGKILLed:
  // its destructors never run. The supervisor's PR_SET_PDEATHSIG still cleans up.
  const PidFile guard{temp_file("setsid-daemon-killed")};
  const std::string& pids = guard.path;
  const pid_t daemon = ::fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    asio::io_context io2;
    AsioProbeExecutor executor2{io2};
    executor2.run(shell(escapee(pids) + "exec sleep 300"), 60s, [](ProbeResult) {});
    io2.run_for(60s);
    ::_exit(0);
  }
  const bool started = run_until(io, [&] { return read_pids(pids).size() == 1; });
  ::kill(daemon, SIGKILL);
  ASSERT_EQ(::waitpid(daemon, nullptr, 0), daemon);
  ASSERT_TRUE(started);
  // The escapee's reaper is now init (or our subreaper): wait for it to be gone or a zombie.
  const pid_t pid = read_pids(pids)[0];
  EXPECT_TRUE(run_until(io, [&] { return dead(pid); }));
}

// --- command: what the command gets from the daemon -------------------------------------------

TEST_F(AsioProbeExecutorTest, CommandGetsAMinimalEnvironmentNotTheDaemons) {
  ::setenv("EMU_TEST_SECRET", "AKIA-do-not-leak", 1);
  const ProbeResult r = run_probe(io, executor, shell("env"));
  ::unsetenv("EMU_TEST_SECRET");
  EXPECT_EQ(r.outcome, Outcome::Pass);
  EXPECT_THAT(r.output, Not(HasSubstr("EMU_TEST_SECRET")));
  EXPECT_THAT(r.output, Not(HasSubstr("AKIA")));
  EXPECT_THAT(r.output, HasSubstr("TASK_IP=127.0.0.1\n"));
  EXPECT_THAT(r.output, HasSubstr("TASK_PORT=8080\n"));
  EXPECT_THAT(r.output,
              HasSubstr("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"));
  EXPECT_THAT(r.output, HasSubstr("HOME=/\n"));
}

TEST_F(AsioProbeExecutorTest, CommandIsLookedUpOnTheProbesPath) {
  const char* saved = std::getenv("PATH");
  const std::string daemon_path = saved ? saved : "";
  ::setenv("PATH", "/nonexistent", 1);  // the daemon's PATH does not matter
  ProbeSpec spec = shell("");
  spec.argv = {"true"};
  const ProbeResult r = run_probe(io, executor, spec);
  ::setenv("PATH", daemon_path.c_str(), 1);
  EXPECT_EQ(r.outcome, Outcome::Pass) << r.detail;
}

TEST_F(AsioProbeExecutorTest, CommandGetsNoneOfTheDaemonsDescriptors) {
  // Most of the daemon's sockets are not close-on-exec; the probe must not hold them.
  const int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  const std::string fd = std::to_string(leaky);
  const ProbeResult r = run_probe(
      io, executor,
      shell("if [ -e /proc/$$/fd/" + fd + " ]; then echo leaked; fi; readlink /proc/$$/fd/0"));
  ::close(leaky);
  EXPECT_EQ(r.output, "/dev/null\n");
}

TEST_F(AsioProbeExecutorTest, CommandProbesCanBeRefused) {
  asio::io_context io2;
  AsioProbeExecutor refusing{io2, ProbeExecutorOptions{.allow_commands = false}};
  const std::string marker = temp_file("refused");
  const ProbeResult r = run_probe(io2, refusing, shell("touch " + marker));
  EXPECT_EQ(r.outcome, Outcome::Skipped);
  EXPECT_EQ(r.skip_reason, SkipReason::CommandsDisabled);
  EXPECT_EQ(r.detail, "command probes are disabled (--allow-command-probes)");
  EXPECT_EQ(r.exit_code, std::nullopt);
  EXPECT_FALSE(std::filesystem::exists(marker));  // nothing was spawned
  // Other probes still run.
  tcp::acceptor listener{io2, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  EXPECT_EQ(run_probe(io2, refusing,
                      spec_for(core::ProbeType::Tcp, "127.0.0.1", listener.local_endpoint().port()))
                .outcome,
            Outcome::Pass);
}

// --- the daemon out of resources: skipped, not failed ----------------------------------------

TEST_F(AsioProbeExecutorTest, OutOfFileDescriptorsIsSkippedNotFailed) {
  tcp::acceptor listener{io, tcp::endpoint{asio::ip::make_address("127.0.0.6"), 0}};
  const std::uint16_t port = listener.local_endpoint().port();
  TinyHttpServer server{io, "127.0.0.6"};
  std::vector<ProbeResult> results;
  {
    FdExhaustion exhaustion;
    ASSERT_TRUE(exhaustion.exhausted());
    results.push_back(run_probe(io, executor, spec_for(core::ProbeType::Tcp, "127.0.0.6", port)));
    results.push_back(
        run_probe(io, executor, spec_for(core::ProbeType::Http, "127.0.0.6", server.port)));
    results.push_back(
        run_probe(io, executor, spec_for(core::ProbeType::Grpc, "127.0.0.6", server.port)));
    results.push_back(run_probe(io, executor, shell("exit 0")));
  }
  ASSERT_EQ(results.size(), 4u);
  for (const auto& r : results) {
    EXPECT_EQ(r.outcome, Outcome::Skipped) << r.detail;
    EXPECT_EQ(r.skip_reason, SkipReason::Resources) << r.detail;
  }
  EXPECT_EQ(results[0].detail, "connect: too many open files");
  EXPECT_EQ(results[1].detail, "connect: too many open files");
  EXPECT_EQ(results[3].detail, "command: pipe: too many open files");
  // With descriptors back, the same probes pass.
  EXPECT_EQ(run_probe(io, executor, spec_for(core::ProbeType::Tcp, "127.0.0.6", port)).outcome,
            Outcome::Pass);
  EXPECT_EQ(run_probe(io, executor, shell("exit 0")).outcome, Outcome::Pass);
  server.stop();
}

TEST(ProbeErrorTest, OnlyTheDaemonsOwnShortagesAreSkipped) {
  for (int err : {EMFILE, ENFILE, ENOBUFS, ENOMEM, EAGAIN}) {
    const ProbeResult r = io_error("connect", {err, boost::system::system_category()});
    EXPECT_EQ(r.outcome, Outcome::Skipped) << err;
    EXPECT_EQ(r.skip_reason, SkipReason::Resources) << err;
  }
  // The target's problems stay failures.
  for (int err : {ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET, EADDRNOTAVAIL}) {
    EXPECT_EQ(io_error("connect", {err, boost::system::system_category()}).outcome, Outcome::Fail)
        << err;
  }
  EXPECT_EQ(io_error("http: read", boost::asio::error::eof).outcome, Outcome::Fail);
}

// --- the monitor on real time and real probes -----------------------------------------------

struct LogSink final : HealthSink {
  void on_probe_result(const std::string&, const core::ProbeRecord& r) override {
    details.push_back(r.detail);
  }
  void on_health_changed(const std::string&, core::Health h, std::string reason) override {
    changes.emplace_back(h, std::move(reason));
  }
  void on_probes_skipped(const std::string&, SkipReason, const std::string&,
                         std::uint64_t) override {
    ++skipped;
  }
  std::size_t skipped = 0;
  std::vector<std::string> details;
  std::vector<std::pair<core::Health, std::string>> changes;
};

/// The monitor on real time over a real executor, driven by the daemon's timer driver.
struct RealMonitor {
  RealMonitor(asio::io_context& io, ProbeExecutor& executor)
      : driver{io, clock, timers}, monitor{clock, timers, executor, sink} {
    driver.start();
  }
  ~RealMonitor() { driver.stop(); }
  /// Watches one check (1 s timeout, 2 retries) and starts the timers.
  void watch(const std::string& id, core::ProbeType type, const std::string& ip, std::uint16_t port,
             Duration interval) {
    Target target;
    target.task_id = id;
    target.ip = ip;
    target.port = port;
    target.check.type = type;
    target.check.interval = interval;
    target.check.timeout = 1s;
    target.check.retries = 2;
    monitor.watch(target);
  }

  SteadyTimeSource clock;
  TimerQueue timers;
  timer::AsioTimerDriver driver;
  LogSink sink;
  HealthMonitor monitor;
};

TEST_F(AsioProbeExecutorTest, MonitorMarksARealServiceUnhealthyAndBack) {
  TinyHttpServer server{io, "127.0.0.5"};
  RealMonitor real{io, executor};
  auto& monitor = real.monitor;
  auto& sink = real.sink;
  real.watch("web-1", core::ProbeType::Http, "127.0.0.5", server.port, 100ms);
  ASSERT_TRUE(run_until(io, [&] { return monitor.state("web-1") == core::Health::Healthy; }));
  server.status = 503;
  ASSERT_TRUE(run_until(io, [&] { return monitor.state("web-1") == core::Health::Unhealthy; }));
  server.status = 200;
  ASSERT_TRUE(run_until(io, [&] { return monitor.state("web-1") == core::Health::Healthy; }));
  ASSERT_EQ(sink.changes.size(), 3u);
  EXPECT_EQ(sink.changes[0].second, "first successful probe (http 200)");
  EXPECT_EQ(sink.changes[1].second, "2 failed probes (http 503)");
  EXPECT_EQ(sink.changes[2].second, "successful probe (http 200)");
  monitor.unwatch("web-1");
  server.stop();
}

TEST_F(AsioProbeExecutorTest, MonitorKeepsAHealthyTaskHealthyWhileOutOfDescriptors) {
  // Issue 10: with the fd table full, TCP probes failed with EMFILE and a healthy task left DNS.
  tcp::acceptor listener{io, tcp::endpoint{asio::ip::make_address("127.0.0.7"), 0}};
  RealMonitor real{io, executor};
  auto& monitor = real.monitor;
  real.watch("tcp-1", core::ProbeType::Tcp, "127.0.0.7", listener.local_endpoint().port(), 20ms);
  ASSERT_TRUE(run_until(io, [&] { return monitor.state("tcp-1") == core::Health::Healthy; }));
  {
    FdExhaustion exhaustion;
    ASSERT_TRUE(exhaustion.exhausted());
    // Well past `retries` probes.
    ASSERT_TRUE(run_until(io, [&] { return monitor.stats().skipped_resources >= 5; }));
  }
  EXPECT_EQ(monitor.state("tcp-1"), core::Health::Healthy);
  ASSERT_EQ(real.sink.changes.size(), 1u);  // only the first success
  EXPECT_EQ(real.sink.skipped, 1u);         // one report for the whole shortage
  monitor.unwatch("tcp-1");
}

}  // namespace
}  // namespace emu::health
