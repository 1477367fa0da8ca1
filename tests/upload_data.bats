#!/usr/bin/env bats
# POST /flux/upload_data and GET /flux/upload_status (SPEC 4.4), through a
# real Apache with curl -F exactly as Skyline's docs show, one test per
# rule, against a real redis-server.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start upl
	start_redis
	upload_conf
	start_apache "$FLUX_TOP/cgi-bin" "$STACK_DIR/flux.conf"
	export STACK_DIR REDIS_SOCK FLUX_URL APACHE_PORT
}

teardown_file() {
	suite_stop
}

setup() {
	rm -rf "$STACK_DIR/uploads"
	upload_conf
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
}

# late_key [FIELD...]: the docs' form with its text fields first but the
# key (and any FIELD named) only after data_file and info_file.
late_key() {
	local -a late=(key "$@") a=() f
	local -A v=([key]=$UPKEY [parent_metric_namespace]=$UPNS [timezone]=GMT
		[archive]=none [format]=csv [skip_rows]=5 [header_row]=0
		[date_orientation]=rows [columns_to_metrics]=date,roof,floor)
	for f in parent_metric_namespace timezone archive format skip_rows \
	    header_row date_orientation columns_to_metrics; do
		[[ " ${late[*]} " == *" $f "* ]] || a+=(-F "$f=${v[$f]}")
	done
	a+=(-F "data_file=@$FIXTURES/$UPCSV" -F "info_file=@$FIXTURES/info.json")
	for f in "${late[@]}"; do a+=(-F "$f=${v[$f]}"); done
	http "${a[@]}" "$FLUX_URL/upload_data"
}

# No upload directory, and no temporary one left behind.
nothing_written() {
	[ -z "$(find "$STACK_DIR/uploads" -mindepth 1 -print -quit)" ]
}

@test "the docs' curl upload is accepted: 200 with the upload_id_key" {
	upload_form
	expect 200
	[[ $(upload_id) =~ ^temp_monitoring\.warehouse\.2\.012383\.[0-9]+_[0-9a-f]{32}$ ]]
	[ "$cgi_body" = "{\"upload\": \"successful\", \"upload_id_key\": \"$(upload_id)\", \"parent_metric_namespace\": \"$UPNS\", \"data file\": \"$UPCSV\"}" ]
}

@test "the answer never echoes the key" {
	upload_form
	expect 200
	[[ $cgi_body != *"$UPKEY"* ]]
}

@test "the upload directory holds the data file, info.json and upload.json" {
	upload_form
	expect 200
	d=$(upload_dir "$(upload_id)")
	run ls "$d"
	[ "$output" = "$UPCSV"$'\n'info.json$'\n'status.json$'\n'upload.json ]
	cmp "$d/$UPCSV" "$FIXTURES/$UPCSV"
	[ "$(jq -r .key "$d/upload.json")" = "$UPKEY" ]
	[ "$(jq -r .data_file "$d/upload.json")" = "$UPCSV" ]
	[ "$(jq -r .info_file "$d/upload.json")" = info.json ]
	[ "$(jq -r .fields.timezone "$d/upload.json")" = GMT ]
	[[ $(jq -r .uploaded_at "$d/upload.json") =~ ^20[0-9-]+T[0-9:]+Z$ ]]
}

