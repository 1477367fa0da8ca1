#!/usr/bin/env bats
# flux-batch uploads (SPEC 8): uploads made through Apache with the docs'
# curl -F form, and uploads dropped in by hand, processed into points. The
# docs' example is read back from a real carbon-cache with whisper-fetch;
# the other tests read the exact points from a capture listener.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start bat
	# The reports are from 2020: carbon's default 60s:7d would drop them
	# silently. 15-minute points for 10 years are 4 MB per metric.
	STACK_WHISPER_RETENTIONS=900s:10y
	start_redis
	start_carbon
	upload_conf
	start_apache "$FLUX_TOP/cgi-bin" "$STACK_DIR/flux.conf"
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR FLUX_URL
}

teardown_file() {
	suite_stop
}

setup() {
	STACK_WHISPER_STEP=900
	rm -rf "$STACK_DIR/uploads" "$STACK_DIR/saved" "$STACK_DIR/spool"
	upload_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	export FLUX_NOW=1700000000
}

teardown() {
	stop_capture
}

# The docs' report, as a dropped-in upload NAME with info.json changes.
drop_example() {
	local name=$1
	shift
	drop_in "$name" "$(info_json "$@")" "$FIXTURES/$UPCSV"
}

# drop_csv NAME [INFO CHANGES...] < CSV: a dropped-in report.csv with
# the docs' columns and no preamble (skip_rows 0).
drop_csv() {
	local name=$1
	shift
	cat > "$STACK_DIR/report.csv"
	drop_in "$name" "$(info_json skip_rows=0 "$@")" "$STACK_DIR/report.csv"
}

# The docs' four rows for both columns, starting at T (default 11:00 UTC).
example_points() {
	local t=${1:-$T0}
	printf '%s\n' \
		"$UPNS.roof $t 45.72" "$UPNS.floor $t 22.78" \
		"$UPNS.roof $((t + 900)) 45.94" "$UPNS.floor $((t + 900)) 22.92" \
		"$UPNS.roof $((t + 1800)) 46.13" "$UPNS.floor $((t + 1800)) 22.98" \
		"$UPNS.roof $((t + 2700)) 46.34" "$UPNS.floor $((t + 2700)) 23.06"
}

@test "the docs' example upload lands in whisper: 4 points for roof and floor" {
	upload_form
	expect 200
	id=$(upload_id)
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	for i in 0 1 2 3; do
		run whisper_fetch_value "$UPNS.roof" $((T0 + 900 * i))
		[ "$output" = "$(echo "45.72 45.94 46.13 46.34" | cut -d' ' -f$((i + 1)))0000" ]
		run whisper_fetch_value "$UPNS.floor" $((T0 + 900 * i))
		[ "$output" = "$(echo "22.78 22.92 22.98 23.06" | cut -d' ' -f$((i + 1)))0000" ]
	done
	[ "$(whisper_count "$UPNS.roof" $((T0 - 86400)) $((T0 + 86400)))" = 4 ]
	[ "$(whisper_count "$UPNS.floor" $((T0 - 86400)) $((T0 + 86400)))" = 4 ]
	[ "$(status_of "$id" .status)" = complete ]
	[ "$(status_of "$id" .points_submitted)" = 8 ]
}

@test "the docs' example sends exactly its 8 points" {
	use_capture
	upload_form
	expect 200
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[ "$(captured | sort)" = "$(example_points | sed 's/$//' | sort)" ]
}

@test "the same report in America/New_York lands 4 hours later (EDT)" {
	use_capture
	jq '.timezone = "America/New_York"' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json"
	expect 200
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[ "$(captured | sort)" = "$(example_points $((T0 + 14400)) | sort)" ]
}

@test "the status record ends complete, with files, columns and times" {
	use_capture
	upload_form
	id=$(upload_id)
	run --separate-stderr batch uploads
	[ "$(status_of "$id" -c)" = "{\"upload_id_key\":\"$id\",\"parent_metric_namespace\":\"$UPNS\",\"status\":\"complete\",\"error\":null,\"files\":{\"$UPCSV\":\"complete - 8 points submitted\"},\"columns\":{\"roof ($UPCSV)\":\"complete - 4 points submitted\",\"floor ($UPCSV)\":\"complete - 4 points submitted\"},\"points_submitted\":8,\"started_at\":\"2023-11-14T22:13:20Z\",\"finished_at\":\"2023-11-14T22:13:20Z\"}" ]
}

@test "upload_status answers the final record" {
	use_capture
	upload_form
	id=$(upload_id)
	run --separate-stderr batch uploads
	http "$FLUX_URL/upload_status?upload_id_key=$id"
	expect 200
	[ "$(jq -r .upload.status <<<"$cgi_body")" = complete ]
}

@test "a complete upload is deleted" {
	use_capture
	upload_form
	d=$(upload_dir "$(upload_id)")
	run --separate-stderr batch uploads
	[ ! -e "$d" ]
	[ -z "$(find "$STACK_DIR/uploads" -mindepth 2)" ]
}

@test "with FLUX_SAVE_UPLOADS a complete upload is moved to FLUX_SAVE_UPLOADS_PATH/<ns>/<id>" {
	upload_conf FLUX_SAVE_UPLOADS=true
	use_capture
	upload_form
	id=$(upload_id)
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	s="$STACK_DIR/saved/$UPNS/${id#"$UPNS".}"
	[ -f "$s/$UPCSV" ]
	[ "$(jq -r .status "$s/status.json")" = complete ]
	[ ! -e "$(upload_dir "$id")" ]
}

