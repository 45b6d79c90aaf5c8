#!/bin/sh
# Cost against state size (issue 11 item 6): registration rate at 100 / 1,000 / 10,000 tasks,
# ready time (fixture apply; restart on the state file), DNS CPU per query idle vs under churn.
# Loopback only; bounded. Arguments go to scale_bench.py, e.g.
#   bench/scale/run.sh [path/to/ecs-emulator] --sizes 100,1000,10000 --registrations 2000
#   [--restarts 9]  (restart-ready as the median of 9 restarts, min-max beside)
set -eu
BIN=build/emulator/ecs-emulator
case "${1:-}" in -*|"") ;; *) BIN=$1; shift ;; esac
exec /usr/bin/python3 "$(dirname "$0")/scale_bench.py" --daemon "$BIN" "$@"
