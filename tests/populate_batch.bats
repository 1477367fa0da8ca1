#!/usr/bin/env bats
# flux-batch populate (SPEC 7): queued populate_metric jobs fetched from a
# real graphite-web (the "remote" history is written through the stack's
# carbon-cache under remote.*), a real Prometheus, and a fake remote with
# hostile answers (tests/tools/remote.py); delivered to the real carbon and
# read back from whisper.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start popbat redis carbon graphite_web prometheus fake_remote
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR \
	    GRAPHITE_WEB_PORT PROMETHEUS_PORT REMOTE_PORT REMOTE_DIR REMOTE_URL
	# Three hours of 1-minute history, ending a minute before this one,
	# shared by the tests that only need "some remote history".
	export HIST_END=$(( $(date +%s) / 60 * 60 - 60 ))
	local t
	for ((t = HIST_END - 179 * 60; t <= HIST_END; t += 60)); do
		echo "remote.hist.cpu $t $(( t / 60 % 1000 )).25"
	done > "$STACK_DIR/hist.txt"
	carbon_pickle "$STACK_DIR/hist.txt"
	wait_count remote.hist.cpu $((HIST_END - 4 * 3600)) "$HIST_END" 180 30 >/dev/null
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf "GRAPHITE_HOST = 127.0.0.1" "GRAPHITE_PORT = $GRAPHITE_WEB_PORT"
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR"/spool/*.spool "$REMOTE_DIR/requests.log"
	unset FLUX_NOW FLUX_FETCH_TIMEOUT_MS
	GW="http://127.0.0.1:$GRAPHITE_WEB_PORT"
	HIST_URL="$GW/render/?from=-6hours&format=json&target=remote.hist.cpu"
}

# job METRIC TYPE URL...: queue a job through the CGI, as Vista would.
# JOB_EDIT, a jq filter, may change the payload first.
job() {
	local metric=$1 type=$2 urls
	shift 2
	urls=$(printf '%s\n' "$@" | jq -Rnc '[inputs]')
	populate_post "$(jq -nc --arg k "$KEY" --arg m "$metric" --arg t "$type" \
	    --argjson u "$urls" '{remote_host_type: $t, remote_target: ("remote." + $m),
	    metric: $m, namespace_prefix: null, key: $k, token: "None",
	    user: "None", password: "None", fetch_resolution_urls: $u}' |
	    jq -c "${JOB_EDIT:-.}")"
	expect 204
}

# gfile NAME TS:VALUE...: a graphite render answer the fake remote serves
# as /file/NAME (VALUE may be null).
gfile() {
	local name=$1 sep="" p
	shift
	{
		printf '[{"target": "remote.x", "tags": {"name": "remote.x"}, "datapoints": ['
		for p in "$@"; do printf '%s[%s, %s]' "$sep" "${p#*:}" "${p%%:*}"; sep=", "; done
		printf ']}]'
	} > "$REMOTE_DIR/$name"
}

# pfile NAME TS:VALUE...: a Prometheus query_range answer (values as strings).
pfile() {
	local name=$1 sep="" p
	shift
	{
		printf '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"x"},"values":['
		for p in "$@"; do printf '%s[%s,"%s"]' "$sep" "${p%%:*}" "${p#*:}"; sep=","; done
		printf ']}]}}'
	} > "$REMOTE_DIR/$name"
}

# ok_run: the last flux-batch run succeeded (its log shown if not).
ok_run() {
	if [ "$batch_status" != 0 ]; then
		echo "flux-batch exited $batch_status:" >&2
		echo "$batch_log" >&2
		return 1
	fi
}

# failed_once MESSAGE: the run failed (exit 1, not a crash) with MESSAGE in
# its log, and the job went back to the queue with one attempt counted.
failed_once() {
	if [ "$batch_status" != 1 ] || [[ "$batch_log" != *"$1"* ]]; then
		echo "expected exit 1 and: $1" >&2
		echo "got exit $batch_status:" >&2
		echo "$batch_log" >&2
		return 1
	fi
	[ "$(queued | wc -l)" = 1 ]
	[[ "$(queued)" == *'"attempts":1,'* ]]
	[ -z "$(running)" ]
}

@test "a first populate of a new metric: 7 days at 10-minute and 1-minute resolutions, as Vista asks" {
	N=$(( $(date +%s) / 60 * 60 ))
	# 10-minute points from 7 days back (an hour inside the 7-day retention)
	# to a day back, then 1-minute points up to the minute before this one;
	# none near the -24hours boundary the two URLs share.
	{
		for ((t = (N - 7 * 86400 + 3600) / 600 * 600; t <= N - 86400 - 600; t += 600)); do
			echo "remote.first.cpu $t $(( t / 60 % 1000 )).5"
		done
		for ((t = N - 86400 + 120; t <= N - 60; t += 60)); do
			echo "remote.first.cpu $t $(( t / 60 % 1000 )).5"
		done
	} > "$BATS_TEST_TMPDIR/first.txt"
	n=$(wc -l < "$BATS_TEST_TMPDIR/first.txt")
	carbon_pickle "$BATS_TEST_TMPDIR/first.txt"
	wait_count remote.first.cpu $((N - 8 * 86400)) "$N" "$n" 30
	job target.first.cpu graphite \
	    "$GW/render/?from=-7days&until=-24hours&format=json&target=remote.first.cpu" \
	    "$GW/render/?from=-24hours&format=json&target=remote.first.cpu"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate 'target.first.cpu': no last timestamp, new metric"* ]]
	[[ "$batch_log" == *"2 of 2 URLs fetched, "*" points, $n bins kept, $n sent, 0 spooled"* ]]
	wait_count target.first.cpu $((N - 8 * 86400)) "$N" "$n" 30
	# Every point, value for value.
	diff <(whisper-fetch --from=$((N - 8 * 86400)) --until="$N" "$(_stack_wsp remote.first.cpu)") \
	     <(whisper-fetch --from=$((N - 8 * 86400)) --until="$N" "$(_stack_wsp target.first.cpu)")
	[ "$(last target.first.cpu)" = "[$((N - 60)), $(( (N - 60) / 60 % 1000 )).5]" ]
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
	[ "$(redis-cli -s "$REDIS_SOCK" sismember vista.fetcher.unique_metrics remote.target.first.cpu)" = 1 ]
}

