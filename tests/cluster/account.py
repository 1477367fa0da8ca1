#!/usr/bin/python3
"""The accounting of one fault of tests/cluster/run.sh.

Usage: account.py PHASE LOGDIR WHISPER_DIRS TAP EXTRA [--window T0 T1]
                  [--rerun] [--recover TEXT]

LOGDIR holds a file per client, a line per attempt: "client step metrics
ts value code epoch node seconds"; the request held the points
cluster.PHASE.m0 .. m<metrics-1> at ts, all of value. A point is accepted
when a request holding it got 204. EXTRA lists more accepted points, "name
ts value" a line (a populate job's, an upload's). A point is delivered when
a whisper file under one of WHISPER_DIRS (colon-separated: the caches
behind the relay) holds a value for its name at its timestamp; the value
must be one that was accepted for it. TAP is everything the relay sent,
in carbon's plaintext ("name value ts" lines): a point in it more than once
was delivered twice (or more).

Every duplicate must be explained, else it counts against the run:
  --window T0 T1  a point accepted (a 204) between T0 - 2 s and T1 + 2 s:
                  the fail-over of Redis (de-duplication off while no
                  master answered, or a flux.last write the promoted
                  replica never got, replication being asynchronous)
  --rerun         a point of EXTRA: a job that a killed run had begun
                  is run again from its start by the node that takes it

Prints one line; exit 1 when anything was lost or wrong, or delivered
twice without an explanation.
"""
import collections
import glob
import os
import sys

import whisper


def attempts(logdir):
    for path in glob.glob(os.path.join(logdir, "*")):
        with open(path) as f:
            for line in f:
                c, s, k, ts, v, code, when, node, secs = line.split()
                yield int(k), int(ts), float(v), code, float(when), float(secs)


def tap_counts(path):
    counts = collections.Counter()
    with open(path, "rb") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                counts[(parts[0].decode(), int(parts[2]))] += 1
    return counts


class Whisper:
    """The values of a name at each timestamp, in any of the caches."""

    def __init__(self, dirs):
        self.dirs = dirs
        self.cache = {}

    def value(self, name, ts):
        if name not in self.cache:
            got = {}
            for d in self.dirs:
                path = os.path.join(d, *name.split(".")) + ".wsp"
                if os.path.exists(path):
                    (start, end, step), vals = whisper.fetch(path, 0)
                    for i, v in enumerate(vals):
                        if v is not None:
                            got[start + i * step] = v
            self.cache[name] = got
        return self.cache[name].get(ts - ts % 60)


def main():
    args = sys.argv[1:]
    phase, logdir, wdirs, tap, extra = args[:5]
    opts = args[5:]
    window = rerun = None
    recover = ""
    i = 0
    while i < len(opts):
        if opts[i] == "--window":
            window = (float(opts[i + 1]) - 2, float(opts[i + 2]) + 2)
            i += 3
        elif opts[i] == "--rerun":
            rerun = True
            i += 1
        elif opts[i] == "--recover":
            recover = opts[i + 1]
            i += 2
        else:
            sys.exit("account.py: unknown option %s" % opts[i])
    answers = collections.Counter()
    accepted = collections.defaultdict(set)     # (name, ts) -> values
    in_window = set()
    slowest = 0.0
    for k, ts, v, code, when, secs in attempts(logdir):
        answers[code] += 1
        slowest = max(slowest, secs)
        if code != "204":
            continue
        for m in range(k):
            pair = ("cluster.%s.m%d" % (phase, m), ts)
            accepted[pair].add(v)
            if window and window[0] <= when <= window[1]:
                in_window.add(pair)
    extras = set()
    with open(extra) as f:
        for line in f:
            name, ts, v = line.split()
            accepted[(name, int(ts))].add(float(v))
            extras.add((name, int(ts)))
    store = Whisper(wdirs.split(":"))
    tapped = tap_counts(tap)
    delivered = lost = wrong = twice = explained = 0
    for (name, ts), values in accepted.items():
        v = store.value(name, ts)
        if v is None:
            lost += 1
            continue
        delivered += 1
        wrong += v not in values
        if tapped[(name, ts)] > 1:
            twice += 1
            if (name, ts) in in_window or (rerun and (name, ts) in extras):
                explained += 1
    ans = " ".join("%s:%d" % kv for kv in sorted(answers.items()))
    print("%-15s %-20s accepted %4d  delivered %4d  lost %d  wrong %d  "
          "twice %d (explained %d)  slowest %.1f s  recover: %s" % (
              phase, ans, len(accepted), delivered, lost, wrong, twice,
              explained, slowest, recover))
    return 1 if lost or wrong or twice != explained else 0


if __name__ == "__main__":
    sys.exit(main())
