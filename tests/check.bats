#!/usr/bin/env bats
# flux-batch check (flux-batch(8)): one line per finding, "ok: ", "note: "
# or "error: " first, the count of errors last; exit 1 when any. Against
# the suite's own redis-server and carbon-cache.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start check redis carbon
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT
}

teardown_file() {
	suite_stop
}

setup() {
	conf
}

# conf [LINES...]: write_conf, with carbon's retention read from the stack,
# and modes a check finds right: the config (keys in it) readable by its
# owner and group only, the spool by its owner and group only.
conf() {
	local schemas="FLUX_CARBON_STORAGE_SCHEMAS = $STACK_DIR/carbon/conf/storage-schemas.conf"
	[[ " $* " == *" FLUX_CARBON_STORAGE_SCHEMAS = "* ]] && schemas=
	write_conf ${schemas:+"$schemas"} "$@"
	chmod 640 "$FLUX_CONF"
	chmod 750 "$STACK_DIR/spool"
}

# check [ARGS...]: flux-batch check with the suite's config.
check() { run --separate-stderr "$FLUX_TOP/batch/flux-batch" "$@" check; }

# has LINE: the output holds exactly this line.
has() {
	local l
	for l in "${lines[@]}"; do [ "$l" = "$1" ] && return 0; done
	printf 'no line "%s" in:\n%s\n' "$1" "$output" >&2
	return 1
}

# owner_of PATH: "user:group mode" as check shows it.
owner_of() { stat -c '%U:%G %04a' "$1"; }

@test "a good configuration: every check ok, 0 problems, exit 0" {
	check
	[ "$status" = 0 ]
	[ "$stderr" = "" ]
	has "ok: configuration '$FLUX_CONF' ($(owner_of "$FLUX_CONF"))"
	has "ok: keys: FLUX_SELF_API_KEY set, 1 in FLUX_API_KEYS, 0 in FLUX_UPLOADS_KEYS"
	has "ok: spool (FLUX_SPOOL_PATH) '$STACK_DIR/spool' ($(owner_of "$STACK_DIR/spool"))"
	has "ok: uploads: off (WEBAPP_ACCEPT_DATA_UPLOADS, FLUX_PROCESS_UPLOADS and BATCH_PROCESSING)"
	has "ok: redis '$REDIS_SOCK' answers"
	has "ok: carbon '127.0.0.1:$CARBON_PICKLE_PORT' (pickle) accepts connections"
	has "ok: carbon's retention: '$STACK_DIR/carbon/conf/storage-schemas.conf' (1 sections)"
	has "note: GRAPHITE_HOST is not set: populate_metric takes every point fetched for a metric without flux.last"
	[ "${lines[-1]}" = "0 problems found" ]
}

@test "check reads Redis and writes nothing to it" {
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	check
	[ "$status" = 0 ]
	[ "$(redis-cli -s "$REDIS_SOCK" dbsize)" = 0 ]
}