@test "a key with a namespace prefix back-fills only metrics in its namespace" {
	N=$(( $(date +%s) / 60 * 60 ))
	gfile tenant.json "$((N - 180)):1" "$((N - 120)):2" "$((N - 60)):3"
	redis-cli -s "$REDIS_SOCK" set flux.last.victim.cpu "[$((N - 600)), 9.0]" >/dev/null
	JOB_EDIT=".key = \"$PKEY\"" job victim.cpu graphite "$REMOTE_URL/file/tenant.json"
	[[ "$(queued)" == *'"metric":"team.a.victim.cpu"'* ]]
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate 'team.a.victim.cpu': "*"3 bins kept, 3 sent"* ]]
	wait_count team.a.victim.cpu $((N - 240)) "$N" 3
	[ "$(last team.a.victim.cpu)" = "[$((N - 60)), 3.0]" ]
	# The other tenant's metric is untouched: no file, its record as it was.
	[ ! -e "$(_stack_wsp victim.cpu)" ]
	[ "$(last victim.cpu)" = "[$((N - 600)), 9.0]" ]
}

@test "a catch-up: flux.last is recent, only the gap after it is sent" {
	redis-cli -s "$REDIS_SOCK" set flux.last.target.catchup.cpu "[$((HIST_END - 3600)), 1.0]" >/dev/null
	job target.catchup.cpu graphite "$HIST_URL"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate 'target.catchup.cpu': last timestamp $((HIST_END - 3600))"* ]]
	[[ "$batch_log" == *"1 of 1 URLs fetched, 180 points, 60 bins kept, 60 sent, 0 spooled"* ]]
	wait_count target.catchup.cpu $((HIST_END - 3600)) "$HIST_END" 60
	[ "$(whisper_count target.catchup.cpu $((HIST_END - 4 * 3600)) $((HIST_END - 3600)))" = 0 ]
	[ "$(last target.catchup.cpu)" = "[$HIST_END, $(( HIST_END / 60 % 1000 )).25]" ]
}

@test "a catch-up from the entry Skyline left in flux.last.metric_data; both records move on" {
	# After a move from Skyline's Flux: the entry, and no string key (it expired).
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data target.entry.cpu "{'timestamp': $((HIST_END - 3600)), 'value': 12.5}" >/dev/null
	job target.entry.cpu graphite "$HIST_URL"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate 'target.entry.cpu': last timestamp $((HIST_END - 3600))"* ]]
	[[ "$batch_log" == *", 60 bins kept, 60 sent, "* ]]
	[ "$(last target.entry.cpu)" = "[$HIST_END, $(( HIST_END / 60 % 1000 )).25]" ]
	[ "$(entry target.entry.cpu)" = "{'timestamp': $HIST_END, 'value': $(( HIST_END / 60 % 1000 )).25}" ]
}

# populate_over METRIC RECORD_TS ENTRY_TS ENTRY_VALUE: run a job for
# METRIC over its record at RECORD_TS and its entry at ENTRY_TS, the
# entry's value written as Python or Vista writes it.
populate_over() {
	redis-cli -s "$REDIS_SOCK" set "flux.last.$1" "[$2, 1.0]" >/dev/null
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data "$1" "{'timestamp': $3, 'value': $4}" >/dev/null
	job "$1" graphite "$HIST_URL"
	flux_batch populate
	ok_run
}

@test "the newer of the record and the entry is the last timestamp" {
	# Vista's fetcher writes entries of its own, with None for a null value.
	populate_over target.newer.cpu $((HIST_END - 3600)) $((HIST_END - 600)) None
	[[ "$batch_log" == *"populate 'target.newer.cpu': last timestamp $((HIST_END - 600))"* ]]
	[[ "$batch_log" == *", 10 bins kept, 10 sent, "* ]]
	populate_over target.newer2.cpu $((HIST_END - 600)) $((HIST_END - 3600)) 1.0
	[[ "$batch_log" == *"populate 'target.newer2.cpu': last timestamp $((HIST_END - 600))"* ]]
	[ "$(entry target.newer2.cpu)" = "{'timestamp': $HIST_END, 'value': $(( HIST_END / 60 % 1000 )).25}" ]
}

@test "a flux.last holding a bare integer timestamp is read too" {
	redis-cli -s "$REDIS_SOCK" set flux.last.target.bare.cpu "$((HIST_END - 600))" >/dev/null
	job target.bare.cpu graphite "$HIST_URL"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *", 10 bins kept, 10 sent, "* ]]
	[ "$(last target.bare.cpu)" = "[$HIST_END, $(( HIST_END / 60 % 1000 )).25]" ]
}

@test "nothing newer than flux.last: nothing is sent and the record stays" {
	redis-cli -s "$REDIS_SOCK" set flux.last.target.ahead.cpu "[$((HIST_END - 600)), 7.0]" >/dev/null
	# A remote that has nothing newer: nothing is sent, the record stays.
	gfile ahead.json "$((HIST_END - 1200)):1"
	job target.ahead.cpu graphite "$REMOTE_URL/file/ahead.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"0 bins kept, 0 sent"* ]]
	[ "$(last target.ahead.cpu)" = "[$((HIST_END - 600)), 7.0]" ]
	[ -z "$(entry target.ahead.cpu)" ]
}

