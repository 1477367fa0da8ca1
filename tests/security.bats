#!/usr/bin/env bats
# Security rules not tied to one endpoint (SPEC 3, 9, 10), one test per
# rule: keys and passwords never reach the log (even at debug level), a
# value echoed in an answer cannot add a header, spool files get their
# mode whatever the umask, a body slower than the floor is given up (408),
# and flux-batch follows no symbolic link in its spool and refuses, as
# root, directories that are not root's. Limits on bodies, gzip, element counts and
# nesting are in metric_data_post.bats and apache.bats; a world-writable
# config is in conf.bats; flux_ct_equal is in the unit tests.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

bats_require_minimum_version 1.5.0

setup_file() {
	suite_start sec redis
}

teardown_file() {
	suite_stop
}

setup() {
	# Debug logging: the most a log ever says. No carbon: points spool.
	write_conf "FLUX_LOG_LEVEL = debug"
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR"/spool/*
}

# trickle PROGRAM CONTENT_LENGTH BYTES [VAR=VALUE...]: run a CGI whose body
# sends BYTES of its CONTENT_LENGTH and then nothing for 4 s before the
# client gives up; sets cgi_status and cgi_body as cgi does.
trickle() {
	local prog=$1 cl=$2 bytes=$3 out
	shift 3
	out=$({ printf '%s' "$bytes"; sleep 4; } | env -i "PATH=$PATH" "FLUX_CONF=$FLUX_CONF" \
		REQUEST_METHOD=POST QUERY_STRING= GATEWAY_INTERFACE=CGI/1.1 \
		"CONTENT_LENGTH=$cl" ${ASAN_OPTIONS:+"ASAN_OPTIONS=$ASAN_OPTIONS"} \
		${UBSAN_OPTIONS:+"UBSAN_OPTIONS=$UBSAN_OPTIONS"} "$@" \
		"$FLUX_TOP/cgi-bin/$prog" 2>"$STACK_DIR/cgi.err")
	cgi_status=$(printf '%s' "${out%%$'\r\n\r\n'*}" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
	cgi_body=${out#*$'\r\n\r\n'}
}

# A well-formed key that is no key of the config.
WRONG=Wr0ngWr0ngWr0ngWr0ngWr0ngWr0ng12

# not_logged SECRET...: no secret appears in the last request's stderr or body.
not_logged() {
	local s
	for s in "$@"; do
		if grep -qF -- "$s" "$STACK_DIR/cgi.err" || [[ $cgi_body == *"$s"* ]]; then
			echo "'$s' leaked:" >&2
			cat "$STACK_DIR/cgi.err" >&2
			echo "$cgi_body" >&2
			return 1
		fi
	done
}

@test "a wrong key in a GET is neither logged nor echoed" {
	get "metric=sec.a&value=1&key=$WRONG"
	expect 401 "$(err_body 401 "invalid key")"
	not_logged "$WRONG"
}

@test "a wrong key in a POST body is neither logged nor echoed" {
	post '{"key": "'$WRONG'", "metric": "sec.a", "value": 1}'
	expect 401 "$(err_body 401 "invalid key")"
	not_logged "$WRONG"
}

@test "a wrong key in the key header is neither logged nor echoed" {
	post '{"metric": "sec.a", "value": 1}' "HTTP_KEY=$WRONG"
	expect 401 "$(err_body 401 "invalid key")"
	not_logged "$WRONG"
}

@test "a malformed key is neither logged nor echoed" {
	post '{"key": "s3cr3t-but-not-32-alphanumerics", "metric": "sec.a", "value": 1}'
	expect 401 "$(err_body 401 "invalid key")"
	not_logged "s3cr3t-but-not-32-alphanumerics"
}

@test "a valid key is not logged when its request is accepted and spooled" {
	post '{"key": "'$KEY'", "metric": "sec.a", "value": 1}'
	expect 204
	[ "$(spool_count)" = 1 ]
	not_logged "$KEY"
}

@test "a valid key is not logged when its request is refused for its data" {
	get "metric=sec.a&value=x&key=$KEY"
	expect 400 "$(err_body 400 "invalid value - x")"
	not_logged "$KEY"
}

@test "populate_metric: the password, token and key are not logged" {
	populate_post "$(jq -nc --arg k "$KEY" '{remote_host_type: "graphite",
		remote_target: "a.b", metric: "vista.a.b", namespace_prefix: null,
		key: $k, token: "T0kenSecret99", user: "bob", password: "Pa55wordSecret",
		fetch_resolution_urls: ["https://g.example.org/render/?target=a.b"]}')"
	expect 204 ""
	not_logged "$KEY" T0kenSecret99 Pa55wordSecret
}

@test "populate_metric: a wrong key and the password are not logged" {
	populate_post "$(jq -nc --arg k "$WRONG" '{remote_host_type: "graphite",
		remote_target: "a.b", metric: "vista.a.b", namespace_prefix: null,
		key: $k, token: "None", user: "bob", password: "Pa55wordSecret",
		fetch_resolution_urls: ["https://g.example.org/render/?target=a.b"]}')"
	expect 401 "$(err_body 401 "invalid key")"
	not_logged "$WRONG" Pa55wordSecret
}

