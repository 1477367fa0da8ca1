#!/usr/bin/env bats
# Flux's self-metrics (flux(7), SELF-METRICS): every request counts what it
# did in Redis, inside a script it runs anyway; flux-batch sends the counts
# to carbon under the namespace; whisper then holds exactly what the suite
# sent. And the logs an operator reads: time, program, client address,
# refusals with their reason, flux-batch's log file and its progress.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start selfmetrics redis carbon fake_remote
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR \
	    REMOTE_PORT REMOTE_DIR REMOTE_URL
}

teardown_file() {
	suite_stop
}

setup() {
	NS=test.self.$BATS_TEST_NUMBER
	conf_on
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR/spool/"*.spool
	HOST=$(hostname | sed 's/[^A-Za-z0-9-]/_/g')
	START=$(date +%s)
}

# conf_on [LINES...]: the suite's config with self-metrics on, under $NS.
conf_on() {
	write_conf "FLUX_SELF_METRICS = true" "FLUX_SELF_METRICS_NAMESPACE = $NS" \
	    "FLUX_BATCH_LOG = $STACK_DIR/batch.log" "$@"
}

# sum NAME: the sum of NAME's values in whisper since the test began.
sum() {
	local f="$WHISPER_DIR/${NS//.//}/${1//.//}.wsp"
	[ -f "$f" ] || { echo 0; return; }
	whisper-fetch --from=$((START - START % 60 - 60)) "$f" |
		awk '$2 != "None" { s += $2 } END { print s + 0 }'
}

# counts NAME=N...: whisper holds exactly these sums (carbon writes in
# its own time: asked again for up to 10 s).
counts() {
	local i a bad
	for i in $(seq 100); do
		bad=
		for a in "$@"; do
			[ "$(sum "${a%=*}")" = "${a##*=}" ] || bad="$bad ${a%=*}=$(sum "${a%=*}")"
		done
		[ -z "$bad" ] && return 0
		sleep 0.1
	done
	echo "expected: $*" >&2
	echo "got:     $bad" >&2
	return 1
}

@test "the suite's requests land in whisper with exact counts, under the namespace" {
	T=$(minute_ts)
	for m in a b c; do
		get "metric=self.$m&value=1&timestamp=$T&key=$KEY"
		expect 204
	done
	get "metric=self.a&value=1&timestamp=$T&key=$KEY"		# duplicate
	expect 204
	get "metric=self.fill&value=1&timestamp=$T&key=$KEY&fill=true"
	expect 204
	get "metric=self.t&value=1&key=$KEY&test=true"
	expect 200
	get "metric=self.a&value=x&key=$KEY"
	expect 400
	get "metric=self.a&value=1&key=abcdefghij0123456789ABCDEFGHIJ99"
	expect 401
	get "metric=self.a&value=1&timestamp=12&key=$KEY"
	expect 400
	get "metric=self/a&value=1&key=$KEY"
	expect 400
	# Two points and a duplicate of self.a.
	post '{"key":"'$KEY'","metrics":[{"metric":"self.p1","timestamp":'$T',"value":1},{"metric":"self.p2","timestamp":'$T',"value":2},{"metric":"self.a","timestamp":'$T',"value":3}]}'
	expect 204
	post '{"key":"'$KEY'", "metrics": [nope]}'
	expect 400
	# carbon down: two points spooled; then the spool too: a 503.
	conf_on "FLUX_CARBON_PICKLE_PORT = $(flux_free_port)"
	get "metric=self.s1&value=1&timestamp=$T&key=$KEY"
	expect 204
	get "metric=self.s2&value=1&timestamp=$T&key=$KEY"
	expect 204
	conf_on "FLUX_CARBON_PICKLE_PORT = $(flux_free_port)" "FLUX_SPOOL_PATH = $STACK_DIR/none"
	get "metric=self.u&value=1&timestamp=$T&key=$KEY"
	expect 503
	conf_on
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	[ "$status" = 0 ]
	counts metric_data.requests=13 metric_data.accepted=6 metric_data.delivered=4 \
	    metric_data.spooled=2 metric_data.duplicates=1 metric_data.refused.value=1 \
	    metric_data.refused.key=1 metric_data.refused.timestamp=1 \
	    metric_data.refused.metric=1 metric_data.unavailable=1 \
	    metric_data_post.requests=2 metric_data_post.accepted=2 \
	    metric_data_post.delivered=2 metric_data_post.duplicates=1 \
	    metric_data_post.refused.json=1 \
	    batch.flush.files=2 batch.flush.points=2
	# Skyline's names, sums of ours.
	counts listen.added_to_queue=8 worker.metrics_sent_to_graphite=8 \
	    worker.discarded.already_received=2 listen.discarded.invalid_key=1 \
	    listen.discarded.invalid_value=1 listen.discarded.invalid_timestamp=1 \
	    listen.discarded.metric_name=1 listen.discarded.invalid_parameters=1
	# The gauges of the run: the spool is empty now.
	counts batch.spool.files=0 batch.spool.points=0 batch.populate.queued=0
}

