#!/bin/bash
# bench/clients.sh - what users of the resident (FastCGI) deployments feel
# (issue 13): more clients than processes, latency next to every rate, and
# whether every connection is served. On a private stack (redis,
# carbon-cache, Apache on loopback, tests/lib/stack.bash), for each
# deployment (the kernel-queued pool of INSTALL: mod_proxy_fcgi to
# spawn-fcgi + multiwatch; and mod_fcgid with FcgidMaxProcessesPerClass =
# processes) and each number of clients, one wrk connection per client:
#
#   GET      metric_data, one point per request, delivered
#   nocarbon the same with FLUX_SEND_TO_CARBON = false (no carbon at all)
#   keep     the same with FLUX_CARBON_KEEP_CONNECTION = true
#   trivial  a FastCGI responder that answers 204 and nothing else
#            (bench/trivial_fcgi.c), in the same deployment
#   POST     metric_data_post, 450 points per request
#
# then carbon-cache's own ceiling (bench/pickle_send.py, as bench/run.sh).
# Each line: the rate, p50/p99/max latency in ms, the fewest and most
# answers a connection got and their ratio (1.00: all served alike), the
# answers that were not 2xx, and
# for the delivering phases the points answered 2xx against those found
# in whisper (a run that loses one fails, exit 1). Ratios are within the
# run; the machine's load (uptime) is printed before and after.
#
#   usage: bash bench/clients.sh [SECONDS]      (default 10 per phase)
#   env:   FLUX_BENCH_PROCS (processes per program, default 4),
#          FLUX_BENCH_CLIENTS (default "16 64"), FLUX_BENCH_DEPLOYS
#          (default "pool fcgid"), FLUX_BENCH_KEEP=1 (keep the stack).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
DUR=${1:-10}
PROCS=${FLUX_BENCH_PROCS:-4}
CLIENTS=${FLUX_BENCH_CLIENTS:-"16 64"}
DEPLOYS=${FLUX_BENCH_DEPLOYS:-"pool fcgid"}
BATCH=450
PY=/usr/bin/python3
# shellcheck source=lib.bash
source bench/lib.bash
# Six hours of minutes: a phase moves a minute per request (POST) or per
# cycle of 50 metrics (GET) from five hours back; small whisper files, as
# a POST phase of 64 clients makes 28,800 of them.
STACK_WHISPER_RETENTIONS=60s:6h
export STACK_CARBON_LOG_UPDATES=False
export STACK_POOL_FORKS=$PROCS

bench_stack clients
cc -O2 -o "$CGIDIR/trivial" bench/trivial_fcgi.c -lfcgi || die "cc trivial_fcgi.c"
NOW=$(( $(date +%s) / 60 * 60 ))
T0=$(( NOW - 5 * 3600 ))
CONF_LINES=("FLUX_MAX_AGE = 21600")
write_conf "${CONF_LINES[@]}"
# A connection that sends more than the five hours' minutes starts again
# with new metrics (FLUX_BENCH_SPAN): mod_fcgid serves some connections
# hundreds of times more than others.
export FLUX_BENCH_KEY=$KEY FLUX_BENCH_T0=$T0 FLUX_BENCH_BATCH=$BATCH FLUX_BENCH_METRICS=50 \
	FLUX_BENCH_SPAN=$(((NOW - T0) / 60))
LOAD_BEFORE=$(uptime)
# The most clients of a phase. Also as many metric groups for carbon's
# ceiling below: a frame moves its group's timestamp a minute, and the
# baseline sends thousands of frames, which must stay inside the six hours
# whisper keeps.
NGROUPS=$(tr ' ' '\n' <<<"$CLIENTS" | sort -n | tail -1)

# run CLIENTS SCRIPT PREFIX URL: wrk, one connection per client; sets ok,
# non2xx, errors, rate, p50, p99, max, fewest, most.
run() {
	local c=$1 script=$2 prefix=$3 url=$4 out
	ok=0 non2xx=0 errors=0 cpu="" connect=0 read=0 write=0 timeout=0 rate=0 p50=0 p99=0 max=0 fewest=0 most=0
	settle
	cpu_mark "${CPU_GROUPS[@]}"
	out=$(FLUX_BENCH_PREFIX=$prefix wrk -t"$c" -c"$c" -d"${DUR}s" --timeout 30s \
		-s "$script" "$url") || { failed "wrk $url"; echo "$out" >&2; }
	cpu=$(cpu_used "$DUR" "${CPU_GROUPS[@]}")
	eval "$(sed -n 's/^BENCH //p' <<<"$out")"
	rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	: "${rate:=0}"
	# An answer that is not 2xx is shown in the table. A socket error
	# fails the run: the stack dropped a connection.
	if [ "$errors" != 0 ]; then
		failed "$prefix: $errors socket errors" \
			"(connect $connect, read $read, write $write, timeout $timeout)"
	fi
}

