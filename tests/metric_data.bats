#!/usr/bin/env bats
# GET /flux/metric_data (SPEC 4.1 and section 3), one test per rule, the
# CGI called as a web server calls it, against a real redis-server and a
# real carbon-cache.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start get redis carbon
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	# Validation tests pin "now"; delivery tests use the real clock.
	export FLUX_NOW=1700000000
}

@test "the seed's GET example is accepted and lands in whisper" {
	unset FLUX_NOW
	T=$(minute_ts)
	get "metric=vista.nodes.skyline-1.cpu.user&timestamp=$T&value=1.0&key=$KEY"
	expect 204 ""
	run whisper_fetch_value vista.nodes.skyline-1.cpu.user "$T"
	[ "$output" = "1.000000" ]
	[ "$(last vista.nodes.skyline-1.cpu.user)" = "[$T, 1.0]" ]
}

@test "a point not newer than flux.last is discarded with 204" {
	unset FLUX_NOW
	T=$(minute_ts 2)
	get "metric=test.get.dedup&timestamp=$T&value=5&key=$KEY"
	expect 204
	get "metric=test.get.dedup&timestamp=$T&value=6&key=$KEY"
	expect 204 ""
	get "metric=test.get.dedup&timestamp=$((T - 60))&value=7&key=$KEY"
	expect 204 ""
	[ "$(last test.get.dedup)" = "[$T, 5.0]" ]
	run whisper_fetch_value test.get.dedup "$T"
	[ "$output" = "5.000000" ]
	[ "$(whisper_count test.get.dedup $((T - 120)) "$T")" = 1 ]
}

@test "an unknown parameter is refused" {
	get "metric=a.b&value=1&key=$KEY&foo=1"
	expect 400 "$(err_body 400 'Invalid parameter received - foo')"
}

@test "a repeated parameter is refused" {
	get "metric=a.b&value=1&key=$KEY&metric=c.d"
	expect 400 "$(err_body 400 'Invalid parameter received - metric')"
}

@test "unknown parameters are checked before status" {
	get "status=true&bogus="
	expect 400 "$(err_body 400 'Invalid parameter received - bogus')"
}

@test "status=true answers ok after a redis round trip, with no key" {
	get "status=true"
	expect 200
	[ "$(jq -c '[.status, .reasons, .redis, .carbon, .hold]' <<<"$cgi_body")" = '["ok",[],"ok","ok",false]' ]
	[ -n "$(redis-cli -s "$REDIS_SOCK" get flux.listen)" ]
}

@test "a missing key is refused" {
	get "metric=a.b&value=1"
	expect 400 "$(err_body 400 'no key parameter passed')"
}

@test "an unknown key is refused with 401" {
	get "metric=a.b&value=1&key=abcdefghij0123456789ABCDEFGHIJ99"
	expect 401 "$(err_body 401 'invalid key')"
}

@test "a key that is not 32 alphanumerics is refused with 401" {
	get "metric=a.b&value=1&key=${KEY}x"
	expect 401 "$(err_body 401 'invalid key')"
	get "metric=a.b&value=1&key=abcdefghij0123456789ABCDEFGHIJ0%21"
	expect 401 "$(err_body 401 'invalid key')"
}

@test "the key is checked before the metric, whatever the parameter order" {
	get "metric=a/b&value=x&key=bad"
	expect 401 "$(err_body 401 'invalid key')"
}

@test "a missing metric is refused" {
	get "value=1&key=$KEY"
	expect 400 "$(err_body 400 'no metric parameter passed')"
}

@test "a metric with a slash is refused" {
	get "metric=a/b&value=1&key=$KEY"
	expect 400 "$(err_body 400 'invalid metric - a/b - invalid characters in name')"
}

@test "a metric with a character outside the allowed set is refused" {
	get "metric=a.b%3Bc%3Dd&value=1&key=$KEY"
	expect 400 "$(err_body 400 'invalid metric - a.b;c=d - invalid characters in name')"
}

