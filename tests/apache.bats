#!/usr/bin/env bats
# End to end through a real Apache (mod_cgid; mod_fcgid when run from
# tests/fcgi/, mod_proxy_fcgi and a pool from tests/pool/) serving the
# installed CGIs:
# the seed's curl examples exactly as written, chunked and gzip bodies,
# answers to oversized bodies that reach the client, and the installed
# site for Skyline's Vista (the root paths on a port of their own).

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start apache redis carbon
	make -s -C "$FLUX_TOP" install DESTDIR="$STACK_DIR/inst" PREFIX=/usr \
		SYSCONFDIR=/etc FCGISOCKDIR="$STACK_DIR/pool" >/dev/null
	write_conf
	# The site for Vista as installed, on a private port in place of
	# Skyline's FLUX_PORT 8000, naming the staged programs.
	flux_free_port > "$STACK_DIR/vista.port"
	mkdir -p "$STACK_DIR/apache/conf.d"
	sed -e "s|127.0.0.1:8000|127.0.0.1:$(cat "$STACK_DIR/vista.port")|" \
	    -e "s| /usr/lib/flux/cgi-bin/| $STACK_DIR/inst/usr/lib/flux/cgi-bin/|" \
	    "$STACK_DIR/inst/etc/apache2/sites-available/flux-vista.conf" \
	    > "$STACK_DIR/apache/conf.d/flux-vista.conf"
	# The pool is reached through the installed apache/flux-pool.conf.
	if [ "$FLUX_MODE" = pool ]; then
		cp "$STACK_DIR/inst/etc/apache2/conf-available/flux-pool.conf" "$STACK_DIR/apache/conf.d/"
	fi
	# Under tests/fcgi/ the same suite runs with mod_fcgid (resident
	# responders), under tests/pool/ with the kernel-queued pool of INSTALL.
	local mode=
	case $FLUX_MODE in fcgi) mode=fcgid ;; pool) mode=proxy ;; esac
	start_apache "$STACK_DIR/inst/usr/lib/flux/cgi-bin" "$STACK_DIR/flux.conf" $mode
}

teardown_file() {
	suite_stop
}

setup() {
	APACHE_PORT=$(cat "$STACK_DIR/ports/apache" 2>/dev/null || echo "${FLUX_URL##*:}")
	HOST=127.0.0.1:$APACHE_PORT
	VISTA=http://127.0.0.1:$(cat "$STACK_DIR/vista.port")
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
}

# code_of CURL-ARGS...: run curl, print the HTTP status, body in $STACK_DIR/out.
code_of() { curl -s -o "$STACK_DIR/out" -w '%{http_code}' "$@"; }

@test "the seed's GET example works through Apache" {
	T=$(minute_ts)
	run curl -s -w '%{http_code}' "http://$HOST/flux/metric_data?metric=vista.nodes.skyline-1.cpu.user&timestamp=$T&value=1.0&key=$KEY"
	[ "$output" = 204 ]
	[ "$(whisper_fetch_value vista.nodes.skyline-1.cpu.user "$T")" = "1.000000" ]
}

@test "the seed's POST example works through Apache" {
	T=$(minute_ts 2)
	run curl -s -w '%{http_code}' -d '{"metric":"vista.nodes.skyline-1.cpu.user","timestamp":"'$T'","value":"1.0","key":"'$KEY'"}' -H "Content-Type: application/json" -X POST "http://$HOST/flux/metric_data_post"
	[ "$output" = 204 ]
	[ "$(whisper_fetch_value vista.nodes.skyline-1.cpu.user "$T")" = "1.000000" ]
}