# headers_are STATUS_LINE: the CGI header block is exactly the status, the
# content type and the length of the body, nothing injected.
headers_are() {
	local want
	want=$(printf 'Status: %s\r\nContent-Type: application/json\r\nContent-Length: %s' \
	    "$1" "${#cgi_body}")
	if [ "$cgi_headers" != "$want" ]; then
		printf 'headers: %q\n' "$cgi_headers" >&2
		return 1
	fi
}

@test "a CR LF in a GET metric name does not add a header" {
	get "metric=sec.a%0d%0aX-Injected:%20yes&value=1&key=$KEY"
	expect 400
	headers_are "400 Bad Request"
	[[ $cgi_body == *'\r\nX-Injected:'* ]]
	[[ $cgi_body != *$'\r'* && $cgi_body != *$'\n'* ]]
}

@test "a CR LF in a GET parameter name does not add a header" {
	get "metric=sec.a&value=1&key=$KEY&x%0d%0aSet-Cookie:%20a=b=1"
	expect 400
	headers_are "400 Bad Request"
	[[ $cgi_body != *$'\r'* && $cgi_body != *$'\n'* ]]
}

@test "a CR LF in a POST metric name does not add a header" {
	post '{"key": "'$KEY'", "metric": "sec.a\r\nX-Injected: yes", "value": 1}'
	expect 400
	headers_are "400 Bad Request"
	[[ $cgi_body != *$'\r'* && $cgi_body != *$'\n'* ]]
}

@test "a CR LF in a dropped telegraf field, echoed in the 207, does not add a header" {
	post '{"metrics": [{"fields": {"up\r\nX-Injected: yes": true, "n": 1}, "name": "m", "tags": {"host": "h"}, "timestamp": '"$(minute_ts)"'}]}' \
	    "HTTP_KEY=$KEY" HTTP_TELEGRAF=true
	expect 207
	headers_are "207 Multi-Status"
	[[ $cgi_body == *'"h.m.up\r\nX-Injected: yes"'* ]]
	[[ $cgi_body != *$'\r'* && $cgi_body != *$'\n'* ]]
}

@test "spool files are mode 0640 under a permissive umask" {
	(umask 000; post '{"key": "'$KEY'", "metric": "sec.a", "value": 1}'; expect 204)
	[ "$(stat -c %a "$STACK_DIR"/spool/*.spool)" = 640 ]
}

@test "spool files are mode 0640 under a restrictive umask" {
	(umask 077; post '{"key": "'$KEY'", "metric": "sec.a", "value": 1}'; expect 204)
	[ "$(stat -c %a "$STACK_DIR"/spool/*.spool)" = 640 ]
}

