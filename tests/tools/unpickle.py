#!/usr/bin/python3
"""Decode a capture of carbon pickle frames with carbon's own unpickler.

Usage: unpickle.py FILE [--frames]
Prints one "name ts value" line per item (repr of the value), or with
--frames one line per frame giving its payload length and item count.
A frame that is truncated or does not unpickle is an error (exit 1).
"""
import struct
import sys

from carbon.util import get_unpickler


def frames(data):
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("truncated frame header at %d" % pos)
        (n,) = struct.unpack("!L", data[pos:pos + 4])
        if pos + 4 + n > len(data):
            raise ValueError("truncated frame at %d" % pos)
        yield data[pos + 4:pos + 4 + n]
        pos += 4 + n


def main():
    data = open(sys.argv[1], "rb").read()
    unpickler = get_unpickler(insecure=False)
    for payload in frames(data):
        items = unpickler.loads(payload)
        if "--frames" in sys.argv:
            print(len(payload), len(items))
            continue
        for name, (ts, value) in items:
            print(name, ts, repr(value))


if __name__ == "__main__":
    main()
