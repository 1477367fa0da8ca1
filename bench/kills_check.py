#!/usr/bin/python3
"""bench/kills_check.py EXPECTED WHISPER_DIR [TIMEOUT]

EXPECTED holds "metric ts value" lines: the points a job was given. Polls
whisper (carbon writes asynchronously) until every point is there or
nothing changed for 10 s, or TIMEOUT seconds (default 90) pass. Prints
"accepted N  delivered N  lost N  wrong N"; exit 1 when any was lost or
wrong (a value other than the one given).
"""
import collections
import os
import sys
import time

import whisper

expected_path, wsp_dir = sys.argv[1], sys.argv[2]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 90.0

want = collections.defaultdict(dict)
for line in open(expected_path):
    m, ts, v = line.split()
    want[m][int(ts)] = float(v)
total = sum(len(p) for p in want.values())


def tally():
    delivered = wrong = 0
    for m, points in want.items():
        path = os.path.join(wsp_dir, *m.split(".")) + ".wsp"
        if not os.path.exists(path):
            continue
        lo, hi = min(points) - 1, max(points)
        (start, _, step), vals = whisper.fetch(path, lo, hi, now=int(time.time()))
        got = {start + i * step: v for i, v in enumerate(vals) if v is not None}
        for ts, v in points.items():
            if ts in got:
                if abs(got[ts] - v) <= 1e-9 * max(1.0, abs(v)):
                    delivered += 1
                else:
                    wrong += 1
    return delivered, wrong


deadline, last, since = time.time() + timeout, None, time.time()
while True:
    d, w = tally()
    if d + w == total or time.time() > deadline:
        break
    if (d, w) != last:
        last, since = (d, w), time.time()
    elif time.time() - since > 10:
        break
    time.sleep(1)
lost = total - d - w
print("accepted %6d  delivered %6d  lost %d  wrong %d" % (total, d, lost, w))
sys.exit(1 if lost or w else 0)
