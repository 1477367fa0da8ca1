#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# flux.conf (SPEC section 2): strict parsing, errors naming file and line;
# a CGI answers a plain 500 and logs the detail, flux-batch exits non-zero.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup() {
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
	bad_value "FLUX_NO_SUCH = 1" "unknown setting: 'FLUX_NO_SUCH' (see flux.conf(5))"
}

# bad_value LINE MESSAGE [LINENO]: the config line (by default the 10th,
# after the 9 of write_conf) is refused with exactly this reason.
bad_value() {
	conf_error "$1"
	grep -qF "error: $STACK_DIR/flux.conf:${3:-10}: $2" "$STACK_DIR/cgi.err" ||
		{ cat "$STACK_DIR/cgi.err"; false; }
}

@test "a bad value is shown with what the setting expects" {
	bad_value "FLUX_CHECK_LAST_TIMESTAMP = yes" \
		"bad value 'yes' for 'FLUX_CHECK_LAST_TIMESTAMP': expected true or false"
	bad_value "FLUX_MAX_AGE = 36o0" \
		"bad value '36o0' for 'FLUX_MAX_AGE': expected an integer from 1 to 2147483647"
	bad_value "REDIS_PORT = 70000" \
		"bad value '70000' for 'REDIS_PORT': expected an integer from 1 to 65535"
	bad_value "FLUX_CARBON_PROTOCOL = udp" \
		"bad value 'udp' for 'FLUX_CARBON_PROTOCOL': expected pickle or plaintext"
	bad_value "FLUX_LOG_LEVEL = loud" \
		"bad value 'loud' for 'FLUX_LOG_LEVEL': expected error, warn, info or debug"
	bad_value "BATCH_PROCESSING_NAMESPACES = a, ,b" \
		"bad value 'a, ,b' for 'BATCH_PROCESSING_NAMESPACES': expected a comma-separated list without empty items"
	bad_value "BATCH_PROCESSING_NAMESPACES = a,,b" \
		"bad value 'a,,b' for 'BATCH_PROCESSING_NAMESPACES': expected a comma-separated list without empty items"
	bad_value "FLUX_POPULATE_ALLOWED_HOSTS = graphite.example," \
		"bad value 'graphite.example,' for 'FLUX_POPULATE_ALLOWED_HOSTS': expected a comma-separated list without empty items"
}

@test "a bad value of a setting that holds keys is not shown" {
	bad_value "FLUX_UPLOADS_KEYS = ns.one:s3cretkey, :s3cretkey2" \
		"bad value for 'FLUX_UPLOADS_KEYS' (not shown: it holds keys): expected comma-separated name:value entries, each name not empty"
	run grep -c s3cret "$STACK_DIR/cgi.err"
	[ "$output" = 0 ]
}

@test "sentinels are host:port, the master has a name, a lease is 2 s or more" {
	bad_value "REDIS_SENTINELS = 127.0.0.1:26379, sentinel-b" \
		"a sentinel is host:port: 'REDIS_SENTINELS'"
	bad_value "REDIS_SENTINELS = ::1:26379" "a sentinel is host:port: 'REDIS_SENTINELS'"
	bad_value "REDIS_SENTINELS = 127.0.0.1:0" "a sentinel is host:port: 'REDIS_SENTINELS'"
	bad_value "REDIS_SENTINEL_MASTER = " \
		"the master's name must not be empty: 'REDIS_SENTINEL_MASTER'"
	bad_value "FLUX_BATCH_LEASE_SECONDS = 1" \
		"bad value '1' for 'FLUX_BATCH_LEASE_SECONDS': expected an integer from 2 to 86400"
	p=$(flux_free_port)
	write_conf "REDIS_SENTINELS = [::1]:$p, 127.0.0.1:$p" "REDIS_SENTINEL_WAIT_MS = 0"
	get "status=true"
	expect 200
	[ "$(jq -r .redis <<<"$cgi_body")" = unavailable ]
	grep -q "warn: no redis master 'mymaster' from the sentinels within 0 ms: cannot connect to redis sentinel '127.0.0.1:$p': Connection refused" "$STACK_DIR/cgi.err" || { cat "$STACK_DIR/cgi.err" >&2; false; }
}

@test "a setting given twice is refused" {
	conf_error "FLUX_MAX_AGE = 10" "FLUX_MAX_AGE = 20"
	grep -q "flux.conf:11: setting given twice: 'FLUX_MAX_AGE'" "$STACK_DIR/cgi.err"
}