@test "a symbolic link planted as <ns> in FLUX_SAVE_UPLOADS_PATH is not followed" {
	upload_conf FLUX_SAVE_UPLOADS=true
	use_capture
	mkdir -p "$STACK_DIR/saved" "$STACK_DIR/elsewhere"
	ln -sfn "$STACK_DIR/elsewhere" "$STACK_DIR/saved/$UPNS"
	drop_example planted
	run --separate-stderr batch uploads
	rm -f "$STACK_DIR/saved/$UPNS"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"upload $UPNS.planted: cannot move the upload to '$STACK_DIR/saved/$UPNS': "* ]]
	[ -z "$(ls -A "$STACK_DIR/elsewhere")" ]
	[ -d "$STACK_DIR/uploads/$UPNS/planted" ]
	rm -rf "$STACK_DIR/uploads/$UPNS/planted"
}

@test "flux.last holds the newest point of each column" {
	use_capture
	upload_form
	run --separate-stderr batch uploads
	[ "$(last "$UPNS.roof")" = "[$((T0 + 2700)), 46.34]" ]
	[ "$(last "$UPNS.floor")" = "[$((T0 + 2700)), 23.06]" ]
	# And its entry in flux.last.metric_data, which Skyline's readers look up first.
	[ "$(entry "$UPNS.roof")" = "{'timestamp': $((T0 + 2700)), 'value': 46.34}" ]
	[ "$(entry "$UPNS.floor")" = "{'timestamp': $((T0 + 2700)), 'value': 23.06}" ]
}

@test "a dropped-in upload with the key in info.json is processed the same way" {
	use_capture
	drop_example dropped-1
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	outcome dropped-1 complete
	[ "$(captured | sort)" = "$(example_points | sort)" ]
	[ ! -e "$STACK_DIR/uploads/$UPNS/dropped-1" ]
}

@test "a dropped-in upload names its data file with data_filename when there are several" {
	use_capture
	cp "$FIXTURES/$UPCSV" "$STACK_DIR/other.csv"
	drop_in d2 "$(info_json "data_filename=\"$UPCSV\"")" "$FIXTURES/$UPCSV" "$STACK_DIR/other.csv"
	run --separate-stderr batch uploads
	outcome d2 complete
	drop_in d3 "$(info_json)" "$FIXTURES/$UPCSV" "$STACK_DIR/other.csv"
	run --separate-stderr batch uploads
	outcome d3 failed "several data files: name one with data_filename in info.json"
}

