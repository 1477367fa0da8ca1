# shellcheck shell=bash
# tests/lib/stack/carbon.bash - carbon-cache on private ports, the whisper files
# it writes read back, and capture listeners: fake carbons that record the
# bytes they get or misbehave (stack.bash).

_stack_write_carbon_conf() {
	local c=$1
	cat > "$c/conf/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $c/storage/
LOCAL_DATA_DIR = $c/storage/whisper/
LOG_DIR = $c/log/
PID_DIR = $c/
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $CARBON_PORT
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $CARBON_PICKLE_PORT
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $CARBON_CACHE_QUERY_PORT
WHISPER_AUTOFLUSH = True
WHISPER_FALLOCATE_CREATE = False
ENABLE_TAGS = False
CARBON_METRIC_INTERVAL = 0
LOG_UPDATES = ${STACK_CARBON_LOG_UPDATES:-True}
LOG_CREATES = True
EOF
	printf '[default]\npattern = .*\nretentions = %s\n' "$STACK_WHISPER_RETENTIONS" \
		> "$c/conf/storage-schemas.conf"
	# Carbon's defaults, written out only to silence its "not found" warning.
	printf '[default]\npattern = .*\nxFilesFactor = 0.5\naggregationMethod = average\n' \
		> "$c/conf/storage-aggregation.conf"
}

_stack_carbon_ready() {
	_stack_pid_listens "$1" "$CARBON_PORT" && _stack_pid_listens "$1" "$CARBON_PICKLE_PORT"
}

# start_carbon: carbon-cache in the foreground (background job) on this
# stack's ports; exports CARBON_PORT CARBON_PICKLE_PORT
# CARBON_CACHE_QUERY_PORT WHISPER_DIR.
start_carbon() {
	_stack_need_init || return 1
	local c="$STACK_DIR/carbon"
	export CARBON_PORT CARBON_PICKLE_PORT CARBON_CACHE_QUERY_PORT
	CARBON_PORT=$(_stack_named_port carbon-line) || return 1
	CARBON_PICKLE_PORT=$(_stack_named_port carbon-pickle) || return 1
	CARBON_CACHE_QUERY_PORT=$(_stack_named_port carbon-cache-query) || return 1
	export WHISPER_DIR="$c/storage/whisper"
	if _stack_running_pid carbon "$c/conf/carbon.conf" >/dev/null; then return 0; fi
	mkdir -p "$c/conf" "$WHISPER_DIR" "$c/log"
	_stack_write_carbon_conf "$c"
	# PYTHONWARNINGS: hide twisted/cryptography deprecation noise in the log.
	_stack_spawn carbon "$c/carbon.out" env PYTHONWARNINGS=ignore \
		/usr/bin/carbon-cache --config="$c/conf/carbon.conf" \
		--pidfile="$c/carbon-cache.pid" --nodaemon start
	_STACK_LOGS+=("$c/log/console.log")
	_stack_await 15 "carbon-cache not listening on $CARBON_PORT/$CARBON_PICKLE_PORT" \
		stop_carbon _stack_carbon_ready "$_STACK_PID"
}

# stop_carbon: TERM and wait until the process and its listeners are gone,
# so start_carbon can bind the same ports again.
stop_carbon() {
	[ -n "${STACK_DIR:-}" ] || return 0
	local p
	_stack_stop_service carbon "$STACK_DIR/carbon/conf/carbon.conf"
	for p in carbon-line carbon-pickle; do
		if [ -s "$STACK_DIR/ports/$p" ]; then
			_stack_wait_for "" 5 _stack_port_closed "$(cat "$STACK_DIR/ports/$p")" ||
				_stack_err "port of $p still accepts connections after carbon stopped"
		fi
	done
}

# ------------------------------------------------------------------ whisper --

_stack_wsp() { echo "${WHISPER_DIR:-$STACK_DIR/carbon/storage/whisper}/${1//.//}.wsp"; }

# Print the value whisper-fetch shows at TS for FILE (nothing if None/absent).
_stack_fetch_at() {
	local file=$1 ts=$2
	[ -f "$file" ] || return 1
	whisper-fetch --from=$(( ts - 1 )) --until="$ts" "$file" 2>/dev/null |
		awk -v ts="$ts" '$1 == ts && $2 != "None" { print $2; found = 1 } END { exit !found }'
}

# whisper_fetch_value METRIC TS [TIMEOUT_S]: poll until METRIC has a value in
# the bucket holding TS (TS is floored to the 60 s step, like carbon does;
# for an aligned TS the window is exactly --from=TS-1 --until=TS), print it
# as whisper-fetch does (e.g. 42.500000).  Returns 1, printing nothing, after
# TIMEOUT_S (default 10) seconds.
whisper_fetch_value() {
	local metric=${1:?usage: whisper_fetch_value METRIC TS [TIMEOUT_S]} ts=${2:?TS} timeout=${3:-10}
	local file deadline value
	file=$(_stack_wsp "$metric")
	ts=$(( ts - ts % STACK_WHISPER_STEP ))
	deadline=$(( $(_stack_now_ms) + $(_stack_secs_to_ms "$timeout") ))
	while :; do
		if value=$(_stack_fetch_at "$file" "$ts"); then
			echo "$value"
			return 0
		fi
		if [ "$(_stack_now_ms)" -ge "$deadline" ]; then return 1; fi
		sleep 0.1
	done
}

# whisper_count METRIC FROM UNTIL: number of non-None points with
# FROM < timestamp <= UNTIL (0 if the file does not exist).  No polling.
whisper_count() {
	local metric=${1:?usage: whisper_count METRIC FROM UNTIL} from=${2:?FROM} until=${3:?UNTIL} file
	file=$(_stack_wsp "$metric")
	if [ ! -f "$file" ]; then echo 0; return 0; fi
	whisper-fetch --from="$from" --until="$until" "$file" |
		awk -v f="$from" -v u="$until" '$2 != "None" && $1 > f && $1 <= u { n++ } END { print n + 0 }'
}

# ---------------------------------------------------- capture (a fake carbon) --

_stack_capture_ready() { [ -f "$1.ready" ]; }

# start_capture MODE [N]: fake carbon (tests/tools/capture.py) on a free port;
# MODE accept|reset|stall, N = bytes to read before a reset.
# Exports CAPTURE_PORT and CAPTURE_FILE (the received bytes).
start_capture() {
	_stack_need_init || return 1
	local mode=${1:?usage: start_capture accept|reset|stall [N]} n=${2:-0} port file
	port=$(flux_free_port) || return 1
	file="$STACK_DIR/capture-$port.bin"
	rm -f "$file.ready" "$file.events"
	: > "$file"
	_stack_spawn "capture-$port" "$STACK_DIR/capture-$port.log" "$_STACK_PY" \
		"$_STACK_TOOLS_DIR/capture.py" "$port" "$file" "$mode" "$n"
	_stack_await 10 "capture.py ($mode) did not start on port $port" \
		"stop_capture $port" _stack_capture_ready "$file" || return 1
	export CAPTURE_PORT=$port CAPTURE_FILE=$file
}

# stop_capture [PORT]: stop one capture listener, or all of them.
stop_capture() {
	[ -n "${STACK_DIR:-}" ] || return 0
	local f name
	if [ $# -gt 0 ]; then
		_stack_stop_service "capture-$1" "$STACK_DIR/capture-$1.bin" 5
		return 0
	fi
	for f in "$STACK_DIR"/pids/capture-*; do
		[ -e "$f" ] || continue
		name=${f##*/}
		_stack_stop_service "$name" "$STACK_DIR/$name.bin" 5
	done
}

