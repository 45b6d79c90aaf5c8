#!/usr/bin/env python3
"""Issue 10 section 2 in a real browser: headless Chromium (Debian's) against the real daemon,
loopback only. Chromium maps the foreign name evil.test to 127.0.0.1 (--host-resolver-rules), so
a page "from the internet" is served by this test on 127.0.0.1 and Chromium still treats it as
the origin http://evil.test:PORT, with the Origin and Host headers a real attack sends.
- A page of a foreign origin tries the CSRF of the issue (a no-cors text/plain fetch and an HTML
  form POST), a read of /v1/services and a preflighted PUT: every one reaches the daemon and is
  refused (the refusal counter in /metrics goes up by one per request and nothing else is
  answered), nothing is stored and the command never runs.
- The control: the same page against a daemon that allows that origin registers both command
  probes and they run. So the browser delivers these requests, and the Origin check is what
  stops them in the first case.
- DNS rebinding: the API opened under the foreign name, and a page whose own origin's server
  is swapped for the daemon (its same-origin read, which the browser lets it see), get 403
  ForbiddenHost, not the services.
- The same page served from localhost reads the services through CORS and creates one with a
  preflighted PUT.
Each case leaves a screenshot under --artifacts DIR (default: the working directory).
Chromium, chromedriver and Selenium come from scripts/install-deps.sh; without them this fails."""
import http.server
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # a failure, not a skip: CI installs it
    sys.exit("test_browser_security.py: needs python3-selenium (scripts/install-deps.sh): %s" % e)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")
ARTIFACTS = os.getcwd()
FOREIGN = "evil.test"
STEP_TIMEOUT = 30.0  # seconds for one page step (a request to loopback takes milliseconds)

# What makes headless Chromium usable here, and why:
CHROMIUM_FLAGS = [
    "--headless=new",
    # Root in a container: Chromium's sandbox needs user namespaces it does not get.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a container's /dev/shm is small; use /tmp
    # Chromium's own traffic (component updates, variations, sync, QUIC probes) is refused by
    # this machine's closed network; it must not delay or disturb the pages.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",  # an http_proxy in the environment must not carry loopback traffic
    # The attack's name: evil.test resolves to loopback, as a rebinding attacker's DNS would do.
    "--host-resolver-rules=MAP %s 127.0.0.1" % FOREIGN,
    "--window-size=1100,720",
]
# No flag for Private Network Access / Local Network Access: Chromium ranks a document by the
# address it was loaded from, and evil.test is loaded from 127.0.0.1, so its requests to the API
# are loopback to loopback and go out unchecked (no Access-Control-Request-Private-Network
# preflight, no permission prompt). Each step below asserts in /metrics that its request reached
# the daemon, so a pass never rests on Chromium blocking something.


class PageServer:
    """Serves tests/integration/browser/ on 127.0.0.1. stop() also closes the connections it
    accepted: Chromium opens spare ones ahead of need (preconnect), and one left open would
    carry a later request of the page to this server instead of whatever listens on the port
    next."""

    def __init__(self, port=0):
        handler = lambda *a, **kw: QuietHandler(*a, directory=PAGE_DIR, **kw)  # noqa: E731
        self.httpd = TrackingServer(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.httpd is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.httpd.lock:
            for conn in self.httpd.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.thread.join(10)
        self.httpd = None


class TrackingServer(http.server.ThreadingHTTPServer):
    def __init__(self, *args):
        self.lock = threading.Lock()
        self.connections = set()
        super().__init__(*args)

    def process_request(self, request, client_address):
        with self.lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def request_counts(d):
    """/metrics' ecs_emulator_api_requests_total as {(route, method, status): n} (summed over AWS
    operations), without /metrics."""
    status, text = d.api("GET", "/metrics")
    assert status == 200, text
    counts = {}
    for line in text.splitlines():
        m = re.match(r'ecs_emulator_api_requests_total\{route="([^"]*)",operation="[^"]*",'
                     r'method="([^"]*)",status="(\d+)"\} (\d+)$', line)
        if m and m[1] != "/metrics":
            key = (m[1], m[2], int(m[3]))
            counts[key] = counts.get(key, 0) + int(m[4])
    return counts


def page_url(host, port, **query):
    return "http://%s:%d/attack.html?%s" % (host, port, urllib.parse.urlencode(query))


def delta(before, after):
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k, 0) != before.get(k, 0)}