@test "a second upload of the same report sends nothing: all timestamps known" {
	use_capture
	drop_example first
	run --separate-stderr batch uploads
	stop_capture
	use_capture
	drop_example second
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	outcome second complete
	[ "$(status_of "$UPNS.second" ".columns[\"roof ($UPCSV)\"]")" = "complete - no new timestamps, all already known" ]
	[ ! -s "$CAPTURE_FILE" ]
}

@test "ignore_submitted_timestamps sends known points again" {
	use_capture
	drop_example first
	run --separate-stderr batch uploads
	drop_example again ignore_submitted_timestamps=true
	run --separate-stderr batch uploads
	outcome again complete
	[ "$(captured | wc -l)" = 16 ]
}

@test "only points newer than flux.last are sent" {
	use_capture
	redis-cli -s "$REDIS_SOCK" set "flux.last.$UPNS.roof" "[$((T0 + 900)), 1.0]" >/dev/null
	drop_example newer
	run --separate-stderr batch uploads
	[ "$(captured | grep -c "^$UPNS.roof ")" = 2 ]
	[ "$(status_of "$UPNS.newer" ".columns[\"roof ($UPCSV)\"]")" = "complete - 2 points submitted, 2 already known" ]
}

@test "only points newer than the entry Skyline left in flux.last.metric_data are sent" {
	use_capture
	redis-cli -s "$REDIS_SOCK" hset flux.last.metric_data "$UPNS.roof" "{'timestamp': $((T0 + 1800)), 'value': None}" >/dev/null
	drop_example newer
	run --separate-stderr batch uploads
	[ "$(captured | grep -c "^$UPNS.roof ")" = 1 ]
	[ "$(status_of "$UPNS.newer" ".columns[\"roof ($UPCSV)\"]")" = "complete - 1 points submitted, 3 already known" ]
	[ "$(entry "$UPNS.roof")" = "{'timestamp': $((T0 + 2700)), 'value': 46.34}" ]
}

@test "flux.last never moves back when older data is resubmitted" {
	use_capture
	redis-cli -s "$REDIS_SOCK" set "flux.last.$UPNS.roof" "[2000000000, 1.0]" >/dev/null
	drop_example old ignore_submitted_timestamps=true
	run --separate-stderr batch uploads
	outcome old complete
	[ "$(last "$UPNS.roof")" = "[2000000000, 1.0]" ]
	[ -z "$(entry "$UPNS.roof")" ]
}

@test "-n prints what it would send and changes nothing" {
	use_capture
	drop_example dry
	run --separate-stderr batch -n uploads
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(example_points | awk '{ print $1, $3, $2 }' | sort)" ]
	[ -d "$STACK_DIR/uploads/$UPNS/dry" ]
	[ ! -e "$STACK_DIR/uploads/$UPNS/dry/status.json" ]
	[ ! -s "$CAPTURE_FILE" ]
	[ -z "$(last "$UPNS.roof")" ]
}

@test "dryrun in info.json sends nothing and ends complete" {
	use_capture
	drop_example dryinfo dryrun=true
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" = 8 ]
	outcome dryinfo complete
	[ "$(status_of "$UPNS.dryinfo" .dryrun)" = true ]
	[ "$(status_of "$UPNS.dryinfo" .points_submitted)" = 0 ]
	[ ! -s "$CAPTURE_FILE" ]
	[ -z "$(last "$UPNS.roof")" ]
}

@test "dryrun \"false\" in info.json is not a dry run" {
	use_capture
	drop_example notdry 'dryrun="false"'
	run --separate-stderr batch uploads
	[ "$(captured | wc -l)" = 8 ]
}

@test "uploads stay pending while FLUX_PROCESS_UPLOADS is false: a warning and exit 1" {
	upload_conf FLUX_PROCESS_UPLOADS=false
	upload_form
	id=$(upload_id)
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	[[ $stderr == *"warn: uploads: 1 pending, not processed: FLUX_PROCESS_UPLOADS is false"* ]]
	[ -d "$(upload_dir "$id")" ]
	[ "$(status_of "$id" .status)" = pending ]
}

@test "uploads stay pending while BATCH_PROCESSING is false" {
	upload_conf BATCH_PROCESSING=false
	drop_example later
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	[[ $stderr == *"warn: uploads: 1 pending, not processed: BATCH_PROCESSING is false"* ]]
	[ -d "$STACK_DIR/uploads/$UPNS/later" ]
}

@test "a namespace not in BATCH_PROCESSING_NAMESPACES fails and moves to .failed" {
	upload_conf "BATCH_PROCESSING_NAMESPACES=other, temp_monitoring.warehouse.3"
	use_capture
	drop_example notlisted
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome notlisted failed "namespace $UPNS is not in BATCH_PROCESSING_NAMESPACES"
	[ "$(jq -r .status "$(failed_dir notlisted)/status.json")" = failed ]
	[ ! -e "$STACK_DIR/uploads/$UPNS/notlisted" ]
	[ ! -s "$CAPTURE_FILE" ]
}

@test "BATCH_PROCESSING_NAMESPACES matches a namespace or a parent followed by a dot" {
	upload_conf BATCH_PROCESSING_NAMESPACES=temp_monitoring.warehouse.2
	use_capture
	drop_example below
	run --separate-stderr batch uploads
	outcome below complete
	upload_conf BATCH_PROCESSING_NAMESPACES=temp_monitoring.ware
	drop_example partial-word
	run --separate-stderr batch uploads
	outcome partial-word failed "namespace $UPNS is not in BATCH_PROCESSING_NAMESPACES"
}

@test "a dropped-in upload with a wrong key fails" {
	drop_in wrongkey "$(info_json 'key="484166bf-df66-4f7d-ad4a-000000000000"')" "$FIXTURES/$UPCSV"
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome wrongkey failed "invalid key"
}

@test "a dropped-in upload without a key fails" {
	drop_in nokey "$(info_json -key)" "$FIXTURES/$UPCSV"
	run --separate-stderr batch uploads
	outcome nokey failed "no key in info.json"
}

@test "an upload whose key was withdrawn after it was made fails" {
	upload_form
	id=$(upload_id)
	upload_conf FLUX_UPLOADS_KEYS=$UPNS:a-new-key
	run --separate-stderr batch uploads
	[ "$(status_of "$id" .status)" = failed ]
	[ "$(status_of "$id" .error)" = "invalid key" ]
}

@test "info.json that is not JSON fails the upload" {
	drop_in notjson '{"parent_metric_namespace": "temp_monitoring.warehouse.2.012383", key: 1' "$FIXTURES/$UPCSV"
	run --separate-stderr batch uploads
	outcome notjson failed "info.json is not valid JSON"
}

@test "info.json with a string holding \\u0000 fails the upload" {
	drop_example nuljson 'columns_to_metrics="date,roof\u0000x,floor"'
	grep -qF '\u0000' "$STACK_DIR/uploads/$UPNS/nuljson/info.json"
	run --separate-stderr batch uploads
	outcome nuljson failed 'info.json is not valid JSON - a string holds U+0000 (NUL)'
}

@test "info.json naming another namespace fails the upload" {
	drop_example otherns 'parent_metric_namespace="temp_monitoring.warehouse.9"'
	run --separate-stderr batch uploads
	outcome otherns failed "info.json parent_metric_namespace does not match the upload's - temp_monitoring.warehouse.9"
}

@test "info.json with a bad setting fails the upload naming it" {
	drop_example badtz 'timezone="Mars/Base"'
	run --separate-stderr batch uploads
	outcome badtz failed "info.json: invalid timezone - Mars/Base"
}

@test "an upload without a data file fails" {
	drop_in nodata "$(info_json)"
	run --separate-stderr batch uploads
	outcome nodata failed "no data file"
}

@test "a ragged row fails the file with its row, and nothing is sent" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15,45.94\n16-05-2020 11:30,46.13,22.98\n' |
		drop_csv ragged
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome ragged failed "report.csv: row 3: 2 fields, expected 3"
	[ "$(status_of "$UPNS.ragged" '.files["report.csv"]')" = "failed - row 3: 2 fields, expected 3" ]
	[ ! -s "$CAPTURE_FILE" ]
	[ -f "$(failed_dir ragged)/report.csv" ]
}

@test "a row with too many fields is reported the same way" {
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78,9\n' | drop_csv wide
	run --separate-stderr batch uploads
	outcome wide failed "report.csv: row 2: 4 fields, expected 3"
}

@test "a header whose width differs from columns_to_metrics fails the file" {
	drop_example narrow 'columns_to_metrics="date,roof"'
	run --separate-stderr batch uploads
	outcome narrow failed "$UPCSV: row 6: the header has 3 columns, columns_to_metrics names 2"
}

@test "an unparseable date fails the file with its row" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16/05/2020 11:15,45.94,22.92\n' | drop_csv baddate
	run --separate-stderr batch uploads
	outcome baddate failed "report.csv: row 3: unparseable date '16/05/2020 11:15'"
	[ ! -s "$CAPTURE_FILE" ]
}

@test "a day that does not exist is an unparseable date" {
	printf 'Date,Roof,Floor\n31-04-2020 11:00,45.72,22.78\n' | drop_csv april31
	run --separate-stderr batch uploads
	outcome april31 failed "report.csv: row 2: unparseable date '31-04-2020 11:00'"
}

@test "a local time skipped by DST fails the file" {
	printf 'Date,Roof,Floor\n2021-03-14 01:30:00,1,2\n2021-03-14 02:30:00,1,2\n' |
		drop_csv gap 'timezone="America/New_York"'
	run --separate-stderr batch uploads
	outcome gap failed "report.csv: row 3: non-existent local time (skipped when DST starts) '2021-03-14 02:30:00'"
}

@test "a local time repeated by DST fails the file" {
	printf 'Date,Roof,Floor\n2021-11-07 00:30:00,1,2\n2021-11-07 01:30:00,1,2\n' |
		drop_csv overlap 'timezone="America/New_York"'
	run --separate-stderr batch uploads
	outcome overlap failed "report.csv: row 3: ambiguous local time (repeated when DST ends) '2021-11-07 01:30:00'"
}

@test "local times either side of a DST change convert with the right offsets" {
	use_capture
	printf 'Date,Roof,Floor\n2021-03-14 01:45:00,1,2\n2021-03-14 03:00:00,3,4\n' |
		drop_csv dst 'timezone="America/New_York"'
	run --separate-stderr batch uploads
	outcome dst complete
	# 01:45 EST is 06:45 UTC, 03:00 EDT is 07:00 UTC.
	[ "$(captured | grep roof)" = "$UPNS.roof 1615704300 1.0"$'\n'"$UPNS.roof 1615705200 3.0" ]
}

@test "every date layout of SPEC 8 is read, offsets winning over the timezone" {
	use_capture
	cat <<-'EOF' | drop_csv layouts 'timezone="Europe/London"' 'columns_to_metrics="date,v"'
	date,v
	1589626800,1
	2020-05-16 12:15:00,2
	2020/05/16 12:30:00,3
	2020-05-16T12:45:00,4
	16-05-2020 13:00:00,5
	16-05-2020 13:15,6
	2020-05-16 13:30:00+01:00,7
	2020-05-16 08:45:00 -0400,8
	2020-05-16T13:00:00Z,9
	EOF
	run --separate-stderr batch uploads
	outcome layouts complete
	[ "$(captured | awk '{ print $2 - 1589626800, $3 }' | tr '\n' ' ')" = "0 1.0 900 2.0 1800 3.0 2700 4.0 3600 5.0 4500 6.0 5400 7.0 6300 8.0 7200 9.0 " ]
}

@test "an explicit date_format is used, strptime style" {
	use_capture
	printf 'Date,Roof,Floor\n16/05/2020 11:00 AM,45.72,22.78\n' |
		drop_csv fmt 'date_format="%d/%m/%Y %I:%M %p"'
	run --separate-stderr batch uploads
	outcome fmt complete
	[ "$(captured | grep roof)" = "$UPNS.roof $T0 45.72" ]
}

@test "a cell that is not a number fails its column only: partial" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15,45.94,n/a\n' | drop_csv cell
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome cell partial "report.csv: column floor: row 3: invalid value 'n/a'"
	[ "$(status_of "$UPNS.cell" '.columns["floor (report.csv)"]')" = "failed - row 3: invalid value 'n/a'" ]
	[ "$(status_of "$UPNS.cell" '.columns["roof (report.csv)"]')" = "complete - 2 points submitted" ]
	[ "$(status_of "$UPNS.cell" '.files["report.csv"]')" = "partial - 2 points submitted, 1 of 2 columns failed" ]
	[ "$(captured | cut -d' ' -f1 | sort -u)" = "$UPNS.roof" ]
	[ -d "$(failed_dir cell)" ]
}

