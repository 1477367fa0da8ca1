# shellcheck shell=bash
# tests/lib/cluster.bash - the parts of a Flux deployment past one machine,
# on loopback, for the sentinel, relay and cluster suites (and benches):
# Redis master and replicas on TCP ports, redis-sentinel, carbon-c-relay,
# and more than one of a stack.bash service (a second carbon-cache, a
# second Flux node behind its own Apache).
#
# Source tests/lib/stack.bash first, stack_init DIR, then e.g.:
#   start_redis_node m; start_redis_node r m; start_sentinels 3 m
#   cluster_sub cache-b start_carbon; start_relay cache-a cache-b
#   cluster_stop
#
# The same rules as stack.bash: every pid and port lives in a file under
# $STACK_DIR, and only processes whose pid we recorded (and whose command
# line still names their port or config) are ever signalled.
#
# A second instance of a stack.bash service runs in a sub-stack: a
# directory $STACK_DIR/NAME that is a stack of its own (stack.bash keeps
# its files in fixed places under a stack), sharing the parent's list of
# ports handed out. cluster_sub NAME CMD... runs CMD there, in a subshell,
# and cluster_port NAME PORTNAME reads a port it chose.

# The name every sentinel here watches (Debian's sentinel.conf uses it too).
CLUSTER_MASTER_NAME=${CLUSTER_MASTER_NAME:-mymaster}
# Sentinel timings for tests: a master silent for a second is down, so a
# fail-over takes two or three seconds instead of Debian's 30 s and more.
CLUSTER_DOWN_AFTER_MS=${CLUSTER_DOWN_AFTER_MS:-1000}
CLUSTER_FAILOVER_TIMEOUT_MS=${CLUSTER_FAILOVER_TIMEOUT_MS:-10000}

# ------------------------------------------------------------- sub-stacks --

# cluster_sub NAME CMD...: run CMD (a stack.bash function, usually) in the
# sub-stack NAME, made on first use. Returns CMD's status.
cluster_sub() {
	_stack_need_init || return 1
	local name=$1 parent=$STACK_DIR
	shift
	(
		if [ ! -d "$parent/$name/pids" ]; then
			stack_init "$parent/$name" || exit 1
			ln -sf "$parent/ports.used" "$parent/$name/ports.used"
		fi
		STACK_DIR="$parent/$name"
		export STACK_DIR
		"$@"
	)
}

# cluster_port NAME PORTNAME: the port PORTNAME the sub-stack NAME chose
# (NAME "." for this stack), e.g. cluster_port node-b apache.
cluster_port() {
	local d=$STACK_DIR
	[ "$1" = . ] || d="$STACK_DIR/$1"
	cat "$d/ports/$2" 2>/dev/null
}

# ------------------------------------------------------------ redis nodes --

# _cluster_cli PORT PASSWORD ARGS...: redis-cli to 127.0.0.1:PORT, with
# PASSWORD when it is not empty.
_cluster_cli() {
	local port=$1 pw=$2
	shift 2
	redis-cli -h 127.0.0.1 -p "$port" ${pw:+--no-auth-warning -a "$pw"} "$@"
}

_cluster_redis_pong() {
	[ "$(_cluster_cli "$1" "${CLUSTER_REDIS_PASSWORD:-}" ping 2>/dev/null)" = PONG ]
}

# cluster_redis NAME ARGS...: redis-cli to the node NAME (with the password).
cluster_redis() {
	local port
	port=$(cluster_port . "redis-$1") || return 1
	shift
	_cluster_cli "$port" "${CLUSTER_REDIS_PASSWORD:-}" "$@"
}

