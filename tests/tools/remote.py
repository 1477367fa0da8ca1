#!/usr/bin/python3
"""Fake remote Graphite/Prometheus for the populate_metric tests: serves
canned answers, good and hostile, so flux-batch can be shown to survive
them.

Usage: remote.py PORT DIR

Paths:
  /file/NAME          DIR/NAME, Content-Type by extension (.json, .html, .txt)
  /hold/NAME          as /file/NAME, but first wait while DIR/NAME.hold exists
                      (at most 120 s): a remote that hangs until told
  /slow/SECS          sleep SECS, then answer []
  /status/CODE        answer HTTP CODE with a small text body
  /huge/MIB           200, MIB MiB of JSON-ish bytes, no Content-Length
                      (the body ends when the connection closes)
  /hugecl/MIB         the same with a Content-Length header
  anything else       404

Every request is appended to DIR/requests.log as
"<path> <Authorization header or ->", flushed at once, so tests can see
what was asked and with which credentials. DIR/remote.ready appears once
the socket listens. Runs until SIGTERM.
"""

import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TYPES = {".json": "application/json", ".html": "text/html", ".txt": "text/plain"}
CHUNK = 1 << 16


class Handler(BaseHTTPRequestHandler):
    server_version = "flux-test-remote/1"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        auth = self.headers.get("Authorization", "-")
        with open(os.path.join(self.server.dir, "requests.log"), "a") as f:
            f.write("%s %s\n" % (self.path, auth))
            f.flush()

    def answer(self, code, body, ctype="application/json", length=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def serve_file(self, name):
        path = os.path.join(self.server.dir, os.path.basename(name.split("?")[0]))
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:
            self.answer(404, b"no such file\n", "text/plain")
            return
        self.answer(200, body, TYPES.get(os.path.splitext(path)[1], "text/plain"))

    def stream(self, mib, length):
        total = mib << 20
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if length:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        head = b'[{"target": "x", "datapoints": ['
        self.wfile.write(head)
        sent, chunk = len(head), b" " * CHUNK
        try:
            while sent < total:
                n = min(CHUNK, total - sent)
                self.wfile.write(chunk[:n])
                sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self.record()
        parts = self.path.split("/", 3)
        kind = parts[1] if len(parts) > 1 else ""
        arg = parts[2] if len(parts) > 2 else ""
        arg = arg.split("?")[0]
        try:
            if kind == "file":
                self.serve_file(arg)
            elif kind == "hold":
                hold = os.path.join(self.server.dir, os.path.basename(arg) + ".hold")
                deadline = time.time() + 120
                while os.path.exists(hold) and time.time() < deadline:
                    time.sleep(0.05)
                self.serve_file(arg)
            elif kind == "slow":
                time.sleep(float(arg))
                self.answer(200, b"[]")
            elif kind == "status":
                self.answer(int(arg), b"remote says no\n", "text/plain")
            elif kind in ("huge", "hugecl"):
                self.stream(int(arg), kind == "hugecl")
            else:
                self.answer(404, b"not found\n", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    port, directory = int(sys.argv[1]), sys.argv[2]
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.dir = directory
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    open(os.path.join(directory, "remote.ready"), "w").close()
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
