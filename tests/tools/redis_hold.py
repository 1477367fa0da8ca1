#!/usr/bin/python3
"""A Unix-socket proxy in front of redis-server that holds back one command,
for tests that need to see what a client has done before that command
reaches Redis (e.g. its answer to the HTTP client before its claim ends).

Usage: redis_hold.py LISTEN_SOCKET REDIS_SOCKET HOLD RELEASE_FILE

Every connection to LISTEN_SOCKET is relayed to REDIS_SOCKET, both ways.
Bytes from a client that contain HOLD (a string, e.g. a script's SHA1)
wait until RELEASE_FILE exists; meanwhile LISTEN_SOCKET.held exists.
LISTEN_SOCKET.ready is created once the socket listens. Runs until SIGTERM.
"""

import os
import signal
import socket
import sys
import threading
import time


def relay(src, dst, hold=None, release=None, held=None):
    """Copy src to dst until EOF; bytes containing hold wait for release."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if hold is not None and hold in data and not os.path.exists(release):
                open(held, "w").close()
                while not os.path.exists(release):
                    time.sleep(0.02)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    path, redis_path, hold, release = sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o777)
    srv.listen(16)
    open(path + ".ready", "w").close()
    while True:
        conn, _ = srv.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(redis_path)
        threading.Thread(target=relay, args=(upstream, conn), daemon=True).start()
        threading.Thread(target=relay, daemon=True,
                         args=(conn, upstream, hold.encode(), release,
                               path + ".held")).start()


if __name__ == "__main__":
    sys.exit(main())