# job METRIC URL: a populate job queued through populate_metric.
job() {
	populate_post "$(jq -nc --arg k "$KEY" --arg m "$1" --arg u "$2" '{
	    remote_host_type: "graphite", remote_target: ("remote." + $m),
	    metric: $m, namespace_prefix: null, key: $k, token: "None",
	    user: "None", password: "None", fetch_resolution_urls: [$u]}')"
	expect 204
}

# report NAME T...: a dropped-in upload NAME of the docs' columns, no
# preamble, a row of roof 1.5 and floor 2.5 at each time T.
report() {
	local name=$1 t
	shift
	{
		echo "Date,Roof Temperature,Floor Temperature"
		for t in "$@"; do echo "$(date -u -d "@$t" '+%d-%m-%Y %H:%M'),1.5,2.5"; done
	} > "$STACK_DIR/report.csv"
	drop_in "$name" "$(info_json skip_rows=0)" "$STACK_DIR/report.csv"
}

@test "flux-batch's jobs land in whisper with exact counts: populate jobs and uploads" {
	upload_conf FLUX_SELF_METRICS=true "FLUX_SELF_METRICS_NAMESPACE=$NS" \
	    "FLUX_BATCH_LOG=$STACK_DIR/batch.log"
	rm -rf "${STACK_DIR:?}/uploads/"*
	T=$(minute_ts 5)
	# A job whose remote answers three minutes, and one whose remote has
	# nothing (404): that one is queued again.
	printf '[{"target": "remote.x", "datapoints": [[1, %s], [2, %s], [3, %s]]}]' \
	    "$T" $((T + 60)) $((T + 120)) > "$REMOTE_DIR/self.json"
	job self.pop.ok "$REMOTE_URL/file/self.json"
	job self.pop.missing "$REMOTE_URL/file/none.json"
	# An upload of two rows (four points), and one with a wrong key.
	report good "$T" $((T + 60))
	drop_in bad "$(info_json 'key="484166bf-df66-4f7d-ad4a-000000000000"')" "$STACK_DIR/report.csv"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	# The job queued again and the failed upload fail the run.
	[ "$status" = 1 ]
	outcome good complete
	outcome bad failed "invalid key"
	[ "$(whisper_fetch_value self.pop.ok "$T")" = 1.000000 ]
	counts populate_metric.requests=2 populate_metric.accepted=2 \
	    batch.populate.done=1 batch.populate.failed=1 batch.populate.dropped=0 \
	    batch.populate.points=3 batch.uploads.complete=1 batch.uploads.failed=1 \
	    batch.uploads.partial=0 batch.uploads.rows=2 batch.uploads.points=4 \
	    batch.delivered=7 batch.spooled=0
	counts populate_metric_worker.datapoints_sent_to_graphite=3 \
	    uploaded_data_worker.datapoints_sent_to_graphite=4
	# The gauges of the run's end: the job waiting for its next attempt.
	counts batch.populate.queued=1 batch.populate.running=0 batch.uploads.pending=0
}

@test "flux-batch's deliveries to the spool are counted too" {
	upload_conf FLUX_SELF_METRICS=true "FLUX_SELF_METRICS_NAMESPACE=$NS" \
	    "FLUX_BATCH_LOG=$STACK_DIR/batch.log" "FLUX_CARBON_PICKLE_PORT=$(flux_free_port)"
	rm -rf "${STACK_DIR:?}/uploads/"*
	T=$(minute_ts 5)
	report spooled "$T" $((T + 60)) $((T + 120))
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" uploads
	[ "$status" = 0 ]
	outcome spooled complete
	[ "$(spool_count)" = 1 ]
	# Carbon back: the next run replays the spool and sends the counts.
	upload_conf FLUX_SELF_METRICS=true "FLUX_SELF_METRICS_NAMESPACE=$NS" \
	    "FLUX_BATCH_LOG=$STACK_DIR/batch.log"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	[ "$status" = 0 ]
	counts batch.uploads.complete=1 batch.uploads.points=6 batch.delivered=0 \
	    batch.spooled=6 batch.flush.files=1 batch.flush.points=6
}

