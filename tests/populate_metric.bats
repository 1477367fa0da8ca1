#!/usr/bin/env bats
# POST /flux/populate_metric (SPEC 4.3): one test per validation rule, the
# CGI called as a web server calls it, against a real redis-server; the
# job is checked as it sits in the queue.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start popcgi redis
	export STACK_DIR REDIS_SOCK
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	export FLUX_NOW=1700000000
	U1='https://graphite.example.org/render/?from=-7days&until=-24hours&format=json&target=stats.web01.cpu.user'
	U2='https://graphite.example.org/render/?from=-24hours&format=json&target=stats.web01.cpu.user'
	# A payload in the modern form (URLs a JSON array); tests edit it with jq.
	BASE=$(jq -nc --arg k "$KEY" --arg u1 "$U1" --arg u2 "$U2" '{
		remote_host_type: "graphite", remote_target: "stats.web01.cpu.user",
		metric: "vista.graphite_example_org.stats.web01.cpu.user",
		namespace_prefix: "vista.graphite_example_org", key: $k,
		token: "None", user: "None", password: "None",
		fetch_resolution_urls: [$u1, $u2]}')
	# The tag of KEY a job carries (a 64-bit FNV-1a of the key, in hex).
	OWNER=$(/usr/bin/python3 -c 'import sys
h = 14695981039346656037
for c in sys.argv[1].encode(): h = ((h ^ c) * 1099511628211) % 2**64
print("k%016x" % h)' "$KEY")
	# What flux queues for BASE (and for Vista's own payload below).
	QUEUED="{\"remote_host_type\":\"graphite\",\"remote_target\":\"stats.web01.cpu.user\",\"metric\":\"vista.graphite_example_org.stats.web01.cpu.user\",\"namespace_prefix\":\"vista.graphite_example_org\",\"token\":\"None\",\"user\":\"None\",\"password\":\"None\",\"fetch_resolution_urls\":[\"$U1\",\"$U2\"],\"attempts\":0,\"queued_at\":1700000000,\"owner\":\"$OWNER\"}"
}

# with JQ_FILTER: post BASE edited by the filter.
with() { populate_post "$(jq -c "$1" <<<"$BASE")"; }

# urls STRING: post BASE with fetch_resolution_urls set to the string.
urls() { populate_post "$(jq -c --arg s "$1" '.fetch_resolution_urls = $s' <<<"$BASE")"; }

@test "Vista's payload, byte for byte (a twice-quoted Python list repr), is queued normalised" {
	# Captured from Vista: requests.post(json=payload), fetch_resolution_urls
	# = '"%s"' % str(urls) (skyline-flux-behaviour.md 2.3).
	populate_post '{"remote_host_type": "graphite", "remote_target": "stats.web01.cpu.user", "metric": "vista.graphite_example_org.stats.web01.cpu.user", "namespace_prefix": "vista.graphite_example_org", "key": "'"$KEY"'", "token": "None", "user": "None", "password": "None", "fetch_resolution_urls": "\"['"'"'https://graphite.example.org/render/?from=-7days&until=-24hours&format=json&target=stats.web01.cpu.user'"'"', '"'"'https://graphite.example.org/render/?from=-24hours&format=json&target=stats.web01.cpu.user'"'"']\""}'
	expect 204 ""
	[ "$(queued)" = "$QUEUED" ]
}

@test "fetch_resolution_urls as a JSON array is queued the same way" {
	populate_post "$BASE"
	expect 204 ""
	[ "$(queued)" = "$QUEUED" ]
	[ -z "$(running)" ]
}

@test "the legacy string is also accepted quoted once, with double-quoted items, escapes and a trailing comma" {
	urls "['$U1', \"$U2\",]"
	expect 204
	[ "$(queued)" = "$QUEUED" ]
	redis-cli -s "$REDIS_SOCK" del flux.populate_metric.queue >/dev/null
	urls "[ 'https://g\\x2eexample/render/?target=a\\u002eb' ]"
	expect 204
	[[ "$(queued)" == *'"fetch_resolution_urls":["https://g.example/render/?target=a.b"]'* ]]
}