@test "a NUL byte in a cell fails the file with its row and column, and nothing is sent" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15,1\0999,22.92\n' |
		drop_csv nulcell
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome nulcell failed "report.csv: row 3, column 2: NUL byte in field"
	[ ! -s "$CAPTURE_FILE" ]
}

@test "a NUL byte after a date fails the file too" {
	printf 'Date,Roof,Floor\n16-05-2020 11:00\0junk,45.72,22.78\n' | drop_csv nuldate
	run --separate-stderr batch uploads
	outcome nuldate failed "report.csv: row 2, column 1: NUL byte in field"
}

@test "a NUL byte in the header fails the file" {
	printf 'Date,Ro\0of,Floor\n16-05-2020 11:00,45.72,22.78\n' | drop_csv nulhead
	run --separate-stderr batch uploads
	outcome nulhead failed "report.csv: row 1, column 2: NUL byte in field"
}

@test "NaN and inf are not numbers" {
	printf 'Date,Roof,Floor\n16-05-2020 11:00,nan,inf\n' | drop_csv nan
	run --separate-stderr batch uploads
	outcome nan failed "report.csv: column roof: row 2: invalid value 'nan'"
}

@test "empty cells are skipped" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15,,22.92\n16-05-2020 11:30, ,22.98\n' | drop_csv holes
	run --separate-stderr batch uploads
	outcome holes complete
	[ "$(captured | grep -c roof)" = 1 ]
	[ "$(captured | grep -c floor)" = 3 ]
}

