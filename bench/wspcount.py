#!/usr/bin/python3
"""bench/wspcount.py DIR[:DIR...] FROM UNTIL [EXPECT [TIMEOUT]]

Count the non-None points with FROM < ts <= UNTIL in every whisper file
under DIR (under each DIR: the caches behind a relay). With EXPECT, poll (carbon writes asynchronously) until the count
reaches EXPECT and stops growing, or TIMEOUT seconds (default 60) pass.
Prints the count.
"""
import os
import sys
import time

import whisper

d, frm, until = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
expect = int(sys.argv[4]) if len(sys.argv) > 4 else None
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0


def count():
    n = 0
    for root, _, files in (w for top in d.split(":") for w in os.walk(top)):
        for f in files:
            if f.endswith(".wsp"):
                try:
                    (_, _, _), vals = whisper.fetch(os.path.join(root, f), frm, until)
                except Exception:
                    continue
                n += sum(v is not None for v in vals)
    return n


deadline = time.monotonic() + timeout
last = -1
while True:
    n = count()
    if expect is None or time.monotonic() >= deadline or (n >= expect and n == last):
        break
    last = n
    time.sleep(0.5)
print(n)