def proc_stat(pid):
    """(parent pid, start time) of a live process, from /proc/PID/stat; None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def process_tree(pid):
    """[(pid, start time)] of `pid` and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        stat = proc_stat(int(entry)) if entry.isdigit() else None
        if stat:
            children.setdefault(stat[0], []).append((int(entry), stat[1]))
    found = [(pid, (proc_stat(pid) or (0, None))[1])]
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def kill_tree(tree):
    """SIGKILL to each process of `tree` still alive; the start time guards against pid reuse."""
    for pid, started in tree:
        stat = proc_stat(pid)
        if stat and stat[1] == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Browser:
    """One headless Chromium driven through chromedriver. Both stay in the test's process group,
    so CTest's kill at its timeout takes them too; quit() ends each of them by pid whatever
    state they are in (Chromium's crash handlers leave with the browser)."""

    def __init__(self, workdir):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS + ["--user-data-dir=" + self.profile]:
            options.add_argument(flag)
        self.log_path = os.path.join(workdir, "chromedriver.log")
        self.service = Service(CHROMEDRIVER, log_path=self.log_path)
        self.driver = None
        try:
            self.driver = webdriver.Chrome(service=self.service, options=options)
        except Exception:
            self.quit()
            raise
        self.driver.set_page_load_timeout(STEP_TIMEOUT)
        self.driver.set_script_timeout(STEP_TIMEOUT)
        self.version = self.driver.capabilities.get("browserVersion", "?")

    def quit(self):
        proc = getattr(self.service, "process", None)
        tree = process_tree(proc.pid) if proc is not None else []
        try:
            if self.driver is not None:
                self.driver.quit()
        except WebDriverException:
            pass
        finally:
            kill_tree(tree)
            if proc is not None:
                proc.wait(10)

    def open(self, url):
        self.driver.get(url)
        WebDriverWait(self.driver, STEP_TIMEOUT).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def run(self, step):
        """Runs one step of attack.html and returns (outcome, its line of text)."""
        runs = int(self.driver.find_element(By.ID, "done").get_attribute("data-runs"))
        self.driver.execute_script("window.run([arguments[0]])", step)
        WebDriverWait(self.driver, STEP_TIMEOUT).until(
            lambda d: int(d.find_element(By.ID, "done").get_attribute("data-runs")) > runs,
            "step %s did not finish" % step)
        li = self.driver.find_elements(By.ID, "r-" + step)[-1]
        return li.get_attribute("data-outcome"), li.text

    def note(self, step, text):
        """Adds what the test checked on the daemon's side under the step's line (screenshots)."""
        self.driver.execute_script("window.note(arguments[0], arguments[1])", step, text)

    def body_text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def screenshot(self, name):
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name + ".png")
        self.driver.save_screenshot(path)
        print("screenshot: %s" % path, flush=True)
        return path


class BrowserSecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                raise AssertionError("%s is missing: scripts/install-deps.sh installs chromium and "
                                     "chromium-driver" % path)
        # Class cleanups run even when setUpClass fails half way (tearDownClass would not).
        cls.tmp = tempfile.mkdtemp(prefix="emu-browser-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.pwned = os.path.join(cls.tmp, "pwned")
        cls.pages = PageServer()
        cls.addClassCleanup(cls.pages.stop)
        # Command probes on, on purpose: with them the CSRF of issue 10 runs a shell command, and
        # the Origin check is then the only thing between a foreign page and the host.
        workdir = os.path.join(cls.tmp, "daemon")
        os.mkdir(workdir)
        cls.d = emu.Daemon(args=["--allow-command-probes", "all"], workdir=workdir)
        cls.addClassCleanup(cls.d.stop)
        cls.d.start()
        cls.d.api("PUT", "/v1/services/listed-by-test.local", {}, expect=201)
        started = time.monotonic()
        cls.browser = Browser(cls.tmp)
        cls.addClassCleanup(cls.browser.quit)
        print("Chromium %s started in %.1fs" % (cls.browser.version, time.monotonic() - started),
              flush=True)

    def page_url(self, host, title, api, pwned=None):
        return page_url(host, self.pages.port, title=title, api=api, file=pwned or self.pwned)

    def assert_refused_one(self, step, method, before, after):
        """Exactly one request of this step reached the daemon, and it was refused."""
        self.assertEqual(delta(before, after), {("refused", method, 403): 1},
                         "%s: what the daemon answered" % step)
        self.browser.note(step, "daemon: one %s, answered 403 (/metrics route=\"refused\" +1)"
                          % method)

    def test_foreign_page_cannot_drive_the_api(self):
        b, d = self.browser, self.d
        b.open(self.page_url(FOREIGN, "Foreign page (http://evil.test) against the API",
                             d.api_url))
        # The page can tell nothing from an opaque answer, so each step is judged on the daemon.
        expected = {"csrf-fetch": ("POST", "opaque"), "csrf-form": ("POST", "submitted"),
                    "read": ("GET", "network-error"), "put": ("OPTIONS", "network-error")}
        for step, (method, outcome) in expected.items():
            before = request_counts(d)
            got, text = b.run(step)
            self.assert_refused_one(step, method, before, request_counts(d))
            self.assertEqual(got, outcome, text)
            if step == "read":
                self.assertIn("TypeError", text)
                self.assertNotIn("listed-by-test", text)
        self.assertEqual(d.api("GET", "/v1/tasks")[1]["tasks"], [])
        b.note("csrf-form", "GET /v1/tasks from the test: []; no command ran")
        b.screenshot("foreign-page")
        # The form's answer, in its frame: the 403 the page cannot read.
        b.driver.switch_to.frame("sink")
        self.assertIn("ForbiddenOrigin", b.body_text())
        b.driver.switch_to.default_content()
        # Nothing stored, nothing ran; the log names the refused origin.
        for name in ("csrf.local", "csrf-form.local", "page-put.local"):
            self.assertEqual(d.api("GET", "/v1/services/" + name)[0], 404, name)
        self.assertEqual(d.api("GET", "/v1/tasks")[1]["tasks"], [])
        self.assertFalse(os.path.exists(self.pwned + "-fetch"))
        self.assertFalse(os.path.exists(self.pwned + "-form"))
        self.assertIn("Origin 'http://%s:%d'" % (FOREIGN, self.pages.port), d.log())

    def test_control_an_allowed_origin_gets_the_same_attack_through(self):
        # The same page against a daemon told to trust evil.test: both CSRF vectors register a
        # command probe and it runs. This is what the Origin check prevents above.
        b = self.browser
        origin = "http://%s:%d" % (FOREIGN, self.pages.port)
        pwned = self.pwned + "-control"  # its probes run every second until the daemon stops
        with emu.Daemon(args=["--allow-command-probes", "all", "--allowed-origins", origin]) as d:
            b.open(self.page_url(FOREIGN, "Control: a daemon started with --allowed-origins "
                                 + origin, d.api_url, pwned))
            for step in ("csrf-fetch", "csrf-form"):
                before = request_counts(d)
                b.run(step)
                self.assertEqual(delta(before, request_counts(d)),
                                 {("/v1/services/{name}/tasks", "POST", 201): 1}, step)
                made = pwned + "-" + step.split("-")[1]
                emu.wait_until(lambda: os.path.exists(made), 20,
                               message="the %s's command probe to run" % step)
                b.note(step, "daemon: 201 Created, and the probe ran: %s exists" % made)
            b.screenshot("control-allowed-origin")
            for name in ("csrf.local", "csrf-form.local"):
                self.assertEqual(d.api("GET", "/v1/services/" + name)[0], 200, name)

    def test_rebinding_opening_the_api_under_a_foreign_name_is_refused(self):
        # A daemon of its own: after the page, Chromium asks this origin for /favicon.ico when it
        # likes, and that late (refused) request must not land in another test's counts.
        b = self.browser
        with emu.Daemon() as d:
            d.api("PUT", "/v1/services/listed-by-test.local", {}, expect=201)
            before = request_counts(d)
            b.open("http://%s:%d/v1/services" % (FOREIGN, d.api_port))
            text = b.body_text()
            self.assertIn("ForbiddenHost", text)
            self.assertNotIn("listed-by-test", text)
            answered = delta(before, request_counts(d))
            self.assertEqual(list(answered), [("refused", "GET", 403)], answered)
            self.assertGreaterEqual(answered[("refused", "GET", 403)], 1)
            b.screenshot("rebinding-navigation")
            self.assertIn("Host '%s:%d'" % (FOREIGN, d.api_port), d.log())

    def test_rebinding_page_whose_server_became_the_api_reads_a_403(self):
        # The attack as it happens: the page comes from the attacker's server at evil.test:P,
        # then the name points at 127.0.0.1 and port P is the emulator. The page's read is now
        # same-origin, so the browser shows it the answer: it must be the 403, not the data.
        b = self.browser
        pages = PageServer()
        port = pages.port
        try:
            b.open(page_url(FOREIGN, port, title="DNS rebinding: the page's own origin is now "
                            "the API"))
        finally:
            pages.stop()
        with emu.Daemon(args=["--api-listen", "127.0.0.1:%d" % port]) as d:
            self.assertEqual(d.api_port, port)
            self.browser.driver.execute_script(
                "document.getElementById('where').textContent += '  (port %d: now the daemon)'"
                % port)
            d.api("PUT", "/v1/services/listed-by-test.local", {}, expect=201)
            before = request_counts(d)
            outcome, text = b.run("read")
            self.assert_refused_one("read", "GET", before, request_counts(d))
            self.assertEqual(outcome, "status-403", text)
            self.assertIn("ForbiddenHost", text)
            self.assertNotIn("listed-by-test", text)
            b.screenshot("rebinding-page")

    def test_loopback_page_still_works(self):
        b, d = self.browser, self.d
        b.open(self.page_url("localhost", "The same page from http://localhost", d.api_url))
        before = request_counts(d)
        outcome, text = b.run("read")
        self.assertEqual(outcome, "status-200", text)
        self.assertIn("listed-by-test.local", text)
        outcome, text = b.run("put")
        self.assertEqual(outcome, "status-201", text)
        self.assertEqual(delta(before, request_counts(d)),
                         {("/v1/services", "GET", 200): 1, ("preflight", "OPTIONS", 204): 1,
                          ("/v1/services/{name}", "PUT", 201): 1})
        self.assertEqual(d.api("GET", "/v1/services/page-put.local")[1]["ttl"], 7)
        b.note("put", "daemon: preflight OPTIONS 204, then PUT 201; the test reads it back")
        b.screenshot("loopback-page")
        d.api("DELETE", "/v1/services/page-put.local")


if __name__ == "__main__":
    ARTIFACTS = emu.take_option("--artifacts", ARTIFACTS)
    emu.main()
