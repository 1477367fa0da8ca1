#!/bin/bash
# bench/dedup.sh - what de-duplication costs a request, this tree against an
# older revision built in the same run (default: c503794, the last commit
# before de-dup claims). Both builds run the same requests, alternating,
# against one redis-server: the CGI binaries are run directly (no Apache)
# with FLUX_SEND_TO_CARBON false, so the figures are the request's own
# work plus its Redis round trips. Redis time is the SLOWLOG duration of
# the commands the requests send (all of them: the de-dup EVAL and the
# confirm, a SET or an EVAL), logged with a threshold of 0; the commands
# run inside a script are not logged apart, they are in its EVAL's time.
#
#   usage: bash bench/dedup.sh [BASE_REV] [REQUESTS] [ROUNDS] [OTHERS]
#   prints, per build: wall ms per request (the mean, then the 50th and
#   99th percentiles of the requests of all rounds) and Redis us per
#   request, for a GET of one point, a POST of 450 points and a GET
#   refused for its key (no de-dup: since the self-metrics it sends its
#   counts after the answer, without waiting), and the ratios new / base.
#   OTHERS (default 0): entries of other metrics put in the hash
#   flux.last.metric_data before each run, as a site with that many metrics
#   has. Redis keeps a hash of up to hash-max-listpack-entries fields (512
#   in Redis 7) as one list, in which each field written is searched for:
#   with OTHERS 0 the 450 points' own fields make such a list, a site of
#   over 512 metrics has a hash table instead.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BASE=${1:-c503794}
N=${2:-200}
ROUNDS=${3:-3}
OTHERS=${4:-0}
source tests/lib/flux.bash

make -s -j2 all
B=$(mktemp -d /tmp/flux-dedup.XXXXXX)
trap 'stack_stop; git -C "$TOP" worktree remove --force "$B/base" >/dev/null 2>&1; rm -rf "$B"' EXIT
git worktree add -q --detach "$B/base" "$BASE"
make -s -j2 -C "$B/base" all >/dev/null
stack_init "$B/stack"
start_redis
write_conf "FLUX_SEND_TO_CARBON = false" "FLUX_LOG_LEVEL = warn"
NOW=$(date +%s)

# Bodies: request i posts metrics bench.m0..m449 at NOW - 3000 + i, so
# every point is newer than the last (the steady state: a key to replace).
/usr/bin/python3 - "$B" "$N" "$KEY" "$NOW" <<'EOF'
import sys
d, n, key, now = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
for i in range(n):
    with open("%s/post.%d" % (d, i), "w") as f:
        f.write('{"key": "%s", "metrics": [%s]}' % (key, ", ".join(
            '{"metric": "bench.m%d", "timestamp": %d, "value": %d}'
            % (j, now - 3000 + i, i) for j in range(450))))
EOF

