"""Native REST API end to end: the real daemon on loopback ports, HTTP with the standard library
and raw sockets, DNS checked with real dig.

Register 3 tasks and dig shows them; stop one and the next query lacks it; /v1/wait returns within
milliseconds of the change and 408 at its timeout; a blocked /v1/events call wakes on a change;
reset empties everything; malformed input, bodies over the limit and half-sent requests get their
answers while other clients are served. The 10.0.0.x addresses are data only: nothing is sent to
them (the services have no probes).

    python3 tests/integration/test_api.py --binary build/emulator/ecs-emulator
"""
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon().start()

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        cls.d.__exit__(None, None, None)
        assert code == 0, "daemon exit code %s" % code

    def setUp(self):
        self.api("POST", "/v1/reset", expect=200)

    # ---------------------------------------------------------------- helpers
    def api(self, method, path, body=None, expect=None, timeout=30.0):
        return self.d.api(method, path, body, expect=expect, timeout=timeout)

    def register(self, service, ip, port=8080, expect=201):
        status, task = self.api("POST", "/v1/services/%s/tasks" % service,
                                {"ip": ip, "port": port}, expect=expect)
        return task

    def raw(self, data, read=True, timeout=5.0):
        """Sends raw bytes on a new connection; returns (status line, headers+body text)."""
        s = socket.create_connection(("127.0.0.1", self.d.api_port), timeout=timeout)
        try:
            s.sendall(data)
            if not read:
                return s
            chunks = []
            while True:
                try:
                    c = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not c:
                    break
                chunks.append(c)
            text = b"".join(chunks).decode("utf-8", "replace")
            return text.split("\r\n", 1)[0], text
        finally:
            if read:
                s.close()

    def in_thread(self, fn):
        """Runs fn in a thread; returns a dict that gets 'result' and 'at' (monotonic time)."""
        box = {}

        def run():
            try:
                box["result"] = fn()
            except Exception as e:  # noqa: BLE001 - reported by the test
                box["error"] = e
            box["at"] = time.monotonic()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        box["thread"] = t
        return box

    def pending_polls(self):
        _, text = self.api("GET", "/metrics")
        for line in text.splitlines():
            if line.startswith("ecs_emulator_api_long_polls "):
                return int(float(line.split()[1]))
        return 0

    # ---------------------------------------------------------------- the scenario of issue 3
    def test_register_three_and_dig_shows_them_then_stop_one(self):
        self.api("PUT", "/v1/services/game-server.local", {"ttl": 10, "records": ["A"]}, expect=201)
        tasks = [self.register("game-server.local", ip) for ip in IPS]
        self.assertEqual(len({t["taskId"] for t in tasks}), 3)
        for t in tasks:
            self.assertEqual(t["lastStatus"], "RUNNING")
            self.assertEqual(len(t["taskId"]), 32)
        self.assertEqual(sorted(self.d.dig("game-server.local", "A")), IPS)
        _, lookup = self.api("GET", "/v1/dns/game-server.local?type=A", expect=200)
        self.assertEqual(sorted(a["value"] for a in lookup["answers"]), IPS)

        _, stopped = self.api("DELETE", "/v1/tasks/" + tasks[1]["taskId"], expect=200)
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "UserInitiated")
        self.assertEqual(stopped["stoppedReason"], "Task stopped by user")
        # The very next query no longer has it.
        self.assertEqual(sorted(self.d.dig("game-server.local", "A")), [IPS[0], IPS[2]])
        _, listed = self.api("GET", "/v1/tasks?service=game-server.local&status=STOPPED", expect=200)
        self.assertEqual([t["taskId"] for t in listed["tasks"]], [tasks[1]["taskId"]])

    def test_wait_returns_within_milliseconds_of_the_change(self):
        self.register("web", IPS[0])
        box = self.in_thread(lambda: self.api(
            "GET", "/v1/wait?name=web.local&type=A&count=2&timeout=20s"))
        emu.wait_until(lambda: self.pending_polls() == 1, 5, message="the wait to block")
        self.register("web", IPS[1])
        changed = time.monotonic()
        box["thread"].join(10)
        self.assertNotIn("error", box)
        status, lookup = box["result"]
        self.assertEqual(status, 200)
        self.assertEqual(len(lookup["answers"]), 2)
        self.assertLess(box["at"] - changed, 0.1, "wait answered %.1f ms after the change"
                        % ((box["at"] - changed) * 1000))

    def test_wait_is_408_at_its_timeout(self):
        self.register("web", IPS[0])
        began = time.monotonic()
        status, lookup = self.api("GET", "/v1/wait?name=web.local&count=3&timeout=300ms")
        took = time.monotonic() - began
        self.assertEqual(status, 408)
        self.assertEqual(len(lookup["answers"]), 1)
        self.assertGreaterEqual(took, 0.28)
        self.assertLess(took, 2.0)

    def test_blocked_events_call_wakes_on_a_change(self):
        _, first = self.api("GET", "/v1/events", expect=200)
        index = first["index"]
        box = self.in_thread(lambda: self.api("GET", "/v1/events?after=%d&wait=20s" % index))
        emu.wait_until(lambda: self.pending_polls() == 1, 5, message="the events call to block")
        task = self.register("web", IPS[0])
        changed = time.monotonic()
        box["thread"].join(10)
        self.assertNotIn("error", box)
        status, events = box["result"]
        self.assertEqual(status, 200)
        self.assertGreater(events["index"], index)
        self.assertTrue(all(e["index"] > index for e in events["events"]))
        self.assertIn(task["taskId"], json.dumps(events["events"]))
        self.assertLess(box["at"] - changed, 0.1)
        # Nothing newer: an empty list at the end of the wait, same index.
        status, later = self.api("GET", "/v1/events?after=%d&wait=100ms" % events["index"])
        self.assertEqual((status, later["events"]), (200, []))

    def test_reset_empties_everything(self):
        self.api("PUT", "/v1/namespaces/demo.local", expect=201)
        for ip in IPS:
            self.register("web", ip)
        self.api("POST", "/v1/reset", expect=200)
        self.assertEqual(self.api("GET", "/v1/tasks")[1]["tasks"], [])
        self.assertEqual(self.api("GET", "/v1/services")[1]["services"], [])
        self.assertEqual(self.api("GET", "/v1/namespaces")[1]["namespaces"], [])
        self.assertEqual(self.d.dig_status("web.local", "A"), "REFUSED")  # no zone left
        self.register("web", IPS[0])
        self.api("POST", "/moto-api/reset", expect=200)
        self.assertEqual(self.api("GET", "/v1/tasks")[1]["tasks"], [])

    def test_force_unhealthy_then_auto(self):
        self.api("PUT", "/v1/services/web", {"onUnhealthy": "withdraw"}, expect=201)
        task = self.register("web", IPS[0])
        self.register("web", IPS[1])
        self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "UNHEALTHY"}, expect=200)
        self.assertEqual(self.d.dig("web.local"), [IPS[1]])
        self.api("PUT", "/v1/tasks/%s/health" % task["taskId"], {"status": "HEALTHY"}, expect=200)
        self.assertEqual(sorted(self.d.dig("web.local")), IPS[:2])

    # ---------------------------------------------------------------- bad input
    def test_errors_name_the_field(self):
        cases = [
            ("POST", "/v1/services/web/tasks", b'{"ip": ', 400, "body"),
            ("POST", "/v1/services/web/tasks", {"ip": "10.0.0.300"}, 400, "ip"),
            ("POST", "/v1/services/web/tasks", {"ip": "10.0.0.1", "port": 65536}, 400, "port"),
            ("POST", "/v1/services/web/tasks", {"ip": "10.0.0.1", "port": "80"}, 400, "port"),
            ("PUT", "/v1/services/Bad!Name", {}, 400, "name"),
            ("PUT", "/v1/services/web", {"healthCheck": {"type": "http", "interval": "1x"}}, 400,
             "healthCheck.interval"),
            ("GET", "/v1/wait?name=web&count=x", None, 400, "count"),
            ("GET", "/v1/events?wait=10m", None, 400, "wait"),
            ("GET", "/v1/dns/web.local?type=BOGUS", None, 400, "type"),
        ]
        for method, path, body, status, field in cases:
            got, payload = self.api(method, path, body)
            self.assertEqual(got, status, (method, path, body, payload))
            self.assertEqual(payload.get("field"), field, (method, path, payload))
            self.assertIn("message", payload)
        self.assertEqual(self.api("GET", "/v1/tasks/ffffffffffffffffffffffffffffffff")[0], 404)
        self.assertEqual(self.api("GET", "/v1/nothing")[0], 404)
        self.register("web", IPS[0])
        self.assertEqual(self.register("web", IPS[0], expect=None)["error"], "Conflict")

    def test_body_over_the_limit_is_413(self):
        big = b"x" * (1024 * 1024 + 10)
        line, text = self.raw(b"POST /v1/services/web/tasks HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: %d\r\n\r\n" % len(big) + big)
        self.assertIn(" 413 ", line)
        self.assertIn('"TooLarge"', text)
        self.assertEqual(self.api("GET", "/healthz")[0], 200)  # still serving

    def test_malformed_http_is_400_and_garbage_does_not_hurt(self):
        line, text = self.raw(b"BREW /pot HTCPCP/1.0\r\n\r\n")
        self.assertIn(" 400 ", line)
        self.raw(bytes(range(256)) * 4)
        self.raw(b"\r\n\r\n\r\n")
        self.assertEqual(self.api("GET", "/healthz")[0], 200)

    def test_half_sent_requests_do_not_stall_others(self):
        held = [self.raw(b"POST /v1/services/web/tasks HTTP/1.1\r\nHost: x\r\nContent-Len",
                         read=False) for _ in range(20)]
        held += [self.raw(b"POST /v1/services/web/tasks HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 100\r\n\r\n{\"ip\":", read=False) for _ in range(20)]
        try:
            began = time.monotonic()
            for i in range(50):
                self.assertEqual(self.api("GET", "/v1/tasks", timeout=2)[0], 200)
            self.register("web", IPS[0])
            self.assertLess(time.monotonic() - began, 5)
        finally:
            for s in held:
                s.close()

    def test_keep_alive_pipelining_and_absolute_targets(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.api_port, timeout=5)
        for _ in range(10):
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        conn.close()
        reqs = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET http://data-127.0.0.1:9080/v1/tasks/none HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /v1/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _, text = self.raw(reqs)
        statuses = re.findall(r"HTTP/1\.1 (\d{3}) ", text)
        self.assertEqual(statuses, ["200", "404", "200"], text)

    def test_many_concurrent_keep_alive_clients(self):
        errors = []

        def client(n):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.d.api_port, timeout=10)
                for i in range(10):
                    body = json.dumps({"ip": "10.1.%d.%d" % (n, i + 1), "port": 80})
                    conn.request("POST", "/v1/services/load/tasks", body)
                    r = conn.getresponse()
                    r.read()
                    if r.status != 201:
                        errors.append(r.status)
                conn.close()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(len(self.api("GET", "/v1/tasks?service=load")[1]["tasks"]), 400)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_answers_a_pending_long_poll_and_exits_0(self):
        d = emu.Daemon().start()
        try:
            _, first = d.api("GET", "/v1/events")
            box = {}

            def poll():
                box["result"] = d.api("GET", "/v1/events?after=%d&wait=5m" % first["index"])

            t = threading.Thread(target=poll, daemon=True)
            t.start()

            def blocked():
                _, text = d.api("GET", "/metrics")
                return "ecs_emulator_api_long_polls 1" in text

            emu.wait_until(blocked, 5, message="the events call to block")
            began = time.monotonic()
            code = d.stop(signal.SIGTERM)
            t.join(5)
            self.assertEqual(code, 0)
            self.assertEqual(box.get("result", (None,))[0], 200)
            self.assertLess(time.monotonic() - began, 5)
        finally:
            d.__exit__(None, None, None)


if __name__ == "__main__":
    emu.main()
