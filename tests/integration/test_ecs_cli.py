"""ECS through the real AWS CLI v2 (Debian's /usr/bin/aws, awscli 2.9) against the daemon.

The end-to-end flow of issue 5, checked with dig and DiscoverInstances at each step: a Cloud Map
namespace and service (A + SRV), a cluster, a task definition with a healthCheck, an ECS service
with desiredCount 3 and serviceRegistries -> 3 records; one task forced unhealthy -> stopped with
the ECS reason, its record gone, a replacement registered; desiredCount 5 -> 5 records;
DeleteService (force) -> NXDOMAIN. Then every other ECS operation and its errors (exit 254 with
the AWS code). Task IPs come from --task-cidr and are data only: nothing is sent to them.
"""
import json
import os
import subprocess
import tempfile
import unittest

import emu

AWS = "/usr/bin/aws"  # CLI v2 from Debian; the first `aws` on PATH may be a v1
NETWORK = "awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=DISABLED}"


class EcsCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon(args=["--task-cidr", "10.77.0.0/24"]).start()
        cls.home = tempfile.mkdtemp(prefix="emu-ecs-cli-")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def env(self, region="us-east-1", proxy=False):
        return emu.aws_cli_env(self.home, self.d.api_url, region=region, proxy=proxy)

    def aws(self, service, *args, region="us-east-1", proxy=False, expect=0):
        cmd = [AWS, "--endpoint-url", self.d.api_url, "--output", "json", service] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=self.env(region, proxy))
        self.assertEqual(out.returncode, expect, "%s\nstdout: %s\nstderr: %s" % (cmd, out.stdout, out.stderr))
        return json.loads(out.stdout) if out.stdout.strip() else {}

    def ecs(self, *args, **kwargs):
        return self.aws("ecs", *args, **kwargs)

    def ecs_error(self, *args, region="us-east-1"):
        cmd = [AWS, "--endpoint-url", self.d.api_url, "--output", "json", "ecs"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=self.env(region))
        self.assertEqual(out.returncode, 254, "%s\nstdout: %s\nstderr: %s" % (cmd, out.stdout, out.stderr))
        return out.stderr

    def cloudmap(self, name):
        """A private DNS namespace `name` and its service `web` (A + SRV); returns the service ARN."""
        op = self.aws("servicediscovery", "create-private-dns-namespace", "--name", name, "--vpc", "vpc-1")
        ns_id = self.aws("servicediscovery", "get-operation", "--operation-id",
                         op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
        svc = self.aws("servicediscovery", "create-service", "--name", "web", "--namespace-id", ns_id,
                       "--dns-config", "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=10},{Type=SRV,TTL=10}]",
                       "--health-check-custom-config", "FailureThreshold=1")
        return svc["Service"]["Arn"]

    def task_def_file(self, family):
        path = os.path.join(self.home, family + ".json")
        with open(path, "w") as f:
            json.dump({"family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
                       "cpu": "256", "memory": "512",
                       "containerDefinitions": [{
                           "name": "web", "image": "nginx", "essential": True,
                           "portMappings": [{"containerPort": 8080}],
                           "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"],
                                           "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 0}}]}, f)
        return "file://" + path

    def a_records(self, name):
        return sorted(self.d.dig(name, "A"))

    def running_tasks(self, cluster, service):
        arns = self.ecs("list-tasks", "--cluster", cluster, "--service-name", service)["taskArns"]
        if not arns:
            return []
        tasks = self.ecs("describe-tasks", "--cluster", cluster, "--tasks", *arns)["tasks"]
        return [t for t in tasks if t["lastStatus"] == "RUNNING"]

    def discovered(self, namespace):
        found = self.aws("servicediscovery", "discover-instances", "--namespace-name", namespace,
                         "--service-name", "web", proxy=True)
        return sorted(i["Attributes"]["AWS_INSTANCE_IPV4"] for i in found["Instances"])

    # ------------------------------------------------------------------------------ the flow
    def test_end_to_end_flow(self):
        registry_arn = self.cloudmap("flow.local")
        self.ecs("create-cluster", "--cluster-name", "flow")
        td = self.ecs("register-task-definition", "--cli-input-json", self.task_def_file("flow-web"))
        self.assertEqual(td["taskDefinition"]["containerDefinitions"][0]["healthCheck"]["interval"], 5)
        svc = self.ecs("create-service", "--cluster", "flow", "--service-name", "web",
                       "--task-definition", "flow-web", "--desired-count", "3", "--launch-type", "FARGATE",
                       "--network-configuration", NETWORK,
                       "--service-registries", "registryArn=%s" % registry_arn)["service"]
        self.assertEqual(svc["status"], "ACTIVE")
        self.assertEqual(svc["serviceRegistries"][0]["registryArn"], registry_arn)
        self.ecs("wait", "services-stable", "--cluster", "flow", "--services", "web")
        records = emu.wait_until(lambda: (lambda r: r if len(r) == 3 else None)(self.a_records("web.flow.local")),
                                 timeout=10, message="3 A records")
        self.assertTrue(all(r.startswith("10.77.0.") for r in records))
        self.assertEqual(len(self.d.dig("web.flow.local", "SRV")), 3)
        self.assertEqual(self.discovered("flow.local"), records)
        tasks = self.running_tasks("flow", "web")
        self.assertEqual(len(tasks), 3)
        self.ecs("wait", "tasks-running", "--cluster", "flow", "--tasks", *[t["taskArn"] for t in tasks])

        # One task fails its health check (fault injection): stopped, deregistered, replaced.
        victim = tasks[0]
        victim_id = victim["taskArn"].rsplit("/", 1)[1]
        victim_ip = victim["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        self.d.api("PUT", "/v1/tasks/%s/health" % victim_id, {"status": "UNHEALTHY"}, expect=200)
        # The scheduler stops the unhealthy task on its next step, as ECS does: not within the PUT.
        stopped = emu.wait_until(
            lambda: (lambda t: t if t["desiredStatus"] == "STOPPED" else None)(
                self.ecs("describe-tasks", "--cluster", "flow", "--tasks", victim_id)["tasks"][0]),
            timeout=10, message="the unhealthy task stopping")
        self.assertEqual(stopped["stopCode"], "ServiceSchedulerInitiated")
        self.assertEqual(stopped["stoppedReason"], "Task failed container health checks")
        self.assertNotIn(victim_ip, self.a_records("web.flow.local"))
        after = emu.wait_until(lambda: (lambda r: r if len(r) == 3 else None)(self.a_records("web.flow.local")),
                               timeout=10, message="a replacement record")
        self.assertNotIn(victim_ip, after)
        self.assertEqual(len(set(after) - set(records)), 1)
        self.assertEqual(self.discovered("flow.local"), after)
        events = [e["message"] for e in self.ecs("describe-services", "--cluster", "flow", "--services",
                                                    "web")["services"][0]["events"]]
        self.assertIn("(service web) (task %s) failed container health checks." % victim_id, events)
        self.assertTrue(any("Amazon ECS replaced 1 tasks due to an unhealthy status." in e for e in events))

        # Scale out to 5.
        self.ecs("update-service", "--cluster", "flow", "--service", "web", "--desired-count", "5")
        five = emu.wait_until(lambda: (lambda r: r if len(r) == 5 else None)(self.a_records("web.flow.local")),
                              timeout=10, message="5 A records")
        self.ecs("wait", "services-stable", "--cluster", "flow", "--services", "web")
        self.assertEqual(self.discovered("flow.local"), five)

        # Delete (force): records go, the name answers NXDOMAIN.
        deleted = self.ecs("delete-service", "--cluster", "flow", "--service", "web", "--force")["service"]
        self.assertEqual(deleted["status"], "DRAINING")
        emu.wait_until(lambda: self.d.dig_status("web.flow.local") == "NXDOMAIN", timeout=10, message="NXDOMAIN")
        self.assertEqual(self.discovered("flow.local"), [])
        self.ecs("wait", "services-inactive", "--cluster", "flow", "--services", "web")

    # ---------------------------------------------------------------------- other operations
    def test_clusters_task_definitions_and_tags(self):
        c = self.ecs("create-cluster", "--cluster-name", "ops", "--tags", "key=team,value=a")["cluster"]
        self.assertEqual(c["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/ops")
        self.assertIn(c["clusterArn"], self.ecs("list-clusters")["clusterArns"])
        d = self.ecs("describe-clusters", "--clusters", "ops", "nope", "--include", "TAGS")
        self.assertEqual(d["clusters"][0]["tags"], [{"key": "team", "value": "a"}])
        self.assertEqual(d["failures"][0]["reason"], "MISSING")
        self.assertEqual(self.ecs("list-clusters", region="eu-west-1")["clusterArns"], [])  # per region

        first = self.ecs("register-task-definition", "--cli-input-json", self.task_def_file("ops-web"))
        self.assertEqual(first["taskDefinition"]["revision"], 1)
        self.ecs("register-task-definition", "--cli-input-json", self.task_def_file("ops-web"))
        self.assertEqual(self.ecs("describe-task-definition", "--task-definition",
                                  "ops-web")["taskDefinition"]["revision"], 2)
        self.assertIn("ops-web", self.ecs("list-task-definition-families", "--family-prefix", "ops")["families"])
        dereg = self.ecs("deregister-task-definition", "--task-definition", "ops-web:1")["taskDefinition"]
        self.assertEqual(dereg["status"], "INACTIVE")
        listed = self.ecs("list-task-definitions", "--family-prefix", "ops-web")["taskDefinitionArns"]
        self.assertEqual(listed, ["arn:aws:ecs:us-east-1:000000000000:task-definition/ops-web:2"])
        # The CLI pages through nextToken by itself (--page-size = maxResults).
        self.ecs("register-task-definition", "--cli-input-json", self.task_def_file("ops-web"))
        self.assertEqual(len(self.ecs("list-task-definitions", "--page-size", "1")["taskDefinitionArns"]) >= 2, True)

        arn = c["clusterArn"]
        self.ecs("tag-resource", "--resource-arn", arn, "--tags", "key=env,value=dev")
        self.ecs("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        self.assertEqual(self.ecs("list-tags-for-resource", "--resource-arn", arn)["tags"],
                         [{"key": "env", "value": "dev"}])
        self.assertEqual(self.ecs("delete-cluster", "--cluster", "ops")["cluster"]["status"], "INACTIVE")

    def test_run_stop_list_tasks(self):
        self.ecs("create-cluster", "--cluster-name", "run")
        self.ecs("register-task-definition", "--cli-input-json", self.task_def_file("run-web"))
        run = self.ecs("run-task", "--cluster", "run", "--task-definition", "run-web", "--count", "2",
                       "--launch-type", "FARGATE", "--network-configuration", NETWORK, "--started-by", "me")
        self.assertEqual(len(run["tasks"]), 2)
        arns = [t["taskArn"] for t in run["tasks"]]
        self.ecs("wait", "tasks-running", "--cluster", "run", "--tasks", *arns)
        self.assertEqual(sorted(self.ecs("list-tasks", "--cluster", "run", "--started-by", "me")["taskArns"]),
                         sorted(arns))
        self.assertEqual(len(self.ecs("list-tasks", "--cluster", "run", "--family", "run-web")["taskArns"]), 2)
        stopped = self.ecs("stop-task", "--cluster", "run", "--task", arns[0])["task"]
        self.assertEqual(stopped["stopCode"], "UserInitiated")
        self.assertEqual(stopped["stoppedReason"], "Task stopped by user")
        self.ecs("wait", "tasks-stopped", "--cluster", "run", "--tasks", arns[0])
        self.assertEqual(self.ecs("list-tasks", "--cluster", "run", "--desired-status", "STOPPED")["taskArns"],
                         [arns[0]])
        missing = self.ecs("describe-tasks", "--cluster", "run", "--tasks", "0" * 32)
        self.assertEqual(missing["failures"][0]["reason"], "MISSING")

    def test_errors(self):
        self.assertIn("ClusterNotFoundException", self.ecs_error("list-services", "--cluster", "nope"))
        self.assertIn("Cluster not found.", self.ecs_error("delete-cluster", "--cluster", "nope"))
        self.ecs("create-cluster", "--cluster-name", "err")
        self.assertIn("Unable to describe task definition",
                      self.ecs_error("describe-task-definition", "--task-definition", "nope"))
        self.assertIn("ServiceNotFoundException",
                      self.ecs_error("update-service", "--cluster", "err", "--service", "nope", "--desired-count", "1"))
        self.assertIn("ServiceNotFoundException",
                      self.ecs_error("delete-service", "--cluster", "err", "--service", "nope"))
        path = os.path.join(self.home, "bad.json")
        with open(path, "w") as f:
            json.dump({"family": "bad", "containerDefinitions": [
                {"name": "a", "image": "x", "healthCheck": {"command": ["CMD", "true"], "interval": 1}}]}, f)
        err = self.ecs_error("register-task-definition", "--cli-input-json", "file://" + path)
        self.assertIn("ClientException", err)
        self.assertIn("healthCheck.interval", err)
        self.ecs("register-task-definition", "--cli-input-json", self.task_def_file("err-web"))
        self.assertIn("Network Configuration must be provided",
                      self.ecs_error("run-task", "--cluster", "err", "--task-definition", "err-web"))
        self.ecs("create-service", "--cluster", "err", "--service-name", "s", "--task-definition", "err-web",
                 "--desired-count", "1", "--network-configuration", NETWORK)
        self.assertIn("The service cannot be stopped while it is scaled above 0.",
                      self.ecs_error("delete-service", "--cluster", "err", "--service", "s"))
        self.assertIn("Creation of service was not idempotent.",
                      self.ecs_error("create-service", "--cluster", "err", "--service-name", "s",
                                     "--task-definition", "err-web", "--desired-count", "2",
                                     "--network-configuration", NETWORK))
        self.assertIn("ClusterContainsServicesException", self.ecs_error("delete-cluster", "--cluster", "err"))
        self.ecs("delete-service", "--cluster", "err", "--service", "s", "--force")
        self.assertIn("ServiceNotActiveException",
                      self.ecs_error("update-service", "--cluster", "err", "--service", "s", "--desired-count", "1"))


if __name__ == "__main__":
    emu.main()