# start_redis_node NAME [MASTER]: redis-server on a TCP port of loopback,
# a replica of the node MASTER when given, no persistence. With
# CLUSTER_REDIS_PASSWORD set it asks for it, and uses it with its master.
# A node restarted after a kill comes back with no data (as a replica it
# copies its master's again).
start_redis_node() {
	_stack_need_init || return 1
	local name=$1 master=${2:-} d="$STACK_DIR/redis-$1" port mport pid rc=0
	local -a args
	port=$(_stack_named_port "redis-$name") || return 1
	if _stack_running_pid "redis-$name" "127.0.0.1:$port" >/dev/null; then return 0; fi
	mkdir -p "$d"
	# No delay before a replica's first copy (Redis 7 waits 5 s for more
	# replicas by default): a fail-over before it would promote an empty one.
	args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$d"
		--daemonize no --protected-mode no --repl-diskless-sync-delay 0)
	if [ -n "${CLUSTER_REDIS_PASSWORD:-}" ]; then
		args+=(--requirepass "$CLUSTER_REDIS_PASSWORD" --masterauth "$CLUSTER_REDIS_PASSWORD")
	fi
	if [ -n "$master" ]; then
		mport=$(cluster_port . "redis-$master") || { _stack_err "no redis node '$master'"; return 1; }
		args+=(--replicaof 127.0.0.1 "$mport")
	fi
	redis-server "${args[@]}" </dev/null >>"$d/redis.log" 2>&1 3>&- &
	pid=$!
	# Not a job of this shell: a node killed on purpose is no news to report.
	disown "$pid" 2>/dev/null || true
	_stack_save_pid "redis-$name" "$pid"
	_stack_wait_for "$pid" 10 _cluster_redis_pong "$port" || rc=$?
	if [ "$rc" -ne 0 ]; then
		_stack_err "redis node $name did not answer PING on port $port (rc=$rc)"
		_stack_show_log "$d/redis.log"
		stop_redis_node "$name"
		return 1
	fi
	if [ -n "$master" ] && ! cluster_wait_synced "$name"; then
		_stack_err "redis node $name did not finish its first copy of $master"
		_stack_show_log "$d/redis.log"
		return 1
	fi
}

_cluster_synced() {
	cluster_redis "$1" info replication 2>/dev/null | tr -d '\r' | grep -qx 'master_link_status:up'
}

# cluster_wait_synced NAME [TIMEOUT_S]: until the replica NAME has copied
# its master and follows it (a master killed before that would leave an
# empty replica to promote).
cluster_wait_synced() {
	_stack_wait_for "" "${2:-30}" _cluster_synced "$1"
}

# stop_redis_node NAME [SIGNAL]: TERM (and wait), or e.g. KILL: a crash.
stop_redis_node() {
	[ -n "${STACK_DIR:-}" ] || return 0
	local name=$1 sig=${2:-TERM} port pid
	port=$(cluster_port . "redis-$name") || return 0
	if [ "$sig" = TERM ]; then
		_stack_stop_service "redis-$name" "127.0.0.1:$port"
		return 0
	fi
	if pid=$(_stack_running_pid "redis-$name" "127.0.0.1:$port"); then
		kill "-$sig" "$pid" 2>/dev/null || true
		_stack_wait_for "" 10 eval "! _stack_alive $pid" || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$STACK_DIR/pids/redis-$name"
}

# cluster_redis_role NAME: "master" or "slave", as the node says.
cluster_redis_role() { cluster_redis "$1" role 2>/dev/null | head -n 1; }

# --------------------------------------------------------------- sentinel --

_cluster_sentinel_knows() {
	[ -n "$(_cluster_cli "$1" "${CLUSTER_SENTINEL_PASSWORD:-}" \
		sentinel get-master-addr-by-name "$CLUSTER_MASTER_NAME" 2>/dev/null)" ]
}

# cluster_sentinel I ARGS...: redis-cli to sentinel I (1, 2, ...).
cluster_sentinel() {
	local port
	port=$(cluster_port . "sentinel-$1") || return 1
	shift
	_cluster_cli "$port" "${CLUSTER_SENTINEL_PASSWORD:-}" "$@"
}

