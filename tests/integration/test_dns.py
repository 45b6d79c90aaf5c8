"""DNS end to end: the real daemon on loopback ports, queried with real dig over UDP and TCP.

Every behaviour of SPEC section 4, then forwarding to a second DNS server this test starts on
another loopback port, then garbage after which the server still answers. The 10.0.x.x addresses in
the fixtures are data only: nothing is ever sent to them.

    python3 tests/integration/test_dns.py --binary build/emulator/ecs-emulator
"""
import os
import random
import socket
import struct
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

GAME = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def fixture_doc():
    long_id = "0123456789abcdef0123456789abcdef"
    return {
        "namespaces": [{"name": "local"}, {"name": "demo.local", "negativeTtl": 30}],
        "services": [
            {"name": "game-server", "namespace": "local", "ttl": 10, "records": ["A", "SRV"],
             "routing": "MULTIVALUE",
             "tasks": [{"id": "t%d" % i, "ip": ip, "port": 50051} for i, ip in enumerate(GAME, 1)]},
            {"name": "big", "namespace": "local", "ttl": 10, "records": ["A"],
             "tasks": [{"ip": "10.0.1.%d" % i, "port": 80} for i in range(1, 21)]},
            {"name": "sick", "namespace": "local", "ttl": 10, "records": ["A"],
             "tasks": [{"ip": "10.0.2.%d" % i, "port": 80, "initialHealth": "UNHEALTHY"}
                       for i in (1, 2)]},
            {"name": "weighted", "namespace": "local", "ttl": 10, "records": ["A"],
             "routing": "WEIGHTED",
             "tasks": [{"ip": "10.0.3.%d" % i, "port": 80} for i in (1, 2, 3)]},
            {"name": "v6", "namespace": "local", "ttl": 30, "records": ["AAAA"],
             "tasks": [{"ipv6": "2001:db8::1", "port": 80}]},
            {"name": "many", "namespace": "local", "ttl": 10, "records": ["A", "SRV"],
             "tasks": [{"id": "%s%02d" % (long_id, i), "ip": "10.0.4.%d" % i, "port": 8080}
                       for i in range(1, 41)]},
            {"name": "web", "namespace": "demo.local", "ttl": 60, "records": ["A"],
             "tasks": [{"ip": "10.0.5.1", "port": 80}]},
        ],
    }


def section(text, name):
    """Record lines of one section of dig's full output (e.g. "ANSWER", "AUTHORITY")."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith(";; %s SECTION:" % name):
            inside = True
            continue
        if inside:
            if not line.strip() or line.startswith(";;"):
                break
            lines.append(" ".join(line.split()))
    return lines


def flags(text):
    for line in text.splitlines():
        if line.startswith(";; flags:"):
            return line.split("flags:")[1].split(";")[0].split()
    return []


def status(text):
    for line in text.splitlines():
        if "status:" in line:
            return line.split("status:")[1].split(",")[0].strip()
    return None


def raw_query(name, qtype=1, qid=0x1234, qd=1, an=0, ns=0, ar=0, flags_=0x0100):
    q = struct.pack(">HHHHHH", qid, flags_, qd, an, ns, ar)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def udp_exchange(port, payload, timeout=2.0):
    """Sends one datagram; returns the reply or None when the server stays silent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, ("127.0.0.1", port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def tcp_exchange(sock, payload):
    """One framed query on an open connection; the reply, or None when the server closed it."""
    try:
        sock.sendall(struct.pack(">H", len(payload)) + payload)
        head = sock.recv(2)
        if len(head) < 2:
            return None
        size, = struct.unpack(">H", head)
        body = b""
        while len(body) < size:
            chunk = sock.recv(size - len(body))
            if not chunk:
                return None
            body += chunk
        return body
    except (ConnectionResetError, BrokenPipeError):
        return None


OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"  # root, udp 1232, no options


class FakeUpstream:
    """A tiny DNS server on 127.0.0.1: answers every question with A 192.0.2.53, or never."""

    def __init__(self, mute=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.mute = mute
        self.seen = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.seen += 1
            if self.mute or len(data) < 12:
                continue
            qid, = struct.unpack(">H", data[:2])
            # the question ends at the first zero label after the header, + 4 bytes
            end = data.index(b"\x00", 12) + 5
            reply = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + data[12:end]
            reply += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 53])
            self.sock.sendto(reply, peer)

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


class DnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = emu.write_fixture(cls.tmp.name, fixture_doc())
        cls.d = emu.Daemon(fixtures=[path]).start()

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.d.stop()
            assert code == 0, "daemon exit code %s\n%s" % (code, cls.d.log())
        finally:
            cls.tmp.cleanup()

    def full(self, name, qtype="A", tcp=False, extra=()):
        return self.d.dig(name, qtype, tcp=tcp, extra=extra, short=False)

    def each_transport(self):
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                yield tcp

    # ------------------------------------------------------------------ answers
    def test_a_multivalue_authoritative_with_ttl(self):
        for tcp in self.each_transport():
            out = self.full("game-server.local", tcp=tcp)
            self.assertEqual(status(out), "NOERROR")
            self.assertIn("aa", flags(out))
            answer = section(out, "ANSWER")
            self.assertEqual(sorted(a.split()[-1] for a in answer), GAME)
            self.assertTrue(all(a.split()[1] == "10" for a in answer), answer)

    def test_order_is_shuffled(self):
        firsts = {self.d.dig("game-server.local")[0] for _ in range(30)}
        self.assertGreater(len(firsts), 1)

    def test_eight_of_many_and_every_value_appears(self):
        seen = set()
        for _ in range(40):
            got = self.d.dig("big.local")
            self.assertEqual(len(got), 8)
            self.assertEqual(len(set(got)), 8)
            seen |= set(got)
        self.assertEqual(len(seen), 20)

    def test_fail_open_when_none_is_healthy(self):
        for tcp in self.each_transport():
            self.assertEqual(sorted(self.d.dig("sick.local", tcp=tcp)), ["10.0.2.1", "10.0.2.2"])

    def test_weighted_answers_one_value(self):
        seen = set()
        for _ in range(40):
            got = self.d.dig("weighted.local")
            self.assertEqual(len(got), 1)
            seen |= set(got)
        self.assertEqual(len(seen), 3)

    def test_aaaa(self):
        for tcp in self.each_transport():
            self.assertEqual(self.d.dig("v6.local", "AAAA", tcp=tcp), ["2001:db8::1"])

    def test_srv_with_targets_in_additional(self):
        for tcp in self.each_transport():
            out = self.full("game-server.local", "SRV", tcp=tcp)
            answer = section(out, "ANSWER")
            self.assertEqual(sorted(a.split(None, 4)[4] for a in answer),
                             ["1 1 50051 t%d.game-server.local." % i for i in (1, 2, 3)])
            additional = sorted(section(out, "ADDITIONAL"))
            self.assertEqual(additional, ["t%d.game-server.local. 10 IN A %s" % (i, ip)
                                          for i, ip in enumerate(GAME, 1)])
            # and the targets answer on their own
            self.assertEqual(self.d.dig("t2.game-server.local", tcp=tcp), ["10.0.0.2"])

    def test_nodata_has_soa(self):
        for tcp in self.each_transport():
            out = self.full("game-server.local", "AAAA", tcp=tcp)
            self.assertEqual(status(out), "NOERROR")
            self.assertIn("aa", flags(out))
            self.assertEqual(section(out, "ANSWER"), [])
            authority = section(out, "AUTHORITY")
            self.assertEqual(len(authority), 1)
            self.assertIn("IN SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600",
                          authority[0])

    def test_nxdomain_has_soa_of_the_longest_zone(self):
        for tcp in self.each_transport():
            out = self.full("nope.demo.local", tcp=tcp)
            self.assertEqual(status(out), "NXDOMAIN")
            self.assertIn("aa", flags(out))
            authority = section(out, "AUTHORITY")
            self.assertEqual(len(authority), 1)
            self.assertTrue(authority[0].startswith("demo.local. 30 IN SOA "), authority)
            self.assertTrue(authority[0].endswith(" 30"), authority)

    def test_apex_soa_and_ns(self):
        for tcp in self.each_transport():
            soa = self.d.dig("local", "SOA", tcp=tcp)
            self.assertEqual(len(soa), 1)
            self.assertTrue(soa[0].startswith("ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600"))
            self.assertEqual(sorted(self.d.dig("local", "NS", tcp=tcp)),
                             ["ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.",
                              "ns-1536.awsdns-00.co.uk.", "ns-512.awsdns-00.net."])

    def test_question_echoed_as_asked(self):
        for tcp in self.each_transport():
            out = self.full("GaMe-SeRvEr.LoCaL", tcp=tcp)
            self.assertIn(";GaMe-SeRvEr.LoCaL.", out)
            self.assertEqual(len(section(out, "ANSWER")), 3)

    # ------------------------------------------------------------------ errors
    def test_outside_our_zones_is_refused(self):
        for tcp in self.each_transport():
            self.assertEqual(status(self.full("example.com", tcp=tcp)), "REFUSED")

    def test_chaos_class_is_refused(self):
        self.assertEqual(status(self.full("version.bind", "TXT", extra=("CH",))), "REFUSED")

    def test_other_opcodes_are_notimp(self):
        self.assertEqual(status(self.full("local", "SOA", extra=("+opcode=notify",))), "NOTIMP")

    def test_badvers(self):
        self.assertEqual(status(self.full("game-server.local", extra=("+edns=1", "+noednsnegotiation"))),
                         "BADVERS")

    def test_formerr_keeps_the_id(self):
        for payload in (raw_query("game-server.local", qd=0)[:12],
                        raw_query("game-server.local", qd=2),
                        raw_query("game-server.local")[:20]):
            reply = udp_exchange(self.d.dns_port, payload)
            self.assertIsNotNone(reply)
            qid, fl = struct.unpack(">HH", reply[:4])
            self.assertEqual(qid, 0x1234)
            self.assertEqual(fl & 0x8000, 0x8000)  # QR
            self.assertEqual(fl & 0x0100, 0x0100)  # RD echoed
            self.assertEqual(fl & 0x000F, 1)        # FORMERR

    def test_truncation_over_udp_and_whole_over_tcp(self):
        out = self.full("many.local", "SRV", extra=("+noedns", "+ignore"))
        self.assertIn("tc", flags(out))
        self.assertEqual(section(out, "ANSWER"), [])
        out = self.full("many.local", "SRV", extra=("+bufsize=1232", "+ignore"))
        self.assertIn("tc", flags(out))
        tcp = self.full("many.local", "SRV", tcp=True)
        self.assertNotIn("tc", flags(tcp))
        self.assertEqual(len(section(tcp, "ANSWER")), 40)
        # dig retries over TCP by itself after TC
        self.assertEqual(len(self.d.dig("many.local", "SRV", extra=("+noedns",))), 40)
        # a large EDNS size does not bring more over UDP: 8 of the 40 (like A/AAAA), TC=1, and
        # the reply stays far below the size the client offered
        big = self.full("many.local", "SRV", extra=("+bufsize=8192", "+ignore"))
        self.assertIn("tc", flags(big))
        self.assertEqual(len(section(big, "ANSWER")), 8)
        self.assertEqual(len(section(big, "ADDITIONAL")), 8)
        reply = udp_exchange(self.d.dns_port, raw_query("many.local", 33, ar=1)
                             + b"\x00\x00\x29\x20\x00\x00\x00\x00\x00\x00\x00")
        self.assertIsNotNone(reply)
        self.assertLess(len(reply), 1232)

    def test_second_opt_or_named_opt_is_formerr(self):
        # RFC 6891 6.1.1
        for payload in (raw_query("game-server.local", ar=2) + OPT + OPT,
                        raw_query("game-server.local", ar=1) + b"\x01a" + OPT):
            reply = udp_exchange(self.d.dns_port, payload)
            self.assertIsNotNone(reply)
            self.assertEqual(struct.unpack(">H", reply[2:4])[0] & 0x000F, 1)
        reply = udp_exchange(self.d.dns_port, raw_query("game-server.local", ar=1) + OPT)
        self.assertEqual(struct.unpack(">H", reply[2:4])[0] & 0x000F, 0)

    def test_tcp_connections_from_one_address_are_capped(self):
        # the daemon's default: 16 open connections per source address; 127.0.0.3 is ours alone
        port, q = self.d.dns_port, raw_query("game-server.local")
        conns = []
        try:
            for _ in range(16):
                c = socket.create_connection(("127.0.0.1", port), timeout=2,
                                             source_address=("127.0.0.3", 0))
                conns.append(c)
                self.assertIsNotNone(tcp_exchange(c, q))
            extra = socket.create_connection(("127.0.0.1", port), timeout=2,
                                             source_address=("127.0.0.3", 0))
            conns.append(extra)
            self.assertIsNone(tcp_exchange(extra, q))
            # another client still gets its answer, over TCP as after TC=1
            self.assertEqual(sorted(self.d.dig("game-server.local", tcp=True)), GAME)
        finally:
            for c in conns:
                c.close()

    def test_edns_is_echoed(self):
        out = self.full("game-server.local", extra=("+bufsize=4096",))
        self.assertIn("udp: 1232", out)

    # ------------------------------------------------------------------ garbage
    def test_garbage_then_still_answers(self):
        port = self.d.dns_port
        rnd = random.Random(7)
        payloads = [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 120))) for _ in range(300)]
        payloads += [b"", b"\x12", b"\x12\x34\x01\x00\x00"]                      # short headers
        loop = struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01"
        payloads += [loop, struct.pack(">HHHHHH", 2, 0x0100, 1, 0, 0, 0) + b"\x03foo\xc0\x0c\x00\x01\x00\x01"]
        payloads += [struct.pack(">HHHHHH", 3, 0x0100, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF) + b"\x00" * 30]
        payloads += [raw_query("local", an=0xFFFF, ns=0xFFFF, ar=0xFFFF)]
        payloads += [b"\x01\x00" + b"\xff" * 600]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for p in payloads:
                s.sendto(p, ("127.0.0.1", port))
        for p in payloads[-8:]:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
                c.sendall(struct.pack(">H", len(p)) + p)
        with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
            c.sendall(b"\xff\xff\x00")  # promises 64 KiB, sends one byte, hangs up
        # UDP may drop under a flood; dig retries like any client
        answers = []
        for _ in range(3):
            answers = self.d.dig("game-server.local")
            if answers:
                break
        self.assertEqual(sorted(answers), GAME)
        self.assertEqual(sorted(self.d.dig("game-server.local", tcp=True)), GAME)


