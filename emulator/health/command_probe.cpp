#include "emulator/health/command_probe.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "emulator/health/probe_supervisor.hpp"

namespace emu::health {

namespace {

// Fallback exit polling when pidfd_open is unavailable (kernels before 5.3).
constexpr Duration kExitPoll{20};

// The PATH of a probe: Debian's default for root, whatever the daemon's is.
constexpr const char* kProbePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// A minimal environment plus the probe's variables (TASK_IP, TASK_PORT, ...), which may override
// PATH and HOME. Nothing of the daemon's own environment: it may hold credentials.
std::map<std::string, std::string> make_environment(
    const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env{{"PATH", kProbePath}, {"HOME", "/"}};
  for (const auto& [key, value] : extra) env[key] = value;
  return env;
}

// The files execvp(3) would try for `file`, in order, over the probe's PATH (not the daemon's):
// the name itself when it has a slash; an empty PATH entry is the current directory.
std::vector<std::string> exec_candidates(const std::string& file, const std::string& path) {
  if (file.find('/') != std::string::npos) return {file};
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = path.find(':', begin);
    std::string dir = path.substr(begin, end == std::string::npos ? end : end - begin);
    out.push_back((dir.empty() ? "." : dir) + "/" + file);
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// An errno of the daemon's own calls (pipe, fork): skipped when out of resources.
ProbeResult os_error(const char* what, int err) {
  return io_error(what, boost::system::error_code(err, boost::system::system_category()));
}

}  // namespace

CommandProbe::~CommandProbe() {
  reap_now();
  if (status_fd_ >= 0) ::close(status_fd_);
}

void CommandProbe::do_start() {
  if (spec_.argv.empty() || spec_.argv.front().empty()) {
    return finish(ProbeResult::fail("command: empty command"));
  }
  // Everything the supervisor needs is built now: after fork it may not allocate.
  const auto environment = make_environment(spec_.env);
  std::vector<std::string> env;
  for (const auto& [key, value] : environment) env.push_back(key + "=" + value);
  std::vector<std::string> args = spec_.argv;
  std::vector<std::string> files = exec_candidates(args.front(), environment.at("PATH"));
  auto argv = pointers(args);
  auto envp = pointers(env);
  auto filev = pointers(files);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return finish(os_error("command: pipe", errno));
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(out[0]);
    ::close(out[1]);
    return finish(os_error("command: pipe", err));
  }
  const SupervisorPlan plan{argv.data(), envp.data(), filev.data(), out[1], status[1], ::getpid()};
  // The supervisor starts with every signal blocked (it takes SIGCHLD and SIGTERM with
  // sigwaitinfo), so none of the daemon's handlers can run in it, not even right after fork.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) run_supervisor(plan);
  const int fork_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(out[1]);
  ::close(status[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(status[0]);
    return finish(os_error("command: fork", fork_error));
  }
  pid_ = pid;
  status_fd_ = status[0];
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  pipe_.assign(out[0]);
  const int pidfd = pidfd_open(pid_);
  if (pidfd >= 0) pidfd_.assign(pidfd);
  do_read();
  wait_exit();
}

void CommandProbe::do_read() {
  pipe_.async_read_some(
      boost::asio::buffer(chunk_),
      [self = self()](const boost::system::error_code& ec, std::size_t n) {
        if (ec) return;  // EOF, or closed on exit: the exit decides
        const std::size_t room = kMaxProbeOutput - std::min(kMaxProbeOutput, self->output_.size());
        self->output_.append(self->chunk_.data(), std::min(room, n));
        self->do_read();  // keep draining so the child never blocks on a full pipe
      });
}

void CommandProbe::wait_exit() {
  if (pidfd_.is_open()) {
    pidfd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [self = self()](const boost::system::error_code& ec) {
                        if (ec == boost::asio::error::operation_aborted && self->reaped_) return;
                        self->on_exit();
                      });
    return;
  }
  poll_timer_.expires_after(kExitPoll);
  poll_timer_.async_wait([self = self()](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted && self->reaped_) return;
    self->on_exit();
  });
}

