#!/usr/bin/python3
"""bench/pickle_send.py PORT SECONDS PREFIX T0 GROUPS [BATCH]

The baseline of the POST figure: carbon-cache's own ceiling. Sends pickle
protocol 2 frames of BATCH (450) points as fast as carbon reads them, over
one connection, for SECONDS; frame n carries the metrics
PREFIX.g<n % GROUPS>.m<j> at T0 + 60 * (n // GROUPS), the same shape as
bench/post.lua (GROUPS = its thread count). Ends as Flux does, with an
orderly close that waits for carbon's EOF (carbon then read everything), and
prints "BENCH points=<sent> seconds=<elapsed, close included>".
"""
import pickle
import socket
import struct
import sys
import time

port, secs, prefix, t0, groups = (int(sys.argv[1]), float(sys.argv[2]),
                                   sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
batch = int(sys.argv[6]) if len(sys.argv) > 6 else 450
names = [["%s.g%d.m%d" % (prefix, g, j) for j in range(batch)] for g in range(groups)]
s = socket.create_connection(("127.0.0.1", port))
start = time.monotonic()
end = start + secs
n = 0
while time.monotonic() < end:
    ts = t0 + 60 * (n // groups)
    p = pickle.dumps([(m, (ts, float(n + j) + 0.5))
                      for j, m in enumerate(names[n % groups])], protocol=2)
    s.sendall(struct.pack("!L", len(p)) + p)
    n += 1
s.shutdown(socket.SHUT_WR)
while s.recv(4096):
    pass
s.close()
print("BENCH points=%d seconds=%.3f" % (n * batch, time.monotonic() - start))
