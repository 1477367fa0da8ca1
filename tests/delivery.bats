#!/usr/bin/env bats
# Delivery to carbon and the spool (SPEC sections 5 and 6): exact wire
# bytes against a capture listener, carbon outages against a real
# carbon-cache, and the rollback of flux.last when a point can be neither
# delivered nor spooled.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start dlv redis carbon
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR"/spool/*
}

teardown() {
	stop_capture 2>/dev/null || true
}

golden_body='{"key":"'$KEY'","metrics":[{"metric":"test.golden.a","timestamp":1700000000,"value":1.5},{"metric":"test.golden.b","timestamp":"1700000060","value":"-2"}]}'

# items: the "name ts value" lines carbon's unpickler reads from the capture.
items() { /usr/bin/python3 "$FLUX_TOP/tests/tools/unpickle.py" "$CAPTURE_FILE" "$@"; }

@test "pickle: the bytes on the wire match the golden file" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	FLUX_NOW=1700000000 post "$golden_body"
	expect 204
	diff -u "$FLUX_TOP/tests/golden/pickle-two-points.hex" <(xxd -p "$CAPTURE_FILE")
}

@test "pickle: carbon's own unpickler reads what Flux sends" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	FLUX_NOW=1700000000 post "$golden_body"
	run items
	[ "$output" = $'test.golden.a 1700000000 1.5\ntest.golden.b 1700000060 -2.0' ]
}

@test "plaintext: the lines on the wire match the golden file" {
	start_capture accept
	write_conf "FLUX_CARBON_PROTOCOL = plaintext" "FLUX_CARBON_PORT = $CAPTURE_PORT"
	FLUX_NOW=1700000000 post "$golden_body"
	expect 204
	diff -u "$FLUX_TOP/tests/golden/plaintext-two-points.txt" "$CAPTURE_FILE"
}

@test "a large request goes in several frames under 1 MiB on one connection" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_MAX_BODY_BYTES = 8000000"
	pad=$(printf 'p%.0s' $(seq 1 90))
	/usr/bin/python3 -c "
import json
m=[{'metric':'test.frames.$pad.m%05d' % i,'timestamp':1700000000,'value':i} for i in range(10000)]
print(json.dumps({'key':'$KEY','metrics':m}))" > "$STACK_DIR/big.json"
	FLUX_NOW=1700000000 cgi metric_data_post POST "" "$STACK_DIR/big.json"
	expect 204
	run items --frames
	[ "${#lines[@]}" -ge 2 ]
	total=0
	for l in "${lines[@]}"; do
		set -- $l
		[ "$1" -lt 1000000 ]
		total=$((total + $2))
	done
	[ "$total" = 10000 ]
	[ "$(grep -c open "$CAPTURE_FILE.events")" = 1 ]
}

@test "carbon stopped: points are spooled, 204, and flux-batch flush delivers them" {
	T=$(minute_ts)
	stop_carbon
	post '{"key":"'$KEY'","metrics":[{"metric":"test.spool.a","timestamp":'$T',"value":1},{"metric":"test.spool.b","timestamp":'$T',"value":2}]}'
	expect 204 ""
	get "metric=test.spool.c&value=3&timestamp=$T&key=$KEY"
	expect 204 ""
	cat "$STACK_DIR/cgi.err"; ls -la "$STACK_DIR/spool"
	[ "$(spool_count)" = 2 ]
	[ "$(last test.spool.a)" = "[$T, 1.0]" ]
	grep -q 'spooling 1 points' "$STACK_DIR/cgi.err"
	start_carbon
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 0 ]
	[ "$(spool_count)" = 0 ]
	for m in a b c; do
		run whisper_fetch_value "test.spool.$m" "$T"
		[ "$status" = 0 ]
	done
	[ "$(whisper_fetch_value test.spool.c "$T")" = "3.000000" ]
}

@test "flux-batch flush keeps the spool and exits 1 while carbon is down" {
	T=$(minute_ts)
	write_conf "FLUX_CARBON_PICKLE_PORT = 1"
	get "metric=test.spool.down&value=3&timestamp=$T&key=$KEY"
	expect 204
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 1 ]
	[[ "$output" == *"cannot connect to carbon '127.0.0.1:1'"* ]]
	[ "$(spool_count)" = 1 ]
}

@test "flux-batch -n flush reports and delivers nothing" {
	write_conf "FLUX_CARBON_PICKLE_PORT = 1"
	get "metric=test.spool.dry&value=3&key=$KEY"
	run "$FLUX_TOP/batch/flux-batch" -n flush
	[ "$status" = 0 ]
	[[ "$output" == *"would replay 1 points from 1 files"* ]]
	[ "$(spool_count)" = 1 ]
}

@test "a spool file that does not parse is set aside; the others are delivered" {
	T=$(minute_ts)
	printf 'test.spool.bad 1.0\n' > "$STACK_DIR/spool/000000000001.000000000.1.0.spool"
	printf 'test.spool.good 5.0 %s\n' "$T" > "$STACK_DIR/spool/000000000002.000000000.1.0.spool"
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 1 ]
	[[ "$output" == *"line 1: not a valid point"* ]]
	[ -f "$STACK_DIR/spool/000000000001.000000000.1.0.spool.bad" ]
	[ "$(spool_count)" = 0 ]
	[ "$(whisper_fetch_value test.spool.good "$T")" = "5.000000" ]
}