@test "a configuration that does not load: its error, 1 problem, exit 1" {
	echo "REDIS_PORT = 70000" >> "$FLUX_CONF"
	check
	[ "$status" = 1 ]
	[ "$output" = "error: $FLUX_CONF:11: bad value '70000' for 'REDIS_PORT': expected an integer from 1 to 65535
1 problem found" ]
}

@test "no key set: an error" {
	grep -v -e '^FLUX_SELF_API_KEY' -e '^FLUX_API_KEYS' "$FLUX_CONF" > "$STACK_DIR/nokey.conf"
	export FLUX_CONF="$STACK_DIR/nokey.conf"
	check
	[ "$status" = 1 ]
	has "error: no key is set (FLUX_SELF_API_KEY, FLUX_API_KEYS, FLUX_UPLOADS_KEYS): every request is refused and flux-batch does nothing"
}

@test "keys readable by every user: an error" {
	chmod 644 "$FLUX_CONF"
	check
	[ "$status" = 1 ]
	has "error: configuration '$FLUX_CONF' ($(owner_of "$FLUX_CONF")): holds keys and is readable by every user (chmod o-r)"
	[ "${lines[-1]}" = "1 problem found" ]
}

@test "a missing spool, a file for a spool, a world-writable spool: errors" {
	conf "FLUX_SPOOL_PATH = $STACK_DIR/nospool"
	check
	[ "$status" = 1 ]
	has "error: spool (FLUX_SPOOL_PATH) '$STACK_DIR/nospool': No such file or directory"
	touch "$STACK_DIR/nospool"
	check
	has "error: spool (FLUX_SPOOL_PATH) '$STACK_DIR/nospool': not a directory"
	conf
	chmod 777 "$STACK_DIR/spool"
	check
	has "error: spool (FLUX_SPOOL_PATH) '$STACK_DIR/spool' ($(owner_of "$STACK_DIR/spool")): writable by every user"
}

@test "a spool the web server's user cannot write: an error naming its owner" {
	[ "$EUID" -eq 0 ] || skip "needs root to run as www-data"
	# www-data must reach the program (the tree may be under /root).
	_stack_www_traverse "$FLUX_TOP/batch"
	chown root:www-data "$FLUX_CONF"
	chown root:root "$STACK_DIR/spool"
	chmod 755 "$STACK_DIR/spool"
	run --separate-stderr runuser -u www-data -- "$FLUX_TOP/batch/flux-batch" -c "$FLUX_CONF" check
	[ "$status" = 1 ]
	has "error: spool (FLUX_SPOOL_PATH) '$STACK_DIR/spool' (root:root 0755): not writable by uid $(id -u www-data): Permission denied"
	chown www-data: "$STACK_DIR/spool"
	chmod 750 "$STACK_DIR/spool"
	run --separate-stderr runuser -u www-data -- "$FLUX_TOP/batch/flux-batch" -c "$FLUX_CONF" check
	[ "$status" = 0 ]
	has "ok: spool (FLUX_SPOOL_PATH) '$STACK_DIR/spool' (www-data:www-data 0750)"
	run grep -c "run as root" <<<"$output"
	[ "$output" = 0 ]
}

@test "run as root, check says its answers are root's" {
	[ "$EUID" -eq 0 ] || skip "not root"
	check
	has "note: run as root: directories were checked for root; run as the web server's user to check its access"
}

@test "a held delivery is noted" {
	touch "$STACK_DIR/spool/hold"
	check
	rm -f "$STACK_DIR/spool/hold"
	[ "$status" = 0 ]
	has "note: delivery is held while '$STACK_DIR/spool/hold' exists"
}

@test "Redis and carbon unreachable: one error each" {
	port=$(flux_free_port)
	conf "REDIS_SOCKET_PATH = $STACK_DIR/none.sock" "FLUX_CARBON_PICKLE_PORT = $port"
	check
	[ "$status" = 1 ]
	has "error: cannot connect to redis '$STACK_DIR/none.sock': No such file or directory"
	has "error: cannot connect to carbon '127.0.0.1:$port': Connection refused"
	[ "${lines[-1]}" = "2 problems found" ]
}

@test "plaintext carbon is checked on its own port; FLUX_SEND_TO_CARBON false is a note" {
	conf "FLUX_CARBON_PROTOCOL = plaintext"
	check
	has "ok: carbon '127.0.0.1:$CARBON_PORT' (plaintext) accepts connections"
	conf "FLUX_SEND_TO_CARBON = false"
	check
	has "note: FLUX_SEND_TO_CARBON is false: points are checked and de-duplicated, never sent"
}

# uploads_conf LINES...: uploads settings on top of the suite's config.
uploads_conf() {
	mkdir -p "$STACK_DIR/up"
	chmod 750 "$STACK_DIR/up"
	conf "DATA_UPLOADS_PATH = $STACK_DIR/up" "$@"
}

@test "uploads accepted but never processed: an error naming the switch" {
	uploads_conf "WEBAPP_ACCEPT_DATA_UPLOADS = true" "FLUX_UPLOADS_KEYS = ns.a:k1"
	check
	[ "$status" = 1 ]
	has "error: uploads are accepted (WEBAPP_ACCEPT_DATA_UPLOADS) but never processed: FLUX_PROCESS_UPLOADS is false"
	uploads_conf "WEBAPP_ACCEPT_DATA_UPLOADS = true" "FLUX_PROCESS_UPLOADS = true" \
		"FLUX_UPLOADS_KEYS = ns.a:k1"
	check
	has "error: uploads are accepted (WEBAPP_ACCEPT_DATA_UPLOADS) but never processed: BATCH_PROCESSING is false"
}

@test "uploads: no key, a namespace not processed, a missing directory: one error each" {
	uploads_conf "WEBAPP_ACCEPT_DATA_UPLOADS = true" "FLUX_PROCESS_UPLOADS = true" \
		"BATCH_PROCESSING = true" "BATCH_PROCESSING_NAMESPACES = ns" \
		"FLUX_UPLOADS_KEYS = ns.a:k1, other.b:k2" "FLUX_SAVE_UPLOADS = true" \
		"FLUX_SAVE_UPLOADS_PATH = $STACK_DIR/nosave"
	check
	[ "$status" = 1 ]
	has "ok: uploads (DATA_UPLOADS_PATH) '$STACK_DIR/up' ($(owner_of "$STACK_DIR/up"))"
	has "error: saved uploads (FLUX_SAVE_UPLOADS_PATH) '$STACK_DIR/nosave': No such file or directory"
	has "error: uploads to 'other.b' are never processed: not under BATCH_PROCESSING_NAMESPACES"
	[ "${lines[-1]}" = "2 problems found" ]
	uploads_conf "FLUX_PROCESS_UPLOADS = true" "BATCH_PROCESSING = true"
	check
	has "note: WEBAPP_ACCEPT_DATA_UPLOADS is false: only uploads dropped into DATA_UPLOADS_PATH by hand are processed"
	has "error: FLUX_UPLOADS_KEYS is empty: every upload is refused"
}

# schemas TEXT: a storage-schemas.conf for the check to read.
schemas() {
	printf '%s\n' "$1" > "$STACK_DIR/schemas.conf"
	conf "FLUX_CARBON_STORAGE_SCHEMAS = $STACK_DIR/schemas.conf"
	check
}

@test "carbon's retention: sections carbon would skip are skipped, as carbon does" {
	schemas '# comment
[carbon]
pattern = ^carbon\.
retentions = 60:90d

[no_pattern]
retentions = 60s:1d

[not_valid]
pattern = x
retentions = 180s:7d,300s:30d

[Default]
PATTERN: .*
retentions = 60s:1d,
  5m:30d'
	[ "$status" = 0 ]
	has "ok: carbon's retention: '$STACK_DIR/schemas.conf' (2 sections)"
}

@test "carbon's retention: what carbon cannot read is an error" {
	schemas '[a]
pattern = .*
retentions = 60s:7days'
	[ "$status" = 1 ]
	has "error: FLUX_CARBON_STORAGE_SCHEMAS: '$STACK_DIR/schemas.conf' [a]: invalid retention '60s:7days'"
	schemas 'pattern = .*'
	has "error: FLUX_CARBON_STORAGE_SCHEMAS: '$STACK_DIR/schemas.conf' line 1: a setting before any [section]"
}

@test "carbon's retention: a Python-only pattern is an error, not a guess" {
	schemas '[servers]
pattern = ^servers\.\d+\.
retentions = 10s:1d'
	[ "$status" = 1 ]
	has "error: FLUX_CARBON_STORAGE_SCHEMAS: '$STACK_DIR/schemas.conf' [servers]: pattern '^servers\.\d+\.' uses '\d', which Flux cannot read as a POSIX extended regular expression"
}

@test "carbon's retention unknown: a note, whether unset or absent" {
	conf "FLUX_CARBON_STORAGE_SCHEMAS = "
	check
	[ "$status" = 0 ]
	has "note: carbon's retention is unknown (FLUX_CARBON_STORAGE_SCHEMAS is empty): uploads older than it are not flagged"
	conf "FLUX_CARBON_STORAGE_SCHEMAS = $STACK_DIR/none.conf"
	check
	[ "$status" = 0 ]
	has "note: carbon's retention is unknown (FLUX_CARBON_STORAGE_SCHEMAS '$STACK_DIR/none.conf' does not exist): uploads older than it are not flagged"
}

@test "a local Graphite is shown, not contacted" {
	conf "GRAPHITE_HOST = graphite.invalid" "GRAPHITE_PORT = 8080"
	check
	[ "$status" = 0 ]
	has "ok: local graphite: http://graphite.invalid:8080/render (not contacted)"
}
