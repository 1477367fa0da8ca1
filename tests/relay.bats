#!/usr/bin/env bats
# carbon-c-relay in front of two carbon-caches (issue 14, INSTALL "Scaling
# out"): Debian's carbon-c-relay 3.7 takes only line-mode input, so Flux
# sends plaintext (FLUX_CARBON_PROTOCOL = plaintext) and counts a delivery
# when the relay has closed cleanly after reading the last line, as with
# carbon-cache. The relay hashes the names over the caches (fnv1a_ch).

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"
# shellcheck source=lib/cluster.bash
source "$BATS_TEST_DIRNAME/lib/cluster.bash"

setup_file() {
	suite_start relay redis
	cluster_sub cache-a start_carbon
	cluster_sub cache-b start_carbon
	start_relay cache-a cache-b
	export STACK_DIR REDIS_SOCK RELAY_PORT
}

teardown_file() {
	cluster_stop
	rm -rf "$STACK_DIR"
}

setup() {
	write_conf "FLUX_CARBON_PROTOCOL = plaintext" "FLUX_CARBON_PORT = $RELAY_PORT"
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR"/spool/*.spool "$STACK_DIR/spool/hold"
	TS=$(minute_ts 2)
}

# cache_value CACHE METRIC TS [TIMEOUT_S]: the value the carbon-cache of
# the sub-stack CACHE holds for METRIC at TS (polls, like
# whisper_fetch_value).
cache_value() {
	WHISPER_DIR="$STACK_DIR/$1/carbon/storage/whisper" whisper_fetch_value "$2" "$3" "${4:-10}"
}

# where METRIC: the caches that have a whisper file for METRIC.
where() {
	local c
	for c in cache-a cache-b; do
		if [ -e "$STACK_DIR/$c/carbon/storage/whisper/${1//.//}.wsp" ]; then echo "$c"; fi
	done
}

# post_many PREFIX N TS: one POST of N metrics PREFIX.0 .. PREFIX.<N-1>, value i.
post_many() {
	local i sep="" body="{\"key\": \"$KEY\", \"metrics\": ["
	for ((i = 0; i < $2; i++)); do
		body+="$sep{\"metric\": \"$1.$i\", \"timestamp\": $3, \"value\": $i}"
		sep=", "
	done
	post "$body]}"
	expect 204
}

# all_landed PREFIX N TS: each metric is in exactly one cache, with its
# value. The wait is long: a cache just restarted is reached once the
# relay's next reconnection attempt comes, later on a busy machine.
all_landed() {
	local i c
	for ((i = 0; i < $2; i++)); do
		_stack_wait_for "" 60 eval "[ -n \"\$(where $1.$i)\" ]" ||
			{ echo "$1.$i is in no cache" >&2; return 1; }
		c=$(where "$1.$i")
		[ "$(echo "$c" | wc -l)" = 1 ] || { echo "$1.$i is in $c" >&2; return 1; }
		[ "$(cache_value "$c" "$1.$i" "$3")" = "$i.000000" ] ||
			{ echo "$1.$i: wrong value in $c" >&2; return 1; }
	done
}

@test "points sent through the relay land each in one cache, spread over both" {
	post_many relay.spread 40 "$TS"
	all_landed relay.spread 40 "$TS"
	[ "$(for i in $(seq 0 39); do where "relay.spread.$i"; done | sort -u | wc -l)" = 2 ]
	# Hashed by name: the same metric goes to the same cache again.
	c=$(where relay.spread.7)
	get "metric=relay.spread.7&timestamp=$((TS + 60))&value=70&key=$KEY"
	expect 204
	[ "$(cache_value "$c" relay.spread.7 $((TS + 60)))" = 70.000000 ]
}

@test "every character Flux allows in a name passes the relay unchanged" {
	get "metric=relay.chars.a%2Bb%25c=d:e_f-g&timestamp=$TS&value=1&key=$KEY"
	expect 204
	_stack_wait_for "" 15 eval "[ -n \"\$(where 'relay.chars.a+b%c=d:e_f-g')\" ]"
	[ "$(cache_value "$(where 'relay.chars.a+b%c=d:e_f-g')" 'relay.chars.a+b%c=d:e_f-g' "$TS")" = 1.000000 ]
}

