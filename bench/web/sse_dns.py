#!/usr/bin/env python3
"""Does GET /v1/events/stream slow DNS? (issue 14). Loopback only, bounded (a few seconds per run).

Starts ecs-emulator with SERVICES services x 3 tasks (10.0.0.x: data only, never contacted), then
runs dnsperf against its DNS port at a fixed QPS for DURATION seconds, REPEAT times in each of two
setups that alternate: (a) tasks churn (health flips through PUT /v1/tasks/{id}/health at CHURN
changes/s) and no stream is open; (b) the same churn with CLIENTS SSE clients reading
/v1/events/stream (every client connected before dnsperf starts, and each counts the events it
gets). Prints the CPU time the DNS threads (named dns-udp) spent per answered query in each, and
the ratio (b)/(a): 1.0 means the streams cost DNS nothing. CPU per query, not QPS, so that other
load on the machine does not decide the result.
With --page, a third setup (c): the same churn with the web page open in headless Chromium on its
heaviest view (Services: every service's counts, re-read as the stream reports changes), so the
ratio (c)/(a) is what a page open on a laptop costs DNS. --services and --tasks size the state
(the issue's scale is --services 1000 --tasks 10).

  bench/web/sse_dns.py --binary build/emulator/ecs-emulator [--clients 20] [--churn 200]
  bench/web/sse_dns.py --binary build/emulator/ecs-emulator --services 1000 --tasks 10 --page
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def api(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--services", type=int, default=100)
    ap.add_argument("--tasks", type=int, default=3, help="tasks per service")
    ap.add_argument("--page", action="store_true", help="also measure with the web page open")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--qps", type=int, default=5000, help="dnsperf query rate")
    ap.add_argument("--churn", type=int, default=200, help="health changes per second")
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sse-dns-")
    services = [{"name": "svc%d" % i, "namespace": "local", "records": ["A"],
                 "tasks": [{"ip": "10.%d.%d.%d" % (1 + i // 250, i % 250, j), "port": 80}
                           for j in range(1, args.tasks + 1)]} for i in range(args.services)]
    fixture = os.path.join(work, "fixture.json")
    json.dump({"namespaces": [{"name": "local"}], "services": services}, open(fixture, "w"))
    queries = os.path.join(work, "queries.txt")
    with open(queries, "w") as f:
        for i in range(args.services):
            f.write("svc%d.local A\n" % i)
    ready = os.path.join(work, "ready.json")
    proc = subprocess.Popen([args.binary, "serve", "--dns-listen", "127.0.0.1:0", "--api-listen",
                             "127.0.0.1:0", "--state", ":memory:", "--fixtures", fixture,
                             "--ready-file", ready, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(ready):
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit("daemon did not become ready")
            time.sleep(0.02)
        info = json.load(open(ready))
        dns_port = int(info["dns"].rsplit(":", 1)[1])
        api_port = int(info["api"].rsplit(":", 1)[1])
        tasks = [t["taskId"] for t in api(api_port, "GET", "/v1/tasks")["tasks"]]

        stop = threading.Event()
        changes = [0]

        def churn():
            conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=10)
            i, period = 0, 1.0 / args.churn
            next_at = time.monotonic()
            while not stop.is_set():
                t = tasks[i % len(tasks)]
                # HEALTHY <-> AUTO: each a health event, and the task stays (UNHEALTHY stops it)
                status = "HEALTHY" if (i // len(tasks)) % 2 == 0 else "AUTO"
                conn.request("PUT", "/v1/tasks/%s/health" % t, json.dumps({"status": status}))
                conn.getresponse().read()
                changes[0] += 1
                i += 1
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    stop.wait(delay)

        received = [0]
        connected = threading.Semaphore(0)
        lock = threading.Lock()

        def client(halt, after):
            conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)
            conn.request("GET", "/v1/events/stream?after=%d" % after)
            res = conn.getresponse()
            if res.status != 200:
                sys.exit("stream: HTTP %d" % res.status)
            connected.release()
            while not halt.is_set():
                line = res.fp.readline()
                if not line:
                    break
                if line.startswith(b"id: "):
                    with lock:
                        received[0] += 1
            conn.close()

        clk_tck = os.sysconf("SC_CLK_TCK")

        def dns_cpu():
            total = 0.0
            for tid in os.listdir("/proc/%d/task" % proc.pid):
                try:
                    with open("/proc/%d/task/%s/comm" % (proc.pid, tid)) as f:
                        if f.read().strip() != "dns-udp":
                            continue
                    with open("/proc/%d/task/%s/stat" % (proc.pid, tid)) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    total += (int(fields[11]) + int(fields[12])) / clk_tck
                except FileNotFoundError:
                    pass
            return total

        def dnsperf():
            """Microseconds of DNS-thread CPU per answered query, at a fixed query rate."""
            c0 = dns_cpu()
            out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(dns_port), "-d", queries,
                                  "-l", str(args.duration), "-c", "4", "-Q", str(args.qps)],
                                 capture_output=True, text=True, timeout=args.duration + 30).stdout
            cpu = dns_cpu() - c0
            m = re.search(r"Queries completed:\s+(\d+)", out)
            if not m or int(m.group(1)) == 0:
                sys.exit("dnsperf output not understood:\n" + out)
            return cpu / int(m.group(1)) * 1e6

        page_renders = [0]

        def with_page():
            """DNS-thread CPU per query with the page open on the Services view."""
            b = browser()
            try:
                b.driver.get("http://127.0.0.1:%d/ui/#/services" % api_port)
                b.wait(lambda: b.js("return !!document.querySelector('#live.on') && "
                                    "!!document.querySelector('tr[data-service]')"), 30, "page")
                r0 = b.js("return +document.body.dataset.rendered || 0")
                result = dnsperf()
                page_renders[0] += 1 if b.js("return +document.body.dataset.rendered || 0") > r0 else 0
                return result
            finally:
                b.quit()

        def browser():
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                            "tests", "integration"))
            import test_web_ui  # the tests' Chromium: Debian's, headless, loopback only
            return test_web_ui.Chromium(work)

        churner = threading.Thread(target=churn, daemon=True)
        churner.start()
        without, with_streams, with_pages = [], [], []
        for _ in range(args.repeat):
            without.append(dnsperf())
            halt = threading.Event()
            after = api(api_port, "GET", "/v1/events")["index"]
            clients = [threading.Thread(target=client, args=(halt, after), daemon=True)
                       for _ in range(args.clients)]
            for c in clients:
                c.start()
            for _ in clients:  # every stream is open before DNS is measured
                if not connected.acquire(timeout=20):
                    sys.exit("an SSE client did not connect")
            with_streams.append(dnsperf())
            halt.set()
            for c in clients:
                c.join(0.1)
            if args.page:
                with_pages.append(with_page())
        stop.set()
        churner.join(5)
        a, b = statistics.median(without), statistics.median(with_streams)
        print("services=%d tasks=%d churn=%d/s clients=%d duration=%ds x%d" % (
            args.services, len(tasks), args.churn, args.clients, args.duration, args.repeat))
        print("health changes made: %d; events delivered to SSE clients: %d" % (changes[0], received[0]))
        print("DNS-thread CPU per query (us), churn, no stream:      %s (median %.2f)" % (
            ", ".join("%.2f" % q for q in without), a))
        print("DNS-thread CPU per query (us), churn, %3d SSE clients: %s (median %.2f)" % (
            args.clients, ", ".join("%.2f" % q for q in with_streams), b))
        print("ratio with/without streams: %.3f" % (b / a))
        if args.page:
            c = statistics.median(with_pages)
            print("DNS-thread CPU per query (us), churn, web page open:  %s (median %.2f; the page "
                  "re-rendered during %d of %d runs)" % (", ".join("%.2f" % q for q in with_pages), c,
                                                         page_renders[0], args.repeat))
            print("ratio with page/without: %.3f" % (c / a))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


if __name__ == "__main__":
    main()