@test "a BOM and CRLF line ends are handled" {
	use_capture
	{ printf '\xef\xbb\xbf'; sed 's/$/\r/' "$FIXTURES/$UPCSV"; } > "$STACK_DIR/$UPCSV"
	drop_in bom "$(info_json)" "$STACK_DIR/$UPCSV"
	run --separate-stderr batch uploads
	outcome bom complete
	[ "$(captured | sort)" = "$(example_points | sort)" ]
}

@test "quoted fields with embedded newlines are one field; rows are still named by line" {
	use_capture
	printf '"Date","Roof\nTemperature",Floor\n16-05-2020 11:00,"45.72",22.78\n16-05-2020 11:15,45.94,x\n' | drop_csv quoted
	run --separate-stderr batch uploads
	outcome quoted partial "report.csv: column floor: row 4: invalid value 'x'"
	[ "$(captured | grep -c roof)" = 2 ]
}

@test "an unterminated quote fails the file" {
	printf 'Date,Roof,Floor\n16-05-2020 11:00,"45.72,22.78\n' | drop_csv unterminated
	run --separate-stderr batch uploads
	outcome unterminated failed "report.csv: row 2: malformed CSV (error parsing data while strict checking enabled)"
}

@test "an empty file fails" {
	: | drop_csv empty
	run --separate-stderr batch uploads
	outcome empty failed "report.csv: empty file"
}

@test "a file with only its header fails: no data rows" {
	printf 'Date,Roof,Floor\n' | drop_csv headeronly
	run --separate-stderr batch uploads
	outcome headeronly failed "report.csv: no data rows"
}

@test "trailing rows of empty cells are ignored" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n,,\n,,\n' | drop_csv trailing
	run --separate-stderr batch uploads
	outcome trailing complete
}

@test "data under a minute apart is resampled to 1-minute means" {
	use_capture
	{ echo "date,v"; for i in $(seq 0 11); do echo "$((T0 + 10 * i)),$((i + 1))"; done; } |
		drop_csv tensec 'columns_to_metrics="date,v"'
	run --separate-stderr batch uploads
	outcome tensec complete
	[ "$(captured)" = "$UPNS.v $T0 3.5"$'\n'"$UPNS.v $((T0 + 60)) 9.5" ]
	[ "$(last "$UPNS.v")" = "[$((T0 + 60)), 9.5]" ]
}

@test "resample_method sum sums each minute" {
	use_capture
	{ echo "date,v"; for i in $(seq 0 11); do echo "$((T0 + 10 * i)),$((i + 1))"; done; } |
		drop_csv summed 'columns_to_metrics="date,v"' 'resample_method="sum"'
	run --separate-stderr batch uploads
	[ "$(captured)" = "$UPNS.v $T0 21.0"$'\n'"$UPNS.v $((T0 + 60)) 57.0" ]
}

@test "newest-first rows are resampled too" {
	use_capture
	{ echo "date,v"; for i in $(seq 11 -1 0); do echo "$((T0 + 10 * i)),$((i + 1))"; done; } |
		drop_csv reversed 'columns_to_metrics="date,v"'
	run --separate-stderr batch uploads
	[ "$(captured | sort)" = "$UPNS.v $T0 3.5"$'\n'"$UPNS.v $((T0 + 60)) 9.5" ]
}

@test "rows out of time order that need resampling fail the file" {
	{ echo "date,v"; for i in 0 1 2 4 3 5; do echo "$((T0 + 10 * i)),$i"; done; } |
		drop_csv shuffled 'columns_to_metrics="date,v"'
	run --separate-stderr batch uploads
	outcome shuffled failed "report.csv: rows are not in time order, and the data (every 10s) must be resampled to 1 minute"
}

@test "rows out of time order are fine when no resampling is needed" {
	use_capture
	{ echo "date,v"; for i in 0 2 1 3; do echo "$((T0 + 900 * i)),$i"; done; } |
		drop_csv unordered 'columns_to_metrics="date,v"'
	run --separate-stderr batch uploads
	outcome unordered complete
	[ "$(last "$UPNS.v")" = "[$((T0 + 2700)), 3.0]" ]
}

@test "points later than now + FLUX_MAX_FUTURE are dropped" {
	use_capture
	export FLUX_NOW=$((T0 + 60))
	drop_example future
	run --separate-stderr batch uploads
	outcome future complete
	[ "$(status_of "$UPNS.future" '.columns["roof ('"$UPCSV"')"]')" = "complete - 1 points submitted, 3 in the future dropped" ]
}

# retention_rules: carbon's rules as the suite's storage-schemas.conf:
# the warehouse namespace keeps a day of 15-minute points.
retention_rules() {
	printf '%s\n' '[warehouse]' 'pattern = ^temp_monitoring\.warehouse\.' \
		'retentions = 15m:1d' '[default]' 'pattern = .*' 'retentions = 1h:10y' \
		> "$STACK_DIR/schemas.conf"
	sed -i "s|^FLUX_CARBON_STORAGE_SCHEMAS = .*|FLUX_CARBON_STORAGE_SCHEMAS = $STACK_DIR/schemas.conf|" \
		"$FLUX_CONF"
}

@test "points older than carbon keeps are not sent: their column fails, naming the rule" {
	use_capture
	retention_rules
	# A day and 1000 s after 11:00: 11:00 and 11:15 are past the day.
	export FLUX_NOW=$((T0 + 86400 + 1000))
	drop_example old
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	why="2 points older than carbon keeps, not sent (retentions 15m:1d of [warehouse] in '$STACK_DIR/schemas.conf': nothing before 2020-05-16T11:16:40Z)"
	outcome old failed "$UPCSV: column roof: $why"
	[ "$(status_of "$UPNS.old" '.columns["floor ('"$UPCSV"')"]')" = "failed - $why; 2 points submitted" ]
	[ "$(status_of "$UPNS.old" .points_submitted)" = 4 ]
	[ "$(captured | sort)" = "$(example_points | tail -n 4 | sort)" ]
}

