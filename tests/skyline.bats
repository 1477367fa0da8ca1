#!/usr/bin/env bats
# Flux beside Skyline (SPEC 5): the entries of the hash flux.last.metric_data,
# which Skyline's readers (get_last_metric_data, used by Vista's fetcher and
# worker) look up before flux.last.<metric>, written in Skyline's exact form
# for every point taken and de-duplicated against in every form Skyline's
# Flux and Vista write; and a move from Skyline's Flux, starting from the
# Redis state it leaves (INSTALL, "Moving from Skyline's Flux").

setup_file() {
	source "$BATS_TEST_DIRNAME/lib/flux.bash"
	suite_start skyline redis carbon
}

teardown_file() {
	source "$BATS_TEST_DIRNAME/lib/flux.bash"
	suite_stop
}

setup() {
	source "$BATS_TEST_DIRNAME/lib/flux.bash"
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
}

# py_entry TS VALUE / py_record TS VALUE: what Skyline's Flux writes for a
# point (its worker: value = float(value), then str() of a dict or a list),
# made by Python itself. VALUE None: what Vista writes for a null value.
py_entry() {
	/usr/bin/python3 -c 'import sys; v = sys.argv[2]
print(str({"timestamp": int(sys.argv[1]), "value": None if v == "None" else float(v)}))' "$1" "$2"
}
py_record() {
	/usr/bin/python3 -c 'import sys; v = sys.argv[2]
print(str([int(sys.argv[1]), None if v == "None" else float(v)]))' "$1" "$2"
}

# skyline_reader METRIC...: each metric's last timestamp as Skyline's own
# readers find it (get_last_metric_data, then the worker's fallback): the
# entry in flux.last.metric_data first, literal_eval'd; only when there is
# none, flux.last.<metric>, literal_eval'd, its first element. "METRIC TS"
# per line, TS "none" when neither holds one.
skyline_reader() {
	/usr/bin/python3 - "$REDIS_SOCK" "$@" <<'EOF_PY'
import ast, subprocess, sys
def redis(*args):
    out = subprocess.run(["redis-cli", "-s", sys.argv[1], "--raw"] + list(args),
                         capture_output=True, text=True, check=True).stdout
    return out.rstrip("\n")
for metric in sys.argv[2:]:
    ts = None
    entry = redis("hget", "flux.last.metric_data", metric)
    if entry:
        ts = ast.literal_eval(entry).get("timestamp")
    if not ts:
        record = redis("get", "flux.last." + metric)
        if record:
            ts = int(ast.literal_eval(record)[0])
    print(metric, ts if ts else "none")
EOF_PY
}

@test "every point taken sets its entry exactly as Skyline's Flux writes it" {
	T=$(minute_ts)
	values=(1 22.78 0.1 -2.5 1e16 1e-05 123456789012345678901 0 -0 3.141592653589793 1e15 0.000123)
	body='{"key":"'$KEY'","metrics":['
	sep=
	for i in "${!values[@]}"; do
		body+=$sep'{"metric":"test.entry.m'$i'","timestamp":'$T',"value":'${values[$i]}'}'
		sep=,
	done
	post "$body]}"
	expect 204
	for i in "${!values[@]}"; do
		want=$(py_entry "$T" "${values[$i]}")
		echo "${values[$i]}: $(entry "test.entry.m$i") / $want"
		[ "$(entry "test.entry.m$i")" = "$want" ]
		[ "$(last "test.entry.m$i")" = "$(py_record "$T" "${values[$i]}")" ]
	done
	# A GET the same, its value as Vista's worker writes it in the URL.
	get "metric=test.entry.get&value=100000000243.03909&timestamp=$T&key=$KEY"
	expect 204
	[ "$(entry test.entry.get)" = "$(py_entry "$T" 100000000243.03909)" ]
}

# state METRIC: "RECORD | ENTRY", the metric's two records.
state() { echo "$(last "$1") | $(entry "$1")"; }