@test "a spool line with a NUL byte is not a valid point, not a point cut short" {
	T=$(minute_ts)
	printf 'test.spool.nul 1.0 %s\0junk\n' "$T" > "$STACK_DIR/spool/000000000001.000000000.1.0.spool"
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 1 ]
	[[ "$output" == *"line 1: not a valid point"* ]]
	[ -f "$STACK_DIR/spool/000000000001.000000000.1.0.spool.bad" ]
	[ -z "$(last test.spool.nul)" ]
}

@test "a hold file in the spool: points are spooled, not sent, and flux-batch runs no job until it is removed" {
	T=$(minute_ts)
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	touch "$STACK_DIR/spool/hold"
	get "metric=test.hold&value=3&timestamp=$T&key=$KEY"
	expect 204 ""
	grep -q "info: delivery held by $STACK_DIR/spool/hold; spooling 1 points" "$STACK_DIR/cgi.err"
	[ "$(spool_count)" = 1 ]
	[ "$(last test.hold)" = "[$T, 3.0]" ]
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 0 ]
	[[ "$output" == *"delivery held by $STACK_DIR/spool/hold; no job run"* ]]
	[ "$(spool_count)" = 1 ]
	[ ! -s "$CAPTURE_FILE" ]
	# Nor populate, uploads or a plain run: every job sends to carbon.
	for job in populate uploads ""; do
		run "$FLUX_TOP/batch/flux-batch" $job
		[ "$status" = 0 ]
		[[ "$output" == *"no job run"* ]]
	done
	[ "$(spool_count)" = 1 ]
	rm "$STACK_DIR/spool/hold"
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 0 ]
	[ "$(spool_count)" = 0 ]
	[ "$(items)" = "test.hold $T 3.0" ]
}

# big_body METRIC TS VALUE: a POST body of the point and 500 fillers, more
# bytes than a stalled or resetting capture's receive buffer takes: a
# resident's kept connection counts what carbon's kernel acknowledged as
# delivered, so a carbon that must fail a delivery is given more than its
# kernel buffers.
big_body() {
	/usr/bin/python3 -c "
import json, sys
m = [{'metric': sys.argv[1], 'timestamp': int(sys.argv[2]), 'value': float(sys.argv[3])}]
m += [{'metric': 'test.filler.%s.f%03d' % ('x' * 60, i), 'timestamp': int(sys.argv[2]), 'value': i} for i in range(500)]
print(json.dumps({'key': sys.argv[4], 'metrics': m}))" "$1" "$2" "$3" "$KEY"
}

# wait_count_events WHAT N: until the capture has logged N WHAT events.
wait_count_events() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c "^$1 " "$CAPTURE_FILE.events")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# big_post METRIC TS VALUE: POST big_body.
big_post() { post "$(big_body "$@")"; }

@test "a carbon that resets the connection: the points are spooled" {
	start_capture reset 10
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	big_post test.reset "$(minute_ts)" 1
	expect 204
	[ "$(spool_count)" = 1 ]
}

@test "a carbon that stops reading: the send times out and the points are spooled" {
	start_capture stall
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 300"
	big_post test.stall "$(minute_ts)" 1
	expect 204
	[ "$(spool_count)" = 1 ]
	grep -q 'timed out' "$STACK_DIR/cgi.err"
}

@test "FLUX_CARBON_KEEP_CONNECTION: a carbon that stops reading turns into spooling within the timeout" {
	start_capture stall
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 300" \
		"FLUX_CARBON_KEEP_CONNECTION = true"
	big_post test.stall "$(minute_ts 2)" 1
	expect 204
	[ "$(spool_count)" = 1 ]
	grep -q 'timed out' "$STACK_DIR/cgi.err"
	# The next one too, on a new connection: never a hang.
	big_post test.stall "$(minute_ts 1)" 1
	expect 204
	[ "$(spool_count)" = 2 ]
	grep -q 'timed out' "$STACK_DIR/cgi.err"
}

@test "FLUX_CARBON_KEEP_CONNECTION: what a carbon acknowledged and never read is lost (why it is off)" {
	# The weakness flux(7) describes, shown: a stalled carbon's kernel
	# acknowledges one small point, which gets 204 and is not spooled.
	[ "$FLUX_MODE" != cgi ] || skip "a plain CGI always closes: nothing is acknowledged unread"
	start_capture stall
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 300" \
		"FLUX_CARBON_KEEP_CONNECTION = true"
	get "metric=test.unread&value=1&key=$KEY"
	expect 204 ""
	[ "$(spool_count)" = 0 ]
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 300"
	get "metric=test.unread2&value=1&key=$KEY"
	expect 204 ""
	[ "$(spool_count)" = 1 ]
}

# three_gets T: three one-point GETs at T, delivered (a resident of the
# pool may serve each with another process).
three_gets() {
	for v in 1 2 3; do
		get "metric=test.kept.m$v&value=$v&timestamp=$1&key=$KEY"
		expect 204 ""
	done
	[ "$(items)" = "$(printf 'test.kept.m%d %d %d.0\n' 1 "$1" 1 2 "$1" 2 3 "$1" 3)" ]
	[ "$(spool_count)" = 0 ]
}