@test "an upload wholly older than carbon keeps fails and sends nothing" {
	use_capture
	retention_rules
	drop_example ancient
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome ancient failed "$UPCSV: column roof: 4 points older than carbon keeps, not sent (retentions 15m:1d of [warehouse] in '$STACK_DIR/schemas.conf': nothing before 2023-11-13T22:13:20Z)"
	[ "$(status_of "$UPNS.ancient" .points_submitted)" = 0 ]
	[ "$(captured)" = "" ]
}

@test "carbon's rules that cannot be read: a warning, and the retention is not checked" {
	use_capture
	printf '[a]\npattern = .*\nretentions = 1y:10years\n' > "$STACK_DIR/schemas.conf"
	sed -i "s|^FLUX_CARBON_STORAGE_SCHEMAS = .*|FLUX_CARBON_STORAGE_SCHEMAS = $STACK_DIR/schemas.conf|" \
		"$FLUX_CONF"
	drop_example unread
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[[ $stderr == *"warn: uploads: carbon's retention not checked: '$STACK_DIR/schemas.conf' [a]: invalid retention '1y:10years'"* ]]
	outcome unread complete
	[ "$(captured | wc -l)" = 8 ]
}

@test "points are spooled when carbon is down, and the upload is complete" {
	sed -i "s/^FLUX_CARBON_PICKLE_PORT = .*/FLUX_CARBON_PICKLE_PORT = $(flux_free_port)/" "$FLUX_CONF"
	drop_example spooled
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	outcome spooled complete
	[ "$(status_of "$UPNS.spooled" .points_submitted)" = 8 ]
	[ "$(spool_count)" = 1 ]
	[ "$(last "$UPNS.roof")" = "[$((T0 + 2700)), 46.34]" ]
	use_capture
	run --separate-stderr batch flush
	[ "$(captured | sort)" = "$(example_points | sort)" ]
}

@test "points neither delivered nor spooled leave the upload failed, never complete" {
	sed -i "s/^FLUX_CARBON_PICKLE_PORT = .*/FLUX_CARBON_PICKLE_PORT = $(flux_free_port)/" "$FLUX_CONF"
	mkdir -p "$STACK_DIR/spool"
	touch "$STACK_DIR/spool/.flux-batch.lock"
	chattr +i "$STACK_DIR/spool"
	drop_example stuck
	run --separate-stderr batch uploads
	chattr -i "$STACK_DIR/spool"
	[ "$status" -eq 1 ]
	outcome stuck failed
	[[ $(status_of "$UPNS.stuck" .error) == "$UPCSV: column roof: points could be neither delivered nor spooled: "* ]]
	[ -z "$(last "$UPNS.roof")" ]
}

@test "a gz upload is unpacked and processed" {
	use_capture
	gzip -c "$FIXTURES/$UPCSV" > "$STACK_DIR/$UPCSV.gz"
	drop_in gz "$(info_json 'archive="gz"')" "$STACK_DIR/$UPCSV.gz"
	run --separate-stderr batch uploads
	outcome gz complete
	[ "$(status_of "$UPNS.gz" '.files | keys | join(" ")')" = "$UPCSV $UPCSV.gz" ]
	[ "$(captured | sort)" = "$(example_points | sort)" ]
}

@test "a zip upload is unpacked; members that are not csv are skipped" {
	use_capture
	cp "$FIXTURES/$UPCSV" "$STACK_DIR/"
	echo notes > "$STACK_DIR/README.txt"
	(cd "$STACK_DIR" && zip -qj report.zip "$UPCSV" README.txt)
	drop_in zip "$(info_json 'archive="zip"')" "$STACK_DIR/report.zip"
	run --separate-stderr batch uploads
	outcome zip complete
	[ "$(status_of "$UPNS.zip" '.files["README.txt"]')" = "skipped - not a csv file" ]
	[ "$(captured | wc -l)" = 8 ]
}

@test "a tar_gz upload is unpacked through the form" {
	use_capture
	mkdir -p "$STACK_DIR/t/sub"
	cp "$FIXTURES/$UPCSV" "$STACK_DIR/t/sub/"
	tar -C "$STACK_DIR/t" -czf "$STACK_DIR/report.tar.gz" sub
	upload_form archive=tar_gz "data_file=@$STACK_DIR/report.tar.gz"
	expect 200
	run --separate-stderr batch uploads
	[ "$(status_of "$(upload_id)" .status)" = complete ]
	[ "$(captured | wc -l)" = 8 ]
}

# mkarchive KIND FILE MEMBER...: an archive made with Python, so members
# can be what tar and zip refuse to make: "name" (the docs' report),
# "name:symlink:target", "name:hardlink:target".
mkarchive() {
	/usr/bin/python3 - "$FIXTURES/$UPCSV" "$@" <<'PY'
import io, sys, tarfile, zipfile
src, kind, out, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
data = open(src, "rb").read()
if kind == "zip":
    with zipfile.ZipFile(out, "w") as z:
        for m in members:
            z.writestr(m.split(":")[0], data)
else:
    with tarfile.open(out, "w:gz") as t:
        for m in members:
            name, _, rest = m.partition(":")
            info = tarfile.TarInfo(name)
            if rest.startswith("symlink:"):
                info.type, info.linkname = tarfile.SYMTYPE, rest[8:]
                t.addfile(info)
            elif rest.startswith("hardlink:"):
                info.type, info.linkname = tarfile.LNKTYPE, rest[9:]
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
PY
}

