#!/usr/bin/env python3
"""gRPC demo replica (no protoc: generic handlers on raw bytes).

  /demo.Game/Who                 -> "<hostname> <ip>" (UTF-8), whatever the request
  /grpc.health.v1.Health/Check   -> HealthCheckResponse: SERVING (08 01), or NOT_SERVING (08 02)
                                    while the file $UNHEALTHY_FILE (/tmp/unhealthy) exists

Connections are closed after $MAX_CONNECTION_AGE_MS (GOAWAY), so that clients re-resolve DNS and
a replica that left DNS stops receiving calls.
"""
import os
import signal
import socket
import sys
import threading
from concurrent import futures

import grpc

PORT = int(os.environ.get("PORT", "50051"))
BIND = os.environ.get("BIND", "[::]")
UNHEALTHY_FILE = os.environ.get("UNHEALTHY_FILE", "/tmp/unhealthy")
MAX_CONNECTION_AGE_MS = int(os.environ.get("MAX_CONNECTION_AGE_MS", "3000"))

SERVING = b"\x08\x01"
NOT_SERVING = b"\x08\x02"


def own_address():
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "?"


HOSTNAME = socket.gethostname()
IDENTITY = ("%s %s" % (HOSTNAME, own_address())).encode()


def who(request, context):
    return IDENTITY


def health_check(request, context):
    return NOT_SERVING if os.path.exists(UNHEALTHY_FILE) else SERVING


def unary(fn):
    # No (de)serializers: the handlers see and return bytes.
    return grpc.unary_unary_rpc_method_handler(fn)


def main():
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
                 ("grpc.max_connection_age_grace_ms", 1000),
                 ("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler("demo.Game", {"Who": unary(who)}),
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": unary(health_check)}),
    ])
    server.add_insecure_port("%s:%d" % (BIND, PORT))
    server.start()
    print("game-server replica %s listening on :%d" % (IDENTITY.decode(), PORT), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
