"""Resource exhaustion on the API port (issue 10), end to end on the real daemon, loopback only.

The reproduction: the daemon runs under a descriptor limit set as both soft and hard (so its own
raise to the hard limit cannot lift it), a native service has a TCP health check (1 s interval,
2 retries) against a listener this test owns, and a client opens 1,100 idle TCP connections to
the API port and holds them. SPEC 12: resource exhaustion never changes a task's health.

- AtTheDefaultCap (1024 descriptors): the daemon's HTTP connection cap (512) keeps the flood from
  taking every descriptor. A new API client is answered within seconds, the task stays in DNS over
  several probe intervals, DNS over TCP answers, the daemon does not spin.
- PastTheDescriptorLimit (256 descriptors, below the cap): the flood does exhaust the descriptors
  (accept() gets EMFILE). The task must still stay in DNS (a probe that cannot get a socket is
  skipped, not failed), the daemon must not spin (no accept loop retries without a pause, DNS TCP
  included), the API logs the failures once, and both ports serve again once the flood is gone.

Bounded: 1,100 connections, windows of 3 to 5 s, every wait polls with a deadline.

    /usr/bin/python3 tests/integration/test_exhaustion.py --binary build/emulator/ecs-emulator
"""
import http.client
import os
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402
from test_health_targets import TcpTarget  # noqa: E402

FLOOD = 1100
PROBE = {"type": "tcp", "interval": "1s", "timeout": "500ms", "retries": 2}
DNS_WINDOW = 5.0  # five probe intervals: two failed probes would have removed the task
CPU_WINDOW = 3.0
CPU_BOUND = 1.0  # seconds of CPU per CPU_WINDOW: a spin detector, not a speed test
ANSWER_WITHIN = 5.0
PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"


def raise_own_fd_limit(need):
    """This process holds the flood: lift its soft descriptor limit (never the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    target = need if hard == resource.RLIM_INFINITY else min(hard, need)
    if target < need:
        raise AssertionError("this test holds %d sockets; the hard descriptor limit is %d"
                             % (need, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def cpu_seconds(pid):
    """utime + stime of a process (/proc/<pid>/stat fields 14 and 15), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_files_limit(pid):
    """(soft, hard) 'Max open files' of a process, as /proc/<pid>/limits shows them."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no 'Max open files' in /proc/%d/limits" % pid)


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def hold(seconds):
    """Lets a measurement window pass (not a synchronisation: nothing is waited for)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))


class LimitedDaemon(emu.Daemon):
    """emu.Daemon under `prlimit --nofile=N:N`. emu.Daemon runs emu.BINARY, so start() points it at
    a wrapper script that execs prlimit, which execs the daemon: the pid stays the daemon's."""

    def __init__(self, nofile, wrapper_dir, **kw):
        super().__init__(**kw)
        self.nofile = nofile
        self.wrapper = os.path.join(wrapper_dir, "ecs-emulator-nofile-%d" % nofile)

    def start(self, timeout=20.0):
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s --nofile=%d:%d %s \"$@\"\n"
                    % (shlex.quote(PRLIMIT), self.nofile, self.nofile, shlex.quote(emu.BINARY)))
        os.chmod(self.wrapper, 0o755)
        real, emu.BINARY = emu.BINARY, self.wrapper
        try:
            return super().start(timeout)
        finally:
            emu.BINARY = real


