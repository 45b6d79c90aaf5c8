"""Cloud Map through boto3 (python3-boto3) against the real daemon, checked with dig.

Every operation of Route53AutoNaming_v20170314 the emulator serves, their errors as botocore
ClientError codes, pagination through botocore's paginators, regions, and DiscoverInstances with
Config(inject_host_prefix=False). All traffic goes to 127.0.0.1; 10.0.0.x addresses are data only.
"""
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


def client(d, region="us-east-1", **config):
    return boto3.client(
        "servicediscovery",
        endpoint_url=d.api_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, **config),
    )


def raw_call(d, operation, body, host=None, region="us-east-1"):
    """One unsigned-but-scoped JSON 1.1 call without botocore's client-side validation."""
    headers = {
        "X-Amz-Target": "Route53AutoNaming_v20170314." + operation,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/%s/servicediscovery/"
                         "aws4_request, SignedHeaders=host, Signature=00" % region,
    }
    if host:
        headers["Host"] = host
    req = urllib.request.Request(d.api_url + "/", data=json.dumps(body).encode(), method="POST",
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def instances_revision(d, data_client, namespace, service):
    """DiscoverInstancesRevision; botocore before 1.31 lacks it, so then as a raw call."""
    if hasattr(data_client, "discover_instances_revision"):
        return data_client.discover_instances_revision(NamespaceName=namespace,
                                                       ServiceName=service)["InstancesRevision"]
    status, body = raw_call(d, "DiscoverInstancesRevision",
                            {"NamespaceName": namespace, "ServiceName": service},
                            host="data-127.0.0.1:%d" % d.api_port)
    if status != 200:
        raise AssertionError("DiscoverInstancesRevision: %d %s" % (status, body))
    return body["InstancesRevision"]


class CloudMapBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon().start()
        cls.sd = client(cls.d)
        cls.data = client(cls.d, inject_host_prefix=False)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def code(self, fn, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            fn(**kwargs)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return ctx.exception.response["Error"]["Code"]

    def namespace(self, name, region_client=None):
        sd = region_client or self.sd
        op = sd.create_private_dns_namespace(Name=name, Vpc="vpc-1")["OperationId"]
        got = sd.get_operation(OperationId=op)["Operation"]
        self.assertEqual(got["Status"], "SUCCESS")
        return got["Targets"]["NAMESPACE"]

    def revision(self, namespace, service):
        return instances_revision(self.d, self.data, namespace, service)

    def test_full_flow_with_dns(self):
        sd, d = self.sd, self.d
        op = sd.create_private_dns_namespace(Name="flow.local", Vpc="vpc-1",
                                             Description="flow")["OperationId"]
        self.assertRegex(op, r"^[a-z0-9]{32}-[a-z0-9]{8}$")
        operation = sd.get_operation(OperationId=op)["Operation"]
        self.assertEqual((operation["Status"], operation["Type"]), ("SUCCESS", "CREATE_NAMESPACE"))
        ns_id = operation["Targets"]["NAMESPACE"]
        self.assertRegex(ns_id, r"^ns-[a-z0-9]{16}$")
        ns = sd.get_namespace(Id=ns_id)["Namespace"]
        self.assertEqual(ns["Arn"], "arn:aws:servicediscovery:us-east-1:000000000000:namespace/" + ns_id)
        self.assertEqual(ns["Properties"]["HttpProperties"]["HttpName"], "flow.local")
        # the namespace is a zone
        emu.wait_until(lambda: d.dig_status("flow.local", "SOA") == "NOERROR", 5, message="SOA")

        svc = sd.create_service(
            Name="web", NamespaceId=ns_id,
            DnsConfig={"RoutingPolicy": "MULTIVALUE",
                       "DnsRecords": [{"Type": "A", "TTL": 30}, {"Type": "SRV", "TTL": 30}]},
            HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]
        self.assertRegex(svc["Id"], r"^srv-[a-z0-9]{16}$")
        self.assertEqual(svc["HealthCheckCustomConfig"], {"FailureThreshold": 1})
        sd.register_instance(ServiceId=svc["Id"], InstanceId="i-1",
                             Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080",
                                         "color": "blue"})
        sd.register_instance(ServiceId=svc["Id"], InstanceId="i-2",
                             Attributes={"AWS_INSTANCE_IPV4": "10.0.0.2", "AWS_INSTANCE_PORT": "8080",
                                         "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
        # at once: the A record of the healthy instance, and its SRV
        self.assertEqual(d.dig("web.flow.local", "A"), ["10.0.0.1"])
        self.assertEqual(d.dig("web.flow.local", "SRV"), ["1 1 8080 i-1.web.flow.local."])
        self.assertEqual(sd.get_instances_health_status(ServiceId=svc["Id"])["Status"],
                         {"i-1": "HEALTHY", "i-2": "UNHEALTHY"})

        found = self.data.discover_instances(NamespaceName="flow.local", ServiceName="web")
        self.assertEqual([i["InstanceId"] for i in found["Instances"]], ["i-1"])
        self.assertEqual(found["Instances"][0]["Attributes"]["color"], "blue")
        rev = self.revision("flow.local", "web")
        # (botocore before 1.31 drops InstancesRevision from DiscoverInstances' output)
        self.assertEqual(rev, found.get("InstancesRevision", rev))
        self.assertGreater(rev, 0)
        everyone = self.data.discover_instances(NamespaceName="flow.local", ServiceName="web",
                                                HealthStatus="ALL")
        self.assertEqual(sorted(i["InstanceId"] for i in everyone["Instances"]), ["i-1", "i-2"])

        # custom health drives DNS
        sd.update_instance_custom_health_status(ServiceId=svc["Id"], InstanceId="i-2", Status="HEALTHY")
        sd.update_instance_custom_health_status(ServiceId=svc["Id"], InstanceId="i-1", Status="UNHEALTHY")
        self.assertEqual(d.dig("web.flow.local", "A"), ["10.0.0.2"])
        self.assertEqual(self.revision("flow.local", "web"), rev)

        got = sd.get_instance(ServiceId=svc["Id"], InstanceId="i-1")["Instance"]
        self.assertEqual(got["Attributes"]["AWS_INSTANCE_IPV4"], "10.0.0.1")
        listed = sd.list_instances(ServiceId=svc["Id"])["Instances"]
        self.assertEqual(sorted(i["Id"] for i in listed), ["i-1", "i-2"])

        dereg = sd.deregister_instance(ServiceId=svc["Id"], InstanceId="i-2")["OperationId"]
        self.assertEqual(sd.get_operation(OperationId=dereg)["Operation"]["Type"], "DEREGISTER_INSTANCE")
        # only i-1 (unhealthy) is left: Route 53 answers it anyway (fail-open)
        self.assertEqual(d.dig("web.flow.local", "A"), ["10.0.0.1"])
        self.assertGreater(self.revision("flow.local", "web"), rev)
        sd.deregister_instance(ServiceId=svc["Id"], InstanceId="i-1")
        self.assertEqual(d.dig_status("web.flow.local", "A"), "NXDOMAIN")

        sd.delete_service(Id=svc["Id"])
        delete = sd.delete_namespace(Id=ns_id)["OperationId"]
        self.assertEqual(sd.get_operation(OperationId=delete)["Operation"]["Type"], "DELETE_NAMESPACE")
        self.assertEqual(d.dig_status("flow.local", "SOA"), "REFUSED")

    def test_public_namespace_is_a_public_zone(self):
        sd, d = self.sd, self.d
        op = sd.create_public_dns_namespace(Name="public.example", Description="pub")["OperationId"]
        operation = sd.get_operation(OperationId=op)["Operation"]
        self.assertEqual((operation["Status"], operation["Type"]), ("SUCCESS", "CREATE_NAMESPACE"))
        ns = sd.get_namespace(Id=operation["Targets"]["NAMESPACE"])["Namespace"]
        self.assertEqual(ns["Type"], "DNS_PUBLIC")
        zone_id = ns["Properties"]["DnsProperties"]["HostedZoneId"]
        self.assertTrue(zone_id)
        emu.wait_until(lambda: d.dig_status("public.example", "SOA") == "NOERROR", 5,
                       message="SOA")
        self.assertTrue(d.dig("public.example", "NS"))
        r53 = boto3.client("route53", endpoint_url=d.api_url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test",
                           config=Config(retries={"max_attempts": 1}))
        zone = r53.get_hosted_zone(Id=zone_id)["HostedZone"]
        self.assertFalse(zone["Config"]["PrivateZone"])

    def test_update_private_namespace(self):
        sd = self.sd
        ns_id = self.namespace("upd-boto.local")
        op = sd.update_private_dns_namespace(
            Id=ns_id, Namespace={"Description": "d2",
                                 "Properties": {"DnsProperties": {"SOA": {"TTL": 15}}}})["OperationId"]
        operation = sd.get_operation(OperationId=op)["Operation"]
        self.assertEqual((operation["Type"], operation["Status"]), ("UPDATE_NAMESPACE", "SUCCESS"))
        ns = sd.get_namespace(Id=ns_id)["Namespace"]
        self.assertEqual(ns["Description"], "d2")
        self.assertEqual(ns["Properties"]["DnsProperties"]["SOA"]["TTL"], 15)
        self.assertEqual(self.code(sd.update_http_namespace, Id=ns_id,
                                   Namespace={"Description": "x"}), "InvalidInput")

    def test_model_validation_and_not_emulated_operations(self):
        # Without botocore's client-side checks: the server's own answer, in AWS's words.
        status, body = raw_call(self.d, "CreateService",
                                {"Name": "svc", "Type": "NOPE", "Description": 5})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidInput")
        self.assertEqual(body["Message"],
                         "2 validation errors detected: Value 5 at 'Description' failed to "
                         "satisfy constraint: Member must be a string; Value 'NOPE' at 'Type' "
                         "failed to satisfy constraint: Member must satisfy enum value set: "
                         "[HTTP]")
        status, body = raw_call(self.d, "NoSuchOperation", {})
        self.assertEqual(body["__type"], "UnknownOperationException")

    def test_errors(self):
        sd = self.sd
        self.assertEqual(self.code(sd.get_namespace, Id="ns-aaaaaaaaaaaaaaaa"), "NamespaceNotFound")
        self.assertEqual(self.code(sd.get_service, Id="srv-aaaaaaaaaaaaaaaa"), "ServiceNotFound")
        self.assertEqual(self.code(sd.get_operation, OperationId="x"), "OperationNotFound")
        self.assertEqual(self.code(sd.list_tags_for_resource,
                                   ResourceARN="arn:aws:servicediscovery:us-east-1:000000000000:service/srv-x"),
                         "ResourceNotFoundException")
        ns_id = self.namespace("errors.local")
        self.assertEqual(self.code(sd.create_private_dns_namespace, Name="errors.local", Vpc="v"),
                         "NamespaceAlreadyExists")
        with self.assertRaises(ClientError) as ctx:
            sd.create_private_dns_namespace(Name="errors.local", Vpc="v")
        self.assertEqual(ctx.exception.response["NamespaceId"], ns_id)
        svc = sd.create_service(Name="api", NamespaceId=ns_id,
                                DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]
        with self.assertRaises(ClientError) as ctx:
            sd.create_service(Name="api", NamespaceId=ns_id, DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ServiceAlreadyExists")
        self.assertEqual(ctx.exception.response["ServiceId"], svc["Id"])
        self.assertEqual(self.code(sd.create_service, Name="cname", NamespaceId=ns_id,
                                   DnsConfig={"RoutingPolicy": "WEIGHTED",
                                              "DnsRecords": [{"Type": "CNAME", "TTL": 10}]}),
                         "InvalidInput")
        self.assertEqual(self.code(sd.get_instance, ServiceId=svc["Id"], InstanceId="nope"), "InstanceNotFound")
        self.assertEqual(self.code(sd.update_instance_custom_health_status, ServiceId=svc["Id"],
                                   InstanceId="nope", Status="HEALTHY"), "InstanceNotFound")
        sd.register_instance(ServiceId=svc["Id"], InstanceId="i-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.5"})
        self.assertEqual(self.code(sd.update_instance_custom_health_status, ServiceId=svc["Id"],
                                   InstanceId="i-1", Status="UNHEALTHY"), "CustomHealthNotFound")
        self.assertEqual(self.code(sd.register_instance, ServiceId=svc["Id"], InstanceId="i-2",
                                   Attributes={"AWS_INSTANCE_PORT": "80"}), "InvalidInput")
        self.assertEqual(self.code(sd.delete_service, Id=svc["Id"]), "ResourceInUse")
        self.assertEqual(self.code(sd.delete_namespace, Id=ns_id), "ResourceInUse")
        self.assertEqual(self.code(self.data.discover_instances, NamespaceName="errors.local",
                                   ServiceName="nope"), "ServiceNotFound")
        self.assertEqual(self.code(self.data.discover_instances, NamespaceName="nope.local",
                                   ServiceName="api"), "NamespaceNotFound")
        # botocore validates members client-side; raw requests reach the server's validation
        status, body = raw_call(self.d, "CreatePrivateDnsNamespace", {"Vpc": "v"})
        self.assertEqual((status, body["__type"]), (400, "InvalidInput"))
        self.assertIn("'Name'", body["Message"])
        status, body = raw_call(self.d, "RegisterInstance", {"ServiceId": svc["Id"], "InstanceId": "i"})
        self.assertIn("'Attributes'", body["message"])
        status, body = raw_call(self.d, "ListNamespaces", {"MaxResults": 500})
        self.assertEqual((status, body["__type"]), (400, "InvalidInput"))

    def test_data_host_prefix_is_routed_by_target(self):
        ns_id = self.namespace("prefix.local")
        svc = self.sd.create_service(Name="web", NamespaceId=ns_id,
                                     DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]
        self.sd.register_instance(ServiceId=svc["Id"], InstanceId="i-1",
                                  Attributes={"AWS_INSTANCE_IPV4": "10.0.0.7"})
        status, body = raw_call(self.d, "DiscoverInstances",
                                {"NamespaceName": "prefix.local", "ServiceName": "web"},
                                host="data-127.0.0.1:%d" % self.d.api_port)
        self.assertEqual(status, 200)
        self.assertEqual(body["Instances"][0]["Attributes"]["AWS_INSTANCE_IPV4"], "10.0.0.7")
        self.assertEqual(body["Instances"][0]["HealthStatus"], "UNKNOWN")

    def test_pagination_filters_and_lists(self):
        sd = self.sd
        ids = [self.namespace("page%d.local" % i) for i in range(5)]
        pages = list(sd.get_paginator("list_namespaces").paginate(
            Filters=[{"Name": "NAME", "Values": ["page"], "Condition": "BEGINS_WITH"}],
            PaginationConfig={"PageSize": 2}))
        names = [n["Name"] for p in pages for n in p["Namespaces"]]
        self.assertEqual(sorted(names), ["page%d.local" % i for i in range(5)])
        self.assertGreaterEqual(len(pages), 3)
        self.assertTrue(all(isinstance(n["CreateDate"].year, int) for p in pages for n in p["Namespaces"]))
        http_op = sd.create_http_namespace(Name="page-http")["OperationId"]
        http_id = sd.get_operation(OperationId=http_op)["Operation"]["Targets"]["NAMESPACE"]
        typed = sd.list_namespaces(Filters=[{"Name": "TYPE", "Values": ["HTTP"]}])["Namespaces"]
        self.assertIn(http_id, [n["Id"] for n in typed])
        self.assertTrue(all(n["Type"] == "HTTP" for n in typed))

        for i in range(3):
            sd.create_service(Name="s%d" % i, NamespaceId=ids[0],
                              DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})
        sd.create_service(Name="other", NamespaceId=ids[1], DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})
        services = [s for p in sd.get_paginator("list_services").paginate(
            Filters=[{"Name": "NAMESPACE_ID", "Values": [ids[0]], "Condition": "EQ"}],
            PaginationConfig={"PageSize": 1}) for s in p["Services"]]
        self.assertEqual(sorted(s["Name"] for s in services), ["s0", "s1", "s2"])

        svc = services[0]["Id"]
        for i in range(4):
            sd.register_instance(ServiceId=svc, InstanceId="i-%d" % i,
                                 Attributes={"AWS_INSTANCE_IPV4": "10.0.1.%d" % (i + 1)})
        instances = [i for p in sd.get_paginator("list_instances").paginate(
            ServiceId=svc, PaginationConfig={"PageSize": 3}) for i in p["Instances"]]
        self.assertEqual(len(instances), 4)
        ops = [o for p in sd.get_paginator("list_operations").paginate(
            Filters=[{"Name": "SERVICE_ID", "Values": [svc]}], PaginationConfig={"PageSize": 2})
            for o in p["Operations"]]
        self.assertEqual(len(ops), 4)
        self.assertTrue(all(o["Status"] == "SUCCESS" for o in ops))
        upd = sd.update_service(Id=svc, Service={"Description": "d",
                                                 "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 99}]}})
        self.assertEqual(sd.get_operation(OperationId=upd["OperationId"])["Operation"]["Type"], "UPDATE_SERVICE")
        got = sd.get_service(Id=svc)["Service"]
        self.assertEqual(got["DnsConfig"]["DnsRecords"], [{"Type": "A", "TTL": 99}])
        self.assertEqual(got["Description"], "d")
        self.assertEqual(got["InstanceCount"], 4)

    def test_tags(self):
        sd = self.sd
        op = sd.create_private_dns_namespace(Name="tags.local", Vpc="v", Tags=[{"Key": "team", "Value": "a"}])
        ns_id = sd.get_operation(OperationId=op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
        arn = sd.get_namespace(Id=ns_id)["Namespace"]["Arn"]
        self.assertEqual(sd.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "team", "Value": "a"}])
        sd.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
        sd.untag_resource(ResourceARN=arn, TagKeys=["team"])
        self.assertEqual(sd.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "env", "Value": "dev"}])
        self.assertEqual(self.code(sd.tag_resource, ResourceARN=arn + "x", Tags=[{"Key": "k", "Value": "v"}]),
                         "ResourceNotFoundException")

    def test_regions_are_separate(self):
        west = client(self.d, region="eu-west-1")
        ns_id = self.namespace("west.local", west)
        self.assertIn(":eu-west-1:", west.get_namespace(Id=ns_id)["Namespace"]["Arn"])
        self.assertEqual(self.code(self.sd.get_namespace, Id=ns_id), "NamespaceNotFound")
        self.assertNotIn(ns_id, [n["Id"] for n in self.sd.list_namespaces()["Namespaces"]])
        self.assertIn(ns_id, [n["Id"] for n in west.list_namespaces()["Namespaces"]])
        # the one DNS server answers for every region's zones
        self.assertEqual(self.d.dig_status("west.local", "SOA"), "NOERROR")


