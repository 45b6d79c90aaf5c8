#include "emulator/health/probe_supervisor.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

// Everything below runs between fork and _exit in a child of a multi-threaded process: only
// async-signal-safe calls (signal-safety(7)) and plain loops over stack buffers.

namespace emu::health {

namespace {

// The supervisor's descriptors: 0 /dev/null, 1 and 2 the output pipe, 3 the status pipe.
constexpr int kStatusFd = 3;
constexpr int kFirstFree = 4;
// Rounds of "a child exists that no listing shows" before giving up on it (see reap_all).
constexpr int kMaxBlindRounds = 1000;

void report(int fd, SupervisorStage stage, int error, int wait_status) {
  const SupervisorReport r{stage, error, wait_status};
  while (::write(fd, &r, sizeof r) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void fail(int fd, SupervisorStage stage, int error) {
  report(fd, stage, error, 0);
  ::_exit(1);
}

// Closes every descriptor from `first` up: the daemon's sockets and files (most of them are not
// close-on-exec) are none of the probe's business.
void close_from(int first) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) return;
#endif
  // Before Linux 5.9: close them one by one, up to the limit.
  struct rlimit limit {};
  if (::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit) != 0) limit.rlim_cur = 1024;
  for (rlim_t fd = static_cast<rlim_t>(first); fd < limit.rlim_cur; ++fd) {
    ::close(static_cast<int>(fd));
  }
}

// True when `pid` is a child of this process (exited or not): waitid answers ECHILD otherwise.
// Every pid is checked before a kill, so a wrong listing (a /proc of another pid namespace)
// can never make us kill a stranger.
bool is_my_child(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

// Calls f(pid) for each number in the text read from `fd` ("12 345 6789 ").
template <typename F>
void for_each_number(int fd, F&& f) {
  char buf[512];
  long value = 0;
  bool have = false;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        value = value * 10 + (buf[i] - '0');
        have = true;
      } else if (have) {
        f(static_cast<pid_t>(value));
        value = 0;
        have = false;
      }
    }
  }
  if (have) f(static_cast<pid_t>(value));
}

// The slow way: every /proc/<pid>/stat whose ppid (field 4, after the parenthesised comm) is us.
template <typename F>
bool scan_proc_for_children(F&& f) {
  const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  const pid_t self = ::getpid();
  alignas(8) char entries[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, entries, sizeof entries);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      // glibc's dirent64 is the kernel's linux_dirent64.
      const auto* entry = reinterpret_cast<const struct dirent64*>(entries + off);
      off += entry->d_reclen;
      const char* name = entry->d_name;
      if (*name < '1' || *name > '9') continue;
      char path[48] = "/proc/";
      std::size_t len = 6;
      bool numeric = true;
      for (const char* c = name; *c && len < sizeof path - 6; ++c, ++len) {
        numeric = numeric && *c >= '0' && *c <= '9';
        path[len] = *c;
      }
      if (!numeric) continue;
      for (const char* c = "/stat"; *c; ++c) path[len++] = *c;
      path[len] = '\0';
      const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char stat[256];
      const ssize_t got = ::read(fd, stat, sizeof stat - 1);
      ::close(fd);
      if (got <= 0) continue;
      // comm may contain ')' and spaces: the state follows the last ')'.
      ssize_t paren = got - 1;
      while (paren >= 0 && stat[paren] != ')') --paren;
      if (paren < 0 || paren + 4 >= got) continue;
      long ppid = 0;
      for (ssize_t i = paren + 4; i < got && stat[i] >= '0' && stat[i] <= '9'; ++i) {
        ppid = ppid * 10 + (stat[i] - '0');
      }
      if (ppid != self) continue;
      long pid = 0;
      for (const char* c = name; *c; ++c) pid = pid * 10 + (*c - '0');
      f(static_cast<pid_t>(pid));
    }
  }
  ::close(dir);
  return true;
}

// Calls f(pid) for every child of this single-threaded process: /proc/thread-self/children
// (CONFIG_PROC_CHILDREN, on in the common distribution kernels), else a scan of /proc. Either may
// miss a child that is being reparented to us right now; the caller loops until none is left.
// False when /proc cannot be read at all.
template <typename F>
bool for_each_child(bool slow, F&& f) {
  auto checked = [&](pid_t pid) {
    if (pid > 0 && is_my_child(pid)) f(pid);
  };
  if (!slow) {
    const int fd = ::open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      for_each_number(fd, checked);
      ::close(fd);
      return true;
    }
  }
  return scan_proc_for_children(checked);
}

// SIGKILLs and reaps every descendant. Killing a child reparents its own children to us (we are
// the subreaper), so this goes down the tree one generation per round, until waitpid says
// ECHILD. Returns the command's status if it is reaped here.
void reap_all(pid_t command, bool& command_done, int& command_status) {
  bool slow = false;
  int blind = 0;
  for (;;) {
    int killed = 0;
    const bool listed = for_each_child(slow, [&](pid_t pid) {
      ::kill(pid, SIGKILL);
      ++killed;
    });
    int status = 0;
    const pid_t r = ::waitpid(-1, &status, killed > 0 ? 0 : WNOHANG);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;  // ECHILD: nobody is left
    }
    if (r == command) {
      command_status = status;
      command_done = true;
    }
    if (r == 0) {
      // A live child no listing showed: one being reparented to us, or the fast listing missed
      // it. Look the slow way; without /proc at all there is nothing more to do.
      if (!listed || ++blind > kMaxBlindRounds) return;
      slow = true;
    }
  }
}

