#!/usr/bin/env bats
# Proves tests/lib/stack.bash (and stack/*.bash) works: redis, carbon, Apache, capture listener.
# Run: prove -e bats tests/stack.bats

# Sourced at file level (not only in setup_file): bats runs each test in its
# own process, and functions defined in setup_file would not reach it.
# shellcheck source=lib/stack.bash
source "$BATS_TEST_DIRNAME/lib/stack.bash"

setup_file() {
	local dir
	dir=$(mktemp -d /tmp/flux-stack.XXXXXX)
	stack_init "$dir"
	mkdir -p "$STACK_DIR/cgi-empty"
	start_redis
	start_carbon
	start_apache "$STACK_DIR/cgi-empty" "$STACK_DIR/no-such-flux.conf"
	start_capture accept
}

teardown_file() {
	stack_stop
	case ${STACK_DIR:-} in
		/tmp/flux-stack.*) rm -rf "$STACK_DIR" ;;
	esac
}

@test "redis answers PING on its unix socket" {
	run redis-cli -s "$REDIS_SOCK" ping
	[ "$status" -eq 0 ]
	[ "$output" = PONG ]
}

@test "a plaintext line sent to carbon is readable with whisper_fetch_value" {
	local ts
	ts=$(( $(date +%s) / 60 * 60 - 60 ))
	printf 'flux.stack.plain 42.5 %d\n' "$ts" > "/dev/tcp/127.0.0.1/$CARBON_PORT"
	run whisper_fetch_value flux.stack.plain "$ts"
	[ "$status" -eq 0 ]
	[ "$output" = 42.500000 ]
	[ "$(whisper_count flux.stack.plain $(( ts - 60 )) "$ts")" -eq 1 ]
	[ "$(whisper_count flux.stack.plain "$ts" $(( ts + 60 )))" -eq 0 ]
}

@test "whisper_fetch_value times out quietly for a missing metric" {
	run whisper_fetch_value flux.stack.never 1700000040 0.3
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "the trivial CGI answers 204 through Apache" {
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APACHE_PORT/trivial/trivial"
	[ "$output" = 204 ]
	[ "$FLUX_URL" = "http://127.0.0.1:$APACHE_PORT/flux" ]
}

@test "bytes sent to the capture listener land in CAPTURE_FILE" {
	printf 'flux.capture 1 2\n' > "/dev/tcp/127.0.0.1/$CAPTURE_PORT"
	printf 'second\n' > "/dev/tcp/127.0.0.1/$CAPTURE_PORT"
	local want
	want=$(printf 'flux.capture 1 2\nsecond\n' | od -An -tx1)
	for _ in $(seq 50); do
		if [ "$(od -An -tx1 < "$CAPTURE_FILE")" = "$want" ]; then break; fi
		sleep 0.1
	done
	[ "$(od -An -tx1 < "$CAPTURE_FILE")" = "$want" ]
}

@test "carbon restarts on the same ports after stop_carbon" {
	local line=$CARBON_PORT pickle=$CARBON_PICKLE_PORT ts
	stop_carbon
	# (`! cmd` would never fail a bats test, hence the explicit if)
	if (exec 9<>"/dev/tcp/127.0.0.1/$line") 2>/dev/null; then
		echo "carbon port $line still accepts connections"; return 1
	fi
	start_carbon
	[ "$CARBON_PORT" = "$line" ]
	[ "$CARBON_PICKLE_PORT" = "$pickle" ]
	ts=$(( $(date +%s) / 60 * 60 - 120 ))
	printf 'flux.stack.restart 7 %d\n' "$ts" > "/dev/tcp/127.0.0.1/$CARBON_PORT"
	run whisper_fetch_value flux.stack.restart "$ts"
	[ "$output" = 7.000000 ]
}