# start_sentinels N MASTER: N redis-sentinel processes watching the node
# MASTER as $CLUSTER_MASTER_NAME, quorum N/2+1, down after
# $CLUSTER_DOWN_AFTER_MS. Exports REDIS_SENTINELS ("127.0.0.1:P, ...", as
# flux.conf takes it). A sentinel rewrites its own config file, so each
# gets one of its own; CLUSTER_SENTINEL_PASSWORD sets their requirepass.
start_sentinels() {
	_stack_need_init || return 1
	local n=$1 master=$2 mport i port d pid rc list=""
	mport=$(cluster_port . "redis-$master") || { _stack_err "no redis node '$master'"; return 1; }
	for ((i = 1; i <= n; i++)); do
		d="$STACK_DIR/sentinel-$i"
		port=$(_stack_named_port "sentinel-$i") || return 1
		list="$list${list:+, }127.0.0.1:$port"
		if _stack_running_pid "sentinel-$i" "127.0.0.1:$port" >/dev/null; then continue; fi
		mkdir -p "$d"
		{
			echo "port $port"
			echo "bind 127.0.0.1"
			echo "daemonize no"
			echo "dir $d"
			echo "sentinel monitor $CLUSTER_MASTER_NAME 127.0.0.1 $mport $(( n / 2 + 1 ))"
			echo "sentinel down-after-milliseconds $CLUSTER_MASTER_NAME $CLUSTER_DOWN_AFTER_MS"
			echo "sentinel failover-timeout $CLUSTER_MASTER_NAME $CLUSTER_FAILOVER_TIMEOUT_MS"
			echo "sentinel parallel-syncs $CLUSTER_MASTER_NAME 1"
			if [ -n "${CLUSTER_REDIS_PASSWORD:-}" ]; then
				echo "sentinel auth-pass $CLUSTER_MASTER_NAME $CLUSTER_REDIS_PASSWORD"
			fi
			if [ -n "${CLUSTER_SENTINEL_PASSWORD:-}" ]; then
				echo "requirepass $CLUSTER_SENTINEL_PASSWORD"
			fi
		} > "$d/sentinel.conf"
		redis-sentinel "$d/sentinel.conf" </dev/null >>"$d/sentinel.log" 2>&1 3>&- &
		pid=$!
		_stack_save_pid "sentinel-$i" "$pid"
		rc=0
		_stack_wait_for "$pid" 10 _cluster_sentinel_knows "$port" || rc=$?
		if [ "$rc" -ne 0 ]; then
			_stack_err "sentinel $i does not answer on port $port (rc=$rc)"
			_stack_show_log "$d/sentinel.log"
			return 1
		fi
	done
	export REDIS_SENTINELS=$list
}

