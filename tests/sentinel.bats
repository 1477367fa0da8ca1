#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Redis behind Sentinel (issue 14, INSTALL "Scaling out"): a real master,
# a replica and three redis-sentinel processes on loopback ports, with
# passwords on both; Flux asks the sentinels for the master, checks its
# ROLE, and asks again after a connection error or READONLY, in plain
# CGIs, in resident FastCGI responders and in flux-batch.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"
# shellcheck source=lib/cluster.bash
source "$BATS_TEST_DIRNAME/lib/cluster.bash"

setup_file() {
	export CLUSTER_REDIS_PASSWORD=masterpw CLUSTER_SENTINEL_PASSWORD=sentinelpw
	suite_start sentinel carbon fake_remote
	start_redis_node one
	start_redis_node two one
	start_sentinels 3 one
	export STACK_DIR CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR REDIS_SENTINELS \
	    REMOTE_PORT REMOTE_DIR REMOTE_URL
}

teardown_file() {
	cluster_stop
	rm -rf "$STACK_DIR"
}

setup() {
	sentinel_conf
	cluster_master flushall >/dev/null
	TS=$(minute_ts 2)
}

teardown() {
	stop_fcgi
	stop_fake_sentinels
}

# sentinel_conf [EXTRA LINES...]: flux.conf through the suite's sentinels
# (REDIS_SOCKET_PATH is left pointing nowhere: the sentinels win).
sentinel_conf() {
	local -a lines=("REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock"
	    "REDIS_SENTINELS = $REDIS_SENTINELS" "REDIS_SENTINEL_MASTER = mymaster"
	    "REDIS_SENTINEL_PASSWORD = sentinelpw" "REDIS_PASSWORD = masterpw")
	local -a keep=()
	local line extra
	for line in "${lines[@]}"; do
		for extra in "$@"; do
			[ "${extra%% *}" = "${line%% *}" ] && continue 2
		done
		keep+=("$line")
	done
	write_conf "${keep[@]}" "$@"
}

# redis_is STATE: the health check just answered says Redis is STATE:
# "ok", or "unavailable" (and then Flux is "degraded", not down).
redis_is() {
	local want="\"$1\""
	[ "$1" = ok ] || want="\"degraded\",$want"
	[ "$1" != ok ] || want="$(jq -c .status <<<"$cgi_body"),$want"
	[ "$(jq -c '[.status, .redis]' <<<"$cgi_body")" = "[$want]" ] ||
		{ echo "health: $cgi_body" >&2; false; }
}

# master_last METRIC: the flux.last record on the master of now.
master_last() { cluster_master get "flux.last.$1"; }

# master_queue_len: jobs in the populate queue on the master of now.
master_queue_len() { cluster_master llen flux.populate_metric.queue; }

# point METRIC TS VALUE: GET metric_data, which must answer 204.
point() {
	get "metric=$1&timestamp=$2&value=$3&key=$KEY"
	expect 204
}

# fail_over: SENTINEL FAILOVER, then wait until another node is master and
# the old one says it is a replica (so a connection to it gets READONLY).
fail_over() {
	local old_port old
	old_port=$(cluster_master_port)
	old=$(cluster_master_node)
	# A replica (re)started by an earlier test is a candidate only once the
	# sentinels have seen it up and in sync (they poll every few seconds):
	# until then FAILOVER answers NOGOODSLAVE, so ask until one says OK.
	_stack_wait_for "" 60 eval '[ "$(cluster_sentinel 1 sentinel failover mymaster 2>&1)" = OK ]'
	cluster_wait_failover "$old_port" 60
	_stack_wait_for "" 60 eval "[ \"\$(cluster_redis_role $old)\" = slave ]"
}

# no_line PATTERN FILE: FILE has no line matching PATTERN (else show it).
no_line() {
	if grep -q -- "$1" "$2"; then
		grep -- "$1" "$2" >&2
		return 1
	fi
}

# fake_sentinel HOST PORT: a sentinel (tests/tools/fake_sentinel.py) that
# names HOST:PORT as the master, whatever that is, or what
# $STACK_DIR/fake-sentinel.answer says later; prints its port.
fake_sentinel() {
	local port ready
	port=$(flux_free_port)
	ready="$STACK_DIR/fake-sentinel-$port.ready"
	echo "$1 $2" > "$STACK_DIR/fake-sentinel.answer"
	/usr/bin/python3 "$FLUX_TOP/tests/tools/fake_sentinel.py" "$port" \
	    "$STACK_DIR/fake-sentinel.answer" "$ready" \
	    </dev/null >>"$STACK_DIR/fake-sentinel.log" 2>&1 3>&- &
	_stack_save_pid "fake-sentinel-$port" "$!"
	_stack_wait_for "$!" 10 test -f "$ready"
	echo "$port"
}