@test "a metric unknown to the local Graphite gets every point fetched" {
	job target.unknown.cpu graphite "$HIST_URL"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate 'target.unknown.cpu': no last timestamp, new metric"* ]]
	[[ "$batch_log" == *"180 bins kept, 180 sent"* ]]
	wait_count target.unknown.cpu $((HIST_END - 4 * 3600)) "$HIST_END" 180
	# The local render API was asked for every window, in Skyline's order.
	log="$STACK_DIR/graphite-web/runserver.log"
	# The dev server may write its log line after the answer: wait for it.
	for _ in $(seq 50); do
		[ "$(grep -c 'target=target.unknown.cpu&format=json&from=' "$log")" = 6 ] && break
		sleep 0.1
	done
	[ "$(grep -c 'target=target.unknown.cpu&format=json&from=' "$log")" = 6 ]
	[ "$(grep -o 'target=target.unknown.cpu&format=json&from=[^ ]*' "$log" | cut -d= -f4 | tr '\n' ' ')" = \
	    "-50mins -6hours -24hours -7days -30days -90days " ]
}

@test "with GRAPHITE_HOST unset, no local Graphite is asked: every point is taken, the log says why" {
	# The port of the suite's graphite-web, the host left unset: a lookup
	# would show in its log.
	write_conf "GRAPHITE_PORT = $GRAPHITE_WEB_PORT"
	job target.nolocal.cpu graphite "$HIST_URL"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"info: populate 'target.nolocal.cpu': no local graphite to ask for the last timestamp (GRAPHITE_HOST is not set); taking every point fetched"* ]]
	[[ "$batch_log" == *"populate 'target.nolocal.cpu': no last timestamp, new metric"* ]]
	[[ "$batch_log" == *"180 bins kept, 180 sent"* ]]
	[[ "$batch_log" != *"local graphite lookup failed"* ]]
	run grep -c 'target=target.nolocal.cpu' "$STACK_DIR/graphite-web/runserver.log"
	[ "$output" = 0 ]
}

@test "a metric the local Graphite knows, without flux.last, is filled after its newest point" {
	for ((t = HIST_END - 7200; t <= HIST_END - 3600; t += 60)); do
		echo "target.known.cpu $t 999"
	done > "$BATS_TEST_TMPDIR/known.txt"
	carbon_pickle "$BATS_TEST_TMPDIR/known.txt"
	wait_count target.known.cpu $((HIST_END - 7260)) $((HIST_END - 3600)) 61
	job target.known.cpu graphite "$HIST_URL"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate 'target.known.cpu': last timestamp $((HIST_END - 3600))"* ]]
	[[ "$batch_log" == *"60 bins kept, 60 sent"* ]]
	wait_count target.known.cpu $((HIST_END - 3600)) "$HIST_END" 60
	run whisper_fetch_value target.known.cpu $((HIST_END - 3600))
	[ "$output" = "999.000000" ]
}

@test "a remote that is down: the job is retried with attempts counted, dropped at 5" {
	port=$(flux_free_port)
	job target.down.cpu graphite "http://127.0.0.1:$port/render?target=x&format=json"
	for i in 1 2 3 4; do
		flux_batch populate
		[ "$batch_status" = 1 ]
		[[ "$batch_log" == *"attempt $i of 5 failed, queued again: cannot fetch 'http://127.0.0.1:$port/render?target=x&format=json': "* ]]
		[[ "$(queued)" == *"\"attempts\":$i,"* ]]
		[[ "$(queued)" == *'"last_error":"cannot fetch '* ]]
		[ -z "$(running)" ]
	done
	flux_batch populate
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"error: populate 'target.down.cpu': dropped after 5 attempts: cannot fetch 'http://127.0.0.1:$port/"* ]]
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
	[ -z "$(last target.down.cpu)" ]
}

@test "a job interrupted by kill -9 stays queued and the next run completes it" {
	N=$(( $(date +%s) / 60 * 60 ))
	pts=()
	for ((t = N - 1800; t < N; t += 60)); do pts+=("$t:$(( t / 60 % 100 ))"); done
	gfile kill.json "${pts[@]}"
	touch "$REMOTE_DIR/kill.json.hold"
	job target.kill.cpu graphite "$REMOTE_URL/hold/kill.json"
	"$FLUX_TOP/batch/flux-batch" populate 2>"$BATS_TEST_TMPDIR/killed.log" 3>&- &
	pid=$!
	for _ in $(seq 100); do
		grep -qs '^/hold/kill.json' "$REMOTE_DIR/requests.log" && break
		sleep 0.1
	done
	kill -9 "$pid"
	wait "$pid" || true
	[ -z "$(queued)" ]
	[[ "$(running)" == *'"metric":"target.kill.cpu"'*'"attempts":1,'* ]]
	rm "$REMOTE_DIR/kill.json.hold"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"1 jobs left by an interrupted run queued again"* ]]
	[[ "$batch_log" == *"30 bins kept, 30 sent"* ]]
	wait_count target.kill.cpu $((N - 1860)) "$N" 30
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
}

@test "a job killed by SIGKILL at random points, three times, is completed by the next run" {
	N=$(( $(date +%s) / 60 * 60 ))
	pts=()
	# 10,000 minutes (carbon keeps 7 days): a run takes some 30-50 ms,
	# and the kills come 3 to 30 ms after the start.
	for ((t = N - 10000 * 60; t < N; t += 60)); do pts+=("$t:$(( t / 60 % 1000 )).5"); done
	gfile rkill.json "${pts[@]}"
	job target.rkill.cpu graphite "$REMOTE_URL/file/rkill.json"
	# At most 4 attempts in all: a job taken 5 times is dropped (SPEC 7).
	for k in 1 2 3; do
		"$FLUX_TOP/batch/flux-batch" populate 2>>"$BATS_TEST_TMPDIR/killed.log" 3>&- &
		pid=$!
		sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.3f", 0.003 + rand() * 0.027 }')"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
	done
	flux_batch populate
	ok_run
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
	wait_count target.rkill.cpu $((N - 10001 * 60)) "$N" 10000 30
	[ "$(whisper_fetch_value target.rkill.cpu $((N - 600)))" = "$(printf '%d.500000' $(( (N - 600) / 60 % 1000 )))" ]
}