@test "jobs are queued oldest first" {
	with '.metric = "first.m"'
	expect 204
	with '.metric = "second.m"'
	expect 204
	run queued
	[[ "${lines[0]}" == *'"metric":"first.m"'* ]]
	[[ "${lines[1]}" == *'"metric":"second.m"'* ]]
	# flux-batch takes from the tail (RPOPLPUSH): the oldest comes first.
	[[ "$(redis-cli -s "$REDIS_SOCK" rpop flux.populate_metric.queue)" == *'"first.m"'* ]]
}

@test "null namespace_prefix, credentials and a token are queued as given; the key is not" {
	with '.namespace_prefix = null | .user = "bob" | .password = "s3cret" | .token = "t0k"'
	expect 204
	[[ "$(queued)" == *'"namespace_prefix":null,"token":"t0k","user":"bob","password":"s3cret",'* ]]
	[[ "$(queued)" != *"$KEY"* ]]
}

@test "a key with FLUX_POPULATE_MAX_JOBS_PER_KEY jobs queued is refused with 429; other keys are not" {
	write_conf "FLUX_POPULATE_MAX_JOBS_PER_KEY = 2"
	populate_post "$BASE"
	expect 204
	# A job being run counts as well.
	job=$(redis-cli -s "$REDIS_SOCK" rpop flux.populate_metric.queue)
	redis-cli -s "$REDIS_SOCK" zadd flux.populate_metric.running 1 "00aa 11bb $job" >/dev/null
	populate_post "$BASE"
	expect 204
	populate_post "$BASE"
	expect 429 "$(err_body 429 'too many populate jobs queued for this key - the limit is 2')"
	[ "$(queued | wc -l)" = 1 ]
	grep -q "warn: populate job for 'vista.graphite_example_org.stats.web01.cpu.user' refused: its key has 2 jobs queued" "$STACK_DIR/cgi.err"
	with ".key = \"$PKEY\""
	expect 204
	[ "$(queued | wc -l)" = 2 ]
	# An owner cannot be given in the payload.
	redis-cli -s "$REDIS_SOCK" del flux.populate_metric.queue flux.populate_metric.running >/dev/null
	with ".key = \"$PKEY\" | .owner = \"$OWNER\""
	expect 204
	[[ "$(queued)" != *"$OWNER"* ]]
}

@test "with FLUX_POPULATE_ALLOWED_HOSTS, a URL of another host is refused" {
	write_conf "FLUX_POPULATE_ALLOWED_HOSTS = graphite.example.org, .metrics.example.net"
	populate_post "$BASE"
	expect 204
	with '.fetch_resolution_urls = ["https://a.metrics.example.net/render?target=x", "http://127.0.0.1:8080/render?target=x"]'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - http://127.0.0.1:8080/render?target=x - host not in FLUX_POPULATE_ALLOWED_HOSTS')"
	with '.fetch_resolution_urls = ["http://user@graphite.example.org.evil.example/render"]'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - http://user@graphite.example.org.evil.example/render - host not in FLUX_POPULATE_ALLOWED_HOSTS')"
	[ "$(queued | wc -l)" = 1 ]
}

@test "a method other than POST is refused with 405 and Allow" {
	cgi populate_metric GET ""
	expect 405 "$(err_body 405 'method not allowed')"
	[[ "$cgi_headers" == *$'Allow: POST\r'* ]]
}

@test "an empty body is refused" {
	populate_post ""
	expect 400 "$(err_body 400 'no POST data received')"
}

@test "a body that is not JSON is refused" {
	populate_post '{"metric": '
	expect 400 "$(err_body 400 'invalid json data')"
}

@test "a JSON body that is not an object, or an empty object, is refused" {
	for b in '[]' '"x"' '{}' '1'; do
		populate_post "$b"
		expect 400 "$(err_body 400 'no POST data received')"
	done
}

@test "a missing key is refused" {
	with 'del(.key)'
	expect 400 "$(err_body 400 'no key passed')"
	with '.key = null'
	expect 400 "$(err_body 400 'no key passed')"
}

@test "the key \"None\" is not a key" {
	with '.key = "None"'
	expect 401 "$(err_body 401 'invalid key')"
}

@test "an unknown key, or one that is not a string, is refused with 401" {
	with '.key = "abcdefghij0123456789ABCDEFGHIJ99"'
	expect 401 "$(err_body 401 'invalid key')"
	with '.key = 12'
	expect 401 "$(err_body 401 'invalid key')"
}

@test "the key is checked before any other field" {
	with '.key = "x" | del(.metric) | .remote_host_type = "influxdb"'
	expect 401 "$(err_body 401 'invalid key')"
}

