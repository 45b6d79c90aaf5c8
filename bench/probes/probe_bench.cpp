// probe_bench: N loopback endpoints (HTTP and TCP) probed every interval by the real
// AsioProbeExecutor + HealthMonitor, for a bounded time. Reports the prober's CPU, RSS, probe
// throughput, failures, probe durations and how late probes start compared with their schedule.
//
// The endpoints live in a forked child process (one Asio loop, minimal HTTP/1.1 answers), so the
// prober's CPU and RSS are measured alone. Loopback only: 127.0.<1..>.<1..250>, port 0.
//
//   probe_bench [--endpoints 2000] [--tcp-percent 50] [--seconds 30] [--interval-ms 1000]
//               [--timeout-ms 500] [--warmup-s 3] [--slack-ms 1] [--burst]
//       --burst: no staggering; --slack-ms: the timer driver's coalescing slack
//   probe_bench --serve-only --endpoints 2000 --seconds 120
//       only the endpoints, "ip port http|tcp" lines then "end" on stdout; used by
//       daemon_bench.py to probe them through the real daemon. Exits after --seconds.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "emulator/core/timer_queue.hpp"
#include "emulator/health/asio_probe_executor.hpp"
#include "emulator/health/health_monitor.hpp"
#include "emulator/timer/asio_timer_driver.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct Options {
  int endpoints = 2000;
  int tcp_percent = 50;
  int seconds = 30;
  int interval_ms = 1000;
  int timeout_ms = 500;
  int warmup_s = 3;
  bool burst = false;
  int slack_ms = static_cast<int>(emu::timer::AsioTimerDriver::kDefaultSlack.count());
  bool serve_only = false;  ///< only the endpoints: listing on stdout, exits after --seconds
};

struct Endpoint {
  std::string ip;
  std::uint16_t port = 0;
  bool http = true;
};

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string loopback(int i) {
  return "127.0." + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250);
}

// --- the endpoints (child process) ----------------------------------------------------------

void http_session(std::shared_ptr<tcp::socket> socket) {
  auto buffer = std::make_shared<asio::streambuf>(8192);
  asio::async_read_until(
      *socket, *buffer, "\r\n\r\n", [socket, buffer](boost::system::error_code ec, std::size_t) {
        if (ec) return;
        static const std::string kResponse =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        asio::async_write(*socket, asio::buffer(kResponse),
                          [socket](boost::system::error_code, std::size_t) {
                            boost::system::error_code ignored;
                            socket->shutdown(tcp::socket::shutdown_both, ignored);
                          });
      });
}

void accept_loop(std::shared_ptr<tcp::acceptor> acceptor, bool http) {
  acceptor->async_accept([acceptor, http](boost::system::error_code ec, tcp::socket socket) {
    if (!ec && http) http_session(std::make_shared<tcp::socket>(std::move(socket)));
    // tcp endpoints: accepting is the answer; the socket closes here
    accept_loop(acceptor, http);
  });
}

[[noreturn]] void serve(const Options& o, int out_fd) {
  asio::io_context io;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::string listing;
  for (int i = 0; i < o.endpoints; ++i) {
    const bool http = (i * 100 / o.endpoints) >= o.tcp_percent;
    const std::string ip = loopback(i);
    auto acceptor = std::make_shared<tcp::acceptor>(io);
    const tcp::endpoint ep{asio::ip::make_address(ip), 0};
    acceptor->open(ep.protocol());
    acceptor->bind(ep);
    acceptor->listen(1024);
    listing += ip + " " + std::to_string(acceptor->local_endpoint().port()) +
               (http ? " http\n" : " tcp\n");
    accept_loop(acceptor, http);
    acceptors.push_back(acceptor);
  }
  listing += "end\n";
  (void)!write(out_fd, listing.data(), listing.size());
  close(out_fd);
  io.run();
  _exit(0);
}

// --- the prober (parent) --------------------------------------------------------------------

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// user+sys CPU seconds of another process (the endpoints), from /proc/<pid>/stat.
double cpu_seconds_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

long status_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return -1;
}

/// Wraps the real executor to time each probe (start -> result).
class TimingExecutor final : public emu::health::ProbeExecutor {
 public:
  explicit TimingExecutor(ProbeExecutor& inner) : inner_(inner) {}
  AttemptId run(const emu::health::ProbeSpec& spec, emu::Duration timeout, Callback done) override {
    const auto start = std::chrono::steady_clock::now();
    return inner_.run(
        spec, timeout, [this, start, done = std::move(done)](emu::health::ProbeResult r) {
          if (recording) {
            durations_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count());
            if (!r.ok()) {
              ++failures;
              ++failure_details[r.detail];
            }
          }
          done(std::move(r));
        });
  }
  void cancel(AttemptId id) override { inner_.cancel(id); }

  bool recording = false;
  std::vector<long> durations_us;
  long failures = 0;
  std::map<std::string, long> failure_details;  ///< "timeout after 500ms", "connect: ..."

 private:
  ProbeExecutor& inner_;
};

struct NullSink final : emu::health::HealthSink {
  void on_probe_result(const std::string&, const emu::core::ProbeRecord&) override { ++results; }
  void on_health_changed(const std::string&, emu::core::Health h, std::string) override {
    if (h == emu::core::Health::Unhealthy) ++unhealthy;
  }
  long results = 0;
  long unhealthy = 0;
};

