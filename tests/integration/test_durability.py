"""Durability: nothing acknowledged is lost when the daemon is killed with SIGKILL.

A client registers tasks as fast as it can while the daemon is killed at a random moment (after a
random number of acknowledged registrations, with requests still in flight), then restarted on the
same state file. Every task whose POST got a 201 must be back, DNS must answer for it, and SQLite's
integrity check must pass. Loopback only; bounded in rounds and time.
"""
import json
import os
import random
import sqlite3
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

import emu

ROUNDS = 6


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


if __name__ == "__main__":
    emu.main()
