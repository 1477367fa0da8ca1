#!/bin/bash
# bench/run.sh - `make bench`: the request-path benchmarks of issue #5 on a
# real stack (redis, carbon-cache, Apache with mod_cgid then mod_fcgid) on
# loopback. Every figure is a ratio against a baseline measured in the same
# run, except the instruction counts (callgrind is repeatable) and the RSS.
# Every load phase also checks that each point answered 2xx is in whisper:
# a run that loses a point fails (exit 1). See bench/README.md.
#
#   usage: bash bench/run.sh [SECONDS]      (default 10 per load phase)
#   env:   FLUX_BENCH_CONNS (plain CGI, default 8), FLUX_BENCH_PROCS
#          (mod_fcgid processes per program, default 4: also the number
#          of connections of the FastCGI phases), FLUX_BENCH_ROUNDS
#          (default 2: each measurement is repeated, alternating with its
#          baseline where possible, and averaged), FLUX_BENCH_KEEP=1 (keep
#          the stack directory).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
DUR=${1:-10}
CONNS=${FLUX_BENCH_CONNS:-8}
PROCS=${FLUX_BENCH_PROCS:-4}
ROUNDS=${FLUX_BENCH_ROUNDS:-2}
BATCH=450
GET_METRICS=50          # per wrk thread
PY=/usr/bin/python3
# shellcheck source=../tests/lib/flux.bash
source tests/lib/flux.bash
# Three days of minutes: a slot for every point of a run (the pickle
# baseline sends up to ~1500 minutes' worth per 10 s round), small files.
STACK_WHISPER_RETENTIONS=60s:3d
# carbon logging every update would spend the CPU we are measuring.
export STACK_CARBON_LOG_UPDATES=False

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
FAILED=0
failed() { echo "bench: FAILED: $*" >&2; FAILED=1; }

bash tests/tools/deps.sh || die "missing packages"
make -s -j2 all || die "build failed"
B=$(mktemp -d /tmp/flux-bench.XXXXXX)
if [ "${FLUX_BENCH_KEEP:-0}" = 1 ]; then
	trap 'stack_stop; echo "bench: stack kept in $B" >&2' EXIT
else
	trap 'stack_stop; rm -rf "$B"' EXIT
fi
stack_init "$B" || die "stack_init failed"
start_redis && start_carbon || die "redis/carbon did not start"
make -s install DESTDIR="$B/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null ||
	die "make install failed"
CGIDIR="$B/inst/usr/lib/flux/cgi-bin"
# Timestamps start almost three days back and move a minute at a time
# (distinct minutes, see get.lua): they must stay inside whisper's window
# and not pass NOW (checked by verify).
write_conf "FLUX_MAX_AGE = 345600"
NOW=$(( $(date +%s) / 60 * 60 ))
T0=$(( NOW - 3 * 86400 + 1800 ))
export FLUX_BENCH_KEY=$KEY FLUX_BENCH_T0=$T0 FLUX_BENCH_BATCH=$BATCH
export FLUX_BENCH_METRICS=$GET_METRICS

# wrk_run THREADS_AND_CONNS SCRIPT PREFIX URL: sets ok/non2xx/errors/rate.
wrk_run() {
	local c=$1 script=$2 prefix=$3 url=$4 out
	out=$(FLUX_BENCH_PREFIX=$prefix wrk -t"$c" -c"$c" -d"${DUR}s" --timeout 30s \
		-s "$script" "$url") ||
		{ failed "wrk $url"; echo "$out" >&2; }
	eval "$(sed -n 's/^BENCH //p' <<<"$out")"
	rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	: "${ok:=0}" "${non2xx:=0}" "${errors:=0}" "${rate:=0}"
	if [ "$non2xx" != 0 ] || [ "$errors" != 0 ]; then
		failed "$url: $non2xx non-2xx answers, $errors socket errors"
		echo "$out" >&2
	fi
}