# node_b: a second node's config (its own spool, so its own lock and node
# id) beside the suite's, in $STACK_DIR/flux-b.conf.
node_b() {
	mkdir -p "$STACK_DIR/spool-b"
	chmod 777 "$STACK_DIR/spool-b"
	sed "s|^FLUX_SPOOL_PATH = .*|FLUX_SPOOL_PATH = $STACK_DIR/spool-b|" "$FLUX_CONF" \
	    > "$STACK_DIR/flux-b.conf"
}

# redis_ms: Redis's clock in milliseconds (leases are on it).
redis_ms() {
	redis-cli -s "$REDIS_SOCK" time | { read -r s; read -r us; echo $(( s * 1000 + us / 1000 )); }
}

# held_job METRIC: a job for METRIC whose one answer (5 points) waits
# while $REMOTE_DIR/METRIC.json.hold exists.
held_job() {
	local N=$(( $(date +%s) / 60 * 60 ))
	gfile "$1.json" "$((N - 300)):1" "$((N - 240)):2" "$((N - 180)):3" \
	    "$((N - 120)):4" "$((N - 60)):5"
	touch "$REMOTE_DIR/$1.json.hold"
	job "$1" graphite "$REMOTE_URL/hold/$1.json"
}

# asked N: wait until the fake remote has been asked N held URLs.
asked() {
	_stack_wait_for "" 30 eval "[ \"\$(grep -c '^/hold/' '$REMOTE_DIR/requests.log' 2>/dev/null)\" -ge $1 ]"
}