@test "by default a delivery has a carbon connection of its own" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	three_gets "$(minute_ts)"
	[ "$(grep -c open "$CAPTURE_FILE.events")" = 3 ]
}

@test "FLUX_CARBON_KEEP_CONNECTION: a resident keeps one carbon connection" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_KEEP_CONNECTION = true"
	three_gets "$(minute_ts)"
	case $FLUX_MODE in
	cgi) [ "$(grep -c open "$CAPTURE_FILE.events")" = 3 ] ;;
	fcgi) [ "$(grep -c open "$CAPTURE_FILE.events")" = 1 ] ;;
	# Each of the pool's processes keeps its own.
	pool) [ "$(grep -c open "$CAPTURE_FILE.events")" -le 3 ] ;;
	esac
}

@test "carbon ends the kept connection: the next delivery connects again" {
	T=$(minute_ts)
	# Each connection is closed by the capture once it has read a point.
	start_capture close 1
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_KEEP_CONNECTION = true"
	get "metric=test.closed.a&value=1&timestamp=$T&key=$KEY"
	expect 204 ""
	wait_count_events close 1
	get "metric=test.closed.b&value=2&timestamp=$T&key=$KEY"
	expect 204 ""
	[ "$(items)" = "$(printf 'test.closed.a %d 1.0\ntest.closed.b %d 2.0' "$T" "$T")" ]
	[ "$(grep -c open "$CAPTURE_FILE.events")" = 2 ]
	[ "$(spool_count)" = 0 ]
}

@test "carbon resets a delivery it had not acknowledged: it goes again on a new connection" {
	T=$(minute_ts)
	# The first connection is not read, then reset after 500 ms: the
	# resident's delivery is unconfirmed and goes again; a plain CGI's
	# first connection is its only one, and it spools.
	start_capture reset1 500
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 20000" \
		"FLUX_CARBON_KEEP_CONNECTION = true"
	big_post test.resend "$T" 7
	expect 204 ""
	if [ "$FLUX_MODE" != cgi ]; then
		[ "$(spool_count)" = 0 ]
		[ "$(items | grep -c .)" = 501 ]
		[ "$(items | grep '^test.resend ')" = "test.resend $T 7.0" ]
		[ "$(grep -c open "$CAPTURE_FILE.events")" = 2 ]
		grep -q 'reset 1 0' "$CAPTURE_FILE.events"
	else
		[ "$(spool_count)" = 1 ]
	fi
}

@test "neither delivered nor spooled: 503 and flux.last is rolled back" {
	T=$(minute_ts)
	redis-cli -s "$REDIS_SOCK" set flux.last.test.rb.old "[$((T - 60)), 1.0]" >/dev/null
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data test.rb.old "{'timestamp': $((T - 120)), 'value': None}" >/dev/null
	write_conf "FLUX_CARBON_PICKLE_PORT = 1" "FLUX_SPOOL_PATH = $STACK_DIR/no/such/dir"
	post '{"key":"'$KEY'","metrics":[{"metric":"test.rb.old","timestamp":'$T',"value":2},{"metric":"test.rb.new","timestamp":'$T',"value":3}]}'
	expect 503 "$(err_body 503 'points could not be delivered or spooled, retry later')"
	[ "$(last test.rb.old)" = "[$((T - 60)), 1.0]" ]
	[ -z "$(last test.rb.new)" ]
	# The entries in flux.last.metric_data too: back as they were, or gone.
	[ "$(entry test.rb.old)" = "{'timestamp': $((T - 120)), 'value': None}" ]
	[ "$(redis-cli -s "$REDIS_SOCK" hexists flux.last.metric_data test.rb.new)" = 0 ]
	grep -q 'neither delivered nor spooled' "$STACK_DIR/cgi.err"
	# The client's retry, once carbon is back, is not discarded as a duplicate.
	write_conf
	post '{"key":"'$KEY'","metrics":[{"metric":"test.rb.old","timestamp":'$T',"value":2},{"metric":"test.rb.new","timestamp":'$T',"value":3}]}'
	expect 204
	[ "$(whisper_fetch_value test.rb.new "$T")" = "3.000000" ]
}

@test "a rollback leaves a key that a newer request moved on" {
	T=$(minute_ts)
	start_capture stall
	# Hold the first request in carbon's timeout while a newer point lands.
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 1500" \
		"FLUX_SPOOL_PATH = $STACK_DIR/no/such/dir"
	big_post test.rb.race "$((T - 60))" 1 &
	pid=$!
	sleep 0.5
	redis-cli -s "$REDIS_SOCK" set flux.last.test.rb.race "[$T, 9.0]" >/dev/null
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data test.rb.race "{'timestamp': $T, 'value': 9.0}" >/dev/null
	# Only this pid: a plain wait would also wait for the capture listener.
	wait "$pid"
	[ "$(last test.rb.race)" = "[$T, 9.0]" ]
	[ "$(entry test.rb.race)" = "{'timestamp': $T, 'value': 9.0}" ]
}

