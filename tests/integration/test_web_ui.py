#!/usr/bin/env python3
"""Issue 14: the daemon's live web page in headless Chromium (Debian's), loopback only.
- The demo fixture (fixtures/game-server.json): GET / leads to the page; the Services view lists
  game-server.local and the DNS view answers it with its three addresses.
- A task registered through the API appears in the service view without a reload, and marking
  a task UNHEALTHY from the page (confirmed in its dialog) takes it out of the DNS table and
  shows the event, within a second.
- No console errors; every request the page made went to the daemon's own origin, and Chromium
  resolves no name at all (--host-resolver-rules maps every name to nothing), so the page works
  with the network off.
- GET /v1/events/stream as `curl -N` reads it: text/event-stream, `id:` = event index, and a
  resume from Last-Event-ID returns exactly the later events.
Screenshots of each view go to --artifacts DIR."""
import http.client
import http.server
import json
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402
import test_browser_security as tbs  # noqa: E402  (Chromium flags and process cleanup)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    ElementNotInteractableException, NoSuchElementException, StaleElementReferenceException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "fixtures", "game-server.json")
ARTIFACTS = os.path.join(os.getcwd(), "artifacts", "web")
STEP = 20.0   # deadline for a page step that has no latency requirement
LIVE = 1.0    # the "within a second"


class Health(http.server.BaseHTTPRequestHandler):
    """A loopback endpoint for the probe timeline: /health is 200, anything else 503."""
    def do_GET(self):
        code = 200 if self.path == "/health" else 503
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Chromium:
    def __init__(self, workdir):
        options = webdriver.ChromeOptions()
        options.binary_location = tbs.CHROMIUM
        flags = [f for f in tbs.CHROMIUM_FLAGS if not f.startswith("--host-resolver-rules")]
        # The network is off for names: any request that needs DNS fails at once.
        flags += ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,860",
                  "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-", dir=workdir)]
        for f in flags:
            options.add_argument(f)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.service = Service(tbs.CHROMEDRIVER, log_path=os.path.join(workdir, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=self.service, options=options)
        self.driver.set_page_load_timeout(STEP)
        self.driver.set_script_timeout(STEP)

    def quit(self):
        proc = getattr(self.service, "process", None)
        tree = tbs.process_tree(proc.pid) if proc is not None else []
        try:
            self.driver.quit()
        finally:
            tbs.kill_tree(tree)

    def wait(self, cond, timeout, message):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.02).until(
            lambda d: cond(), message)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def element_do(self, by, what, action):
        """Finds the element and acts on it, again if a live re-render replaced it in between
        (the page re-renders as events arrive; a user's click or keystroke never notices)."""
        deadline = time.monotonic() + STEP
        while True:
            try:
                return action(self.driver.find_element(by, what))
            except (StaleElementReferenceException, ElementNotInteractableException,
                    NoSuchElementException):
                if time.monotonic() > deadline:
                    raise

    def click(self, css):
        self.element_do(By.CSS_SELECTOR, css, lambda e: e.click())

    def text(self, css):
        return self.element_do(By.CSS_SELECTOR, css, lambda e: e.text)

    def type_into(self, element_id, text):
        for ch in text:  # a key at a time, as a user types (the page keeps focus and caret)
            self.element_do(By.ID, element_id, lambda e: e.send_keys(ch))

    def shot(self, name):
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name + ".png")
        self.driver.save_screenshot(path)
        print("screenshot: %s" % path, flush=True)


class WebUiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="emu-web-")
        cls.daemon = emu.Daemon(fixtures=[FIXTURE], workdir=cls.workdir).start()
        cls.health = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
        threading.Thread(target=cls.health.serve_forever, daemon=True).start()
        cls.browser = Chromium(cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.health.shutdown()
        cls.daemon.stop()

    def values(self, name):
        """The values of `name`'s rows in the page's DNS table."""
        return set(self.browser.js(
            "return [...document.querySelectorAll('#dns tr[data-value]')]"
            ".filter(r => r.dataset.name === arguments[0] && r.children[1].textContent === 'A').map(r => r.dataset.value)", name))

    def go(self, hash_route):
        self.browser.js("location.hash = arguments[0]", hash_route)

    def test_the_page(self):
        b, d = self.browser, self.daemon
        b.driver.get(d.api_url + "/")
        self.assertEqual(b.driver.current_url.split("#")[0], d.api_url + "/ui/")
        b.wait(lambda: b.js("return !!document.querySelector('#live.on')"), STEP, "stream open")
        b.js("window.__sameDocument = 42")

        # Services: the demo fixture's one service with its three running tasks.
        b.wait(lambda: b.js("return !!document.querySelector('tr[data-service=\"game-server.local\"]')"),
               STEP, "game-server.local in Services")
        row = b.text('tr[data-service="game-server.local"]')
        self.assertIn("MULTIVALUE", row)
        self.assertIn("A, SRV", row)
        b.shot("services")

        # DNS: what a query answers now, per name.
        self.go("#/dns")
        b.wait(lambda: self.values("game-server.local") == {"10.0.0.1", "10.0.0.2", "10.0.0.3"},
               STEP, "three A records in the DNS table")
        b.type_into("ask-name", "game-server.local")
        b.click("#ask button")
        b.wait(lambda: "NOERROR" in b.js(
            "const a = document.getElementById('ask-answer'); return a ? a.textContent : ''"),
            STEP, "the ask box's answer")
        b.shot("dns")

        # A service with probes (loopback HTTP endpoint), for the timeline.
        port = self.health.server_address[1]
        d.api("PUT", "/v1/services/web.local", {"healthCheck": {
            "type": "http", "path": "/health", "interval": "200ms", "retries": 2}}, expect=201)
        d.api("POST", "/v1/services/web.local/tasks", {"ip": "127.0.0.1", "port": port}, expect=201)

        # A service view: registering through the API shows up without a reload.
        self.go("#/service/game-server.local")
        b.wait(lambda: b.js("return document.querySelectorAll('#tasks tr[data-task]').length") == 3,
               STEP, "three tasks")
        d.api("POST", "/v1/services/game-server.local/tasks",
              {"ip": "10.0.0.4", "port": 50051}, expect=201)
        start = time.monotonic()
        b.wait(lambda: b.js("return !!document.querySelector('#tasks tr[data-ip=\"10.0.0.4\"]')"),
               LIVE, "the new task within a second")
        print("new task shown after %.0f ms" % ((time.monotonic() - start) * 1000))

        # Mark one UNHEALTHY from the page, confirming in the dialog.
        b.click('tr[data-ip="10.0.0.1"] button[data-act="UNHEALTHY"]')
        b.wait(lambda: b.js("return document.getElementById('confirm').open"), STEP, "confirm")
        task = b.js("return document.querySelector('tr[data-ip=\"10.0.0.1\"]').dataset.task")
        b.click("#confirm-ok")
        start = time.monotonic()
        self.go("#/dns")
        b.wait(lambda: self.values("game-server.local") == {"10.0.0.2", "10.0.0.3", "10.0.0.4"},
               LIVE, "10.0.0.1 out of the DNS table within a second")
        self.go("#/events?type=TaskHealthChanged")
        b.wait(lambda: b.js("return document.querySelectorAll("
                            "'#events tr[data-type=\"TaskHealthChanged\"]').length") > 0,
               LIVE, "the TaskHealthChanged event")
        elapsed = time.monotonic() - start
        print("unhealthy: out of DNS and event shown after %.0f ms" % (elapsed * 1000))
        self.assertLess(elapsed, LIVE)
        _, health = d.api("GET", "/v1/tasks/" + task, expect=200)
        self.assertEqual(health["healthStatus"], "UNHEALTHY")  # the page made the real call
        b.shot("events-filtered")
        self.go("#/events")
        b.wait(lambda: b.js("return document.querySelectorAll('#events tr[data-type]').length") > 5,
               STEP, "all events")
        b.shot("events")

        # The service view, with the probe results of web.local opened.
        self.go("#/service/game-server.local")
        b.wait(lambda: b.js("return document.querySelectorAll('#tasks tr[data-task]').length") == 4,
               STEP, "four tasks (one stopped)")
        b.shot("service")
        self.go("#/service/web.local")
        b.wait(lambda: b.js("return document.querySelectorAll('#tasks .tick.PASS').length") >= 3,
               STEP, "probe results in the timeline")
        b.click("#tasks button[data-toggle]")
        b.wait(lambda: b.js("return document.querySelectorAll('tr.results tr').length") > 2,
               STEP, "the results table")
        b.shot("service-probes")

        self.assertEqual(b.js("return window.__sameDocument"), 42, "the page was reloaded")
        # Every request went to the daemon's origin; nothing failed in the console.
        foreign = b.js("return performance.getEntries().map(e => e.name)"
                       ".filter(n => /^[a-z]+:/.test(n) && new URL(n).origin !== location.origin)")
        self.assertEqual(foreign, [])
        errors = [e for e in b.driver.get_log("browser") if e.get("level") == "SEVERE"]
        self.assertEqual(errors, [])

    def test_stream_as_curl_reads_it(self):
        d = self.daemon
        _, first = d.api("GET", "/v1/events?after=0", expect=200)
        mark = first["index"]
        d.api("POST", "/v1/services/stream-check.local/tasks", {"ip": "10.0.0.9"}, expect=201)
        _, later = d.api("GET", "/v1/events?after=%d" % mark, expect=200)
        expected = [e["index"] for e in later["events"]]
        self.assertTrue(expected)
        conn = http.client.HTTPConnection("127.0.0.1", d.api_port, timeout=STEP)
        conn.request("GET", "/v1/events/stream", headers={"Last-Event-ID": str(mark)})
        res = conn.getresponse()
        self.assertEqual(res.status, 200)
        self.assertTrue(res.getheader("Content-Type").startswith("text/event-stream"))
        ids, data = [], []
        while len(data) < len(expected):
            line = res.fp.readline().decode()
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            elif line.startswith("data: "):
                data.append(json.loads(line[6:]))
        conn.close()
        self.assertEqual(ids, expected)
        self.assertEqual(data, later["events"])


if __name__ == "__main__":
    ARTIFACTS = emu.take_option("--artifacts", ARTIFACTS)
    emu.main()
