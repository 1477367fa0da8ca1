# shellcheck shell=bash
# tests/lib/stack/redis.bash - redis-server on a Unix socket (stack.bash).

_stack_redis_pong() { [ "$(redis-cli -s "$REDIS_SOCK" ping 2>/dev/null)" = PONG ]; }

# start_redis: redis on a unix socket only (--port 0); exports REDIS_SOCK.
start_redis() {
	_stack_need_init || return 1
	local d="$STACK_DIR/redis"
	export REDIS_SOCK="$STACK_DIR/redis.sock"
	if _stack_running_pid redis "$REDIS_SOCK" >/dev/null; then return 0; fi
	mkdir -p "$d"
	rm -f "$REDIS_SOCK"
	# 777: CGIs run as www-data when Apache is started as root.
	_stack_spawn redis "$d/redis.log" redis-server --port 0 \
		--unixsocket "$REDIS_SOCK" --unixsocketperm 777 --save '' \
		--appendonly no --dir "$d" --daemonize no
	_stack_await 10 "redis did not answer PING on $REDIS_SOCK" stop_redis \
		_stack_redis_pong
}

stop_redis() {
	[ -n "${STACK_DIR:-}" ] || return 0
	# redis retitles itself "redis-server unixsocket:<path>": match the path.
	_stack_stop_service redis "$STACK_DIR/redis.sock"
	rm -f "$STACK_DIR/redis.sock"
}