@test "a line without = is refused, naming only its first word" {
	bad_value "REDIS_PASSWORD s3cret" "expected NAME = value: 'REDIS_PASSWORD'"
	run grep -c s3cret "$STACK_DIR/cgi.err"
	[ "$output" = 0 ]
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

@test "a map entry without a colon is refused, the key not shown" {
	# It replaces write_conf's FLUX_API_KEYS line: the 9th line.
	bad_value "FLUX_API_KEYS = $PKEY" \
		"bad value for 'FLUX_API_KEYS' (not shown: it holds keys): expected comma-separated name:value entries, each name not empty" 9
	run grep -c "$PKEY" "$STACK_DIR/cgi.err"
	[ "$output" = 0 ]
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
	[[ "$output" == *"flux-batch: $STACK_DIR/flux.conf:10: unknown setting: 'FLUX_BOGUS'"* ]]
}

@test "flux-batch -c names another config file" {
	write_conf "FLUX_BOGUS = 1"
	cp "$FLUX_CONF" "$STACK_DIR/other.conf"
	run "$FLUX_TOP/batch/flux-batch" -c "$STACK_DIR/other.conf" flush
	[ "$status" = 2 ]
	[[ "$output" == *"other.conf:10: unknown setting"* ]]
}

@test "flux-batch usage: an unknown command or option exits 2 with the usage on stderr" {
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" nonsense
	[ "$status" = 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "usage: flux-batch [-hnV] [-c conf] [flush | populate | uploads | check | status]" ]]
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" --bogus
	[ "$status" = 2 ]
	[[ "$stderr" == *"unrecognized option '--bogus'"*"usage: flux-batch"* ]]
}

@test "flux-batch -h and --help: the commands and options on stdout, exit 0" {
	for opt in -h --help; do
		run --separate-stderr "$FLUX_TOP/batch/flux-batch" $opt
		[ "$status" = 0 ]
		[ "$stderr" = "" ]
		[ "${lines[0]}" = "usage: flux-batch [-hnV] [-c conf] [flush | populate | uploads | check | status]" ]
		[[ "$output" == *"  check     check the configuration, directories, Redis and carbon"* ]]
		[[ "$output" == *"  -c, --config FILE "* ]]
		[[ "$output" == *"See flux-batch(8) and flux.conf(5)."* ]]
	done
}

@test "flux-batch -V, --version and -v print the version" {
	for opt in -V --version -v; do
		run "$FLUX_TOP/batch/flux-batch" $opt
		[ "$status" = 0 ]
		[[ "$output" =~ ^flux-batch\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	done
}

# no_key_conf: a configuration with no key, whose spool and Redis do not
# exist: any job would fail loudly if it ran.
no_key_conf() {
	cat > "$STACK_DIR/nokey.conf" <<-EOF
	FLUX_SPOOL_PATH = $STACK_DIR/no-spool
	REDIS_SOCKET_PATH = $STACK_DIR/no-redis.sock
	EOF
}

@test "with no key set, flux-batch does nothing, says nothing and exits 0 (cron before Flux is configured)" {
	no_key_conf
	for cmd in "" flush populate uploads; do
		run --separate-stderr "$FLUX_TOP/batch/flux-batch" -c "$STACK_DIR/nokey.conf" $cmd
		[ "$status" = 0 ]
		[ "$output" = "" ]
		[ "$stderr" = "" ]
	done
	[ ! -e "$STACK_DIR/no-spool" ]
}

@test "with no key set, flux-batch says why on a terminal" {
	no_key_conf
	run script -qec "$FLUX_TOP/batch/flux-batch -c $STACK_DIR/nokey.conf" /dev/null
	[ "$status" = 0 ]
	[[ "$output" == *"info: no key is set in '$STACK_DIR/nokey.conf': nothing to do"* ]]
}

@test "a key in FLUX_API_KEYS or FLUX_UPLOADS_KEYS alone is enough to run the jobs" {
	no_key_conf
	echo "FLUX_API_KEYS = $PKEY:" >> "$STACK_DIR/nokey.conf"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" -c "$STACK_DIR/nokey.conf" flush
	[ "$status" = 1 ]
	[[ "$stderr" == *"cannot open lock file '$STACK_DIR/no-spool/.flux-batch.lock'"* ]]
	sed -i '$d' "$STACK_DIR/nokey.conf"
	echo "FLUX_UPLOADS_KEYS = ns:k" >> "$STACK_DIR/nokey.conf"
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" -c "$STACK_DIR/nokey.conf" flush
	[ "$status" = 1 ]
}
