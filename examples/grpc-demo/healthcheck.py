#!/usr/bin/env python3
"""Docker HEALTHCHECK of a replica: calls grpc.health.v1.Health/Check on localhost and exits 0
only for SERVING. Standard library only (a bare HTTP/2 client), so a check every second or two
costs a few milliseconds instead of importing grpc.

Usage: healthcheck.py [HOST:PORT]   (default 127.0.0.1:$PORT, PORT=50051)
"""
import os
import socket
import struct
import sys

PATH = b"/grpc.health.v1.Health/Check"
SERVING = b"\x08\x01"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    # HPACK "literal header field without indexing, new name", no Huffman (lengths < 127).
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def check(host, port, timeout=2.0):
    """Returns the HealthCheckResponse bytes (b'' when the call failed)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        headers = b"".join(literal(n, v) for n, v in [
            (b":method", b"POST"), (b":scheme", b"http"), (b":path", PATH),
            (b":authority", ("%s:%d" % (host, port)).encode()),
            (b"content-type", b"application/grpc"), (b"te", b"trailers")])
        request = b"\x00" + struct.pack(">I", 0)  # one uncompressed, empty HealthCheckRequest
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0) +
                     frame(HEADERS, END_HEADERS, 1, headers) + frame(DATA, END_STREAM, 1, request))
        body = b""
        while True:
            head = read_exact(sock, 9)
            length = int.from_bytes(head[:3], "big")
            kind, flags, stream = head[3], head[4], struct.unpack(">I", head[5:])[0] & 0x7FFFFFFF
            payload = read_exact(sock, length)
            if kind == SETTINGS and not flags & ACK:
                sock.sendall(frame(SETTINGS, ACK, 0))
            elif kind == PING and not flags & ACK:
                sock.sendall(frame(PING, ACK, 0, payload))
            elif kind in (RST_STREAM, GOAWAY) and stream in (0, 1):
                return b""
            elif kind == DATA and stream == 1:
                body += payload
            if stream == 1 and kind in (DATA, HEADERS) and flags & END_STREAM:
                return body[5:]  # skip the gRPC message prefix (flag + length)


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:%s" % os.environ.get("PORT", "50051")
    host, _, port = target.rpartition(":")
    try:
        status = check(host, int(port))
    except (OSError, ConnectionError) as e:
        print("health check failed: %s" % e)
        return 1
    if status == SERVING:
        print("SERVING")
        return 0
    print("NOT_SERVING" if status == b"\x08\x02" else "no SERVING answer (%r)" % status)
    return 1


if __name__ == "__main__":
    sys.exit(main())