# found PREFIX SENT SLACK: the points of PREFIX in whisper (bench/run.sh's
# check: at least SENT, at most SLACK more, in flight when wrk stopped).
found() {
	local dir="$WHISPER_DIR/${1//.//}" n
	n=$("$PY" bench/wspcount.py "$dir" $((T0 - 60)) "$NOW" "$2" 120)
	if [ "$n" -lt "$2" ] || [ "$n" -gt $(($2 + $3)) ]; then
		failed "$1: $2 points answered 2xx, $n in whisper"
	fi
	echo "$n"
}

# The cores each part of the stack used during a phase, to say what a
# rate is held back by (the rest of the machine's two: wrk and the bench).
# Only this stack's processes: $B is in each command line.
CPU_GROUPS=("carbon=carbon-cache .*$B/" "redis=redis-server .*$B/"
	"apache=apache2 -f $B/" "flux=^$CGIDIR/")
# settle: waits (at most a minute) until carbon-cache uses less than a
# twentieth of a core, so that no phase pays for the whisper writes of
# the one before it. carbon keeps writing for seconds after the points
# of a phase are all in whisper.
SETTLED=()
settle() {
	local i c
	for ((i = 1; i <= 60; i++)); do
		cpu_mark "${CPU_GROUPS[0]}"
		sleep 1
		c=$(cpu_used 1 "${CPU_GROUPS[0]}")
		awk -v c="${c#carbon }" 'BEGIN { exit !(c < 0.05) }' && break
	done
	SETTLED+=("$i")
}
ROWS=()
CPUS=()
# row DEPLOY CLIENTS WHAT UNIT RATE CHECK: one line of the table.
row() {
	local fair
	fair=$(awk -v f="$fewest" -v m="$most" 'BEGIN { printf "%.2f", m ? f / m : 0 }')
	ROWS+=("$(printf '%-6s %4s %-9s %10s %-4s %7s %7s %8s %6s %6s %5s %6s  %s' \
		"$1" "$2" "$3" "$5" "$4" "$p50" "$p99" "$max" "$fewest" "$most" "$fair" \
		"$non2xx" "$6")")
	CPUS+=("$(printf '%-6s %4s %-9s %s' "$1" "$2" "$3" "$cpu")")
	eval "R_${1}_${2}_$3=$5 P99_${1}_${2}_$3=$p99 FAIR_${1}_${2}_$3=$fair"
}

# phase DEPLOY CLIENTS: the five measurements of one deployment and count.
phase() {
	local d=$1 c=$2 base="http://127.0.0.1:$APACHE_PORT" p
	p="bench.$d.c$c"
	run "$c" bench/get.lua "$p.get" "$base/flux/metric_data"
	row "$d" "$c" GET req/s "$rate" "$ok / $(found "$p.get" "$ok" "$c")"
	run "$c" bench/get.lua "$p.trivial" "$base/flux/trivial"
	row "$d" "$c" trivial req/s "$rate" ""
	write_conf "${CONF_LINES[@]}" "FLUX_SEND_TO_CARBON = false" "FLUX_LOG_LEVEL = warn"
	run "$c" bench/get.lua "$p.nocarbon" "$base/flux/metric_data"
	row "$d" "$c" nocarbon req/s "$rate" ""
	write_conf "${CONF_LINES[@]}" "FLUX_CARBON_KEEP_CONNECTION = true"
	run "$c" bench/get.lua "$p.keep" "$base/flux/metric_data"
	row "$d" "$c" keep req/s "$rate" "$ok / $(found "$p.keep" "$ok" "$c")"
	write_conf "${CONF_LINES[@]}"
	run "$c" bench/post.lua "$p.post" "$base/flux/metric_data_post"
	rate=$(awk -v r="$rate" -v b="$BATCH" 'BEGIN { printf "%.0f", r * b }')
	row "$d" "$c" POST450 points/s "$rate" \
		"$((ok * BATCH)) / $(found "$p.post" $((ok * BATCH)) $((c * BATCH)))"
}

# Every waiting client holds one of Apache's worker threads. When all the
# threads of an event MPM child are busy, the child closes its idle
# keep-alive connections, and a client whose next request crosses that
# close sees the connection end without an answer (wrk: a read error; 1-4
# per 10 s phase of 64 clients with the compiled-in 25 threads per child).
# One child with a thread for every client and more keeps the bench from
# measuring that; INSTALL §9 says the same for a real site.
mkdir -p "$B/apache/conf.d"
cat > "$B/apache/conf.d/mpm-bench.conf" <<CONF
<IfModule mpm_event_module>
  ServerLimit 1
  StartServers 1
  ThreadLimit $((2 * NGROUPS + 16))
  ThreadsPerChild $((2 * NGROUPS + 16))
  MaxRequestWorkers $((2 * NGROUPS + 16))
  MinSpareThreads 1
  MaxSpareThreads $((2 * NGROUPS + 16))
