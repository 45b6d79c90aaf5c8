#!/usr/bin/env bash
# bench/dns: ecs-emulator side by side with Knot and NSD (and the harness's `null` responder, the
# kernel's floor) in ONE run, same zone, same dnsperf load: QPS, p50/p99 latency at a fixed rate,
# and server CPU time per answered query. Compare only within one run (shared, noisy machines).
#
#   bench/dns/run.sh                 # knot nsd null ours, pinned mode, 3 rounds
#   RUNS=1 DURATION=3 bench/dns/run.sh knot ours
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
EMU_BIN=${EMU_BIN:-$root/build/emulator/ecs-emulator}
[ -x "$EMU_BIN" ] || { echo "build first (scripts/build.sh): $EMU_BIN missing" >&2; exit 1; }
export EMU_BIN
export OURS_CMD="$here/ours.sh"
export OURS_VERSION=$("$EMU_BIN" --version | awk '{print $2}')
export MODES=${MODES:-pinned}
export RESULTS_MD=${RESULTS_MD:-$root/bench/dns/results-latest.md}
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(knot nsd null ours)
exec "$here/dns-peers.sh" "${servers[@]}"
