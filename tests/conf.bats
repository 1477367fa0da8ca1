#!/usr/bin/env bats
# flux.conf (SPEC section 2): strict parsing, errors naming file and line;
# a CGI answers a plain 500 and logs the detail, flux-batch exits non-zero.

setup() {
	source "$BATS_TEST_DIRNAME/lib/flux.bash"
	suite_start conf
}

teardown() {
	suite_stop
}

# conf_error LINE... : a config with these lines makes a CGI answer 500 and log $want.
conf_error() {
	write_conf "$@"
	get "status=true"
	expect 500 "$(err_body 500 'internal error')"
}

@test "a missing config file: 500 internal error, the path in the log" {
	export FLUX_CONF="$STACK_DIR/none.conf"
	get "status=true"
	expect 500 "$(err_body 500 'internal error')"
	grep -q "error: cannot open '$STACK_DIR/none.conf': No such file or directory" "$STACK_DIR/cgi.err"
}

@test "the request body is read even when the config is broken" {
	export FLUX_CONF="$STACK_DIR/none.conf"
	head -c 200000 /dev/zero > "$STACK_DIR/body"
	cgi metric_data_post POST "" "$STACK_DIR/body"
	expect 500
}

@test "an unknown setting names the file and line" {
	conf_error "FLUX_NO_SUCH = 1"
	grep -q "error: $STACK_DIR/flux.conf:8: unknown setting: 'FLUX_NO_SUCH'" "$STACK_DIR/cgi.err"
}

@test "a bad boolean, integer or protocol is refused" {
	conf_error "FLUX_CHECK_LAST_TIMESTAMP = yes"
	grep -q "flux.conf:8: bad value: 'FLUX_CHECK_LAST_TIMESTAMP'" "$STACK_DIR/cgi.err"
	conf_error "FLUX_MAX_AGE = 36o0"
	grep -q "bad value: 'FLUX_MAX_AGE'" "$STACK_DIR/cgi.err"
	conf_error "FLUX_CARBON_PORT = 70000"
	grep -q "bad value: 'FLUX_CARBON_PORT'" "$STACK_DIR/cgi.err"
	conf_error "FLUX_CARBON_PROTOCOL = udp"
	grep -q "bad value: 'FLUX_CARBON_PROTOCOL'" "$STACK_DIR/cgi.err"
	conf_error "FLUX_LOG_LEVEL = loud"
	grep -q "bad value: 'FLUX_LOG_LEVEL'" "$STACK_DIR/cgi.err"
}

@test "sentinels are host:port, the master has a name, a lease is 2 s or more" {
	conf_error "REDIS_SENTINELS = 127.0.0.1:26379, sentinel-b"
	grep -q "flux.conf:8: a sentinel is host:port: 'REDIS_SENTINELS'" "$STACK_DIR/cgi.err"
	conf_error "REDIS_SENTINELS = ::1:26379"
	grep -q "flux.conf:8: a sentinel is host:port: 'REDIS_SENTINELS'" "$STACK_DIR/cgi.err"
	conf_error "REDIS_SENTINELS = 127.0.0.1:0"
	grep -q "flux.conf:8: a sentinel is host:port: 'REDIS_SENTINELS'" "$STACK_DIR/cgi.err"
	conf_error "REDIS_SENTINEL_MASTER = "
	grep -q "flux.conf:8: the master's name must not be empty: 'REDIS_SENTINEL_MASTER'" "$STACK_DIR/cgi.err"
	conf_error "FLUX_BATCH_LEASE_SECONDS = 1"
	grep -q "flux.conf:8: bad value: 'FLUX_BATCH_LEASE_SECONDS'" "$STACK_DIR/cgi.err"
	p=$(flux_free_port)
	write_conf "REDIS_SENTINELS = [::1]:$p, localhost:$p" "REDIS_SENTINEL_WAIT_MS = 0"
	get "status=true"
	expect 503 "$(err_body 503 'redis unavailable')"
	grep -q "warn: no redis master 'mymaster' from the sentinels within 0 ms: cannot connect to redis sentinel 'localhost:$p': Connection refused" "$STACK_DIR/cgi.err"
}