@test "a POST body slower than FLUX_BODY_MIN_RATE is given up with 408" {
	write_conf "FLUX_BODY_MIN_RATE = 1000" "FLUX_BODY_RATE_WINDOW = 1"
	trickle metric_data_post 5000 '{"key": "'$KEY'", '
	expect 408 "$(err_body 408 'request body too slow')"
	grep -q "warn: request body too slow: less than 1000 bytes a second over 1 s; given up" "$STACK_DIR/cgi.err"
	trickle populate_metric 5000 '{"key": "'$KEY'", '
	expect 408 "$(err_body 408 'request body too slow')"
}

@test "an upload body slower than the floor is given up with 408, its files removed" {
	mkdir -p "$STACK_DIR/uploads"
	write_conf "FLUX_BODY_MIN_RATE = 1000" "FLUX_BODY_RATE_WINDOW = 1" \
	    "WEBAPP_ACCEPT_DATA_UPLOADS = true" "DATA_UPLOADS_PATH = $STACK_DIR/uploads" \
	    "FLUX_UPLOADS_KEYS = ns.a:k3y"
	body=$(printf -- '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nk3y\r\n--XyZ\r\nContent-Disposition: form-data; name="parent_metric_namespace"\r\n\r\nns.a\r\n--XyZ\r\nContent-Disposition: form-data; name="data_file"; filename="a.csv"\r\n\r\ndate,x\r\n')
	trickle upload_data 100000 "$body" "CONTENT_TYPE=multipart/form-data; boundary=XyZ"
	expect 408 "$(err_body 408 'request body too slow')"
	[ -z "$(find "$STACK_DIR/uploads" -mindepth 1 -print -quit)" ]
}

@test "FLUX_BODY_MIN_RATE = 0 waits for a slow body as long as the server does" {
	write_conf "FLUX_BODY_MIN_RATE = 0" "FLUX_BODY_RATE_WINDOW = 1"
	trickle metric_data_post 5000 '{"key": "'$KEY'", '
	expect 400 "$(err_body 400 'incomplete request body')"
}

@test "flux-batch does not follow a symbolic link planted at its lock file" {
	rm -f "$STACK_DIR/planted" "$STACK_DIR/spool/.flux-batch.lock"
	ln -s "$STACK_DIR/planted" "$STACK_DIR/spool/.flux-batch.lock"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" flush
	rm -f "$STACK_DIR/spool/.flux-batch.lock"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"error: cannot open lock file '$STACK_DIR/spool/.flux-batch.lock': Too many levels of symbolic links"* ]]
	[ ! -e "$STACK_DIR/planted" ]
}

@test "a spool file that is a symbolic link is skipped: neither read nor delivered" {
	start_capture accept
	write_conf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
	printf 'secret.line 1.0 %s\n' "$(date +%s)" > "$STACK_DIR/private"
	chmod 600 "$STACK_DIR/private"
	ln -s "$STACK_DIR/private" "$STACK_DIR/spool/000000000001.000000000.1.0.spool"
	mkfifo "$STACK_DIR/spool/000000000002.000000000.1.0.spool"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" flush
	stop_capture
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warn: spool: skipping '$STACK_DIR/spool/000000000001.000000000.1.0.spool': not a regular file"* ]]
	[[ "$stderr" == *"warn: spool: skipping '$STACK_DIR/spool/000000000002.000000000.1.0.spool': not a regular file"* ]]
	[ ! -s "$CAPTURE_FILE" ]
	[ -L "$STACK_DIR/spool/000000000001.000000000.1.0.spool" ]
	[ "$(cat "$STACK_DIR/private")" != "" ]
}

@test "flux-batch run as root refuses a directory that is not root's, in one line" {
	if [ "$EUID" -ne 0 ]; then skip "needs root"; fi
	chown nobody "$STACK_DIR/spool"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" flush
	chown root "$STACK_DIR/spool"
	[ "$status" -eq 2 ]
	[ "$stderr" = "flux-batch: refusing to run as root: '$STACK_DIR/spool' belongs to uid $(id -u nobody); run flux-batch as that user" ]
}
