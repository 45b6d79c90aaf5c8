"""Route 53 record sets of the user's own, through Debian's AWS CLI v2 (/usr/bin/aws) and boto3,
answered by the daemon's DNS (real dig on loopback) and kept in the state file.

In a namespace's hosted zone, change-resource-record-sets adds a CNAME to an in-zone name, a TXT
and a weighted pair; dig answers each (the CNAME with its target chased, the weighted pair one
record per query, both seen); list-resource-record-sets shows them merged with SOA, NS and
Cloud Map's record sets; a batch with a duplicate CREATE or a missing DELETE changes nothing
and is InvalidChangeBatch with Route 53's message; a record set Cloud Map manages is refused;
GetChange reports the change INSYNC. All of it again after a restart on the same state file.
A zone of one's own (`corp.internal`, create-hosted-zone) answers SOA, NS and its records, keeps
them over a restart, and is deleted only once empty; a namespace's zone is refused.
10.88.x addresses are DNS data only: nothing is sent to them.
"""
import json

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import emu



def client(d, service):
    return boto3.client(service, endpoint_url=d.api_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def rrset(name, rtype, values, ttl=60, **extra):
    r = {"Name": name, "Type": rtype, "TTL": ttl,
         "ResourceRecords": [{"Value": v} for v in values]}
    r.update(extra)
    return r


class Route53RecordsTest(emu.StateFileDaemonTest):
    prefix = "emu-route53-records-"

    @classmethod
    def on_start(cls):
        cls.r53 = client(cls.d, "route53")
        cls.sd = client(cls.d, "servicediscovery")

    def listed(self, zone_id):
        got = self.r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        return [(r["Name"], r["Type"], r.get("SetIdentifier")) for r in got]

    def weighted_answers(self):
        """Both members of the weighted pair are answered, one record per query."""
        seen = set()

        def both():
            answer = self.d.dig("ab.rec.local", "A")
            self.assertEqual(len(answer), 1, answer)
            seen.add(answer[0])
            return seen == {"10.88.2.1", "10.88.2.2"} or None

        emu.wait_until(both, timeout=20, interval=0, message="both weighted records answered")

    def check_dns(self):
        self.assertEqual(self.d.dig("db.rec.local", "CNAME"), ["web.rec.local."])
        # The CNAME's in-zone target is chased: the CNAME, then web's A.
        self.assertEqual(self.d.dig("db.rec.local", "A"), ["web.rec.local.", "10.88.1.1"])
        self.assertEqual(self.d.dig("txt.rec.local", "TXT"), ['"hello world" "v=1"'])
        self.assertEqual(self.d.dig("rec.local", "MX"), ["10 mail.rec.local."])
        self.weighted_answers()

    def test_record_sets_of_your_own(self):
        ns_op = self.sd.create_private_dns_namespace(Name="rec.local", Vpc="vpc-0rec")
        op = self.sd.get_operation(OperationId=ns_op["OperationId"])["Operation"]
        ns = self.sd.get_namespace(Id=op["Targets"]["NAMESPACE"])["Namespace"]
        zone_id = ns["Properties"]["DnsProperties"]["HostedZoneId"]
        svc = self.sd.create_service(
            Name="web", NamespaceId=ns["Id"],
            DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 15}]})
        self.sd.register_instance(ServiceId=svc["Service"]["Id"], InstanceId="web-1",
                                  Attributes={"AWS_INSTANCE_IPV4": "10.88.1.1"})

        # The CLI: a CNAME to the Cloud Map name, a TXT of two strings and an MX at the apex.
        batch = {"Comment": "mine", "Changes": [
            {"Action": "CREATE", "ResourceRecordSet": rrset("db.rec.local", "CNAME",
                                                            ["web.rec.local"])},
            {"Action": "CREATE", "ResourceRecordSet": rrset("txt.rec.local.", "TXT",
                                                            ['"hello world" "v=1"'])},
            {"Action": "UPSERT", "ResourceRecordSet": rrset("rec.local.", "MX",
                                                            ["10 mail.rec.local"])},
        ]}
        out, _ = self.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
                          "--change-batch", json.dumps(batch))
        info = out["ChangeInfo"]
        self.assertEqual(info["Status"], "INSYNC")
        self.assertEqual(info["Comment"], "mine")
        self.assertTrue(info["Id"].startswith("/change/C"))
        got, _ = self.aws("route53", "get-change", "--id", info["Id"])
        self.assertEqual(got["ChangeInfo"]["Id"], info["Id"])
        self.assertEqual(got["ChangeInfo"]["Status"], "INSYNC")

        # boto3: a weighted pair.
        self.r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": rrset(
                "ab.rec.local", "A", ["10.88.2.%d" % i], ttl=5, SetIdentifier="s%d" % i,
                Weight=1)} for i in (1, 2)]})
        self.check_dns()

        # Listed in Route 53's order, merged with SOA, NS and Cloud Map's record set.
        expected = [("rec.local.", "MX", None), ("rec.local.", "NS", None),
                    ("rec.local.", "SOA", None), ("ab.rec.local.", "A", "s1"),
                    ("ab.rec.local.", "A", "s2"), ("db.rec.local.", "CNAME", None),
                    ("txt.rec.local.", "TXT", None), ("web.rec.local.", "A", "web-1")]
        self.assertEqual(self.listed(zone_id), expected)
        page = self.r53.list_resource_record_sets(HostedZoneId=zone_id, MaxItems="4")
        self.assertTrue(page["IsTruncated"])
        self.assertEqual((page["NextRecordName"], page["NextRecordType"],
                          page["NextRecordIdentifier"]), ("ab.rec.local.", "A", "s2"))
        self.assertEqual(
            self.r53.get_hosted_zone(Id=zone_id)["HostedZone"]["ResourceRecordSetCount"], 8)

        # One failing change fails the batch: nothing of it is applied.
        with self.assertRaises(ClientError) as caught:
            self.r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
                {"Action": "CREATE", "ResourceRecordSet": rrset("new.rec.local", "A",
                                                                ["10.88.3.1"])},
                {"Action": "CREATE", "ResourceRecordSet": rrset("db.rec.local", "CNAME",
                                                                ["other.rec.local"])},
                {"Action": "DELETE", "ResourceRecordSet": rrset("gone.rec.local", "TXT",
                                                                ['"x"'])}]})
        err = caught.exception.response
        self.assertEqual(err["Error"]["Code"], "InvalidChangeBatch")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn("Tried to create resource record set [name='db.rec.local.', type='CNAME'] "
                      "but it already exists", err["Error"]["Message"])
        self.assertIn("Tried to delete resource record set [name='gone.rec.local.', type='TXT'] "
                      "but it was not found", err["Error"]["Message"])
        self.assertEqual(self.d.dig_status("new.rec.local", "A"), "NXDOMAIN")
        self.assertEqual(self.listed(zone_id), expected)

        # Cloud Map's record set is not the user's to change; a name outside the zone is refused.
        _, stderr = self.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
                             "--change-batch", json.dumps({"Changes": [
                                 {"Action": "UPSERT", "ResourceRecordSet": rrset(
                                     "web.rec.local", "A", ["10.88.9.9"])}]}), expect=254)
        self.assertIn("InvalidChangeBatch", stderr)
        self.assertIn("managed by AWS Cloud Map", stderr)
        _, stderr = self.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
                             "--change-batch", json.dumps({"Changes": [
                                 {"Action": "CREATE", "ResourceRecordSet": rrset(
                                     "x.example.com", "A", ["10.88.9.9"])}]}), expect=254)
        self.assertIn("RRSet with DNS name x.example.com. is not permitted in zone rec.local.",
                      stderr)

        # Everything survives a restart on the same state file.
        self.d.stop()
        self.start_daemon()
        self.assertEqual(self.listed(zone_id), expected)
        self.assertEqual(self.r53.get_change(Id=info["Id"])["ChangeInfo"]["Status"], "INSYNC")
        self.check_dns()

        # DELETE with the values it holds removes it from the next answer.
        self.r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": rrset("txt.rec.local.", "TXT",
                                                            ['"hello world" "v=1"'])}]})
        self.assertEqual(self.d.dig("txt.rec.local", "TXT"), [])
        self.assertEqual(self.d.dig_status("txt.rec.local", "TXT"), "NXDOMAIN")


    def test_zone_of_your_own(self):
        """A zone made through Route 53 (not Cloud Map) is served by the same DNS, durable, and
        deleted only once it holds nothing but SOA and NS; a namespace's zone is Cloud Map's."""
        out, _ = self.aws("route53", "create-hosted-zone", "--name", "corp.internal",
                          "--caller-reference", "corp-1", "--vpc",
                          "VPCRegion=us-east-1,VPCId=vpc-0123456789abcdef0",
                          "--hosted-zone-config", "Comment=ours,PrivateZone=true")
        zone = out["HostedZone"]
        zone_id = zone["Id"].split("/")[-1]
        self.assertTrue(zone["Config"]["PrivateZone"])
        self.assertEqual(out["VPC"]["VPCId"], "vpc-0123456789abcdef0")
        self.assertEqual(self.d.dig_status("corp.internal", "SOA"), "NOERROR")
        self.assertEqual(len(self.d.dig("corp.internal", "SOA")), 1)
        self.assertTrue(self.d.dig("corp.internal", "NS"))

        # The same caller reference again is refused, as Route 53 does.
        _, stderr = self.aws("route53", "create-hosted-zone", "--name", "corp.internal",
                             "--caller-reference", "corp-1", expect=254)
        self.assertIn("HostedZoneAlreadyExists", stderr)

        self.r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": rrset("db.corp.internal", "A",
                                                            ["10.88.5.1"])},
            {"Action": "CREATE", "ResourceRecordSet": rrset("x.deep.corp.internal", "TXT",
                                                            ['"deep"'])}]})
        self.assertEqual(self.d.dig("db.corp.internal", "A"), ["10.88.5.1"])
        self.assertEqual(self.d.dig("x.deep.corp.internal", "TXT"), ['"deep"'])
        # The name between the record and the apex exists with no data (RFC 8020): NOERROR.
        self.assertEqual(self.d.dig_status("deep.corp.internal", "A"), "NOERROR")
        self.assertEqual(self.d.dig("deep.corp.internal", "A"), [])
        self.assertEqual(self.d.dig_status("nope.corp.internal", "A"), "NXDOMAIN")
        found = self.r53.list_hosted_zones_by_name(DNSName="corp.internal")["HostedZones"][0]
        self.assertEqual(found["Id"], zone["Id"])
        self.assertEqual(found["Config"]["Comment"], "ours")

        # Not empty: the delete is refused and changes nothing.
        with self.assertRaises(ClientError) as caught:
            self.r53.delete_hosted_zone(Id=zone_id)
        self.assertEqual(caught.exception.response["Error"]["Code"], "HostedZoneNotEmpty")
        self.assertEqual(self.d.dig("db.corp.internal", "A"), ["10.88.5.1"])

        # A namespace's zone cannot be deleted through Route 53.
        ns_op = self.sd.create_private_dns_namespace(Name="zones.local", Vpc="vpc-0zones")
        op = self.sd.get_operation(OperationId=ns_op["OperationId"])["Operation"]
        ns = self.sd.get_namespace(Id=op["Targets"]["NAMESPACE"])["Namespace"]
        with self.assertRaises(ClientError) as caught:
            self.r53.delete_hosted_zone(Id=ns["Properties"]["DnsProperties"]["HostedZoneId"])
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(self.d.dig_status("zones.local", "SOA"), "NOERROR")

        # The zone, its record and its comment survive a restart.
        self.d.stop()
        self.start_daemon()
        self.assertEqual(self.d.dig("db.corp.internal", "A"), ["10.88.5.1"])
        self.assertEqual(self.d.dig_status("deep.corp.internal", "A"), "NOERROR")
        got = self.r53.get_hosted_zone(Id=zone_id)["HostedZone"]
        self.assertEqual(got["Config"]["Comment"], "ours")

        # Emptied, it can go; its names are no longer answered.
        self.r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": rrset("db.corp.internal", "A",
                                                            ["10.88.5.1"])},
            {"Action": "DELETE", "ResourceRecordSet": rrset("x.deep.corp.internal", "TXT",
                                                            ['"deep"'])}]})
        self.assertEqual(self.d.dig_status("deep.corp.internal", "A"), "NXDOMAIN")
        self.r53.delete_hosted_zone(Id=zone_id)
        self.assertEqual(self.d.dig_status("corp.internal", "SOA"), "REFUSED")
        with self.assertRaises(ClientError) as caught:
            self.r53.get_hosted_zone(Id=zone_id)
        self.assertEqual(caught.exception.response["Error"]["Code"], "NoSuchHostedZone")

if __name__ == "__main__":
    emu.main()