@test "runs on two nodes at once never take the same job, and leave none" {
	node_b
	for i in 1 2 3 4 5 6; do held_job "target.two.n$i"; done
	"$FLUX_TOP/batch/flux-batch" populate 2>"$BATS_TEST_TMPDIR/a.log" 3>&- &
	a=$!
	"$FLUX_TOP/batch/flux-batch" -c "$STACK_DIR/flux-b.conf" populate \
	    2>"$BATS_TEST_TMPDIR/b.log" 3>&- &
	b=$!
	# Each node holds a job of its own before any answer comes.
	asked 2
	[ "$(redis-cli -s "$REDIS_SOCK" zcard flux.populate_metric.running)" = 2 ]
	[ "$(redis-cli -s "$REDIS_SOCK" zrange flux.populate_metric.running 0 -1 | cut -d' ' -f1 | sort -u | wc -l)" = 2 ]
	rm "$REMOTE_DIR"/*.hold
	wait "$a"
	wait "$b"
	cat "$BATS_TEST_TMPDIR/a.log" "$BATS_TEST_TMPDIR/b.log" > "$BATS_TEST_TMPDIR/both.log"
	for i in 1 2 3 4 5 6; do
		[ "$(grep -c "populate 'target.two.n$i': 1 of 1 URLs fetched, 5 points, 5 bins kept, 5 sent" "$BATS_TEST_TMPDIR/both.log")" = 1 ]
		[ "$(grep -c "^/hold/target.two.n$i.json" "$REMOTE_DIR/requests.log")" = 1 ]
		wait_count "target.two.n$i" $(( $(date +%s) - 600 )) "$(date +%s)" 5 >/dev/null
	done
	grep -q "jobs done" "$BATS_TEST_TMPDIR/a.log"
	grep -q "jobs done" "$BATS_TEST_TMPDIR/b.log"
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
}

@test "another node's job is left alone until its lease runs out, then taken with its attempt counted" {
	port=$(flux_free_port)
	job target.other.cpu graphite "http://127.0.0.1:$port/render?target=x&format=json"
	# As a run of another node leaves it when it dies: its attempt counted.
	text=$(redis-cli -s "$REDIS_SOCK" rpop flux.populate_metric.queue)
	text=${text/\"attempts\":0,/\"attempts\":1,}
	deadline=$(( $(redis_ms) + 2500 ))
	redis-cli -s "$REDIS_SOCK" zadd flux.populate_metric.running "$deadline" \
	    "00000000000000aa 00000000000000bb $text" >/dev/null
	flux_batch populate
	ok_run
	[[ "$batch_log" != *target.other.cpu* ]]
	[ "$(running | wc -l)" = 1 ]
	_stack_wait_for "" 10 eval "[ \$(redis_ms) -gt $deadline ]"
	flux_batch populate
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"populate: 1 jobs left by an interrupted run queued again"* ]]
	[[ "$batch_log" == *"populate 'target.other.cpu': attempt 2 of 5 failed, queued again: "* ]]
	[[ "$(queued)" == *'"attempts":2,'* ]]
	[ -z "$(running)" ]
}

@test "a job leased by this node's own run that died is taken back at once" {
	flux_batch populate
	node=$(head -c 16 "$STACK_DIR/spool/.flux-batch.lock")
	[[ "$node" =~ ^[0-9a-f]{16}$ ]]
	job target.own.cpu graphite "$HIST_URL"
	text=$(redis-cli -s "$REDIS_SOCK" rpop flux.populate_metric.queue)
	redis-cli -s "$REDIS_SOCK" zadd flux.populate_metric.running $(( $(redis_ms) + 600000 )) \
	    "$node 00000000000000cc $text" >/dev/null
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate: 1 jobs left by an interrupted run queued again"* ]]
	[[ "$batch_log" == *"populate 'target.own.cpu': "*"180 bins kept, 180 sent"* ]]
	[ -z "$(running)" ]
	# The id stays the node's from run to run.
	[ "$(head -c 16 "$STACK_DIR/spool/.flux-batch.lock")" = "$node" ]
}

@test "a running job's lease is renewed: a run on another node meanwhile leaves it alone" {
	write_conf "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "FLUX_BATCH_LEASE_SECONDS = 3"
	node_b
	held_job target.renewed.cpu
	"$FLUX_TOP/batch/flux-batch" populate 2>"$BATS_TEST_TMPDIR/a.log" 3>&- &
	a=$!
	asked 1
	deadline=$(( $(redis-cli -s "$REDIS_SOCK" zrange flux.populate_metric.running 0 0 withscores | sed -n 2p) ))
	# Past the first lease's end: only renewals keep the job node A's.
	_stack_wait_for "" 30 eval "[ \$(redis_ms) -gt $((deadline + 1000)) ]"
	flux_batch -c "$STACK_DIR/flux-b.conf" populate
	ok_run
	[[ "$batch_log" != *target.renewed.cpu* ]]
	[ "$(running | wc -l)" = 1 ]
	rm "$REMOTE_DIR/target.renewed.cpu.json.hold"
	wait "$a"
	grep -q "populate 'target.renewed.cpu': 1 of 1 URLs fetched, 5 points, 5 bins kept, 5 sent" "$BATS_TEST_TMPDIR/a.log"
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
}

@test "a run whose lease was lost to another node stops and leaves the job to it" {
	write_conf "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "FLUX_BATCH_LEASE_SECONDS = 3"
	held_job target.lost.cpu
	"$FLUX_TOP/batch/flux-batch" populate 2>"$BATS_TEST_TMPDIR/a.log" 3>&- &
	a=$!
	asked 1
	# As another node would once the lease had run out: the job is its now.
	entry=$(redis-cli -s "$REDIS_SOCK" zrange flux.populate_metric.running 0 0)
	redis-cli -s "$REDIS_SOCK" zrem flux.populate_metric.running "$entry" >/dev/null
	redis-cli -s "$REDIS_SOCK" zadd flux.populate_metric.running $(( $(redis_ms) + 600000 )) \
	    "00000000000000dd 00000000000000ee ${entry#* * }" >/dev/null
	wait "$a"
	grep -q "warn: populate 'target.lost.cpu': its lease ran out and another run took it; leaving it to that run" "$BATS_TEST_TMPDIR/a.log"
	if grep -q "target.lost.cpu': .* sent" "$BATS_TEST_TMPDIR/a.log"; then false; fi
	[ -z "$(queued)" ]
	[ "$(redis-cli -s "$REDIS_SOCK" zrange flux.populate_metric.running 0 -1 | cut -c1-16)" = 00000000000000dd ]
	[ -z "$(last target.lost.cpu)" ]
	rm "$REMOTE_DIR/target.lost.cpu.json.hold"
}

@test "jobs a Flux from before leases left in its processing list are queued again" {
	job target.legacy.cpu graphite "$HIST_URL"
	redis-cli -s "$REDIS_SOCK" rpoplpush flux.populate_metric.queue flux.populate_metric.processing >/dev/null
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"populate: 1 jobs left by an interrupted run queued again"* ]]
	[[ "$batch_log" == *"populate 'target.legacy.cpu': "*"180 bins kept, 180 sent"* ]]
	[ "$(redis-cli -s "$REDIS_SOCK" exists flux.populate_metric.processing)" = 0 ]
}

@test "a Prometheus remote: query_range, and Vista's instant query over a range" {
	write_conf "GRAPHITE_HOST = 127.0.0.1" "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "VISTA_DO_NOT_SUBMIT_CURRENT_MINUTE = false"
	P="http://127.0.0.1:$PROMETHEUS_PORT"
	for _ in $(seq 100); do
		n=$(curl -s "$P/api/v1/query?query=up%5B1m%5D" | jq '.data.result[0].values | length')
		[ "${n:-0}" -ge 2 ] && break
		sleep 0.2
	done
	E=$(date +%s)
	job target.prom.up prometheus \
	    "$P/api/v1/query_range?query=up&start=$((E - 300))&end=$E&step=1" \
	    "$P/api/v1/query?query=up[5m]"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"fetched '$P/api/v1/query_range?query=up&start=$((E - 300))&end=$E&step=1': "* ]]
	[[ "$batch_log" == *"2 of 2 URLs fetched, "* ]]
	rec=$(last target.prom.up)
	[[ "$rec" =~ ^\[([0-9]+),\ 1\.0\]$ ]]
	ts=${BASH_REMATCH[1]}
	[ $((ts % 60)) = 0 ]
	[ "$ts" -ge $((E - 120)) ]
	[ "$ts" -le "$E" ]
	run whisper_fetch_value target.prom.up "$ts"
	[ "$output" = "1.000000" ]
}

@test "Prometheus NaN and Inf samples are dropped, the rest is kept" {
	N=$(( $(date +%s) / 60 * 60 ))
	pfile nan.json "$((N - 240)):NaN" "$((N - 180)):+Inf" "$((N - 120)):2.5" "$((N - 60)):-Inf"
	job target.promnan.cpu prometheus "$REMOTE_URL/file/nan.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"fetched '$REMOTE_URL/file/nan.json': 1 points, 3 null or non-finite dropped"* ]]
	[ "$(last target.promnan.cpu)" = "[$((N - 120)), 2.5]" ]
	run whisper_fetch_value target.promnan.cpu $((N - 120))
	[ "$output" = "2.500000" ]
}

@test "points are resampled to 1-minute means, in time order, nulls dropped" {
	N=$(( $(date +%s) / 60 * 60 ))
	gfile mean.json "$((N - 90)):5" "$((N - 180)):1" "$((N - 170)):null" \
	    "$((N - 160)):2" "$((N - 130)):6"
	job target.mean.cpu graphite "$REMOTE_URL/file/mean.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"4 points, 2 bins kept, 2 sent"* ]]
	run whisper_fetch_value target.mean.cpu $((N - 180))
	[ "$output" = "3.000000" ]
	run whisper_fetch_value target.mean.cpu $((N - 120))
	[ "$output" = "5.000000" ]
	[ "$(last target.mean.cpu)" = "[$((N - 120)), 5.0]" ]
}

@test "points of the current minute are held back (VISTA_DO_NOT_SUBMIT_CURRENT_MINUTE)" {
	N=$(( $(date +%s) / 60 * 60 ))
	export FLUX_NOW=$((N + 30))
	gfile cur.json "$((N - 120)):1" "$((N - 60)):2" "$N:3" "$((N + 20)):4"
	job target.cur.cpu graphite "$REMOTE_URL/file/cur.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"4 points, 2 bins kept, 2 sent"* ]]
	[ "$(last target.cur.cpu)" = "[$((N - 60)), 2.0]" ]
}

@test "without the current-minute rule, points up to now + FLUX_MAX_FUTURE are taken" {
	write_conf "GRAPHITE_HOST = 127.0.0.1" "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "VISTA_DO_NOT_SUBMIT_CURRENT_MINUTE = false" \
	    "FLUX_MAX_FUTURE = 10"
	N=$(( $(date +%s) / 60 * 60 ))
	export FLUX_NOW=$((N + 30))
	gfile fut.json "$((N - 60)):2" "$N:3" "$((N + 40)):4" "$((N + 41)):100"
	job target.fut.cpu graphite "$REMOTE_URL/file/fut.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"4 points, 2 bins kept, 2 sent"* ]]
	[ "$(last target.fut.cpu)" = "[$N, 3.5]" ]
}

@test "Basic auth or a Bearer token reach the remote; \"None\" sends neither" {
	gfile empty.json
	JOB_EDIT='.user = "bob" | .password = "s3cret"' job target.auth1 graphite "$REMOTE_URL/file/empty.json?basic"
	JOB_EDIT='.token = "t0k3n"' job target.auth2 graphite "$REMOTE_URL/file/empty.json?bearer"
	job target.auth3 graphite "$REMOTE_URL/file/empty.json?none"
	JOB_EDIT='.user = "bob" | .token = "t0k3n"' job target.auth4 graphite "$REMOTE_URL/file/empty.json?both"
	flux_batch populate
	ok_run
	grep -qx '/file/empty.json?basic Basic Ym9iOnMzY3JldA==' "$REMOTE_DIR/requests.log"
	grep -qx '/file/empty.json?bearer Bearer t0k3n' "$REMOTE_DIR/requests.log"
	grep -qx '/file/empty.json?none -' "$REMOTE_DIR/requests.log"
	# One Authorization header per request: the token wins.
	grep -qx '/file/empty.json?both Bearer t0k3n' "$REMOTE_DIR/requests.log"
	[[ "$batch_log" != *s3cret* ]]
	[[ "$batch_log" != *t0k3n* ]]
}

@test "credentials in a URL are used but never logged" {
	port=$(flux_free_port)
	job target.userinfo graphite "http://bob:s3cret@127.0.0.1:$port/render"
	flux_batch populate
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"cannot fetch 'http://***@127.0.0.1:$port/render'"* ]]
	[[ "$batch_log" != *s3cret* ]]
}

@test "a remote answering an HTML page fails the job, which is queued again" {
	printf '<html><body><h1>502 Bad Gateway</h1></body></html>\n' > "$REMOTE_DIR/err.html"
	job target.html graphite "$REMOTE_URL/file/err.html"
	flux_batch populate
	failed_once "error: populate 'target.html': bad answer from '$REMOTE_URL/file/err.html' (text/html, 51 bytes): answer is not JSON"
}

@test "truncated JSON fails the job" {
	printf '[{"target": "x", "datapoints": [[1.0, 1700000000], [2.0, 17000' > "$REMOTE_DIR/trunc.json"
	job target.trunc graphite "$REMOTE_URL/file/trunc.json"
	flux_batch populate
	failed_once "bad answer from '$REMOTE_URL/file/trunc.json' (application/json, 62 bytes): answer is not JSON"
}

@test "NaN as a bare JSON word fails the job (it is not JSON)" {
	printf '[{"target": "x", "datapoints": [[NaN, 1700000000]]}]' > "$REMOTE_DIR/nanword.json"
	job target.nanword graphite "$REMOTE_URL/file/nanword.json"
	flux_batch populate
	failed_once "answer is not JSON"
}

@test "a datapoint value that is a string fails the job" {
	printf '[{"target": "x", "datapoints": [[1, 1700000000], ["NaN", 1700000060]]}]' > "$REMOTE_DIR/strval.json"
	job target.strval graphite "$REMOTE_URL/file/strval.json"
	flux_batch populate
	failed_once "datapoint 1 has a value that is not a number"
}

@test "a JSON answer of the wrong shape fails the job" {
	printf '{"status": "success"}' > "$REMOTE_DIR/shape.json"
	job target.shape graphite "$REMOTE_URL/file/shape.json"
	flux_batch populate
	failed_once "not a graphite render answer: not a list"
}

@test "a Prometheus error answer fails the job with its message" {
	printf '{"status":"error","errorType":"bad_data","error":"1:3: parse error: unexpected end of input"}' > "$REMOTE_DIR/perr.json"
	job target.perr prometheus "$REMOTE_URL/file/perr.json"
	flux_batch populate
	failed_once "prometheus answered an error: bad_data: 1:3: parse error: unexpected end of input"
}

@test "a string holding \\u0000 in an answer fails the job, not read cut short" {
	N=$(( $(date +%s) / 60 * 60 ))
	printf '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[%s,"1\\u00009"]]}]}}' "$((N - 120))" > "$REMOTE_DIR/pnul.json"
	job target.pnul prometheus "$REMOTE_URL/file/pnul.json"
	flux_batch populate
	failed_once 'answer is not JSON: a string holds U+0000 (NUL)'
	[ -z "$(last target.pnul)" ]
}

@test "an answer of only nulls is a success with nothing to send" {
	gfile nulls.json "1700000000:null" "1700000060:null"
	job target.nulls graphite "$REMOTE_URL/file/nulls.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"0 points, 2 null or non-finite dropped"* ]]
	[ -z "$(last target.nulls)" ]
	[ -z "$(queued)" ]
}

@test "HTTP 500 fails the job" {
	job target.h500 graphite "$REMOTE_URL/status/500"
	flux_batch populate
	failed_once "'$REMOTE_URL/status/500' answered HTTP 500"
}

@test "a huge answer is cut off at 64 MiB, with or without Content-Length" {
	job target.huge graphite "$REMOTE_URL/huge/80"
	flux_batch populate
	failed_once "answer of '$REMOTE_URL/huge/80' is larger than 67108864 bytes"
	redis-cli -s "$REDIS_SOCK" del flux.populate_metric.queue >/dev/null
	job target.hugecl graphite "$REMOTE_URL/hugecl/80"
	flux_batch populate
	failed_once "answer of '$REMOTE_URL/hugecl/80' is larger than 67108864 bytes"
}

@test "an answer of 1.4 million datapoints in two minutes is binned as it streams" {
	N=$(( $(date +%s) / 60 * 60 ))
	/usr/bin/python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.write("[{\"target\": \"x\", \"datapoints\": [" + ",".join("[%d, %d]" % (i % 2, n - 120 + i % 120) for i in range(1400000)) + "]}]")' "$N" > "$REMOTE_DIR/many.json"
	job target.many graphite "$REMOTE_URL/file/many.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"fetched '$REMOTE_URL/file/many.json': 1400000 points, 0 null"* ]]
	[[ "$batch_log" == *"1400000 points, 2 bins kept, 2 sent"* ]]
	[ "$(last target.many)" = "[$((N - 60)), 0.5]" ]
}

@test "answers covering more minutes than a job may hold fail the job" {
	/usr/bin/python3 -c 'import sys; sys.stdout.write("[{\"target\": \"x\", \"datapoints\": [" + ",".join("[1,%d]" % (60 * i) for i in range(525601)) + "]}]")' > "$REMOTE_DIR/span.json"
	job target.span graphite "$REMOTE_URL/file/span.json"
	flux_batch populate
	failed_once "answers cover more than 525600 distinct minutes"
}

@test "deeply nested JSON fails the job" {
	/usr/bin/python3 -c 'import sys; sys.stdout.write("[{\"tags\": " + "[" * 100000 + "]" * 100000 + ", \"datapoints\": []}]")' > "$REMOTE_DIR/deep.json"
	job target.deep graphite "$REMOTE_URL/file/deep.json"
	flux_batch populate
	failed_once "answer nested deeper than 64 levels"
	printf '%s' "$(printf '[%.0s' $(seq 1000))" > "$REMOTE_DIR/deep2.json"
	redis-cli -s "$REDIS_SOCK" del flux.populate_metric.queue >/dev/null
	job target.deep2 graphite "$REMOTE_URL/file/deep2.json"
	flux_batch populate
	failed_once "not a graphite render answer: no datapoints"
}

@test "a slow remote is given up after the total timeout" {
	export FLUX_FETCH_TIMEOUT_MS=1000
	job target.slow graphite "$REMOTE_URL/slow/5"
	SECONDS=0
	flux_batch populate
	failed_once "cannot fetch '$REMOTE_URL/slow/5': Operation timed out after"
	[ "$SECONDS" -lt 5 ]
}

@test "when some URLs fail nothing is sent and the job is retried; the last attempt sends the rest" {
	N=$(( $(date +%s) / 60 * 60 ))
	gfile part.json "$((N - 120)):1" "$((N - 60)):2"
	job target.part graphite "$REMOTE_URL/file/part.json" "$REMOTE_URL/status/500"
	flux_batch populate
	failed_once "1 of 2 URLs failed: '$REMOTE_URL/status/500' answered HTTP 500"
	[ -z "$(last target.part)" ]
	# The fifth attempt takes what it can get.
	job4=$(queued | sed 's/"attempts":1,/"attempts":4,/')
	redis-cli -s "$REDIS_SOCK" del flux.populate_metric.queue >/dev/null
	redis-cli -s "$REDIS_SOCK" lpush flux.populate_metric.queue "$job4" >/dev/null
	flux_batch populate
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"error: populate 'target.part': completed without the answers that failed: 1 of 2 URLs failed"* ]]
	[ "$(last target.part)" = "[$((N - 60)), 2.0]" ]
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
}

@test "a job's URLs are fetched side by side" {
	N=$(( $(date +%s) / 60 * 60 ))
	gfile side_a.json "$((N - 120)):1"
	gfile side_b.json "$((N - 60)):2"
	touch "$REMOTE_DIR/side_a.json.hold"
	# The first answer is held until the second URL is asked for: fetched
	# one after the other, the first would wait for its timeout and fail.
	(
		for _ in $(seq 200); do
			grep -qs '^/file/side_b.json' "$REMOTE_DIR/requests.log" && break
			sleep 0.05
		done
		rm -f "$REMOTE_DIR/side_a.json.hold"
	) 3>&- &
	export FLUX_FETCH_TIMEOUT_MS=8000
	job target.side graphite "$REMOTE_URL/hold/side_a.json" "$REMOTE_URL/file/side_b.json"
	flux_batch populate
	wait
	ok_run
	[[ "$batch_log" == *"2 of 2 URLs fetched, 2 points, 2 bins kept, 2 sent"* ]]
}

@test "a hanging remote gets FLUX_BATCH_POPULATE_SECONDS; the job is queued again and the uploads still run" {
	mkdir -p "$STACK_DIR/uploads"
	write_conf "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "FLUX_BATCH_POPULATE_SECONDS = 3" \
	    "FLUX_PROCESS_UPLOADS = true" "BATCH_PROCESSING = true" \
	    "BATCH_PROCESSING_NAMESPACES = temp_monitoring" \
	    "DATA_UPLOADS_PATH = $STACK_DIR/uploads" "FLUX_UPLOADS_KEYS = $UPNS:$UPKEY" \
	    "FLUX_CARBON_STORAGE_SCHEMAS ="
	gfile hang.json "$((HIST_END - 60)):1"
	touch "$REMOTE_DIR/hang.json.hold"
	redis-cli -s "$REDIS_SOCK" set flux.last.target.hang1 "[$((HIST_END - 600)), 1.0]" >/dev/null
	job target.hang1 graphite "$REMOTE_URL/hold/hang.json" "$REMOTE_URL/hold/hang.json?2"
	job target.hang2 graphite "$REMOTE_URL/hold/hang.json?3"
	drop_in budget "$(info_json)" "$FIXTURES/$UPCSV"
	flux_batch
	rm -f "$REMOTE_DIR/hang.json.hold"
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"populate 'target.hang1': '$REMOTE_URL/hold/hang.json' cut off: the time allowed ran out"* ]]
	[[ "$batch_log" == *"populate 'target.hang1': attempt 1 of 5 failed, queued again"* ]]
	[[ "$batch_log" == *"FLUX_BATCH_POPULATE_SECONDS (3 s) spent; 1 jobs wait for the next run"* ]]
	[[ "$batch_log" == *"upload $UPNS.budget: complete, 8 points submitted"* ]]
	[ "$(queued | wc -l)" = 2 ]
	[[ "$(queued)" == *'"metric":"target.hang1"'*'"attempts":1,'* ]]
	[ -z "$(running)" ]
}

@test "a queued URL whose host is not in FLUX_POPULATE_ALLOWED_HOSTS is not fetched" {
	job target.ssrf graphite "$REMOTE_URL/file/empty.json"
	write_conf "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "FLUX_POPULATE_ALLOWED_HOSTS = graphite.example.org"
	flux_batch populate
	failed_once "'$REMOTE_URL/file/empty.json' not fetched: its host is not in FLUX_POPULATE_ALLOWED_HOSTS"
	[ ! -s "$REMOTE_DIR/requests.log" ]
}

@test "when carbon is down the points are spooled and flux-batch flush delivers them" {
	N=$(( $(date +%s) / 60 * 60 ))
	gfile spool.json "$((N - 180)):1" "$((N - 120)):2" "$((N - 60)):3"
	write_conf "GRAPHITE_HOST = 127.0.0.1" "GRAPHITE_PORT = $GRAPHITE_WEB_PORT"
	sed -i "s/^FLUX_CARBON_PICKLE_PORT = .*/FLUX_CARBON_PICKLE_PORT = $(flux_free_port)/" "$FLUX_CONF"
	job target.spool graphite "$REMOTE_URL/file/spool.json"
	flux_batch populate
	ok_run
	[[ "$batch_log" == *"3 bins kept, 0 sent, 3 spooled"* ]]
	[ "$(spool_count)" = 1 ]
	[ "$(last target.spool)" = "[$((N - 60)), 3.0]" ]
	write_conf "GRAPHITE_HOST = 127.0.0.1" "GRAPHITE_PORT = $GRAPHITE_WEB_PORT"
	flux_batch flush
	ok_run
	wait_count target.spool $((N - 240)) "$N" 3
	[ "$(spool_count)" = 0 ]
}