@test "a key with a namespace prefix gets its prefix on the metric (SPEC 3)" {
	with ".key = \"$PKEY\" | .metric = \"victim.cpu\""
	expect 204
	[[ "$(queued)" == *'"metric":"team.a.victim.cpu"'* ]]
}

@test "a metric already in the key's namespace is queued as it is" {
	with ".key = \"$PKEY\" | .metric = \"team.a.cpu\""
	expect 204
	[[ "$(queued)" == *'"metric":"team.a.cpu"'* ]]
	redis-cli -s "$REDIS_SOCK" del flux.populate_metric.queue >/dev/null
	with ".key = \"$PKEY\" | .metric = \"team.ab\""
	expect 204
	[[ "$(queued)" == *'"metric":"team.a.team.ab"'* ]]
}

@test "a prefixed name that grows too long is refused with the prefixed name" {
	long=$(printf 'ab.%.0s' $(seq 1364))z
	with ".key = \"$PKEY\" | .metric = \"$long\""
	expect 400 "$(err_body 400 "invalid metric - team.a.$long - name longer than 4096 bytes")"
	[ -z "$(queued)" ]
}

@test "a missing remote_host_type is refused" {
	with 'del(.remote_host_type)'
	expect 400 "$(err_body 400 'no remote_host_type passed')"
}

@test "an unknown remote_host_type is refused" {
	with '.remote_host_type = "influxdb"'
	expect 400 "$(err_body 400 'invalid remote_host_type - influxdb - not graphite or prometheus')"
	with '.remote_host_type = 1'
	expect 400 "$(err_body 400 'invalid remote_host_type - not a string')"
}

@test "prometheus is a remote_host_type" {
	with '.remote_host_type = "prometheus"'
	expect 204
	[[ "$(queued)" == '{"remote_host_type":"prometheus",'* ]]
}

@test "a missing or empty remote_target is refused" {
	with 'del(.remote_target)'
	expect 400 "$(err_body 400 'no remote_target passed')"
	with '.remote_target = ""'
	expect 400 "$(err_body 400 'invalid remote_target - empty')"
}

@test "a missing metric is refused" {
	with 'del(.metric)'
	expect 400 "$(err_body 400 'no metric passed')"
	with '.metric = 5'
	expect 400 "$(err_body 400 'invalid metric - not a string')"
}

@test "an invalid metric name is refused with the reason" {
	with '.metric = "a/b"'
	expect 400 "$(err_body 400 'invalid metric - a/b - invalid characters in name')"
	with '.metric = "a.b."'
	expect 400 "$(err_body 400 'invalid metric - a.b. - name starts or ends with a dot')"
}

@test "a string holding \\u0000 is refused, not queued cut short" {
	with '.metric = "atk.nul\u0000.x"'
	[[ "$(cat "$STACK_DIR/body.$$")" == *'"atk.nul\u0000.x"'* ]]
	expect 400 '{"code": 400, "message": "invalid json data - a string holds U+0000 (NUL)"}'
	[ -z "$(queued)" ]
}

@test "the metric name gets the POST normalisation" {
	with '.metric = "a b*c...d"'
	expect 204
	[[ "$(queued)" == *'"metric":"a_b_c.d"'* ]]
}

@test "a missing namespace_prefix is refused, a non-string one too" {
	with 'del(.namespace_prefix)'
	expect 400 "$(err_body 400 'no namespace_prefix passed')"
	with '.namespace_prefix = 3'
	expect 400 "$(err_body 400 'invalid namespace_prefix - not a string or null')"
}

@test "missing token, user or password is refused" {
	for f in token user password; do
		with "del(.$f)"
		expect 400 "$(err_body 400 "no $f passed")"
		with ".$f = []"
		expect 400 "$(err_body 400 "invalid $f - not a string")"
	done
}

@test "a token with a line break (a header injection) is refused" {
	with '.token = "abc\r\nX-Evil: 1"'
	expect 400 "$(err_body 400 'invalid token - control characters in token')"
}

@test "missing fetch_resolution_urls, null or \"None\", is refused" {
	with 'del(.fetch_resolution_urls)'
	expect 400 "$(err_body 400 'no fetch_resolution_urls passed')"
	with '.fetch_resolution_urls = null'
	expect 400 "$(err_body 400 'no fetch_resolution_urls passed')"
	urls None
	expect 400 "$(err_body 400 'no fetch_resolution_urls passed')"
}