@test "a metric with a leading or trailing dot is refused" {
	get "metric=.a.b&value=1&key=$KEY"
	expect 400 "$(err_body 400 'invalid metric - .a.b - name starts or ends with a dot')"
	get "metric=a.b.&value=1&key=$KEY"
	expect 400 "$(err_body 400 'invalid metric - a.b. - name starts or ends with a dot')"
}

@test "a name element longer than 251 bytes is refused, 251 is accepted" {
	e=$(printf 'x%.0s' $(seq 1 252))
	get "metric=a.$e&value=1&key=$KEY&test=true"
	expect 400 "$(err_body 400 "invalid metric - a.$e - element longer than 251 bytes")"
	get "metric=a.${e:1}&value=1&key=$KEY&test=true"
	expect 200
}

@test "a name longer than 4096 bytes is refused" {
	e=$(printf 'abcdefgh.%.0s' $(seq 1 456))
	name="${e}xyz"
	get "metric=$name&value=1&key=$KEY"
	expect 400 "$(err_body 400 "invalid metric - $name - name longer than 4096 bytes")"
}

@test "names are normalised: spaces, stars and quotes become _, dot runs collapse" {
	get "metric=a+b*c'd...e&value=1&key=$KEY&test=true"
	expect 200
	[[ "$cgi_body" == *'"metrics": ["a_b_c_d.e"]'* ]]
}

@test "a timestamp that is not an integer is refused" {
	get "metric=a.b&value=1&key=$KEY&timestamp=1700000000.5"
	expect 400 "$(err_body 400 'invalid timestamp - 1700000000.5 - timestamp is not an int')"
	get "metric=a.b&value=1&key=$KEY&timestamp=abc"
	expect 400 "$(err_body 400 'invalid timestamp - abc - timestamp is not an int')"
	get "metric=a.b&value=1&key=$KEY&timestamp="
	expect 400 "$(err_body 400 'invalid timestamp -  - timestamp is not an int')"
}

@test "a timestamp older than FLUX_MAX_AGE is refused" {
	get "metric=a.b&value=1&key=$KEY&timestamp=1699996399"
	expect 400 "$(err_body 400 'invalid timestamp - 1699996399 - timestamp is too old, older than 3600 seconds')"
	get "metric=a.b&value=1&key=$KEY&timestamp=1699996400&test=true"
	expect 200
}

@test "the age limit follows FLUX_MAX_AGE" {
	write_conf "FLUX_MAX_AGE = 60"
	get "metric=a.b&value=1&key=$KEY&timestamp=1699999939"
	expect 400 "$(err_body 400 'invalid timestamp - 1699999939 - timestamp is too old, older than 60 seconds')"
}

@test "a timestamp more than FLUX_MAX_FUTURE ahead is refused" {
	get "metric=a.b&value=1&key=$KEY&timestamp=1700000061"
	expect 400 "$(err_body 400 'invalid timestamp - 1700000061 - timestamp is more than 1 minute in the future')"
	get "metric=a.b&value=1&key=$KEY&timestamp=1700000060&test=true"
	expect 200
}

@test "a missing value is refused" {
	get "metric=a.b&key=$KEY"
	expect 400 "$(err_body 400 'no value parameter passed')"
}

