# tests/lib/flux.bash - helpers for the Flux bats suites: a test config, and
# calling a CGI exactly as a web server would (RFC 3875: meta-variables in
# the environment, the body on stdin), splitting its answer.

FLUX_TOP=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export FLUX_TOP
source "$FLUX_TOP/tests/lib/stack.bash"

# The suites under tests/fcgi/ are the same files (symlinks), run against
# resident FastCGI responders instead of one process per request; those
# under tests/pool/ against the kernel-queued pool of INSTALL (several
# responders on one socket, start_pool; Apache through mod_proxy_fcgi).
FLUX_MODE=cgi
case ${BATS_TEST_DIRNAME:-} in
*/tests/fcgi) FLUX_MODE=fcgi ;;
*/tests/pool) FLUX_MODE=pool ;;
esac
export FLUX_MODE

# cgi_only: skip a test about the plain-CGI transport (e.g. a body with no
# CONTENT_LENGTH: a FastCGI server always frames the body itself).
cgi_only() {
	[ "$FLUX_MODE" = cgi ] || skip "plain-CGI transport only"
}

# Test keys: the self key has no prefix, the other the prefix "team.a".
KEY=abcdefghij0123456789ABCDEFGHIJ01
PKEY=zzzzzzzzzz0123456789ABCDEFGHIJ01
export KEY PKEY

# suite_start NAME [SERVICE...]: a suite's private stack in a new
# /tmp/flux-NAME.* directory, with each SERVICE started (redis, carbon,
# graphite_web, prometheus, fake_remote: start_<SERVICE> of stack.bash).
# suite_stop: stop it all and remove the directory. For setup_file and
# teardown_file, so every suite starts and ends its servers the same way.
suite_start() {
	local name=$1 svc
	shift
	stack_init "$(mktemp -d "/tmp/flux-$name.XXXXXX")"
	for svc in "$@"; do
		"start_$svc"
	done
}

suite_stop() {
	stack_stop
	rm -rf "$STACK_DIR"
}

# write_conf [EXTRA LINES...]: the suite's flux.conf, pointing at its
# servers; an extra "NAME = value" line replaces the base line of NAME.
write_conf() {
	mkdir -p "$STACK_DIR/spool"
	chmod 777 "$STACK_DIR/spool"
	local -a base=(
		"FLUX_SELF_API_KEY = $KEY"
		"FLUX_API_KEYS = $PKEY:team.a"
		"REDIS_SOCKET_PATH = ${REDIS_SOCK:-$STACK_DIR/redis.sock}"
		"FLUX_CARBON_PORT = ${CARBON_PORT:-1}"
		"FLUX_CARBON_PICKLE_PORT = ${CARBON_PICKLE_PORT:-1}"
		"FLUX_SPOOL_PATH = $STACK_DIR/spool"
		"FLUX_CARBON_TIMEOUT_MS = 2000"
		# flux-batch's own metrics would join what a test's carbon gets:
		# tests/selfmetrics.bats turns them on.
		"FLUX_SELF_METRICS = false"
		"FLUX_BATCH_LOG = none"
	)
	local line extra
	{
		for line in "${base[@]}"; do
			for extra in "$@"; do
				[ "${extra%% *}" = "${line%% *}" ] && continue 2
			done
			echo "$line"
		done
		for extra in "$@"; do echo "$extra"; done
	} > "$STACK_DIR/flux.conf"
	chmod 644 "$STACK_DIR/flux.conf"
	export FLUX_CONF="$STACK_DIR/flux.conf"
}

