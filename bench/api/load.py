"""Load generator for the native API: many concurrent keep-alive clients (asyncio, stdlib only).

Phase 1 registers tasks (POST /v1/services/bench/tasks, unique 10.x addresses: data only, never
contacted); phase 2 looks them up (GET /v1/tasks/{id}). Prints requests/s and p50/p99 latency per
phase. Bounded: --clients x --requests per phase, and --max-seconds overall.

    python3 bench/api/load.py --port 9080 --clients 64 --requests 100
"""
import argparse
import asyncio
import json
import time


async def request(reader, writer, method, path, body=b""):
    head = "%s %s HTTP/1.1\r\nHost: bench\r\nContent-Length: %d\r\n\r\n" % (method, path, len(body))
    writer.write(head.encode() + body)
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
    payload = await reader.readexactly(length) if length else b""
    return int(status_line.split()[1]), payload


async def client(n, args, phase, ids, lat, errors):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    try:
        for i in range(args.requests):
            t0 = time.perf_counter()
            if phase == "register":
                body = json.dumps({"ip": "10.%d.%d.%d" % (100 + n // 256, n % 256, i % 250 + 1),
                                   "port": 1000 + i // 250}).encode()
                status, payload = await request(reader, writer, "POST", "/v1/services/bench/tasks",
                                                body)
                if status == 201:
                    ids.append(json.loads(payload)["taskId"])
            else:
                status, _ = await request(reader, writer, "GET",
                                          "/v1/tasks/" + ids[(n * args.requests + i) % len(ids)])
            lat.append(time.perf_counter() - t0)
            if status not in (200, 201):
                errors.append(status)
    finally:
        writer.close()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=120)
    args = ap.parse_args()
    ids = []
    for phase in ("register", "lookup"):
        lat, errors = [], []
        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(
            *(client(n, args, phase, ids, lat, errors) for n in range(args.clients))),
            args.max_seconds)
        took = time.perf_counter() - t0
        print("%-9s %6d requests  %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  (%d clients)"
              % (phase, len(lat), len(lat) / took, pct(lat, 0.5), pct(lat, 0.99), len(errors),
                 args.clients))


if __name__ == "__main__":
    asyncio.run(main())
