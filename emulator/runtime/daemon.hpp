#pragma once
// Daemon: builds the io_context, clocks, store, registry, probes, DNS and HTTP servers from a
// DaemonConfig and wires their callbacks. run() blocks until SIGTERM/SIGINT, then stops accepting,
// lets in-flight requests finish, closes the database and returns 0.

#include "emulator/runtime/daemon_config.hpp"

namespace emu::runtime {

class Daemon {
 public:
  explicit Daemon(DaemonConfig config) : config_(std::move(config)) {}
  /// Serves until a signal; returns the process exit code (0 clean, 1 startup failure).
  int run();

 private:
  DaemonConfig config_;
};

/// `ecs-emulator healthcheck`: GET /healthz on the API address; 0 when it answers 200.
int healthcheck(const DaemonConfig& config);

}  // namespace emu::runtime