@test "a setting given twice is refused" {
	conf_error "FLUX_MAX_AGE = 10" "FLUX_MAX_AGE = 20"
	grep -q "flux.conf:9: setting given twice: 'FLUX_MAX_AGE'" "$STACK_DIR/cgi.err"
}

@test "a line without = is refused" {
	conf_error "FLUX_MAX_AGE 10"
	grep -q "flux.conf:8: expected NAME = value" "$STACK_DIR/cgi.err"
}

@test "Skyline's placeholder key is refused" {
	conf_error "FLUX_SELF_API_KEY = YOURown32charSkylineAPIkeySecret"
	grep -q "the Skyline placeholder key is not a key: 'FLUX_SELF_API_KEY'" "$STACK_DIR/cgi.err"
}

@test "a key that is not 32 alphanumerics is refused" {
	conf_error "FLUX_SELF_API_KEY = short"
	grep -q "a key is 32 ASCII letters and digits" "$STACK_DIR/cgi.err"
	conf_error "FLUX_API_KEYS = abcdefghij0123456789ABCDEFGHIJ0-:p"
	grep -q "a key is 32 ASCII letters and digits: 'FLUX_API_KEYS'" "$STACK_DIR/cgi.err"
}

@test "FLUX_API_KEYS splits at the first colon; a prefix must be a valid name" {
	conf_error "FLUX_API_KEYS = $PKEY:bad/prefix"
	grep -q "a namespace prefix must be a valid metric name" "$STACK_DIR/cgi.err"
	write_conf "FLUX_API_KEYS = $PKEY:ns.one, abcdefghij0123456789ABCDEFGHIJ77:"
	get "metric=m&value=1&key=$PKEY&test=true"
	expect 200
	[[ "$cgi_body" == *'"metrics": ["ns.one.m"]'* ]]
	get "metric=m&value=1&key=abcdefghij0123456789ABCDEFGHIJ77&test=true"
	[[ "$cgi_body" == *'"namespace": null'*'"metrics": ["m"]'* ]]
}

@test "a line with a NUL byte is refused, not read cut short" {
	write_conf
	printf 'FLUX_MAX_AGE = 10\0junk\n' >> "$FLUX_CONF"
	get "status=true"
	expect 500 "$(err_body 500 'internal error')"
	grep -q "error: $FLUX_CONF:[0-9]*: NUL byte in line" "$STACK_DIR/cgi.err"
}

@test "a map entry without a colon is refused" {
	conf_error "FLUX_API_KEYS = $PKEY"
	grep -q "bad value: 'FLUX_API_KEYS'" "$STACK_DIR/cgi.err"
}

@test "comments, blank lines and spaces around values are allowed" {
	write_conf "# a comment" "" "   FLUX_MAX_AGE   =   120   "
	get "metric=a&value=1&key=$KEY&timestamp=1699999879" FLUX_NOW=1700000000
	expect 400 "$(err_body 400 'invalid timestamp - 1699999879 - timestamp is too old, older than 120 seconds')"
}

@test "a world-writable config file is refused" {
	write_conf
	chmod 666 "$FLUX_CONF"
	get "status=true"
	expect 500
	grep -q "the file is world-writable" "$STACK_DIR/cgi.err"
}

@test "flux-batch exits 2 with the message on a config error" {
	write_conf "FLUX_BOGUS = 1"
	run "$FLUX_TOP/batch/flux-batch" flush
	[ "$status" = 2 ]
	[[ "$output" == *"flux-batch: $STACK_DIR/flux.conf:8: unknown setting: 'FLUX_BOGUS'"* ]]
}

@test "flux-batch -c names another config file" {
	write_conf "FLUX_BOGUS = 1"
	cp "$FLUX_CONF" "$STACK_DIR/other.conf"
	run "$FLUX_TOP/batch/flux-batch" -c "$STACK_DIR/other.conf" flush
	[ "$status" = 2 ]
	[[ "$output" == *"other.conf:8: unknown setting"* ]]
}

@test "flux-batch usage: unknown command exits 2, -v prints the version" {
	run "$FLUX_TOP/batch/flux-batch" nonsense
	[ "$status" = 2 ]
	[[ "$output" == "usage: flux-batch"* ]]
	run "$FLUX_TOP/batch/flux-batch" -v
	[ "$status" = 0 ]
	[[ "$output" == "flux-batch "[0-9]* ]]
}
