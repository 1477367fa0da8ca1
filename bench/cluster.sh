#!/bin/bash
# bench/cluster.sh - two Flux nodes through carbon-c-relay against one node
# straight to carbon-cache, in the same run (issue 14; INSTALL, Scaling out).
#
#   one node:  Apache mod_fcgid, Redis on its Unix socket, pickle to one
#              carbon-cache (the single-machine setup of INSTALL);
#   two nodes: two Apaches (mod_fcgid), Redis found through three
#              sentinels (a master and a replica, over TCP), plaintext to
#              carbon-c-relay, which hashes (fnv1a_ch) over two
#              carbon-caches.
#
# Each round POSTs 450 points a request (bench/post.lua) for SECONDS: to the
# one node with PROCS connections, then to the two nodes at once with PROCS
# connections each; the rounds alternate, so load from elsewhere falls on
# both sides. Every point answered 2xx must be in whisper (in one of the
# caches for the two nodes), else the run fails. Everything runs on this
# machine: the two nodes share its cores with two carbon-caches, the relay,
# Redis and the sentinels, so the figure says what the relay and the
# sentinels cost, not how far more machines would go (see bench/README.md).
#
#   usage: bash bench/cluster.sh [SECONDS]     (default 10; about 2 minutes)
#   env:   FLUX_BENCH_PROCS (mod_fcgid processes per program and wrk
#          connections per node, default 4), FLUX_BENCH_ROUNDS (default 2)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
DUR=${1:-10}
PROCS=${FLUX_BENCH_PROCS:-4}
ROUNDS=${FLUX_BENCH_ROUNDS:-2}
BATCH=450
PY=/usr/bin/python3
# shellcheck source=lib.bash
source bench/lib.bash
source tests/lib/cluster.bash
STACK_WHISPER_RETENTIONS=60s:3d
export STACK_CARBON_LOG_UPDATES=False

note "starting: redis (socket) and a carbon-cache; redis master, replica and 3 sentinels; 2 carbon-caches behind carbon-c-relay"
BENCH_STOP=cluster_stop
bench_stack bench-cluster
NOW=$(( $(date +%s) / 60 * 60 ))
T0=$(( NOW - 3 * 86400 + 1800 ))
export FLUX_BENCH_KEY=$KEY FLUX_BENCH_T0=$T0 FLUX_BENCH_BATCH=$BATCH

start_redis_node r1 && start_redis_node r2 r1 && start_sentinels 3 r1 ||
	die "redis nodes or sentinels did not start"
cluster_sub cache-a start_carbon && cluster_sub cache-b start_carbon ||
	die "the caches did not start"
start_relay cache-a cache-b || die "carbon-c-relay did not start"

# node NAME CONF-LINES...: a Flux node, mod_fcgid, its own flux.conf and spool.
node() {
	local n=$1 d="$B/$1"
	shift
	mkdir -p "$d/spool" "$d/apache/conf.d"
	chmod 777 "$d/spool"
	{
		echo "FLUX_SELF_API_KEY = $KEY"
		echo "FLUX_SPOOL_PATH = $d/spool"
		echo "FLUX_MAX_AGE = 345600"
		printf '%s\n' "$@"
	} > "$d/flux.conf"
	chmod 644 "$d/flux.conf"
	cat > "$d/apache/conf.d/fcgid-bench.conf" <<-CONF
	<IfModule fcgid_module>
	  FcgidMaxProcessesPerClass $PROCS
	  FcgidMaxProcesses $((4 * PROCS))
	  FcgidIdleTimeout 600
	  FcgidMaxRequestsPerProcess 0
	</IfModule>
	CONF
	cluster_sub "$n" start_apache "$CGIDIR" "$d/flux.conf" fcgid ||
		die "apache of $n did not start"
	echo "http://127.0.0.1:$(cluster_port "$n" apache)/flux/metric_data_post"
}
URL_ONE=$(node one "REDIS_SOCKET_PATH = $REDIS_SOCK" \
    "FLUX_CARBON_PICKLE_PORT = $CARBON_PICKLE_PORT")
