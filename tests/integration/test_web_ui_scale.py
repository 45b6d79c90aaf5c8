#!/usr/bin/env python3
"""Issue 14: the web page stays usable with 1,000 services and 10,000 tasks, in headless Chromium.
- A fixture of 1,000 services x 10 tasks (10.x addresses: data only, never contacted) loads; the
  Services view shows 50 rows a page with a pager over all 1,000, pages forward, and the filter
  finds one service among them.
- While tasks of other services churn through the API (bounded: a rate and a stop), a task
  registered in the service on screen appears without a reload within a second, and the Services
  view's counts follow a change.
- The DNS view pages the names too (50 a page, each with its answers), and the Events view lists
  the stream. No console errors.
- A probed loopback endpoint's results reach its service view's timeline live (the probe stream,
  `probes=only`), though a passing probe changes no health and makes no event.
Screenshots of each view go to --artifacts DIR; the time each step took is printed."""
import http.server
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402
import test_web_ui as twu  # noqa: E402  (the Chromium driver and its screenshots)


SERVICES = 1000
TASKS = 10
STEP = twu.STEP
LIVE = twu.LIVE
CHURN_PER_SECOND = 40  # registrations + deregistrations in services the page does not show


def name(i):
    return "svc-%04d" % i


def ip(i, j):
    return "10.%d.%d.%d" % (1 + i // 250, i % 250, j + 1)


class WebUiScaleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="emu-web-scale-")
        fixture = emu.write_fixture(cls.workdir, {
            "namespaces": [{"name": "local"}],
            "services": [{"name": name(i), "namespace": "local", "records": ["A"],
                          "routing": "MULTIVALUE",
                          "tasks": [{"ip": ip(i, j), "port": 8080} for j in range(TASKS)]}
                         for i in range(SERVICES)]})
        cls.daemon = emu.Daemon(fixtures=[fixture], workdir=cls.workdir).start(timeout=60)
        cls.health = http.server.ThreadingHTTPServer(("127.0.0.1", 0), twu.Health)
        threading.Thread(target=cls.health.serve_forever, daemon=True).start()
        cls.browser = twu.Chromium(cls.workdir)
        cls.halt = threading.Event()
        cls.churned = 0
        cls.churn_thread = threading.Thread(target=cls.churn, daemon=True)

    @classmethod
    def tearDownClass(cls):
        cls.halt.set()
        if cls.churn_thread.is_alive():
            cls.churn_thread.join(timeout=STEP)
        cls.browser.quit()
        cls.health.shutdown()
        cls.daemon.stop()

    @classmethod
    def churn(cls):
        """Registers then deregisters tasks in svc-0900..svc-0999 at a fixed rate until halted
        (bounded by the test: it stops with tearDownClass, and after 10 minutes regardless)."""
        d, n, deadline = cls.daemon, 0, time.monotonic() + 600
        while not cls.halt.is_set() and time.monotonic() < deadline:
            svc = name(900 + n % 100)
            try:
                _, body = d.api("POST", "/v1/services/%s.local/tasks" % svc,
                                {"ip": "10.9.%d.%d" % (n // 250 % 250, n % 250 + 1), "port": 9000},
                                expect=201)
                d.api("DELETE", "/v1/tasks/" + body["taskId"], expect=200)
            except OSError:
                if cls.halt.is_set():
                    return  # the daemon is going away with the test
                raise
            cls.churned += 2
            n += 1
            cls.halt.wait(2.0 / CHURN_PER_SECOND)

    def js(self, script, *args):
        return self.browser.js(script, *args)

    def rows(self, table, attr):
        return self.js("return [...document.querySelectorAll('#%s tr[%s]')].map(r => r.getAttribute('%s'))"
                       % (table, attr, attr))

    def click(self, css):
        self.browser.click(css)

    def type_into(self, element_id, text):
        self.browser.type_into(element_id, text)

    def go(self, hash_route):
        self.js("location.hash = arguments[0]", hash_route)

    def timed(self, what, cond, timeout):
        start = time.monotonic()
        self.browser.wait(cond, timeout, what)
        elapsed = time.monotonic() - start
        print("%s: %.0f ms" % (what, elapsed * 1000), flush=True)
        return elapsed

    def test_a_thousand_services(self):
        b, d = self.browser, self.daemon
        start = time.monotonic()
        b.driver.get(d.api_url + "/ui/#/services")
        b.wait(lambda: self.rows("services", "data-service")[:1] == [name(0) + ".local"], STEP,
               "the first page of services")
        print("services view loaded: %.0f ms" % ((time.monotonic() - start) * 1000), flush=True)
        b.wait(lambda: self.js("return !!document.querySelector('#live.on')"), STEP, "stream open")
        b.js("window.__sameDocument = 42")
        self.assertEqual(self.rows("services", "data-service"),
                         [name(i) + ".local" for i in range(50)])
        toolbar = b.text(".toolbar .muted")
        self.assertIn("1000 services", toolbar)
        self.assertIn("10000 running tasks", toolbar)
        self.assertIn("of 1000", b.text(".pager"))
        b.shot("scale-services")

        self.churn_thread.start()
        # Page forward, then filter to one service among the thousand.
        self.click('.pager [data-p="next"]')
        self.timed("page 2 of services",
                   lambda: self.rows("services", "data-service")[:1] == [name(50) + ".local"], STEP)
        self.assertEqual(len(self.rows("services", "data-service")), 50)
        self.type_into("svc-filter", "svc-0123")
        self.timed("filter to one service",
                   lambda: self.rows("services", "data-service") == [name(123) + ".local"], STEP)
        # A change in the service on screen shows in its counts without a reload.
        running = lambda: self.js(  # noqa: E731
            "const r = document.querySelector('tr[data-service=\"svc-0123.local\"]');"
            "return r ? r.children[5].textContent : ''")
        self.assertEqual(running(), str(TASKS))
        d.api("POST", "/v1/services/svc-0123.local/tasks", {"ip": ip(123, TASKS), "port": 8080},
              expect=201)
        self.timed("services view counts follow a registration",
                   lambda: running() == str(TASKS + 1), LIVE)
        b.shot("scale-services-filtered")

        # A service view under churn: a registration appears within a second.
        self.go("#/service/svc-0500.local")
        self.timed("service view", lambda: len(self.rows("tasks", "data-task")) == TASKS, STEP)
        d.api("POST", "/v1/services/svc-0500.local/tasks", {"ip": ip(500, TASKS), "port": 8080},
              expect=201)
        self.timed("new task in the service view",
                   lambda: ip(500, TASKS) in self.rows("tasks", "data-ip"), LIVE)
        b.shot("scale-service")

        # DNS: 50 names a page, each answered (multivalue: up to 8 of its 10 addresses).
        self.go("#/dns")
        self.timed("DNS view", lambda: len(set(self.rows("dns", "data-name"))) == 50, STEP)
        first = self.js("return [...document.querySelectorAll('#dns tr[data-value]')]"
                        ".filter(r => r.dataset.name === 'svc-0000.local').map(r => r.dataset.value)")
        self.assertEqual(len(first), 8)
        self.assertTrue(set(first) <= {ip(0, j) for j in range(TASKS)})
        b.shot("scale-dns")

        # Events: the stream's events, newest first, churn included.
        self.go("#/events")
        self.timed("events view", lambda: len(self.rows("events", "data-type")) >= 20, STEP)
        b.shot("scale-events")

        # A probed loopback endpoint: passing probes change no health and make no event, yet
        # each result reaches the timeline, in place.
        port = self.health.server_address[1]
        d.api("PUT", "/v1/services/probed.local", {"healthCheck": {
            "type": "http", "path": "/health", "interval": "200ms", "retries": 2}}, expect=201)
        d.api("POST", "/v1/services/probed.local/tasks", {"ip": "127.0.0.1", "port": port},
              expect=201)
        self.go("#/service/probed.local")
        self.timed("probed task's first results",
                   lambda: self.js("return document.querySelectorAll('#tasks .tick.PASS').length") >= 2,
                   STEP)
        self.timed("its health becomes HEALTHY", lambda: "HEALTHY" in self.js(
            "return document.querySelector('#tasks tr[data-task]').textContent"), STEP)
        seen = self.js("return +(document.body.dataset.probes || 0)")
        self.timed("a later probe result, live",
                   lambda: self.js("return +(document.body.dataset.probes || 0)") >= seen + 3, LIVE * 2)
        b.shot("scale-probed")

        self.assertEqual(b.js("return window.__sameDocument"), 42, "the page was reloaded")
        errors = [e for e in b.driver.get_log("browser") if e.get("level") == "SEVERE"]
        self.assertEqual(errors, [])
        print("churn: %d registrations and deregistrations" % self.churned, flush=True)
        self.assertGreater(self.churned, 0)


if __name__ == "__main__":
    twu.ARTIFACTS = emu.take_option("--artifacts", twu.ARTIFACTS)
    emu.main()
