#pragma once
// CommandProbe: runs argv on the host (internal to the executor), through a supervisor process
// (probe_supervisor.hpp) that puts the command in its own session with stdin from /dev/null and
// stdout+stderr into one pipe read asynchronously (first kMaxProbeOutput bytes kept, the rest
// drained), and kills every descendant when the command ends, even those that left its process
// group (setsid, double fork). Exit 0 is healthy.
//
// The command gets a fixed minimal environment (PATH, HOME=/) plus the probe's own variables
// (TASK_IP, TASK_PORT, ...), never the daemon's (which may hold AWS keys and tokens: SPEC
// section 12), and none of the daemon's descriptors.
//
// No SIGCHLD: the supervisor's exit is watched through a pidfd (pidfd_open, Linux 5.3+)
// registered with Asio; without pidfd support it falls back to polling waitid(WNOHANG) on a short
// timer. On timeout, on cancel and at shutdown the supervisor gets SIGTERM, kills the command's
// tree and exits; then it is reaped: no zombies, no leftovers. It is never SIGKILLed (that would
// orphan the escapees).
//
// The daemon being out of file descriptors or processes (pipe or fork failing with EMFILE,
// EAGAIN, ...) makes a skipped result, not a failure.

#include <sys/types.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <string>

#include "emulator/health/probe_attempt.hpp"

namespace emu::health {

/// One command run.
class CommandProbe final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;
  /// Kills and reaps a child still running (the io_context went away with the probe in flight).
  ~CommandProbe() override;

  /// The supervisor's pid while it runs; 0 before start or after reaping.
  pid_t pid() const { return reaped_ ? 0 : pid_; }

 private:
  void do_start() override;
  void do_stop() override;
  void do_abandon() override;
  void do_read();
  void wait_exit();
  void on_exit();
  bool exited() const;
  void terminate();
  void reap_now();
  ProbeResult judge(std::optional<int> supervisor_status);
  void drain();
  std::shared_ptr<CommandProbe> self() {
    return std::static_pointer_cast<CommandProbe>(shared_from_this());
  }

  pid_t pid_ = 0;  // the supervisor
  bool reaped_ = false;
  int status_fd_ = -1;  // read end of the supervisor's status pipe (one SupervisorReport)
  boost::asio::posix::stream_descriptor pipe_{io_};
  boost::asio::posix::stream_descriptor pidfd_{io_};
  boost::asio::steady_timer poll_timer_{io_};  // fallback without pidfd
  std::array<char, 4096> chunk_{};
  std::string output_;
};

}  // namespace emu::health
