#!/usr/bin/python3
"""scale_bench.py: how the daemon's costs grow with the number of tasks (issue 11, item 6).

Side by side, in one run, on loopback only (10.x addresses are data, never contacted):

  registrations  for each size N (default 100, 1000, 10000): a fixture of N tasks in bench.local
                 applied into a fresh state file (time to ready = fixture apply + start), the
                 daemon restarted on that state file (time to ready = load + first snapshot;
                 with --restarts N, N restarts: the median, min and max),
                 then R registrations (default 2000) into the same service from 8 keep-alive
                 clients (native API): rate and latency, as a ratio to the smallest N.
  dns cpu        on the largest state: dnsperf at a fixed query rate for S seconds, idle and then
                 while 500 registrations + deregistrations per second land (API clients, paced),
                 for --dns-rounds rounds (default 3); CPU of the DNS threads (named dns-udp,
                 /proc/<pid>/task/*/schedstat, nanoseconds) per query, and the median of the
                 rounds' churn / idle ratios.

Bounded: sizes x (two starts + R requests) and 2 x rounds x S seconds of dnsperf; --max-seconds
overall.

  bench/scale/run.sh [--sizes 100,1000,10000] [--registrations 2000] [--dns-seconds 5]
                     [--dns-rounds 3] [--restarts N]
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import load  # noqa: E402  (bench/api/load.py: request())



def fixture(path, n):
    tasks = [{"ip": "10.50.%d.%d" % (i // 250, i % 250 + 1), "port": 80} for i in range(n)]
    with open(path, "w") as f:
        json.dump({"namespaces": [{"name": "local"}],
                   "services": [{"name": "bench", "namespace": "local", "records": ["A", "SRV"],
                                 "tasks": tasks}]}, f)


class Daemon:
    def __init__(self, binary, workdir, state, fixtures=()):
        self.binary, self.workdir, self.state, self.fixtures = binary, workdir, state, fixtures

    def start(self, timeout=60):
        ready = os.path.join(self.workdir, "ready.json")
        if os.path.exists(ready):
            os.unlink(ready)
        cmd = [self.binary, "serve", "--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
               "--state", self.state, "--ready-file", ready, "--log-level", "warn"]
        for f in self.fixtures:
            cmd += ["--fixtures", f]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECS_EMULATOR_")}
        self.log = open(os.path.join(self.workdir, "daemon.log"), "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited %s" % self.proc.returncode)
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError("daemon not ready in %ss" % timeout)
            time.sleep(0.0005)
        self.ready_ms = (time.perf_counter() - t0) * 1000
        with open(ready) as f:
            info = json.load(f)
        self.api_port = int(info["api"].rsplit(":", 1)[1])
        self.dns_port = int(info["dns"].rsplit(":", 1)[1])
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def register(port, clients, total, tag):
    """`total` registrations from `clients` keep-alive clients; returns (rate, p50, p99, errors)."""
    per = total // clients
    lat, errors = [], []

    async def one(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in range(per):
                body = json.dumps({"ip": "10.%d.%d.%d" % (tag + n, i // 250, i % 250 + 1),
                                   "port": 2000}).encode()
                t0 = time.perf_counter()
                status, _ = await load.request(reader, writer, "POST", "/v1/services/bench/tasks",
                                               body)
                lat.append(time.perf_counter() - t0)
                if status != 201:
                    errors.append(status)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(clients)))
    took = time.perf_counter() - t0
    return len(lat) / took, load.pct(lat, 0.5), load.pct(lat, 0.99), len(errors)


def thread_cpu(pid, name):
    """CPU seconds of the threads called `name`, from schedstat's nanosecond runtime (stat's
    utime+stime are 10 ms ticks: a few ticks decided a 1.1x ratio)."""
    total = 0.0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0]) / 1e9
        except FileNotFoundError:
            pass
    return total


def dnsperf(port, qfile, seconds, qps):
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-l",
                          str(seconds), "-Q", str(qps), "-c", "4"],
                         capture_output=True, text=True, timeout=seconds + 30)
    sent = completed = 0
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("Queries completed:"):
            completed = int(line.split()[2])
        if line.startswith("Queries sent:"):
            sent = int(line.split()[2])
    if completed == 0:
        raise RuntimeError("dnsperf: %s %s" % (out.stdout[-400:], out.stderr[-400:]))
    return sent, completed


def churn(port, rate, stop):
    """Registers and deregisters at `rate` changes per second in total until `stop` is set."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done, i, ids = 0, 0, []
    t0 = time.perf_counter()
    while not stop.is_set():
        due = t0 + done / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        if ids and i % 2 == 1:
            conn.request("DELETE", "/v1/tasks/" + ids.pop(0))
            conn.getresponse().read()
        else:
            body = json.dumps({"ip": "10.60.%d.%d" % (i // 250 % 250, i % 250 + 1), "port": 3000})
            conn.request("POST", "/v1/services/bench/tasks", body)
            resp = conn.getresponse()
            payload = resp.read()
            if resp.status == 201:
                ids.append(json.loads(payload)["taskId"])
        i += 1
        done += 1
    conn.close()
    return done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--registrations", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--dns-seconds", type=int, default=5)
    ap.add_argument("--dns-qps", type=int, default=5000)
    ap.add_argument("--dns-rounds", type=int, default=3,
                    help="idle/churn rounds of the DNS CPU measure (median ratio)")
    ap.add_argument("--churn", type=int, default=500, help="registrations+deregistrations per s")
    ap.add_argument("--restarts", type=int, default=1,
                    help="restarts per size on the state file (restart-ready: median, min, max)")
    ap.add_argument("--max-seconds", type=float, default=300)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    signal.alarm(int(a.max_seconds))
    tmp = tempfile.mkdtemp(prefix="emu-scale-")
    rows = []
    try:
        for n in sizes:
            work = os.path.join(tmp, str(n))
            os.makedirs(work)
            fx = os.path.join(work, "fixture.json")
            state = os.path.join(work, "state.db")
            fixture(fx, n)
            d = Daemon(a.daemon, work, state, [fx]).start()
            fixture_ms = d.ready_ms
            d.stop()
            samples = []
            for i in range(max(1, a.restarts)):
                if i:
                    d.stop()
                d = Daemon(a.daemon, work, state).start()
                samples.append(d.ready_ms)
            restart_ms = (statistics.median(samples), min(samples), max(samples))
            rate, p50, p99, errors = asyncio.run(
                register(d.api_port, a.clients, a.registrations, 100))
            d.stop()
            rows.append((n, fixture_ms, restart_ms, rate, p50, p99, errors))

        print("registrations: %d per size, %d keep-alive clients, state file" %
              (a.registrations, a.clients))
        if a.restarts > 1:
            print("restart-ready: median of %d restarts on the state file (min-max beside)" %
                  a.restarts)
        print("%8s %14s %14s %12s %10s %8s %8s %7s %8s" %
              ("tasks", "fixture+ready", "restart-ready", "min-max", "reg/s", "p50 ms", "p99 ms",
               "errors", "ratio"))
        base = rows[0][3]
        for n, fx_ms, rs_ms, rate, p50, p99, errors in rows:
            print("%8d %11.0f ms %11.0f ms %12s %10.0f %8.2f %8.2f %7d %7.2fx" %
                  (n, fx_ms, rs_ms[0], "%.0f-%.0f" % rs_ms[1:], rate, p50, p99, errors,
                   rate / base))

        if shutil.which("dnsperf"):
            n = sizes[-1]
            work = os.path.join(tmp, str(n))
            d = Daemon(a.daemon, work, os.path.join(work, "state.db")).start()
            qfile = os.path.join(tmp, "queries.txt")
            with open(qfile, "w") as f:
                f.write("bench.local A\nbench.local SRV\nnope.local A\n")
            results = []
            # Idle and churn alternate for --dns-rounds rounds: a ratio of one round is at the
            # mercy of whatever else the machine does in those seconds; the median of the
            # rounds' ratios is the figure.
            for rnd in range(a.dns_rounds):
                for phase in ("idle", "churn"):
                    stop = threading.Event()
                    worker, churned = None, [0]
                    if phase == "churn":
                        def run():
                            churned[0] = churn(d.api_port, a.churn, stop)
                        worker = threading.Thread(target=run)
                        worker.start()
                        time.sleep(0.5)  # the churn is running before the queries start
                    c0 = thread_cpu(d.proc.pid, "dns-udp")
                    t0 = time.perf_counter()
                    sent, completed = dnsperf(d.dns_port, qfile, a.dns_seconds, a.dns_qps)
                    cpu = thread_cpu(d.proc.pid, "dns-udp") - c0
                    wall = time.perf_counter() - t0
                    if worker:
                        stop.set()
                        worker.join()
                    results.append((rnd, phase, completed, cpu, wall, churned[0]))
            d.stop()
            print()
            print("dns cpu: %d-task state, dnsperf -Q %d for %d s (bench.local A/SRV, NXDOMAIN), "
                  "%d rounds of idle then churn" % (n, a.dns_qps, a.dns_seconds, a.dns_rounds))
            print("%6s %8s %10s %12s %14s %12s %8s" % ("round", "phase", "queries", "dns cpu s",
                                                       "us/query", "changes/s", "ratio"))
            ratios = []
            for i in range(0, len(results), 2):
                idle, busy = results[i], results[i + 1]
                idle_per = idle[3] / idle[2] if idle[2] else 0
                for rnd, phase, completed, cpu, wall, churned in (idle, busy):
                    per = cpu / completed if completed else 0
                    print("%6d %8s %10d %12.3f %14.2f %12.0f %7.2fx" %
                          (rnd, phase, completed, cpu, per * 1e6, churned / max(wall, 1e-9),
                           per / idle_per if idle_per else 0))
                if idle_per and busy[2]:
                    ratios.append(busy[3] / busy[2] / idle_per)
            if ratios:
                print("dns cpu churn / idle: median %.2fx (min %.2fx, max %.2fx; thread CPU from "
                      "schedstat, ns)" % (statistics.median(ratios), min(ratios), max(ratios)))
        else:
            print("dnsperf not found (Debian: apt-get install dnsperf): dns cpu skipped")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
