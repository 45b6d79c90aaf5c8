"""ECS through boto3 (Debian's python3-boto3) against the daemon.

The end-to-end flow of issue 5 (checked with dig and DiscoverInstances at each step), waiters,
every ECS operation with its shapes (ARNs, 32-hex task ids, epoch-number timestamps decoded by
botocore as datetimes, pagination through botocore's paginators, failures[] MISSING), errors with
their AWS codes, state per region, and POST /v1/reset emptying ECS state too. Task IPs come from
--task-cidr and are data only: nothing is sent to them.
"""
import datetime
import json
import os
import re
import tempfile
import unittest
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import emu

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
FAST = {"Delay": 1, "MaxAttempts": 30}


def client(d, service, region="us-east-1", **config):
    return boto3.client(service, endpoint_url=d.api_url, region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, **config))


def task_definition(family, **extra):
    body = {"family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{"name": "web", "image": "nginx", "portMappings": [{"containerPort": 8080}],
                                      "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5,
                                                      "timeout": 2, "retries": 3}}]}
    body.update(extra)
    return body


def raw_call(d, operation, body, region="us-east-1"):
    """A JSON 1.1 call without botocore's client-side validation."""
    req = urllib.request.Request(d.api_url + "/", data=json.dumps(body).encode(), method="POST", headers={
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + operation,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/%s/ecs/aws4_request, SignedHeaders=host, "
                         "Signature=00" % region})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class EcsBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon(args=["--task-cidr", "10.88.0.0/24"]).start()
        cls.ecs = client(cls.d, "ecs")
        cls.sd = client(cls.d, "servicediscovery")
        cls.data = client(cls.d, "servicediscovery", inject_host_prefix=False)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def code(self, fn, **kwargs):
        with self.assertRaises(ClientError) as cm:
            fn(**kwargs)
        return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

    def cloudmap(self, name):
        op = self.sd.create_private_dns_namespace(Name=name, Vpc="vpc-1")
        ns = self.sd.get_operation(OperationId=op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
        return self.sd.create_service(
            Name="web", NamespaceId=ns,
            DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10},
                                                                     {"Type": "SRV", "TTL": 10}]},
            HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]["Arn"]

    def records(self, name, count):
        return emu.wait_until(lambda: (lambda r: r if len(r) == count else None)(sorted(self.d.dig(name))),
                              timeout=10, message="%d A records for %s" % (count, name))

    def discovered(self, ns):
        found = self.data.discover_instances(NamespaceName=ns, ServiceName="web")["Instances"]
        return sorted(i["Attributes"]["AWS_INSTANCE_IPV4"] for i in found)

    def test_end_to_end_flow(self):
        registry_arn = self.cloudmap("boto.local")
        self.ecs.create_cluster(clusterName="flow")
        self.ecs.register_task_definition(**task_definition("flow-web"))
        svc = self.ecs.create_service(cluster="flow", serviceName="web", taskDefinition="flow-web", desiredCount=3,
                                      launchType="FARGATE", networkConfiguration=NETWORK,
                                      serviceRegistries=[{"registryArn": registry_arn}])["service"]
        self.assertIsInstance(svc["createdAt"], datetime.datetime)
        self.ecs.get_waiter("services_stable").wait(cluster="flow", services=["web"], WaiterConfig=FAST)
        three = self.records("web.boto.local", 3)
        self.assertEqual(self.discovered("boto.local"), three)
        instances = self.data.discover_instances(NamespaceName="boto.local", ServiceName="web")["Instances"]
        attrs = instances[0]["Attributes"]
        self.assertEqual(attrs["ECS_CLUSTER_NAME"], "flow")
        self.assertEqual(attrs["ECS_SERVICE_NAME"], "web")
        self.assertEqual(attrs["ECS_TASK_DEFINITION_FAMILY"], "flow-web")
        self.assertEqual(attrs["AWS_INSTANCE_PORT"], "8080")
        self.assertEqual(attrs["REGION"], "us-east-1")
        self.assertTrue(attrs["AVAILABILITY_ZONE"].startswith("us-east-1"))
        arns = self.ecs.list_tasks(cluster="flow", serviceName="web")["taskArns"]
        self.assertEqual(len(arns), 3)
        self.assertEqual({i["InstanceId"] for i in instances}, {a.rsplit("/", 1)[1] for a in arns})
        self.assertEqual(len(self.d.dig("web.boto.local", "SRV")), 3)

        victim = arns[0].rsplit("/", 1)[1]
        victim_ip = self.ecs.describe_tasks(cluster="flow", tasks=[victim])["tasks"][0]["containers"][0][
            "networkInterfaces"][0]["privateIpv4Address"]
        self.d.api("PUT", "/v1/tasks/%s/health" % victim, {"status": "UNHEALTHY"}, expect=200)
        # The scheduler stops the unhealthy task on its next step, as ECS does: not within the PUT.
        t = emu.wait_until(
            lambda: (lambda t: t if "stopCode" in t else None)(
                self.ecs.describe_tasks(cluster="flow", tasks=[victim])["tasks"][0]),
            timeout=10, message="the unhealthy task stopping")
        self.assertEqual((t["stopCode"], t["stoppedReason"]),
                         ("ServiceSchedulerInitiated", "Task failed container health checks"))
        self.assertNotIn(victim_ip, self.d.dig("web.boto.local"))
        after = self.records("web.boto.local", 3)
        self.assertNotIn(victim_ip, after)
        self.assertEqual(len(set(after) - set(three)), 1)
        self.assertEqual(self.discovered("boto.local"), after)

        self.ecs.update_service(cluster="flow", service="web", desiredCount=5)
        five = self.records("web.boto.local", 5)
        self.ecs.get_waiter("services_stable").wait(cluster="flow", services=["web"], WaiterConfig=FAST)
        self.assertEqual(self.discovered("boto.local"), five)
        s = self.ecs.describe_services(cluster="flow", services=["web"])["services"][0]
        self.assertEqual((s["runningCount"], s["desiredCount"], len(s["deployments"])), (5, 5, 1))

        self.ecs.delete_service(cluster="flow", service="web", force=True)
        emu.wait_until(lambda: self.d.dig_status("web.boto.local") == "NXDOMAIN", timeout=10, message="NXDOMAIN")
        self.assertEqual(self.discovered("boto.local"), [])
        self.ecs.get_waiter("services_inactive").wait(cluster="flow", services=["web"], WaiterConfig=FAST)

    def test_shapes_and_pagination(self):
        self.ecs.create_cluster(clusterName="shapes")
        for _ in range(3):
            self.ecs.register_task_definition(**task_definition("shapes-web"))
        pages = list(self.ecs.get_paginator("list_task_definitions").paginate(
            familyPrefix="shapes-web", PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 2)
        self.assertEqual(sum(len(p["taskDefinitionArns"]) for p in pages), 3)
        desc = self.ecs.list_task_definitions(familyPrefix="shapes-web", sort="DESC")["taskDefinitionArns"]
        self.assertTrue(desc[0].endswith(":3"))
        td = self.ecs.describe_task_definition(taskDefinition="shapes-web:2", include=["TAGS"])
        self.assertEqual(td["taskDefinition"]["status"], "ACTIVE")
        self.assertIsInstance(td["taskDefinition"]["registeredAt"], datetime.datetime)
        run = self.ecs.run_task(cluster="shapes", taskDefinition="shapes-web", count=3, networkConfiguration=NETWORK,
                                tags=[{"key": "a", "value": "b"}])
        arns = [t["taskArn"] for t in run["tasks"]]
        for arn in arns:
            self.assertRegex(arn, r"^arn:aws:ecs:us-east-1:000000000000:task/shapes/[0-9a-f]{32}$")
        self.ecs.get_waiter("tasks_running").wait(cluster="shapes", tasks=arns, WaiterConfig=FAST)
        listed = []
        for page in self.ecs.get_paginator("list_tasks").paginate(cluster="shapes",
                                                                  PaginationConfig={"PageSize": 2}):
            listed += page["taskArns"]
        self.assertEqual(sorted(listed), sorted(arns))
        t = self.ecs.describe_tasks(cluster="shapes", tasks=arns[:1], include=["TAGS"])["tasks"][0]
        self.assertEqual(t["tags"], [{"key": "a", "value": "b"}])
        self.assertEqual(t["lastStatus"], "RUNNING")
        self.assertEqual(t["healthStatus"], "UNKNOWN")  # simulated tasks are never probed
        self.assertIsInstance(t["startedAt"], datetime.datetime)
        self.assertTrue(t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"].startswith("10.88.0."))
        self.ecs.stop_task(cluster="shapes", task=arns[0], reason="bye")
        self.ecs.get_waiter("tasks_stopped").wait(cluster="shapes", tasks=arns[:1], WaiterConfig=FAST)
        stopped = self.ecs.describe_tasks(cluster="shapes", tasks=arns[:1])["tasks"][0]
        self.assertEqual((stopped["stopCode"], stopped["stoppedReason"]), ("UserInitiated", "bye"))
        for a in arns[1:]:
            self.ecs.stop_task(cluster="shapes", task=a)
        # Services: ListServices default page is 10.
        for i in range(12):
            self.ecs.create_service(cluster="shapes", serviceName="s%d" % i, taskDefinition="shapes-web",
                                    desiredCount=0, networkConfiguration=NETWORK)
        first = self.ecs.list_services(cluster="shapes")
        self.assertEqual(len(first["serviceArns"]), 10)
        second = self.ecs.list_services(cluster="shapes", nextToken=first["nextToken"])
        self.assertEqual(len(second["serviceArns"]), 2)
        d = self.ecs.describe_services(cluster="shapes", services=["s0", "nope"], include=["TAGS"])
        self.assertEqual(d["failures"][0]["arn"], "arn:aws:ecs:us-east-1:000000000000:service/shapes/nope")
        self.assertEqual(d["failures"][0]["reason"], "MISSING")
        self.assertTrue(re.match(r"^ecs-svc/\d{19}$", d["services"][0]["deployments"][0]["id"]))
        # CreateService with the same clientToken is idempotent.
        a = self.ecs.create_service(cluster="shapes", serviceName="tok", taskDefinition="shapes-web",
                                    desiredCount=0, networkConfiguration=NETWORK, clientToken="t1")
        b = self.ecs.create_service(cluster="shapes", serviceName="tok", taskDefinition="shapes-web",
                                    desiredCount=0, networkConfiguration=NETWORK, clientToken="t1")
        self.assertEqual(a["service"]["serviceArn"], b["service"]["serviceArn"])
        arn = a["service"]["serviceArn"]
        self.ecs.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "k", "value": "v"}])
        self.ecs.untag_resource(resourceArn=arn, tagKeys=["k"])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [])
        fams = self.ecs.list_task_definition_families(familyPrefix="shapes")["families"]
        self.assertEqual(fams, ["shapes-web"])

    def test_errors_and_regions(self):
        self.assertEqual(self.code(self.ecs.describe_services, cluster="nope", services=["x"])[0],
                         "ClusterNotFoundException")
        self.ecs.create_cluster(clusterName="errs")
        self.assertEqual(self.code(self.ecs.describe_task_definition, taskDefinition="nope"),
                         ("ClientException", "Unable to describe task definition."))
        bad = task_definition("bad")
        bad["containerDefinitions"][0]["healthCheck"]["retries"] = 11
        code, msg = self.code(self.ecs.register_task_definition, **bad)
        self.assertEqual(code, "ClientException")
        self.assertIn("healthCheck.retries", msg)
        bad["containerDefinitions"][0]["healthCheck"]["retries"] = 3
        bad["containerDefinitions"][0]["healthCheck"]["timeout"] = 61
        self.assertEqual(self.code(self.ecs.register_task_definition, **bad)[0], "ClientException")
        self.assertEqual(self.code(self.ecs.update_service, cluster="errs", service="nope", desiredCount=1),
                         ("ServiceNotFoundException", "Service not found."))
        self.assertEqual(self.code(self.ecs.create_service, cluster="errs", serviceName="x",
                                   taskDefinition="nope", desiredCount=1)[0], "ClientException")
        self.ecs.register_task_definition(**task_definition("errs-web"))
        self.assertEqual(self.code(self.ecs.create_service, cluster="errs", serviceName="x",
                                   taskDefinition="errs-web", desiredCount=1, networkConfiguration=NETWORK,
                                   serviceRegistries=[{"registryArn": "arn:aws:servicediscovery:us-east-1:"
                                                                      "000000000000:service/srv-nope"}])[0],
                         "InvalidParameterException")
        self.assertEqual(self.code(self.ecs.list_tags_for_resource,
                                   resourceArn="arn:aws:ecs:us-east-1:000000000000:cluster/none")[0],
                         "ResourceNotFoundException")
        # Out-of-range values botocore would refuse client-side, sent raw.
        status, body = raw_call(self.d, "ListClusters", {"maxResults": 0})
        self.assertEqual((status, body["__type"]), (400, "InvalidParameterException"))
        status, body = raw_call(self.d, "RunTask", {"cluster": "errs", "taskDefinition": "errs-web", "count": 11,
                                                    "networkConfiguration": NETWORK})
        self.assertEqual((status, body["__type"]), (400, "InvalidParameterException"))
        # State is per region (the credential scope's).
        west = client(self.d, "ecs", region="us-west-2")
        self.assertEqual(west.list_clusters()["clusterArns"], [])
        c = west.create_cluster(clusterName="errs")["cluster"]
        self.assertEqual(c["clusterArn"], "arn:aws:ecs:us-west-2:000000000000:cluster/errs")

    def test_update_cluster_settings_and_service_connect_defaults_survive_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="emu-cluster-") as workdir:
            state = os.path.join(workdir, "state.db")
            with emu.Daemon(state=state, workdir=workdir) as d:
                ecs, sd = client(d, "ecs"), client(d, "servicediscovery")
                ecs.create_cluster(clusterName="upd", settings=[{"name": "containerInsights",
                                                                 "value": "disabled"}])
                c = ecs.update_cluster_settings(cluster="upd", settings=[
                    {"name": "containerInsights", "value": "enabled"}])["cluster"]
                self.assertEqual(c["settings"], [{"name": "containerInsights", "value": "enabled"}])
                # A namespace name that does not exist yet becomes an HTTP namespace (the model's
                # documentation of ClusterServiceConnectDefaultsRequest).
                c = ecs.update_cluster(cluster="upd", serviceConnectDefaults={"namespace": "sc-apps"})["cluster"]
                namespaces = {n["Name"]: n for n in sd.list_namespaces()["Namespaces"]}
                self.assertEqual(namespaces["sc-apps"]["Type"], "HTTP")
                self.assertEqual(c["serviceConnectDefaults"], {"namespace": namespaces["sc-apps"]["Arn"]})
                self.assertEqual(self.code(ecs.update_cluster, cluster="nope",
                                           serviceConnectDefaults={"namespace": "sc-apps"})[0],
                                 "ClusterNotFoundException")
                arn = namespaces["sc-apps"]["Arn"]
            with emu.Daemon(state=state, workdir=workdir) as d:
                ecs = client(d, "ecs")
                c = ecs.describe_clusters(clusters=["upd"], include=["SETTINGS"])["clusters"][0]
                self.assertEqual(c["settings"], [{"name": "containerInsights", "value": "enabled"}])
                self.assertEqual(c["serviceConnectDefaults"], {"namespace": arn})
                # An empty name clears the default namespace (UpdateCluster's documentation).
                c = ecs.update_cluster(cluster="upd", serviceConnectDefaults={"namespace": ""})["cluster"]
                self.assertNotIn("serviceConnectDefaults", c)

    def test_account_settings_per_principal_and_region_survive_a_restart(self):
        root, user = "arn:aws:iam::000000000000:root", "arn:aws:iam::000000000000:user/dev"
        with tempfile.TemporaryDirectory(prefix="emu-account-") as workdir:
            state = os.path.join(workdir, "state.db")
            with emu.Daemon(state=state, workdir=workdir) as d:
                ecs, west = client(d, "ecs"), client(d, "ecs", region="eu-west-1")
                s = ecs.put_account_setting_default(name="fargateTaskRetirementWaitPeriod", value="14")["setting"]
                self.assertEqual((s["value"], s["principalArn"]), ("14", root))
                ecs.put_account_setting(name="fargateTaskRetirementWaitPeriod", value="0", principalArn=user)
                ecs.put_account_setting(name="containerInsights", value="enhanced")
                # The long ARN formats can no longer be turned off (AWS's answer).
                self.assertEqual(self.code(ecs.put_account_setting, name="serviceLongArnFormat", value="disabled"),
                                 ("InvalidParameterException", "You can no longer disable Long Arn settings."))
                self.assertEqual(self.code(ecs.put_account_setting_default, name="fargateTaskRetirementWaitPeriod",
                                           value="3")[0], "InvalidParameterException")
                # A new cluster takes the account's containerInsights.
                c = ecs.create_cluster(clusterName="acct")["cluster"]
                self.assertEqual(c["settings"], [{"name": "containerInsights", "value": "enhanced"}])
                # Settings are per region: eu-west-1 has AWS's defaults.
                west_wait = west.list_account_settings(name="fargateTaskRetirementWaitPeriod",
                                                       effectiveSettings=True)["settings"]
                self.assertEqual(west_wait[0]["value"], "7")
                self.assertEqual(west.list_account_settings()["settings"], [])
            with emu.Daemon(state=state, workdir=workdir) as d:
                ecs = client(d, "ecs")
                pages = list(ecs.get_paginator("list_account_settings").paginate(
                    effectiveSettings=True, PaginationConfig={"PageSize": 5}))
                self.assertGreater(len(pages), 1)
                effective = {s["name"]: s["value"] for p in pages for s in p["settings"]}
                self.assertEqual(effective["fargateTaskRetirementWaitPeriod"], "14")
                self.assertEqual(effective["containerInsights"], "enhanced")
                self.assertEqual(effective["taskLongArnFormat"], "enabled")
                mine = ecs.list_account_settings(principalArn=user)["settings"]
                self.assertEqual([(s["name"], s["value"], s["principalArn"]) for s in mine],
                                 [("fargateTaskRetirementWaitPeriod", "0", user)])
                ecs.delete_account_setting(name="fargateTaskRetirementWaitPeriod", principalArn=user)
                inherited = ecs.list_account_settings(name="fargateTaskRetirementWaitPeriod", principalArn=user,
                                                      effectiveSettings=True)["settings"]
                self.assertEqual(inherited[0]["value"], "14")  # the root user's value again

    def test_agent_endpoints_and_state_changes(self):
        out = self.ecs.discover_poll_endpoint(cluster="default")
        base = self.d.api_url.rstrip("/") + "/"
        self.assertEqual((out["endpoint"], out["telemetryEndpoint"], out["serviceConnectEndpoint"]),
                         (base, base, base))
        self.assertEqual(self.ecs.submit_task_state_change(cluster="default", task="t", status="RUNNING")
                         ["acknowledgment"], "ACK")
        self.assertEqual(self.ecs.submit_container_state_change(cluster="default", task="t", containerName="web",
                                                                status="RUNNING")["acknowledgment"], "ACK")
        self.assertEqual(self.ecs.submit_attachment_state_changes(
            attachments=[{"attachmentArn": "arn:aws:ecs:us-east-1:000000000000:attachment/a", "status": "ATTACHED"}])
            ["acknowledgment"], "ACK")

    def test_reset_empties_ecs_state(self):
        d = emu.Daemon().start()
        try:
            ecs = client(d, "ecs")
            ecs.create_cluster(clusterName="r")
            ecs.register_task_definition(**task_definition("r-web"))
            ecs.create_service(cluster="r", serviceName="s", taskDefinition="r-web", desiredCount=2,
                               networkConfiguration=NETWORK)
            ecs.get_waiter("services_stable").wait(cluster="r", services=["s"], WaiterConfig=FAST)
            d.api("POST", "/v1/reset", expect=200)
            self.assertEqual(ecs.list_clusters()["clusterArns"], [])
            self.assertEqual(ecs.list_task_definition_families()["families"], [])
        finally:
            d.stop()


if __name__ == "__main__":
    emu.main()
