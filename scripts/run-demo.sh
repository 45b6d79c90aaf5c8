#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs the build dependencies (as root), builds, and
# runs ecs-emulator with the article's demo fixture (game-server.local -> 10.0.0.1-3).
# Extra arguments go to the daemon, e.g. `scripts/run-demo.sh --log-format json`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then scripts/install-deps.sh; else sudo scripts/install-deps.sh; fi
scripts/build.sh -DEMU_BUILD_TESTS=OFF >/dev/null
exec build/emulator/ecs-emulator serve --state :memory: --fixtures fixtures/game-server.json "$@"
