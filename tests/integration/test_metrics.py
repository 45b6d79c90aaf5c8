"""GET /metrics read by a real Prometheus text-format parser (Debian's python3-prometheus-client).

The daemon is driven first so every family has samples: DNS queries over loopback with dig (UDP
and TCP, several types and rcodes), AWS calls with boto3 and the AWS CLI, a native route, an HTTP
probe against a loopback server this test starts, and a health change of that task. Then the whole
exposition must parse, every family must have HELP and TYPE, names must follow the Prometheus
conventions (one prefix, `_total` on counters, base units), and the new families must carry the
labels and counts a dashboard relies on. Traffic goes only to 127.0.0.0/8.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import boto3
from botocore.config import Config
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402
from test_health_targets import HttpTarget  # noqa: E402

PREFIX = "ecs_emulator_"
# Units that are not base units (Prometheus: seconds, bytes) as a name part.
NON_BASE_UNITS = re.compile(r"_(ms|millis|milliseconds|microseconds|us|ns|minutes|hours|kb|mb|"
                            r"kilobytes|megabytes|percent)(_|$)")
TIME_WORDS = re.compile(r"_(duration|latency|lateness|delay|age|elapsed)(_|$)")


def boto(d, service):
    return boto3.client(service, endpoint_url=d.api_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def samples(families, name):
    """The samples of family `name` (as the parser names it) as a list of (labels, value)."""
    for f in families:
        if f.name == name:
            return [(s.name, s.labels, s.value) for s in f.samples]
    raise AssertionError("no family %s in /metrics (families: %s)"
                         % (name, sorted(f.name for f in families)))


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = emu.Daemon().start()
        cls.target = HttpTarget("127.0.0.1")
        cls.drive()
        status, cls.text = cls.d.api("GET", "/metrics")
        assert status == 200, cls.text
        cls.families = list(text_string_to_metric_families(cls.text))

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        code = cls.d.stop()
        cls.d.__exit__(None, None, None)
        assert code == 0, "daemon exit code %s" % code

    @classmethod
    def drive(cls):
        d = cls.d
        # A probed task: HEALTHY after the first probe, then UNHEALTHY (a health change to DNS).
        d.api("PUT", "/v1/services/web.local",
              {"ttl": 1, "records": ["A", "SRV"],
               "healthCheck": {"type": "http", "path": "/health", "interval": "200ms",
                               "timeout": "500ms", "retries": 1}}, expect=201)
        _, task = d.api("POST", "/v1/services/web.local/tasks",
                        {"ip": "127.0.0.1", "port": cls.target.port}, expect=201)
        tid = task["taskId"]

        def health():
            return d.api("GET", "/v1/tasks/%s" % tid, expect=200)[1]["healthStatus"]

        emu.wait_until(lambda: health() == "HEALTHY", timeout=10, message="task HEALTHY")
        emu.wait_until(lambda: d.dig("web.local") == ["127.0.0.1"], timeout=10,
                       message="web.local answers the task")
        # DNS, while the task answers: several types and rcodes, UDP and TCP.
        assert d.dig_status("web.local", "SRV") == "NOERROR"
        assert d.dig_status("nope.local", "A") == "NXDOMAIN"
        assert d.dig_status("web.local", "AAAA", tcp=True) == "NOERROR"
        assert d.dig_status("example.com", "TXT") == "REFUSED"
        cls.target.status = 503
        emu.wait_until(lambda: health() == "UNHEALTHY", timeout=10, message="task UNHEALTHY")
        emu.wait_until(lambda: d.dig("web.local") == [], timeout=10, message="web.local empty")
        # AWS: boto3 (ECS and Cloud Map) and the AWS CLI.
        boto(d, "ecs").create_cluster(clusterName="metrics")
        boto(d, "servicediscovery").list_namespaces()
        with tempfile.TemporaryDirectory() as home:
            out = subprocess.run(["/usr/bin/aws", "--endpoint-url", d.api_url, "ecs",
                                  "list-clusters", "--output", "json"],
                                 env=emu.aws_cli_env(home, d.api_url), capture_output=True,
                                 text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        # An operation no one serves: counted, under a bounded label.
        d.api("POST", "/", "{}", headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.Nope",
                                          "Content-Type": "application/x-amz-json-1.1"})
        d.api("GET", "/v1/services", expect=200)

    # ------------------------------------------------------------------ the format
    def test_every_family_has_help_and_type(self):
        helps = set(re.findall(r"^# HELP (\S+) \S", self.text, re.M))
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", self.text, re.M))
        self.assertTrue(types)
        self.assertEqual(set(types), helps, "HELP and TYPE must come in pairs")
        self.assertEqual(len(re.findall(r"^# TYPE ", self.text, re.M)), len(types),
                         "a family is declared once")
        for f in self.families:
            self.assertNotEqual(f.type, "unknown", "%s: samples without a TYPE line" % f.name)
            self.assertTrue(f.documentation, "%s: empty HELP" % f.name)
        # Every sample line belongs to a declared family.
        for line in self.text.splitlines():
            if not line or line.startswith("#"):
                continue
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            self.assertTrue(name in types or base in types, "undeclared sample: " + line)

    def test_names_follow_the_conventions(self):
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", self.text, re.M))
        for name, kind in types.items():
            self.assertTrue(name.startswith(PREFIX), name)
            self.assertIsNone(NON_BASE_UNITS.search(name), "%s: not a base unit" % name)
            if TIME_WORDS.search(name):
                self.assertRegex(name, r"_seconds(_total|_max)?$", "%s: time in seconds" % name)
            if kind == "counter":
                self.assertTrue(name.endswith("_total"), "%s: a counter ends in _total" % name)
            else:
                self.assertFalse(name.endswith("_total"), "%s: only counters end in _total" % name)
        for f in self.families:
            if f.type == "histogram":
                les = [s.labels["le"] for s in f.samples if s.name.endswith("_bucket")]
                self.assertIn("+Inf", les, f.name)

    # ------------------------------------------------------------------ the new families
    def test_dns_queries_by_type_and_responses_by_type_and_rcode(self):
        queries = {s[1]["type"]: s[2] for s in samples(self.families, PREFIX + "dns_queries")}
        for qtype in ("A", "SRV", "AAAA", "TXT"):
            self.assertGreater(queries.get(qtype, 0), 0, qtype)
        responses = {(s[1]["type"], s[1]["rcode"]): s[2]
                     for s in samples(self.families, PREFIX + "dns_responses")}
        self.assertGreater(responses.get(("A", "NOERROR"), 0), 0)
        self.assertGreater(responses.get(("A", "NXDOMAIN"), 0), 0)
        self.assertGreater(responses.get(("SRV", "NOERROR"), 0), 0)
        self.assertGreater(responses.get(("TXT", "REFUSED"), 0), 0)
        self.assertEqual(sum(queries.values()),
                         sum(responses.values()) +
                         sum(v for _, _, v in samples(self.families, PREFIX + "dns_dropped")) +
                         sum(v for _, _, v in samples(self.families, PREFIX + "dns_forwarded")))

    def test_api_requests_by_operation_route_and_status(self):
        rows = samples(self.families, PREFIX + "api_requests")
        self.assertTrue(all(set(l) == {"route", "operation", "method", "status"} for _, l, _ in rows))

        def count(**want):
            return sum(v for _, l, v in rows if all(l[k] == w for k, w in want.items()))

        self.assertEqual(count(operation="ecs:CreateCluster", status="200"), 1)
        self.assertEqual(count(operation="ecs:ListClusters", status="200"), 1)  # the AWS CLI
        self.assertEqual(count(operation="servicediscovery:ListNamespaces", status="200"), 1)
        self.assertEqual(count(operation="ecs:unknown", status="400"), 1)
        self.assertGreaterEqual(count(route="/v1/services", method="GET", status="200"), 1)
        self.assertEqual(count(route="/v1/services/{name}", method="PUT", status="201"), 1)
        self.assertEqual(count(route="/v1/services", operation=""), count(route="/v1/services"))

    def test_probe_duration_histogram_by_type(self):
        rows = samples(self.families, PREFIX + "probe_duration_seconds")
        counts = {l["type"]: v for n, l, v in rows if n.endswith("_count")}
        self.assertGreaterEqual(counts.get("http", 0), 2)  # the passing and the failing probe
        sums = {l["type"]: v for n, l, v in rows if n.endswith("_sum")}
        self.assertGreater(sums["http"], 0)
        self.assertLess(sums["http"] / counts["http"], 0.5)  # loopback, under the timeout

    def test_health_change_to_dns_histogram(self):
        rows = samples(self.families, PREFIX + "health_change_to_dns_seconds")
        count = [v for n, _, v in rows if n.endswith("_count")]
        self.assertEqual(len(count), 1)
        self.assertGreaterEqual(count[0], 2)  # HEALTHY then UNHEALTHY reached the snapshot
        total = [v for n, _, v in rows if n.endswith("_sum")][0]
        self.assertLess(total / count[0], 1.0)  # no propagation delay configured


if __name__ == "__main__":
    emu.main()