@test "a zip with a ../ member fails the whole upload and extracts nothing" {
	use_capture
	mkarchive zip "$STACK_DIR/report.zip" a.csv ../../evil.csv
	drop_in dotdot "$(info_json 'archive="zip"')" "$STACK_DIR/report.zip"
	run --separate-stderr batch uploads
	outcome dotdot failed "report.zip: '..' in member path - ../../evil.csv"
	[ -z "$(find "$STACK_DIR" -name 'evil.csv' -o -name a.csv)" ]
	[ ! -s "$CAPTURE_FILE" ]
}

@test "a tar with an absolute member fails the whole upload" {
	mkarchive tar "$STACK_DIR/report.tar.gz" a.csv /tmp/evil.csv
	drop_in absolute "$(info_json 'archive="tar_gz"')" "$STACK_DIR/report.tar.gz"
	run --separate-stderr batch uploads
	outcome absolute failed "report.tar.gz: absolute member path - /tmp/evil.csv"
	[ ! -e /tmp/evil.csv ]
}

@test "a tar with a symlink member fails the whole upload" {
	mkarchive tar "$STACK_DIR/report.tar.gz" a.csv link.csv:symlink:/etc/passwd
	drop_in symlink "$(info_json 'archive="tar_gz"')" "$STACK_DIR/report.tar.gz"
	run --separate-stderr batch uploads
	outcome symlink failed "report.tar.gz: symbolic link member - link.csv"
	[ -z "$(find "$STACK_DIR/uploads" -name a.csv)" ]
}

@test "a tar with a hard-link member fails the whole upload" {
	mkarchive tar "$STACK_DIR/report.tar.gz" a.csv b.csv:hardlink:a.csv
	drop_in hardlink "$(info_json 'archive="tar_gz"')" "$STACK_DIR/report.tar.gz"
	run --separate-stderr batch uploads
	outcome hardlink failed "report.tar.gz: hard link member - b.csv"
}

@test "a zip bomb is stopped by FLUX_MAX_EXTRACTED_BYTES" {
	upload_conf FLUX_MAX_EXTRACTED_BYTES=1000000
	head -c 50000000 /dev/zero > "$STACK_DIR/$UPCSV"
	(cd "$STACK_DIR" && zip -qj bomb.zip "$UPCSV")
	[ "$(stat -c %s "$STACK_DIR/bomb.zip")" -lt 100000 ]
	drop_in bomb "$(info_json 'archive="zip"')" "$STACK_DIR/bomb.zip"
	run --separate-stderr batch uploads
	outcome bomb failed "bomb.zip: members larger than the 1000000 byte cap"
}

@test "a zip bomb that hides its size is stopped while it unpacks" {
	upload_conf FLUX_MAX_EXTRACTED_BYTES=1000000
	head -c 50000000 /dev/zero | (cd "$STACK_DIR" && zip -q stream.zip -)
	drop_in streambomb "$(info_json 'archive="zip"')" "$STACK_DIR/stream.zip"
	run --separate-stderr batch uploads
	outcome streambomb failed
	[[ $(status_of "$UPNS.streambomb" .error) == "stream.zip: "* ]]
	[ -z "$(find "$STACK_DIR/uploads" -size +1M)" ]
}

@test "a gz bomb is stopped while it unpacks" {
	upload_conf FLUX_MAX_EXTRACTED_BYTES=1000000
	head -c 50000000 /dev/zero | gzip -c > "$STACK_DIR/$UPCSV.gz"
	drop_in gzbomb "$(info_json 'archive="gz"')" "$STACK_DIR/$UPCSV.gz"
	run --separate-stderr batch uploads
	outcome gzbomb failed "$UPCSV.gz: unpacks to more than the 1000000 byte cap"
	[ -z "$(find "$STACK_DIR/uploads" -size +1M)" ]
}

@test "a bad upload does not affect the others in the same run" {
	use_capture
	printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72\n' | drop_csv bad
	touch -d '2 minutes ago' "$STACK_DIR/uploads/$UPNS/bad"
	drop_example good
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	outcome bad failed
	outcome good complete
	[ "$(captured | sort)" = "$(example_points | sort)" ]
}

@test "uploads are processed oldest first" {
	use_capture
	drop_example newer-one
	drop_example older-one
	touch -d '1 hour ago' "$STACK_DIR/uploads/$UPNS/older-one"
	run --separate-stderr batch uploads
	[[ $stderr == *"older-one: complete"*"newer-one: complete"* ]]
}

@test "an upload left in processing by a crashed run is taken again" {
	use_capture
	drop_example crashed
	printf '{"upload_id_key": "%s.crashed", "status": "processing"}' "$UPNS" > "$STACK_DIR/uploads/$UPNS/crashed/status.json"
	run --separate-stderr batch uploads
	outcome crashed complete
}

# lease_of NAME: the lease key of the dropped-in upload NAME.
lease_of() { echo "flux.upload.lease.$UPNS.$1"; }

# day_csv N: the docs' columns, 4 rows on day N after the example's.
day_csv() {
	local t=$((T0 + 86400 * $1)) i
	echo 'Date,Roof,Floor'
	for i in 0 1 2 3; do
		echo "$(date -u -d "@$((t + 900 * i))" '+%d-%m-%Y %H:%M'),$((40 + i)).5,$((20 + $1)).25"
	done
}