bool CommandProbe::exited() const {
  siginfo_t info{};
  // WNOWAIT: look without reaping, so the pid stays ours (terminate() may still signal it).
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;  // reaped by someone else (SIGCHLD ignored): nothing left to wait for
  }
  return info.si_pid == pid_;
}

void CommandProbe::on_exit() {
  if (reaped_) return;
  if (!exited()) return wait_exit();
  // The supervisor exits only once the command and all its descendants are gone.
  int status = 0;
  pid_t r = 0;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  drain();
  boost::system::error_code ignored;
  pidfd_.close(ignored);
  ProbeResult result = judge(r == pid_ ? std::optional<int>(status) : std::nullopt);
  result.output = std::move(output_);
  finish(std::move(result));
}

ProbeResult CommandProbe::judge(std::optional<int> supervisor_status) {
  SupervisorReport report;
  ssize_t n = 0;
  while ((n = ::read(status_fd_, &report, sizeof report)) < 0 && errno == EINTR) {
  }
  ::close(status_fd_);
  status_fd_ = -1;

  // Without a report the supervisor was killed from outside; its own status tells how.
  std::optional<int> wait_status = supervisor_status;
  if (n == static_cast<ssize_t>(sizeof report)) {
    switch (report.stage) {
      case SupervisorStage::Ran:
        wait_status = report.wait_status;
        break;
      case SupervisorStage::ExecFailed: {
        std::string detail = "command: " + spec_.argv.front() + ": " + std::strerror(report.error);
        if (out_of_resources(report.error)) {
          return ProbeResult::skipped(SkipReason::Resources, std::move(detail));
        }
        ProbeResult result = ProbeResult::fail(std::move(detail));
        result.exit_code = report.error == ENOENT ? 127 : 126;  // what a shell reports
        return result;
      }
      case SupervisorStage::ForkFailed:
        return os_error("command: fork", report.error);
      case SupervisorStage::SetupFailed:
        return os_error("command: supervisor", report.error);
    }
  }
  ProbeResult result;
  if (!wait_status) {
    result = ProbeResult::fail("command: exit status lost");
  } else if (WIFEXITED(*wait_status)) {
    const int code = WEXITSTATUS(*wait_status);
    result =
        code == 0 ? ProbeResult::pass("exit 0") : ProbeResult::fail("exit " + std::to_string(code));
    result.exit_code = code;
  } else if (WIFSIGNALED(*wait_status)) {
    const int sig = WTERMSIG(*wait_status);
    result = ProbeResult::fail("killed by signal " + std::to_string(sig));
    result.exit_code = 128 + sig;  // as shells report it
  } else {
    result = ProbeResult::fail("command: unexpected wait status");
  }
  return result;
}

void CommandProbe::drain() {
  // Every writer is gone; what they wrote is already in the pipe. Read it without waiting.
  if (!pipe_.is_open()) return;
  for (;;) {
    const ssize_t n = ::read(pipe_.native_handle(), chunk_.data(), chunk_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const std::size_t room = kMaxProbeOutput - std::min(kMaxProbeOutput, output_.size());
    output_.append(chunk_.data(), std::min(room, static_cast<std::size_t>(n)));
  }
  boost::system::error_code ignored;
  pipe_.close(ignored);
}

void CommandProbe::terminate() {
  // Unreaped, so the pid is still the supervisor's. SIGTERM, not SIGKILL: it kills the tree.
  if (pid_ > 0 && !reaped_) ::kill(pid_, SIGTERM);
}

void CommandProbe::reap_now() {
  if (pid_ <= 0 || reaped_) return;
  terminate();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

void CommandProbe::do_stop() {
  if (pid_ <= 0 || reaped_) return finish(ProbeResult::fail("cancelled"));
  terminate();  // the exit watcher reaps the supervisor and finishes the attempt
}

void CommandProbe::do_abandon() {
  reap_now();
  boost::system::error_code ignored;
  pipe_.close(ignored);
  pidfd_.close(ignored);
  poll_timer_.cancel();
}

}  // namespace emu::health