for n in a b; do
	eval "URL_$n=\$(node $n 'REDIS_SENTINELS = $REDIS_SENTINELS' \
	    'FLUX_CARBON_PROTOCOL = plaintext' 'FLUX_CARBON_PORT = $RELAY_PORT')"
done

# post URL PREFIX: a wrk run (PROCS connections) in the background, its
# pid added to WRK, its output in $B/wrk.PREFIX.
WRK=()
post() {
	FLUX_BENCH_PREFIX=$2 wrk -t"$PROCS" -c"$PROCS" -d"${DUR}s" --timeout 30s \
	    --latency -s bench/post.lua "$1" > "$B/wrk.$2" 2>&1 &
	WRK+=($!)
}

# wait_wrk: the wrk runs begun (not the servers, children of this shell too).
wait_wrk() {
	local p
	for p in "${WRK[@]}"; do wait "$p"; done
	WRK=()
}

# points PREFIX: points answered 2xx by the wrk run PREFIX.
points() {
	local ok=0 non2xx=0 errors=0
	eval "$(sed -n 's/^BENCH //p' "$B/wrk.$1")"
	if [ "$non2xx" != 0 ] || [ "$errors" != 0 ]; then
		failed "$1: $non2xx non-2xx answers, $errors socket errors"
	fi
	echo $((ok * BATCH))
}

# pct PREFIX P: wrk's latency percentile P (50, 90, 99) in ms.
pct() {
	awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	    printf "%.1f", u == "s" ? v * 1000 : u == "us" ? v / 1000 : v }' "$B/wrk.$1"
}

# found PREFIX SENT DIR...: points of PREFIX in whisper under the DIRs;
# every one answered 2xx must be there.
found() {
	local prefix=$1 sent=$2 dirs="" d n
	shift 2
	for d in "$@"; do dirs+="${dirs:+:}$d/${prefix//.//}"; done
	n=$("$PY" bench/wspcount.py "$dirs" $((T0 - 60)) "$NOW" "$sent" 60)
	if [ "$n" -lt "$sent" ]; then
		failed "$prefix: $sent points answered 2xx, $n in whisper"
	fi
	echo "$n"
}

mean() { awk '{ s += $1; n++ } END { printf "%.0f", n ? s / n : 0 }'; }

# Warm-up: mod_fcgid starts its resident processes on demand.
for u in "$URL_ONE" "$URL_a" "$URL_b"; do
	FLUX_BENCH_PREFIX=bench.warm$RANDOM FLUX_BENCH_BATCH=10 wrk -t"$PROCS" \
	    -c"$PROCS" -d2s -s bench/post.lua "$u" >/dev/null 2>&1
done
note "POST $BATCH points/request, $ROUNDS rounds of ${DUR}s, $PROCS connections per node"
one_rates="" two_rates="" sent_one=0 found_one=0 sent_two=0 found_two=0
for r in $(seq "$ROUNDS"); do
	post "$URL_ONE" "bench.one$r"
	wait_wrk
	s=$(points "bench.one$r")
	one_rates+="$((s / DUR)) "
	sent_one=$((sent_one + s))
	found_one=$((found_one + $(found "bench.one$r" "$s" "$WHISPER_DIR")))
	post "$URL_a" "bench.twoa$r"
	post "$URL_b" "bench.twob$r"
	wait_wrk
	sa=$(points "bench.twoa$r")
	sb=$(points "bench.twob$r")
	two_rates+="$(((sa + sb) / DUR)) "
	sent_two=$((sent_two + sa + sb))
	for p in "bench.twoa$r:$sa" "bench.twob$r:$sb"; do
		found_two=$((found_two + $(found "${p%:*}" "${p#*:}" \
		    "$B/cache-a/carbon/storage/whisper" "$B/cache-b/carbon/storage/whisper")))
	done
