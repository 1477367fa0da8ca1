# shellcheck shell=bash
# tests/lib/upload.bash - helpers for the upload suites: the upload
# settings, the form of Skyline's docs posted with curl -F through Apache,
# dropped-in uploads, flux-batch runs, status records, and the points a
# capture listener received.

source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/flux.bash"

# The docs' example (docs/upload-data-to-flux.rst).
UPNS=temp_monitoring.warehouse.2.012383
UPKEY=484166bf-df66-4f7d-ad4a-9336da9ef620
UPCSV=2020-05-16-11.device_id.012383.csv
FIXTURES="$FLUX_TOP/tests/fixtures/uploads"
# The report's rows: 2020-05-16 11:00, 11:15, 11:30, 11:45 UTC.
T0=1589626800
export UPNS UPKEY UPCSV FIXTURES T0

# upload_conf [NAME=VALUE...]: the suite's flux.conf with uploads on and
# the docs' key; a NAME given here replaces the default, "NAME=" drops it.
upload_conf() {
	local -A s=(
		[WEBAPP_ACCEPT_DATA_UPLOADS]=true
		[FLUX_PROCESS_UPLOADS]=true
		[BATCH_PROCESSING]=true
		[BATCH_PROCESSING_NAMESPACES]=temp_monitoring
		[DATA_UPLOADS_PATH]="$STACK_DIR/uploads"
		[FLUX_SAVE_UPLOADS_PATH]="$STACK_DIR/saved"
		[FLUX_UPLOADS_KEYS]="$UPNS:$UPKEY, other.ns:0ther-key"
		# The stack's carbon's retention (no file: not checked), never the
		# machine's /etc/carbon.
		[FLUX_CARBON_STORAGE_SCHEMAS]="$STACK_DIR/carbon/conf/storage-schemas.conf"
	)
	local a k
	for a in "$@"; do
		k=${a%%=*}
		if [ "$a" = "$k=" ]; then unset "s[$k]"; else s[$k]=${a#*=}; fi
	done
	local -a lines=()
	for k in "${!s[@]}"; do lines+=("$k = ${s[$k]}"); done
	write_conf "${lines[@]}"
	mkdir -p "$STACK_DIR/uploads"
	# Apache's CGIs run as www-data when the suite runs as root; flux-batch
	# (run as root here) refuses directories that are not root's, so the
	# directory stays root's and lets everyone in, as /tmp does.
	if [ "$EUID" -eq 0 ]; then chmod 1777 "$STACK_DIR/uploads"; fi
}

# http CURL-ARGS...: a request through Apache; sets cgi_status, cgi_body
# (so expect works) and leaves the last lines of Apache's log in cgi.err.
http() {
	cgi_status=$(curl -s -o "$STACK_DIR/http.body" -w '%{http_code}' "$@")
	cgi_body=$(cat "$STACK_DIR/http.body")
	tail -n 5 "$STACK_DIR/apache/logs/error.log" > "$STACK_DIR/cgi.err" 2>/dev/null
}

# upload_form [NAME=VALUE | -NAME]... [-- CURL-OPTIONS...]: POST the docs'
# curl -F form to upload_data; NAME=VALUE replaces or adds a field, -NAME
# leaves it out; what follows -- goes to curl as it is.
upload_form() {
	local -A f=(
		[key]=$UPKEY [timezone]=GMT [parent_metric_namespace]=$UPNS
		[archive]=none [format]=csv [skip_rows]=5 [header_row]=0
		[date_orientation]=rows [columns_to_metrics]=date,roof,floor
		[data_file]="@$FIXTURES/$UPCSV" [info_file]="@$FIXTURES/info.json"
		[json_response]=true
	)
	local -a order=(key timezone parent_metric_namespace archive format
		skip_rows header_row date_orientation columns_to_metrics data_file
		info_file json_response)
	local a k
	local -a args=()
	while [ $# -gt 0 ]; do
		a=$1
		shift
		if [ "$a" = -- ]; then break; fi
		if [[ $a == -* ]]; then unset "f[${a#-}]"; continue; fi
		k=${a%%=*}
		[[ " ${order[*]} " == *" $k "* ]] || order+=("$k")
		f[$k]=${a#*=}
	done
	for k in "${order[@]}"; do
		if [ -n "${f[$k]+x}" ]; then args+=(-F "$k=${f[$k]}"); fi
	done
	http "${args[@]}" "$@" "$FLUX_URL/upload_data"
}

# upload_id: the upload_id_key of the last successful upload.
upload_id() { printf '%s' "$cgi_body" | jq -r .upload_id_key; }

# upload_dir ID_KEY: where a pending upload lives.
upload_dir() { echo "$STACK_DIR/uploads/$UPNS/${1#"$UPNS".}"; }

# drop_in NAME INFO_JSON FILE...: an upload made by hand, as scp or rsync
# would: written beside the tree, then renamed into <namespace>/NAME.
drop_in() {
	local name=$1 info=$2 tmp="$STACK_DIR/uploads/.incoming.$1"
	shift 2
	mkdir -p "$tmp" "$STACK_DIR/uploads/$UPNS"
	printf '%s\n' "$info" > "$tmp/info.json"
	if [ $# -gt 0 ]; then cp "$@" "$tmp/"; fi
	mv "$tmp" "$STACK_DIR/uploads/$UPNS/$name"
}

# info_json [KEY=JSON-VALUE...]: a dropped-in upload's info.json for the
# docs' report, with the key; KEY=VALUE replaces or adds, -KEY removes.
info_json() {
	local filter='.' a
	for a in "$@"; do
		if [[ $a == -* ]]; then filter+=" | del(.\"${a#-}\")"
		else filter+=" | .\"${a%%=*}\" = ${a#*=}"; fi
	done
	jq -c --arg key "$UPKEY" ". + {key: \$key, format: \"csv\", archive: \"none\"} | $filter" \
		"$FIXTURES/info.json"
}

# csv_file NAME: write stdin to a file under the stack, print its path.
csv_file() { cat > "$STACK_DIR/$1"; echo "$STACK_DIR/$1"; }

# batch [ARGS...]: flux-batch uploads (run it with `run --separate-stderr`).
batch() { "$FLUX_TOP/batch/flux-batch" "$@"; }

# status_of ID_KEY [JQ]: the Redis status record (or a field of it).
status_of() {
	redis-cli -s "$REDIS_SOCK" get "flux.upload_status.$1" | jq -r "${2:-.}"
}

# outcome NAME STATUS [ERROR]: the dropped-in upload NAME ended so.
outcome() {
	local st
	st=$(status_of "$UPNS.$1")
	if [ "$(jq -r .status <<<"$st")" != "$2" ] ||
	    { [ $# -gt 2 ] && [ "$(jq -r .error <<<"$st")" != "$3" ]; }; then
		echo "expected: $2 ${3:-}" >&2
		echo "got:      $st" >&2
		return 1
	fi
}

failed_dir() { echo "$STACK_DIR/uploads/.failed/$UPNS/$1"; }

# use_capture: point the config's pickle port at a new capture listener.
use_capture() {
	start_capture accept
	sed -i "s/^FLUX_CARBON_PICKLE_PORT = .*/FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT/" "$FLUX_CONF"
}

# captured: the points the capture listener got, one "name ts value" a
# line, decoded from carbon's pickle frames with Python's own unpickler.
captured() {
	/usr/bin/python3 - "$CAPTURE_FILE" <<'PY'
import pickle, struct, sys
data = open(sys.argv[1], "rb").read()
while data:
    (n,) = struct.unpack(">I", data[:4])
    for name, (ts, value) in pickle.loads(data[4:4 + n]):
        print(name, ts, repr(value))
    data = data[4 + n:]
PY
}