stop_fake_sentinels() {
	local f
	for f in "$STACK_DIR"/pids/fake-sentinel-*; do
		[ -e "$f" ] || continue
		_stack_stop_service "${f##*/}" "$STACK_DIR/${f##*/}.ready" 5
	done
}

@test "a point goes to the master the sentinels name, and reaches the replica" {
	point sentinel.plain.cpu "$TS" 1.5
	[ "$(master_last sentinel.plain.cpu)" = "[$TS, 1.5]" ]
	run whisper_fetch_value sentinel.plain.cpu "$TS"
	[ "$output" = 1.500000 ]
	replica=one
	[ "$(cluster_master_node)" = one ] && replica=two
	_stack_wait_for "" 10 eval "[ \"\$(cluster_redis $replica get flux.last.sentinel.plain.cpu)\" = '[$TS, 1.5]' ]"
	no_line warn "$STACK_DIR/cgi.err"
}

@test "the health check and de-duplication work through the sentinels" {
	get "status=true"
	expect 200
	redis_is ok
	[ -n "$(cluster_master get flux.listen)" ]
	point sentinel.dup.cpu "$TS" 1
	point sentinel.dup.cpu "$TS" 2
	[ "$(master_last sentinel.dup.cpu)" = "[$TS, 1.0]" ]
}