@test "a rollback puts back an entry the request moved on, and leaves an entry Vista moved on" {
	T=$(minute_ts)
	start_capture stall
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data test.rb.a "{'timestamp': $((T - 120)), 'value': 1.0}" \
		test.rb.b "{'timestamp': $((T - 120)), 'value': 1.0}" >/dev/null
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 1500" \
		"FLUX_SPOOL_PATH = $STACK_DIR/no/such/dir"
	post '{"key":"'$KEY'","metrics":[{"metric":"test.rb.a","timestamp":'$((T - 60))',"value":2},{"metric":"test.rb.b","timestamp":'$((T - 60))',"value":2}]}' &
	pid=$!
	wait_claimed test.rb.b
	[ "$(entry test.rb.a)" = "{'timestamp': $((T - 60)), 'value': 2.0}" ]
	# Vista's fetcher writes its own entry for b meanwhile.
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data test.rb.b "{'timestamp': $T, 'value': None}" >/dev/null
	wait "$pid" || true
	[ "$(entry test.rb.a)" = "{'timestamp': $((T - 120)), 'value': 1.0}" ]
	[ -z "$(last test.rb.a)" ]
	[ "$(entry test.rb.b)" = "{'timestamp': $T, 'value': None}" ]
}

# claim_big FILE METRIC TS VALUE: big_post in the background, its status
# into FILE: more than a stalled carbon's kernel takes, so that the
# request waits for its timeout in either mode.
claim_big() { local f=$1; shift; big_post "$@"; echo "$cgi_status" > "$f"; }

# The claims' Redis layout (common/lua/dedup.lua): a pending and a done set
# of tokens, scored with their deadlines in ms of Redis's clock, and the
# claim list of each metric, flux.claims.<metric>.
PENDING=flux.claim.pending DONE=flux.claim.done

# redis_ms: Redis's clock in milliseconds.
redis_ms() {
	redis-cli -s "$REDIS_SOCK" time | { read -r s; read -r us; echo $((s * 1000 + us / 1000)); }
}

# set_claim TOKEN STATE MS: that request's claim, pending (p) or done (d)
# for MS milliseconds from now.
set_claim() {
	local set=$PENDING other=$DONE
	[ "$2" = d ] && set=$DONE other=$PENDING
	redis-cli -s "$REDIS_SOCK" zrem "$other" "$1" >/dev/null
	redis-cli -s "$REDIS_SOCK" zadd "$set" $(($(redis_ms) + $3)) "$1" >/dev/null
}

