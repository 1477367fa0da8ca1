#!/usr/bin/env bats
# The status page and the upload page in a real browser: Debian's
# chromium, headless, driven over the DevTools protocol
# (tests/browser/pages.py), through a real Apache: mod_cgid here, mod_fcgid when run from
# tests/fcgi/. What the pages show is checked against Redis and the
# spool; the upload form is filled and sent with the report of Skyline's
# documentation, its status followed to complete, its points read back
# from whisper. Screenshots of each page are kept in
# tests/artifacts/browser-cgi/ and tests/artifacts/browser-fcgi/ (or under
# $FLUX_ARTIFACTS): status_page.png and status_page-detail.png (the
# public view and the key's), upload_page.png (the form and the upload's
# status, complete), status_page-uploads.png and
# status_page-uploads-detail.png (after the upload), upload_page-nojs.png
# (upload_data's answer to the form sent without JavaScript).
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start browser
	# The report is from 2020: carbon's default 60s:7d would drop it.
	STACK_WHISPER_RETENTIONS=900s:10y
	start_redis
	start_carbon
	upload_conf
	# tests/fcgi/: mod_fcgid; tests/pool/: the kernel-queued pools.
	local mode=
	case $FLUX_MODE in fcgi) mode=fcgid ;; pool) mode=proxy ;; esac
	start_apache "$FLUX_TOP/cgi-bin" "$STACK_DIR/flux.conf" $mode
	ARTIFACTS=${FLUX_ARTIFACTS:-$FLUX_TOP/tests/artifacts}/browser-$FLUX_MODE
	rm -rf "$ARTIFACTS"
	mkdir -p "$ARTIFACTS"
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR FLUX_URL ARTIFACTS
}

teardown_file() {
	suite_stop
}

setup() {
	STACK_WHISPER_STEP=900
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	rm -f "$STACK_DIR/spool/"*.spool
	rm -rf "${STACK_DIR:?}/uploads/"*
	HOST=$(hostname | sed 's/[^A-Za-z0-9-]/_/g')
}

# pages ARGS...: tests/browser/pages.py; its JSON answer in $out.
pages() {
	run --separate-stderr /usr/bin/python3 "$FLUX_TOP/tests/browser/pages.py" "$@"
	echo "$output" >&2
	echo "$stderr" >&2
	[ "$status" = 0 ]
	out=$output
}

# redis_sum FIELD: FIELD summed over this host's minutes in Redis.
redis_sum() {
	local k s=0 v
	for k in $(redis-cli -s "$REDIS_SOCK" keys "flux.stats.$HOST.[0-9]*"); do
		v=$(redis-cli -s "$REDIS_SOCK" hget "$k" "$1")
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

@test "the status page shows what Redis and the spool hold, on a phone's width" {
	T=$(minute_ts)
	for m in a b c; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$FLUX_URL/metric_data?metric=br.$m&value=1&timestamp=$T&key=$KEY")" = 204 ]
	done
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$FLUX_URL/metric_data?metric=br.a&value=x&key=$KEY")" = 400 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$FLUX_URL/metric_data?metric=br.a&value=1&key=abcdefghij0123456789ABCDEFGHIJ99")" = 401 ]
	for i in 1 2; do
		printf 'br.spooled%s 1.0 %s\n' "$i" "$T" > "$STACK_DIR/spool/$(printf %012d "$T").00000000$i.1.0.spool"
	done
	redis-cli -s "$REDIS_SOCK" lpush flux.populate_metric.queue '{"job":1}' >/dev/null
	pages status "$FLUX_URL/status_page" "$ARTIFACTS/status_page.png" "$KEY"
	[ "$(jq -r .http_status <<<"$out")" = 200 ]
	[ "$(jq -c .script_errors <<<"$out")" = '[]' ]
	# No horizontal scrolling on a 412-pixel screen.
	[ "$(jq '.view.scroll_width <= .view.client_width' <<<"$out")" = true ]
	[ "$(jq -r .view.status <<<"$out")" = ok ]
	# The charts' totals are the counts in Redis.
	[ "$(redis_sum metric_data.accepted)" = 3 ]
	[ "$(jq -c '[.view.charts.accepted, .view.charts.refused, .view.charts.spooled, .view.charts.delivered]' <<<"$out")" = "[$(redis_sum metric_data.accepted),$(( $(redis_sum metric_data.refused.value) + $(redis_sum metric_data.refused.key) )),0,$(redis_sum metric_data.delivered)]" ]
	# The spool and the queue as they are.
	[ "$(find "$STACK_DIR/spool" -name '*.spool' | wc -l)" = 2 ]
	[ "$(jq -r .view.health.spool <<<"$out")" = "writable, 2 files waiting" ]
	[[ $(jq -r .view.health.spool_oldest <<<"$out") =~ ^[0-9]+\ (s|min)$ ]]
	[ "$(redis-cli -s "$REDIS_SOCK" llen flux.populate_metric.queue)" = 1 ]
	[ "$(jq -r .view.health.populate <<<"$out")" = "1 queued, 0 running" ]
	[ "$(jq -r .view.health.redis <<<"$out")" = ok ]
	# The details are the key's: the public view lists no upload.
	[ "$(jq -r .view.uploads_text <<<"$out")" = "0 recent uploads; their ids and states are shown with the key." ]
	[ "$(jq -c .detail.uploads <<<"$out")" = '[]' ]
	[ -s "$ARTIFACTS/status_page.png" ] && [ -s "$ARTIFACTS/status_page-detail.png" ]
}