class ExhaustionBase(unittest.TestCase):
    NOFILE = 1024

    @classmethod
    def setUpClass(cls):
        raise_own_fd_limit(FLOOD + 256)
        cls.tmp = tempfile.mkdtemp(prefix="emu-exhaustion-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.flood = []
        self.target = TcpTarget("127.0.0.1")  # before the flood: a low descriptor, select() is fine
        self.addCleanup(self.target.close)
        self.d = LimitedDaemon(self.NOFILE, self.tmp).start()
        self.addCleanup(self.stop_daemon)
        self.pid = self.d.proc.pid
        self.assertEqual(os.path.realpath("/proc/%d/exe" % self.pid),  # measuring the daemon
                         os.path.realpath(emu.BINARY))
        self.assertEqual(open_files_limit(self.pid), (self.NOFILE, self.NOFILE))
        self.d.api("PUT", "/v1/services/x.local", {"healthCheck": PROBE}, expect=201)
        _, task = self.d.api("POST", "/v1/services/x.local/tasks",
                             {"ip": "127.0.0.1", "port": self.target.port}, expect=201)
        self.task_id = task["taskId"]
        emu.wait_until(lambda: self.health() == "HEALTHY", timeout=10,
                          message="the first TCP probe to pass")
        self.assertEqual(self.d.dig("x.local"), ["127.0.0.1"])
        self.open_flood()

    def stop_daemon(self):
        self.close_flood()
        code = self.d.stop()
        self.assertEqual(code, 0, "daemon exit code %s:\n%s" % (code, self.d.log()[-4000:]))

    def open_flood(self):
        """FLOOD idle connections to the API port; the kernel completes each whether or not the
        daemon accepts it, so this does not depend on the daemon keeping up."""
        for _ in range(FLOOD):
            self.flood.append(socket.create_connection(("127.0.0.1", self.d.api_port), timeout=5))

    def close_flood(self):
        for s in self.flood:
            s.close()
        self.flood = []

    def health(self):
        _, task = self.d.api("GET", "/v1/tasks/" + self.task_id, expect=200)
        return task["healthStatus"]

    def fresh_api_get(self, path, timeout=ANSWER_WITHIN):
        """One request on a new connection; returns (status, seconds)."""
        began = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.d.api_port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            return resp.status, time.monotonic() - began
        finally:
            conn.close()

    def log_lines(self, text):
        return [line for line in self.d.log().splitlines() if text in line]

    # ------------------------------------------------------------------ checks both classes make
    def assert_task_stays_in_dns(self):
        """Over DNS_WINDOW (five 1 s probe intervals) every UDP answer holds the task, and the
        probes kept running meanwhile (the listener saw them)."""
        probes_before = self.target.accepted
        end = time.monotonic() + DNS_WINDOW
        answers = 0
        while time.monotonic() < end:
            self.assertEqual(self.d.dig("x.local"), ["127.0.0.1"],
                             "the task left DNS after %d answers:\n%s"
                             % (answers, self.d.log()[-4000:]))
            answers += 1
            time.sleep(0.2)  # the polling interval of the check, not a synchronisation
        self.assertGreater(answers, 5)
        return self.target.accepted - probes_before

    def assert_no_spin(self):
        """CPU time over CPU_WINDOW while the flood is held and a DNS-over-TCP query is made:
        with descriptors short that connection waits in the DNS port's backlog, and an accept
        loop without a pause would spin on it (dig gives up after 2 s; the connection stays
        queued until accepted)."""
        dig = subprocess.Popen([emu.DIG, "@127.0.0.1", "-p", str(self.d.dns_port), "x.local", "A",
                                "+tcp", "+time=2", "+tries=1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            before = cpu_seconds(self.pid)
            hold(CPU_WINDOW)
            used = cpu_seconds(self.pid) - before
        finally:
            dig.wait(20)
        self.assertLess(used, CPU_BOUND, "the daemon used %.2f s of CPU in %.0f s with %d "
                        "connections held" % (used, CPU_WINDOW, FLOOD))


class AtTheDefaultCap(ExhaustionBase):
    """1024 descriptors: the HTTP connection cap (512) leaves the rest to DNS and the probes."""
    NOFILE = 1024

    def test_the_flood_stays_under_the_descriptor_limit(self):
        fds = open_descriptors(self.pid)
        self.assertLess(fds, self.NOFILE - 256, "the daemon holds %d descriptors" % fds)
        self.assertEqual(self.log_lines("accept failed"), [])

    def test_a_new_api_client_is_answered(self):
        status, took = self.fresh_api_get("/healthz")
        self.assertEqual(status, 200)
        self.assertLess(took, ANSWER_WITHIN)
        status, _ = self.fresh_api_get("/v1/dns/x.local?type=A")
        self.assertEqual(status, 200)

    def test_the_task_stays_in_dns_and_healthy(self):
        probes = self.assert_task_stays_in_dns()
        self.assertGreaterEqual(probes, 3, "the TCP probes stopped during the flood")
        self.assertEqual(self.health(), "HEALTHY")

    def test_dns_over_tcp_answers(self):
        self.assertEqual(self.d.dig("x.local", tcp=True), ["127.0.0.1"])

    def test_the_daemon_does_not_spin(self):
        self.assert_no_spin()


class PastTheDescriptorLimit(ExhaustionBase):
    """256 descriptors, below the cap: the flood exhausts them and accept() gets EMFILE."""
    NOFILE = 256

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # What the daemon cannot accept waits in its listen backlog (capped by somaxconn); a
        # smaller one would make the flood's connects time out instead.
        with open("/proc/sys/net/core/somaxconn") as f:
            somaxconn = int(f.read())
        if somaxconn < FLOOD:
            raise AssertionError("net.core.somaxconn is %d; this test queues %d connections"
                                 % (somaxconn, FLOOD))

    def setUp(self):
        super().setUp()
        emu.wait_until(lambda: self.log_lines("accept failed"), timeout=10,
                       message="the API port's accept() to fail (EMFILE)")

    def test_the_task_stays_in_dns(self):
        # Needs probes that cannot get a socket to be skipped, not failed (the health change).
        self.assert_task_stays_in_dns()

    def test_the_daemon_does_not_spin(self):
        # Needs the DNS port's accept loop to back off on EMFILE (the DNS change).
        self.assert_no_spin()

    def test_the_api_logs_accept_failures_once(self):
        hold(1.0)  # ten back-off periods
        self.assertEqual(len(self.log_lines("http: accept failed")), 1,
                         "\n".join(self.log_lines("accept failed")))

    def test_both_ports_serve_again_after_the_flood(self):
        self.close_flood()

        def answered():
            try:
                return self.fresh_api_get("/healthz", timeout=2)[0] == 200
            except OSError:
                return False

        emu.wait_until(answered, timeout=15, message="the API to answer after the flood")
        self.assertTrue(self.log_lines("http: accepting again"))
        emu.wait_until(lambda: self.d.dig("x.local", tcp=True) == ["127.0.0.1"], timeout=15,
                          message="DNS over TCP to answer after the flood")


if __name__ == "__main__":
    emu.main()
