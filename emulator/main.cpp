// ecs-emulator: argv/env -> DaemonConfig -> Daemon::run(). The only try/catch that exits.

#include <cstdio>
#include <exception>

#include "emulator/runtime/daemon.hpp"
#include "emulator/runtime/daemon_config.hpp"

int main(int argc, char** argv) {
  using namespace emu::runtime;
  auto config = parse_config(argc, argv);
  if (!config) {
    std::fprintf(stderr, "ecs-emulator: %s\n", config.error().message.c_str());
    return 2;
  }
  if (config->command == "help") {
    std::fputs(help_text().c_str(), stdout);
    return 0;
  }
  if (config->command == "version") {
    std::printf("ecs-emulator %s\n", version());
    return 0;
  }
  if (config->command == "healthcheck") return healthcheck(*config);
  try {
    return Daemon(std::move(*config)).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecs-emulator: fatal: %s\n", e.what());
    return 1;
  }
}