@test "flux-batch check names the master found through the sentinels" {
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" check
	printf '%s\n' "$output" | grep -qx "ok: redis master 'mymaster' answers (found through the sentinels)"
	sentinel_conf "REDIS_SENTINEL_MASTER = nosuch" "REDIS_SENTINEL_WAIT_MS = 0"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" check
	[ "$status" = 1 ]
	last_sentinel=${REDIS_SENTINELS##*, }
	printf '%s\n' "$output" | grep -qx "error: no redis master 'nosuch' from the sentinels within 0 ms: redis sentinel '$last_sentinel' knows no master 'nosuch'"
}

@test "a sentinel that is down is passed over for the next one" {
	p=$(flux_free_port)
	sentinel_conf "REDIS_SENTINELS = 127.0.0.1:$p, $REDIS_SENTINELS"
	point sentinel.next.cpu "$TS" 3
	[ "$(master_last sentinel.next.cpu)" = "[$TS, 3.0]" ]
	no_line warn "$STACK_DIR/cgi.err"
}

@test "no sentinel answers: after REDIS_SENTINEL_WAIT_MS the point goes without de-duplication" {
	p=$(flux_free_port)
	q=$(flux_free_port)
	sentinel_conf "REDIS_SENTINELS = 127.0.0.1:$p, 127.0.0.1:$q" "REDIS_SENTINEL_WAIT_MS = 300"
	point sentinel.none.cpu "$TS" 4
	grep -q "warn: no redis master 'mymaster' from the sentinels within 300 ms: cannot connect to redis sentinel '127.0.0.1:$q': Connection refused" "$STACK_DIR/cgi.err"
	grep -q "warn: de-duplication skipped for 1 points: redis unavailable" "$STACK_DIR/cgi.err"
	run whisper_fetch_value sentinel.none.cpu "$TS"
	[ "$output" = 4.000000 ]
	[ -z "$(master_last sentinel.none.cpu)" ]
	get "status=true"
	expect 200
	redis_is unavailable
}

@test "a master name the sentinels do not know is said so" {
	sentinel_conf "REDIS_SENTINEL_MASTER = nosuch" "REDIS_SENTINEL_WAIT_MS = 0"
	get "status=true"
	expect 200
	redis_is unavailable
	last_sentinel=${REDIS_SENTINELS##*, }
	grep -q "warn: no redis master 'nosuch' from the sentinels within 0 ms: redis sentinel '$last_sentinel' knows no master 'nosuch'" "$STACK_DIR/cgi.err"
}

@test "a wrong sentinel password and a wrong master password are said so" {
	last_sentinel=${REDIS_SENTINELS##*, }
	sentinel_conf "REDIS_SENTINEL_PASSWORD = wrong" "REDIS_SENTINEL_WAIT_MS = 0"
	get "status=true"
	expect 200
	redis_is unavailable
	grep -q "within 0 ms: redis sentinel '$last_sentinel' AUTH failed: WRONGPASS invalid username-password pair or user is disabled." "$STACK_DIR/cgi.err"
	sentinel_conf "REDIS_PASSWORD = wrong" "REDIS_SENTINEL_WAIT_MS = 0"
	get "status=true"
	expect 200
	redis_is unavailable
	grep -q "within 0 ms: redis '127.0.0.1:$(cluster_master_port)' AUTH failed: WRONGPASS invalid username-password pair or user is disabled." "$STACK_DIR/cgi.err"
	no_line 'masterpw\|sentinelpw' "$STACK_DIR/cgi.err"
}

@test "a sentinel that names a replica: ROLE tells, and the next sentinel is asked" {
	replica=one
	[ "$(cluster_master_node)" = one ] && replica=two
	fake=$(fake_sentinel 127.0.0.1 "$(cluster_port . "redis-$replica")")
	sentinel_conf "REDIS_SENTINELS = 127.0.0.1:$fake" "REDIS_SENTINEL_WAIT_MS = 300"
	get "status=true"
	expect 200
	redis_is unavailable
	grep -q "within 300 ms: redis '127.0.0.1:$(cluster_port . "redis-$replica")', named master 'mymaster' by 127.0.0.1:$fake, is not a master (role slave)" "$STACK_DIR/cgi.err"
	# The stale sentinel first, a real one after it: the point goes to the master.
	sentinel_conf "REDIS_SENTINELS = 127.0.0.1:$fake, ${REDIS_SENTINELS%%,*}"
	point sentinel.stale.cpu "$TS" 5
	[ "$(master_last sentinel.stale.cpu)" = "[$TS, 5.0]" ]
}

@test "a resident responder follows a fail-over: the sentinels close its connection, it asks them again" {
	export FLUX_MODE=fcgi
	point sentinel.resident.cpu "$TS" 1
	fail_over
	point sentinel.resident.cpu $((TS + 60)) 2
	[ "$(master_last sentinel.resident.cpu)" = "[$((TS + 60)), 2.0]" ]
	grep -q "warn: redis de-duplication failed: Server closed the connection" "$STACK_DIR/cgi.err"
	no_line "de-duplication skipped" "$STACK_DIR/cgi.err"
	run whisper_fetch_value sentinel.resident.cpu $((TS + 60))
	[ "$output" = 2.000000 ]
	# The same resident keeps de-duplicating on the new master.
	point sentinel.resident.cpu $((TS + 60)) 3
	[ "$(master_last sentinel.resident.cpu)" = "[$((TS + 60)), 2.0]" ]
}

@test "a resident responder whose master is demoted under it gets READONLY and asks the sentinels again" {
	# Two nodes the suite's sentinels do not watch, and a sentinel that
	# names the first, then the second: a demotion that leaves the
	# clients' connections open (REPLICAOF by hand, a partition healing).
	start_redis_node ro1
	start_redis_node ro2
	fake=$(fake_sentinel 127.0.0.1 "$(cluster_port . redis-ro1)")
	sentinel_conf "REDIS_SENTINELS = 127.0.0.1:$fake" "REDIS_SENTINEL_WAIT_MS = 5000"
	export FLUX_MODE=fcgi
	point sentinel.readonly.cpu "$TS" 1
	[ "$(cluster_redis ro1 get flux.last.sentinel.readonly.cpu)" = "[$TS, 1.0]" ]
	cluster_redis ro1 replicaof 127.0.0.1 "$(cluster_port . redis-ro2)" >/dev/null
	echo "127.0.0.1 $(cluster_port . redis-ro2)" > "$STACK_DIR/fake-sentinel.answer"
	point sentinel.readonly.cpu $((TS + 60)) 2
	grep -q "warn: redis de-duplication failed: READONLY You can't write against a read only replica." "$STACK_DIR/cgi.err"
	no_line "de-duplication skipped" "$STACK_DIR/cgi.err"
	[ "$(cluster_redis ro2 get flux.last.sentinel.readonly.cpu)" = "[$((TS + 60)), 2.0]" ]
	stop_redis_node ro1
	stop_redis_node ro2
}

@test "a resident responder rides out a SIGKILL of the master and the promotion of its replica" {
	export FLUX_MODE=fcgi
	# Longer than any promotion here: the request waits for the new master.
	sentinel_conf "REDIS_SENTINEL_WAIT_MS = 30000"
	point sentinel.killed.cpu "$TS" 1
	old=$(cluster_master_node)
	old_port=$(cluster_master_port)
	stop_redis_node "$old" KILL
	point sentinel.killed.cpu $((TS + 60)) 2
	# The sentinel asked here may learn of the promotion a moment after
	# the one Flux found it through (they tell each other every 2 s).
	cluster_wait_failover "$old_port" 30
	[ "$(master_last sentinel.killed.cpu)" = "[$((TS + 60)), 2.0]" ]
	no_line "de-duplication skipped" "$STACK_DIR/cgi.err"
	run whisper_fetch_value sentinel.killed.cpu $((TS + 60))
	[ "$output" = 2.000000 ]
	# The killed node comes back as a replica of the new master.
	start_redis_node "$old" "$(cluster_master_node)"
	# A plain CGI asks the sentinels and finds the new master too.
	export FLUX_MODE=cgi
	point sentinel.killed.cpu $((TS + 120)) 3
	[ "$(master_last sentinel.killed.cpu)" = "[$((TS + 120)), 3.0]" ]
}

@test "populate_metric and upload_status go through the sentinels too" {
	populate_post "$(jq -nc --arg k "$KEY" '{remote_host_type: "graphite",
	    remote_target: "remote.s", metric: "sentinel.populate", namespace_prefix: null,
	    key: $k, token: "None", user: "None", password: "None",
	    fetch_resolution_urls: ["http://127.0.0.1:1/render?target=x"]}')"
	expect 204
	[ "$(cluster_master llen flux.populate_metric.queue)" = 1 ]
	sentinel_conf "WEBAPP_ACCEPT_DATA_UPLOADS = true"
	cluster_master set flux.upload_status.ns.1_abc '{"status": "pending"}' >/dev/null
	cgi upload_status GET "upload_id_key=ns.1_abc"
	expect 200 '{"upload": {"status": "pending"}}'
}

@test "a populate job is queued once a replica has it too, else the log says so" {
	job='{"remote_host_type": "graphite", "remote_target": "remote.w",
	    "metric": "sentinel.wait", "namespace_prefix": null, "key": "'$KEY'",
	    "token": "None", "user": "None", "password": "None",
	    "fetch_resolution_urls": ["http://127.0.0.1:1/render?target=x"]}'
	replica=one
	[ "$(cluster_master_node)" = one ] && replica=two
	# A node an earlier test brought back may still be copying its master
	# (the sentinels can also make it copy again): wait until it follows,
	# and give WAIT room (half of REDIS_TIMEOUT_MS) on a loaded machine.
	cluster_wait_synced "$replica" 60
	sentinel_conf "REDIS_TIMEOUT_MS = 10000"
	populate_post "$job"
	expect 204
	no_line "master only" "$STACK_DIR/cgi.err"
	[ "$(cluster_redis "$replica" llen flux.populate_metric.queue)" = 1 ]
	# No replica: queued all the same, and said so.
	master=$(cluster_master_node)
	stop_redis_node "$replica"
	sentinel_conf "REDIS_TIMEOUT_MS = 300"
	populate_post "$job"
	expect 204
	grep -q "warn: populate job for 'sentinel.wait' queued on the redis master only: no replica has it after 150 ms; a fail-over now would lose it" "$STACK_DIR/cgi.err" || { cat "$STACK_DIR/cgi.err"; false; }
	[ "$(master_queue_len)" = 2 ]
	start_redis_node "$replica" "$master"
}

@test "flux-batch populate rides out a fail-over in the middle of a job" {
	N=$(( $(date +%s) / 60 * 60 ))
	for ((t = N - 600; t < N; t += 60)); do pts+="${pts:+, }[$(( t / 60 % 100 )), $t]"; done
	printf '[{"target": "remote.x", "datapoints": [%s]}]' "$pts" > "$REMOTE_DIR/fo.json"
	touch "$REMOTE_DIR/fo.json.hold"
	populate_post "$(jq -nc --arg k "$KEY" --arg u "$REMOTE_URL/hold/fo.json" \
	    '{remote_host_type: "graphite", remote_target: "remote.fo",
	    metric: "sentinel.failover.batch", namespace_prefix: null, key: $k,
	    token: "None", user: "None", password: "None", fetch_resolution_urls: [$u]}')"
	expect 204
	sentinel_conf "REDIS_SENTINEL_WAIT_MS = 30000" "FLUX_BATCH_LEASE_SECONDS = 3"
	"$FLUX_TOP/batch/flux-batch" populate 2>"$STACK_DIR/batch.log" 3>&- &
	pid=$!
	_stack_wait_for "" 30 grep -qs '^/hold/fo.json' "$REMOTE_DIR/requests.log"
	fail_over
	rm "$REMOTE_DIR/fo.json.hold"
	wait "$pid" || { cat "$STACK_DIR/batch.log" >&2; false; }
	cat "$STACK_DIR/batch.log" >&2
	grep -q "populate 'sentinel.failover.batch': 1 of 1 URLs fetched, 10 points, 10 bins kept, 10 sent" "$STACK_DIR/batch.log"
	[ "$(master_last sentinel.failover.batch)" = "[$((N - 60)), $(( (N - 60) / 60 % 100 )).0]" ]
	[ "$(cluster_master llen flux.populate_metric.queue)" = 0 ]
	[ "$(cluster_master zcard flux.populate_metric.running)" = 0 ]
}