@test "a dry run fetches and reports, and changes nothing" {
	job target.dry graphite "$HIST_URL"
	before=$(queued)
	flux_batch -n populate
	ok_run
	[[ "$batch_log" == *"populate 'target.dry': dry run: would send 180 points"* ]]
	[ "$(queued)" = "$before" ]
	[ -z "$(last target.dry)" ]
	[ ! -e "$(_stack_wsp target.dry)" ]
}

@test "plain flux-batch runs the populate queue too" {
	job target.plain graphite "$HIST_URL"
	flux_batch
	ok_run
	[[ "$batch_log" == *"populate: 1 jobs done, 0 failed"* ]]
	[ -z "$(queued)" ]
}

@test "an unreadable job in the queue is dropped with an error" {
	redis-cli -s "$REDIS_SOCK" lpush flux.populate_metric.queue '{"metric": "x"' >/dev/null
	redis-cli -s "$REDIS_SOCK" lpush flux.populate_metric.queue '{"remote_host_type":"graphite","remote_target":"t","metric":"a/b","namespace_prefix":null,"token":"None","user":"None","password":"None","fetch_resolution_urls":["http://g/"],"attempts":0,"queued_at":1}' >/dev/null
	flux_batch populate
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"error: populate: dropped an unreadable job: queued job is not JSON"* ]]
	[[ "$batch_log" == *"error: populate: dropped an unreadable job: queued job is not valid: invalid metric - a/b - invalid characters in name"* ]]
	[ -z "$(queued)" ]
	[ -z "$(running)" ]
}

@test "Redis unreachable: flux-batch populate fails with a clear message" {
	write_conf "GRAPHITE_HOST = 127.0.0.1" "GRAPHITE_PORT = $GRAPHITE_WEB_PORT" "REDIS_TIMEOUT_MS = 200"
	sed -i "s|^REDIS_SOCKET_PATH = .*|REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock|" "$FLUX_CONF"
	flux_batch populate
	[ "$batch_status" = 1 ]
	[[ "$batch_log" == *"error: populate: cannot connect to redis '$STACK_DIR/nothing.sock'"* ]]
}