@test "the last timestamp is the newer of the record and the entry, in every form Skyline and Vista write" {
	T=$(minute_ts 2)
	h() { redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data "$1" "$2" >/dev/null; }
	s() { redis-cli -s "$REDIS_SOCK" set "flux.last.$1" "$2" >/dev/null; }
	# The entry alone (the string key has expired): Skyline's Flux.
	h a "{'timestamp': $T, 'value': 22.78}"
	# Vista's null entry, an older record beside it.
	h b "{'timestamp': $T, 'value': None}"; s b "[$((T - 600)), 1.0]"
	# Values as Python prints large, small and integral numbers.
	h c "{'timestamp': $T, 'value': 1e+16}"
	h d "{'timestamp': $T, 'value': 5}"
	h e "{'timestamp': $T, 'value': -2.5e-07}"
	# The record newer than the entry: Skyline's populate worker's [ts, None].
	h f "{'timestamp': $((T - 600)), 'value': 1.0}"; s f "[$T, None]"
	# A float timestamp (no writer's) counts its whole seconds.
	h g "{'timestamp': $T.0, 'value': 1.0}"
	# Entries that hold no timestamp leave the record to decide.
	h x "garbage"; s x "[$((T - 60)), 1.0]"
	h y "{'value': 1.0}"
	body='{"key":"'$KEY'","metrics":['
	for m in a b c d e f g x y; do
		body+='{"metric":"'$m'","timestamp":'$T',"value":7},'
	done
	post "${body%,}]}" "FLUX_NOW=$((T + 60))"
	expect 204
	# Not newer than the newer record: dropped, both records as they were.
	[ "$(state a)" = " | {'timestamp': $T, 'value': 22.78}" ]
	[ "$(state b)" = "[$((T - 600)), 1.0] | {'timestamp': $T, 'value': None}" ]
	[ "$(state c)" = " | {'timestamp': $T, 'value': 1e+16}" ]
	[ "$(state d)" = " | {'timestamp': $T, 'value': 5}" ]
	[ "$(state e)" = " | {'timestamp': $T, 'value': -2.5e-07}" ]
	[ "$(state f)" = "[$T, None] | {'timestamp': $((T - 600)), 'value': 1.0}" ]
	[ "$(state g)" = " | {'timestamp': $T.0, 'value': 1.0}" ]
	# Newer: taken, both records moved on together.
	[ "$(state x)" = "[$T, 7.0] | {'timestamp': $T, 'value': 7.0}" ]
	[ "$(state y)" = "[$T, 7.0] | {'timestamp': $T, 'value': 7.0}" ]
	# One minute on, every one of them is newer.
	post "$(sed "s/\"timestamp\":$T/\"timestamp\":$((T + 60))/g" <<<"${body%,}]}")" "FLUX_NOW=$((T + 60))"
	expect 204
	for m in a b c d e f g x y; do
		[ "$(state $m)" = "[$((T + 60)), 7.0] | {'timestamp': $((T + 60)), 'value': 7.0}" ]
	done
}

@test "a request of many points reads the entries whole from a hash kept as a list, field by field from a table" {
	T=$(minute_ts 2)
	# A field over hash-max-listpack-value (64 bytes) makes Redis keep
	# the hash as a table; without one it is a list (listpack).
	long=test.entry.$(printf 'x%.0s' {1..80})
	for encoding in listpack hashtable; do
		redis-cli -s "$REDIS_SOCK" flushall >/dev/null
		if [ $encoding = hashtable ]; then
			redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data "$long" "{'timestamp': $T, 'value': 1.0}" >/dev/null
		fi
		# 40 points (dedup.lua reads a list whole from 32 on): even ones
		# not newer than their entry, odd ones newer, one with none.
		body='{"key":"'$KEY'","metrics":['
		for i in $(seq 0 39); do
			if [ $i -lt 39 ]; then
				redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data "many.m$i" \
				    "{'timestamp': $(( i % 2 ? T - 60 : T )), 'value': 1.0}" >/dev/null
			fi
			body+='{"metric":"many.m'$i'","timestamp":'$T',"value":7},'
		done
		[ "$(redis-cli -s "$REDIS_SOCK" object encoding flux.last.metric_data)" = $encoding ]
		post "${body%,}]}" "FLUX_NOW=$((T + 60))"
		expect 204
		for i in $(seq 0 39); do
			if [ $((i % 2)) = 0 ] && [ $i -lt 39 ]; then
				want=" | {'timestamp': $T, 'value': 1.0}"
			else
				want="[$T, 7.0] | {'timestamp': $T, 'value': 7.0}"
			fi
			echo "$encoding many.m$i: $(state "many.m$i") / $want"
			[ "$(state "many.m$i")" = "$want" ]
		done
	done
}

@test "a test request and a fill point leave the entries alone" {
	T=$(minute_ts)
	get "metric=test.entry.t&value=1&timestamp=$T&key=$KEY&test=true"
	expect 200
	get "metric=test.entry.fill&value=1&timestamp=$((T - 60))&key=$KEY&fill=true"
	expect 204
	[ "$(redis-cli -s "$REDIS_SOCK" exists flux.last.metric_data flux.last.test.entry.t flux.last.test.entry.fill)" = 0 ]
	# Nor does a fill point look at them: it is delivered over a newer entry.
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data test.entry.fill "{'timestamp': $T, 'value': 1.0}" >/dev/null
	get "metric=test.entry.fill&value=2&timestamp=$T&key=$KEY&fill=true"
	expect 204
	[ "$(entry test.entry.fill)" = "{'timestamp': $T, 'value': 1.0}" ]
	[ "$(whisper_fetch_value test.entry.fill "$T")" = "2.000000" ]
}