@test "files are mode 0640 and directories 0750" {
	upload_form
	expect 200
	d=$(upload_dir "$(upload_id)")
	[ "$(stat -c %a "$d")" = 750 ]
	[ "$(stat -c %a "$(dirname "$d")")" = 750 ]
	for f in "$d"/*; do [ "$(stat -c %a "$f")" = 640 ]; done
}

@test "no temporary directory is left after an upload" {
	upload_form
	expect 200
	[ -z "$(find "$STACK_DIR/uploads" -maxdepth 1 -name '.tmp.*')" ]
}

@test "the status record is pending in Redis (30-day TTL) and status.json before the answer" {
	upload_form
	expect 200
	id=$(upload_id)
	[ "$(status_of "$id" .status)" = pending ]
	[ "$(status_of "$id" .upload_id_key)" = "$id" ]
	[ "$(status_of "$id" .parent_metric_namespace)" = "$UPNS" ]
	[ "$(status_of "$id" ".files[\"$UPCSV\"]")" = pending ]
	[ "$(status_of "$id" .points_submitted)" = 0 ]
	ttl=$(redis-cli -s "$REDIS_SOCK" ttl "flux.upload_status.$id")
	[ "$ttl" -gt 2591000 ]
	[ "$ttl" -le 2592000 ]
	[ "$(jq -r .status "$(upload_dir "$id")/status.json")" = pending ]
}

@test "without info_file, info.json is written from the form fields" {
	upload_form -info_file
	expect 200
	d=$(upload_dir "$(upload_id)")
	[ "$(jq -c . "$d/info.json")" = '{"parent_metric_namespace":"temp_monitoring.warehouse.2.012383","timezone":"GMT","format":"csv","archive":"none","skip_rows":"5","header_row":"0","date_orientation":"rows","columns_to_metrics":"date,roof,floor"}' ]
	[ "$(jq -r .info_file "$d/upload.json")" = null ]
}

@test "an info_file part without a file, as a browser sends an empty file input, is no info_file" {
	upload_form "info_file=@/dev/null;filename="
	expect 200
	d=$(upload_dir "$(upload_id)")
	[ "$(jq -c . "$d/info.json")" = '{"parent_metric_namespace":"temp_monitoring.warehouse.2.012383","timezone":"GMT","format":"csv","archive":"none","skip_rows":"5","header_row":"0","date_orientation":"rows","columns_to_metrics":"date,roof,floor"}' ]
	[ "$(jq -r .info_file "$d/upload.json")" = null ]
	run ls "$d"
	[ "$output" = "$UPCSV"$'\n'info.json$'\n'status.json$'\n'upload.json ]
}

@test "info_file wins over the form's fields" {
	jq '.timezone = "America/New_York"' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json" timezone=GMT
	expect 200
	[ "$(jq -r .timezone "$(upload_dir "$(upload_id)")/info.json")" = America/New_York ]
	[ "$(jq -r .skip_rows "$(upload_dir "$(upload_id)")/info.json")" = 5 ]
}

@test "the key is not copied into info.json" {
	jq --arg k "$UPKEY" '.key = $k' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json"
	expect 200
	[ "$(jq -r .key "$(upload_dir "$(upload_id)")/info.json")" = null ]
}

@test "upload_data answers 404 while WEBAPP_ACCEPT_DATA_UPLOADS is false" {
	upload_conf WEBAPP_ACCEPT_DATA_UPLOADS=false
	upload_form
	expect 404 "$(err_body 404 'not found')"
	nothing_written
}

@test "upload_data refuses GET with 405 and Allow: POST" {
	run curl -s -i "$FLUX_URL/upload_data"
	[[ $output == *"405 Method Not Allowed"* ]]
	[[ $output == *"Allow: POST"* ]]
	[[ $output == *'{"code": 405, "message": "method not allowed"}'* ]]
}

@test "a body that is not multipart/form-data is refused with 415" {
	http -H 'Content-Type: application/json' --data-binary '{"key": "x"}' "$FLUX_URL/upload_data"
	expect 415 "$(err_body 415 'Content-Type must be multipart/form-data with a boundary')"
}

@test "a multipart body without its closing boundary is refused" {
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc\r\n' > "$STACK_DIR/body"
	http -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$STACK_DIR/body" "$FLUX_URL/upload_data"
	expect 400 "$(err_body 400 'invalid multipart/form-data body - body ends before the closing boundary')"
	nothing_written
}

@test "a part without Content-Disposition is refused" {
	printf -- '--XyZ\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XyZ--\r\n' > "$STACK_DIR/body"
	http -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$STACK_DIR/body" "$FLUX_URL/upload_data"
	expect 400 "$(err_body 400 'invalid multipart/form-data body - invalid part headers')"
}

@test "a field value with a NUL byte is refused, not read cut short" {
	{
		printf -- '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\n%s\r\n' "$UPKEY"
		printf -- '--XyZ\r\nContent-Disposition: form-data; name="parent_metric_namespace"\r\n\r\n%s\0.x\r\n' "$UPNS"
		printf -- '--XyZ\r\nContent-Disposition: form-data; name="data_file"; filename="%s"\r\n\r\n' "$UPCSV"
		cat "$FIXTURES/$UPCSV"
		printf -- '\r\n--XyZ--\r\n'
	} > "$STACK_DIR/body"
	http -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$STACK_DIR/body" "$FLUX_URL/upload_data"
	expect 400 "$(err_body 400 'invalid field - parent_metric_namespace - NUL byte in value')"
	nothing_written
}

@test "a repeated field is refused" {
	http -F key=$UPKEY -F key=$UPKEY "$FLUX_URL/upload_data"
	expect 400 "$(err_body 400 'repeated field - key')"
}

@test "a missing parent_metric_namespace is refused" {
	upload_form -parent_metric_namespace
	expect 400 "$(err_body 400 'key and parent_metric_namespace must be sent before data_file')"
	upload_form -parent_metric_namespace -data_file -info_file
	expect 400 "$(err_body 400 'no parent_metric_namespace in the POST variables')"
}

@test "a wrong key is refused with 401 and nothing is written" {
	upload_form key=484166bf-df66-4f7d-ad4a-9336da9ef621
	expect 401 "$(err_body 401 'invalid key')"
	nothing_written
}

@test "a missing key is refused" {
	upload_form -key
	expect 400 "$(err_body 400 'key and parent_metric_namespace must be sent before data_file')"
	nothing_written
	upload_form -key -data_file -info_file
	expect 401 "$(err_body 401 'invalid key')"
}

@test "the key of another namespace is refused with 401" {
	upload_form key=0ther-key
	expect 401 "$(err_body 401 'invalid key')"
}

@test "a namespace with no key in FLUX_UPLOADS_KEYS is refused with 401" {
	upload_form parent_metric_namespace=temp_monitoring.warehouse.3
	expect 401 "$(err_body 401 'invalid key')"
}

@test "a key sent after the file parts is refused: files come after the key" {
	late_key
	expect 400 "$(err_body 400 'key and parent_metric_namespace must be sent before data_file')"
	nothing_written
	http -F "parent_metric_namespace=$UPNS" -F "info_file=@$FIXTURES/info.json" \
	    -F "key=$UPKEY" "$FLUX_URL/upload_data"
	expect 400 "$(err_body 400 'key and parent_metric_namespace must be sent before info_file')"
	nothing_written
}

@test "a file part before the key is refused before anything is written" {
	# upload_data runs as www-data under Apache: an upload directory it
	# cannot write shows whether it tried to write the file part.
	if [ "$EUID" -ne 0 ]; then skip "needs root to make a directory www-data cannot write"; fi
	chown root: "$STACK_DIR/uploads"
	chmod 0755 "$STACK_DIR/uploads"
	late_key
	expect 400 "$(err_body 400 'key and parent_metric_namespace must be sent before data_file')"
	late_key parent_metric_namespace
	expect 400 "$(err_body 400 'key and parent_metric_namespace must be sent before data_file')"
	upload_form key=484166bf-df66-4f7d-ad4a-9336da9ef621
	expect 401 "$(err_body 401 'invalid key')"
}

@test "a missing data_file is refused" {
	upload_form -data_file
	expect 400 "$(err_body 400 'no data_file in the POST variables')"
	nothing_written
}

@test "a data_file part without a file is a missing data_file" {
	upload_form "data_file=@/dev/null;filename="
	expect 400 "$(err_body 400 'no data_file in the POST variables')"
	nothing_written
}

@test "a data_file sent as a plain field is refused" {
	upload_form data_file=abc
	expect 400 "$(err_body 400 'data_file is not a file')"
}

@test "a data file name with a path is refused" {
	upload_form "data_file=@$FIXTURES/$UPCSV;filename=../../etc/x.csv"
	expect 400 "$(err_body 400 'invalid data_file name - ../../etc/x.csv')"
	nothing_written
}

@test "a data file name outside [A-Za-z0-9._-] is refused" {
	upload_form "data_file=@$FIXTURES/$UPCSV;filename=report 1.csv"
	expect 400 "$(err_body 400 'invalid data_file name - report 1.csv')"
}

@test "a data file name starting with a dot is refused" {
	upload_form "data_file=@$FIXTURES/$UPCSV;filename=.report.csv"
	expect 400 "$(err_body 400 'invalid data_file name - .report.csv')"
}

@test "a data file with an extension that is not allowed is refused" {
	upload_form "data_file=@$FIXTURES/$UPCSV;filename=report.ods"
	expect 400 "$(err_body 400 'invalid data_file name - report.ods')"
}

@test "a data file name must fit the archive field" {
	upload_form "data_file=@$FIXTURES/$UPCSV;filename=report.tar.gz" archive=gz
	expect 400 "$(err_body 400 'data_file name does not fit archive gz - report.tar.gz')"
	upload_form "data_file=@$FIXTURES/$UPCSV;filename=report.zip"
	expect 400 "$(err_body 400 'data_file name does not fit format csv and archive none - report.zip')"
}

@test "an empty data file is refused" {
	: > "$STACK_DIR/empty.csv"
	upload_form "data_file=@$STACK_DIR/empty.csv"
	expect 400 "$(err_body 400 'data_file is empty')"
	nothing_written
}

@test "an info_file that is not JSON is refused" {
	printf '{"parent_metric_namespace": ' > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json"
	expect 400 "$(err_body 400 'info_file is not valid JSON')"
	nothing_written
}

@test "an info_file with a string holding \\u0000 is refused" {
	jq --arg ns "$UPNS" '.parent_metric_namespace = $ns + "\u0000.x"' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	grep -qF '\u0000' "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json"
	expect 400 "$(err_body 400 'info_file is not valid JSON - a string holds U+0000 (NUL)')"
	nothing_written
}

@test "an info_file naming another namespace is refused" {
	jq '.parent_metric_namespace = "temp_monitoring.warehouse.9"' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json"
	expect 400 "$(err_body 400 "info_file parent_metric_namespace does not match the form's - temp_monitoring.warehouse.9")"
}

@test "an info_file without a namespace is refused" {
	jq 'del(.parent_metric_namespace)' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json"
	expect 400 "$(err_body 400 "info_file parent_metric_namespace does not match the form's - none")"
}

@test "an info_file whose name is not .json is refused" {
	upload_form "info_file=@$FIXTURES/info.json;filename=info.txt"
	expect 400 "$(err_body 400 'invalid info_file name - info.txt')"
}

@test "an unknown timezone is refused" {
	upload_form -info_file timezone=Mars/Olympus_Mons
	expect 400 "$(err_body 400 'invalid timezone - Mars/Olympus_Mons')"
}

@test "a timezone that is a path is refused" {
	upload_form -info_file timezone=../../../etc/passwd
	expect 400 "$(err_body 400 'invalid timezone - ../../../etc/passwd')"
}

@test "a missing timezone is refused" {
	upload_form -info_file -timezone
	expect 400 "$(err_body 400 'no timezone passed')"
}

@test "a format other than csv, xlsx or xls is refused" {
	upload_form -info_file format=ods
	expect 400 "$(err_body 400 'format ods is not supported - csv, xlsx or xls')"
}

@test "a data file name must fit the format" {
	upload_form -info_file format=xlsx
	expect 400 "$(err_body 400 "data_file name does not fit format xlsx and archive none - $UPCSV")"
	upload_form -info_file format=xls "data_file=@$FIXTURES/$UPCSV;filename=report.xlsx"
	expect 400 "$(err_body 400 'data_file name does not fit format xls and archive none - report.xlsx')"
	nothing_written
}

@test "sheet in info_file must be a name or an index from 0" {
	jq '.format = "xlsx" | .sheet = -1' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json" "data_file=@$FIXTURES/${UPCSV%.csv}.xlsx"
	expect 400 "$(err_body 400 'invalid sheet - a number out of range')"
	jq '.format = "xlsx" | .sheet = ""' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json" "data_file=@$FIXTURES/${UPCSV%.csv}.xlsx"
	expect 400 "$(err_body 400 'invalid sheet - a name of 1 to 255 bytes or an index from 0')"
	jq '.format = "xlsx" | .sheet = 1.5' "$FIXTURES/info.json" > "$STACK_DIR/info.json"
	upload_form "info_file=@$STACK_DIR/info.json" "data_file=@$FIXTURES/${UPCSV%.csv}.xlsx"
	expect 400 "$(err_body 400 'invalid sheet - a number out of range')"
	nothing_written
}

@test "an unknown archive is refused" {
	upload_form -info_file archive=rar
	expect 400 "$(err_body 400 'invalid archive - rar - one of none, gz, zip, tar_gz')"
}

@test "a header_row that is not an integer is refused" {
	upload_form -info_file header_row=first
	expect 400 "$(err_body 400 'invalid header_row - first')"
}

@test "a skip_rows that is not none or an integer is refused" {
	upload_form -info_file skip_rows=-1
	expect 400 "$(err_body 400 'invalid skip_rows - -1')"
	upload_form -info_file skip_rows=none
	expect 200
}

@test "columns_to_metrics without a date column is refused" {
	upload_form -info_file columns_to_metrics=time,roof,floor
	expect 400 "$(err_body 400 'columns_to_metrics - no column named date')"
}

@test "columns_to_metrics naming an invalid metric is refused" {
	upload_form -info_file 'columns_to_metrics=date,ro/of,floor'
	expect 400 "$(err_body 400 'columns_to_metrics - invalid metric - temp_monitoring.warehouse.2.012383.ro/of - invalid characters in name')"
}

@test "date_orientation columns is refused" {
	upload_form -info_file date_orientation=columns
	expect 400 "$(err_body 400 'date_orientation columns is not supported - only rows')"
}

@test "an upload over FLUX_MAX_UPLOAD_BYTES is refused with 413" {
	upload_conf FLUX_MAX_UPLOAD_BYTES=1000
	head -c 3000 /dev/zero | tr '\0' '1' > "$STACK_DIR/big.csv"
	upload_form "data_file=@$STACK_DIR/big.csv"
	expect 413 "$(err_body 413 'upload too large - more than 1000 bytes')"
	nothing_written
}

@test "a chunked upload (no Content-Length) is over the cap as it streams" {
	upload_conf FLUX_MAX_UPLOAD_BYTES=1000
	head -c 3000 /dev/zero | tr '\0' '1' > "$STACK_DIR/big.csv"
	upload_form "data_file=@$STACK_DIR/big.csv" -- -H "Transfer-Encoding: chunked"
	expect 413 "$(err_body 413 'upload too large - more than 1000 bytes')"
	nothing_written
}

@test "a chunked upload (no Content-Length) is accepted" {
	upload_form -- -H "Transfer-Encoding: chunked"
	expect 200
}

@test "a 1.5 MB data file streams through and arrives intact" {
	{ sed -n 1,6p "$FIXTURES/$UPCSV"; for i in $(seq 1 30000); do echo "16-05-2020 11:00,45.72,22.78"; done; } > "$STACK_DIR/$UPCSV"
	upload_form "data_file=@$STACK_DIR/$UPCSV"
	expect 200
	cmp "$(upload_dir "$(upload_id)")/$UPCSV" "$STACK_DIR/$UPCSV"
}

@test "an upload id holds 128 random bits after its second" {
	upload_form
	expect 200
	[[ "$(upload_id)" =~ ^$UPNS\.[0-9]{10}_[0-9a-f]{32}$ ]]
}

@test "two uploads get different ids" {
	upload_form
	a=$(upload_id)
	upload_form
	[ "$a" != "$(upload_id)" ]
	[ "$(find "$STACK_DIR/uploads/$UPNS" -mindepth 1 -maxdepth 1 | wc -l)" = 2 ]
}

@test "upload_status answers the status record of an upload" {
	upload_form
	id=$(upload_id)
	http "$FLUX_URL/upload_status?upload_id_key=$id"
	expect 200
	[ "$(printf '%s' "$cgi_body" | jq -r .upload.status)" = pending ]
	[ "$(printf '%s' "$cgi_body" | jq -r .upload.upload_id_key)" = "$id" ]
	[ "$(printf '%s' "$cgi_body" | jq -c '.upload | keys')" = '["columns","error","files","finished_at","parent_metric_namespace","points_submitted","started_at","status","upload_id_key"]' ]
}

@test "upload_status without upload_id_key is refused with 400" {
	http "$FLUX_URL/upload_status"
	expect 400 "$(err_body 400 'no upload_id_key parameter passed')"
}

@test "upload_status of an unknown upload answers 404" {
	http "$FLUX_URL/upload_status?upload_id_key=$UPNS.123_456"
	expect 404 "$(err_body 404 "unknown upload_id_key - $UPNS.123_456")"
}

@test "upload_status answers 404 while uploads are disabled" {
	upload_form
	id=$(upload_id)
	upload_conf WEBAPP_ACCEPT_DATA_UPLOADS=false
	http "$FLUX_URL/upload_status?upload_id_key=$id"
	expect 404 "$(err_body 404 'not found')"
	http "$FLUX_URL/upload_status"
	expect 404 "$(err_body 404 'not found')"
}

@test "upload_status reads status.json while Redis is unreachable" {
	upload_form
	id=$(upload_id)
	sed -i "s|^REDIS_SOCKET_PATH = .*|REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock|" "$FLUX_CONF"
	http "$FLUX_URL/upload_status?upload_id_key=$id"
	expect 200
	[ "$(printf '%s' "$cgi_body" | jq -r .upload.status)" = pending ]
}

@test "upload_status of an upload not on this node's disk, Redis unreachable: 503, not unknown" {
	sed -i "s|^REDIS_SOCKET_PATH = .*|REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock|" "$FLUX_CONF"
	# Another node's upload, or one done and deleted: only Redis knows it.
	http "$FLUX_URL/upload_status?upload_id_key=$UPNS.1700000000_0123456789abcdef0123456789abcdef"
	expect 503 "$(err_body 503 'redis unavailable')"
}

@test "an upload is still accepted while Redis is unreachable" {
	sed -i "s|^REDIS_SOCKET_PATH = .*|REDIS_SOCKET_PATH = $STACK_DIR/nothing.sock|" "$FLUX_CONF"
	upload_form
	expect 200
	[ "$(jq -r .status "$(upload_dir "$(upload_id)")/status.json")" = pending ]
}

@test "a CGI call with no CONTENT_TYPE is answered (and drained), not hung" {
	printf 'x%.0s' $(seq 1 100) > "$STACK_DIR/body"
	cgi upload_data POST "" "$STACK_DIR/body"
	expect 415
}

@test "the upload key is never logged, accepted or refused" {
	local log="$STACK_DIR/apache/logs/error.log"
	upload_form
	expect 200
	upload_form key=0ther-key-that-is-wrong
	expect 401
	# "! grep" (or "a && b") fails nothing before a test's last line.
	run grep -cF -- "$UPKEY" "$log"
	[ "$status" -eq 1 ]
	[ "$output" = 0 ]
	run grep -cF -- "0ther-key-that-is-wrong" "$log"
	[ "$status" -eq 1 ]
	[ "$output" = 0 ]
}