</IfModule>
CONF
for d in $DEPLOYS; do
	case $d in
	pool)
		start_apache "$CGIDIR" "$FLUX_CONF" proxy || die "apache (proxy) did not start" ;;
	fcgid)
		cat > "$B/apache/conf.d/fcgid-bench.conf" <<CONF
<IfModule fcgid_module>
  FcgidMaxProcessesPerClass $PROCS
  FcgidMaxProcesses $((8 * PROCS))
  FcgidIdleTimeout 600
  FcgidMaxRequestsPerProcess 0
</IfModule>
CONF
		start_apache "$CGIDIR" "$FLUX_CONF" fcgid || die "apache (fcgid) did not start" ;;
	*) die "unknown deployment $d (pool or fcgid)" ;;
	esac
	# Warm-up: mod_fcgid starts its processes on demand.
	for u in metric_data trivial; do
		(FLUX_BENCH_PREFIX=bench.warm.$d.$u wrk -t"$PROCS" -c"$PROCS" -d2s -s bench/get.lua \
			"http://127.0.0.1:$APACHE_PORT/flux/$u" >/dev/null)
	done
	(FLUX_BENCH_PREFIX=bench.warm.$d.post FLUX_BENCH_BATCH=10 wrk -t"$PROCS" -c"$PROCS" \
		-d2s -s bench/post.lua "http://127.0.0.1:$APACHE_PORT/flux/metric_data_post" >/dev/null)
	for c in $CLIENTS; do
		note "$d: $c clients on $PROCS processes"
		phase "$d" "$c"
	done
	stop_apache
	rm -f "$B/apache/conf.d/fcgid-bench.conf"
done

note "carbon-cache's ceiling: pickle frames of $BATCH from $NGROUPS groups, one connection"
b=$("$PY" bench/pickle_send.py "$CARBON_PICKLE_PORT" "$DUR" bench.base "$T0" "$NGROUPS" "$BATCH") ||
	failed "pickle_send.py"
points=0 seconds=1
eval "$(sed -n 's/^BENCH //p' <<<"$b")"
ceiling=$(awk -v n="$points" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
base_found=$(found bench.base "$points" 0)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
echo
echo "Flux clients bench ($(date -u +%FT%TZ), $(nproc) cores, ${DUR}s per phase, $PROCS processes per program)"
echo "load before: $LOAD_BEFORE"
echo "load after:  $(uptime)"
printf '%-6s %4s %-9s %10s %-4s %7s %7s %8s %6s %6s %5s %6s  %s\n' deploy conns phase rate unit \
	p50ms p99ms maxms fewest most fair non2xx "2xx points / in whisper"
printf '%s\n' "${ROWS[@]}"
echo "seconds waited for carbon-cache to go quiet before each phase: ${SETTLED[*]}"
echo "cores used during each phase ($(nproc) on this machine):"
printf '%s\n' "${CPUS[@]}"
echo "carbon-cache ceiling (pickle, one connection): $ceiling points/s ($points sent, $base_found in whisper)"
echo
echo "targets (issue 13), per deployment and number of clients:"
for d in $DEPLOYS; do
	for c in $CLIENTS; do
		eval "g=\${R_${d}_${c}_GET} n=\${R_${d}_${c}_nocarbon} t=\${R_${d}_${c}_trivial}"
		eval "k=\${R_${d}_${c}_keep} po=\${R_${d}_${c}_POST450}"
		eval "gp=\${P99_${d}_${c}_GET} pp=\${P99_${d}_${c}_POST450}"
		eval "gf=\${FAIR_${d}_${c}_GET} pf=\${FAIR_${d}_${c}_POST450}"
		printf '%-6s %3s: GET/nocarbon %s (>= 0.8)  GET/trivial %s (>= 0.5)  keep/nocarbon %s  GET p99 %s ms (<= 20)  POST450 p99 %s ms (<= 100)  fair GET %s POST %s (>= 0.9)  POST/ceiling %s (>= 0.7)\n' \
			"$d" "$c" "$(ratio "$g" "$n")" "$(ratio "$g" "$t")" "$(ratio "$k" "$n")" \
			"$gp" "$pp" "$gf" "$pf" "$(ratio "$po" "$ceiling")"
	done
done
if [ "$FAILED" != 0 ]; then
	echo "RUN FAILED: see the messages above (lost points or errors)"
	exit 1
fi
echo "run valid: every point answered 2xx is in whisper"
