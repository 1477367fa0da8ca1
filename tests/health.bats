#!/usr/bin/env bats
# The health check (status=true on GET, "status": true on POST, and
# flux-batch status): each part as it is, and what becomes of a point
# sent now: 200 "ok" when it would be delivered, 200 "degraded" while it
# would go to the spool (or undeduplicated), 503 with the reason when it
# could be neither delivered nor spooled. Without a key nothing names a
# host, a port or a path.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start health redis carbon
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR/spool/"*.spool "$STACK_DIR/spool/hold"
	CLOSED=$(flux_free_port)
}

teardown() {
	chattr -i "$STACK_DIR/ro-spool" 2>/dev/null || true
}

# health PART...: the parts of the last answer, as compact JSON.
health() { jq -c "[$1]" <<<"$cgi_body"; }

# no_detail: the answer names no host, port or path of this stack.
no_detail() {
	[[ $cgi_body != *127.0.0.1* ]] && [[ $cgi_body != *"$STACK_DIR"* ]] &&
		[[ $cgi_body != *"$CLOSED"* ]] && [[ $cgi_body != *"$CARBON_PICKLE_PORT"* ]]
}

@test "all well: 200 ok, each part ok, on GET and POST" {
	get "status=true"
	expect 200
	[ "$(health '.status, .reasons, .redis, .carbon, .hold, .spool.writable, .spool.files')" = '["ok",[],"ok","ok",false,true,0]' ]
	post '{"status": true}'
	expect 200
	[ "$(health '.status, .redis, .carbon')" = '["ok","ok","ok"]' ]
}

@test "carbon down: 200 degraded, points go to the spool, no address shown" {
	write_conf "FLUX_CARBON_PICKLE_PORT = $CLOSED"
	get "status=true"
	expect 200
	[ "$(health '.status, .reasons, .carbon')" = '["degraded",["carbon unreachable: points go to the spool"],"unreachable"]' ]
	no_detail
	post '{"status": "true"}'
	expect 200
	[ "$(health .status)" = '["degraded"]' ]
}

@test "carbon down: a point sent then is spooled, as the check said" {
	write_conf "FLUX_CARBON_PICKLE_PORT = $CLOSED"
	get "metric=test.health.spooled&value=1&key=$KEY"
	expect 204
	get "status=true"
	[ "$(health '.spool.files, .last_delivery.outcome')" = '[1,"failed"]' ]
	[ "$(jq '.spool.oldest_age < 60' <<<"$cgi_body")" = true ]
}

@test "delivery held: 200 degraded, hold true" {
	touch "$STACK_DIR/spool/hold"
	get "status=true"
	expect 200
	[ "$(health '.status, .reasons, .hold, .carbon')" = '["degraded",["delivery held: points go to the spool"],true,"ok"]' ]
	no_detail
}

@test "spool unwritable while carbon is down: 503 with the reason" {
	write_conf "FLUX_CARBON_PICKLE_PORT = $CLOSED" "FLUX_SPOOL_PATH = $STACK_DIR/no-such-spool"
	get "status=true"
	expect 503
	[ "$(health '.code, .message, .status, .carbon, .spool.writable')" = '[503,"points could be neither delivered nor spooled: carbon unreachable and the spool is not writable","unavailable","unreachable",false]' ]
	no_detail
	post '{"status": true}'
	expect 503
	[ "$(health '.code, .status')" = '[503,"unavailable"]' ]
}

@test "spool unwritable while delivery is held: 503" {
	mkdir -p "$STACK_DIR/ro-spool"
	touch "$STACK_DIR/ro-spool/hold"
	# Immutable: not even root adds a file (a read-only mount's answer).
	chattr +i "$STACK_DIR/ro-spool"
	write_conf "FLUX_SPOOL_PATH = $STACK_DIR/ro-spool"
	get "status=true"
	chattr -i "$STACK_DIR/ro-spool"
	expect 503
	[ "$(health '.message, .hold, .carbon, .spool.writable, .spool.files')" = '["points could be neither delivered nor spooled: delivery held and the spool is not writable",true,"ok",false,0]' ]
	no_detail
}

@test "spool unwritable while carbon is up: 200 degraded, points still delivered" {
	write_conf "FLUX_SPOOL_PATH = $STACK_DIR/no-such-spool"
	get "status=true"
	expect 200
	[ "$(health '.status, .reasons, .spool.writable, .spool.files')" = '["degraded",["spool not writable: points carbon does not take would be refused"],false,null]' ]
	no_detail
}

