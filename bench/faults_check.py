#!/usr/bin/python3
"""Accounting of one bench/faults.sh phase.

Usage: faults_check.py PHASE LOGDIR WHISPER_DIR [CAPTURE_FILE]

LOGDIR holds one file per client, a line per attempt: "client step metrics
ts value http_code epoch" (metrics: how many metrics the request carried, named
faults.PHASE.m0 ...). A point is accepted when a request holding it got
204. It is delivered when whisper (or, given a CAPTURE_FILE, the capture
of what carbon received) holds a value for its metric at its timestamp.

Prints one line: phase, requests by answer, points accepted, delivered,
lost (accepted and not delivered; those a 204 covered before
$FAULTS_STOPPED, when carbon was stopped, are counted apart as lost inside
carbon-cache), wrong (the value stored is not one a
client got 204 for), and with a capture, pairs delivered twice with
different values (a de-dup race) and with the same value (a resend).
Exit 1 when anything was lost, wrong or raced.
"""
import collections
import glob
import os
import struct
import sys

import whisper
from carbon.util import get_unpickler


def attempts(logdir):
    for path in glob.glob(os.path.join(logdir, "*")):
        with open(path) as f:
            for line in f:
                c, s, k, ts, v, code, when = line.split()
                yield int(k), int(ts), float(v), code, float(when)


def capture_items(path):
    data = open(path, "rb").read()
    unpickler = get_unpickler(insecure=False)
    pos = 0
    while pos + 4 <= len(data):
        (n,) = struct.unpack("!L", data[pos:pos + 4])
        if pos + 4 + n > len(data):
            break   # a frame cut by a reset: carbon drops it too
        for name, (ts, value) in unpickler.loads(data[pos + 4:pos + 4 + n]):
            yield name, int(ts), float(value)
        pos += 4 + n


def whisper_value(wdir, name, ts, cache):
    path = os.path.join(wdir, *name.split(".")) + ".wsp"
    if path not in cache:
        cache[path] = {}
        if os.path.exists(path):
            (start, end, step), vals = whisper.fetch(path, 0)
            cache[path] = {start + i * step: v for i, v in enumerate(vals)
                           if v is not None}
    return cache[path].get(ts - ts % 60)


def main():
    phase, logdir, wdir = sys.argv[1:4]
    cap = sys.argv[4] if len(sys.argv) > 4 else None
    answers = collections.Counter()
    accepted = collections.defaultdict(set)     # (name, ts) -> values
    stopped = float(os.environ.get("FAULTS_STOPPED", "0"))
    early = set()   # pairs a 204 covered before carbon was stopped
    for k, ts, v, code, when in attempts(logdir):
        answers[code] += 1
        if code == "204":
            for m in range(k):
                accepted[("faults.%s.m%d" % (phase, m), ts)].add(v)
                if when < stopped:
                    early.add(("faults.%s.m%d" % (phase, m), ts))
    delivered = lost = wrong = raced = resent = in_carbon = 0
    if cap:
        got = collections.defaultdict(list)
        for name, ts, v in capture_items(cap):
            got[(name, ts)].append(v)
        for pair, values in accepted.items():
            seen = got.get(pair, [])
            if not seen:
                lost += 1
                continue
            delivered += 1
            if any(v not in values for v in seen):
                wrong += 1
            if len(set(seen)) > 1:
                raced += 1
            elif len(seen) > 1:
                resent += 1
    else:
        cache = {}
        for (name, ts), values in accepted.items():
            v = whisper_value(wdir, name, ts, cache)
            if v is None and (name, ts) in early:
                in_carbon += 1
            elif v is None:
                lost += 1
            else:
                delivered += 1
                wrong += v not in values
    ans = " ".join("%s:%d" % kv for kv in sorted(answers.items()))
    print("%-15s %-22s accepted %4d  delivered %4d  lost %d  "
          "lost in carbon-cache %d  wrong %d  dup-race %s  resent %s" % (
          phase, ans, len(accepted), delivered, lost, in_carbon, wrong,
          raced if cap else "n/a", resent if cap else "n/a"))
    return 1 if lost or wrong or raced else 0


if __name__ == "__main__":
    sys.exit(main())
