#!/usr/bin/python3
"""daemon_bench.py: the health prober measured through the real daemon.

N loopback endpoints (HTTP and TCP, served by `probe_bench --serve-only` in a child process) are
registered through the native API; then, for a bounded time:

  idle     the same N tasks registered without probes: daemon CPU and RSS over --window seconds,
           then dnsperf (max throughput) against the daemon's DNS port for --dns-seconds;
  probing  POST /v1/reset, the N tasks registered again with 1 s probes (http GET / for the HTTP
           half, tcp connect for the other half): after --warmup seconds, CPU and RSS over
           --window seconds (from /proc/<pid>/stat and /status), probe counters from GET /metrics,
           then the same dnsperf run while probing.

Lateness: the daemon's /metrics has no lateness metric yet, so it is read from the outside: the
probe rate over the window compared with N / interval (a late schedule probes less often), ticks
skipped because the previous probe was still running, and the spacing of each task's consecutive
results in `lastResults` (ms timestamps) compared with the interval.

Everything is on loopback (endpoints on 127.0.1.1 ... 127.0.8.250, the daemon on 127.0.0.1), the
endpoints exit by themselves (alarm) and with this script (PDEATHSIG); the daemon is stopped.

  bench/probes/run.sh daemon [--endpoints 2000] [--window 10] [--dns-seconds 5]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import emu  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return -1


def metrics(conn):
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionError):
        # Idle through 10,000 registrations, the keep-alive connection was closed: once more.
        conn.close()
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
    text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


class Api:
    """Keep-alive HTTP/1.1 client for the registrations (thousands of requests)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, expect=(200, 201)):
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status not in expect:
            raise RuntimeError("%s %s -> %d %s" % (method, path, resp.status, raw[:300]))
        return json.loads(raw) if raw else None


def start_endpoints(probe_bench, n, lifetime):
    proc = subprocess.Popen([probe_bench, "--serve-only", "--endpoints", str(n), "--seconds", str(lifetime)],
                            stdout=subprocess.PIPE, text=True)
    endpoints = []
    for line in proc.stdout:
        line = line.strip()
        if line == "end":
            break
        ip, port, kind = line.split()
        assert ip.startswith("127."), "loopback only"
        endpoints.append((ip, int(port), kind))
    if len(endpoints) != n:
        proc.kill()
        sys.exit("endpoints: %d of %d listening" % (len(endpoints), n))
    return proc, endpoints


