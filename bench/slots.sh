#!/bin/bash
# bench/slots.sh - what Redis Cluster would cost the de-dup claims (INSTALL,
# "Redis Cluster"): the Redis time of a request of 450 points checked and
# claimed as one script plus its confirm (what Flux does), against 450
# one-point scripts plus 450 confirms (one per hash slot, what Cluster
# would need, since flux.last.<metric> can carry no hash tag). Both run on
# one private redis-server, alternating, each request's commands pipelined
# on one connection; the per-slot scripts get their own pending and done
# sets per slot ({slotN} tags), as they would in a cluster. The script is
# the build's own (tests/unit/lua_text); the confirm does what confirm_lua
# of common/store_claim.c does.
#
#   usage: bash bench/slots.sh [REQUESTS] [ROUNDS]
#   prints Redis us (INFO commandstats, EVAL and EVALSHA) and wall ms per
#   request for both, per round, with EVAL then with EVALSHA.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
N=${1:-50}
ROUNDS=${2:-2}
source tests/lib/flux.bash

make -s -j2 all tests/unit/lua_text
B=$(mktemp -d /tmp/flux-slots.XXXXXX)
trap 'stack_stop; rm -rf "$B"' EXIT
stack_init "$B/stack"
start_redis

for mode in EVAL EVALSHA; do
	echo "$mode:"
	/usr/bin/python3 - "$REDIS_SOCK" "$N" "$ROUNDS" "$mode" "$TOP/tests/unit/lua_text" <<'EOF_PY'
import random, socket, subprocess, sys, time

sock, n_req, rounds, mode, lua_text = sys.argv[1:6]
n_req, rounds = int(n_req), int(rounds)
POINTS = 450
dedup = subprocess.run([lua_text, 'dedup'], check=True, capture_output=True).stdout
confirm = (b"local t = redis.call('TIME')\n"
           b"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
           b"redis.call('ZREM', KEYS[1], ARGV[1])\n"
           b"redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])\n"
           b"return 0\n")
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile('rb')

def encode(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)

def read():
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b'*':
        return [read() for _ in range(int(rest))]
    if kind == b'$':
        return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2]
    if kind == b'-':
        sys.exit('redis: %s' % rest.decode())
    return rest

def pipeline(cmds):
    s.sendall(b''.join(encode(c) for c in cmds))
    return [read() for _ in cmds]

def script_usec():
    info = pipeline([['INFO', 'commandstats']])[0].decode()
    return sum(int(l.split('usec=')[1].split(',')[0]) for l in info.split('\r\n')
               if l.startswith(('cmdstat_eval:', 'cmdstat_evalsha:')))

sha = {'dedup': pipeline([['SCRIPT', 'LOAD', dedup]])[0],
       'confirm': pipeline([['SCRIPT', 'LOAD', confirm]])[0]}
text = {'dedup': dedup, 'confirm': confirm}

def run(name, nkeys):
    return ['EVALSHA', sha[name], nkeys] if mode == 'EVALSHA' else ['EVAL', text[name], nkeys]

def request(ts, per_slot):
    token = '%016x' % random.getrandbits(64)
    record = '[%d, 1.0]' % ts
    if not per_slot:
        keys, args = ['flux.claim.pending', 'flux.claim.done'], ['1', 30000, token, '']
        for j in range(POINTS):
            keys += ['flux.last.bench.m%d' % j, 'flux.claims.bench.m%d' % j]
            args += [ts, record]
        pipeline([run('dedup', len(keys)) + keys + args])
        pipeline([run('confirm', 2) + ['flux.claim.pending', 'flux.claim.done', token, 60000]])
        return
    pipeline([run('dedup', 4) + ['flux.claim.pending{slot%d}' % j, 'flux.claim.done{slot%d}' % j,
              'flux.last.bench.m%d' % j, 'flux.claims.bench.m%d' % j, '1', 30000, token, '',
              ts, record] for j in range(POINTS)])
    pipeline([run('confirm', 2) + ['flux.claim.pending{slot%d}' % j, 'flux.claim.done{slot%d}' % j,
              token, 60000] for j in range(POINTS)])

base = int(time.time()) - 100000
for r in range(rounds):
    for per_slot in (False, True):
        pipeline([['FLUSHALL']])
        request(base, per_slot)
        u0, t0 = script_usec(), time.time()
        for i in range(1, n_req + 1):
            request(base + i, per_slot)
        t1, u1 = time.time(), script_usec()
        print('  %-34s redis %7.0f us/request   wall %6.2f ms/request' % (
            '450 one-point scripts (per slot)' if per_slot else 'one script (today)',
            (u1 - u0) / n_req, (t1 - t0) * 1000 / n_req))
EOF_PY
done
echo "$N requests of 450 points per measurement"