@test "an upload another node has leased is left alone, and taken once the lease runs out" {
	use_capture
	drop_example leased
	redis-cli -s "$REDIS_SOCK" set "$(lease_of leased)" "00000000000000aa 00000000000000bb" px 2500 >/dev/null
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[[ $stderr == *"info: upload $UPNS.leased: leased to another node; left to it"* ]]
	[ -d "$STACK_DIR/uploads/$UPNS/leased" ]
	[ -z "$(status_of "$UPNS.leased")" ]
	_stack_wait_for "" 10 eval "[ \"\$(redis-cli -s '$REDIS_SOCK' exists '$(lease_of leased)')\" = 0 ]"
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	outcome leased complete
	[ "$(captured | wc -l)" = 8 ]
}

@test "an upload of a namespace whose earlier upload another node holds waits for it" {
	use_capture
	day_csv 1 | drop_csv first
	day_csv 2 | drop_csv second
	touch -d '1 hour ago' "$STACK_DIR/uploads/$UPNS/first"
	redis-cli -s "$REDIS_SOCK" set "$(lease_of first)" "00000000000000aa 00000000000000bb" px 600000 >/dev/null
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[[ $stderr == *"info: upload $UPNS.first: leased to another node; left to it"* ]]
	[[ $stderr == *"info: upload $UPNS.second: waits for an earlier upload of its namespace that another node holds"* ]]
	[ -d "$STACK_DIR/uploads/$UPNS/second" ]
	[ -z "$(status_of "$UPNS.second")" ]
	[ "$(captured | wc -l)" = 0 ]
	# The lease gone (its run ended), both run in order: every point lands.
	redis-cli -s "$REDIS_SOCK" del "$(lease_of first)" >/dev/null
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[[ $stderr == *"first: complete, 8 points submitted"*"second: complete, 8 points submitted"* ]]
	[ "$(captured | wc -l)" = 16 ]
}

@test "an upload leased by this node's own run that died is taken back at once, and its lease ended" {
	use_capture
	batch flush
	node=$(head -c 16 "$STACK_DIR/spool/.flux-batch.lock")
	drop_example mine
	redis-cli -s "$REDIS_SOCK" set "$(lease_of mine)" "$node 00000000000000cc" px 600000 >/dev/null
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	outcome mine complete
	[ "$(redis-cli -s "$REDIS_SOCK" exists "$(lease_of mine)")" = 0 ]
}

@test "two nodes sharing DATA_UPLOADS_PATH process each upload once" {
	use_capture
	for d in 1 2 3 4 5 6; do day_csv "$d" | drop_csv "shared$d"; done
	mkdir -p "$STACK_DIR/spool-b"
	sed "s|^FLUX_SPOOL_PATH = .*|FLUX_SPOOL_PATH = $STACK_DIR/spool-b|" "$FLUX_CONF" > "$STACK_DIR/flux-b.conf"
	batch uploads 2>"$BATS_TEST_TMPDIR/a.log" &
	a=$!
	batch -c "$STACK_DIR/flux-b.conf" uploads 2>"$BATS_TEST_TMPDIR/b.log" &
	b=$!
	wait "$a"
	wait "$b"
	cat "$BATS_TEST_TMPDIR/a.log" "$BATS_TEST_TMPDIR/b.log" > "$BATS_TEST_TMPDIR/both.log"
	for d in 1 2 3 4 5 6; do
		[ "$(grep -c "upload $UPNS.shared$d: complete, 8 points submitted" "$BATS_TEST_TMPDIR/both.log")" = 1 ] ||
			{ cat "$BATS_TEST_TMPDIR/both.log" >&2; false; }
		outcome "shared$d" complete
	done
	# Every point once: 6 uploads of 2 columns by 4 rows.
	[ "$(captured | wc -l)" = 48 ]
	[ "$(captured | sort -u | wc -l)" = 48 ]
	if grep -q error "$BATS_TEST_TMPDIR/both.log"; then cat "$BATS_TEST_TMPDIR/both.log" >&2; false; fi
	[ -z "$(ls "$STACK_DIR/uploads/$UPNS")" ]
}

@test "without Redis no upload is taken: each is leased there while it is processed" {
	drop_example noredis
	sed -i "s|^REDIS_SOCKET_PATH = .*|REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock|" "$FLUX_CONF"
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	[[ $stderr == *"error: uploads: cannot connect to redis '$STACK_DIR/nothing.sock': No such file or directory; 1 uploads wait (each is leased in redis while it is processed)"* ]]
	[ -d "$STACK_DIR/uploads/$UPNS/noredis" ]
	[ ! -e "$STACK_DIR/uploads/$UPNS/noredis/status.json" ] || [ "$(jq -r .status "$STACK_DIR/uploads/$UPNS/noredis/status.json")" != processing ]
}

@test "a temporary directory left by a killed upload_data is swept after a day" {
	mkdir -p "$STACK_DIR/uploads/.tmp.abc123" "$STACK_DIR/uploads/.tmp.fresh1"
	touch -d '2 days ago' "$STACK_DIR/uploads/.tmp.abc123"
	unset FLUX_NOW
	run --separate-stderr batch uploads
	[ ! -e "$STACK_DIR/uploads/.tmp.abc123" ]
	[ -d "$STACK_DIR/uploads/.tmp.fresh1" ]
}

@test "progress is shown on a terminal: rows and points per second" {
	use_capture
	drop_example tty
	run script -qec "$FLUX_TOP/batch/flux-batch uploads" /dev/null
	[[ $output == *"$UPNS.tty $UPCSV: 4 rows, "*" rows/s"* ]]
	[[ $output == *"$UPNS.tty $UPCSV: 8 points, "*" points/s"* ]]
}

@test "without a terminal there is no progress line" {
	use_capture
	drop_example notty
	run --separate-stderr batch uploads
	[[ $stderr != *"rows/s"* ]]
}
