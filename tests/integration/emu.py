"""Test harness for integration tests: starts the real ecs-emulator on loopback ports.

Usage in a unittest module:

    import emu
    with emu.Daemon(fixtures=[path]) as d:
        d.dig("game-server.local", "A")          # -> list of answer strings (dig +short)
        d.api("POST", "/v1/services/x.local/tasks", {"ip": "127.0.0.2", "port": 80})
        d.wait_until(lambda: ..., timeout=5)      # condition with a deadline, no sleeps

Run a module with `--binary PATH` (CTest passes the built daemon); the rest of argv goes to unittest.
Traffic goes only to 127.0.0.0/8: the daemon listens on 127.0.0.1 with ephemeral ports.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BINARY = os.environ.get("ECS_EMULATOR_BINARY", "")
DIG = shutil.which("dig") or "/usr/bin/dig"


def take_option(name, default=None):
    """Removes `name VALUE` from sys.argv (before main() hands the rest to unittest); its value,
    or `default` when absent."""
    if name not in sys.argv:
        return default
    i = sys.argv.index(name)
    value = sys.argv[i + 1]
    del sys.argv[i:i + 2]
    return value


def main():
    """Parses --binary and runs unittest.main with the remaining arguments."""
    global BINARY
    argv = [sys.argv[0]]
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        if args[i] == "--binary":
            BINARY = args[i + 1]
            i += 2
            continue
        if args[i].startswith("--binary="):
            BINARY = args[i].split("=", 1)[1]
            i += 1
            continue
        argv.append(args[i])
        i += 1
    if not BINARY or not os.path.exists(BINARY):
        sys.exit("emu.py: pass --binary PATH to the ecs-emulator binary (got %r)" % BINARY)
    unittest.main(argv=argv, verbosity=2)


def wait_until(predicate, timeout=10.0, interval=0.005, message="condition"):
    """Polls predicate until it returns a truthy value or the deadline passes (then fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body


class Daemon:
    """The ecs-emulator process, on 127.0.0.1 with ephemeral DNS and API ports."""

    def __init__(self, fixtures=(), state=":memory:", args=(), env=None, workdir=None):
        self.fixtures = list(fixtures)
        self.state = state
        self.args = list(args)
        self.env = env
        self.workdir = workdir
        self.proc = None
        self.dns_port = None
        self.api_port = None
        self.log_path = None
        self._own_dir = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout=20.0):
        if self.workdir is None:
            self._own_dir = tempfile.mkdtemp(prefix="emu-test-")
            self.workdir = self._own_dir
        ready = os.path.join(self.workdir, "ready.json")
        if os.path.exists(ready):
            os.unlink(ready)
        self.log_path = os.path.join(self.workdir, "daemon.log")
        cmd = [BINARY, "serve", "--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
               "--state", self.state, "--ready-file", ready]
        for f in self.fixtures:
            cmd += ["--fixtures", f]
        cmd += self.args
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("ECS_EMULATOR_"):
                del env[k]
        if self.env:
            env.update(self.env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

        def is_ready():
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if not os.path.exists(ready):
                return None
            with open(ready) as f:
                return json.load(f)

        info = wait_until(is_ready, timeout, message="the daemon's ready file")
        self.dns_port = int(info["dns"].rsplit(":", 1)[1])
        self.api_port = int(info["api"].rsplit(":", 1)[1])
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Stops the daemon with `sig`; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("daemon did not exit within %.0fs after %s" % (timeout, sig))
        code = self.proc.returncode
        self.proc = None
        self._log.close()
        return code

    def kill(self):
        """SIGKILL, as a crash: no cleanup runs."""
        return self.stop(signal.SIGKILL)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if self._own_dir:
                shutil.rmtree(self._own_dir, ignore_errors=True)

    # ------------------------------------------------------------------ clients
    @property
    def api_url(self):
        return "http://127.0.0.1:%d" % self.api_port

    def api(self, method, path, body=None, headers=None, timeout=30.0, expect=None):
        """One HTTP request; returns (status, parsed JSON or text). Raises ApiError when `expect`
        is given and differs."""
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        req = urllib.request.Request(self.api_url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode("utf-8", "replace")
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = text
        if expect is not None and status != expect:
            raise ApiError(status, text)
        return status, payload

    def dig(self, name, qtype="A", tcp=False, extra=(), short=True):
        """Runs real dig against the daemon; returns the answer lines (+short) or the full text."""
        cmd = [DIG, "@127.0.0.1", "-p", str(self.dns_port), name, qtype, "+time=2", "+tries=1"]
        if tcp:
            cmd.append("+tcp")
        if short:
            cmd.append("+short")
        cmd += list(extra)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        if short:
            return [line for line in out.stdout.splitlines() if line.strip()]
        return out.stdout

    def dig_status(self, name, qtype="A", tcp=False, extra=()):
        """The rcode dig reports (NOERROR, NXDOMAIN, REFUSED, ...)."""
        text = self.dig(name, qtype, tcp=tcp, extra=extra, short=False)
        for line in text.splitlines():
            if "status:" in line:
                return line.split("status:")[1].split(",")[0].strip()
        return None


def write_fixture(directory, doc, name="fixture.json"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def run_aws(case, home, api_url, *args, expect=0):
    """Runs Debian's `/usr/bin/aws ARGS` (JSON output) against the daemon at `api_url`, asserts
    its exit code on the unittest `case`; returns (parsed stdout, stderr)."""
    cmd = ["/usr/bin/aws", "--endpoint-url", api_url, "--output", "json"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                         env=aws_cli_env(home, api_url))
    case.assertEqual(out.returncode, expect,
                     "%s\nstdout: %s\nstderr: %s" % (cmd, out.stdout, out.stderr))
    return (json.loads(out.stdout) if out.stdout.strip() else {}), out.stderr

class StateFileDaemonTest(unittest.TestCase):
    """A suite sharing one daemon on a state file in a temporary folder, restartable with
    `start_daemon()` on the same state, and an AWS CLI home of its own (`aws()`). Subclasses set
    `prefix` and `daemon_args`, and make their clients in `on_start()`."""
    prefix = "emu-"
    daemon_args = ()

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix=cls.prefix)
        cls.home = os.path.join(cls.dir, "home")
        os.mkdir(cls.home)
        cls.state = os.path.join(cls.dir, "state.db")
        cls.d = None
        cls.start_daemon()

    @classmethod
    def start_daemon(cls):
        cls.d = Daemon(state=cls.state, args=list(cls.daemon_args), workdir=cls.dir).start()
        cls.on_start()

    @classmethod
    def on_start(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        if cls.d:
            cls.d.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def aws(self, *args, expect=0):
        """Runs `aws ARGS` against the daemon; returns (parsed stdout, stderr)."""
        return run_aws(self, self.home, self.d.api_url, *args, expect=expect)



def aws_cli_env(home, api_url, region="us-east-1", proxy=False):
    """Environment for Debian's AWS CLI v2 (/usr/bin/aws) against the daemon: dummy credentials,
    no pager, no IMDS, config under `home`, one attempt. With `proxy`, HTTP_PROXY points at the
    daemon, which serves the absolute-form `POST http://data-127.0.0.1:PORT/` that the CLI 2.9
    sends for DiscoverInstances (it has no switch to drop the data- host prefix)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "no_proxy",
                                                             "all_proxy")}
    env.update({
        "HOME": home,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": region,
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(home, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    })
    if proxy:
        env["HTTP_PROXY"] = api_url
        env["http_proxy"] = api_url
    return env