// In the command's process, after fork: its own session, then execve like execvp(3) would, over
// the candidates the daemon resolved from the probe's PATH. Reports errno on the exec pipe.
[[noreturn]] void exec_command(const SupervisorPlan& plan, int exec_fd) {
  ::setsid();  // its own session and group: no controlling terminal, kill(-pid) reaches its jobs
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int error = ENOENT;
  bool denied = false;
  for (const char* const* file = plan.files; *file; ++file) {
    ::execve(*file, plan.argv, plan.envp);
    error = errno;
    if (error == EACCES) {
      denied = true;  // execvp keeps looking, and reports EACCES if nothing else is found
    } else if (error != ENOENT && error != ENOTDIR && error != ESTALE && error != ENODEV &&
               error != ETIMEDOUT) {
      denied = false;
      break;
    }
  }
  if (denied) error = EACCES;
  while (::write(exec_fd, &error, sizeof error) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

}  // namespace

void run_supervisor(const SupervisorPlan& plan) {
  // If the daemon's thread dies, SIGTERM: handled below like a cancel. It may already be gone.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != plan.parent) ::_exit(1);

  // Default dispositions for all: an ignored signal stays ignored across execve, and an ignored
  // SIGCHLD would let the kernel reap our children before we see their status. Every signal stays
  // blocked here; SIGCHLD and SIGTERM are taken with sigwaitinfo (blocked signals are queued even
  // when their default action is to ignore them).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);

  // Descriptors: first out of the way (>= 10), then into place, then close everything else.
  const int status = ::fcntl(plan.status_fd, F_DUPFD, 10);
  if (status < 0) fail(plan.status_fd, SupervisorStage::SetupFailed, errno);
  const int out = ::fcntl(plan.out_fd, F_DUPFD, 10);
  if (out < 0) fail(status, SupervisorStage::SetupFailed, errno);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null < 0) fail(status, SupervisorStage::SetupFailed, errno);
  if (::dup2(null, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0 ||
      ::dup2(status, kStatusFd) < 0) {
    fail(status, SupervisorStage::SetupFailed, errno);
  }
  ::fcntl(kStatusFd, F_SETFD, FD_CLOEXEC);  // the supervisor's, not the command's
  close_from(kFirstFree);

  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail(kStatusFd, SupervisorStage::SetupFailed, errno);
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) fail(kStatusFd, SupervisorStage::SetupFailed, errno);
  const pid_t command = ::fork();
  if (command < 0) fail(kStatusFd, SupervisorStage::ForkFailed, errno);
  if (command == 0) exec_command(plan, exec_pipe[1]);

  // The exec pipe closes on a successful execve (O_CLOEXEC), or carries its errno.
  ::close(exec_pipe[1]);
  int exec_error = 0;
  ssize_t n = 0;
  while ((n = ::read(exec_pipe[0], &exec_error, sizeof exec_error)) < 0 && errno == EINTR) {
  }
  ::close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof exec_error)) {
    int st = 0;
    while (::waitpid(command, &st, 0) < 0 && errno == EINTR) {
    }
    report(kStatusFd, SupervisorStage::ExecFailed, exec_error, st);
    ::_exit(127);
  }

  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, SIGTERM);
  bool command_done = false;
  int command_status = 0;
  while (!command_done) {
    siginfo_t info{};
    const int sig = ::sigwaitinfo(&wanted, &info);
    if (sig == SIGTERM) break;  // timeout, cancel, daemon shutdown or death
    if (sig != SIGCHLD) continue;
    // Reap what exited; the command only after its group is killed (WNOWAIT first: until it is
    // reaped, its pid and group id cannot be reused).
    for (;;) {
      siginfo_t who{};
      if (::waitid(P_ALL, 0, &who, WEXITED | WNOHANG | WNOWAIT) != 0 || who.si_pid == 0) break;
      if (who.si_pid == command) {
        ::kill(-command, SIGKILL);  // its background jobs go with it
        while (::waitpid(command, &command_status, 0) < 0 && errno == EINTR) {
        }
        command_done = true;
        break;
      }
      int ignored = 0;
      ::waitpid(who.si_pid, &ignored, 0);  // an orphan reparented to us that finished
    }
  }
  if (!command_done) ::kill(-command, SIGKILL);  // unreaped: the group id is still its own
  reap_all(command, command_done, command_status);

  report(kStatusFd, SupervisorStage::Ran, 0, command_status);
  if (WIFEXITED(command_status)) ::_exit(WEXITSTATUS(command_status));
  ::_exit(WIFSIGNALED(command_status) ? 128 + WTERMSIG(command_status) : 1);
}

}  // namespace emu::health
