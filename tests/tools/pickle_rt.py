"""Random points for the pickle round trip (tests/pickle_roundtrip.bats).

gen N SEED: print N points as name<TAB>ts<TAB>hexfloat lines.
check POINTS FRAMES: unpickle FRAMES (length-prefixed pickle frames) with
carbon's own unpickler, exactly as carbon's pickle receiver does, and
compare every point with POINTS: name, timestamp and value bit for bit.
"""
import math
import random
import struct
import sys

from carbon.util import get_unpickler

CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
         "+-%_=:")
WIDE = "\u00e9\u65e5\U0001F600"    # 2, 3 and 4 UTF-8 bytes


def name(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        n = rng.choice((1, 2, 5, 20, 251)) if rng.random() < 0.1 else rng.randint(1, 12)
        alphabet = CHARS + WIDE if rng.random() < 0.1 else CHARS
        parts.append("".join(rng.choice(alphabet) for _ in range(n)))
    return ".".join(parts)


def timestamp(rng):
    edges = (0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53)
    if rng.random() < 0.1:
        return rng.choice(edges)
    return rng.randint(0, 2**32 - 1)


def value(rng):
    r = rng.random()
    if r < 0.05:
        return rng.choice((0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
                           1.7976931348623157e308, -1.7976931348623157e308,
                           0.1, 1e16, 1e-5))
    if r < 0.5:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
    if r < 0.8:
        return rng.uniform(-1e6, 1e6)
    return float(rng.randint(-2**31, 2**31))


def gen(n, seed):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        v = value(rng)
        if not math.isfinite(v):
            continue
        out.append("%s\t%d\t%s" % (name(rng), timestamp(rng), v.hex()))
    sys.stdout.write("\n".join(out) + "\n")


def check(points_path, frames_path):
    want = []
    with open(points_path, encoding="utf-8") as f:
        for line in f:
            n, t, v = line.rstrip("\n").split("\t")
            want.append((n, int(t), float.fromhex(v)))
    data = open(frames_path, "rb").read()
    unpickler = get_unpickler(insecure=False)
    got, off, frames = [], 0, 0
    while off < len(data):
        (length,) = struct.unpack("!L", data[off:off + 4])
        if length >= 1048576:
            sys.exit("frame %d is %d bytes, over carbon's limit" % (frames, length))
        got.extend(unpickler.loads(data[off + 4:off + 4 + length]))
        off += 4 + length
        frames += 1
    if len(got) != len(want):
        sys.exit("%d points sent, %d decoded" % (len(want), len(got)))
    for i, ((wn, wt, wv), item) in enumerate(zip(want, got)):
        gn, (gt, gv) = item
        same_value = struct.pack("<d", float(gv)) == struct.pack("<d", wv)
        if gn != wn or gt != wt or not same_value:
            sys.exit("point %d: sent %r, decoded %r" % (i, (wn, wt, wv), item))
    print("%d points in %d frames round-tripped" % (len(got), frames))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]))
    else:
        check(sys.argv[2], sys.argv[3])