def register_all(api, endpoints, services, hc_for):
    """Services bench-http-<k>.local / bench-tcp-<k>.local, endpoints spread over them."""
    names = {}
    for kind in ("http", "tcp"):
        for k in range(services // 2):
            name = "bench-%s-%d.local" % (kind, k)
            body = {"ttl": 5, "records": ["A"], "onUnhealthy": "withdraw"}
            hc = hc_for(kind)
            if hc:
                body["healthCheck"] = hc
            api.call("PUT", "/v1/services/" + name, body)
            names.setdefault(kind, []).append(name)
    t0 = time.monotonic()
    counters = {"http": 0, "tcp": 0}
    for ip, port, kind in endpoints:
        pool = names[kind]
        name = pool[counters[kind] % len(pool)]
        counters[kind] += 1
        api.call("POST", "/v1/services/%s/tasks" % name, {"ip": ip, "port": port}, expect=(201,))
    return [n for kind in ("http", "tcp") for n in names[kind]], time.monotonic() - t0


def measure_window(pid, seconds, conn, ep_pid):
    m0 = metrics(conn)
    c0, w0, e0 = cpu_seconds(pid), time.monotonic(), cpu_seconds(ep_pid)
    hwm = 0
    rss = []
    deadline = w0 + seconds
    while time.monotonic() < deadline:  # samples RSS through the window (a bounded wait, not sync)
        rss.append(status_kib(pid, "VmRSS:"))
        time.sleep(0.25)
    c1, w1, e1 = cpu_seconds(pid), time.monotonic(), cpu_seconds(ep_pid)
    m1 = metrics(conn)
    hwm = status_kib(pid, "VmHWM:")
    return {"cpu": (c1 - c0) / (w1 - w0), "wall": w1 - w0, "rss_kib": max(rss), "hwm_kib": hwm,
            "endpoints_cpu": (e1 - e0) / (w1 - w0),
            "m0": m0, "m1": m1}


def dnsperf(port, query_file, seconds, pid, conn, ep_pid):
    m0 = metrics(conn)
    c0, w0, e0 = cpu_seconds(pid), time.monotonic(), cpu_seconds(ep_pid)
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", query_file, "-l", str(seconds),
                          "-c", "4", "-q", "200"], capture_output=True, text=True, timeout=seconds + 30)
    c1, w1, e1 = cpu_seconds(pid), time.monotonic(), cpu_seconds(ep_pid)
    m1 = metrics(conn)
    qps = re.search(r"Queries per second:\s+([\d.]+)", out.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", out.stdout)
    lat = re.search(r"Average Latency \(s\):\s+([\d.]+)", out.stdout)
    answered = re.search(r"Queries completed:\s+(\d+)", out.stdout)
    if not qps:
        raise RuntimeError("dnsperf: %s %s" % (out.stdout[-500:], out.stderr[-500:]))
    n = int(answered.group(1)) if answered else 0
    return {"qps": float(qps.group(1)), "lost": int(lost.group(1)) if lost else -1,
            "avg_latency_ms": float(lat.group(1)) * 1000 if lat else -1,
            "cpu_us_per_query": (c1 - c0) / n * 1e6 if n else -1, "cpu": (c1 - c0) / (w1 - w0),
            "endpoints_cpu": (e1 - e0) / (w1 - w0), "probes": delta(m0, m1, w1 - w0)}


def delta(m0, m1, wall):
    def d(key):
        return m1.get(key, 0) - m0.get(key, 0)
    return {"started": d("ecs_emulator_probes_total"), "timeouts": d("ecs_emulator_probe_timeouts_total"),
            "skipped": d("ecs_emulator_probe_skipped_ticks_total"), "wall": wall}


def parse_time(s):
    return datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def result_spacing(api, interval_s):
    tasks = api.call("GET", "/v1/tasks")["tasks"]
    gaps, fails, unhealthy, details = [], 0, 0, {}
    for t in tasks:
        times = [parse_time(r["time"]) for r in t["lastResults"]]
        gaps += [(b - a - interval_s) * 1000 for a, b in zip(times, times[1:])]
        for r in t["lastResults"]:
            if r["outcome"] != "PASS":
                fails += 1
                details[r["detail"]] = details.get(r["detail"], 0) + 1
        unhealthy += t["healthStatus"] == "UNHEALTHY"
    return gaps, fails, unhealthy, details, len(tasks)


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", default=os.path.join(ROOT, "build", "emulator", "ecs-emulator"))
    ap.add_argument("--probe-bench", required=True)
    ap.add_argument("--endpoints", type=int, default=2000)
    ap.add_argument("--services", type=int, default=40)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--timeout", default="500ms")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--dns-seconds", type=int, default=5)
    a = ap.parse_args()
    if not 1 <= a.endpoints <= 10000 or a.window > 120 or a.dns_seconds > 60:
        sys.exit("bounded: --endpoints 1..10000, --window <= 120, --dns-seconds <= 60")
    if not shutil.which("dnsperf"):
        sys.exit("dnsperf not found (Debian: apt-get install dnsperf)")
    interval_s = float(a.interval[:-2]) / 1000 if a.interval.endswith("ms") else float(a.interval.rstrip("s"))
    lifetime = int(a.warmup + 2 * a.window + 2 * a.dns_seconds + 300)

    emu.BINARY = a.daemon
    workdir = tempfile.mkdtemp(prefix="daemon-bench-")
    ep_proc, endpoints = start_endpoints(a.probe_bench, a.endpoints, lifetime)
    d = emu.Daemon(args=["--log-level", "warn"], workdir=workdir)
    try:
        d.start()
        pid = d.proc.pid
        api = Api(d.api_port)
        mconn = http.client.HTTPConnection("127.0.0.1", d.api_port, timeout=30)
        rss_empty = status_kib(pid, "VmRSS:")

        # ---- idle: the same tasks, no probes
        names, reg_idle = register_all(api, endpoints, a.services, lambda kind: None)
        query_file = os.path.join(workdir, "queries.txt")
        with open(query_file, "w") as f:
            for n in names:
                f.write("%s A\n" % n)
        idle = measure_window(pid, min(a.window, 5.0), mconn, ep_proc.pid)
        dns_idle = dnsperf(d.dns_port, query_file, a.dns_seconds, pid, mconn, ep_proc.pid)

        # ---- probing
        api.call("POST", "/v1/reset")
        hc = {"http": {"type": "http", "path": "/health", "interval": a.interval, "timeout": a.timeout, "retries": 3},
              "tcp": {"type": "tcp", "interval": a.interval, "timeout": a.timeout, "retries": 3}}
        _, reg_probe = register_all(api, endpoints, a.services, lambda kind: hc[kind])
        t_warm = time.monotonic() + a.warmup
        while time.monotonic() < t_warm:  # fixed warm-up period (a measurement pause, not sync)
            time.sleep(0.1)
        probing = measure_window(pid, a.window, mconn, ep_proc.pid)
        dns_probe = dnsperf(d.dns_port, query_file, a.dns_seconds, pid, mconn, ep_proc.pid)
        gaps, fails, unhealthy, details, ntasks = result_spacing(api, interval_s)
        m0, m1 = probing["m0"], probing["m1"]
        started = m1["ecs_emulator_probes_total"] - m0["ecs_emulator_probes_total"]
        timeouts = m1["ecs_emulator_probe_timeouts_total"] - m0["ecs_emulator_probe_timeouts_total"]
        skipped = m1["ecs_emulator_probe_skipped_ticks_total"] - m0["ecs_emulator_probe_skipped_ticks_total"]
        expected = a.endpoints / interval_s * probing["wall"]
        watched = m1.get("ecs_emulator_probes_watched", -1)

        print("ecs-emulator daemon, %d endpoints (%d http, %d tcp) on loopback, %s probes, timeout %s, "
              "%d services" % (a.endpoints, sum(e[2] == "http" for e in endpoints),
                               sum(e[2] == "tcp" for e in endpoints), a.interval, a.timeout, a.services))
        print("binary               %s" % a.daemon)
        print("registration         %.2f s for %d tasks (no probes), %.2f s (with probes)"
              % (reg_idle, a.endpoints, reg_probe))
        print("RSS                  empty %.1f MiB; idle with %d tasks %.1f MiB; probing %.1f MiB (peak %.1f MiB)"
              % (rss_empty / 1024, a.endpoints, idle["rss_kib"] / 1024, probing["rss_kib"] / 1024,
                 probing["hwm_kib"] / 1024))
        print("CPU                  idle %.1f %% of a core; probing %.1f %% of a core over %.1f s "
              "(the endpoints' process: %.1f %%)"
              % (100 * idle["cpu"], 100 * probing["cpu"], probing["wall"], 100 * probing["endpoints_cpu"]))
        print("probes               %d watched, %.0f started (%.0f /s, %.1f %% of the %.0f scheduled), "
              "%d timeouts, %d skipped ticks" % (watched, started, started / probing["wall"],
                                                  100 * started / expected, expected, timeouts, skipped))
        print("results              %d tasks, %d unhealthy, %d failed results in lastResults %s"
              % (ntasks, unhealthy, fails, json.dumps(details) if details else ""))
        print("result spacing       gap - interval over %d gaps: p50 %+.1f ms, p99 %+.1f ms, max %+.1f ms, "
              "min %+.1f ms, mean %+.2f ms" % (len(gaps), pct(gaps, 0.5), pct(gaps, 0.99), pct(gaps, 1.0),
                                                pct(gaps, 0.0), statistics.fmean(gaps) if gaps else float("nan")))
        for label, r in (("DNS idle", dns_idle), ("DNS probing", dns_probe)):
            p = r["probes"]
            print("%-20s %.0f QPS, avg latency %.3f ms, lost %d, daemon CPU %.1f us/query (%.0f %% of a core); "
                  "meanwhile %.0f probes/s, %d timeouts, %d skipped ticks; endpoints' process %.0f %% of a core"
                  % (label, r["qps"], r["avg_latency_ms"], r["lost"], r["cpu_us_per_query"], 100 * r["cpu"],
                     p["started"] / p["wall"], p["timeouts"], p["skipped"], 100 * r["endpoints_cpu"]))
        print("DNS probing / idle   %.1f %%" % (100 * dns_probe["qps"] / dns_idle["qps"]))
        print("note                 dnsperf, the endpoints and the daemon share %d CPUs" % os.cpu_count())
    finally:
        try:
            code = d.stop()
            if code not in (0, None):
                print("daemon exit code %s" % code, file=sys.stderr)
        finally:
            ep_proc.kill()
            ep_proc.wait()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
