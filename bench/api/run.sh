#!/bin/sh
# Native API throughput and latency: starts the daemon (:memory: state, ephemeral loopback ports),
# runs bench/api/load.py against it, stops it.
#   bench/api/run.sh [path/to/ecs-emulator] [clients] [requests-per-client]
set -eu
BIN=${1:-build/emulator/ecs-emulator}
CLIENTS=${2:-64}
REQUESTS=${3:-100}
DIR=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
"$BIN" serve --dns-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --state :memory: \
  --ready-file "$DIR/ready.json" --log-level warn >"$DIR/log" 2>&1 &
PID=$!
i=0
while [ ! -s "$DIR/ready.json" ]; do
  i=$((i + 1)); [ $i -gt 200 ] && { cat "$DIR/log"; exit 1; }; sleep 0.05
done
PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"].rsplit(":",1)[1])' "$DIR/ready.json")
python3 "$(dirname "$0")/load.py" --port "$PORT" --clients "$CLIENTS" --requests "$REQUESTS"
kill -TERM "$PID"; wait "$PID" || true
