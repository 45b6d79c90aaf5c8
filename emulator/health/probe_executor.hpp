#pragma once
// ProbeExecutor: the seam between the health policy (HealthMonitor) and the I/O that runs a
// probe. AsioProbeExecutor is the real one; tests use FakeProbeExecutor
// (tests/support/fake_probe_executor.hpp), which completes through the TimerQueue.

#include <cstdint>
#include <functional>

#include "emulator/core/time.hpp"
#include "emulator/health/probe.hpp"

namespace emu::health {

/// Runs probes asynchronously.
class ProbeExecutor {
 public:
  using Callback = std::function<void(ProbeResult)>;
  /// Names one attempt for cancel(); never 0.
  using AttemptId = std::uint64_t;

  virtual ~ProbeExecutor() = default;

  /// Starts one probe. Calls `done` exactly once, never from inside run() (Asio's rule for
  /// handlers). `timeout` bounds the attempt: past it, the executor stops the I/O (kills a
  /// command's process group) and reports a failure.
  virtual AttemptId run(const ProbeSpec& spec, Duration timeout, Callback done) = 0;

  /// Abandons an attempt: stops its I/O (kills a command's process group). `done` is still called
  /// once, later, with a failure; a no-op for an attempt that already finished.
  virtual void cancel(AttemptId id) = 0;
};

}  // namespace emu::health
