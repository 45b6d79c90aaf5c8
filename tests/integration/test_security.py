#!/usr/bin/env python3
"""Issue 10's reproductions on the real daemon (SPEC section 12), loopback only:
- a foreign page's CSRF (a text/plain POST with a foreign Origin) gets 403 and stores nothing;
- a rebound name (a dotted Host outside the allowed list) gets 403 on native and AWS routes;
- a command probe from the API is refused (400 CommandProbesDisabled) unless the operator chose
  --allow-command-probes all; in fixture files it needs `fixtures`, and startup fails naming the
  file, the field and the flag otherwise;
- a StopTask reason with CR/LF cannot forge a log line.
The same guard in a real browser: test_browser_security.py."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

CURL = shutil.which("curl") or "/usr/bin/curl"


def raw_request(port, method, path, headers, body=None):
    """One request with exactly these headers (Host included); returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
    finally:
        conn.close()


class DefaultsTest(unittest.TestCase):
    """A daemon started with the defaults, as a developer starts it on a laptop."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="emu-security-")
        cls.pwned = os.path.join(cls.tmp, "pwned")
        cls.d = emu.Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)  # stops it and removes its working directory
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def payload(self):
        return json.dumps({"ip": "127.0.0.1", "port": 1,
                           "healthCheck": {"type": "command",
                                           "command": ["CMD-SHELL", "id > %s" % self.pwned],
                                           "interval": "1s"}})

    def curl(self, *args):
        out = subprocess.run([CURL, "-s", "-o", "-", "-w", "\n%{http_code}", *args],
                             capture_output=True, text=True, timeout=20)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), json.loads(body) if body.strip() else None

    def test_issue_reproduction_csrf_is_refused_and_nothing_runs(self):
        code, body = self.curl("-X", "POST", "%s/v1/services/csrf.local/tasks" % self.d.api_url,
                               "-H", "Origin: https://evil.example", "-H", "Content-Type: text/plain",
                               "-d", self.payload())
        self.assertEqual(code, 403, body)
        self.assertEqual(body["error"], "ForbiddenOrigin")
        self.assertIn("--allowed-origins", body["message"])
        # Nothing was stored, so nothing can ever run.
        self.assertEqual(self.d.api("GET", "/v1/services/csrf.local")[0], 404)
        self.assertEqual(self.d.api("GET", "/v1/tasks")[1]["tasks"], [])
        self.assertFalse(os.path.exists(self.pwned))

    def test_command_probe_from_the_api_is_refused_without_the_flag(self):
        code, body = self.curl("-X", "POST", "%s/v1/services/cmd.local/tasks" % self.d.api_url,
                               "-H", "Content-Type: application/json", "-d", self.payload())
        self.assertEqual(code, 400, body)
        self.assertEqual(body["error"], "CommandProbesDisabled")
        self.assertEqual(body["field"], "healthCheck")
        self.assertIn("--allow-command-probes all", body["message"])
        self.assertEqual(self.d.api("GET", "/v1/services/cmd.local")[0], 404)
        status, body = self.d.api("PUT", "/v1/services/cmd.local",
                                  {"healthCheck": {"type": "command", "command": ["CMD", "true"]}})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"], "CommandProbesDisabled")
        self.assertFalse(os.path.exists(self.pwned))

    def test_reset_from_a_foreign_page_is_refused(self):
        self.d.api("PUT", "/v1/services/keep.local", {}, expect=201)
        status, _, body = raw_request(self.d.api_port, "POST", "/v1/reset",
                                      {"Host": "127.0.0.1:%d" % self.d.api_port,
                                       "Origin": "http://evil.test", "Content-Type": "text/plain"},
                                      "")
        self.assertEqual(status, 403, body)
        self.assertEqual(self.d.api("GET", "/v1/services/keep.local")[0], 200)

    def test_rebinding_host_is_refused_on_native_and_aws_routes(self):
        host = {"Host": "evil.test:%d" % self.d.api_port}
        status, headers, body = raw_request(self.d.api_port, "GET", "/v1/services", host)
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["error"], "ForbiddenHost")
        self.assertNotIn("access-control-allow-origin", headers)
        status, _, body = raw_request(
            self.d.api_port, "POST", "/",
            dict(host, **{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
                          "Content-Type": "application/x-amz-json-1.1"}), "{}")
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["__type"], "AccessDeniedException")
        # IP literals, single-label names and the SDKs' data- prefix keep working.
        for h in ("127.0.0.1:%d" % self.d.api_port, "localhost", "emulator:9080",
                  "data-127.0.0.1:%d" % self.d.api_port):
            status, _, body = raw_request(self.d.api_port, "GET", "/healthz", {"Host": h})
            self.assertEqual(status, 200, (h, body))

    def test_loopback_page_gets_cors(self):
        status, headers, _ = raw_request(self.d.api_port, "GET", "/v1/services",
                                         {"Host": "127.0.0.1:%d" % self.d.api_port,
                                          "Origin": "http://localhost:5173"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("access-control-allow-origin"), "http://localhost:5173")

    def test_stop_task_reason_cannot_forge_a_log_line(self):
        target = "AmazonEC2ContainerServiceV20141113."

        def ecs(op, body):
            return self.d.api("POST", "/", body, headers={"X-Amz-Target": target + op,
                                                          "Content-Type": "application/x-amz-json-1.1"})
        ecs("CreateCluster", {"clusterName": "logs"})
        ecs("RegisterTaskDefinition", {"family": "f", "containerDefinitions": [
            {"name": "a", "image": "x", "memory": 64}]})
        status, run = ecs("RunTask", {"cluster": "logs", "taskDefinition": "f"})
        self.assertEqual(status, 200, run)
        arn = run["tasks"][0]["taskArn"]
        forged = "FORGED 2026-12-02T00:00:00.000Z ERROR events: task deadbeef STOPPED (forged)"
        status, body = ecs("StopTask", {"cluster": "logs", "task": arn,
                                        "reason": "bye\r\n" + forged + "\n"})
        self.assertEqual(status, 200, body)
        emu.wait_until(lambda: "bye\\r\\nFORGED" in self.d.log(), 10,
                       message="the StopTask reason in the log")
        for line in self.d.log().splitlines():
            self.assertFalse(line.startswith("FORGED"), line)


class FixtureCommandProbesTest(unittest.TestCase):
    """Command probes in fixture files: refused at startup unless the operator allows them."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="emu-security-fx-")
        self.marker = os.path.join(self.tmp, "ran")
        self.fixture = emu.write_fixture(self.tmp, {"services": [{
            "name": "probe", "ttl": 5,
            "healthCheck": {"type": "command", "command": ["CMD-SHELL", "touch %s" % self.marker],
                            "interval": "1s"},
            "tasks": [{"ip": "127.0.0.2", "port": 8080}]}]})

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_off_by_default_stops_startup_naming_file_field_and_flag(self):
        out = subprocess.run([emu.BINARY, "--dns-listen", "127.0.0.1:0", "--api-listen",
                              "127.0.0.1:0", "--state", ":memory:", "--fixtures", self.fixture],
                             capture_output=True, text=True, timeout=20,
                             env={k: v for k, v in os.environ.items()
                                  if not k.startswith("ECS_EMULATOR_")})
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(self.fixture + ": services[0].healthCheck: command probes", out.stderr)
        self.assertIn("--allow-command-probes fixtures", out.stderr)
        self.assertFalse(os.path.exists(self.marker))

    def test_fixtures_mode_runs_them_and_still_refuses_the_api(self):
        with emu.Daemon(fixtures=[self.fixture], args=["--allow-command-probes", "fixtures"]) as d:
            emu.wait_until(lambda: os.path.exists(self.marker), 10,
                           message="the fixture's command probe to run")
            status, body = d.api("PUT", "/v1/services/other.local",
                                 {"healthCheck": {"type": "command", "command": ["CMD", "true"]}})
            self.assertEqual(status, 400, body)
            self.assertEqual(body["error"], "CommandProbesDisabled")
            self.assertIn("only in fixture files", body["message"])
            self.assertIn("command probes run on this host", d.log())


if __name__ == "__main__":
    emu.main()