class CloudMapRestartTest(unittest.TestCase):
    """Operations, InstancesRevision and CreatorRequestIds are state: a crash and a restart on the
    same state file give the same answers."""

    def test_operations_and_revisions_survive_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="emu-cloudmap-restart-") as workdir:
            state = os.path.join(workdir, "state.db")
            d = emu.Daemon(state=state, workdir=workdir).start()
            try:
                sd = client(d)
                create_op = sd.create_private_dns_namespace(Name="restart.local",
                                                            Vpc="vpc-1")["OperationId"]
                ns_id = sd.get_operation(OperationId=create_op)["Operation"]["Targets"]["NAMESPACE"]
                srv_id = sd.create_service(
                    Name="web", NamespaceId=ns_id,
                    DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 30}]})["Service"]["Id"]
                register_op = sd.register_instance(
                    ServiceId=srv_id, InstanceId="web-1", CreatorRequestId="req-web-1",
                    Attributes={"AWS_INSTANCE_IPV4": "10.0.0.21"})["OperationId"]
                before = {
                    "create": sd.get_operation(OperationId=create_op)["Operation"],
                    "register": sd.get_operation(OperationId=register_op)["Operation"],
                    "list": sd.list_operations()["Operations"],
                    "revision": instances_revision(d, sd, "restart.local", "web"),
                }
            finally:
                d.kill()  # a crash: only what was committed with each answer is left
            d = emu.Daemon(state=state, workdir=workdir).start()
            try:
                sd = client(d)
                self.assertEqual(sd.get_operation(OperationId=create_op)["Operation"],
                                 before["create"])
                got = sd.get_operation(OperationId=register_op)["Operation"]
                self.assertEqual(got, before["register"])
                self.assertEqual(got["Targets"], {"INSTANCE": "web-1", "SERVICE": srv_id})
                self.assertEqual(sd.list_operations()["Operations"], before["list"])
                self.assertEqual(instances_revision(d, sd, "restart.local", "web"),
                                 before["revision"])
                instance = sd.get_instance(ServiceId=srv_id, InstanceId="web-1")["Instance"]
                self.assertEqual(instance.get("CreatorRequestId"), "req-web-1")
                # A registration after the restart still moves the revision forward.
                sd.register_instance(ServiceId=srv_id, InstanceId="web-2",
                                     Attributes={"AWS_INSTANCE_IPV4": "10.0.0.22"})
                self.assertGreater(instances_revision(d, sd, "restart.local", "web"),
                                   before["revision"])
            finally:
                d.stop()


if __name__ == "__main__":
    emu.main()
