"""State file and fixtures at startup, against the real daemon (issue 10).

One daemon per database whatever the path: a second daemon on the same state file through a
symlink, `dir/../file` or a hard link exits non-zero naming the first one's pid, and the first one
keeps acknowledging writes. A zero-byte state file starts fresh with a warning; a file that is not
a database is refused by name. Fixtures: a service defined in two files, /dev/zero and a FIFO stop
startup quickly with the file named. Loopback only; every wait has a deadline.

    python3 tests/integration/test_state_and_fixtures.py --binary build/emulator/ecs-emulator
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

# A refused start reads a few files and exits: well under this, even on a loaded machine.
EXIT_DEADLINE = 15.0


def run_to_exit(*args):
    """Runs `ecs-emulator serve` on loopback port 0 with `args` until it exits (a deadline, never a
    hang: a daemon that starts serving instead is killed and fails the test). Returns (code, log)."""
    cmd = [emu.BINARY, "serve", "--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECS_EMULATOR_")}
    try:
        out = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=env, timeout=EXIT_DEADLINE)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("the daemon did not exit within %.0fs (%s):\n%s"
                             % (EXIT_DEADLINE, " ".join(args), (e.output or b"").decode()))
    return out.returncode, out.stdout.decode("utf-8", "replace")


class StateFileTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="emu-state-")
        self.dir = self._tmp.name
        self.state = os.path.join(self.dir, "state.db")

    def tearDown(self):
        self._tmp.cleanup()

    def register(self, d, ip):
        _, task = d.api("POST", "/v1/services/web.local/tasks", {"ip": ip, "port": 80}, expect=201)
        return task["taskId"]

    def test_second_daemon_on_the_same_file_under_another_name_is_refused(self):
        os.mkdir(os.path.join(self.dir, "sub"))
        names = {
            "symlink": os.path.join(self.dir, "link.db"),
            "dotdot": os.path.join(self.dir, "sub", "..", "state.db"),
            "hard link": os.path.join(self.dir, "hard.db"),
        }
        with emu.Daemon(state=self.state) as first:
            os.symlink(self.state, names["symlink"])
            os.link(self.state, names["hard link"])
            acked = [self.register(first, "127.0.0.2")]
            for what, name in names.items():
                with self.subTest(what):
                    code, log = run_to_exit("--state", name)
                    self.assertNotEqual(code, 0, log)
                    self.assertIn("another ecs-emulator (pid %d) holds state file %s"
                                  % (first.proc.pid, name), log)
                    self.assertNotIn("runtime: ready", log)
                    # the first one is unharmed and keeps acknowledging writes
                    acked.append(self.register(first, "127.0.0.%d" % (len(acked) + 2)))
            _, listed = first.api("GET", "/v1/tasks?service=web.local", expect=200)
            self.assertEqual(sorted(t["taskId"] for t in listed["tasks"]), sorted(acked))
        # once it is gone, any of the names opens the same state
        with emu.Daemon(state=names["symlink"]) as again:
            _, listed = again.api("GET", "/v1/tasks?service=web.local", expect=200)
            self.assertEqual(sorted(t["taskId"] for t in listed["tasks"]), sorted(acked))

    def test_zero_byte_state_file_starts_fresh_with_a_warning(self):
        open(self.state, "wb").close()
        warning = "state file %s is empty (0 bytes): starting with no state" % self.state
        with emu.Daemon(state=self.state) as d:
            self.assertIn(warning, d.log())
            _, listed = d.api("GET", "/v1/tasks", expect=200)
            self.assertEqual(listed["tasks"], [])
            task = self.register(d, "127.0.0.2")
        self.assertGreater(os.path.getsize(self.state), 0)
        # now it is a database: no warning, and the state is back
        with emu.Daemon(state=self.state) as d:
            self.assertNotIn("is empty", d.log())
            _, listed = d.api("GET", "/v1/tasks?service=web.local", expect=200)
            self.assertEqual([t["taskId"] for t in listed["tasks"]], [task])

    def test_file_that_is_not_a_database_is_refused_by_name(self):
        with open(self.state, "w") as f:
            json.dump({"services": [{"name": "web"}]}, f)  # a fixture given as --state
        with open(self.state, "rb") as f:
            before = f.read()
        code, log = run_to_exit("--state", self.state)
        self.assertNotEqual(code, 0, log)
        self.assertIn("state file %s is not an SQLite database" % self.state, log)
        with open(self.state, "rb") as f:
            self.assertEqual(f.read(), before)


class FixtureFilesTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="emu-fixtures-")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def test_service_defined_in_two_files_stops_startup_naming_both(self):
        a = emu.write_fixture(self.dir, {"services": [
            {"name": "api"}, {"name": "db"}, {"name": "game-server", "ttl": 10}]}, "a.json")
        b = emu.write_fixture(self.dir, {"services": [{"name": "game-server", "ttl": 60}]}, "b.json")
        code, log = run_to_exit("--state", ":memory:", "--fixtures", a, "--fixtures", b)
        self.assertNotEqual(code, 0, log)
        self.assertIn("%s: services[0]: service game-server.local is also defined in %s: services[2]"
                      % (b, a), log)

    def test_dev_zero_stops_startup_naming_it(self):
        code, log = run_to_exit("--state", ":memory:", "--fixtures", "/dev/zero")
        self.assertNotEqual(code, 0, log)
        self.assertIn("/dev/zero: not a regular file (a character device)", log)

    def test_fifo_stops_startup_without_waiting_for_a_writer(self):
        fifo = os.path.join(self.dir, "fixtures.json")
        os.mkfifo(fifo)
        code, log = run_to_exit("--state", ":memory:", "--fixtures", fifo)
        self.assertNotEqual(code, 0, log)
        self.assertIn("%s: not a regular file (a FIFO)" % fifo, log)


if __name__ == "__main__":
    emu.main()
