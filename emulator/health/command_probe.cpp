#include "emulator/health/command_probe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

extern char** environ;

namespace emu::health {

namespace {

// Fallback exit polling when pidfd_open is unavailable (kernels before 5.3).
constexpr Duration kExitPoll{20};

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// The daemon's environment plus the probe's variables (TASK_IP, TASK_PORT, ...).
std::vector<std::string> make_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry{*e};
    const auto eq = entry.find('=');
    if (extra.count(entry.substr(0, eq))) continue;
    env.push_back(entry);
  }
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  return env;
}

// An errno of the daemon's own calls (pipe, spawn): skipped when out of resources.
ProbeResult os_error(const char* what, int err) {
  return io_error(what, boost::system::error_code(err, boost::system::system_category()));
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

CommandProbe::~CommandProbe() {
  if (pid_ > 0 && !reaped_) {
    kill_group();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
}

void CommandProbe::do_start() {
  if (spec_.argv.empty() || spec_.argv.front().empty()) {
    return finish(ProbeResult::fail("command: empty command"));
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return finish(os_error("command: pipe", errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own session and process group (so the group can be killed), default signal dispositions and
  // an empty mask whatever the daemon uses.
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = spec_.argv;
  std::vector<std::string> env = make_environment(spec_.env);
  auto argv = pointers(args);
  auto envp = pointers(env);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    // The daemon out of processes or memory (fork's EAGAIN, ENOMEM): nothing about the task.
    if (out_of_resources(rc)) return finish(os_error("command: spawn", rc));
    ProbeResult result =
        ProbeResult::fail("command: " + spec_.argv.front() + ": " + std::strerror(rc));
    result.exit_code = rc == ENOENT ? 127 : 126;  // what a shell reports
    return finish(std::move(result));
  }
  pid_ = pid;
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  pipe_.assign(fds[0]);
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
  // WNOWAIT: look without reaping, so the pid (and group id) stay ours until the group is killed.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;  // reaped by someone else (SIGCHLD ignored): nothing left to wait for
  }
  return info.si_pid == pid_;
}

void CommandProbe::on_exit() {
  if (reaped_) return;
  if (!exited()) return wait_exit();
  kill_group();  // leftovers of the group (background jobs) go with the leader
  int status = 0;
  pid_t r = 0;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (r == pid_) wait_status_ = status;
  drain();
  boost::system::error_code ignored;
  pidfd_.close(ignored);

  ProbeResult result;
  if (!wait_status_) {
    result = ProbeResult::fail("command: exit status lost");
  } else if (WIFEXITED(*wait_status_)) {
    const int code = WEXITSTATUS(*wait_status_);
    result =
        code == 0 ? ProbeResult::pass("exit 0") : ProbeResult::fail("exit " + std::to_string(code));
    result.exit_code = code;
  } else if (WIFSIGNALED(*wait_status_)) {
    const int sig = WTERMSIG(*wait_status_);
    result = ProbeResult::fail("killed by signal " + std::to_string(sig));
    result.exit_code = 128 + sig;  // as shells report it
  } else {
    result = ProbeResult::fail("command: unexpected wait status");
  }
  result.output = std::move(output_);
  finish(std::move(result));
}

void CommandProbe::drain() {
  // The leader is gone; what it wrote is already in the pipe. Read it without waiting.
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

void CommandProbe::kill_group() {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGKILL);
}

void CommandProbe::do_stop() {
  if (pid_ <= 0 || reaped_) return finish(ProbeResult::fail("cancelled"));
  kill_group();  // the exit watcher reaps it and finishes the attempt
}

void CommandProbe::do_abandon() {
  if (pid_ > 0 && !reaped_) {
    kill_group();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  boost::system::error_code ignored;
  pipe_.close(ignored);
  pidfd_.close(ignored);
  poll_timer_.cancel();
}

}  // namespace emu::health
