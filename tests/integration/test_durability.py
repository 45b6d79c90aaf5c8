"""Durability: nothing acknowledged is lost when the daemon is killed with SIGKILL, and a SIGTERM
sent the moment the ready file appears gets the clean shutdown (exit 0, state intact).

A client registers tasks as fast as it can while the daemon is killed at a random moment (after a
random number of acknowledged registrations, with requests still in flight), then restarted on the
same state file. Every task whose POST got a 201 must be back, DNS must answer for it, and SQLite's
integrity check must pass. Loopback only; bounded in rounds and time.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import emu

ROUNDS = 6
TERM_ROUNDS = 15
TERM_TASKS = 2000


class Registrar(threading.Thread):
    """Posts registrations until told to stop; records the ids that got a 201."""

    def __init__(self, api_url, service, start_index):
        super().__init__(daemon=True)
        self.api_url = api_url
        self.service = service
        self.index = start_index
        self.acked = []
        self.enough = threading.Event()
        self.target = 0

    def run(self):
        while not self.enough.is_set():
            self.index += 1
            body = json.dumps({"ip": "127.1.%d.%d" % (self.index // 250, self.index % 250 + 1),
                               "port": 8000}).encode()
            req = urllib.request.Request(self.api_url + "/v1/services/%s/tasks" % self.service,
                                         data=body, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 201:
                        self.acked.append(json.loads(resp.read())["taskId"])
            except (urllib.error.URLError, ConnectionError, OSError):
                return  # the daemon died under us: what was acknowledged is what counts
            if len(self.acked) >= self.target:
                self.target = 1 << 30  # signal once
                self.reached.set()


class DurabilityTest(unittest.TestCase):
    def test_acknowledged_registrations_survive_sigkill(self):
        rng = random.Random(int.from_bytes(os.urandom(4), "little"))
        with tempfile.TemporaryDirectory(prefix="emu-durability-") as workdir:
            state = os.path.join(workdir, "state.db")
            acknowledged = []
            index = 0
            for round_no in range(ROUNDS):
                d = emu.Daemon(state=state, workdir=workdir).start()
                writer = None
                try:
                    # everything acknowledged in earlier rounds is back after the crash
                    status, body = d.api("GET", "/v1/tasks?service=web.local")
                    if acknowledged:
                        self.assertEqual(status, 200)
                        present = {t["taskId"] for t in body["tasks"]}
                        missing = [t for t in acknowledged if t not in present]
                        self.assertEqual(missing, [], "round %d lost acknowledged tasks" % round_no)
                        self.assertEqual(len(d.dig("web.local", "A", tcp=True)),
                                         min(8, len(acknowledged)))
                    writer = Registrar(d.api_url, "web.local", index)
                    writer.reached = threading.Event()
                    writer.target = rng.randint(1, 40)
                    writer.start()
                    self.assertTrue(writer.reached.wait(30), "no registrations acknowledged")
                finally:
                    d.kill()  # SIGKILL while the writer still has a request in flight
                self.assertIsNotNone(writer)
                writer.enough.set()
                writer.join(10)
                acknowledged += writer.acked
                index = writer.index + 1
            # the final state: every acknowledged task, and a sound database file
            with emu.Daemon(state=state, workdir=workdir) as d:
                status, body = d.api("GET", "/v1/tasks?service=web.local")
                self.assertEqual(status, 200)
                present = {t["taskId"] for t in body["tasks"]}
                self.assertEqual([t for t in acknowledged if t not in present], [])
            conn = sqlite3.connect(state)
            try:
                self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            finally:
                conn.close()
            self.assertGreater(len(acknowledged), ROUNDS)

    def test_sigterm_as_soon_as_ready_shuts_down_cleanly(self):
        # A caller that waits for the ready file and then stops the daemon (scripts, CI, the
        # bench) must get the clean shutdown, not the default action of SIGTERM.
        with tempfile.TemporaryDirectory(prefix="emu-term-") as workdir:
            state = os.path.join(workdir, "state.db")
            tasks = [{"ip": "10.70.%d.%d" % (i // 250, i % 250 + 1), "port": 80}
                     for i in range(TERM_TASKS)]
            fx = emu.write_fixture(workdir, {
                "namespaces": [{"name": "local"}],
                "services": [{"name": "web", "namespace": "local", "records": ["A", "SRV"],
                              "tasks": tasks}]})
            with emu.Daemon(fixtures=[fx], state=state, workdir=workdir) as d:
                status, body = d.api("GET", "/v1/tasks?service=web.local")
                self.assertEqual(status, 200)
                ids = sorted(t["taskId"] for t in body["tasks"])
            self.assertEqual(len(ids), TERM_TASKS)
            ready = os.path.join(workdir, "ready.json")
            for round_no in range(TERM_ROUNDS):
                if os.path.exists(ready):
                    os.unlink(ready)
                with open(os.path.join(workdir, "term.log"), "wb") as log:
                    proc = subprocess.Popen(
                        [emu.BINARY, "serve", "--dns-listen", "127.0.0.1:0", "--api-listen",
                         "127.0.0.1:0", "--state", state, "--ready-file", ready],
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                        env={k: v for k, v in os.environ.items()
                             if not k.startswith("ECS_EMULATOR_")})
                    try:
                        # Busy-wait (bounded): the signal must follow the ready file at once.
                        deadline = time.monotonic() + 30
                        while not os.path.exists(ready):
                            self.assertIsNone(proc.poll(), "daemon exited before ready")
                            self.assertLess(time.monotonic(), deadline, "daemon not ready")
                        proc.send_signal(signal.SIGTERM)
                        rc = proc.wait(20)
                    finally:
                        if proc.poll() is None:
                            proc.kill()
                            proc.wait()
                with open(os.path.join(workdir, "term.log"), errors="replace") as f:
                    text = f.read()
                self.assertEqual(rc, 0, "round %d: SIGTERM right after ready gave %s:\n%s" %
                                 (round_no, rc, text[-2000:]))
                self.assertIn("stopped", text)
            with emu.Daemon(state=state, workdir=workdir) as d:
                status, body = d.api("GET", "/v1/tasks?service=web.local")
                self.assertEqual(status, 200)
                self.assertEqual(sorted(t["taskId"] for t in body["tasks"]), ids)
                self.assertEqual(len(d.dig("web.local", "A", tcp=True)), 8)
            conn = sqlite3.connect(state)
            try:
                self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            finally:
                conn.close()


if __name__ == "__main__":
    emu.main()
