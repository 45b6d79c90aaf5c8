#pragma once
// CommandProbe: runs argv on the host (internal to the executor). The child gets its own session
// and process group (setsid), stdin from /dev/null, stdout+stderr into one pipe read
// asynchronously (first kMaxProbeOutput bytes kept, the rest drained). Exit 0 is healthy.
//
// No SIGCHLD: the exit is watched through a pidfd (pidfd_open, Linux 5.3+) registered with Asio;
// without pidfd support it falls back to polling waitid(WNOHANG) on a short timer. On exit, on
// timeout and on cancel the whole group gets SIGKILL *before* the leader is reaped (so the group
// id cannot have been reused), then the leader is reaped: no zombies, no leftovers.

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

  /// The child's pid while it runs (tests look it up in /proc); 0 before start or after reaping.
  pid_t pid() const { return reaped_ ? 0 : pid_; }

 private:
  void do_start() override;
  void do_stop() override;
  void do_abandon() override;
  void do_read();
  void wait_exit();
  void on_exit();
  bool exited() const;
  void kill_group();
  void drain();
  std::shared_ptr<CommandProbe> self() {
    return std::static_pointer_cast<CommandProbe>(shared_from_this());
  }

  pid_t pid_ = 0;
  bool reaped_ = false;
  std::optional<int> wait_status_;
  boost::asio::posix::stream_descriptor pipe_{io_};
  boost::asio::posix::stream_descriptor pidfd_{io_};
  boost::asio::steady_timer poll_timer_{io_};  // fallback without pidfd
  std::array<char, 4096> chunk_{};
  std::string output_;
};

}  // namespace emu::health
