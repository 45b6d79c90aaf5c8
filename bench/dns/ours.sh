#!/usr/bin/env bash
# Runs ecs-emulator as the harness's "ours" server: turns BENCH_ZONE_JSON ({"name.": [ip...]})
# into a native fixture (one service per name, TTL from BENCH_ZONE_META) and serves it on
# 127.0.0.1:$BENCH_PORT. Started (and stopped) by dns-peers.sh through OURS_CMD.
set -euo pipefail
BIN=${EMU_BIN:?EMU_BIN must point to the ecs-emulator binary}
fixture=$BENCH_WORKDIR/fixture.json
/usr/bin/python3 - "$BENCH_ZONE_JSON" "$BENCH_ZONE_META" "$fixture" <<'PY'
import json, sys
zone, meta, out = sys.argv[1:4]
records = json.load(open(zone))
ttl = json.load(open(meta)).get("ttl", 10)
services = []
for name, ips in records.items():
    label, ns = name.rstrip(".").split(".", 1)
    services.append({"name": label, "namespace": ns, "ttl": ttl, "records": ["A"],
                     "tasks": [{"ip": ip} for ip in ips]})
json.dump({"namespaces": [{"name": "local"}], "services": services}, open(out, "w"))
PY
exec "$BIN" serve --dns-listen "127.0.0.1:$BENCH_PORT" --api-listen 127.0.0.1:0 --state :memory: \
  --fixtures "$fixture" --log-level warn