# plant METRIC RECORD CLAIMS [TOKEN STATE MS]: flux.last and the claim list
# of METRIC as another request would have left them, and that request's
# claim (set_claim) when TOKEN is given.
plant() {
	redis-cli -s "$REDIS_SOCK" set "flux.last.$1" "$2" >/dev/null
	redis-cli -s "$REDIS_SOCK" set "flux.claims.$1" "$3" >/dev/null
	if [ $# -gt 3 ]; then
		set_claim "$4" "$5" "$6"
	fi
}

# claims METRIC: its claim list. claim_left TOKEN: the milliseconds left to
# that claim's deadline, "p" or "d" first, nothing when it is gone.
# claim TOKEN: its state alone.
claims() { redis-cli -s "$REDIS_SOCK" get "flux.claims.$1"; }
claim_left() {
	local now st set score
	now=$(redis_ms)
	for st in p d; do
		set=$PENDING; [ $st = d ] && set=$DONE
		score=$(redis-cli -s "$REDIS_SOCK" zscore "$set" "$1")
		if [ -n "$score" ] && [ "${score%.*}" -gt "$now" ]; then
			echo "$st $((${score%.*} - now))"
			return
		fi
	done
}
claim() { claim_left "$1" | cut -d' ' -f1; }

# wait_claimed METRIC: until a request in flight has claimed METRIC.
wait_claimed() {
	local i
	for i in $(seq 1 100); do
		[ -n "$(last "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "a duplicate of a claim that is then rolled back waits for it and delivers the point" {
	T=$(minute_ts)
	start_capture stall
	# A: carbon never reads and the spool is missing, so A will answer 503.
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 1500" \
		"FLUX_SPOOL_PATH = $STACK_DIR/no/such/dir"
	claim_big "$BATS_TEST_TMPDIR/a" test.claim.rb "$T" 1 &
	pid=$!
	wait_claimed test.claim.rb
	# B, for the same timestamp while A's claim stands, with carbon back.
	write_conf
	get "metric=test.claim.rb&value=2&timestamp=$T&key=$KEY"
	expect 204
	wait "$pid"
	[ "$(cat "$BATS_TEST_TMPDIR/a")" = 503 ]
	# B was not discarded as a duplicate of A's undelivered point.
	[ "$(last test.claim.rb)" = "[$T, 2.0]" ]
	[ "$(whisper_fetch_value test.claim.rb "$T")" = "2.000000" ]
}

@test "a duplicate of a claim that is then spooled waits for it and is discarded" {
	T=$(minute_ts)
	start_capture accept
	B_PORT=$CAPTURE_PORT B_FILE=$CAPTURE_FILE
	start_capture stall
	# A: carbon never reads, so A spools after its timeout and answers 204.
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 1500"
	claim_big "$BATS_TEST_TMPDIR/a" test.claim.ok "$T" 1 &
	pid=$!
	wait_claimed test.claim.ok
	write_conf "FLUX_CARBON_PICKLE_PORT = $B_PORT"
	get "metric=test.claim.ok&value=2&timestamp=$T&key=$KEY"
	expect 204
	wait "$pid"
	[ "$(cat "$BATS_TEST_TMPDIR/a")" = 204 ]
	[ "$(spool_count)" = 1 ]
	[ "$(last test.claim.ok)" = "[$T, 1.0]" ]
	# B sent nothing: the timestamp went once, in A's spool file.
	[ ! -s "$B_FILE" ]
}

@test "a claim whose request was killed: a duplicate that saw it pending takes the point when its lease runs out" {
	T=$(minute_ts)
	tok=00000000deadbeef
	plant test.claim.dead "[$T, 5.0]" "$tok:-:$T" "$tok" p 1500
	# A test request counts the pending point as one it would ingest.
	get "metric=test.claim.dead&value=6&timestamp=$T&key=$KEY&test=true"
	expect 200
	[[ "$cgi_body" == *'"ingest_count": 1, "drop_count": 0'* ]]
	# A newer point is not held by the claim.
	get "metric=test.claim.dead&value=7&timestamp=$((T + 60))&key=$KEY&test=true"
	[[ "$cgi_body" == *'"ingest_count": 1, "drop_count": 0'* ]]
	get "metric=test.claim.dead&value=6&timestamp=$T&key=$KEY"
	expect 204
	# It waited for the lease, then took the point the killed request never delivered.
	[ "$(claim "$tok")" = "" ]
	[ "$(last test.claim.dead)" = "[$T, 6.0]" ]
	[ "$(whisper_fetch_value test.claim.dead "$T")" = "6.000000" ]
	[[ "$(claims test.claim.dead)" =~ ^[0-9a-f]{16}:-:$T$ ]]
}

@test "a vanished claim the request never saw pending counts as delivered" {
	T=$(minute_ts)
	plant test.claim.late "[$T, 5.0]" "00000000deadbeef:-:$T"
	get "metric=test.claim.late&value=6&timestamp=$T&key=$KEY"
	expect 204
	[ "$(last test.claim.late)" = "[$T, 5.0]" ]
}

@test "a confirmed claim reads done for twice its lease, and its duplicates are discarded" {
	T=$(minute_ts)
	get "metric=test.claim.done&value=5&timestamp=$T&key=$KEY"
	expect 204
	tok=$(claims test.claim.done | cut -d: -f1)
	[ "$(claim "$tok")" = d ]
	# FLUX_CARBON_TIMEOUT_MS 2000: a lease of 30 s, "d" for 60 s.
	ttl=$(claim_left "$tok" | cut -d' ' -f2)
	[ "$ttl" -gt 55000 ]
	[ "$ttl" -le 60000 ]
	get "metric=test.claim.done&value=6&timestamp=$T&key=$KEY"
	expect 204
	[ "$(last test.claim.done)" = "[$T, 5.0]" ]
}

@test "a newer point taken while an older claim stands keeps that claim listed" {
	T=$(minute_ts)
	tok=0000000000c0ffee
	plant test.claim.two "[$T, 5.0]" "$tok:$((T - 60))" "$tok" p 60000
	get "metric=test.claim.two&value=7&timestamp=$((T + 60))&key=$KEY"
	expect 204
	[[ "$(claims test.claim.two)" =~ ^$tok:$((T - 60))\ [0-9a-f]{16}:$T:$((T + 60))$ ]]
	# T is still only claimed (by $tok, over T - 60): a test request would take it.
	get "metric=test.claim.two&value=6&timestamp=$T&key=$KEY&test=true"
	[[ "$cgi_body" == *'"ingest_count": 1, "drop_count": 0'* ]]
	# Once that claim is done, T is a duplicate of the record T + 60.
	set_claim "$tok" d 60000
	get "metric=test.claim.two&value=6&timestamp=$T&key=$KEY&test=true"
	[[ "$cgi_body" == *'"ingest_count": 0, "drop_count": 1'* ]]
}

@test "a claim that is not another request's does not hold a point back" {
	T=$(minute_ts)
	# Entries whose claim key is gone are dead (delivered, for a request that
	# never saw them pending), and pruned at the next claim; so are entries
	# of the format before claimed timestamps were listed.
	plant test.claim.gone "[$T, 5.0]" "0123456789abcdef:$((T - 60)) fedcba9876543210:-"
	get "metric=test.claim.gone&value=6&timestamp=$T&key=$KEY"
	expect 204
	[ "$(last test.claim.gone)" = "[$T, 5.0]" ]
	get "metric=test.claim.gone&value=7&timestamp=$((T + 60))&key=$KEY"
	expect 204
	[[ "$(claims test.claim.gone)" =~ ^[0-9a-f]{16}:$T:$((T + 60))$ ]]
}

@test "lapsed claims are pruned, a few per claiming request" {
	now=$(redis_ms)
	for i in $(seq 1 20); do
		redis-cli -s "$REDIS_SOCK" zadd "$PENDING" $((now - 1000)) "lapsed$i" >/dev/null
		redis-cli -s "$REDIS_SOCK" zadd "$DONE" $((now - 1000)) "expired$i" >/dev/null
	done
	set_claim 0000000000c0ffee d 60000
	T=$(minute_ts)
	get "metric=test.claim.prune&value=1&timestamp=$((T - 60))&key=$KEY"
	expect 204
	# 16 lapsed entries left each set; this request's claim is done.
	[ "$(redis-cli -s "$REDIS_SOCK" zcard "$PENDING")" = 4 ]
	[ "$(redis-cli -s "$REDIS_SOCK" zcard "$DONE")" = 6 ]
	get "metric=test.claim.prune&value=2&timestamp=$T&key=$KEY"
	expect 204
	[ "$(redis-cli -s "$REDIS_SOCK" zcard "$PENDING")" = 0 ]
	[ "$(redis-cli -s "$REDIS_SOCK" zcard "$DONE")" = 3 ]
	[ "$(claim 0000000000c0ffee)" = d ]
}

# script_keys MONITOR_FILE: every key a command run inside a script touched
# that its EVAL did not pass in KEYS, one per line; nothing when all were.
script_keys() {
	/usr/bin/python3 - "$1" <<'EOF_PY'
import re, sys
arg = re.compile(r'"((?:[^"\\]|\\.)*)"')
# Where each command the scripts use has its keys.
keys_of = {
    'time': lambda a: [], 'mget': lambda a: a, 'mset': lambda a: a[0::2],
}
for c in ('get', 'set', 'del', 'hget', 'hmget', 'hset', 'hdel', 'type',
          'zscore', 'zadd', 'zrem', 'zcount', 'zremrangebyrank', 'hincrby',
          'expire'):
    keys_of[c] = lambda a: a[:1]
passed = None
for line in open(sys.argv[1]):
    a = arg.findall(line)
    if not a:
        continue
    cmd = a[0].lower()
    if '[0 lua]' not in line:
        passed = set(a[3:3 + int(a[2])]) if cmd in ('eval', 'evalsha') else None
        continue
    for k in keys_of[cmd](a[1:]):
        if passed is None or k not in passed:
            print(cmd, k)
EOF_PY
}

# monitored JSON: POST JSON while redis-cli monitor writes every command
# Redis runs to $BATS_TEST_TMPDIR/monitor.
monitored() {
	local mon
	redis-cli -s "$REDIS_SOCK" monitor > "$BATS_TEST_TMPDIR/monitor" &
	mon=$!
	sleep 0.2
	post "$1"
	sleep 0.2
	kill "$mon"
	wait "$mon" || true
}

# all_in_keys: no command of a script in the monitor's log touched a key
# its EVAL did not pass in KEYS (those that did are printed).
all_in_keys() {
	local out
	out=$(script_keys "$BATS_TEST_TMPDIR/monitor") || return 1
	echo "$out"
	[ -z "$out" ]
}

@test "every key the de-dup script touches is passed in KEYS" {
	T=$(minute_ts)
	tok=00000000deadbeef
	# A point that waits on a pending claim until its lease runs out, so the
	# script also looks up claims in both sets, and one taken over another.
	plant test.claim.keys "[$T, 5.0]" "$tok:-:$T" "$tok" p 1000
	plant test.claim.keys2 "[$((T - 60)), 5.0]" "0000000000c0ffee:-:$((T - 60))"
	monitored '{"key":"'$KEY'","metrics":[{"metric":"test.claim.keys","timestamp":'$T',"value":6},{"metric":"test.claim.keys2","timestamp":'$T',"value":6}]}'
	expect 204
	grep -q '\[0 lua\] "ZSCORE" "flux.claim.done"' "$BATS_TEST_TMPDIR/monitor"
	grep -q '\[0 lua\] "MSET"' "$BATS_TEST_TMPDIR/monitor"
	grep -q '\[0 lua\] "HMGET" "flux.last.metric_data" "test.claim.keys" "test.claim.keys2"' "$BATS_TEST_TMPDIR/monitor"
	grep -q '\[0 lua\] "HSET" "flux.last.metric_data" "test.claim.keys"' "$BATS_TEST_TMPDIR/monitor"
	all_in_keys
}

@test "every key the rollback script touches is passed in KEYS" {
	T=$(minute_ts)
	redis-cli -s "$REDIS_SOCK" set flux.last.test.rb.keys "[$((T - 60)), 1.0]" >/dev/null
	write_conf "FLUX_CARBON_PICKLE_PORT = 1" "FLUX_SPOOL_PATH = $STACK_DIR/no/such/dir"
	monitored '{"key":"'$KEY'","metrics":[{"metric":"test.rb.keys","timestamp":'$T',"value":6},{"metric":"test.rb.keys2","timestamp":'$T',"value":6}]}'
	expect 503
	grep -q '\[0 lua\] "HDEL" "flux.last.metric_data" "test.rb.keys"' "$BATS_TEST_TMPDIR/monitor"
	grep -q '\[0 lua\] "SET" "flux.last.test.rb.keys"' "$BATS_TEST_TMPDIR/monitor"
	all_in_keys
}

@test "redis unreachable: points are still delivered, without de-dup, with a warning" {
	T=$(minute_ts)
	write_conf "REDIS_TIMEOUT_MS = 200" "REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock"
	get "metric=test.noredis&value=4&timestamp=$T&key=$KEY"
	expect 204 ""
	grep -q "warn: cannot connect to redis" "$STACK_DIR/cgi.err"
	grep -q "de-duplication skipped for 1 points: redis unavailable" "$STACK_DIR/cgi.err"
	[ "$(whisper_fetch_value test.noredis "$T")" = "4.000000" ]
}

@test "FLUX_SEND_TO_CARBON false: validated, de-duplicated and logged, not sent" {
	start_capture accept
	write_conf "FLUX_SEND_TO_CARBON = false" "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	get "metric=test.nosend&value=4&key=$KEY&timestamp=1700000000" FLUX_NOW=1700000000
	expect 204
	grep -q 'not sent (FLUX_SEND_TO_CARBON is false): test.nosend' "$STACK_DIR/cgi.err"
	[ -n "$(last test.nosend)" ]
	[ ! -s "$CAPTURE_FILE" ]
}

@test "concurrent requests for one metric and timestamp deliver it once" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	T=$(minute_ts)
	pids=()
	for i in $(seq 1 20); do
		get "metric=test.race&value=$i&timestamp=$T&key=$KEY" &
		pids+=($!)
	done
	wait "${pids[@]}"
	run items
	[ "${#lines[@]}" = 1 ]
	[[ "${lines[0]}" == "test.race $T "* ]]
}

@test "flux.last holds [ts, value] readable by Python's literal_eval" {
	get "metric=test.last.fmt&value=0.1&key=$KEY&timestamp=1700000000" FLUX_NOW=1700000000
	[ "$(last test.last.fmt)" = "[1700000000, 0.1]" ]
	get "metric=test.last.fmt&value=1e20&key=$KEY&timestamp=1700000001" FLUX_NOW=1700000000
	v=$(last test.last.fmt)
	/usr/bin/python3 -c "import ast,json,sys; a=ast.literal_eval(sys.argv[1]); b=json.loads(sys.argv[1]); assert a==[1700000001,1e20]==b" "$v"
}

@test "a bare integer in flux.last is read as the last timestamp" {
	redis-cli -s "$REDIS_SOCK" set flux.last.test.bare 1700000000 >/dev/null
	get "metric=test.bare&value=1&key=$KEY&timestamp=1700000000&test=true" FLUX_NOW=1700000000
	[[ "$cgi_body" == *'"ingest_count": 0, "drop_count": 1'* ]]
	get "metric=test.bare&value=1&key=$KEY&timestamp=1700000001&test=true" FLUX_NOW=1700000000
	[[ "$cgi_body" == *'"ingest_count": 1, "drop_count": 0'* ]]
}

# redis_calls: the commands Redis ran since CONFIG RESETSTAT, "name:calls=N"
# sorted, but for the test's own CONFIG, INFO and ZCARD.
redis_calls() {
	redis-cli -s "$REDIS_SOCK" info commandstats | tr -d '\r' | grep '^cmdstat_' |
		grep -v -e '^cmdstat_config' -e '^cmdstat_info' -e '^cmdstat_zcard' |
		cut -d, -f1 | sort
}

@test "one request's points are de-duplicated in one Redis round trip" {
	load_scripts
	redis-cli -s "$REDIS_SOCK" config resetstat >/dev/null
	post '{"key":"'$KEY'","metrics":[{"metric":"t.rt.a","value":1},{"metric":"t.rt.b","value":1},{"metric":"t.rt.c","value":1}],"test":true}'
	expect 200
	# The script by its SHA1, and inside it TIME, one MGET of flux.last and
	# flux.claims, one HMGET of the entries in flux.last.metric_data and
	# its count of the request in the minute's self-metrics (HINCRBY,
	# EXPIRE); commandstats counts commands run inside a script too; a test
	# request sets nothing else.
	run redis_calls
	echo "$output"
	[ "$output" = "$(printf '%s\n' cmdstat_evalsha:calls=1 cmdstat_expire:calls=1 cmdstat_hincrby:calls=1 cmdstat_hmget:calls=1 cmdstat_mget:calls=1 cmdstat_time:calls=1)" ]
}

@test "a request claims its points in one round trip and ends the claim in a second" {
	load_scripts
	redis-cli -s "$REDIS_SOCK" config resetstat >/dev/null
	post '{"key":"'$KEY'","metrics":[{"metric":"t.rt.a","value":1},{"metric":"t.rt.b","value":1},{"metric":"t.rt.c","value":1}]}'
	expect 204
	# The script: TIME, one MGET of flux.last and flux.claims and one HMGET
	# of the entries in flux.last.metric_data, a look for lapsed claims in
	# each set (ZCOUNT), the claim's ZADD with its deadline, one MSET of
	# flux.last and flux.claims and one HSET of the entries, and the
	# request counted (HINCRBY, EXPIRE); then, after the answer, the
	# confirm's script: the points counted delivered (HINCRBY accepted and
	# delivered, HSET of the delivery's outcome, EXPIRE), TIME, ZREM from
	# pending, ZADD to done. Both called by SHA1. Nothing else: the
	# self-metrics cost no round trip.
	await_output 0 redis-cli -s "$REDIS_SOCK" zcard flux.claim.pending
	run redis_calls
	echo "$output"
	[ "$output" = "$(printf '%s\n' cmdstat_evalsha:calls=2 cmdstat_expire:calls=2 cmdstat_hincrby:calls=3 cmdstat_hmget:calls=1 cmdstat_hset:calls=2 cmdstat_mget:calls=1 cmdstat_mset:calls=1 cmdstat_time:calls=2 cmdstat_zadd:calls=2 cmdstat_zcount:calls=2 cmdstat_zrem:calls=1)" ]
	# The claim is done, and flux.claims names it.
	tok=$(claims t.rt.a)
	[[ "$tok" =~ ^[0-9a-f]{16}:-:[0-9]+$ ]]
	[ "$(claim "${tok%%:*}")" = d ]
}

@test "scripts Redis does not hold (SCRIPT FLUSH) are sent again with EVAL" {
	T=$(minute_ts)
	redis-cli -s "$REDIS_SOCK" script flush >/dev/null
	redis-cli -s "$REDIS_SOCK" config resetstat >/dev/null
	get "metric=test.noscript&value=1&key=$KEY&timestamp=$T"
	expect 204 ""
	await_output 0 redis-cli -s "$REDIS_SOCK" zcard flux.claim.pending
	# Each script: EVALSHA answered NOSCRIPT, then EVAL with its text.
	run bash -c "redis-cli -s '$REDIS_SOCK' info commandstats | tr -d '\r' | grep -e '^cmdstat_eval:' -e '^cmdstat_evalsha:' | sort"
	echo "$output"
	[[ "${lines[0]}" == cmdstat_eval:calls=2,*,failed_calls=0 ]]
	[[ "${lines[1]}" == cmdstat_evalsha:calls=2,*,failed_calls=2 ]]
	[ "$(redis-cli -s "$REDIS_SOCK" script exists "$("$FLUX_TOP/tests/unit/lua_text" -s dedup)")" = 1 ]
	[ "$(last test.noscript)" = "[$T, 1.0]" ]
	# The next request calls them by SHA1 alone.
	get "metric=test.noscript&value=2&key=$KEY&timestamp=$((T + 60))"
	expect 204 ""
	await_output 0 redis-cli -s "$REDIS_SOCK" zcard flux.claim.pending
	run bash -c "redis-cli -s '$REDIS_SOCK' info commandstats | tr -d '\r' | grep -e '^cmdstat_eval:' -e '^cmdstat_evalsha:' | cut -d, -f1 | sort"
	[ "$output" = "$(printf '%s\n' cmdstat_eval:calls=2 cmdstat_evalsha:calls=4)" ]
}

@test "the client has its answer before the request's claim ends" {
	T=$(minute_ts)
	load_scripts
	# The confirm is held at Redis's door: the answer must come all the same.
	start_redis_hold "$("$FLUX_TOP/tests/unit/lua_text" -s confirm)"
	# A Redis timeout longer than the wait for the answer, so that a confirm
	# sent before the answer would hold the answer back, not time out.
	write_conf "REDIS_SOCKET_PATH = $REDIS_HOLD_SOCK" "REDIS_TIMEOUT_MS = 120000"
	if [ "$FLUX_MODE" != cgi ]; then
		get "metric=test.after&value=1&key=$KEY&timestamp=$T"
	else
		# A plain CGI: the answer is complete when its standard output
		# closes, which cat sees while the process still runs.
		mkfifo "$BATS_TEST_TMPDIR/out"
		env -i "PATH=$PATH" "FLUX_CONF=$FLUX_CONF" REQUEST_METHOD=GET \
			"QUERY_STRING=metric=test.after&value=1&key=$KEY&timestamp=$T" \
			"$FLUX_TOP/cgi-bin/metric_data" </dev/null >"$BATS_TEST_TMPDIR/out" \
			2>"$STACK_DIR/cgi.err" &
		pid=$!
		run timeout 30 cat "$BATS_TEST_TMPDIR/out"
		[ "$status" = 0 ]
		[ "$output" = $'Status: 204 No Content\r\n\r' ]
		cgi_status=204 cgi_body=
	fi
	expect 204 ""
	await_output 1 bash -c "ls '$REDIS_HOLD_SOCK.held' 2>/dev/null | wc -l"
	[ "$(redis-cli -s "$REDIS_SOCK" zcard flux.claim.pending)" = 1 ]
	[ "$(redis-cli -s "$REDIS_SOCK" zcard flux.claim.done)" = 0 ]
	release_redis_hold
	[ "$FLUX_MODE" != cgi ] || wait "$pid"
	await_output 0 redis-cli -s "$REDIS_SOCK" zcard flux.claim.pending
	[ "$(redis-cli -s "$REDIS_SOCK" zcard flux.claim.done)" = 1 ]
	stop_redis_hold
	run grep -c warn "$STACK_DIR/cgi.err"
	[ "$output" = 0 ]
}

@test "after a Redis restart the next request de-duplicates again (a resident reconnects)" {
	T=$(minute_ts)
	get "metric=test.reconnect&value=1&key=$KEY&timestamp=$T"
	expect 204
	stop_redis
	start_redis
	get "metric=test.reconnect&value=2&key=$KEY&timestamp=$T"
	expect 204
	[ "$(last test.reconnect)" = "[$T, 2.0]" ]
	run grep -c 'redis unavailable' "$STACK_DIR/cgi.err"
	[ "$status" -eq 1 ]
	[ "$output" = 0 ]
}

@test "a changed config file is used by the next request" {
	get "metric=a.b&value=1&key=$KEY&timestamp=1699990000" FLUX_NOW=1700000000
	expect 400
	write_conf "FLUX_MAX_AGE = 20000"
	get "metric=a.b&value=1&key=$KEY&timestamp=1699990000&test=true" FLUX_NOW=1700000000
	expect 200
}
