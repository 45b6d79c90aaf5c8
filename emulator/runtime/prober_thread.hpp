#pragma once
// ProberThread: the health probes on their own thread, with their own io_context, clock, timer
// queue, AsioProbeExecutor and HealthMonitor, so 10,000 probes a second do not compete with the
// API, the commits and the DNS snapshots on the owner's loop. The owner talks to it only through
// control() (ProbeControl: queued commands one way, batched reports the other way); the Registry
// stays single-threaded.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "emulator/health/asio_probe_executor.hpp"
#include "emulator/runtime/probe_control.hpp"

namespace emu::runtime {

struct ProberOptions {
  health::ProbeExecutorOptions executor;
  Duration flush_every = kProbeFlushEvery;  ///< see ProbeControl
};

/// Starts the prober thread at construction; the destructor stops it (in-flight probes are
/// abandoned, command probes killed and reaped) and joins it.
class ProberThread {
 public:
  /// `owner` runs `deliver` (see ProbeControl::Deliver); it must outlive this object.
  ProberThread(boost::asio::io_context& owner, ProbeControl::Deliver deliver,
               ProberOptions options = {});
  ~ProberThread();
  ProberThread(const ProberThread&) = delete;
  ProberThread& operator=(const ProberThread&) = delete;

  /// The owner's side of the handoff.
  ProbeControl& control() { return control_; }

 private:
  void run();

  const ProberOptions options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  ProbeControl control_;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace emu::runtime
