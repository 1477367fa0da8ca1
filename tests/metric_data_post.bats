#!/usr/bin/env bats
# POST /flux/metric_data_post (SPEC 4.2 and section 3): the single, multi
# and telegraf forms, flags, gzip and limits, one test per rule, against a
# real redis-server and carbon-cache.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start post redis carbon
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	export FLUX_NOW=1700000000
}

# pyjson EXPR: evaluate a Python expression over the answer's JSON (as j).
pyjson() {
	printf '%s' "$cgi_body" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

@test "the seed's POST example (strings for timestamp and value) is accepted" {
	unset FLUX_NOW
	T=$(minute_ts)
	post '{"metric":"vista.nodes.skyline-1.cpu.user","timestamp":"'$T'","value":"1.0","key":"'$KEY'"}' \
		CONTENT_TYPE=application/json
	expect 204 ""
	run whisper_fetch_value vista.nodes.skyline-1.cpu.user "$T"
	[ "$output" = "1.000000" ]
	[ "$(last vista.nodes.skyline-1.cpu.user)" = "[$T, 1.0]" ]
}

@test "the multi form delivers every element" {
	unset FLUX_NOW
	T=$(minute_ts)
	post '{"key":"'$KEY'","metrics":[{"metric":"test.post.m1","timestamp":'$T',"value":1.25},{"metric":"test.post.m2","timestamp":'$T',"value":-3}]}'
	expect 204 ""
	run whisper_fetch_value test.post.m1 "$T"
	[ "$output" = "1.250000" ]
	run whisper_fetch_value test.post.m2 "$T"
	[ "$output" = "-3.000000" ]
}

@test "a body that is not JSON is refused" {
	post '{"key": "'$KEY'", "metric": '
	expect 400 "$(err_body 400 'invalid json data')"
	post '{"a":1} trailing'
	expect 400 "$(err_body 400 'invalid json data')"
}

@test "a JSON document that is not an object, or an empty one, is refused" {
	for b in '[]' '{}' '[1,2]' '"text"' '123' 'null' 'true' ''; do
		post "$b"
		expect 400 "$(err_body 400 'no POST data received')"
	done
}

@test "a missing key is refused" {
	post '{"metric":"a.b","value":1}'
	expect 400 "$(err_body 400 'no key passed')"
}

@test "an unknown key is refused with 401" {
	post '{"key":"abcdefghij0123456789ABCDEFGHIJ99","metric":"a.b","value":1}'
	expect 401 "$(err_body 401 'invalid key')"
	post '{"key":12345,"metric":"a.b","value":1}'
	expect 401 "$(err_body 401 'invalid key')"
}

@test "the key header overrides the body key" {
	post '{"key":"wrong","metric":"a.b","value":1,"test":true}' HTTP_KEY=$KEY
	expect 200
}

@test "a request without metrics is refused" {
	post '{"key":"'$KEY'"}'
	expect 400 "$(err_body 400 'no metric data passed')"
	post '{"key":"'$KEY'","metrics":[]}'
	expect 400 "$(err_body 400 'no metric data passed')"
}

@test "one invalid element rejects the whole request and nothing is delivered" {
	post '{"key":"'$KEY'","metrics":[{"metric":"test.post.ok","timestamp":1700000000,"value":1},{"metric":"test.post.bad","timestamp":1700000000,"value":"x"}]}'
	expect 400 '{"code": 400, "message": "invalid value - x", "metric": "test.post.bad", "index": 1}'
	[ -z "$(last test.post.ok)" ]
	[ "$(spool_count)" = 0 ]
}

@test "an element that is not an object or has no metric name is refused" {
	post '{"key":"'$KEY'","metrics":[5]}'
	expect 400 '{"code": 400, "message": "invalid metric - 5 - not an object", "index": 0}'
	post '{"key":"'$KEY'","metrics":[{"value":1}]}'
	expect 400 '{"code": 400, "message": "invalid metric - {\"value\":1} - no metric name", "index": 0}'
}

@test "an invalid metric name in the body is refused" {
	post '{"key":"'$KEY'","metric":"a/b","value":1}'
	expect 400 "$(err_body 400 'invalid metric - a/b - invalid characters in name')"
}

@test "booleans, null, NaN and partly numeric strings are not values" {
	for v in true false null '"NaN"' '"1.5x"' '""' '"inf"' '[1]' '{"a":1}'; do
		post '{"key":"'$KEY'","metric":"a.b","value":'"$v"'}'
		expect 400
		shown=$v; [[ $v == \"*\" ]] && shown=${v:1:-1}
		[ "$(pyjson 'j["message"]')" = "invalid value - $shown" ]
	done
}

@test "a missing value is refused" {
	post '{"key":"'$KEY'","metric":"a.b"}'
	expect 400 "$(err_body 400 'no value parameter passed')"
}

@test "a timestamp must be an integer or a string of digits" {
	for t in '"1700000000.0"' '1700000000.5' '"-1"' 'true' 'null' '"17e8"'; do
		post '{"key":"'$KEY'","metric":"a.b","value":1,"timestamp":'"$t"'}'
		expect 400
		shown=$t; [[ $t == \"*\" ]] && shown=${t:1:-1}
		[ "$(pyjson 'j["message"]')" = "invalid timestamp - $shown - timestamp is not an int" ]
	done
	post '{"key":"'$KEY'","metric":"a.b","value":1,"timestamp":1700000000.0,"test":true}'
	expect 200
}

@test "timestamps outside the age window are refused" {
	post '{"key":"'$KEY'","metric":"a.b","value":1,"timestamp":1699996399}'
	expect 400 "$(err_body 400 'invalid timestamp - 1699996399 - timestamp is too old, older than 3600 seconds')"
	post '{"key":"'$KEY'","metric":"a.b","value":1,"timestamp":"1700000061"}'
	expect 400 "$(err_body 400 'invalid timestamp - 1700000061 - timestamp is more than 1 minute in the future')"
}

@test "fill per element and at the top of the single form skips the age check and de-dup" {
	post '{"key":"'$KEY'","metric":"test.post.f","value":1,"timestamp":1600000000,"fill":"true","test":true}'
	expect 200
	[ "$(pyjson 'j["ingest_count"]')" = 1 ]
	post '{"key":"'$KEY'","metrics":[{"metric":"test.post.f","value":1,"timestamp":1600000000,"fill":true}],"test":true}'
	expect 200
	post '{"key":"'$KEY'","metrics":[{"metric":"test.post.f","value":1,"timestamp":1600000000,"fill":"yes"}]}'
	expect 400
}

@test "test: validates everything, delivers nothing, answers counts and real arrays" {
	post '{"key":"'$KEY'","metric":"test.post.dupe","value":1,"timestamp":1700000000}'
	expect 204
	post '{"key":"'$KEY'","test":"true","metrics":[{"metric":"test.post.t1","value":1},{"metric":"test.post.dupe","value":2,"timestamp":1700000000}]}'
	expect 200 '{"namespace": null, "message": "metric ingestion test, no metrics were ingested only counts are reported", "ingest_count": 1, "drop_count": 1, "metrics": ["test.post.t1"], "dropped": ["test.post.dupe"]}'
	[ -z "$(last test.post.t1)" ]
}

@test "test still rejects an invalid element" {
	post '{"key":"'$KEY'","test":true,"metrics":[{"metric":"a b/c","value":1}]}'
	expect 400
}

@test "flags accept true or \"true\" only" {
	post '{"key":"'$KEY'","test":"false","metric":"test.post.flag","value":1}'
	expect 204 ""
	[ -n "$(last test.post.flag)" ]
	post '{"key":"'$KEY'","validate_key":"True","metric":"a.b","value":1,"test":1}'
	expect 204
}

@test "validate_key answers key valid" {
	post '{"key":"'$KEY'","validate_key":true}'
	expect 200 '{"status": "key valid"}'
	post '{"key":"abcdefghij0123456789ABCDEFGHIJ99","validate_key":true}'
	expect 401 "$(err_body 401 'invalid key')"
}

@test "status answers ok without a key" {
	post '{"status":true}'
	expect 200
	[ "$(jq -r .status <<<"$cgi_body")" = ok ]
}

@test "a key prefix is applied per metric" {
	post '{"key":"'$PKEY'","test":true,"metrics":[{"metric":"x","value":1},{"metric":"team.a.y","value":1},{"metric":"team.ab","value":1}]}'
	expect 200
	[ "$(pyjson 'j["namespace"], j["metrics"]')" = "team.a ['team.a.x', 'team.a.y', 'team.a.team.ab']" ]
}

@test "a prefixed key's points land under its prefix, never on the bare names" {
	unset FLUX_NOW
	T=$(minute_ts)
	redis-cli -s "$REDIS_SOCK" set flux.last.victim.post "[$((T - 600)), 9.0]" >/dev/null
	post '{"key":"'$PKEY'","metrics":[{"metric":"victim.post","timestamp":'$T',"value":3},{"metric":"team.a.own","timestamp":'$T',"value":4}]}'
	expect 204 ""
	run whisper_fetch_value team.a.victim.post "$T"
	[ "$output" = "3.000000" ]
	[ "$(last team.a.victim.post)" = "[$T, 3.0]" ]
	[ "$(last team.a.own)" = "[$T, 4.0]" ]
	[ "$(last victim.post)" = "[$((T - 600)), 9.0]" ]
	[ ! -e "$(_stack_wsp victim.post)" ]
}

@test "a JSON string holding \\u0000 is refused, not stored cut short" {
	post '{"key":"'$KEY'","metric":"atk.nul\u0000.x/../../y","timestamp":1700000000,"value":1}'
	expect 400 '{"code": 400, "message": "invalid json data - a string holds U+0000 (NUL)"}'
	[ -z "$(last atk.nul)" ]
	# An escaped backslash before u0000 is text, not the escape.
	post '{"key":"'$KEY'","metric":"atk.ok\\u0000","timestamp":1700000000,"value":1}'
	expect 400 "$(err_body 400 'invalid metric - atk.ok\\u0000 - invalid characters in name')"
}

@test "a \\u escape without 4 hex digits (which cJSON reads as NUL) is refused" {
	post '{"key":"'$KEY'","metric":"atk.bad\u00zz.x","timestamp":1700000000,"value":1}'
	expect 400 '{"code": 400, "message": "invalid json data - a string holds a bad unicode escape (not 4 hex digits)"}'
	[ -z "$(last atk.bad)" ]
}

@test "telegraf: a name or tag holding \\u0000 is refused" {
	printf '{"metrics":[{"fields":{"a\\u0000b":1},"name":"m","tags":{"host":"h"},"timestamp":1700000000}]}' > "$STACK_DIR/t.json"
	cgi metric_data_post POST "" "$STACK_DIR/t.json" HTTP_KEY=$KEY HTTP_TELEGRAF=true
	expect 400 '{"code": 400, "message": "invalid json data - a string holds U+0000 (NUL)"}'
	[ -z "$(last h.m.a)" ]
}

@test "a gzip body is inflated" {
	printf '{"key":"%s","metric":"test.post.gz","value":7,"timestamp":1700000000}' "$KEY" | gzip > "$STACK_DIR/b.gz"
	cgi metric_data_post POST "" "$STACK_DIR/b.gz" HTTP_CONTENT_ENCODING=gzip
	expect 204
	[ "$(last test.post.gz)" = "[1700000000, 7.0]" ]
}

@test "a broken gzip body is refused" {
	printf '{"key":"%s","metric":"a.b","value":7}' "$KEY" | gzip | head -c 20 > "$STACK_DIR/b.gz"
	cgi metric_data_post POST "" "$STACK_DIR/b.gz" HTTP_CONTENT_ENCODING=gzip
	expect 400 "$(err_body 400 'invalid gzip data')"
	printf 'not gzip at all' > "$STACK_DIR/b.gz"
	cgi metric_data_post POST "" "$STACK_DIR/b.gz" HTTP_CONTENT_ENCODING=gzip
	expect 400 "$(err_body 400 'invalid gzip data')"
}

@test "a gzip body inflating past FLUX_MAX_INFLATED_BYTES is refused with 413" {
	write_conf "FLUX_MAX_INFLATED_BYTES = 100000"
	head -c 5000000 /dev/zero | gzip > "$STACK_DIR/bomb.gz"
	cgi metric_data_post POST "" "$STACK_DIR/bomb.gz" HTTP_CONTENT_ENCODING=gzip
	expect 413 "$(err_body 413 'inflated request body too large')"
}

@test "an unknown content encoding is refused with 415" {
	post '{"key":"'$KEY'","metric":"a.b","value":1}' HTTP_CONTENT_ENCODING=br
	expect 415 "$(err_body 415 'unsupported Content-Encoding')"
}

@test "a body over FLUX_MAX_BODY_BYTES is read to its end and refused with 413" {
	write_conf "FLUX_MAX_BODY_BYTES = 1000"
	head -c 300000 /dev/zero | tr '\0' ' ' > "$STACK_DIR/big"
	cgi metric_data_post POST "" "$STACK_DIR/big"
	expect 413 "$(err_body 413 'request body too large')"
}

@test "a body over FLUX_MAX_BODY_BYTES without CONTENT_LENGTH is read to EOF, 413" {
	cgi_only
	write_conf "FLUX_MAX_BODY_BYTES = 1000"
	head -c 300000 /dev/zero | tr '\0' ' ' > "$STACK_DIR/big"
	# A chunked request under Apache's mod_cgid has no CONTENT_LENGTH.
	cgi metric_data_post POST "" "$STACK_DIR/big" NO_CL=1
	expect 413 "$(err_body 413 'request body too large')"
}

@test "a body without CONTENT_LENGTH is read to EOF" {
	cgi_only
	printf '{"key":"%s","metric":"a.b","value":1,"test":true}' "$KEY" > "$STACK_DIR/b"
	cgi metric_data_post POST "" "$STACK_DIR/b" NO_CL=1 HTTP_TRANSFER_ENCODING=chunked
	expect 200
}

@test "a body shorter than CONTENT_LENGTH is refused" {
	cgi_only
	printf '{"key":"%s","metric":"a.b","value":1}' "$KEY" > "$STACK_DIR/b"
	cgi metric_data_post POST "" "$STACK_DIR/b" NO_CL=1 CONTENT_LENGTH=500
	expect 400 "$(err_body 400 'incomplete request body')"
	cgi metric_data_post POST "" "$STACK_DIR/b" NO_CL=1 CONTENT_LENGTH=12x
	expect 400 "$(err_body 400 'invalid Content-Length')"
}

@test "more elements than FLUX_MAX_METRICS_PER_POST are refused with 413" {
	write_conf "FLUX_MAX_METRICS_PER_POST = 3"
	post '{"key":"'$KEY'","metrics":[{"metric":"a","value":1},{"metric":"b","value":1},{"metric":"c","value":1},{"metric":"d","value":1}]}'
	expect 413 "$(err_body 413 'too many metrics in one request, the limit is 3')"
}

@test "deeply nested JSON is refused, not a crash" {
	b=$(printf '[%.0s' $(seq 1 5000))
	post "{\"key\":\"$KEY\",\"metric\":$b"
	expect 400 "$(err_body 400 'invalid json data')"
}

@test "a method other than POST is refused with 405 and Allow" {
	cgi metric_data_post GET "metric=a.b"
	expect 405
	[[ "$cgi_headers" == *$'Allow: POST\r'* ]]
}

@test "invalid UTF-8 in a body is echoed as valid JSON" {
	printf '{"key":"%s","metric":"a\xff\xfeb","value":1}' "$KEY" > "$STACK_DIR/b"
	cgi metric_data_post POST "" "$STACK_DIR/b"
	expect 400
	[ "$(pyjson 'j["message"]')" = "invalid metric - a��b - invalid characters in name" ]
}

# Telegraf's JSON batch format, with key, telegraf and prefix headers.
telegraf_body() {
	cat <<JSON
{"metrics":[{"fields":{"usage_idle":99.5,"usage_user":0.25,"state":"ok","up":true,"nothing":null},
 "name":"cpu","tags":{"cpu":"cpu/0","host":"web.example"},"timestamp":$1},
 {"fields":{"free":1024},"name":"mem","tags":{"dc":"eu"},"timestamp":$1}]}
JSON
}

@test "telegraf: names are host.tags.measurement.field, non-numeric fields dropped with 207" {
	unset FLUX_NOW
	T=$(minute_ts)
	telegraf_body "$T" > "$STACK_DIR/t.json"
	cgi metric_data_post POST "" "$STACK_DIR/t.json" HTTP_KEY=$KEY HTTP_TELEGRAF=true HTTP_PREFIX=tg
	expect 207 '{"code": 207, "message": "4 non-numeric value metrics were dropped", "dropped non-numeric metrics": ["tg.web_example.cpu-0.cpu.state", "tg.web_example.cpu-0.cpu.up", "tg.web_example.cpu-0.cpu.nothing", "tg.eu.mem.free"], "processed metrics count": 2}'
	run whisper_fetch_value tg.web_example.cpu-0.cpu.usage_idle "$T"
	[ "$output" = "99.500000" ]
	run whisper_fetch_value tg.web_example.cpu-0.cpu.usage_user "$T"
	[ "$output" = "0.250000" ]
}

@test "telegraf: all numeric fields answer 204, and the key prefix applies" {
	printf '{"metrics":[{"fields":{"a":1},"name":"m","tags":{"host":"h"},"timestamp":1700000000}]}' > "$STACK_DIR/t.json"
	cgi metric_data_post POST "" "$STACK_DIR/t.json" HTTP_KEY=$PKEY HTTP_TELEGRAF=true
	expect 204 ""
	[ "$(last team.a.h.m.a)" = "[1700000000, 1.0]" ]
}

@test "telegraf: tags that are not an object give no host: the fields are dropped, not a crash" {
	printf '{"metrics":[{"fields":{"a":1},"name":"m","tags":["h",{"host":"h"}],"timestamp":1700000000}]}' > "$STACK_DIR/t.json"
	cgi metric_data_post POST "" "$STACK_DIR/t.json" HTTP_KEY=$KEY HTTP_TELEGRAF=true
	expect 207 '{"code": 207, "message": "1 non-numeric value metrics were dropped", "dropped non-numeric metrics": ["m.a"], "processed metrics count": 0}'
}

@test "telegraf: an invalid timestamp rejects the whole batch" {
	printf '{"metrics":[{"fields":{"a":1},"name":"m","tags":{"host":"h"},"timestamp":1},{"fields":{"a":1},"name":"n","tags":{"host":"h"},"timestamp":1700000000}]}' > "$STACK_DIR/t.json"
	cgi metric_data_post POST "" "$STACK_DIR/t.json" HTTP_KEY=$KEY HTTP_TELEGRAF=true
	expect 400
	[ -z "$(last h.n.a)" ]
}
