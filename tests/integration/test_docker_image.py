"""The runtime image (Dockerfile at the repo root) on the real Docker engine.

ecs-emulator:test (built once by the CTest fixture `docker_images`, or here when missing): under
40 MB, nothing in it but the binary and its folders (no shell), an exec-form HEALTHCHECK, the
listen addresses and state path of SPEC section 2. Run on a network this test creates, with
fixtures/ mounted and DNS and the API published on loopback ports: Docker reports it healthy, the
API and DNS (UDP and TCP, published port and container address) answer, the state survives a
restart in its /data volume, and `docker stop` ends it with exit 0. Fails, not skips, without
Docker. Everything created (container, network, volume) is removed.

Run: /usr/bin/python3 tests/integration/test_docker_image.py
"""
import io
import json
import os
import subprocess
import tarfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

import emu
import emu_docker
from emu_docker import docker

FIXTURES = os.path.join(emu_docker.REPO, "fixtures")


class DockerImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        emu_docker.require_docker()
        if emu_docker.inspect("image", emu_docker.IMAGE) is None:
            emu_docker.require_base_image()
            emu_docker.run([emu_docker.DOCKER, "build", "-t", emu_docker.IMAGE, emu_docker.REPO],
                           timeout=3600)
        suffix = uuid.uuid4().hex[:10]
        cls.network = "emu-image-test-" + suffix
        cls.volume = "emu-image-test-" + suffix
        cls.container = "emu-image-test-" + suffix
        cls.created = []
        docker("network", "create", cls.network)
        cls.created.append(("network", cls.network))
        docker("volume", "create", cls.volume)
        cls.created.append(("volume", cls.volume))
        cls.created.append(("container", cls.container))
        start = time.monotonic()
        docker("run", "-d", "--name", cls.container, "--network", cls.network,
               "-v", cls.volume + ":/data", "-v", FIXTURES + ":/fixtures:ro",
               "-p", "127.0.0.1::53/udp", "-p", "127.0.0.1::53/tcp", "-p", "127.0.0.1::9080/tcp",
               emu_docker.IMAGE)
        emu_docker.wait_healthy(cls.container, timeout=60)
        print("healthy after %.1fs" % (time.monotonic() - start))
        cls.read_ports()

    @classmethod
    def read_ports(cls):
        ports = emu_docker.inspect("container", cls.container)["NetworkSettings"]["Ports"]
        cls.dns_udp = int(ports["53/udp"][0]["HostPort"])
        cls.dns_tcp = int(ports["53/tcp"][0]["HostPort"])
        cls.api_port = int(ports["9080/tcp"][0]["HostPort"])
        cls.ip = emu_docker.container_ip(cls.container, cls.network)

    @classmethod
    def tearDownClass(cls):
        errors = []
        for kind, name in reversed(cls.created):
            if kind == "container":
                out = emu_docker.run([emu_docker.DOCKER, "rm", "-f", "-v", name], check=False)
            else:
                out = emu_docker.run([emu_docker.DOCKER, kind, "rm", name], check=False)
            if out.returncode != 0 and "No such" not in out.stderr:
                errors.append(out.stderr.strip())
        if errors:
            raise AssertionError("cleanup: %s" % errors)

    # ------------------------------------------------------------------ helpers
    def api(self, method, path, body=None, port=None, host="127.0.0.1"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://%s:%d%s" % (host, port or self.api_port, path),
                                     data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def dig(self, name, qtype="A", server="127.0.0.1", port=None, tcp=False):
        cmd = [emu.DIG, "@" + server, "-p", str(port or self.dns_udp), name, qtype, "+short",
               "+time=2", "+tries=2"]
        if tcp:
            cmd.append("+tcp")
        out = emu_docker.run(cmd, timeout=30)
        return sorted(line for line in out.stdout.splitlines() if line.strip())

    # ------------------------------------------------------------------ the image
    def test_image_size_and_contents(self):
        info = emu_docker.inspect("image", emu_docker.IMAGE)
        size = info["Size"]
        print("image %s: %.1f MB" % (emu_docker.IMAGE, size / 1e6))
        self.assertLess(size, emu_docker.IMAGE_SIZE_LIMIT)
        config = info["Config"]
        self.assertEqual(config["Healthcheck"]["Test"],
                         ["CMD", "/usr/local/bin/ecs-emulator", "healthcheck"])
        self.assertEqual(config["Entrypoint"], ["/usr/local/bin/ecs-emulator"])
        env = dict(e.split("=", 1) for e in config["Env"])
        self.assertEqual(env["ECS_EMULATOR_DNS_LISTEN"], "0.0.0.0:53")
        self.assertEqual(env["ECS_EMULATOR_API_LISTEN"], "0.0.0.0:9080")
        self.assertEqual(env["ECS_EMULATOR_STATE"], "/data/ecs-emulator.db")
        self.assertIn("/data", config["Volumes"])
        self.assertEqual(set(config["ExposedPorts"]), {"53/udp", "53/tcp", "9080/tcp"})

    def test_filesystem_is_the_binary_alone(self):
        created = docker("create", emu_docker.IMAGE).strip()
        try:
            raw = subprocess.run([emu_docker.DOCKER, "export", created], capture_output=True,
                                 timeout=120, check=True).stdout
        finally:
            docker("rm", "-v", created)
        names = {m.name.strip("./").rstrip("/") for m in tarfile.open(fileobj=io.BytesIO(raw))}
        names.discard("")
        files = sorted(n for n in names if not n.startswith(("dev", "proc", "sys", "etc", "dockerenv")))
        self.assertEqual(files, ["data", "fixtures", "tmp", "usr", "usr/local", "usr/local/bin",
                                 "usr/local/bin/ecs-emulator"])
        self.assertNotIn("bin/sh", names)

    # ------------------------------------------------------------------ the running container
    def test_api_answers(self):
        status, body = self.api("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        # Also on the container's own address (the test's network).
        status, body = self.api("GET", "/healthz", host=self.ip, port=9080)
        self.assertEqual(status, 200)

    def test_dns_answers_the_fixture(self):
        expected = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]  # data only: nothing is sent to them
        self.assertEqual(self.dig("game-server.local"), expected)
        self.assertEqual(self.dig("game-server.local", tcp=True, port=self.dns_tcp), expected)
        self.assertEqual(self.dig("game-server.local", server=self.ip, port=53), expected)
        self.assertEqual(self.dig("game-server.local", server=self.ip, port=53, tcp=True), expected)
        srv = self.dig("game-server.local", "SRV")
        self.assertEqual(len(srv), 3)
        self.assertTrue(all(line.startswith("1 1 50051 ") for line in srv), srv)

    def test_state_survives_a_restart_and_stop_exits_0(self):
        status, _ = self.api("PUT", "/v1/services/image-test.local", {"ttl": 5, "records": ["A"]})
        self.assertIn(status, (200, 201))
        status, _ = self.api("POST", "/v1/services/image-test.local/tasks",
                             {"ip": "192.0.2.7", "port": 8080})  # TEST-NET-1: data only
        self.assertIn(status, (200, 201))
        self.assertEqual(self.dig("image-test.local"), ["192.0.2.7"])

        start = time.monotonic()
        docker("stop", "-t", "10", self.container, timeout=60)
        stopped_in = time.monotonic() - start
        state = emu_docker.inspect("container", self.container)["State"]
        self.assertEqual(state["ExitCode"], 0, emu_docker.logs(self.container))
        self.assertLess(stopped_in, 9, "SIGTERM should stop it, not the kill after -t 10")

        docker("start", self.container)
        emu_docker.wait_healthy(self.container, timeout=60)
        type(self).read_ports()  # published ports change on restart
        self.assertEqual(self.dig("image-test.local"), ["192.0.2.7"])
        status, body = self.api("GET", "/v1/services/image-test.local")
        self.assertEqual(status, 200, body)
        # The fixture is applied again without duplicating anything.
        self.assertEqual(self.dig("game-server.local"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