# cgi PROGRAM METHOD QUERY [BODYFILE] [VAR=VALUE...]: run a CGI and set
# cgi_status, cgi_headers and cgi_body. CONTENT_LENGTH is set from the body
# file unless a VAR list sets NO_CL=1. A CGI always exits 0: any other exit
# (a crash, a sanitizer report, a valgrind error under FLUX_VALGRIND=1)
# fails the calling test.
cgi() {
	local prog=$1 method=$2 query=$3 body=${4:-/dev/null}
	shift 3; [ $# -gt 0 ] && shift
	local -a envs=("PATH=$PATH" "FLUX_CONF=$FLUX_CONF" "REQUEST_METHOD=$method"
		"QUERY_STRING=$query" "GATEWAY_INTERFACE=CGI/1.1")
	local -a wrap=()
	[ -n "${FLUX_NOW:-}" ] && envs+=("FLUX_NOW=$FLUX_NOW")
	[ -n "${ASAN_OPTIONS:-}" ] && envs+=("ASAN_OPTIONS=$ASAN_OPTIONS")
	[ -n "${UBSAN_OPTIONS:-}" ] && envs+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")
	[ "${FLUX_VALGRIND:-0}" = 1 ] && wrap=(valgrind -q --error-exitcode=99
		--leak-check=full --errors-for-leak-kinds=definite,indirect)
	local v nocl=0 rc
	for v in "$@"; do
		[ "$v" = NO_CL=1 ] && { nocl=1; continue; }
		envs+=("$v")
	done
	[ "$body" != /dev/null ] && [ $nocl = 0 ] && envs+=("CONTENT_LENGTH=$(stat -c %s "$body")")
	local out errf="$STACK_DIR/$FLUX_MODE/$prog.err" before=0
	if [ "$FLUX_MODE" != cgi ]; then
		"start_$FLUX_MODE" "$FLUX_TOP/cgi-bin/$prog" >&2
		[ -f "$errf" ] && before=$(stat -c %s "$errf")
		out=$(env -i "${envs[@]}" cgi-fcgi -bind -connect "$STACK_DIR/$FLUX_MODE/$prog.sock" \
			< "$body" 2>/dev/null; echo "x$?")
		# This request's log lines, from the responder's stderr.
		tail -c +$((before + 1)) "$errf" > "$STACK_DIR/cgi.err"
	else
		out=$(env -i "${envs[@]}" "${wrap[@]}" "$FLUX_TOP/cgi-bin/$prog" < "$body" 2>"$STACK_DIR/cgi.err"; echo "x$?")
	fi
	rc=${out##*x}
	out=${out%x*}
	cgi_headers=${out%%$'\r\n\r\n'*}
	cgi_body=${out#*$'\r\n\r\n'}
	cgi_status=$(printf '%s' "$cgi_headers" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
	if [ "$rc" != 0 ]; then
		echo "$prog exited $rc" >&2
		cat "$STACK_DIR/cgi.err" >&2
		return 1
	fi
}

# get QUERY [VAR=VALUE...] and post JSON [VAR=VALUE...]: the two endpoints.
get() { local q=$1; shift; cgi metric_data GET "$q" /dev/null "$@"; }
post() {
	local f="$STACK_DIR/body.$$"
	printf '%s' "$1" > "$f"; shift
	cgi metric_data_post POST "" "$f" "$@"
}

# expect STATUS [BODY]: the last answer had this status (and exactly this body).
expect() {
	if [ "$cgi_status" != "$1" ] || { [ $# -gt 1 ] && [ "$cgi_body" != "$2" ]; }; then
		echo "expected: $1 ${2:-}" >&2
		echo "got:      $cgi_status $cgi_body" >&2
		cat "$STACK_DIR/cgi.err" >&2
		return 1
	fi
}

# err_body CODE MESSAGE: the JSON error body Flux answers.
err_body() { printf '{"code": %s, "message": "%s"}' "$1" "$2"; }

# last METRIC: the flux.last record of a metric ("" when none).
last() { redis-cli -s "$REDIS_SOCK" get "flux.last.$1"; }
# entry METRIC: its entry in the hash flux.last.metric_data, which Skyline's
# readers look up first ("" when none).
entry() { redis-cli -s "$REDIS_SOCK" hget flux.last.metric_data "$1"; }

# minute_ts [AGO]: a minute-aligned timestamp AGO minutes back (default 1).
minute_ts() { echo $(( $(date +%s) / 60 * 60 - 60 * ${1:-1} )); }

# spool_count: files waiting in the spool.
spool_count() { find "$STACK_DIR/spool" -name '*.spool' | wc -l; }

# load_scripts: Redis caches the scripts a request calls by SHA1, as after
# an earlier request, so that commandstats count the request alone.
load_scripts() {
	local n
	for n in dedup confirm; do
		"$FLUX_TOP/tests/unit/lua_text" "$n" |
			redis-cli -s "$REDIS_SOCK" -x script load >/dev/null
	done
}

# await_output WANT CMD...: poll CMD (for up to 30 s) until it prints WANT;
# what a request does after its answer (the end of its claim, its
# self-metrics) may come after the client has the answer, so a test waits.
await_output() {
	local want=$1 i
	shift
	for i in $(seq 300); do
		[ "$("$@")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "still not $want: $("$@")" >&2
	return 1
}

# ------------------------------------------------------ populate_metric --

# populate_post JSON [VAR=VALUE...]: POST a payload to populate_metric.
populate_post() {
	local f="$STACK_DIR/body.$$"
	printf '%s' "$1" > "$f"; shift
	cgi populate_metric POST "" "$f" "$@"
}

# queued: the jobs in the populate queue, one per line, oldest first.
queued() {
	redis-cli -s "$REDIS_SOCK" lrange flux.populate_metric.queue 0 -1 | tac
}

# running: the populate jobs leased to a run ("<node> <token> <job>" in
# the sorted set flux.populate_metric.running), without node and token.
running() {
	redis-cli -s "$REDIS_SOCK" zrange flux.populate_metric.running 0 -1 |
	    sed 's/^[0-9a-f]* [0-9a-f]* //'
}

# flux_batch ARGS...: run flux-batch with the suite's config; sets
# batch_status and batch_log (its stderr).
flux_batch() {
	batch_status=0
	"$FLUX_TOP/batch/flux-batch" "$@" 2>"$STACK_DIR/batch.log" || batch_status=$?
	batch_log=$(cat "$STACK_DIR/batch.log")
}

# carbon_pickle FILE: send the "name ts value" lines of FILE to the stack's
# carbon-cache as pickle frames (how a real Graphite gets its data).
carbon_pickle() {
	/usr/bin/python3 - "$CARBON_PICKLE_PORT" "$1" <<'PY'
import pickle, socket, struct, sys
port, path = int(sys.argv[1]), sys.argv[2]
pts = []
for line in open(path):
    name, ts, value = line.split()
    pts.append((name, (int(ts), float(value))))
s = socket.create_connection(("127.0.0.1", port))
for i in range(0, len(pts), 5000):
    p = pickle.dumps(pts[i:i + 5000], protocol=2)
    s.sendall(struct.pack("!L", len(p)) + p)
s.close()
PY
}

# wait_count METRIC FROM UNTIL N [TIMEOUT_S]: poll until whisper holds N
# points of METRIC in (FROM, UNTIL]; prints the last count seen.
wait_count() {
	local deadline=$(( $(date +%s) + ${5:-15} )) n
	while :; do
		n=$(whisper_count "$1" "$2" "$3")
		if [ "$n" = "$4" ] || [ "$(date +%s)" -ge "$deadline" ]; then
			echo "$n"
			[ "$n" = "$4" ]
			return
		fi
		sleep 0.2
	done
}

# load_body PREFIX CLIENT STEP METRICS T0: the metric_data_post body of one
# client's request at one step of the load scripts (bench/faults.sh,
# tests/cluster/run.sh): METRICS points PREFIX.m<i> at T0 + 60 * STEP, all
# valued CLIENT * 1000 + STEP, so that clients racing on one step carry
# values that say which request was delivered.
load_body() {
	local m sep="" ts=$(($5 + 60 * $3)) v=$(( $2 * 1000 + $3 ))
	printf '{"key": "%s", "metrics": [' "$KEY"
	for ((m = 0; m < $4; m++)); do
		printf '%s{"metric": "%s.m%d", "timestamp": %d, "value": %d}' \
		    "$sep" "$1" "$m" "$ts" "$v"
		sep=", "
	done
	printf ']}'
}

# load_start CLIENTS CMD...: "CMD... N" in the background for each client
# N from 1 to CLIENTS (the clients of the load scripts), their pids in
# LOAD_PIDS; load_wait waits until every one has ended.
load_start() {
	local n=$1 c
	shift
	LOAD_PIDS=()
	for ((c = 1; c <= n; c++)); do
		"$@" "$c" &
		LOAD_PIDS+=($!)
	done
}

load_wait() {
	local p
	for p in "${LOAD_PIDS[@]}"; do wait "$p"; done
}