@test "a flux.last.metric_data that is not a hash is replaced, the request served" {
	T=$(minute_ts)
	redis-cli -s "$REDIS_SOCK" set flux.last.metric_data "not a hash" >/dev/null
	get "metric=test.entry.type&value=3&timestamp=$T&key=$KEY&test=true"
	expect 200
	[[ "$cgi_body" == *'"ingest_count": 1, "drop_count": 0'* ]]
	get "metric=test.entry.type&value=3&timestamp=$T&key=$KEY"
	expect 204
	[ "$(redis-cli -s "$REDIS_SOCK" type flux.last.metric_data)" = hash ]
	[ "$(state test.entry.type)" = "[$T, 3.0] | {'timestamp': $T, 'value': 3.0}" ]
	[ "$(whisper_fetch_value test.entry.type "$T")" = "3.000000" ]
}

@test "a move from Skyline's Flux: de-duplicated against what it left, both records moved on, every new point seen by Skyline's readers" {
	T=$(minute_ts)
	# Whisper history Skyline's Flux delivered: T - 240 .. T - 120.
	for m in sky.a sky.b sky.c sky.d; do
		for t in $((T - 240)) $((T - 180)) $((T - 120)); do
			echo "$m $t $(( (t - T + 300) / 60 )).5"
		done
	done > "$BATS_TEST_TMPDIR/history"
	carbon_pickle "$BATS_TEST_TMPDIR/history"
	for m in sky.a sky.b sky.c sky.d; do
		wait_count "$m" $((T - 300)) "$T" 3 >/dev/null
	done
	# The Redis state it left, in its own words (str() of Python values):
	# sky.a, first seen by it with a hash in use: the entry, and the string
	# key it wrote once (SETEX 3600); sky.b, an older metric: the entry
	# only, its string key long expired; sky.c, one Vista's fetcher saw null
	# last: its entry with None and its string key set without expiry;
	# sky.d, from a Skyline older than the hash: the string key only.
	e=$(py_entry $((T - 120)) 3.5) r=$(py_record $((T - 120)) 3.5)
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data sky.a "$e" sky.b "$e" \
		sky.c "$(py_entry $((T - 120)) None)" >/dev/null
	redis-cli -s "$REDIS_SOCK" setex flux.last.sky.a 3600 "$r" >/dev/null
	redis-cli -s "$REDIS_SOCK" set flux.last.sky.c "$(py_record $((T - 120)) None)" >/dev/null
	redis-cli -s "$REDIS_SOCK" setex flux.last.sky.d 3600 "$r" >/dev/null
	run skyline_reader sky.a sky.b sky.c sky.d
	[ "$output" = "$(printf 'sky.%s %s\n' a $((T - 120)) b $((T - 120)) c $((T - 120)) d $((T - 120)))" ]
	# Vista's worker sends the last point again, and then two new ones,
	# each read back by Skyline's readers as soon as it is answered.
	for m in sky.a sky.b sky.c sky.d; do
		get "metric=$m&value=99&timestamp=$((T - 120))&key=$KEY"
		expect 204
		[ "$(skyline_reader "$m")" = "$m $((T - 120))" ]
		for t in $((T - 60)) "$T"; do
			get "metric=$m&value=$(( (t - T + 300) / 60 )).5&timestamp=$t&key=$KEY"
			expect 204
			[ "$(skyline_reader "$m")" = "$m $t" ]
		done
	done
	for m in sky.a sky.b sky.c sky.d; do
		# Both records moved on, in Skyline's form; the string key keeps no
		# expiry of Skyline's (Flux's records have none).
		[ "$(entry "$m")" = "$(py_entry "$T" 5.5)" ]
		[ "$(last "$m")" = "$(py_record "$T" 5.5)" ]
		[ "$(redis-cli -s "$REDIS_SOCK" ttl "flux.last.$m")" = -1 ]
		# Every new point in whisper; the duplicate was not sent (carbon
		# writes a metric's cached points together, so it would be there
		# by now).
		[ "$(whisper_fetch_value "$m" "$T")" = "5.500000" ]
		[ "$(whisper_fetch_value "$m" $((T - 60)))" = "4.500000" ]
		[ "$(whisper_fetch_value "$m" $((T - 120)))" = "3.500000" ]
	done
}
