"""Route 53 (REST-XML 2013-04-01) through Debian's AWS CLI v2 (/usr/bin/aws) and boto3, against
the real daemon with a state file.

A private DNS namespace made through Cloud Map is found by `list-hosted-zones-by-name` with the
HostedZoneId GetNamespace gave; `get-hosted-zone` shows its VPC and Cloud Map as its creator;
`list-resource-record-sets` shows SOA, NS and one A record set per task of an ECS service (and per
Cloud Map instance), loses a record set when its task stops or its instance is deregistered, and
pages with --max-items / --page-size and botocore's paginators; an unknown zone is
NoSuchHostedZone, 404, as botocore parses it. All of it again after a restart on the same state
file. All traffic goes to 127.0.0.1; the tasks' 10.88.0.x addresses are data only.
"""

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import emu

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
FAST = {"Delay": 1, "MaxAttempts": 30}
TASK_DEFINITION = {
    "family": "r53-web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
    "cpu": "256", "memory": "512",
    "containerDefinitions": [{"name": "web", "image": "nginx",
                              "portMappings": [{"containerPort": 8080}]}],
}


def client(d, service):
    return boto3.client(service, endpoint_url=d.api_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def keys(record_sets):
    """(Name, Type, SetIdentifier) of each record set, in the order listed."""
    return [(r["Name"], r["Type"], r.get("SetIdentifier")) for r in record_sets]


class Route53Test(emu.StateFileDaemonTest):
    prefix = "emu-route53-"
    daemon_args = ["--task-cidr", "10.88.0.0/24"]

    @classmethod
    def on_start(cls):
        cls.r53 = client(cls.d, "route53")
        cls.sd = client(cls.d, "servicediscovery")
        cls.ecs = client(cls.d, "ecs")

    def record_sets(self, zone_id, *extra):
        out, _ = self.aws("route53", "list-resource-record-sets", "--hosted-zone-id", zone_id, *extra)
        return out

    def a_identifiers(self, zone_id, name):
        """SetIdentifiers of the A record sets at `name`."""
        return sorted(r["SetIdentifier"] for r in self.record_sets(zone_id)["ResourceRecordSets"]
                      if r["Type"] == "A" and r["Name"] == name)

    def running_tasks(self):
        arns = self.ecs.list_tasks(cluster="r53", serviceName="web",
                                   desiredStatus="RUNNING")["taskArns"]
        return sorted(a.rsplit("/", 1)[1] for a in arns)

    def test_hosted_zones_and_record_sets_through_cli_and_boto3(self):
        # A namespace and a service through Cloud Map (the CLI), three ECS tasks in it (boto3).
        op, _ = self.aws("servicediscovery", "create-private-dns-namespace", "--name", "r53.local",
                         "--vpc", "vpc-0r53")
        got, _ = self.aws("servicediscovery", "get-operation", "--operation-id", op["OperationId"])
        ns_id = got["Operation"]["Targets"]["NAMESPACE"]
        ns, _ = self.aws("servicediscovery", "get-namespace", "--id", ns_id)
        zone_id = ns["Namespace"]["Properties"]["DnsProperties"]["HostedZoneId"]
        svc, _ = self.aws("servicediscovery", "create-service", "--name", "web", "--namespace-id",
                          ns_id, "--dns-config",
                          "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=15}]")
        api, _ = self.aws("servicediscovery", "create-service", "--name", "api", "--namespace-id",
                          ns_id, "--dns-config",
                          "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=30}]")
        for i in (1, 2):
            self.aws("servicediscovery", "register-instance", "--service-id", api["Service"]["Id"],
                     "--instance-id", "api-%d" % i, "--attributes",
                     "AWS_INSTANCE_IPV4=10.88.1.%d" % i)
        self.ecs.create_cluster(clusterName="r53")
        self.ecs.register_task_definition(**TASK_DEFINITION)
        self.ecs.create_service(cluster="r53", serviceName="web", taskDefinition="r53-web",
                                desiredCount=3, launchType="FARGATE", networkConfiguration=NETWORK,
                                serviceRegistries=[{"registryArn": svc["Service"]["Arn"]}])
        self.ecs.get_waiter("services_stable").wait(cluster="r53", services=["web"],
                                                    WaiterConfig=FAST)
        tasks = emu.wait_until(lambda: (lambda t: t if len(t) == 3 else None)(self.running_tasks()),
                               timeout=20, message="three running tasks")

        # list-hosted-zones-by-name finds the zone with the id GetNamespace gave.
        listed, _ = self.aws("route53", "list-hosted-zones-by-name", "--dns-name", "r53.local")
        zone = listed["HostedZones"][0]
        self.assertEqual(zone["Id"], "/hostedzone/" + zone_id)
        self.assertEqual(zone["Name"], "r53.local.")
        self.assertTrue(zone["Config"]["PrivateZone"])
        self.assertEqual(zone["LinkedService"]["ServicePrincipal"], "servicediscovery.amazonaws.com")
        self.assertEqual(zone["LinkedService"]["Description"], ns["Namespace"]["Arn"])
        self.assertEqual(listed["DNSName"], "r53.local")
        self.assertFalse(listed["IsTruncated"])
        # --max-items on a call the CLI does not paginate is the MaxItems parameter itself.
        one, _ = self.aws("route53", "list-hosted-zones-by-name", "--max-items", "1")
        self.assertEqual(len(one["HostedZones"]), 1)

        hz, _ = self.aws("route53", "get-hosted-zone", "--id", zone_id)
        self.assertEqual(hz["HostedZone"]["Id"], "/hostedzone/" + zone_id)
        self.assertEqual(hz["VPCs"], [{"VPCRegion": "us-east-1", "VPCId": "vpc-0r53"}])
        self.assertEqual(hz["HostedZone"]["ResourceRecordSetCount"], 2 + 3 + 2)
        self.assertNotIn("DelegationSet", hz)

        # SOA, NS and one A record set per task and per instance, in Route 53's order.
        sets = self.record_sets(zone_id)["ResourceRecordSets"]
        expected = ([("r53.local.", "NS", None), ("r53.local.", "SOA", None)] +
                    [("api.r53.local.", "A", "api-%d" % i) for i in (1, 2)] +
                    [("web.r53.local.", "A", t) for t in tasks])
        self.assertEqual(keys(sets), expected)
        web = [r for r in sets if r["Name"] == "web.r53.local."]
        self.assertTrue(all(r["MultiValueAnswer"] and r["TTL"] == 15 for r in web))
        self.assertEqual(sorted(r["ResourceRecords"][0]["Value"] for r in web),
                         sorted(self.d.dig("web.r53.local")))
        self.assertEqual(len(sets[0]["ResourceRecords"]), 4)
        self.assertEqual(sets[1]["TTL"], 900)

        # Paging: --max-items (the CLI's own, with NextToken) and --page-size (MaxItems per call).
        first = self.record_sets(zone_id, "--max-items", "3")
        self.assertEqual(keys(first["ResourceRecordSets"]), expected[:3])
        rest = self.record_sets(zone_id, "--starting-token", first["NextToken"])
        self.assertEqual(keys(rest["ResourceRecordSets"]), expected[3:])
        self.assertEqual(keys(self.record_sets(zone_id, "--page-size", "1")["ResourceRecordSets"]),
                         expected)
        pages = list(self.r53.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id, PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 4)
        self.assertEqual([k for p in pages for k in keys(p["ResourceRecordSets"])], expected)
        self.assertEqual(pages[0]["NextRecordName"], "api.r53.local.")
        self.assertEqual(pages[0]["NextRecordIdentifier"], "api-1")
        zones = [z["Id"] for p in self.r53.get_paginator("list_hosted_zones").paginate(
            PaginationConfig={"PageSize": 1}) for z in p["HostedZones"]]
        self.assertIn("/hostedzone/" + zone_id, zones)
        self.assertEqual(self.r53.get_hosted_zone_count()["HostedZoneCount"], len(zones))

        # A stopped task's record set is gone (the scheduler's replacement gets its own).
        victim = tasks[0]
        self.ecs.stop_task(cluster="r53", task=victim)
        emu.wait_until(lambda: victim not in self.a_identifiers(zone_id, "web.r53.local."),
                       timeout=20, message="the stopped task's record set to go")
        emu.wait_until(lambda: len(self.a_identifiers(zone_id, "web.r53.local.")) == 3,
                       timeout=20, message="the replacement task's record set")
        self.assertEqual(self.a_identifiers(zone_id, "web.r53.local."), self.running_tasks())
        # So is a deregistered instance's.
        self.aws("servicediscovery", "deregister-instance", "--service-id", api["Service"]["Id"],
                 "--instance-id", "api-1")
        self.assertEqual(self.a_identifiers(zone_id, "api.r53.local."), ["api-2"])

        # An unknown zone: NoSuchHostedZone, 404, for the CLI and for botocore.
        _, err = self.aws("route53", "get-hosted-zone", "--id", "ZNOSUCHZONE0000000000", expect=254)
        self.assertIn("NoSuchHostedZone", err)
        with self.assertRaises(ClientError) as cm:
            self.r53.list_resource_record_sets(HostedZoneId="ZNOSUCHZONE0000000000")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchHostedZone")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertIn("ZNOSUCHZONE0000000000", cm.exception.response["Error"]["Message"])
        # An operation not implemented yet says so, with 501.
        with self.assertRaises(ClientError) as cm:
            self.r53.get_health_check_count()
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotImplemented")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 501)

        # After a restart on the same state file: the same zone, VPC and record sets.
        before = keys(self.record_sets(zone_id)["ResourceRecordSets"])
        self.assertEqual(self.d.stop(), 0)
        type(self).start_daemon()
        listed, _ = self.aws("route53", "list-hosted-zones-by-name", "--dns-name", "r53.local")
        self.assertEqual(listed["HostedZones"][0]["Id"], "/hostedzone/" + zone_id)
        hz, _ = self.aws("route53", "get-hosted-zone", "--id", zone_id)
        self.assertEqual(hz["VPCs"], [{"VPCRegion": "us-east-1", "VPCId": "vpc-0r53"}])
        emu.wait_until(lambda: keys(self.record_sets(zone_id)["ResourceRecordSets"]) == before,
                       timeout=20, message="the record sets of before the restart")
        with self.assertRaises(ClientError) as cm:
            self.r53.get_hosted_zone(Id="ZNOSUCHZONE0000000000")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)


if __name__ == "__main__":
    emu.main()
