#pragma once
// The probe supervisor: the process between the daemon and a command probe (internal to
// CommandProbe). The daemon forks it; it makes itself a child subreaper (prctl(2)
// PR_SET_CHILD_SUBREAPER), forks the command into its own session, waits for it, then SIGKILLs
// and reaps every process left below it. A descendant that called setsid() or double-forked is
// reparented to the supervisor, not to init, so it cannot outlive the probe; kill(-pgid) alone
// misses those.
//
// It runs in a fork of a multi-threaded daemon, so it only makes async-signal-safe calls (raw
// syscalls, open/read/write/close, kill, waitpid, fork, execve, _exit: signal-safety(7)): no
// malloc, no std::string, no opendir. Everything it needs is prepared by the daemon before the
// fork, in a SupervisorPlan.
//
// Signals: it starts with every signal blocked (the daemon blocks them around fork), and waits
// for SIGCHLD and SIGTERM with sigwaitinfo. SIGTERM (the daemon's timeout or cancel, or
// PR_SET_PDEATHSIG when the daemon's thread dies) means: kill the command and everything below
// it now. The daemon never SIGKILLs the supervisor: that would orphan the escapees.
//
// Outcome: one SupervisorReport written to the status pipe just before it exits, after every
// descendant is gone. Its exit code mirrors the command (the code, or 128+N for signal N), for
// tools like strace; the report is what the daemon reads.

#include <sys/types.h>

namespace emu::health {

/// What the supervisor runs; every pointer points into memory the daemon prepared before fork.
struct SupervisorPlan {
  char* const* argv = nullptr;         ///< the command's argv, null-terminated
  char* const* envp = nullptr;         ///< its whole environment, null-terminated
  const char* const* files = nullptr;  ///< candidates to execve in order (PATH already applied)
  int out_fd = -1;                     ///< write end of the output pipe: stdout and stderr
  int status_fd = -1;                  ///< write end of the status pipe: one SupervisorReport
  pid_t parent = 0;                    ///< the daemon's pid (PR_SET_PDEATHSIG's race)
};

/// How far the supervisor got.
enum class SupervisorStage : int {
  Ran = 0,          ///< the command ran; wait_status is its waitpid status
  SetupFailed = 1,  ///< the supervisor could not set itself up (error: errno)
  ForkFailed = 2,   ///< fork of the command failed (error: errno; EAGAIN is the process limit)
  ExecFailed = 3,   ///< execve failed for every candidate (error: errno, as execvp reports it)
};

/// Written once to the status pipe (a pipe write of this size is atomic: PIPE_BUF).
struct SupervisorReport {
  SupervisorStage stage = SupervisorStage::SetupFailed;
  int error = 0;
  int wait_status = 0;
};

/// Runs in the forked child: supervises the command and exits. Never returns.
[[noreturn]] void run_supervisor(const SupervisorPlan& plan);

}  // namespace emu::health
