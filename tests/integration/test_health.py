"""Health probes through the real daemon, on loopback only, checked with real dig.

Each test registers an endpoint through the native API with a fast check (200 ms interval, 150 ms
timeout, 3 retries) against a real service on 127.0.0.x, breaks the service and asserts with dig
that the record leaves DNS after about interval x retries (and is still there right after the
first failure); under `onUnhealthy: withdraw` it comes back after the next success, under the
default `stop` the task is STOPPED with ServiceSchedulerInitiated / "Task failed container health
checks". Every withdraw service also has an anchor task (127.0.0.250, probe `none`, data only) so
that Route 53's fail-open rule (answer unhealthy records when none is healthy) does not mask the
withdrawal. No sleeps as synchronisation: every wait polls with a deadline.

    /usr/bin/python3 tests/integration/test_health.py --binary build/emulator/ecs-emulator
"""
import http.client
import json
import os
import resource
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402
from test_health_targets import GrpcTarget, HttpTarget, TcpTarget  # noqa: E402

INTERVAL = 0.2
TIMEOUT = 0.15
RETRIES = 3
FAST = {"interval": "200ms", "timeout": "150ms", "retries": RETRIES}
ANCHOR_IP = "127.0.0.250"  # never probed (type none), never contacted
# Generous: the spec's bound is interval x retries + timeout + 10 ms; shared CI machines are slow.
LEAVE_DEADLINE = INTERVAL * RETRIES + TIMEOUT + 2.0


def check(kind, **extra):
    hc = {"type": kind}
    hc.update(FAST)
    hc.update(extra)
    return hc