@test "the relay closes cleanly once it has read a large post: 10000 points" {
	# 200 metrics by 50 minutes, oldest first.
	body="{\"key\": \"$KEY\", \"metrics\": ["
	sep=""
	for ((t = TS - 49 * 60; t <= TS; t += 60)); do
		for ((i = 0; i < 200; i++)); do
			body+="$sep{\"metric\": \"relay.large.m$i\", \"timestamp\": $t, \"value\": $i}"
			sep=", "
		done
	done
	post "$body]}"
	expect 204
	if grep -q 'spooling' "$STACK_DIR/cgi.err"; then cat "$STACK_DIR/cgi.err" >&2; false; fi
	[ "$(ls "$STACK_DIR"/spool/*.spool 2>/dev/null | wc -l)" = 0 ]
	# Every point in one cache or the other: 200 files of 50 points.
	_stack_wait_for "" 60 eval "[ \"\$(large_points)\" = '200 10000' ]"
}

# large_points: files and points of relay.large.* in both caches.
large_points() {
	/usr/bin/python3 - "$STACK_DIR" "$TS" <<'PY'
import glob, sys, whisper
files = glob.glob(sys.argv[1] + "/cache-?/carbon/storage/whisper/relay/large/*.wsp")
ts = int(sys.argv[2])
n = 0
for f in files:
    (start, end, step), vals = whisper.fetch(f, ts - 3600, ts + 1)
    n += sum(v is not None for v in vals)
print(len(files), n)
PY
}

@test "the relay down: Flux spools, and flux-batch flush delivers through it once it is back" {
	stop_relay
	post_many relay.down 5 "$TS"
	grep -q "warn: cannot connect to carbon '127.0.0.1:$RELAY_PORT': Connection refused; spooling 5 points" "$STACK_DIR/cgi.err"
	start_relay cache-a cache-b
	flux_batch flush
	[ "$batch_status" = 0 ]
	all_landed relay.down 5 "$TS"
}

# relay_saw_down CACHE SINCE: post probe points until the relay has found
# the carbon-cache of the sub-stack CACHE gone: a line of its log after
# line SINCE says a write to it or a connection to it failed. A cache
# stopped under a relay's open connection loses the lines the relay writes
# before it sees the close: carbon-c-relay learns of it only from a failed
# write (INSTALL, "Scaling out", says to hold delivery when restarting a
# cache). Up to 30 s.
relay_saw_down() {
	local port i log=$STACK_DIR/relay/relay.log
	port=$(cluster_port "$1" carbon-line)
	for ((i = 0; i < 30; i++)); do
		tail -n +"$(($2 + 1))" "$log" | grep -q -e "to 127.0.0.1:$port: " -e "for 127.0.0.1:$port: " &&
			return 0
		post_many relay.probe$i 20 "$TS"
		sleep 1
	done
	echo "the relay never found 127.0.0.1:$port down" >&2
	grep "^\[" "$log" | tail -n 15 >&2
	return 1
}

@test "a cache that is down: the relay keeps its share and delivers it when the cache is back" {
	post_many relay.first 20 "$TS"
	all_landed relay.first 20 "$TS"
	since=$(wc -l < "$STACK_DIR/relay/relay.log")
	cluster_sub cache-b stop_carbon
	relay_saw_down cache-b "$since"
	post_many relay.cachedown 20 "$TS"
	[ "$(ls "$STACK_DIR"/spool/*.spool 2>/dev/null | wc -l)" = 0 ]
	cluster_sub cache-b start_carbon
	all_landed relay.cachedown 20 "$TS"
}

@test "the relay restarted under a hold loses nothing" {
	touch "$STACK_DIR/spool/hold"
	post_many relay.held 10 "$TS"
	grep -q "info: delivery held by $STACK_DIR/spool/hold; spooling 10 points" "$STACK_DIR/cgi.err"
	stop_relay
	start_relay cache-a cache-b
	rm "$STACK_DIR/spool/hold"
	flux_batch flush
	[ "$batch_status" = 0 ]
	all_landed relay.held 10 "$TS"
}