# run BUILD_DIR KIND PREFIX LATFILE: N requests; prints "wall_ms redis_us"
# per request, and appends each request's wall time (us) to LATFILE.
run() {
	local dir=$1 kind=$2 pfx=$3 lat=$4 i t0 t1 r0 us key
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	redis-cli -s "$REDIS_SOCK" eval "for i = 1, tonumber(ARGV[1]) do
	    redis.call('HSET', KEYS[1], 'bench.other.' .. i, ARGV[2]) end" 1 \
	    flux.last.metric_data "$OTHERS" "{'timestamp': $((NOW - 3600)), 'value': 1.0}" >/dev/null
	redis-cli -s "$REDIS_SOCK" config set slowlog-log-slower-than 0 >/dev/null
	redis-cli -s "$REDIS_SOCK" config set slowlog-max-len $((4 * N + 100)) >/dev/null
	redis-cli -s "$REDIS_SOCK" slowlog reset >/dev/null
	t0=$(date +%s%N)
	for ((i = 0; i < N; i++)); do
		# The wall clock in microseconds, read without a fork (bash 5).
		r0=${EPOCHREALTIME//[.,]/}
		if [ "$kind" = get ] || [ "$kind" = refused ]; then
			key=$KEY; [ "$kind" = refused ] && key=abcdefghij0123456789ABCDEFGHIJ99
			env -i FLUX_CONF="$FLUX_CONF" REQUEST_METHOD=GET \
			    QUERY_STRING="metric=bench.$pfx&value=$i&timestamp=$((NOW - 3000 + i))&key=$key" \
			    "$dir/cgi-bin/metric_data" >/dev/null </dev/null
		else
			env -i FLUX_CONF="$FLUX_CONF" REQUEST_METHOD=POST \
			    CONTENT_LENGTH="$(stat -c %s "$B/post.$i")" \
			    CONTENT_TYPE=application/json \
			    "$dir/cgi-bin/metric_data_post" >/dev/null <"$B/post.$i"
		fi
		echo $(( ${EPOCHREALTIME//[.,]/} - r0 )) >> "$lat"
	done
	t1=$(date +%s%N)
	# Every logged command but redis-cli's own (this script's).
	us=$(redis-cli -s "$REDIS_SOCK" --json slowlog get -1 | /usr/bin/python3 -c '
import json, sys
mine = {"hello", "slowlog", "config", "flushall", "exists", "info", "ping"}
print(sum(e[2] for e in json.load(sys.stdin) if e[3][0].lower() not in mine))')
	# Every request must have taken its points: the last one's record.
	[ "$(redis-cli -s "$REDIS_SOCK" exists "flux.last.bench.$pfx" "flux.last.bench.m0")" != 0 ] ||
		{ echo "dedup.sh: nothing was recorded" >&2; exit 1; }
	awk -v w=$((t1 - t0)) -v u="$us" -v n="$N" 'BEGIN { printf "%.3f %.1f\n", w / n / 1e6, u / n }'
}

declare -A wall redis
for kind in get post refused; do
	for b in base new; do wall[$kind.$b]=0; redis[$kind.$b]=0; done
	for ((r = 0; r < ROUNDS; r++)); do
		for b in base new; do
			dir=$TOP; [ "$b" = base ] && dir=$B/base
			read -r w u < <(run "$dir" "$kind" "$b$r" "$B/lat.$kind.$b")
			wall[$kind.$b]=$(awk -v a="${wall[$kind.$b]}" -v b="$w" 'BEGIN { print a + b }')
			redis[$kind.$b]=$(awk -v a="${redis[$kind.$b]}" -v b="$u" 'BEGIN { print a + b }')
		done
	done
done

# pct FILE P: the P-th percentile (nearest rank) of FILE's numbers, in ms.
pct() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 }
	    END { r = int(NR * p / 100 + 0.999999); if (r < 1) r = 1; printf "%.3f", v[r] / 1000 }'
}

printf '%-6s %-5s %12s %8s %8s %14s\n' request build "wall ms/req" p50 p99 "redis us/req"
for kind in get post refused; do
	for b in base new; do
		awk -v k="$kind" -v b="$b" -v w="${wall[$kind.$b]}" -v u="${redis[$kind.$b]}" -v r="$ROUNDS" \
		    -v p50="$(pct "$B/lat.$kind.$b" 50)" -v p99="$(pct "$B/lat.$kind.$b" 99)" \
		    'BEGIN { printf "%-6s %-5s %12.3f %8s %8s %14.1f\n", k, b, w / r, p50, p99, u / r }'
	done
	awk -v k="$kind" -v wb="${wall[$kind.base]}" -v wn="${wall[$kind.new]}" \
	    -v ub="${redis[$kind.base]}" -v un="${redis[$kind.new]}" \
	    -v p50="$(awk -v a="$(pct "$B/lat.$kind.new" 50)" -v b="$(pct "$B/lat.$kind.base" 50)" 'BEGIN { printf "%.3f", a / b }')" \
	    -v p99="$(awk -v a="$(pct "$B/lat.$kind.new" 99)" -v b="$(pct "$B/lat.$kind.base" 99)" 'BEGIN { printf "%.3f", a / b }')" \
	    'BEGIN { printf "%-6s %-5s %12.3f %8s %8s %14s   (new / base)\n", k, "ratio", wn / wb, p50, p99,
	        (ub > 0 ? sprintf("%.3f", un / ub) : "n/a") }'
done
echo "base $BASE, $N requests x $ROUNDS rounds per build, alternating; GET = 1 point, POST = 450 points, refused = a GET with a wrong key;" \
	"$OTHERS other metrics in flux.last.metric_data"