@test "no URLs at all is refused, in both forms" {
	with '.fetch_resolution_urls = []'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - no URLs')"
	urls '"[]"'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - no URLs')"
}

@test "fetch_resolution_urls that is neither a list nor a string is refused" {
	with '.fetch_resolution_urls = {"a": 1}'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - not a list')"
	with '.fetch_resolution_urls = ["http://a/", 3]'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - not a list of strings')"
}

@test "more than 32 URLs are refused" {
	with '.fetch_resolution_urls = [range(33) | "http://g/render?x=\(.)"]'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - more than 32 URLs')"
}

@test "a legacy string that is not a Python list is refused with where it went wrong" {
	urls "['http://a/' 'http://b/']"
	expect 400 "$(err_body 400 "invalid fetch_resolution_urls - expected ',' or ']' at offset 13")"
	urls "('http://a/',)"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - expected a Python list at offset 0')"
	urls "['http://a/'"
	expect 400 "$(err_body 400 "invalid fetch_resolution_urls - expected ',' or ']' at offset 12")"
	urls "['http://a/] "
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - unterminated string at offset 13')"
}

@test "a legacy string with escapes Python would not write is refused" {
	urls "['http://a/\\q']"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - unknown escape at offset 12')"
	urls "['http://a/\\x4']"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - truncated hex escape at offset 14')"
	urls "['http://a/\\x00']"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - escape gives NUL, a surrogate or no character at offset 15')"
	urls "[u'http://a/']"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - expected a quoted string at offset 1')"
	urls "['''http://a/''']"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - triple-quoted strings are not supported at offset 2')"
}

@test "more than two levels of quoting are refused" {
	urls "'\"[]\"'"
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - no URLs')"
	urls "\"'\\\"[]\\\"'\""
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - too many levels of quoting at offset 0')"
}

@test "a URL that is not http or https is refused" {
	for u in ftp://g/render file:///etc/passwd gopher://g/ g.example/render; do
		with ".fetch_resolution_urls = [\"$u\"]"
		expect 400 "$(err_body 400 "invalid fetch_resolution_urls - $u - not an http or https URL")"
	done
	with '.fetch_resolution_urls = ["HTTPS://G.EXAMPLE/render"]'
	expect 204
}

@test "a URL with a space, a control or a non-ASCII character is refused" {
	with '.fetch_resolution_urls = ["http://g/render?target=a b"]'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - http://g/render?target=a b - space, control or non-ASCII character in URL')"
	with '.fetch_resolution_urls = ["http://g/\r\nX: y"]'
	expect 400
	[[ "$cgi_body" == *'control or non-ASCII character in URL"}' ]]
	with '.fetch_resolution_urls = ["http://g/é"]'
	expect 400 "$(err_body 400 'invalid fetch_resolution_urls - http://g/é - space, control or non-ASCII character in URL')"
}

@test "a URL without a host is refused" {
	for u in http:///render 'https://user@/x' 'http://:8080/x'; do
		with ".fetch_resolution_urls = [\"$u\"]"
		expect 400 "$(err_body 400 "invalid fetch_resolution_urls - $u - no host in URL")"
	done
}

@test "a URL longer than 4096 bytes is refused" {
	long="http://g/$(printf 'x%.0s' $(seq 1 4088))"
	with ".fetch_resolution_urls = [\"$long\"]"
	expect 400 "$(err_body 400 "invalid fetch_resolution_urls - $long - URL longer than 4096 bytes")"
	with ".fetch_resolution_urls = [\"${long:1}\"]"
	expect 400
	with ".fetch_resolution_urls = [\"${long%x}\"]"
	expect 204
}

@test "nothing is queued when Redis cannot be reached: 503" {
	write_conf "REDIS_TIMEOUT_MS = 200"
	sed -i "s|^REDIS_SOCKET_PATH = .*|REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock|" "$FLUX_CONF"
	populate_post "$BASE"
	expect 503 "$(err_body 503 'redis unavailable')"
}

@test "a rejected payload queues nothing" {
	with '.metric = "a/b"'
	expect 400
	with '.key = "None"'
	expect 401
	[ "$(redis-cli -s "$REDIS_SOCK" exists flux.populate_metric.queue)" = 0 ]
}
