#!/usr/bin/env python3
"""gRPC demo client: calls /demo.Game/Who on every replica of game-server.local, round robin,
and prints one line per call:

  reply from game-server replica <hostname> (<ip>)

The target is resolved by gRPC's own DNS resolver (c-ares, /etc/resolv.conf: in a compose
container Docker's 127.0.0.11, which forwards to the emulator given in `dns:`). It re-resolves
at most every 500 ms, whenever a connection drops (the replicas close theirs every few seconds),
so a replica whose record left DNS stops receiving calls.

Environment: TARGET (dns:///game-server.local:50051), CALL_INTERVAL seconds (0.2).
"""
import os
import signal
import socket
import sys
import time

import grpc

TARGET = os.environ.get("TARGET", "dns:///game-server.local:50051")
CALL_INTERVAL = float(os.environ.get("CALL_INTERVAL", "0.2"))
# After this long without a reply, start over with a new channel (a fresh resolution): gRPC backs
# off up to 2 minutes between failed resolutions, e.g. while no replica is in DNS yet.
RESET_AFTER = float(os.environ.get("RESET_AFTER", "10"))
OPTIONS = [
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.dns_min_time_between_resolutions_ms", 500),
    ("grpc.service_config_disable_resolution", 1),  # no TXT lookup of _grpc_config.<name>
    ("grpc.enable_retries", 0),
]


def host_of(target):
    # dns:///name:port or dns://authority/name:port
    return target.split("/")[-1].rsplit(":", 1)[0]


def wait_for_dns(name):
    """Until the name resolves (the replicas are healthy and registered): gRPC would otherwise
    start with a failed resolution and back off."""
    announced = False
    while True:
        try:
            addresses = sorted({a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)})
            print("%s -> %s" % (name, " ".join(addresses)), flush=True)
            return
        except socket.gaierror as e:
            if not announced:
                print("waiting for %s in DNS (%s)" % (name, e.strerror), flush=True)
                announced = True
            time.sleep(0.5)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if TARGET.startswith("dns:"):
        wait_for_dns(host_of(TARGET))
    channel = grpc.insecure_channel(TARGET, options=OPTIONS)
    last_reply = time.monotonic()
    while True:
        who = channel.unary_unary("/demo.Game/Who")
        try:
            reply = who(b"", timeout=2, wait_for_ready=True)
            hostname, _, ip = reply.decode().partition(" ")
            print("reply from game-server replica %s (%s)" % (hostname, ip), flush=True)
            last_reply = time.monotonic()
        except grpc.RpcError as e:
            print("call failed: %s %s" % (e.code().name, e.details()), flush=True)
            if time.monotonic() - last_reply > RESET_AFTER:
                print("no reply for %.0fs: new channel" % RESET_AFTER, flush=True)
                channel.close()
                channel = grpc.insecure_channel(TARGET, options=OPTIONS)
                last_reply = time.monotonic()
        time.sleep(CALL_INTERVAL)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