# verify PREFIX SENT SLACK: every point answered 2xx (SENT) is in whisper,
# and at most SLACK more (requests still in flight when wrk stopped).
verify() {
	local dir="$WHISPER_DIR/${1//.//}" sent=$2 slack=$3 found
	found=$("$PY" bench/wspcount.py "$dir" $((T0 - 60)) "$NOW" "$sent" 60)
	if [ "$found" -lt "$sent" ] || [ "$found" -gt $((sent + slack)) ]; then
		failed "$1: $sent points answered 2xx, $found in whisper"
		# Points past NOW are not in the counted window (nor, past the
		# real now, in whisper): a run too long for the window.
		"$PY" bench/wspcount.py "$dir" "$NOW" $((NOW + 86400)) | grep -qx 0 ||
			note "$1: points past $NOW: fewer SECONDS, or more metrics per phase"
	fi
	echo "$found"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }

# Each comparison runs ROUNDS times, alternating with its baseline where
# both can run on the same Apache, so that load from elsewhere on the
# machine falls on both sides; rates are averaged over the rounds.
mean() { awk -v d="${1:-2}" '{ s += $1; n++ } END { printf "%.*f", d, n ? s / n : 0 }'; }

# ---------------------------------------------------------- plain CGI ----
note "GET, plain CGI (mod_cgid), $ROUNDS x ${DUR}s each, $CONNS connections"
start_apache "$CGIDIR" "$FLUX_CONF" || die "apache (cgid) did not start"
# The baseline: a compiled trivial CGI in place of the stack's shell one.
cc -O2 -o "$B/apache/trivial/trivial" bench/trivial.c || die "cc trivial.c"
chmod 755 "$B/apache/trivial/trivial"
BASE="http://127.0.0.1:$APACHE_PORT"
trivial_rates="" cgi_rates="" cgi_ok=0 cgi_found=0
for r in $(seq "$ROUNDS"); do
	t=$(wrk -t"$CONNS" -c"$CONNS" -d"${DUR}s" "$BASE/trivial/trivial") || failed "wrk trivial"
	grep -q Non-2xx <<<"$t" && failed "trivial CGI: non-2xx answers"
	trivial_rates+="$(awk '/Requests\/sec/ {print $2}' <<<"$t") "
	wrk_run "$CONNS" bench/get.lua "bench.getcgi$r" "$BASE/flux/metric_data"
	cgi_rates+="$rate "
	cgi_ok=$((cgi_ok + ok))
	cgi_found=$((cgi_found + $(verify "bench.getcgi$r" "$ok" "$CONNS")))
done
trivial_rate=$(tr ' ' '\n' <<<"$trivial_rates" | grep . | mean)
cgi_rate=$(tr ' ' '\n' <<<"$cgi_rates" | grep . | mean)
stop_apache

# ------------------------------------------------------------ FastCGI ----
note "GET and POST, FastCGI (mod_fcgid, $PROCS processes per program)"
cat > "$B/apache/conf.d/fcgid-bench.conf" <<CONF
<IfModule fcgid_module>
  FcgidMaxProcessesPerClass $PROCS
  FcgidMaxProcesses $((4 * PROCS))
  FcgidIdleTimeout 600
  FcgidMaxRequestsPerProcess 0
</IfModule>
CONF
start_apache "$CGIDIR" "$FLUX_CONF" fcgid || die "apache (fcgid) did not start"
# Warm-up: mod_fcgid starts the resident processes on demand.
(FLUX_BENCH_PREFIX=bench.warm wrk -t"$PROCS" -c"$PROCS" -d2s -s bench/get.lua \
	"$BASE/flux/metric_data" >/dev/null)
fcgi_rates="" fcgi_ok=0 fcgi_found=0
for r in $(seq "$ROUNDS"); do
	wrk_run "$PROCS" bench/get.lua "bench.getfcgi$r" "$BASE/flux/metric_data"
	fcgi_rates+="$rate "
	fcgi_ok=$((fcgi_ok + ok))
	fcgi_found=$((fcgi_found + $(verify "bench.getfcgi$r" "$ok" "$PROCS")))