@test "the status page as JSON for scripts: the same data" {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$FLUX_URL/metric_data?metric=br.j&value=1&key=$KEY")" = 204 ]
	run curl -s "$FLUX_URL/status_page?format=json"
	[ "$(jq -r .health.status <<<"$output")" = ok ]
	[ "$(jq '.history.accepted | add' <<<"$output")" = 1 ]
	[ "$(jq '.history.accepted | length' <<<"$output")" = 60 ]
	[ "$(jq -r '.uploads.recent' <<<"$output")" = null ]
}

@test "the status page's details need FLUX_SELF_API_KEY, sent in the form" {
	run curl -s -w ' %{http_code}' --data-urlencode "key=$UPKEY" "$FLUX_URL/status_page"
	[ "$output" = '{"code": 401, "message": "invalid key"} 401' ]
	run curl -s -w ' %{http_code}' "$FLUX_URL/status_page?key=$KEY"
	[ "$output" = '{"code": 400, "message": "Invalid parameter received - key"} 400' ]
}

@test "the upload page: the form sent, its status followed to complete, the points in whisper" {
	( for i in $(seq 90); do "$FLUX_TOP/batch/flux-batch" uploads >/dev/null 2>&1; sleep 1; done ) 3>&- &
	loop=$!
	fields=$(jq -nc --arg key "$UPKEY" --arg ns "$UPNS" --arg file "$FIXTURES/$UPCSV" '{
		key: $key, parent_metric_namespace: $ns, timezone: "GMT", format: "csv",
		archive: "none", skip_rows: "5", header_row: "0", date_orientation: "rows",
		columns_to_metrics: "date,roof,floor", data_file: $file}')
	pages upload "$FLUX_URL/upload_page" "$ARTIFACTS/upload_page.png" "$fields" 120
	kill "$loop" 2>/dev/null || true
	wait "$loop" 2>/dev/null || true
	[ "$(jq -r .http_status <<<"$out")" = 200 ]
	[ "$(jq -c .script_errors <<<"$out")" = '[]' ]
	[ "$(jq '.scroll_width <= .client_width' <<<"$out")" = true ]
	# The key and namespace come before the files, as upload_data requires.
	[ "$(jq -c .field_order <<<"$out")" = '["key","parent_metric_namespace","timezone","format","archive","skip_rows","header_row","date_orientation","columns_to_metrics","resample_method","ignore_submitted_timestamps","data_file","info_file"]' ]
	[ "$(jq -r .state <<<"$out")" = complete ]
	id=$(jq -r .message <<<"$out" | sed -n 's/^Upload \(.*\): complete$/\1/p')
	[[ $id == "$UPNS".* ]]
	[ "$(jq -r .record.points_submitted <<<"$out")" = 8 ]
	[ "$(jq -r ".record[\"$UPCSV\"]" <<<"$out")" = "complete - 8 points submitted" ]
	# The page showed what upload_status says.
	[ "$(curl -s "$FLUX_URL/upload_status?upload_id_key=$id" | jq -r .upload.status)" = complete ]
	[ "$(whisper_fetch_value "$UPNS.roof" "$T0")" = 45.720000 ]
	[ "$(whisper_fetch_value "$UPNS.floor" "$((T0 + 2700))")" = 23.060000 ]
	# The status page's details list it.
	pages status "$FLUX_URL/status_page" "$ARTIFACTS/status_page-uploads.png" "$KEY"
	[ "$(jq -c '.detail.uploads[0][0:3]' <<<"$out")" = "[\"$id\",\"complete\",\"8\"]" ]
}

@test "the upload form without JavaScript: the browser posts it to upload_data and shows the answer" {
	fields=$(jq -nc --arg key "$UPKEY" --arg ns "$UPNS" --arg file "$FIXTURES/$UPCSV" '{
		key: $key, parent_metric_namespace: $ns, timezone: "GMT", skip_rows: "5",
		columns_to_metrics: "date,roof,floor", data_file: $file}')
	pages post "$FLUX_URL/upload_page" "$ARTIFACTS/upload_page-nojs.png" "$fields"
	[ "$(jq -r .http_status <<<"$out")" = 200 ]
	# The info_file input left empty is a part with no name: no file.
	answer=$(jq -r .text <<<"$out")
	[ "$(jq -c '[.upload, .parent_metric_namespace, ."data file"]' <<<"$answer")" = "[\"successful\",\"$UPNS\",\"$UPCSV\"]" ]
	id=$(jq -r .upload_id_key <<<"$answer")
	[ "$(jq -c '[.parent_metric_namespace, .timezone, .skip_rows, .resample_method, .ignore_submitted_timestamps]' "$STACK_DIR/uploads/$UPNS/${id#"$UPNS".}/info.json")" = "[\"$UPNS\",\"GMT\",\"5\",\"mean\",\"false\"]" ]
}

@test "the upload page does nothing without the namespace's key" {
	fields=$(jq -nc --arg ns "$UPNS" --arg file "$FIXTURES/$UPCSV" '{
		key: "not-the-key", parent_metric_namespace: $ns, data_file: $file}')
	pages upload "$FLUX_URL/upload_page" "$BATS_TEST_TMPDIR/nokey.png" "$fields" 30
	[ "$(jq -r .state <<<"$out")" = error ]
	[ "$(jq -r .message <<<"$out")" = "401: invalid key" ]
	[ -z "$(find "$STACK_DIR/uploads" -mindepth 1 -not -name '.*' -print -quit)" ]
}

@test "the upload page is not found while uploads are off" {
	write_conf
	[ "$(curl -s -w ' %{http_code}' "$FLUX_URL/upload_page")" = '{"code": 404, "message": "not found"} 404' ]
	upload_conf
}
