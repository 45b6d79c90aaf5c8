"""compose.yaml end to end with docker-compose (v1, Debian 12's 1.29) and the real Docker engine.

`up -d --build` under a project name of its own; the emulator discovers the three `game-server`
replicas from their labels: game-server.local answers their three addresses (dig from the host on
the published DNS port; getent and Python's resolver inside the client container, whose Docker
DNS forwards to the emulator); the client's calls reach all three. One replica is made to fail its
gRPC health check (/tmp/unhealthy): Docker marks it unhealthy, its record leaves DNS and the
client's calls stop reaching it. It is killed: still gone, and its task STOPPED. `down -v`: no
container, network or volume of the project is left.

The compose file's host ports (9053, 9080) and network (ecs-emulator-demo, 172.29.53.0/24) are
moved, through the variables compose.yaml reads, to free loopback ports and a free /24 with a
network name of this run, so that a demo running on the machine is not disturbed. The images are
built once by the CTest fixture `docker_images`; `up --build` then reuses Docker's build cache.
Fails, not skips, without Docker. Traffic goes only to loopback and to this project's containers.

Run: /usr/bin/python3 tests/integration/test_docker_compose.py
"""
import json
import os
import re
import time
import unittest
import urllib.error
import urllib.request
import uuid

import emu
import emu_docker
from emu_docker import docker

COMPOSE_FILE = os.path.join(emu_docker.REPO, "compose.yaml")
SERVICE = "game-server.local"
REPLY = re.compile(r"^reply from game-server replica (\S+) \((\S+)\)$")
QUIET_CALLS = 20  # consecutive client replies without the broken replica


class DockerComposeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        emu_docker.require_docker()
        if not os.path.exists(emu_docker.COMPOSE):
            raise AssertionError("docker-compose is missing (scripts/install-deps.sh installs it)")
        suffix = uuid.uuid4().hex[:8]
        cls.project = "emucompose" + suffix
        cls.network = "ecs-emu-compose-test-" + suffix
        cls.prefix = emu_docker.free_prefix()
        cls.emulator_ip = cls.prefix + ".53"
        cls.dns_port = emu_docker.free_port()
        cls.api_port = emu_docker.free_port()
        cls.env = dict(os.environ)
        cls.env.update({
            "ECS_EMULATOR_DEMO_NETWORK": cls.network,
            "ECS_EMULATOR_DEMO_NET": cls.prefix,
            "ECS_EMULATOR_DEMO_DNS_PORT": str(cls.dns_port),
            "ECS_EMULATOR_DEMO_API_PORT": str(cls.api_port),
        })
        cls.up_done = False
        start = time.monotonic()
        try:
            out = cls.compose("up", "-d", "--build", timeout=3600, check=False)
            if out.returncode != 0:
                raise AssertionError("docker-compose up failed:\n%s\n%s\n%s"
                                     % (out.stdout[-4000:], out.stderr[-6000:], cls.all_logs()))
            cls.up_done = True
            cls.up_seconds = time.monotonic() - start
            print("up -d --build: %.0fs (project %s, network %s %s.0/24, DNS 127.0.0.1:%d, API "
                  "127.0.0.1:%d)" % (cls.up_seconds, cls.project, cls.network, cls.prefix,
                                     cls.dns_port, cls.api_port), flush=True)
            cls.emulator = cls.ids("emulator")[0]
            cls.client = cls.ids("client")[0]
            cls.replicas = {}  # hostname -> {"id", "ip"}
            for cid in cls.ids("game-server"):
                info = emu_docker.inspect("container", cid)
                cls.replicas[info["Config"]["Hostname"]] = {
                    "id": cid, "ip": info["NetworkSettings"]["Networks"][cls.network]["IPAddress"]}
        except BaseException:
            cls.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.down()

    # ------------------------------------------------------------------ compose
    @classmethod
    def compose(cls, *args, timeout=600, check=True):
        cmd = [emu_docker.COMPOSE, "-f", COMPOSE_FILE, "-p", cls.project, "--ansi", "never"] + list(args)
        return emu_docker.run(cmd, timeout=timeout, check=check, env=cls.env)

    @classmethod
    def ids(cls, service):
        return cls.compose("ps", "-q", service).stdout.split()

    @classmethod
    def all_logs(cls):
        out = cls.compose("logs", "--no-color", "--tail=60", timeout=120, check=False)
        return out.stdout[-8000:]

    @classmethod
    def leftovers(cls):
        label = "label=com.docker.compose.project=" + cls.project
        return {
            "containers": docker("ps", "-a", "-q", "--filter", label).split(),
            "networks": [n for n in docker("network", "ls", "--format", "{{.Name}}").split()
                         if n == cls.network or n.startswith(cls.project + "_")],
            "volumes": [v for v in docker("volume", "ls", "-q").split()
                        if v.startswith(cls.project + "_")],
        }

    @classmethod
    def down(cls):
        """`down -v --rmi local`: the containers, the network, the state volume and the images
        this project tagged (the fixture's images keep their own tags)."""
        if getattr(cls, "_down", False):
            return None
        cls._down = True
        start = time.monotonic()
        out = cls.compose("down", "-v", "--rmi", "local", "--remove-orphans", "-t", "5",
                          timeout=600, check=False)
        left = cls.leftovers()
        if any(left.values()):  # force it, then fail
            for cid in left["containers"]:
                docker("rm", "-f", "-v", cid, check=False)
            for net in left["networks"]:
                docker("network", "rm", net, check=False)
            for vol in left["volumes"]:
                docker("volume", "rm", vol, check=False)
            raise AssertionError("down -v left %s\n%s" % (left, out.stderr))
        if out.returncode != 0:
            raise AssertionError("docker-compose down failed: %s" % out.stderr)
        print("down -v: %.0fs, nothing of project %s left" % (time.monotonic() - start, cls.project),
              flush=True)
        return left

    # ------------------------------------------------------------------ observations
    def dig(self, name=SERVICE, qtype="A", tcp=False):
        cmd = [emu.DIG, "@127.0.0.1", "-p", str(self.dns_port), name, qtype, "+short", "+time=2",
               "+tries=2"]
        if tcp:
            cmd.append("+tcp")
        out = emu_docker.run(cmd, timeout=30, check=False)
        return sorted(line for line in out.stdout.splitlines() if line.strip())

    def api(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.api_port, path), data=data,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def client_replies(self):
        """The client's output so far, as a list of replica hostnames (None for other lines)."""
        out = []
        for line in emu_docker.logs(self.client).splitlines():
            m = REPLY.match(line.strip())
            out.append(m.group(1) if m else None)
        return out

    def ips(self, hostnames):
        return sorted(self.replicas[h]["ip"] for h in hostnames)

    def in_client(self, *cmd):
        return docker("exec", self.client, *cmd, timeout=60)

    def diagnostics(self):
        status, tasks = self.api("GET", "/v1/tasks?service=" + SERVICE)
        return "dig: %s\ntasks: %s\n%s" % (self.dig(), json.dumps(tasks)[:3000], self.all_logs())

    # ------------------------------------------------------------------ the demo
    def test_demo_lifecycle(self):
        self.assertEqual(len(self.replicas), 3, self.replicas)
        all_ips = self.ips(self.replicas)

        # 1. The three replicas are in DNS, from the host (UDP and TCP).
        start = time.monotonic()
        emu_docker.wait_until(lambda: self.dig() == all_ips, 60,
                              message="dig %s == %s\n" % (SERVICE, all_ips))
        print("3 replicas in DNS %.1fs after up" % (time.monotonic() - start), flush=True)
        self.assertEqual(self.dig(tcp=True), all_ips)

        # 2. Inside the client: its resolver is Docker's, which forwards to the emulator.
        resolv = self.in_client("cat", "/etc/resolv.conf")
        self.assertIn("nameserver 127.0.0.11", resolv)
        dns = emu_docker.inspect("container", self.client)["HostConfig"]["Dns"]
        self.assertEqual(dns, [self.emulator_ip])
        getent = sorted({line.split()[0] for line in
                         self.in_client("getent", "ahostsv4", SERVICE).splitlines()})
        self.assertEqual(getent, all_ips)
        py = self.in_client("python3", "-c", "import socket,json; print(json.dumps("
                            "socket.gethostbyname_ex(%r)[2]))" % SERVICE)
        self.assertEqual(sorted(json.loads(py)), all_ips)
        # A name only the emulator knows, registered now through its API, resolves in the client
        # at once: the answers come from the emulator, live.
        probe = "probe-%s.local" % uuid.uuid4().hex[:6]
        self.assertIn(self.api("PUT", "/v1/services/" + probe, {"ttl": 0, "records": ["A"]})[0],
                      (200, 201))
        self.assertIn(self.api("POST", "/v1/services/%s/tasks" % probe,
                               {"ip": "192.0.2.53", "port": 1})[0], (200, 201))  # data only
        self.assertEqual(self.in_client("getent", "ahostsv4", probe).split()[0], "192.0.2.53")
        self.api("DELETE", "/v1/services/" + probe)

        # 3. The client's calls reach all three replicas.
        emu_docker.wait_until(lambda: set(self.client_replies()) >= set(self.replicas), 60,
                              message="client replies from all of %s" % sorted(self.replicas))

        # 4. One replica fails its gRPC health check: unhealthy in Docker, out of DNS.
        broken = sorted(self.replicas)[0]
        others = sorted(h for h in self.replicas if h != broken)
        docker("exec", self.replicas[broken]["id"], "touch", "/tmp/unhealthy")
        start = time.monotonic()
        emu_docker.wait_until(lambda: emu_docker.health(self.replicas[broken]["id"]) == "unhealthy",
                              30, message="replica %s unhealthy in Docker" % broken)
        emu_docker.wait_until(lambda: self.dig() == self.ips(others), 30,
                              message="%s out of DNS\n%s" % (broken, self.diagnostics()))
        print("broken replica out of DNS %.1fs after /tmp/unhealthy" % (time.monotonic() - start),
              flush=True)
        mark = len(self.client_replies())

        # 5. The client's calls stop reaching it (it re-resolves when a connection ends).
        def quiet():
            after = [h for h in self.client_replies()[mark:] if h]
            last = max([i for i, h in enumerate(after) if h == broken], default=-1)
            tail = after[last + 1:]
            return len(tail) >= QUIET_CALLS and set(tail) == set(others)
        emu_docker.wait_until(quiet, 60, message="%d client calls in a row without %s\n%s"
                              % (QUIET_CALLS, broken, emu_docker.logs(self.client)[-3000:]))
        print("client off the broken replica %.1fs after /tmp/unhealthy"
              % (time.monotonic() - start), flush=True)
        # The emulator's events tell the story.
        status, body = self.api("GET", "/v1/events?after=0")
        self.assertEqual(status, 200, body)
        text = json.dumps(body)
        self.assertIn(self.replicas[broken]["ip"], text)

        # 6. Killed: still out of DNS, its task STOPPED.
        docker("kill", self.replicas[broken]["id"])
        broken_ip = self.replicas[broken]["ip"]

        def stopped():
            status, body = self.api("GET", "/v1/tasks?service=" + SERVICE)
            tasks = body.get("tasks", body) if isinstance(body, dict) else body
            mine = [t for t in tasks or [] if isinstance(t, dict) and t.get("ip") == broken_ip]
            return mine and all(t.get("lastStatus") == "STOPPED" for t in mine)
        emu_docker.wait_until(stopped, 30, message="the killed replica's task STOPPED\n%s"
                              % self.diagnostics())
        self.assertEqual(self.dig(), self.ips(others))
        mark = len(self.client_replies())
        emu_docker.wait_until(lambda: len([h for h in self.client_replies()[mark:] if h]) >= 10, 30,
                              message="10 more client replies")
        self.assertEqual({h for h in self.client_replies()[mark:] if h}, set(others))

        # 7. down -v leaves nothing (checked again by tearDownClass after the real down).
        self.down()


if __name__ == "__main__":
    unittest.main(verbosity=2)
