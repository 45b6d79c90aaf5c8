#!/usr/bin/python3
"""A grpc.health.v1 server for tests, on loopback only, with hand-encoded protobuf bytes
(grpc_health is not packaged). Prints its port, then reads one mode per line on stdin and acks
with "ok": SERVING, NOT_SERVING, UNIMPLEMENTED. Known services: "" and "game"; others get
NOT_FOUND, as the reference implementation answers.

usage: grpc_health_server.py HOST
"""
import sys
from concurrent import futures

import grpc

state = {"mode": "SERVING"}


def decode_service(data):
    # HealthCheckRequest { string service = 1; }: only field 1 is expected.
    if not data:
        return ""
    if data[0] != 0x0A:
        return None
    n, i, shift = 0, 1, 0
    while True:
        b = data[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if b < 0x80:
            break
    return data[i:i + n].decode()


def check(request, context):
    mode = state["mode"]
    if mode == "UNIMPLEMENTED":
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "health checking is off")
    service = decode_service(request)
    if service not in ("", "game"):
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
    status = {"SERVING": 1, "NOT_SERVING": 2}[mode]
    return bytes([0x08, status])  # HealthCheckResponse { status = 1 }


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    assert host.startswith("127."), "loopback only"
    handler = grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(f"{host}:0")
    server.start()
    print(port, flush=True)
    for line in sys.stdin:
        state["mode"] = line.strip()
        print("ok", flush=True)
    server.stop(0)


if __name__ == "__main__":
    main()