done
one=$(tr ' ' '\n' <<<"$one_rates" | grep . | mean)
two=$(tr ' ' '\n' <<<"$two_rates" | grep . | mean)

# What a plain CGI pays to find the master through the sentinels: one GET
# (metric_data run as Apache runs it, nothing sent to carbon) through the
# Unix socket, then through the sentinels, alternating, CGI_RUNS times.
CGI_RUNS=${FLUX_BENCH_CGI_RUNS:-200}
note "plain-CGI GET, $CGI_RUNS runs each: Redis on its socket, then through the sentinels"
for c in sock sent; do
	if [ "$c" = sock ]; then r="REDIS_SOCKET_PATH = $REDIS_SOCK"
	else r="REDIS_SENTINELS = $REDIS_SENTINELS"; fi
	printf 'FLUX_SELF_API_KEY = %s\n%s\nFLUX_SEND_TO_CARBON = false\nFLUX_LOG_LEVEL = warn\nFLUX_SPOOL_PATH = %s\n' \
	    "$KEY" "$r" "$B/one/spool" > "$B/cgi-$c.conf"
done
cgi_get() {  # cgi_get CONF METRIC: one metric_data GET as Apache runs it
	env -i FLUX_CONF="$1" REQUEST_METHOD=GET GATEWAY_INTERFACE=CGI/1.1 \
	    QUERY_STRING="metric=$2&value=1&timestamp=$NOW&key=$KEY" \
	    "$CGIDIR/metric_data" </dev/null 2>>"$B/cgi.err" | head -c 12 |
	    grep -q '^Status: 204' || failed "a plain-CGI GET ($1) did not answer 204"
}
us_sock=0 us_sent=0
for ((i = 0; i < CGI_RUNS; i++)); do
	for c in sock sent; do
		t=${EPOCHREALTIME/./}
		cgi_get "$B/cgi-$c.conf" "bench.cgi.$c.m$i"
		t=$(( ${EPOCHREALTIME/./} - t ))
		eval "us_$c=\$((us_$c + t))"
	done
done

echo
echo "Flux cluster bench ($(date -u +%FT%TZ), $(nproc) cores, $ROUNDS rounds of ${DUR}s)"
printf '%-50s %12s\n' "two nodes via sentinels + relay / one node (points/s)" \
    "$(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')"
printf '%-50s %12s   p50/p90/p99 ms %s/%s/%s\n' "    one node, pickle to carbon-cache" "$one" \
    "$(pct "bench.one$ROUNDS" 50)" "$(pct "bench.one$ROUNDS" 90)" "$(pct "bench.one$ROUNDS" 99)"
printf '%-50s %12s   p50/p90/p99 ms %s/%s/%s (node a)\n' "    two nodes, plaintext to carbon-c-relay" "$two" \
    "$(pct "bench.twoa$ROUNDS" 50)" "$(pct "bench.twoa$ROUNDS" 90)" "$(pct "bench.twoa$ROUNDS" 99)"
printf '%-50s %27s\n' "    rounds: one / two points/s" "$one_rates/ $two_rates"
printf '%-50s %12s\n' "plain-CGI GET via the sentinels / via the socket" \
    "$(awk -v a="$us_sent" -v b="$us_sock" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')"
printf '%-50s %12s\n' "    via the socket, us per request" "$((us_sock / CGI_RUNS))"
printf '%-50s %12s\n' "    via the sentinels (3), us per request" "$((us_sent / CGI_RUNS))"
printf '%-50s %12s\n' "points answered 2xx / found in whisper:" ""
printf '%-50s %12s\n' "    one node" "$sent_one / $found_one"
printf '%-50s %12s\n' "    two nodes" "$sent_two / $found_two"
if [ "$FAILED" != 0 ]; then
	echo "RUN FAILED: see the messages above (lost points or errors)"
	exit 1
fi
echo "run valid: every point answered 2xx is in whisper"
