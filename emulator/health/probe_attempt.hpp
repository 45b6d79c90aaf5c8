#pragma once
// ProbeAttempt: one running probe inside AsioProbeExecutor (internal). Owns the one-shot
// completion; each probe type implements do_start/do_stop. The executor owns the deadlines (one
// timer for all its attempts) and calls expire() when an attempt's timeout has passed.
// Kept alive by its own pending handlers (shared_from_this), like a Beast session.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "emulator/core/time.hpp"
#include "emulator/health/probe.hpp"

namespace emu::health {

/// Base of the per-type attempts (http, tcp, grpc, command).
class ProbeAttempt : public std::enable_shared_from_this<ProbeAttempt> {
 public:
  using Done = std::function<void(ProbeResult)>;

  /// `done` is posted to `io` exactly once, unless the attempt is abandoned.
  ProbeAttempt(boost::asio::io_context& io, ProbeSpec spec, Duration timeout, Done done);
  virtual ~ProbeAttempt() = default;
  ProbeAttempt(const ProbeAttempt&) = delete;
  ProbeAttempt& operator=(const ProbeAttempt&) = delete;

  /// Starts the I/O.
  void start() { do_start(); }
  /// The timeout has passed: cancel("timeout after <timeout>").
  void expire();
  /// The timeout the attempt was started with.
  Duration timeout() const { return timeout_; }
  /// Stops the I/O; the attempt then finishes as a failure with `why` as its detail.
  void cancel(std::string why);
  /// Shutdown: stops the I/O synchronously and never calls done.
  void abandon();
  /// True once the result is decided.
  bool finished() const { return finished_; }

 protected:
  /// Starts the I/O; must end in finish() (also on errors detected at once).
  virtual void do_start() = 0;
  /// Stops the I/O after cancel(); must still lead to finish() (now or after a reap).
  virtual void do_stop() = 0;
  /// Stops the I/O synchronously for abandon(); defaults to do_stop().
  virtual void do_abandon() { do_stop(); }
  /// Decides the result once; later calls are ignored. After cancel(), the result is a failure
  /// with the cancel reason as detail (output captured so far is kept).
  void finish(ProbeResult result);

  boost::asio::io_context& io_;
  const ProbeSpec spec_;
  const Duration timeout_;

 private:
  Done done_;
  bool finished_ = false;
  std::optional<std::string> stop_reason_;
};

/// The spec's ip:port, or nullopt when ip is not an address literal.
std::optional<boost::asio::ip::tcp::endpoint> endpoint_of(const ProbeSpec& spec);
/// `ip:port` / `[ip6]:port` for Host headers and :authority.
std::string authority_of(const ProbeSpec& spec);

/// What connect_probe_socket learned at once.
struct ProbeConnect {
  enum class State {
    Connected,  ///< the handshake completed inside connect(2); `fd` is open
    Pending,    ///< still in progress; `fd` is open: wait for it to become writable
    Failed,     ///< refused, unreachable, or no socket; `error` says why, `fd` is -1
  };
  State state = State::Failed;
  int fd = -1;
  boost::system::error_code error;
};

/// Starts a TCP connect to `endpoint` without the event loop: a non-blocking socket with
/// SO_LINGER {on, 0} (closing it then sends a reset instead of a FIN, so a probe leaves no
/// TIME_WAIT socket behind: 10,000 probes a second would keep 600,000 of them; kubelet and
/// EaseProbe do the same), connect(2), then one poll(2) with no wait. On loopback the SYN,
/// SYN-ACK and ACK (or the reset) are processed inside connect(2), so nearly every probe knows
/// its result here, with no epoll registration and no wake-up of the loop; only a connect that
/// really waits (a full accept queue, a lost SYN) is Pending and handed to the reactor. A failing
/// setsockopt is ignored (the close is then an ordinary one).
ProbeConnect connect_probe_socket(const boost::asio::ip::tcp::endpoint& endpoint);

/// The error a finished non-blocking connect left on `fd` (SO_ERROR); empty when it connected.
boost::system::error_code connect_error(int fd);

/// "connection refused" from an error_code: the message in lower case after `what: `.
std::string describe_error(const char* what, const boost::system::error_code& ec);

/// True when an errno says the daemon itself ran out of a resource, so the probe says nothing
/// about the task: EMFILE/ENFILE (fd tables full), ENOBUFS/ENOMEM (kernel memory), EAGAIN (fork
/// and clone: the process limit; connect(2): the routing cache).
bool out_of_resources(int err);
/// The same for an error_code of the system category (what Asio reports for socket calls).
bool out_of_resources(const boost::system::error_code& ec);
/// The result of an I/O error: skipped (SkipReason::Resources) when the daemon is out of
/// resources, a failure otherwise; the detail is describe_error(what, ec) either way.
ProbeResult io_error(const char* what, const boost::system::error_code& ec);

}  // namespace emu::health
