"""ECS tasks as real Docker containers, driven through the real AWS CLI v2 (/usr/bin/aws).

The daemon runs with --docker on a network this test creates. A service with desiredCount 3 ->
3 containers, 3 RUNNING tasks, 3 A records equal to the containers' addresses; a container killed
-> its task STOPPED with EssentialContainerExited and exit code 137, and a replacement container
registers; a container failing its health check -> its task stopped with the ECS reason and
replaced; a missing image -> CannotPullContainerError; a daemon restart (SIGTERM, then SIGKILL)
-> the same tasks on the same containers, nothing started twice. Needs a Docker engine and the
`debian:bookworm` image (scripts/docker-base-image.sh); fails, not skips, without them. The
containers' addresses are on the test's own network; nothing is sent to them: DNS answers are
compared with what `docker inspect` says. Everything created is removed at the end.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest
import uuid

import emu

AWS = "/usr/bin/aws"  # CLI v2 from Debian; the first `aws` on PATH may be a v1
DOCKER = "/usr/bin/docker"
IMAGE = "debian:bookworm"
# A registry on loopback that refuses the connection: the pull fails without leaving the machine.
MISSING_IMAGE = "127.0.0.1:1/ecs-emulator-test/missing:1"


def docker(*args, check=True):
    out = subprocess.run([DOCKER] + list(args), capture_output=True, text=True, timeout=120)
    if check and out.returncode != 0:
        raise AssertionError("docker %s failed: %s" % (" ".join(args), out.stderr))
    return out.stdout


class DockerEcsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        docker("info")  # fails the test (not skips) without an engine
        docker("image", "inspect", IMAGE)
        cls.suffix = uuid.uuid4().hex[:8]
        cls.network = "emu-ecs-test-" + cls.suffix
        cls.cluster = "docker-" + cls.suffix
        # The ECS agent's label carries the cluster ARN.
        cls.cluster_label = ("label=com.amazonaws.ecs.cluster=arn:aws:ecs:us-east-1:000000000000:"
                             "cluster/" + cls.cluster)
        docker("network", "create", cls.network)
        cls.home = tempfile.mkdtemp(prefix="emu-docker-ecs-")
        cls.state = os.path.join(cls.home, "state.db")
        cls.d = None
        cls.start_daemon()

    @classmethod
    def start_daemon(cls):
        cls.d = emu.Daemon(state=cls.state, workdir=cls.home,
                           args=["--docker", "unix:///var/run/docker.sock",
                                 "--docker-network", cls.network, "--time-scale", "0.2"]).start()

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.d and cls.d.proc:
                cls.d.stop()
        finally:
            ids = docker("ps", "-aq", "--filter", cls.cluster_label, check=False).split()
            if ids:
                docker("rm", "-f", *ids, check=False)
            docker("network", "rm", cls.network, check=False)
            shutil.rmtree(cls.home, ignore_errors=True)

    # ------------------------------------------------------------------ helpers
    def aws(self, service, *args, expect=0):
        cmd = [AWS, "--endpoint-url", self.d.api_url, "--output", "json", service] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                             env=emu.aws_cli_env(self.home, self.d.api_url))
        self.assertEqual(out.returncode, expect,
                         "%s\nstdout: %s\nstderr: %s\nlog:\n%s" % (cmd, out.stdout, out.stderr,
                                                                  self.d.log()[-4000:]))
        return json.loads(out.stdout) if out.stdout.strip() else {}

    def ecs(self, *args, **kwargs):
        return self.aws("ecs", *args, **kwargs)

    def tasks(self, service=None, status="RUNNING"):
        args = ["list-tasks", "--cluster", self.cluster, "--desired-status",
                "STOPPED" if status == "STOPPED" else "RUNNING"]
        if service:
            args += ["--service-name", service]
        arns = self.ecs(*args)["taskArns"]
        if not arns:
            return []
        found = self.ecs("describe-tasks", "--cluster", self.cluster, "--tasks", *arns)["tasks"]
        return [t for t in found if t["lastStatus"] == status]

    def containers(self, running_only=True):
        """Task containers of our cluster: {docker id: (task arn, ip on our network)}."""
        args = ["ps", "-q", "--no-trunc", "--filter", self.cluster_label]
        if not running_only:
            args.insert(1, "-a")
        ids = docker(*args).split()
        out = {}
        for info in json.loads(docker("inspect", *ids)) if ids else []:
            net = info["NetworkSettings"]["Networks"].get(self.network, {})
            out[info["Id"]] = (info["Config"]["Labels"].get("com.amazonaws.ecs.task-arn"),
                               net.get("IPAddress", ""))
        return out

    def task_def(self, family, image=IMAGE):
        path = os.path.join(self.home, family + ".json")
        with open(path, "w") as f:
            json.dump({"family": family, "networkMode": "awsvpc",
                       "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
                       "containerDefinitions": [{
                           "name": "app", "image": image, "essential": True,
                           # Exits at once on SIGTERM, like a well-behaved server.
                           "command": ["sh", "-c",
                                       "trap 'exit 0' TERM; while :; do sleep 0.2; done"],
                           "environment": [{"name": "ROLE", "value": "game"}],
                           "portMappings": [{"containerPort": 50051}],
                           # 10 s / 10 s scaled by --time-scale 0.2: checked every 2 s, each
                           # given 2 s (docker exec is slow on a loaded CI machine).
                           "healthCheck": {"command": ["CMD-SHELL", "test ! -f /tmp/unhealthy"],
                                           "interval": 10, "timeout": 10, "retries": 2,
                                           "startPeriod": 0}}]}, f)
        arn = self.ecs("register-task-definition", "--cli-input-json",
                       "file://" + path)["taskDefinition"]["taskDefinitionArn"]
        return arn

    def wait_service(self, service, name, count, timeout=90):
        """Waits for `count` RUNNING tasks, each on a running container, whose IPs are exactly the
        A records of `name`; returns the tasks."""
        seen = {}

        def settled():
            tasks = self.tasks(service)
            ips = sorted(t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
                         for t in tasks if t["containers"][0].get("networkInterfaces"))
            running = sorted(ip for _, ip in self.containers().values())
            records = sorted(self.d.dig(name, "A"))
            seen.update(tasks=len(tasks), task_ips=ips, containers=running, records=records)
            return tasks if len(tasks) == count and ips == running == records else None
        try:
            return emu.wait_until(settled, timeout, interval=0.2,
                                  message="%d running tasks in DNS for %s" % (count, name))
        except AssertionError as e:
            raise AssertionError("%s; last seen %s\nlog:\n%s" % (e, seen, self.d.log()[-6000:]))

    # ------------------------------------------------------------------ the flow
    def test_service_lifecycle_with_containers(self):
        op = self.aws("servicediscovery", "create-private-dns-namespace", "--name",
                      "dock.local", "--vpc", "vpc-1")
        ns_id = self.aws("servicediscovery", "get-operation", "--operation-id",
                         op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
        registry = self.aws("servicediscovery", "create-service", "--name", "game",
                            "--namespace-id", ns_id, "--dns-config",
                            "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=10}]",
                            "--health-check-custom-config",
                            "FailureThreshold=1")["Service"]["Arn"]
        self.ecs("create-cluster", "--cluster-name", self.cluster)
        td = self.task_def("game")
        self.ecs("create-service", "--cluster", self.cluster, "--service-name", "game",
                 "--task-definition", td, "--desired-count", "3", "--launch-type", "FARGATE",
                 "--network-configuration",
                 "awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=DISABLED}",
                 "--service-registries", "registryArn=" + registry)

        # 3 containers, 3 RUNNING tasks, 3 records: the containers' own addresses.
        tasks = self.wait_service("game", "game.dock.local", 3)
        running = self.containers()
        self.assertEqual(len(running), 3, running)
        self.assertEqual(sorted(arn for arn, _ in running.values()),
                         sorted(t["taskArn"] for t in tasks))
        for t in tasks:
            c = t["containers"][0]
            self.assertIn(c["runtimeId"], running)
            self.assertEqual(c["image"], IMAGE)
        env = docker("inspect", "-f", "{{json .Config.Env}}", next(iter(running)))
        self.assertIn("ROLE=game", env)

        # A container killed -> EssentialContainerExited with its exit code; a replacement.
        victim_id, (victim_arn, _) = sorted(running.items())[0]
        docker("kill", victim_id)

        def stopped(arn):
            found = [t for t in self.tasks("game", status="STOPPED") if t["taskArn"] == arn]
            return found[0] if found else None
        dead = emu.wait_until(lambda: stopped(victim_arn), 60, interval=0.2,
                              message="the killed task to stop")
        self.assertEqual(dead["stopCode"], "EssentialContainerExited")
        self.assertEqual(dead["containers"][0]["exitCode"], 137)
        tasks = self.wait_service("game", "game.dock.local", 3)
        self.assertNotIn(victim_arn, [t["taskArn"] for t in tasks])

        # A container failing its health check -> stopped with the ECS reason, replaced.
        running = self.containers()
        sick_id, (sick_arn, sick_ip) = sorted(running.items())[0]
        docker("exec", sick_id, "touch", "/tmp/unhealthy")
        sick = emu.wait_until(lambda: stopped(sick_arn), 60, interval=0.2,
                              message="the unhealthy task to stop")
        self.assertEqual(sick["stopCode"], "ServiceSchedulerInitiated")
        self.assertEqual(sick["stoppedReason"], "Task failed container health checks")
        self.assertEqual(sick["healthStatus"], "UNHEALTHY")
        tasks = self.wait_service("game", "game.dock.local", 3)
        self.assertNotIn(sick_arn, [t["taskArn"] for t in tasks])
        events = self.ecs("describe-services", "--cluster", self.cluster, "--services",
                          "game")["services"][0]["events"]
        self.assertTrue(any("failed container health checks" in e["message"] for e in events),
                        events)

        # Restarts: SIGTERM, then SIGKILL. Same tasks, same containers, nothing started twice.
        before = {t["taskArn"] for t in tasks}
        before_containers = set(self.containers(running_only=False))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self.assertIn(self.d.stop(sig), (0, -signal.SIGKILL))
            type(self).start_daemon()
            after = self.wait_service("game", "game.dock.local", 3)
            self.assertEqual({t["taskArn"] for t in after}, before, "after %s" % sig)
            self.assertEqual(set(self.containers(running_only=False)) - before_containers, set(),
                             "no container may be started twice (after %s)" % sig)

        # Scale to 0: every container stops; the records go.
        self.ecs("update-service", "--cluster", self.cluster, "--service", "game",
                 "--desired-count", "0")
        emu.wait_until(lambda: not self.containers() and not self.d.dig("game.dock.local", "A"),
                       60, interval=0.2, message="all containers stopped and records gone")

    def test_missing_image_fails_the_task(self):
        self.ecs("create-cluster", "--cluster-name", self.cluster)
        td = self.task_def("missing", image=MISSING_IMAGE)
        arn = self.ecs("run-task", "--cluster", self.cluster, "--task-definition", td,
                       "--launch-type", "FARGATE", "--network-configuration",
                       "awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=DISABLED}",
                       )["tasks"][0]["taskArn"]

        def failed():
            t = self.ecs("describe-tasks", "--cluster", self.cluster, "--tasks", arn)["tasks"][0]
            return t if t["lastStatus"] == "STOPPED" else None
        t = emu.wait_until(failed, 60, interval=0.2, message="the task to fail")
        self.assertEqual(t["stopCode"], "TaskFailedToStart")
        self.assertTrue(t["stoppedReason"].startswith("CannotPullContainerError"), t)


if __name__ == "__main__":
    emu.main()