done
fcgi_rate=$(tr ' ' '\n' <<<"$fcgi_rates" | grep . | mean)

# POST rounds alternate with carbon's own ceiling (Apache idle meanwhile).
(FLUX_BENCH_PREFIX=bench.warmpost FLUX_BENCH_BATCH=10 wrk -t"$PROCS" -c"$PROCS" \
	-d2s -s bench/post.lua "$BASE/flux/metric_data_post" >/dev/null)
note "POST $BATCH points/request vs carbon-cache's ceiling (pickle frames of $BATCH, one connection)"
post_rates="" base_rates="" post_sent=0 post_found=0 base_sent=0 base_found=0
for r in $(seq "$ROUNDS"); do
	b=$("$PY" bench/pickle_send.py "$CARBON_PICKLE_PORT" "$DUR" "bench.base$r" \
		"$T0" "$PROCS" "$BATCH") || failed "pickle_send.py"
	points=0 seconds=1
	eval "$(sed -n 's/^BENCH //p' <<<"$b")"
	base_rates+="$(awk -v n="$points" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') "
	base_sent=$((base_sent + points))
	base_found=$((base_found + $(verify "bench.base$r" "$points" 0)))
	wrk_run "$PROCS" bench/post.lua "bench.post$r" "$BASE/flux/metric_data_post"
	post_rates+="$(awk -v r="$rate" -v b="$BATCH" 'BEGIN { printf "%.0f", r * b }') "
	post_sent=$((post_sent + ok * BATCH))
	post_found=$((post_found + $(verify "bench.post$r" $((ok * BATCH)) $((PROCS * BATCH)))))
done
post_pps=$(tr ' ' '\n' <<<"$post_rates" | grep . | mean 0)
base_pps=$(tr ' ' '\n' <<<"$base_rates" | grep . | mean 0)

# Peak RSS of the resident processes (VmHWM), after all that load.
resident_rss() {
	local prog=$1 f pid max=0 v c
	for f in /proc/[0-9]*/cmdline; do
		c=$( { tr '\0' ' ' <"$f"; } 2>/dev/null) || continue
		[ "$c" = "$prog " ] || continue
		pid=${f#/proc/}; pid=${pid%/cmdline}
		v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
	done
	echo "$max"
}
rss_fcgi_get=$(resident_rss "$CGIDIR/metric_data")
rss_fcgi_post=$(resident_rss "$CGIDIR/metric_data_post")
stop_apache

# ------------------------------------------------------------ callgrind ----
note "callgrind and peak RSS of one plain-CGI GET"
one_get() {  # one_get METRIC CMD...: run metric_data as Apache would
	local m=$1; shift
	env -i FLUX_CONF="$FLUX_CONF" REQUEST_METHOD=GET GATEWAY_INTERFACE=CGI/1.1 \
		QUERY_STRING="metric=$m&value=1&timestamp=$NOW&key=$KEY" \
		"$@" </dev/null
}
one_get bench.cg.whole valgrind -q --tool=callgrind --callgrind-out-file="$B/cg.whole" \
	cgi-bin/metric_data >"$B/cg.whole.answer" 2>/dev/null
one_get bench.cg.handler valgrind -q --tool=callgrind --toggle-collect=handle \
	--callgrind-out-file="$B/cg.handler" cgi-bin/metric_data >"$B/cg.handler.answer" 2>/dev/null
for f in whole handler; do
	grep -q '^Status: 204' "$B/cg.$f.answer" || failed "callgrind run ($f) did not answer 204"
done
ir_whole=$(awk '/^summary:/ {print $2}' "$B/cg.whole")
ir_handler=$(awk '/^summary:/ {print $2}' "$B/cg.handler")
rss_cgi=$(one_get bench.cg.rss /usr/bin/time -f '%M' "$CGIDIR/metric_data" 2>&1 >/dev/null | tail -1)
verify bench.cg 3 0 >/dev/null

# ---------------------------------------------------------------- table ----
fmt_ok() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
	ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "ok" : "MISSED" }'; }