@test "the default namespace is Skyline's shape, skyline.flux.<host>" {
	write_conf "FLUX_SELF_METRICS = true" "FLUX_BATCH_LOG = none"
	NS=skyline.flux.$HOST
	get "metric=self.default&value=1&key=$KEY"
	expect 204
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	[ "$status" = 0 ]
	counts metric_data.requests=1 metric_data.delivered=1
}

# eval_calls: the EVALSHA and EVAL commands Redis ran since CONFIG
# RESETSTAT, "name:calls=N" sorted.
eval_calls() {
	redis-cli -s "$REDIS_SOCK" info commandstats | tr -d '\r' |
		grep -e '^cmdstat_eval:' -e '^cmdstat_evalsha:' | cut -d, -f1 | sort
}

@test "a request's counts cost no round trip of their own; a refusal's go after the answer" {
	load_scripts
	redis-cli -s "$REDIS_SOCK" config resetstat >/dev/null
	get "metric=self.rt&value=1&key=$KEY"
	expect 204
	# The de-dup script and the confirm (after the answer), called by
	# their SHA1, and nothing else.
	await_output cmdstat_evalsha:calls=2 eval_calls
	redis-cli -s "$REDIS_SOCK" config resetstat >/dev/null
	get "metric=self.rt&value=1&key=nope"
	expect 401
	# One script, sent after the answer without waiting for its reply
	# (its text: no one is left to send it again after a NOSCRIPT).
	await_output cmdstat_eval:calls=1 eval_calls
	m=$(date +%s)
	[ "$(redis-cli -s "$REDIS_SOCK" hget "flux.stats.$HOST.$((m - m % 60))" metric_data.refused.key)" = 1 ] ||
	    [ "$(redis-cli -s "$REDIS_SOCK" hget "flux.stats.$HOST.$((m - m % 60 - 60))" metric_data.refused.key)" = 1 ]
}

@test "the minute's hash expires after two hours" {
	get "metric=self.ttl&value=1&key=$KEY"
	m=$(date +%s)
	ttl=$(redis-cli -s "$REDIS_SOCK" ttl "flux.stats.$HOST.$((m - m % 60))")
	[ "$ttl" -gt 7000 ] && [ "$ttl" -le 7200 ]
}

@test "self-metrics never fail a run: carbon down, a warning, and the next run sends them" {
	get "metric=self.later&value=1&key=$KEY"
	expect 204
	conf_on "FLUX_CARBON_PICKLE_PORT = $(flux_free_port)"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	[ "$status" = 0 ]
	[[ $stderr == *"warn: self-metrics: cannot connect to carbon '127.0.0.1:"*"points not sent, the next run tries again"* ]]
	[ -z "$(redis-cli -s "$REDIS_SOCK" get "flux.stats.$HOST.sent")" ]
	conf_on
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	[ "$status" = 0 ]
	counts metric_data.requests=1
	[ -n "$(redis-cli -s "$REDIS_SOCK" get "flux.stats.$HOST.sent")" ]
}

@test "FLUX_SELF_METRICS false: counted in Redis, never sent" {
	write_conf "FLUX_SELF_METRICS = false" "FLUX_SELF_METRICS_NAMESPACE = $NS"
	get "metric=self.off&value=1&key=$KEY"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch"
	[ "$status" = 0 ]
	sleep 1
	[ ! -e "$WHISPER_DIR/${NS//.//}" ]
	[ -n "$(redis-cli -s "$REDIS_SOCK" keys "flux.stats.$HOST.*")" ]
}

@test "a log line: UTC time, program, pid, client address, level" {
	write_conf "FLUX_LOG_LEVEL = debug"
	get "metric=self.log&value=1&key=$KEY" REMOTE_ADDR=192.0.2.7
	expect 204
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z flux metric_data\[[0-9]+\]: 192\.0\.2\.7: debug: GET metric_data: 204; requests 1, accepted 1, delivered 1$' "$STACK_DIR/cgi.err"
}

