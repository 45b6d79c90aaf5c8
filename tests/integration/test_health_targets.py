"""Probe targets for test_health.py, on loopback only: an HTTP service whose answer can be changed,
a TCP listener that can be closed and reopened on the same port, and the gRPC health server of
tests/health/grpc_health_server.py in a child process.
"""
import http.server
import os
import select
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
GRPC_SERVER = os.path.join(HERE, "..", "health", "grpc_health_server.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def _loopback(ip):
    assert ip.startswith("127."), "loopback only"
    return ip


class HttpTarget:
    """http.server on ip:0 answering GET with `status` (settable at any time); stop() closes it,
    so later connections are refused."""

    def __init__(self, ip):
        target = self
        self.status = 200
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                target.requests += 1
                body = b"status %d\n" % target.status
                self.send_response(target.status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((_loopback(ip), 0), Handler)
        self.ip = ip
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.server = None


class TcpTarget:
    """A listening socket on ip (port 0 or a given port) that accepts and closes connections;
    close() makes connects fail with ECONNREFUSED, reopen() listens on the same port again."""

    def __init__(self, ip, port=0):
        self.ip = _loopback(ip)
        self.accepted = 0
        self.sock = None
        self.thread = None
        self.port = port
        self._open()

    def _open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.ip, self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self.sock = s
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._accept_loop, args=(s, self._stop_r), daemon=True)
        self.thread.start()

    def _accept_loop(self, s, stop_r):
        while True:
            ready, _, _ = select.select([s, stop_r], [], [])
            if stop_r in ready:
                return
            try:
                conn, _ = s.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        if self.sock is None:
            return
        os.write(self._stop_w, b"x")
        self.thread.join(5)
        self.sock.close()
        os.close(self._stop_r)
        os.close(self._stop_w)
        self.sock = None

    def reopen(self):
        assert self.sock is None
        self._open()


class GrpcTarget:
    """tests/health/grpc_health_server.py on ip:0 in a child process; set() switches its mode
    (SERVING, NOT_SERVING, UNIMPLEMENTED), kill() kills it."""

    def __init__(self, ip):
        self.ip = _loopback(ip)
        self.proc = subprocess.Popen([PYTHON, GRPC_SERVER, ip], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.kill()
            raise AssertionError("grpc_health_server.py did not start: %r" % line)
        self.port = int(line)

    def set(self, mode):
        self.proc.stdin.write(mode + "\n")
        self.proc.stdin.flush()
        ack = self.proc.stdout.readline().strip()
        assert ack == "ok", "grpc server answered %r" % ack

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.proc = None