def daemon_session_processes(daemon_pid):
    """(pid, state, cmdline) of every process in the daemon's session or below it, except the
    daemon: the daemon is started with start_new_session, so these are its command probes, their
    supervisors, and their children (a probe command runs in a session of its own)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == daemon_pid:
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        procs[int(entry)] = (fields[0], int(fields[1]), int(fields[3]), cmdline)

    def below_daemon(pid):
        seen = set()
        while pid in procs and pid not in seen:
            seen.add(pid)
            pid = procs[pid][1]
        return pid == daemon_pid

    return [(pid, state, cmdline) for pid, (state, ppid, sid, cmdline) in procs.items()
            if sid == daemon_pid or below_daemon(pid)]


class HealthBase(unittest.TestCase):
    # These suites exercise command probes from the API, which the operator must allow (SPEC 12).
    ARGS = ["--allow-command-probes", "all"]

    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon(args=cls.ARGS).start()
        cls.ip_counter = 2

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        cls.d.__exit__(None, None, None)
        assert code == 0, "daemon exit code %s" % code

    def setUp(self):
        self.api("POST", "/v1/reset", expect=200)
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            fn()

    # ---------------------------------------------------------------- helpers
    def api(self, method, path, body=None, expect=None, timeout=30.0):
        return self.d.api(method, path, body, expect=expect, timeout=timeout)

    def next_ip(self):
        """A fresh loopback address per target: 127.0.0.2, .3, ... (all local)."""
        cls = type(self)
        ip = "127.0.0.%d" % cls.ip_counter
        cls.ip_counter = 2 + (cls.ip_counter - 1) % 200
        return ip

    def http_target(self):
        t = HttpTarget(self.next_ip())
        self.cleanups.append(t.stop)
        return t

    def tcp_target(self):
        t = TcpTarget(self.next_ip())
        self.cleanups.append(t.close)
        return t

    def grpc_target(self):
        t = GrpcTarget(self.next_ip())
        self.cleanups.append(t.kill)
        return t

    def service(self, name, hc, on_unhealthy=None, anchor=False):
        body = {"ttl": 1, "records": ["A"], "healthCheck": hc}
        if on_unhealthy:
            body["onUnhealthy"] = on_unhealthy
        status, svc = self.api("PUT", "/v1/services/%s" % name, body)
        self.assertIn(status, (200, 201), svc)
        if anchor:
            self.api("POST", "/v1/services/%s/tasks" % name,
                     {"ip": ANCHOR_IP, "port": 9, "healthCheck": {"type": "none"}}, expect=201)
        return svc

    def register(self, name, ip, port, hc=None):
        body = {"ip": ip, "port": port}
        if hc is not None:
            body["healthCheck"] = hc
        _, task = self.api("POST", "/v1/services/%s/tasks" % name, body, expect=201)
        return task

    def task(self, task_id):
        _, t = self.api("GET", "/v1/tasks/%s" % task_id, expect=200)
        return t

    def wait_task(self, task_id, pred, timeout=10.0, message="task condition"):
        box = {}

        def probe():
            box["t"] = self.task(task_id)
            return pred(box["t"])

        try:
            emu.wait_until(probe, timeout, interval=0.01, message=message)
        except AssertionError:
            raise AssertionError("%s; task now: %s" % (message, box.get("t")))
        return box["t"]

    def in_dns(self, name, ip):
        return ip in self.d.dig(name, "A")

    def wait_dns(self, name, ip, present, timeout):
        """Polls real dig until ip is (not) in the answer; returns the seconds it took."""
        start = time.monotonic()
        emu.wait_until(lambda: self.in_dns(name, ip) == present, timeout, interval=0.01,
                       message="%s %s %s DNS" % (ip, "in" if present else "out of", name))
        return time.monotonic() - start

    def wait_healthy_in_dns(self, name, task):
        self.wait_task(task["taskId"], lambda t: t["healthStatus"] == "HEALTHY", message="HEALTHY")
        self.assertTrue(self.in_dns(name, task["ip"]), self.d.dig(name))

    def failures(self, t):
        return [r for r in t["lastResults"] if r["outcome"] == "FAIL"]

    def break_and_watch_leave(self, name, task, breaker, detail):
        """Breaks the target, asserts the record is still in DNS right after the first failed probe
        and gone within the deadline; returns (seconds from first failure to gone, task)."""
        before = len(self.failures(self.task(task["taskId"])))
        broken = time.monotonic()
        breaker()
        t = self.wait_task(task["taskId"], lambda t: len(self.failures(t)) > before,
                           message="a first failed probe")
        first_fail = time.monotonic()
        # One failure of RETRIES: still healthy and still answered (the next probe is ~200 ms away).
        self.assertEqual(t["healthStatus"], "HEALTHY", t)
        self.assertTrue(self.in_dns(name, task["ip"]), "gone after one failure: %s" % t)
        self.wait_dns(name, task["ip"], False, LEAVE_DEADLINE)
        elapsed = time.monotonic() - first_fail
        if os.environ.get("EMU_HEALTH_TIMINGS"):
            sys.stderr.write("\n  [%s] %s: gone from dig %.0f ms after the break, %.0f ms after the "
                             "first failure (interval x retries + timeout = %.0f ms)\n"
                             % (self.id().rsplit(".", 1)[1], detail, 1000 * (time.monotonic() - broken),
                                1000 * elapsed, 1000 * (INTERVAL * RETRIES + TIMEOUT)))
        t = self.task(task["taskId"])
        last = t["lastResults"][-1]
        self.assertEqual(last["outcome"], "FAIL", t)
        self.assertIn(detail, last["detail"], t)
        self.assertTrue(last["time"], t)
        # About (retries - 1) intervals after the first failure: not before, not much after.
        self.assertGreaterEqual(elapsed, INTERVAL * (RETRIES - 1) - 0.1, t)
        self.assertLess(elapsed, LEAVE_DEADLINE, t)
        return elapsed, t

    def assert_stopped_by_health(self, t):
        self.assertEqual(t["lastStatus"], "STOPPED", t)
        self.assertEqual(t["stopCode"], "ServiceSchedulerInitiated", t)
        self.assertEqual(t["stoppedReason"], "Task failed container health checks", t)
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)

    def events_after(self, index, pred, timeout=10.0):
        """Long-polls /v1/events until an event matching pred arrives; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page = self.long_poll("/v1/events?after=%d&wait=5s" % index)
            for e in page["events"]:
                if pred(e):
                    return e
            index = max([index] + [e["index"] for e in page["events"]])
        raise AssertionError("no matching event after index %d" % index)

    def long_poll(self, path):
        """GET on a keep-alive connection. (emu.Daemon.api uses urllib, which sends
        `Connection: close`; the daemon currently drops a long poll sent that way: see the report.)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.d.api_port, timeout=30)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 200, body)
            return json.loads(body)
        finally:
            conn.close()

    def latest_event_index(self):
        _, page = self.api("GET", "/v1/events", expect=200)
        return page["index"]


class ProbeTest(HealthBase):
    # ------------------------------------------------------------------ 1. HTTP
    def test_http_500_withdraws_200_returns_then_refused(self):
        name = "web.local"
        srv = self.http_target()
        self.service(name, check("http", path="/health"), "withdraw", anchor=True)
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)

        srv.status = 500
        _, t = self.break_and_watch_leave(name, task, lambda: None, "http 500")
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        self.assertEqual(t["lastStatus"], "RUNNING", t)
        self.assertEqual(t["lastResults"][-1]["detail"], "http 500", t)
        self.assertIn(ANCHOR_IP, self.d.dig(name))

        srv.status = 200
        self.wait_dns(name, srv.ip, True, INTERVAL + TIMEOUT + 2.0)
        t = self.task(task["taskId"])
        self.assertEqual(t["healthStatus"], "HEALTHY", t)
        self.assertEqual(t["lastResults"][-1]["outcome"], "PASS", t)
        self.assertEqual(t["lastResults"][-1]["detail"], "http 200", t)

        _, t = self.break_and_watch_leave(name, task, srv.stop, "connect")
        self.assertRegex(t["lastResults"][-1]["detail"].lower(), "refused", t)

    def test_http_500_under_stop_stops_the_task(self):
        name = "api.local"
        srv = self.http_target()
        self.service(name, check("http"))  # onUnhealthy defaults to stop
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        srv.status = 500
        self.wait_dns(name, srv.ip, False, LEAVE_DEADLINE)
        t = self.wait_task(task["taskId"], lambda t: t["lastStatus"] == "STOPPED", message="STOPPED")
        self.assert_stopped_by_health(t)
        fails = self.failures(t)
        self.assertGreaterEqual(len(fails), RETRIES, t)
        for r in fails[-RETRIES:]:
            self.assertEqual(r["detail"], "http 500", t)
            self.assertTrue(r["time"], t)
        self.assertEqual(self.d.dig_status(name), "NXDOMAIN")

    # ------------------------------------------------------------------ 2. TCP
    def test_tcp_listener_closed_then_reopened(self):
        name = "tcp.local"
        lis = self.tcp_target()
        self.service(name, check("tcp"), "withdraw", anchor=True)
        task = self.register(name, lis.ip, lis.port)
        self.wait_healthy_in_dns(name, task)
        _, t = self.break_and_watch_leave(name, task, lis.close, "connect")
        self.assertRegex(t["lastResults"][-1]["detail"].lower(), "refused", t)
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        lis.reopen()
        self.wait_dns(name, lis.ip, True, INTERVAL + TIMEOUT + 2.0)
        self.assertEqual(self.task(task["taskId"])["healthStatus"], "HEALTHY")

    def test_tcp_listener_closed_under_stop(self):
        name = "tcps.local"
        lis = self.tcp_target()
        self.service(name, check("tcp"))
        task = self.register(name, lis.ip, lis.port)
        self.wait_healthy_in_dns(name, task)
        lis.close()
        self.wait_dns(name, lis.ip, False, LEAVE_DEADLINE)
        t = self.wait_task(task["taskId"], lambda t: t["lastStatus"] == "STOPPED", message="STOPPED")
        self.assert_stopped_by_health(t)
        self.assertRegex(t["lastResults"][-1]["detail"].lower(), "refused", t)

    # ------------------------------------------------------------------ 3. gRPC
    def test_grpc_not_serving_withdraws_serving_returns_killed_withdraws(self):
        name = "game-server.local"
        g = self.grpc_target()
        self.service(name, check("grpc", service="game"), "withdraw", anchor=True)
        task = self.register(name, g.ip, g.port)
        self.wait_healthy_in_dns(name, task)
        self.assertEqual(self.task(task["taskId"])["lastResults"][-1]["detail"], "grpc: SERVING")

        _, t = self.break_and_watch_leave(name, task, lambda: g.set("NOT_SERVING"), "grpc: NOT_SERVING")
        self.assertEqual(t["lastResults"][-1]["detail"], "grpc: NOT_SERVING", t)

        g.set("SERVING")
        self.wait_dns(name, g.ip, True, INTERVAL + TIMEOUT + 2.0)
        self.assertEqual(self.task(task["taskId"])["healthStatus"], "HEALTHY")

        _, t = self.break_and_watch_leave(name, task, g.kill, "connect")
        self.assertRegex(t["lastResults"][-1]["detail"].lower(), "refused", t)

    def test_grpc_not_serving_under_stop(self):
        name = "grpc-stop.local"
        g = self.grpc_target()
        self.service(name, check("grpc"))
        task = self.register(name, g.ip, g.port)
        self.wait_healthy_in_dns(name, task)
        g.set("NOT_SERVING")
        self.wait_dns(name, g.ip, False, LEAVE_DEADLINE)
        t = self.wait_task(task["taskId"], lambda t: t["lastStatus"] == "STOPPED", message="STOPPED")
        self.assert_stopped_by_health(t)
        self.assertEqual(t["lastResults"][-1]["detail"], "grpc: NOT_SERVING", t)

    def test_grpc_server_killed_under_stop(self):
        name = "grpc-kill.local"
        g = self.grpc_target()
        self.service(name, check("grpc"))
        task = self.register(name, g.ip, g.port)
        self.wait_healthy_in_dns(name, task)
        g.kill()
        self.wait_dns(name, g.ip, False, LEAVE_DEADLINE)
        t = self.wait_task(task["taskId"], lambda t: t["lastStatus"] == "STOPPED", message="STOPPED")
        self.assert_stopped_by_health(t)
        self.assertRegex(t["lastResults"][-1]["detail"].lower(), "refused", t)

    # ------------------------------------------------------------------ 4. command
    def assert_no_probe_process_left(self):
        pid = self.d.proc.pid

        def clean():
            return not daemon_session_processes(pid)

        try:
            emu.wait_until(clean, 2.0, interval=0.02, message="no command probe process left")
        except AssertionError:
            raise AssertionError("left behind: %s" % daemon_session_processes(pid))

    def test_command_hanging_past_timeout_under_stop(self):
        name = "cmd.local"
        ip = self.next_ip()
        self.service(name, check("command", command=["CMD-SHELL", "sleep 5"]))
        task = self.register(name, ip, 8080)
        self.assertTrue(self.in_dns(name, ip))  # UNKNOWN counts as healthy
        seen = []

        def sleeping():
            procs = daemon_session_processes(self.d.proc.pid)
            seen.extend(p for p in procs if "sleep" in p[2])
            return seen

        emu.wait_until(sleeping, 5.0, interval=0.01, message="a running probe process")
        self.wait_dns(name, ip, False, LEAVE_DEADLINE)
        t = self.wait_task(task["taskId"], lambda t: t["lastStatus"] == "STOPPED", message="STOPPED")
        self.assert_stopped_by_health(t)
        fails = self.failures(t)
        self.assertGreaterEqual(len(fails), RETRIES, t)
        self.assertIn("timeout after 150ms", fails[-1]["detail"], t)
        self.assert_no_probe_process_left()

    def test_command_hanging_past_timeout_under_withdraw(self):
        name = "cmdw.local"
        ip = self.next_ip()
        self.service(name, check("command", command=["CMD-SHELL", "sleep 5"]), "withdraw", anchor=True)
        task = self.register(name, ip, 8080)
        self.wait_dns(name, ip, False, LEAVE_DEADLINE)
        t = self.task(task["taskId"])
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        self.assertEqual(t["lastStatus"], "RUNNING", t)
        self.assertIn("timeout", t["lastResults"][-1]["detail"], t)
        # Probes keep running (and being killed): at most one probe process tree at a time, no zombie.
        for _ in range(20):
            procs = daemon_session_processes(self.d.proc.pid)
            self.assertLessEqual(len([p for p in procs if "sleep" in p[2] and p[1] != "Z"]), 2, procs)
        self.api("DELETE", "/v1/tasks/%s" % task["taskId"])
        self.assert_no_probe_process_left()

    def test_command_exit_code_in_last_results(self):
        name = "cmdx.local"
        ip = self.next_ip()
        self.service(name, check("command", command=["CMD-SHELL", 'test "$TASK_IP" = %s && exit 3' % ip]),
                     "withdraw", anchor=True)
        task = self.register(name, ip, 8080)
        self.wait_dns(name, ip, False, LEAVE_DEADLINE)
        t = self.task(task["taskId"])
        last = t["lastResults"][-1]
        self.assertEqual(last["outcome"], "FAIL", t)
        self.assertEqual(last.get("exitCode"), 3, t)
        self.assertIn("exit 3", last["detail"], t)
        self.assert_no_zombies()

    def assert_no_zombies(self):
        procs = daemon_session_processes(self.d.proc.pid)
        zombies = [p for p in procs if p[1] == "Z"]
        # A probe reaped a moment later is fine; a lasting zombie is not.
        if zombies:
            emu.wait_until(lambda: not [p for p in daemon_session_processes(self.d.proc.pid) if p[1] == "Z"],
                           2.0, message="zombies reaped: %s" % zombies)

    # ------------------------------------------------------------------ 5. fault injection
    def test_forced_unhealthy_under_withdraw_then_auto(self):
        name = "forced.local"
        srv = self.http_target()
        self.service(name, check("http"), "withdraw", anchor=True)
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        _, t = self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "UNHEALTHY"}, expect=200)
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        self.assertFalse(self.in_dns(name, srv.ip))  # the very next query
        # Probes keep passing, and the record stays out.
        n = len(self.task(task["taskId"])["lastResults"])
        t = self.wait_task(task["taskId"], lambda t: len(t["lastResults"]) >= min(n + 3, 10)
                           and t["lastResults"][-1]["outcome"] == "PASS", message="passing probes")
        self.assertEqual(t["forcedHealth"], "UNHEALTHY", t)
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        self.assertFalse(self.in_dns(name, srv.ip))
        _, t = self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "AUTO"}, expect=200)
        self.assertIsNone(t["forcedHealth"], t)
        self.assertEqual(t["healthStatus"], "HEALTHY", t)
        self.assertTrue(self.in_dns(name, srv.ip))

    def test_forced_unhealthy_under_stop_stops(self):
        name = "forced-stop.local"
        srv = self.http_target()
        self.service(name, check("http"))
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "UNHEALTHY"}, expect=200)
        self.assertFalse(self.in_dns(name, srv.ip))
        self.assert_stopped_by_health(self.task(task["taskId"]))

    def test_forced_healthy_keeps_a_dead_endpoint(self):
        name = "forced-up.local"
        lis = self.tcp_target()
        self.service(name, check("tcp"), "withdraw", anchor=True)
        task = self.register(name, lis.ip, lis.port)
        self.wait_healthy_in_dns(name, task)
        self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "HEALTHY"}, expect=200)
        lis.close()
        t = self.wait_task(task["taskId"], lambda t: len(self.failures(t)) >= RETRIES + 1,
                           message="failing probes")
        self.assertEqual(t["healthStatus"], "HEALTHY", t)
        self.assertTrue(self.in_dns(name, lis.ip))
        # AUTO: the probes' view (UNHEALTHY) takes over at once.
        _, t = self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "AUTO"}, expect=200)
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        self.assertFalse(self.in_dns(name, lis.ip))

    # ------------------------------------------------------------------ 7. events and log
    def test_event_and_log_line_for_a_withdrawal(self):
        name = "events.local"
        srv = self.http_target()
        self.service(name, check("http"), "withdraw", anchor=True)
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        index = self.latest_event_index()
        srv.status = 503
        e = self.events_after(index, lambda e: e["type"] == "TaskHealthChanged"
                              and e.get("taskId") == task["taskId"] and e.get("newHealth") == "UNHEALTHY")
        self.assertEqual(e["service"], name, e)
        self.assertEqual(e["oldHealth"], "HEALTHY", e)
        self.assertIn("%d failed probes" % RETRIES, e["reason"], e)
        self.assertIn("http 503", e["reason"], e)
        self.assertEqual(e["recordsRemoved"], ["A %s" % srv.ip], e)
        self.assertEqual(e["recordsAdded"], [], e)
        self.assertEqual(e["ip"], srv.ip, e)
        self.assertEqual(e["port"], srv.port, e)
        self.assertFalse(self.in_dns(name, srv.ip))

        def log_lines():
            return [line for line in self.d.log().splitlines()
                    if task["taskId"] in line and "UNHEALTHY" in line.upper() and "removed" in line]

        lines = emu.wait_until(log_lines, 5.0, message="the log line")
        self.assertEqual(len(lines), 1, lines)
        line = lines[0]
        for part in (task["taskId"], name, "http 503", "A %s" % srv.ip, "removed from"):
            self.assertIn(part, line)

        # Recovery: an event with recordsAdded and its own line.
        index = e["index"]
        srv.status = 200
        e = self.events_after(index, lambda e: e["type"] == "TaskHealthChanged"
                              and e.get("taskId") == task["taskId"] and e.get("newHealth") == "HEALTHY")
        self.assertEqual(e["recordsAdded"], ["A %s" % srv.ip], e)
        self.assertEqual(e["recordsRemoved"], [], e)
        emu.wait_until(lambda: [line for line in self.d.log().splitlines()
                                if task["taskId"] in line and "added to" in line and name in line],
                       5.0, message="the recovery log line")

    def test_event_and_log_line_for_a_stop(self):
        name = "events-stop.local"
        srv = self.http_target()
        self.service(name, check("http"))
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        index = self.latest_event_index()
        srv.stop()
        e = self.events_after(index, lambda e: e["type"] == "TaskHealthChanged"
                              and e.get("taskId") == task["taskId"] and e.get("newHealth") == "UNHEALTHY")
        self.assertIn("failed probes", e["reason"], e)
        emu.wait_until(lambda: self.task(task["taskId"])["lastStatus"] == "STOPPED", 5.0, message="STOPPED")

        def stop_lines():
            return [line for line in self.d.log().splitlines()
                    if task["taskId"] in line and "STOPPED" in line and "A %s" % srv.ip in line]

        lines = emu.wait_until(stop_lines, 5.0, message="the stop log line")
        self.assertEqual(len(lines), 1, lines)
        for part in (name, "ServiceSchedulerInitiated", "Task failed container health checks", "removed from"):
            self.assertIn(part, lines[0])

    # ------------------------------------------------------------------ 8. validation
    def test_invalid_probe_fields_are_400_naming_the_field(self):
        cases = [
            ({"type": "http", "interval": "50ms"}, "healthCheck.interval"),
            ({"type": "http", "timeout": "2h"}, "healthCheck.timeout"),
            ({"type": "http", "retries": 0}, "healthCheck.retries"),
            ({"type": "http", "retries": 11}, "healthCheck.retries"),
            ({"type": "icmp"}, "healthCheck.type"),
            ({"interval": "1s"}, "healthCheck.type"),
            ({"type": "http", "path": "health"}, "healthCheck.path"),
            ({"type": "tcp", "port": 70000}, "healthCheck.port"),
            ({"type": "command", "command": ["sleep 1"]}, "healthCheck.command"),
            ({"type": "command", "command": "sleep 1"}, "healthCheck.command"),
            ({"type": "http", "startPeriod": "-1s"}, "healthCheck.startPeriod"),
            ({"type": "http", "intervall": "1s"}, "healthCheck.intervall"),
        ]
        for hc, field in cases:
            with self.subTest(hc=hc):
                status, body = self.api("PUT", "/v1/services/bad.local", {"healthCheck": hc})
                self.assertEqual(status, 400, body)
                self.assertIn(field, body.get("field", "") + " " + body.get("message", ""), body)
                self.assertEqual(body.get("field"), field, body)
        status, body = self.api("PUT", "/v1/services/bad.local", {"onUnhealthy": "restart"})
        self.assertEqual(status, 400, body)
        self.assertEqual(body.get("field"), "onUnhealthy", body)
        # On a task too, and nothing is registered.
        self.api("PUT", "/v1/services/ok.local", {"records": ["A"]}, expect=201)
        status, body = self.api("POST", "/v1/services/ok.local/tasks",
                                {"ip": "127.0.0.9", "port": 80, "healthCheck": {"type": "http", "retries": "3"}})
        self.assertEqual(status, 400, body)
        self.assertEqual(body.get("field"), "healthCheck.retries", body)
        _, tasks = self.api("GET", "/v1/tasks?service=ok.local", expect=200)
        self.assertEqual(tasks["tasks"], [])


class PropagationDelayTest(HealthBase):
    """6. --health-propagation-delay 1s: health changes at once, DNS about 1 s later."""
    ARGS = ["--allow-command-probes", "all", "--health-propagation-delay", "1s"]

    def test_forced_change_reaches_dns_after_the_delay(self):
        name = "slow.local"
        srv = self.http_target()
        self.service(name, check("http"), "withdraw", anchor=True)
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        start = time.monotonic()
        _, t = self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "UNHEALTHY"}, expect=200)
        self.assertEqual(t["healthStatus"], "UNHEALTHY", t)
        self.assertTrue(self.in_dns(name, srv.ip))
        self.wait_dns(name, srv.ip, False, 5.0)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 2.5)
        # And back: AUTO -> HEALTHY at once, DNS a second later.
        start = time.monotonic()
        _, t = self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "AUTO"}, expect=200)
        self.assertEqual(t["healthStatus"], "HEALTHY", t)
        self.assertFalse(self.in_dns(name, srv.ip))
        self.wait_dns(name, srv.ip, True, 5.0)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 2.5)

    def test_probe_failure_reaches_dns_after_the_delay(self):
        name = "slow-probe.local"
        srv = self.http_target()
        self.service(name, check("http"), "withdraw", anchor=True)
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        index = self.latest_event_index()
        srv.status = 500
        self.wait_task(task["taskId"], lambda t: t["healthStatus"] == "UNHEALTHY", timeout=LEAVE_DEADLINE,
                       message="UNHEALTHY")
        seen = time.monotonic()
        self.assertTrue(self.in_dns(name, srv.ip))
        self.wait_dns(name, srv.ip, False, 5.0)
        self.assertGreaterEqual(time.monotonic() - seen, 0.7)
        self.assertLess(time.monotonic() - seen, 2.5)
        e = self.events_after(index, lambda e: e["type"] == "TaskDnsHealthChanged" and e.get("taskId") == task["taskId"]
                             and e.get("newHealth") == "UNHEALTHY")
        self.assertEqual(e["recordsRemoved"], ["A %s" % srv.ip], e)

    def test_stop_is_not_delayed(self):
        name = "slow-stop.local"
        srv = self.http_target()
        self.service(name, check("http"))
        task = self.register(name, srv.ip, srv.port)
        self.wait_healthy_in_dns(name, task)
        self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "UNHEALTHY"}, expect=200)
        self.assertFalse(self.in_dns(name, srv.ip))
        self.assert_stopped_by_health(self.task(task["taskId"]))


class ResourceExhaustionTest(HealthBase):
    """7. Issue 10: with the daemon's fd table full of idle HTTP connections, its TCP probes failed
    with EMFILE and a healthy task was withdrawn from DNS. A probe the daemon cannot run is skipped:
    the task's health is unchanged, the skips are counted and logged once."""

    def metric(self, line_prefix):
        _, text = self.api("GET", "/metrics", expect=200)
        for line in text.splitlines():
            if line.startswith(line_prefix + " "):
                return float(line.split()[1])
        raise AssertionError("no %s in /metrics:\n%s" % (line_prefix, text))

    def test_full_fd_table_skips_probes_and_keeps_the_task_in_dns(self):
        name = "fds.local"
        tcp = self.tcp_target()
        self.service(name, check("tcp"), "withdraw", anchor=True)
        task = self.register(name, tcp.ip, tcp.port)
        self.wait_healthy_in_dns(name, task)
        skipped = 'ecs_emulator_probes_skipped_total{reason="resources"}'
        self.assertEqual(self.metric(skipped), 0)

        # The daemon's soft fd limit a little above what it holds, then more idle connections
        # than that (bounded): the kernel's backlog keeps the ones it cannot accept.
        pid = self.d.proc.pid
        limits = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        in_use = len(os.listdir("/proc/%d/fd" % pid))
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 16, limits[1]))
        conns = []
        try:
            for _ in range(64):
                conns.append(socket.create_connection(("127.0.0.1", self.d.api_port), timeout=5))
            emu.wait_until(lambda: "probes skipped" in self.d.log(), 10.0, interval=0.02,
                           message="the skipped-probes log line")
            # Longer than it takes failing probes to withdraw a task: it stays in DNS throughout.
            end = time.monotonic() + LEAVE_DEADLINE
            while time.monotonic() < end:
                self.assertTrue(self.in_dns(name, tcp.ip), "withdrawn while the daemon had no fds")
        finally:
            for c in conns:
                c.close()
            resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)

        self.assertGreaterEqual(self.metric(skipped), RETRIES)
        t = self.task(task["taskId"])
        self.assertEqual(t["healthStatus"], "HEALTHY", t)
        self.assertEqual(self.failures(t), [], t)
        # Rate-limited: one line for the episode, not one per probe.
        lines = [l for l in self.d.log().splitlines() if "probes skipped" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("too many open files", lines[0].lower())


if __name__ == "__main__":
    emu.main()