stop_sentinels() {
	[ -n "${STACK_DIR:-}" ] || return 0
	local f name port
	for f in "$STACK_DIR"/pids/sentinel-*; do
		[ -e "$f" ] || continue
		name=${f##*/}
		port=$(cluster_port . "$name") || continue
		_stack_stop_service "$name" "127.0.0.1:$port" 5
	done
}

# cluster_master_port: the port of the master sentinel 1 names now.
cluster_master_port() {
	cluster_sentinel 1 sentinel get-master-addr-by-name "$CLUSTER_MASTER_NAME" 2>/dev/null |
		sed -n 2p
}

# cluster_master_node: the name of the node that is master now.
cluster_master_node() {
	local port f
	port=$(cluster_master_port) || return 1
	for f in "$STACK_DIR"/ports/redis-*; do
		[ -e "$f" ] || continue
		if [ "$(cat "$f")" = "$port" ]; then echo "${f##*/redis-}"; return 0; fi
	done
	return 1
}

_cluster_promoted() {
	local port
	port=$(cluster_master_port) && [ -n "$port" ] && [ "$port" != "$1" ] &&
		[ "$(_cluster_cli "$port" "${CLUSTER_REDIS_PASSWORD:-}" role 2>/dev/null |
			head -n 1)" = master ]
}

# cluster_wait_failover OLD_PORT [TIMEOUT_S]: until the sentinels name a
# master other than the one on OLD_PORT and it says it is one.
cluster_wait_failover() {
	_stack_wait_for "" "${2:-30}" _cluster_promoted "$1"
}

# cluster_master: redis-cli to the master of now.
cluster_master() {
	local port
	port=$(cluster_master_port) || return 1
	_cluster_cli "$port" "${CLUSTER_REDIS_PASSWORD:-}" "$@"
}

# ---------------------------------------------------------- carbon-c-relay --

_cluster_relay_ready() { _stack_pid_listens "$1" "$2"; }

# start_relay SUBSTACK...: carbon-c-relay on a loopback port (plaintext,
# the only input it takes), consistent hashing (fnv1a_ch) over the
# carbon-caches of the given sub-stacks ("." for this stack's), each
# known by its sub-stack's name, so the ring does not depend on ports.
# RELAY_TAP_PORT, when set, also gets every metric (a forward cluster,
# e.g. a capture listener counting what the relay sent). Exports
# RELAY_PORT. -c lets through every character Flux allows in a name.
start_relay() {
	_stack_need_init || return 1
	local d="$STACK_DIR/relay" port pid rc=0 sub line inst
	port=$(_stack_named_port relay) || return 1
	export RELAY_PORT=$port
	if _stack_running_pid relay "$d/relay.conf" >/dev/null; then return 0; fi
	mkdir -p "$d"
	{
		echo "# Generated by tests/lib/cluster.bash"
		echo "cluster caches"
		echo "  fnv1a_ch"
		for sub in "$@"; do
			line=$(cluster_port "$sub" carbon-line) || { _stack_err "no carbon in '$sub'"; return 1; }
			inst=$sub
			[ "$sub" = . ] && inst=main
			# fnv1a_ch hashes the instance name alone: a long one spreads better.
			echo "    127.0.0.1:$line=flux-carbon-cache-$inst"
		done
		echo "  ;"
		if [ -n "${RELAY_TAP_PORT:-}" ]; then
			echo "cluster tap forward 127.0.0.1:$RELAY_TAP_PORT;"
			echo "match * send to tap;"
		fi
		echo "match * send to caches stop;"
		echo "listen type linemode 127.0.0.1:$port proto tcp;"
	} > "$d/relay.conf"
	# -s: no statistics of its own in the data; -q: room for a cache that
	# is down for a while (see INSTALL, Scaling out).
	carbon-c-relay -f "$d/relay.conf" -s -q "${RELAY_QUEUE:-1000000}" -c '-_:#+%=' \
		-H flux-test </dev/null >>"$d/relay.log" 2>&1 3>&- &
	pid=$!
	_stack_save_pid relay "$pid"
	_stack_wait_for "$pid" 10 _cluster_relay_ready "$pid" "$port" || rc=$?
	if [ "$rc" -ne 0 ]; then
		_stack_err "carbon-c-relay not listening on $port (rc=$rc)"
		_stack_show_log "$d/relay.log"
		stop_relay
		return 1
	fi
}

# stop_relay: TERM and wait (the relay gives its queues a moment to drain).
stop_relay() {
	[ -n "${STACK_DIR:-}" ] || return 0
	_stack_stop_service relay "$STACK_DIR/relay/relay.conf"
}

# ------------------------------------------------------------------- stop --

# cluster_stop: stop every sub-stack, sentinel, redis node and relay, then
# the stack itself.
cluster_stop() {
	[ -n "${STACK_DIR:-}" ] && [ -d "${STACK_DIR:-}" ] || return 0
	local d f
	for d in "$STACK_DIR"/*/pids; do
		[ -d "$d" ] || continue
		(STACK_DIR=${d%/pids}; stack_stop) || true
	done
	stop_relay || true
	stop_sentinels || true
	for f in "$STACK_DIR"/pids/redis-*; do
		[ -e "$f" ] || continue
		stop_redis_node "${f##*/redis-}" || true
	done
	stack_stop
}