long percentile(std::vector<long> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--endpoints")
      o.endpoints = next();
    else if (a == "--tcp-percent")
      o.tcp_percent = next();
    else if (a == "--seconds")
      o.seconds = next();
    else if (a == "--interval-ms")
      o.interval_ms = next();
    else if (a == "--timeout-ms")
      o.timeout_ms = next();
    else if (a == "--warmup-s")
      o.warmup_s = next();
    else if (a == "--slack-ms")
      o.slack_ms = next();
    else if (a == "--burst")
      o.burst = true;
    else if (a == "--serve-only")
      o.serve_only = true;
    else {
      std::fprintf(stderr,
                   "usage: probe_bench [--endpoints N] [--tcp-percent P] [--seconds S] "
                   "[--interval-ms I] [--timeout-ms T] [--warmup-s W] [--slack-ms S] [--burst] "
                   "[--serve-only]\n");
      return 2;
    }
  }
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  if (o.serve_only) {
    // The endpoints alone, for daemon_bench.py: listing on stdout, then serve until the parent
    // dies or --seconds pass (bounded either way).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(static_cast<unsigned>(o.seconds));
    serve(o, STDOUT_FILENO);
  }

  int fds[2];
  if (pipe(fds) != 0) return 1;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    serve(o, fds[1]);
  }
  close(fds[1]);
  std::vector<Endpoint> endpoints;
  {
    FILE* in = fdopen(fds[0], "r");
    char ip[64];
    char kind[8];
    unsigned port = 0;
    while (std::fscanf(in, "%63s", ip) == 1 && std::strcmp(ip, "end") != 0) {
      if (std::fscanf(in, "%u %7s", &port, kind) != 2) break;
      endpoints.push_back({ip, static_cast<std::uint16_t>(port), std::strcmp(kind, "http") == 0});
    }
    std::fclose(in);
  }
  if (static_cast<int>(endpoints.size()) != o.endpoints) {
    std::fprintf(stderr, "listeners failed: %zu of %d\n", endpoints.size(), o.endpoints);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return 1;
  }

  asio::io_context io;
  emu::SteadyTimeSource clock;
  emu::TimerQueue timers;
  emu::timer::AsioTimerDriver driver{io, clock, timers, emu::Duration(o.slack_ms)};
  emu::health::AsioProbeExecutor real{io};
  TimingExecutor executor{real};
  NullSink sink;
  emu::health::HealthMonitor monitor{clock, timers, executor, sink};

  const long rss_before = status_kib("VmRSS:");
  const auto start = clock.now();
  for (int i = 0; i < o.endpoints; ++i) {
    emu::health::Target t;
    t.task_id = "task-" + std::to_string(i);
    t.ip = endpoints[i].ip;
    t.port = endpoints[i].port;
    t.check.type = endpoints[i].http ? emu::core::ProbeType::Http : emu::core::ProbeType::Tcp;
    t.check.path = "/health";
    t.check.interval = emu::Duration(o.interval_ms);
    t.check.timeout = emu::Duration(o.timeout_ms);
    t.check.retries = 3;
    // Real tasks start at different times: spread the first probes over one interval.
    const auto at = o.burst ? start : start + emu::Duration(o.interval_ms) * i / o.endpoints;
    timers.schedule(at, [&monitor, t] { monitor.watch(t); });
  }
  driver.start();

  io.run_for(std::chrono::seconds(o.warmup_s));
  const emu::health::MonitorStats warm = monitor.stats();
  executor.recording = true;
  const double cpu0 = cpu_seconds();
  const double endpoints_cpu0 = cpu_seconds_of(child);
  const double load0 = load_average();
  const auto wall0 = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(o.seconds));
  const double cpu = cpu_seconds() - cpu0;
  const double endpoints_cpu = cpu_seconds_of(child) - endpoints_cpu0;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const emu::health::MonitorStats s = monitor.stats();

  const auto started = s.started - warm.started;
  const double mean_late_ms =
      started ? static_cast<double>((s.total_lateness - warm.total_lateness).count()) /
                    static_cast<double>(started)
              : 0;
  std::printf("endpoints            %d (%d%% tcp, %s)\n", o.endpoints, o.tcp_percent,
              o.burst ? "all at once" : "staggered");
  std::printf(
      "interval / timeout   %d ms / %d ms, timer slack %d ms, measured %.1f s after %d s warm-up\n",
      o.interval_ms, o.timeout_ms, o.slack_ms, wall, o.warmup_s);
  std::printf(
      "probes               %lu started, %.0f /s, %zu results, %ld failed, %lu timeouts, %lu "
      "skipped ticks\n",
      static_cast<unsigned long>(started), static_cast<double>(started) / wall,
      executor.durations_us.size(), executor.failures,
      static_cast<unsigned long>(s.timeouts - warm.timeouts),
      static_cast<unsigned long>(s.skipped_ticks - warm.skipped_ticks));
  for (const auto& [detail, count] : executor.failure_details)
    std::printf("  failed              %ld x %s\n", count, detail.c_str());
  std::printf("probe duration       p50 %ld us, p99 %ld us, max %ld us\n",
              percentile(executor.durations_us, 0.5), percentile(executor.durations_us, 0.99),
              percentile(executor.durations_us, 1.0));
  std::printf("start lateness       mean %.2f ms, max %ld ms (whole run)\n", mean_late_ms,
              static_cast<long>(s.max_lateness.count()));
  std::printf("prober CPU           %.1f %% of one core (%.2f s user+sys)\n", 100.0 * cpu / wall,
              cpu);
  std::printf("endpoints' process   %.1f %% of one core (the listeners, a separate process)\n",
              100.0 * endpoints_cpu / wall);
  std::printf("prober RSS           %ld KiB (before watch: %ld KiB, peak %ld KiB)\n",
              status_kib("VmRSS:"), rss_before, status_kib("VmHWM:"));
  std::printf("unhealthy            %ld transitions\n", sink.unhealthy);
  std::printf("load average         %.2f at the start, %.2f at the end (%ld CPUs)\n", load0,
              load_average(), sysconf(_SC_NPROCESSORS_ONLN));

  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return 0;
}
