"""Cloud Map through the real AWS CLI v2 (Debian's /usr/bin/aws, awscli 2.9) against the daemon.

Every operation, errors (exit code 254 and the code in stderr), and DiscoverInstances through
HTTP_PROXY: the CLI 2.9 has no switch for the `data-` host prefix, so it sends
`POST http://data-127.0.0.1:PORT/` to the proxy, which is the emulator itself (absolute-form
target, routed by X-Amz-Target). All traffic goes to 127.0.0.1; 10.0.0.x addresses are data only.
"""
import http.client
import json
import os
import subprocess
import tempfile
import unittest

import emu

AWS = "/usr/bin/aws"  # CLI v2 from Debian; the first `aws` on PATH may be a v1


class CloudMapCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon().start()
        cls.home = tempfile.mkdtemp(prefix="emu-cli-")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def env(self, region="us-east-1", proxy=False):
        return emu.aws_cli_env(self.home, self.d.api_url, region=region, proxy=proxy)

    def aws(self, *args, region="us-east-1", proxy=False, expect=0):
        """Runs `aws servicediscovery ARGS`; returns (parsed stdout, stderr)."""
        cmd = [AWS, "--endpoint-url", self.d.api_url, "--output", "json", "servicediscovery"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                             env=self.env(region, proxy))
        self.assertEqual(out.returncode, expect, "%s\nstdout: %s\nstderr: %s" % (cmd, out.stdout, out.stderr))
        return (json.loads(out.stdout) if out.stdout.strip() else {}), out.stderr

    def error(self, *args, **kwargs):
        """Runs a call that must fail with a service error (exit 254); returns stderr."""
        _, err = self.aws(*args, expect=254, **kwargs)
        return err

    def namespace_id(self, op_id, region="us-east-1"):
        op, _ = self.aws("get-operation", "--operation-id", op_id, region=region)
        self.assertEqual(op["Operation"]["Status"], "SUCCESS")
        return op["Operation"]["Targets"]["NAMESPACE"]

    def test_public_namespace_and_namespace_updates(self):
        d = self.d
        out, _ = self.aws("create-public-dns-namespace", "--name", "pub-cli.example",
                          "--properties", "DnsProperties={SOA={TTL=30}}")
        ns_id = self.namespace_id(out["OperationId"])
        ns, _ = self.aws("get-namespace", "--id", ns_id)
        self.assertEqual(ns["Namespace"]["Type"], "DNS_PUBLIC")
        emu.wait_until(lambda: d.dig_status("pub-cli.example", "SOA") == "NOERROR", 5,
                       message="SOA of the public zone")
        self.assertEqual(d.dig("pub-cli.example", "SOA")[0].split()[-1], "30")
        # The SOA TTL is the zone's negative TTL: the SOA's minimum follows the update.
        out, _ = self.aws("update-public-dns-namespace", "--id", ns_id, "--namespace",
                          "Description=changed,Properties={DnsProperties={SOA={TTL=77}}}")
        op, _ = self.aws("get-operation", "--operation-id", out["OperationId"])
        self.assertEqual((op["Operation"]["Type"], op["Operation"]["Status"]),
                         ("UPDATE_NAMESPACE", "SUCCESS"))
        emu.wait_until(lambda: d.dig("pub-cli.example", "SOA")[0].split()[-1] == "77", 5,
                       message="SOA minimum 77")
        ns, _ = self.aws("get-namespace", "--id", ns_id)
        self.assertEqual(ns["Namespace"]["Description"], "changed")
        out, _ = self.aws("create-http-namespace", "--name", "http-cli")
        http_id = self.namespace_id(out["OperationId"])
        out, _ = self.aws("update-http-namespace", "--id", http_id, "--namespace",
                          "Description=api only")
        ns, _ = self.aws("get-namespace", "--id", http_id)
        self.assertEqual(ns["Namespace"]["Description"], "api only")
        self.assertIn("InvalidInput", self.error("update-private-dns-namespace", "--id", http_id,
                                                 "--namespace", "Description=x"))

    def test_full_flow(self):
        d = self.d
        out, _ = self.aws("create-private-dns-namespace", "--name", "cli.local", "--vpc", "vpc-1",
                          "--properties", "DnsProperties={SOA={TTL=20}}")
        ns_id = self.namespace_id(out["OperationId"])
        ns, _ = self.aws("get-namespace", "--id", ns_id)
        self.assertEqual(ns["Namespace"]["Name"], "cli.local")
        self.assertEqual(ns["Namespace"]["Properties"]["DnsProperties"]["SOA"]["TTL"], 20)
        self.assertEqual(d.dig_status("cli.local", "SOA"), "NOERROR")
        listed, _ = self.aws("list-namespaces", "--filters", "Name=TYPE,Values=DNS_PRIVATE,Condition=EQ")
        self.assertIn(ns_id, [n["Id"] for n in listed["Namespaces"]])

        svc, _ = self.aws("create-service", "--name", "web", "--namespace-id", ns_id,
                          "--dns-config", "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=60},{Type=SRV,TTL=60}]",
                          "--health-check-custom-config", "FailureThreshold=1")
        svc_id = svc["Service"]["Id"]
        got, _ = self.aws("get-service", "--id", svc_id)
        self.assertEqual(got["Service"]["DnsConfig"]["DnsRecords"], [{"Type": "A", "TTL": 60}, {"Type": "SRV", "TTL": 60}])
        services, _ = self.aws("list-services", "--filters", "Name=NAMESPACE_ID,Values=%s,Condition=EQ" % ns_id)
        self.assertEqual([s["Id"] for s in services["Services"]], [svc_id])
        upd, _ = self.aws("update-service", "--id", svc_id, "--service",
                          "Description=web,DnsConfig={DnsRecords=[{Type=A,TTL=30},{Type=SRV,TTL=30}]}")
        self.assertRegex(upd["OperationId"], r"^[a-z0-9]{32}-[a-z0-9]{8}$")

        reg, _ = self.aws("register-instance", "--service-id", svc_id, "--instance-id", "i-1",
                          "--attributes", "AWS_INSTANCE_IPV4=10.0.0.1,AWS_INSTANCE_PORT=8080,stage=blue")
        op, _ = self.aws("get-operation", "--operation-id", reg["OperationId"])
        self.assertEqual(op["Operation"]["Targets"]["INSTANCE"], "i-1")
        self.aws("register-instance", "--service-id", svc_id, "--instance-id", "i-2",
                 "--attributes", "AWS_INSTANCE_IPV4=10.0.0.2,AWS_INSTANCE_PORT=8080,stage=green")
        self.assertEqual(sorted(d.dig("web.cli.local", "A")), ["10.0.0.1", "10.0.0.2"])
        self.assertIn("1 1 8080 i-1.web.cli.local.", d.dig("web.cli.local", "SRV"))

        inst, _ = self.aws("get-instance", "--service-id", svc_id, "--instance-id", "i-1")
        self.assertEqual(inst["Instance"]["Attributes"]["stage"], "blue")
        insts, _ = self.aws("list-instances", "--service-id", svc_id, "--page-size", "1")
        self.assertEqual(sorted(i["Id"] for i in insts["Instances"]), ["i-1", "i-2"])

        self.aws("update-instance-custom-health-status", "--service-id", svc_id, "--instance-id", "i-1",
                 "--status", "UNHEALTHY")
        self.assertEqual(d.dig("web.cli.local", "A"), ["10.0.0.2"])
        health, _ = self.aws("get-instances-health-status", "--service-id", svc_id)
        self.assertEqual(health["Status"], {"i-1": "UNHEALTHY", "i-2": "HEALTHY"})

        # DiscoverInstances: the CLI prefixes the host with data-, so send it through the proxy
        found, _ = self.aws("discover-instances", "--namespace-name", "cli.local", "--service-name", "web",
                            proxy=True)
        self.assertEqual([i["InstanceId"] for i in found["Instances"]], ["i-2"])
        found, _ = self.aws("discover-instances", "--namespace-name", "cli.local", "--service-name", "web",
                            "--health-status", "ALL", "--query-parameters", "stage=blue", proxy=True)
        self.assertEqual([i["InstanceId"] for i in found["Instances"]], ["i-1"])
        # CLI 2.9 has no discover-instances-revision: send what it would, in absolute form
        conn = http.client.HTTPConnection("127.0.0.1", d.api_port, timeout=30)
        conn.request("POST", "http://data-127.0.0.1:%d/" % d.api_port,
                     body=json.dumps({"NamespaceName": "cli.local", "ServiceName": "web"}),
                     headers={"X-Amz-Target": "Route53AutoNaming_v20170314.DiscoverInstancesRevision",
                              "Content-Type": "application/x-amz-json-1.1",
                              "Host": "data-127.0.0.1:%d" % d.api_port})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        revision = json.loads(resp.read())["InstancesRevision"]
        self.assertEqual(revision, found.get("InstancesRevision", revision))  # 2.9 drops it
        self.assertGreater(revision, 0)
        conn.close()

        ops, _ = self.aws("list-operations", "--filters", "Name=TYPE,Values=REGISTER_INSTANCE,Condition=EQ")
        self.assertGreaterEqual(len(ops["Operations"]), 2)

        arn = got["Service"]["Arn"]
        self.aws("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=a", "Key=env,Value=dev")
        self.aws("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        tags, _ = self.aws("list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags["Tags"], [{"Key": "env", "Value": "dev"}])

        self.assertIn("ResourceInUse", self.error("delete-service", "--id", svc_id))
        self.assertIn("ResourceInUse", self.error("delete-namespace", "--id", ns_id))
        self.aws("deregister-instance", "--service-id", svc_id, "--instance-id", "i-1")
        self.aws("deregister-instance", "--service-id", svc_id, "--instance-id", "i-2")
        self.assertEqual(d.dig_status("web.cli.local", "A"), "NXDOMAIN")
        self.aws("delete-service", "--id", svc_id)
        out, _ = self.aws("delete-namespace", "--id", ns_id)
        self.assertRegex(out["OperationId"], r"^[a-z0-9]{32}-[a-z0-9]{8}$")
        self.assertEqual(d.dig_status("cli.local", "SOA"), "REFUSED")

    def test_errors(self):
        self.assertIn("NamespaceNotFound", self.error("get-namespace", "--id", "ns-aaaaaaaaaaaaaaaa"))
        self.assertIn("ServiceNotFound", self.error("get-service", "--id", "srv-aaaaaaaaaaaaaaaa"))
        self.assertIn("OperationNotFound", self.error("get-operation", "--operation-id", "nope"))
        self.assertIn("ResourceNotFoundException", self.error(
            "list-tags-for-resource", "--resource-arn",
            "arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-aaaaaaaaaaaaaaaa"))
        out, _ = self.aws("create-private-dns-namespace", "--name", "err.local", "--vpc", "v")
        ns_id = self.namespace_id(out["OperationId"])
        self.assertIn("NamespaceAlreadyExists",
                      self.error("create-private-dns-namespace", "--name", "err.local", "--vpc", "v"))
        svc, _ = self.aws("create-service", "--name", "web", "--namespace-id", ns_id,
                          "--dns-config", "DnsRecords=[{Type=A,TTL=10}]")
        svc_id = svc["Service"]["Id"]
        self.assertIn("ServiceAlreadyExists", self.error("create-service", "--name", "web", "--namespace-id", ns_id,
                                                         "--dns-config", "DnsRecords=[{Type=A,TTL=10}]"))
        self.assertIn("InvalidInput", self.error("create-service", "--name", "cn", "--namespace-id", ns_id,
                                                 "--dns-config", "RoutingPolicy=WEIGHTED,DnsRecords=[{Type=CNAME,TTL=10}]"))
        self.assertIn("InstanceNotFound", self.error("get-instance", "--service-id", svc_id, "--instance-id", "x"))
        self.aws("register-instance", "--service-id", svc_id, "--instance-id", "i-1",
                 "--attributes", "AWS_INSTANCE_IPV4=10.0.0.3")
        self.assertIn("CustomHealthNotFound", self.error(
            "update-instance-custom-health-status", "--service-id", svc_id, "--instance-id", "i-1",
            "--status", "HEALTHY"))
        self.assertIn("InvalidInput", self.error("register-instance", "--service-id", svc_id,
                                                 "--instance-id", "i-2", "--attributes", "AWS_INSTANCE_PORT=80"))
        self.assertIn("ServiceNotFound", self.error("discover-instances", "--namespace-name", "err.local",
                                                    "--service-name", "nope", proxy=True))
        # another region does not see it
        self.assertIn("NamespaceNotFound", self.error("get-namespace", "--id", ns_id, region="ap-south-1"))

    def test_pagination(self):
        for i in range(3):
            out, _ = self.aws("create-private-dns-namespace", "--name", "pg%d.local" % i, "--vpc", "v",
                              region="eu-central-1")
        # the CLI follows NextToken itself; page size 1 means several calls
        listed, _ = self.aws("list-namespaces", "--page-size", "1", region="eu-central-1")
        self.assertEqual(sorted(n["Name"] for n in listed["Namespaces"]), ["pg0.local", "pg1.local", "pg2.local"])
        first, _ = self.aws("list-namespaces", "--max-items", "2", region="eu-central-1")
        self.assertEqual(len(first["Namespaces"]), 2)
        self.assertIn("NextToken", first)
        rest, _ = self.aws("list-namespaces", "--starting-token", first["NextToken"], region="eu-central-1")
        self.assertEqual(len(rest["Namespaces"]), 1)


if __name__ == "__main__":
    emu.main()
