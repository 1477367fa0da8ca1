#!/usr/bin/python3
"""Fake carbon listener for tests that need exact wire bytes or a carbon
that misbehaves.

Usage: capture.py PORT OUTPUT_FILE MODE [N]

Modes:
  accept  append every byte received on every connection to OUTPUT_FILE,
          flushed after each recv; close when the peer closes.
  reset   accept, read up to N bytes (default 0, also appended to
          OUTPUT_FILE), then close with SO_LINGER 0 so the peer gets a RST.
  stall   accept but never read; keep the connection open.  The listening
          socket gets a small SO_RCVBUF (inherited by accepted sockets), but
          on loopback the sender's own send buffer still absorbs ~2 MB
          (measured) before its writes block; a connect() always succeeds.

Also written:
  OUTPUT_FILE.ready   created once the socket is listening (callers poll it)
  OUTPUT_FILE.events  one line per connection event ("open N", "close N
                      BYTES", "reset N BYTES") so tests can count connections

Runs until SIGTERM (or SIGINT).  Single-threaded (selectors) so that a slow
or silent peer never blocks the other connections.
"""

import os
import selectors
import signal
import socket
import struct
import sys

STALL_RCVBUF = 4096


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    port = int(sys.argv[1])
    out_path = sys.argv[2]
    mode = sys.argv[3]
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if mode not in ("accept", "reset", "stall"):
        sys.stderr.write("capture.py: unknown mode %r\n" % mode)
        return 2

    # SIGTERM -> SystemExit so the finally block closes sockets and the
    # process exits promptly (select() is interrupted, PEP 475 re-raises).
    def on_term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    out = open(out_path, "ab", buffering=0)
    events = open(out_path + ".events", "a", buffering=1)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == "stall":
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALL_RCVBUF)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(128)
    lsock.setblocking(False)

    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    conns = {}      # sock -> [conn_no, bytes_received]
    stalled = []    # sockets kept open, never read
    counter = 0

    # Ready-file last, after listen(): from now on connects succeed.
    with open(out_path + ".ready", "w") as f:
        f.write("%d\n" % os.getpid())

    def rst_close(sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        sock.close()

    def finish(sock, how):
        no, got = conns.pop(sock)
        sel.unregister(sock)
        events.write("%s %d %d\n" % (how, no, got))
        if how == "reset":
            rst_close(sock)
        else:
            sock.close()

    try:
        while True:
            for key, _ in sel.select():
                sock = key.fileobj
                if sock is lsock:
                    try:
                        c, _addr = lsock.accept()
                    except BlockingIOError:
                        continue
                    counter += 1
                    events.write("open %d\n" % counter)
                    if mode == "stall":
                        stalled.append(c)
                        continue
                    if mode == "reset" and limit <= 0:
                        events.write("reset %d 0\n" % counter)
                        rst_close(c)
                        continue
                    c.setblocking(False)
                    conns[c] = [counter, 0]
                    sel.register(c, selectors.EVENT_READ, None)
                    continue
                want = 65536
                if mode == "reset":
                    want = max(1, min(want, limit - conns[sock][1]))
                try:
                    data = sock.recv(want)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                if not data:
                    finish(sock, "close")
                    continue
                out.write(data)     # unbuffered file: one write per recv
                conns[sock][1] += len(data)
                if mode == "reset" and conns[sock][1] >= limit:
                    finish(sock, "reset")
    finally:
        for s in list(conns) + stalled:
            s.close()
        lsock.close()
        try:
            os.unlink(out_path + ".ready")
        except OSError:
            pass
        out.close()
        events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