class ForwardingTest(unittest.TestCase):
    def run_with_upstream(self, mute):
        upstream = FakeUpstream(mute=mute)
        tmp = tempfile.TemporaryDirectory()
        try:
            path = emu.write_fixture(tmp.name, fixture_doc())
            with emu.Daemon(fixtures=[path], args=["--upstream", "127.0.0.1:%d" % upstream.port]) as d:
                yield d, upstream
        finally:
            upstream.close()
            tmp.cleanup()

    def test_forwards_names_outside_our_zones(self):
        for d, upstream in self.run_with_upstream(mute=False):
            for tcp in (False, True):
                with self.subTest(tcp=tcp):
                    self.assertEqual(d.dig("example.com", tcp=tcp), ["192.0.2.53"])
            # our own names never leave
            before = upstream.seen
            self.assertEqual(sorted(d.dig("game-server.local")), GAME)
            self.assertEqual(d.dig_status("nope.local"), "NXDOMAIN")
            self.assertEqual(upstream.seen, before)

    def test_silent_upstream_gives_servfail(self):
        for d, upstream in self.run_with_upstream(mute=True):
            out = d.dig("example.com", extra=("+time=5",), short=False)
            self.assertEqual(status(out), "SERVFAIL")
            self.assertGreaterEqual(upstream.seen, 1)
            # and the UDP loop did not wait for it
            self.assertEqual(sorted(d.dig("game-server.local")), GAME)


if __name__ == "__main__":
    emu.main()