@test "values that are not finite numbers are refused" {
	for v in abc nan inf -Infinity 1e999 0x10 "" "1.5x" "%201"; do
		get "metric=a.b&key=$KEY&value=$v"
		shown=${v//%20/ }
		expect 400 "$(err_body 400 "invalid value - $shown")"
	done
}

@test "the timestamp is checked before the value" {
	get "metric=a.b&key=$KEY&value=abc&timestamp=abc"
	expect 400 "$(err_body 400 'invalid timestamp - abc - timestamp is not an int')"
}

@test "a missing timestamp means now" {
	get "metric=test.get.nots&value=2&key=$KEY"
	expect 204 ""
	[ "$(last test.get.nots)" = "[1700000000, 2.0]" ]
}

@test "fill=true takes an old timestamp, skips de-dup and leaves flux.last alone" {
	unset FLUX_NOW
	T=$(minute_ts)
	get "metric=test.get.fill&timestamp=$T&value=3&key=$KEY"
	expect 204
	OLD=$(minute_ts 1440)
	get "metric=test.get.fill&timestamp=$OLD&value=4&key=$KEY&fill=true"
	expect 204 ""
	[ "$(last test.get.fill)" = "[$T, 3.0]" ]
	run whisper_fetch_value test.get.fill "$OLD"
	[ "$output" = "4.000000" ]
}

@test "fill=true still needs an integer timestamp" {
	get "metric=a.b&value=1&key=$KEY&fill=true&timestamp=x1"
	expect 400 "$(err_body 400 'invalid timestamp - x1 - timestamp is not an int')"
}

@test "test=true validates, answers the test body and delivers nothing" {
	get "metric=test.get.t&value=1&key=$KEY&test=true"
	expect 200 '{"namespace": null, "message": "metric ingestion test, no metrics were ingested only counts are reported", "ingest_count": 1, "drop_count": 0, "metrics": ["test.get.t"], "dropped": []}'
	[ -z "$(last test.get.t)" ]
	[ "$(spool_count)" = 0 ]
}

@test "the X-Test-Only header is a test request too" {
	get "metric=test.get.t2&value=1&key=$KEY" HTTP_X_TEST_ONLY=1
	expect 200
	[[ "$cgi_body" == *'"ingest_count": 1'* ]]
	[ -z "$(last test.get.t2)" ]
}

@test "a test request reports a duplicate as dropped" {
	get "metric=test.get.t3&value=1&key=$KEY&timestamp=1700000000"
	expect 204
	get "metric=test.get.t3&value=1&key=$KEY&timestamp=1700000000&test=true"
	expect 200
	[[ "$cgi_body" == *'"ingest_count": 0, "drop_count": 1, "metrics": [], "dropped": ["test.get.t3"]'* ]]
}

@test "a key's namespace prefix is applied per metric" {
	get "metric=x.y&value=1&key=$PKEY&test=true"
	[[ "$cgi_body" == *'"namespace": "team.a"'*'"metrics": ["team.a.x.y"]'* ]]
	get "metric=team.a.y&value=1&key=$PKEY&test=true"
	[[ "$cgi_body" == *'"metrics": ["team.a.y"]'* ]]
	get "metric=team.ab&value=1&key=$PKEY&test=true"
	[[ "$cgi_body" == *'"metrics": ["team.a.team.ab"]'* ]]
}

@test "a prefixed key's point lands under its prefix, never on the bare name" {
	unset FLUX_NOW
	T=$(minute_ts)
	redis-cli -s "$REDIS_SOCK" set flux.last.victim.get "[$((T - 600)), 9.0]" >/dev/null
	get "metric=victim.get&timestamp=$T&value=2&key=$PKEY"
	expect 204 ""
	run whisper_fetch_value team.a.victim.get "$T"
	[ "$output" = "2.000000" ]
	[ "$(last team.a.victim.get)" = "[$T, 2.0]" ]
	[ "$(last victim.get)" = "[$((T - 600)), 9.0]" ]
	[ ! -e "$(_stack_wsp victim.get)" ]
}

@test "a method other than GET is refused with 405 and Allow" {
	cgi metric_data POST "metric=a.b&value=1&key=$KEY"
	expect 405
	[[ "$cgi_headers" == *$'Allow: GET\r'* ]]
}

@test "malformed percent-encoding is refused" {
	for q in "metric=a%zz&value=1&key=$KEY" "metric=a%2&value=1&key=$KEY" "metric=a%00b&value=1&key=$KEY"; do
		get "$q"
		expect 400 "$(err_body 400 'invalid query string')"
	done
}

@test "invalid UTF-8 in a name is refused and echoed as valid JSON" {
	get "metric=a%ff%c3b&value=1&key=$KEY"
	expect 400
	printf '%s' "$cgi_body" | /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin)["message"]; assert m.startswith("invalid metric - a\ufffd\ufffdb"), m'
}

@test "every answer has a JSON content type when it has a body" {
	get "metric=a.b"
	[[ "$cgi_headers" == *$'Content-Type: application/json\r'* ]]
}