@test "a refused request is logged at info with its reason and metric, never the key" {
	get "metric=self.refused&value=abc&key=$KEY" REMOTE_ADDR=192.0.2.8
	expect 400
	grep -q ': 192\.0\.2\.8: info: refused 400 (value): invalid value - abc; metric self.refused$' "$STACK_DIR/cgi.err"
	post '{"key":"'$KEY'","metrics":[{"metric":"self.ok","value":1},{"metric":"self.bad","value":"x"}]}' REMOTE_ADDR=192.0.2.9
	expect 400
	grep -q ': 192\.0\.2\.9: info: refused 400 (value): invalid value - x; metric self.bad$' "$STACK_DIR/cgi.err"
	get "metric=self.refused&value=1&key=abcdefghij0123456789ABCDEFGHIJ99"
	expect 401
	grep -q 'info: refused 401 (key): invalid key; metric self.refused$' "$STACK_DIR/cgi.err"
	run grep -c -e "$KEY" -e abcdefghij0123456789ABCDEFGHIJ99 "$STACK_DIR/cgi.err"
	[ "$output" = 0 ]
}

@test "flux-batch logs to FLUX_BATCH_LOG as well as to its standard error" {
	printf 'self.spooled 1.0 %s\n' "$(date +%s)" > "$STACK_DIR/spool/000000000100.000000000.1.0.spool"
	rm -f "$STACK_DIR/batch.log"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 0 ]
	[[ $stderr == *"flux flux-batch["*"]: info: spool: replayed 1 points from 1 files"* ]]
	grep -Eq '^[0-9T:.-]+Z flux flux-batch\[[0-9]+\]: info: spool: replayed 1 points from 1 files$' "$STACK_DIR/batch.log"
	[ "$(stat -c %a "$STACK_DIR/batch.log")" = 640 ]
}

@test "FLUX_BATCH_LOG must be syslog, none or an absolute path" {
	write_conf "FLUX_BATCH_LOG = batch.log"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 2 ]
	[[ $stderr == *"flux.conf:9: expected syslog, none or an absolute path: 'FLUX_BATCH_LOG'"* ]]
}

@test "a long run shows its progress on a terminal, and not under cron" {
	for i in 1 2 3; do
		printf 'self.p%s 1.0 %s\n' "$i" "$(date +%s)" > "$STACK_DIR/spool/00000000010$i.000000000.1.0.spool"
	done
	run script -qec "$FLUX_TOP/batch/flux-batch flush" /dev/null
	[ "$status" = 0 ]
	[[ $output == *"spool: 3/3, 3 points, "*" points/s"* ]]
	printf 'self.p4 1.0 %s\n' "$(date +%s)" > "$STACK_DIR/spool/000000000104.000000000.1.0.spool"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 0 ]
	[[ $stderr != *"points/s"* ]]
}

@test "FLUX_BATCH_LOG = syslog: each line goes to syslog(3) too, levelled, without time or name" {
	# No syslog daemon here: a shim in front of the C library's syslog(3)
	# writes what flux-batch hands it to a file.
	[ -z "${ASAN_OPTIONS:-}" ] || skip "a preloaded shim cannot come before ASan's runtime"
	cat > "$BATS_TEST_TMPDIR/shim.c" <<-'EOC'
	#include <stdarg.h>
	#include <stdio.h>
	#include <stdlib.h>
	void openlog(const char *ident, int opt, int fac)
	{
		FILE *f = fopen(getenv("SHIM_OUT"), "a");
		fprintf(f, "openlog %s %d %d\n", ident, opt, fac);
		fclose(f);
	}
	void syslog(int pri, const char *fmt, ...)
	{
		FILE *f = fopen(getenv("SHIM_OUT"), "a");
		va_list ap;
		fprintf(f, "%d ", pri);
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
		fclose(f);
	}
	EOC
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/shim.so" "$BATS_TEST_TMPDIR/shim.c"
	write_conf "FLUX_BATCH_LOG = syslog"
	printf 'self.syslog 1.0 %s\n' "$(date +%s)" > "$STACK_DIR/spool/000000000200.000000000.1.0.spool"
	run --separate-stderr env LD_PRELOAD="$BATS_TEST_TMPDIR/shim.so" \
	    SHIM_OUT="$BATS_TEST_TMPDIR/syslog" "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 0 ]
	cat "$BATS_TEST_TMPDIR/syslog"
	# LOG_PID (1), LOG_DAEMON (24); LOG_INFO (6).
	[ "$(head -1 "$BATS_TEST_TMPDIR/syslog")" = "openlog flux-batch 1 24" ]
	grep -qx '6 info: spool: replayed 1 points from 1 files' "$BATS_TEST_TMPDIR/syslog"
	[[ $stderr == *"info: spool: replayed 1 points from 1 files"* ]]
}