@test "redis down: 200 degraded, points delivered without de-duplication" {
	write_conf "REDIS_TIMEOUT_MS = 200" "REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock"
	get "status=true"
	expect 200
	[ "$(health '.status, .reasons, .redis, .populate.queued, .last_delivery')" = '["degraded",["redis unavailable: points are delivered without de-duplication"],"unavailable",null,null]' ]
	no_detail
}

@test "carbon answers but the last delivery failed: carbon failing, degraded" {
	host=$(hostname | sed 's/[^A-Za-z0-9-]/_/g')
	now=$(date +%s)
	redis-cli -s "$REDIS_SOCK" hset "flux.stats.$host.$((now - now % 60))" \
	    carbon.last_delivery "$now failed cannot send to carbon '127.0.0.1:1': Broken pipe" >/dev/null
	get "status=true"
	expect 200
	[ "$(health '.status, .carbon, .last_delivery.outcome')" = '["degraded","failing","failed"]' ]
	no_detail
	# A delivery that worked since clears it.
	get "metric=test.health.ok&value=1&key=$KEY"
	expect 204
	get "status=true"
	[ "$(health '.status, .carbon, .last_delivery.outcome')" = '["ok","ok","ok"]' ]
}

@test "FLUX_SEND_TO_CARBON false: 200 degraded, points are not sent" {
	write_conf "FLUX_SEND_TO_CARBON = false"
	get "status=true"
	expect 200
	[ "$(health '.status, .reasons, .carbon')" = '["degraded",["FLUX_SEND_TO_CARBON is false: points are checked, not sent"],"not sending"]' ]
}

@test "the populate queue and pending uploads are counted" {
	write_conf "WEBAPP_ACCEPT_DATA_UPLOADS = true" "DATA_UPLOADS_PATH = $STACK_DIR/uploads"
	mkdir -p "$STACK_DIR/uploads/ns.a/1700000000_0123456789abcdef0123456789abcdef" \
	    "$STACK_DIR/uploads/ns.b/1700000001_0123456789abcdef0123456789abcdef" \
	    "$STACK_DIR/uploads/.failed/ns.a/1700000002_0123456789abcdef0123456789abcdef"
	redis-cli -s "$REDIS_SOCK" lpush flux.populate_metric.queue '{"a":1}' '{"b":2}' >/dev/null
	redis-cli -s "$REDIS_SOCK" zadd flux.populate_metric.running 1 '00000000000000aa 00000000000000bb {"c":3}' >/dev/null
	get "status=true"
	expect 200
	[ "$(health '.populate, .uploads')" = '[{"queued":2,"running":1},{"pending":2}]' ]
	# A job a Flux from before leases left running counts too.
	redis-cli -s "$REDIS_SOCK" lpush flux.populate_metric.processing '{"d":4}' >/dev/null
	get "status=true"
	expect 200
	[ "$(health '.populate')" = '[{"queued":2,"running":2}]' ]
}

@test "flux-batch status: every part, with the detail, exit 0 while points are accepted" {
	write_conf "FLUX_CARBON_PICKLE_PORT = $CLOSED"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" status
	[ "$status" = 0 ]
	[ "${lines[0]}" = "status: degraded" ]
	[ "${lines[1]}" = "reason: carbon unreachable: points go to the spool" ]
	[ "${lines[2]}" = "redis: ok" ]
	[ "${lines[3]}" = "carbon: unreachable (cannot connect to carbon '127.0.0.1:$CLOSED': Connection refused)" ]
	[ "${lines[4]}" = "last delivery: none in the last 60 minutes" ]
	[ "${lines[5]}" = "hold: no" ]
	[ "${lines[6]}" = "spool: writable, 0 files (0 points)" ]
	[ "${lines[7]}" = "populate: 0 queued, 0 running" ]
	[ "${lines[8]}" = "uploads: off" ]
}

@test "flux-batch status: exit 1 when points could be neither delivered nor spooled" {
	write_conf "FLUX_CARBON_PICKLE_PORT = $CLOSED" "FLUX_SPOOL_PATH = $STACK_DIR/no-such-spool"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" status
	[ "$status" = 1 ]
	[ "${lines[0]}" = "status: unavailable" ]
	[[ "${lines[*]}" == *"spool: cannot open spool directory '$STACK_DIR/no-such-spool': No such file or directory"* ]]
}