r1=$(ratio "$cgi_rate" "$trivial_rate")
r2=$(ratio "$fcgi_rate" "$cgi_rate")
r3=$(ratio "$post_pps" "$base_pps")
rss_max=$rss_cgi
for v in "$rss_fcgi_get" "$rss_fcgi_post"; do [ "$v" -gt "$rss_max" ] && rss_max=$v; done
echo
echo "Flux bench ($(date -u +%FT%TZ), $(nproc) cores, $ROUNDS rounds of ${DUR}s per measurement)"
printf '%-52s %12s %10s %7s\n' figure value target result
printf '%-52s %12s %10s %7s\n' "1 GET plain CGI: flux / trivial CGI (req/s)" "$r1" ">= 0.85" "$(fmt_ok "$r1" 0.85 ">=")"
printf '%-52s %12s\n' "    trivial CGI req/s" "$trivial_rate"
printf '%-52s %12s\n' "    metric_data plain CGI req/s ($CONNS conns)" "$cgi_rate"
printf '%-40s %37s\n' "    rounds: trivial / flux req/s" "$trivial_rates/ $cgi_rates"
printf '%-52s %12s %10s %7s\n' "2 GET FastCGI / GET plain CGI (req/s)" "$r2" ">= 10" "$(fmt_ok "$r2" 10 ">=")"
printf '%-52s %12s\n' "    metric_data FastCGI req/s ($PROCS procs, $PROCS conns)" "$fcgi_rate"
printf '%-52s %12s %10s %7s\n' "3 POST $BATCH/req FastCGI / carbon ceiling (points/s)" "$r3" ">= 0.7" "$(fmt_ok "$r3" 0.7 ">=")"
printf '%-52s %12s\n' "    metric_data_post FastCGI points/s" "$post_pps"
printf '%-52s %12s\n' "    pickle sender -> carbon-cache points/s" "$base_pps"
printf '%-40s %37s\n' "    rounds: POST / ceiling points/s" "$post_rates/ $base_rates"
printf '%-52s %12s %10s %7s\n' "4 instructions, one plain-CGI GET, whole process" "$ir_whole" "< 1000000" "$(fmt_ok "$ir_whole" 1000000 "<")"
printf '%-52s %12s %10s %7s\n' "    of which handle()" "$ir_handler" "< 200000" "$(fmt_ok "$ir_handler" 200000 "<")"
printf '%-52s %12s %10s %7s\n' "  peak RSS KiB (max of the three below)" "$rss_max" "< 4096" "$(fmt_ok "$rss_max" 4096 "<")"
printf '%-52s %12s\n' "    plain-CGI GET" "$rss_cgi"
printf '%-52s %12s\n' "    resident metric_data (after the GET load)" "$rss_fcgi_get"
printf '%-52s %12s\n' "    resident metric_data_post (after the POST load)" "$rss_fcgi_post"
printf '%-52s %12s\n' "points answered 2xx / found in whisper:" ""
printf '%-52s %12s\n' "    GET plain CGI" "$cgi_ok / $cgi_found"
printf '%-52s %12s\n' "    GET FastCGI" "$fcgi_ok / $fcgi_found"
printf '%-52s %12s\n' "    POST FastCGI" "$post_sent / $post_found"
printf '%-52s %12s\n' "    pickle baseline (sent / found)" "$base_sent / $base_found"
if [ "$FAILED" != 0 ]; then
	echo "RUN FAILED: see the messages above (lost points or errors)"
	exit 1
fi
echo "run valid: every point answered 2xx is in whisper"