@test "errors reach the client as JSON with their status" {
	[ "$(code_of "http://$HOST/flux/metric_data?metric=a/b&value=1&key=$KEY")" = 400 ]
	[ "$(cat "$STACK_DIR/out")" = "$(err_body 400 'invalid metric - a/b - invalid characters in name')" ]
	run curl -s -D - -o /dev/null "http://$HOST/flux/metric_data?metric=a&value=1&key=$KEY" -X DELETE
	[[ "$output" == *"405 Method Not Allowed"* ]]
	[[ "$output" == *"Allow: GET"* ]]
	[[ "$(curl -s -D - -o /dev/null "http://$HOST/flux/metric_data?x=1")" == *"Content-Type: application/json"* ]]
}

@test "a gzip body sent chunked (as telegraf sends it) is read to EOF" {
	T=$(minute_ts)
	printf '{"metrics":[{"fields":{"idle":42.5,"s":"x"},"name":"cpu","tags":{"host":"h1"},"timestamp":%s}]}' "$T" | gzip > "$STACK_DIR/t.gz"
	code=$(code_of -H 'Content-Encoding: gzip' -H 'Transfer-Encoding: chunked' \
		-H "key: $KEY" -H 'telegraf: true' -H 'prefix: tg' \
		-H 'Content-Type: application/json' --data-binary @"$STACK_DIR/t.gz" \
		"http://$HOST/flux/metric_data_post")
	[ "$code" = 207 ]
	[[ "$(cat "$STACK_DIR/out")" == *'"dropped non-numeric metrics": ["tg.h1.cpu.s"]'* ]]
	[ "$(whisper_fetch_value tg.h1.cpu.idle "$T")" = "42.500000" ]
}

@test "a body over FLUX_MAX_BODY_BYTES gets a 413 answer, not a reset" {
	head -c 1500000 /dev/zero | tr '\0' ' ' > "$STACK_DIR/big"
	code=$(code_of --data-binary @"$STACK_DIR/big" "http://$HOST/flux/metric_data_post")
	[ "$code" = 413 ]
	[ "$(cat "$STACK_DIR/out")" = "$(err_body 413 'request body too large')" ]
	code=$(code_of -H 'Transfer-Encoding: chunked' --data-binary @"$STACK_DIR/big" "http://$HOST/flux/metric_data_post")
	[ "$code" = 413 ]
}

@test "a GET with a body still gets its answer" {
	head -c 500000 /dev/zero > "$STACK_DIR/big"
	code=$(code_of -X GET --data-binary @"$STACK_DIR/big" "http://$HOST/flux/metric_data?status=true")
	[ "$code" = 200 ]
}

@test "Apache's LimitRequestBody refuses a grossly oversized body first" {
	head -c 3000000 /dev/zero > "$STACK_DIR/huge"
	code=$(code_of --data-binary @"$STACK_DIR/huge" "http://$HOST/flux/metric_data_post")
	echo "HTTP $code"; cat "$STACK_DIR/out"
	if [ "$FLUX_MODE" = fcgi ]; then
		# mod_fcgid logs AH01588 and hands the responder an empty body:
		# refused all the same, nothing delivered.
		[ "$code" = 400 ]
		[ "$(cat "$STACK_DIR/out")" = "$(err_body 400 'no POST data received')" ]
	else
		[ "$code" = 413 ]
	fi
}

@test "the status check works through Apache" {
	[ "$(code_of "http://$HOST/flux/metric_data?status=true")" = 200 ]
	[ "$(jq -r .status "$STACK_DIR/out")" = ok ]
}

@test "INSTALL's access log recipe logs /flux/ requests without their query string" {
	local mode=; [ "$FLUX_MODE" = fcgi ] && mode=fcgid
	stop_apache
	# The recipe's lines, as INSTALL (section 12) writes them.
	{
		echo "LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so"
		echo 'LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined'
		sed -n '/^  SetEnvIf Request_URI "^\/flux\/"/,/env=!flux_request$/p' "$FLUX_TOP/INSTALL" |
		    sed -e 's/^  //' -e "s|\${APACHE_LOG_DIR}|$STACK_DIR/apache/logs/recipe|"
	} > "$STACK_DIR/apache/conf.d/recipe.conf"
	mkdir -p "$STACK_DIR/apache/logs/recipe"
	chmod -R o+rwX "$STACK_DIR/apache/logs/recipe"
	[ "$(grep -c CustomLog "$STACK_DIR/apache/conf.d/recipe.conf")" = 2 ]
	start_apache "$STACK_DIR/inst/usr/lib/flux/cgi-bin" "$STACK_DIR/flux.conf" $mode
	T=$(minute_ts)
	[ "$(code_of "http://$HOST/flux/metric_data?metric=test.recipe&value=1&timestamp=$T&key=$KEY")" = 204 ]
	[ "$(code_of "http://$HOST/trivial/trivial?q=kept")" = 204 ]
	rm "$STACK_DIR/apache/conf.d/recipe.conf"
	stop_apache
	start_apache "$STACK_DIR/inst/usr/lib/flux/cgi-bin" "$STACK_DIR/flux.conf" $mode
	log=$STACK_DIR/apache/logs/recipe/access.log
	cat "$log"
	grep -q '"GET /flux/metric_data HTTP/1.1" 204' "$log"
	grep -q '"GET /trivial/trivial?q=kept HTTP/1.1" 204' "$log"
	run grep -c -e "$KEY" -e 'key=' "$log"
	[ "$output" = 0 ]
}

@test "the installed site for Vista names Skyline's FLUX_IP and FLUX_PORT, and is what this suite runs" {
	f="$STACK_DIR/inst/etc/apache2/sites-available/flux-vista.conf"
	grep -qx 'Listen 127.0.0.1:8000' "$f"
	grep -qx '<VirtualHost 127.0.0.1:8000>' "$f"
	grep -qx '	ScriptAliasMatch ^/(metric_data|metric_data_post|populate_metric)$ /usr/lib/flux/cgi-bin/$1' "$f"
	# The copy this suite's Apache runs differs in the port and the path only.
	diff <(sed -e 's/:8000/:PORT/' -e 's| /usr/lib/flux/cgi-bin/| /LIB/|' "$f") \
	    <(sed -e "s/:$(cat "$STACK_DIR/vista.port")/:PORT/" \
	    -e "s| $STACK_DIR/inst/usr/lib/flux/cgi-bin/| /LIB/|" "$STACK_DIR/apache/conf.d/flux-vista.conf")
}

@test "Vista's calls at the root of its port: metric_data, metric_data_post, populate_metric" {
	T=$(minute_ts)
	# Vista's worker: a GET with the key last.
	run curl -s -w '%{http_code}' "$VISTA/metric_data?metric=vista.root.get&value=1.5&timestamp=$T&key=$KEY"
	[ "$output" = 204 ]
	[ "$(whisper_fetch_value vista.root.get "$T")" = "1.500000" ]
	[ "$(entry vista.root.get)" = "{'timestamp': $T, 'value': 1.5}" ]
	[ "$(code_of "$VISTA/metric_data?status=true")" = 200 ]
	[ "$(jq -r .status "$STACK_DIR/out")" = ok ]
	run curl -s -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d '{"key":"'$KEY'","metrics":[{"metric":"vista.root.post","timestamp":'$T',"value":2.5}]}' \
	    "$VISTA/metric_data_post"
	[ "$output" = 204 ]
	[ "$(whisper_fetch_value vista.root.post "$T")" = "2.500000" ]
	# Vista's fetcher: requests.post(url, json=payload), its URL list a
	# Python list's text in double quotes.
	run curl -s -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d '{"remote_host_type": "graphite", "remote_target": "stats.web1.cpu", "metric": "vista.remote.stats.web1.cpu", "namespace_prefix": "vista.remote", "key": "'$KEY'", "token": "None", "user": "None", "password": "None", "fetch_resolution_urls": "\"['"'"'http://graphite.example.org/render/?from=-7days&format=json&target=stats.web1.cpu'"'"']\""}' \
	    "$VISTA/populate_metric"
	[ "$output" = 204 ]
	[[ "$(redis-cli -s "$REDIS_SOCK" lrange flux.populate_metric.queue 0 -1)" == *'"metric":"vista.remote.stats.web1.cpu"'* ]]
	# Under mod_fcgid, by resident responders: populate_metric is reached
	# through this port only, in this suite.
	if [ "$FLUX_MODE" = fcgi ]; then
		grep -q "mod_fcgid: server .*/cgi-bin/populate_metric(.*) started" "$STACK_DIR/apache/logs/error.log"
	fi
}

@test "the Vista port serves those three paths only, and only to the addresses it names" {
	# Another address (Linux answers all of 127/8 on loopback).
	for p in metric_data metric_data_post populate_metric; do
		[ "$(code_of --interface 127.0.0.2 "$VISTA/$p?status=true")" = 403 ]
	done
	[ "$(code_of --interface 127.0.0.2 "http://$HOST/flux/metric_data?status=true")" = 200 ]
	# Nothing else on that port, not even /flux/.
	for p in / /flux/metric_data /metric_data/x /upload_data /trivial/trivial; do
		[ "$(code_of "$VISTA$p?status=true")" = 403 ]
	done
	[ "$(code_of "$VISTA/metric_data?status=true")" = 200 ]
}
