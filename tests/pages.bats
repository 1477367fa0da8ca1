#!/usr/bin/env bats
# The two pages for people (flux(7), WEB PAGES), called as a web server
# calls them: status_page (HTML, format=json, the details behind
# FLUX_SELF_API_KEY, text from Redis escaped) and upload_page (the form,
# only while uploads are on). tests/browser.bats shows them in a browser;
# here each rule has its exact answer, and make check-valgrind runs them.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start pages redis carbon
}

teardown_file() {
	suite_stop
}

setup() {
	write_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR/spool/"*.spool
}

# page METHOD QUERY [FORM]: status_page, with FORM as a urlencoded body.
page() {
	local f="$STACK_DIR/form.$$"
	printf '%s' "${3:-}" > "$f"
	if [ -n "${3:-}" ]; then
		cgi status_page "$1" "$2" "$f" CONTENT_TYPE=application/x-www-form-urlencoded
	else
		cgi status_page "$1" "$2"
	fi
}

# refused_values: the refusals for a bad value the page counts this hour.
refused_values() {
	page GET format=json && jq '.history.refused.value | add' <<<"$cgi_body"
}

# header NAME: the value of the last answer's header NAME.
header() {
	printf '%s\n' "$cgi_headers" | tr -d '\r' | sed -n "s/^$1: //p"
}

@test "status_page: 200, an HTML page never cached nor framed" {
	page GET ""
	expect 200
	[ "$(header Content-Type)" = "text/html; charset=utf-8" ]
	[ "$(header Cache-Control)" = no-store ]
	[ "$(header X-Frame-Options)" = DENY ]
	[ "$(header X-Content-Type-Options)" = nosniff ]
	[[ $cgi_body == '<!DOCTYPE html>'* ]]
	[[ $cgi_body == *'<span id="status" class="status ok">ok</span>'* ]]
	[[ $cgi_body == *'<meta http-equiv="refresh" content="60">'* ]]
}

@test "status_page?format=json: the health and the hour's counts of the requests sent" {
	get "metric=test.pages.a&value=1&key=$KEY"
	expect 204
	get "metric=test.pages.b&value=2&key=$KEY"
	expect 204
	get "metric=test.pages.b&value=x&key=$KEY"
	expect 400
	# The refusal is counted after its answer (a resident responder's
	# after FCGX_Finish_r): the page shows it once Redis has it.
	await_output 1 refused_values
	page GET format=json
	expect 200
	[ "$(header Cache-Control)" = no-store ]
	[ "$(jq -c '[.health.status, (.history.accepted | length, add),
	    (.history.delivered | add), (.history.spooled | add),
	    (.history.refused.value | add), .history.step]' <<<"$cgi_body")" = '["ok",60,2,2,0,1,60]' ]
	# Minute starts, the last one the minute under way.
	[ "$(jq '(.time - .history.start) < 3600 and (.history.start % 60) == 0' <<<"$cgi_body")" = true ]
	[ "$(jq -c .uploads <<<"$cgi_body")" = '{"pending":null,"recent_by_state":{}}' ]
}

@test "status_page: an unknown parameter is refused" {
	page GET "format=json&x=1"
	expect 400 "$(err_body 400 'Invalid parameter received - x')"
}

@test "status_page: a key in the query string is refused, so it never reaches an access log" {
	page GET "key=$KEY"
	expect 400 "$(err_body 400 'Invalid parameter received - key')"
}

@test "status_page: a POST without the key, or with another key, shows nothing" {
	page POST "" "format=json"
	expect 400 "$(err_body 400 'no key passed')"
	page POST "" "key=$PKEY"
	expect 401 "$(err_body 401 'invalid key')"
}

@test "status_page: other methods are refused with Allow" {
	page PUT ""
	expect 405 "$(err_body 405 'method not allowed')"
	[ "$(header Allow)" = "GET, POST" ]
}

@test "status_page: the details with the key list the uploads, their text escaped" {
	id="$UPNS.1700000000_0123456789abcdef0123456789abcdef"
	redis-cli -s "$REDIS_SOCK" set "flux.upload_status.$id" \
	    "{\"upload_id_key\": \"$id\", \"status\": \"failed\", \"points_submitted\": 0, \"error\": \"<script>alert(1)</script> & 'x'\"}" >/dev/null
	redis-cli -s "$REDIS_SOCK" lpush flux.uploads.recent "$id" >/dev/null
	# The public view counts them and names none.
	page GET ""
	expect 200
	[[ $cgi_body == *'<p id="uploads">1 recent uploads; their ids and states are shown with the key.</p>'* ]]
	[[ $cgi_body != *"$id"* ]]
	page POST "" "key=$KEY"
	expect 200
	[[ $cgi_body == *"<td class=\"u_upload_id_key\">$id</td><td class=\"u_status\">failed</td>"* ]]
	[[ $cgi_body == *'<td class="u_error">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;</td>'* ]]
	[[ $cgi_body != *'<script>alert'* ]]
	# A POST is not refreshed: that would send the form again.
	[[ $cgi_body != *'http-equiv="refresh"'* ]]
	page POST "" "key=$KEY&format=json"
	expect 200
	[ "$(jq -c '[.uploads.recent[0].status, .uploads.recent[0].error, .uploads.recent_by_state]' <<<"$cgi_body")" = "[\"failed\",\"<script>alert(1)</script> & 'x'\",{\"failed\":1}]" ]
}

@test "status_page: Redis down: still 200, degraded, no history" {
	write_conf "REDIS_TIMEOUT_MS = 200" "REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock"
	page GET format=json
	expect 200
	[ "$(jq -c '[.health.status, .health.redis, .history]' <<<"$cgi_body")" = '["degraded","unavailable",null]' ]
	page GET ""
	expect 200
	[[ $cgi_body == *'<p class="bad">No history: Redis is unavailable.</p>'* ]]
}

@test "upload_page: not found while uploads are off" {
	cgi upload_page GET ""
	expect 404 "$(err_body 404 'not found')"
}

@test "upload_page: the form of upload_data, key and namespace before the files" {
	upload_conf
	cgi upload_page GET ""
	expect 200
	[ "$(header Content-Type)" = "text/html; charset=utf-8" ]
	[ "$(header Cache-Control)" = no-store ]
	[[ $cgi_body == *'<form id="upload" action="upload_data" method="post" enctype="multipart/form-data">'* ]]
	fields=$(sed -n '/<form/,/<\/form>/p' <<<"$cgi_body" | grep -o ' name="[a-z_]*"' | cut -d'"' -f2 | paste -sd,)
	[ "$fields" = key,parent_metric_namespace,timezone,format,archive,skip_rows,header_row,date_orientation,columns_to_metrics,resample_method,ignore_submitted_timestamps,data_file,info_file ]
}

@test "upload_page: only GET" {
	upload_conf
	cgi upload_page POST ""
	expect 405 "$(err_body 405 'method not allowed')"
	[ "$(header Allow)" = GET ]
}
