#!/bin/bash
# bench/kills.sh - flux-batch killed with SIGKILL at random points of a
# spool replay and of an upload, on a real redis-server and carbon-cache.
# Each job is started KILLS times and killed after a random delay (up to
# 30 ms for the replay, 80 ms for the upload: a whole replay or upload
# takes about 100 ms here, so most kills land mid-job), then run to its end; every point it was given must then be in
# whisper with its value. (A populate job killed mid-run is in
# tests/populate_batch.bats, against a real graphite-web.)
#
#   usage: bash bench/kills.sh [KILLS]      (default 8)
# Prints, per job: points accepted, delivered, lost, wrong, and how many
# kills landed while the job still had work left. Exit 1 when a point was
# lost or wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-8}
source tests/lib/upload.bash

make -s -j2
B=$(mktemp -d /tmp/flux-kills.XXXXXX)
trap 'stack_stop; [ -n "${KILLS_KEEP:-}" ] || rm -rf "$B"' EXIT
stack_init "$B"
start_redis
start_carbon
BATCH=$FLUX_TOP/batch/flux-batch
NOW=$(date +%s)
rc=0

# killed JOB DONE-TEST MAX: start flux-batch JOB KILLS times, each killed
# after a random delay of up to MAX seconds; count the kills that found
# DONE-TEST still false.
killed() {
	local job=$1 done_test=$2 max=$3 k pid mid=0
	for ((k = 0; k < KILLS; k++)); do
		"$BATCH" "$job" 2>>"$B/$job.log" &
		pid=$!
		sleep "$(awk -v s="$RANDOM" -v m="$max" 'BEGIN { srand(s); printf "%.3f", rand() * m }')"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		$done_test || mid=$((mid + 1))
	done
	# Then to its end (the lock of a killed run is free at once).
	for k in 1 2 3; do
		$done_test && break
		"$BATCH" "$job" 2>>"$B/$job.log" || true
	done
	MID=$mid
}

# check NAME EXPECTED: the accounting line; EXPECTED has "metric ts value".
check() {
	/usr/bin/python3 bench/kills_check.py "$2" "$WHISPER_DIR" > "$B/line" || rc=1
	printf '%-8s %s  kills %d (mid-job %d)\n' "$1" "$(cat "$B/line")" "$KILLS" "$MID"
}

echo "kills per job $KILLS"

# 1. Spool replay: 200 requests of 50 points spooled while carbon is down.
write_conf "FLUX_LOG_LEVEL = warn" "FLUX_MAX_AGE = 86400"
stop_carbon
T0=$(( (NOW - 200 * 60 - 600) / 60 * 60 ))
: > "$B/flush.expected"
for ((i = 0; i < 200; i++)); do
	body='{"key": "'$KEY'", "metrics": ['
	for ((j = 0; j < 50; j++)); do
		body+="$([ "$j" = 0 ] || echo ', '){\"metric\": \"kills.flush.m$j\", \"timestamp\": $((T0 + 60 * i)), \"value\": $i.$j}"
		echo "kills.flush.m$j $((T0 + 60 * i)) $i.$j" >> "$B/flush.expected"
	done
	post "$body]}"
	[ "$cgi_status" = 204 ] || { echo "kills: request $i answered $cgi_status" >&2; exit 1; }
done
echo "spooled: $(spool_count) files"
start_carbon
# shellcheck disable=SC2317  # called through killed
spool_empty() { [ "$(spool_count)" = 0 ]; }
killed flush spool_empty 0.03
check flush "$B/flush.expected"

# 2. An upload: a dropped-in CSV of 6000 one-minute rows x 4 columns.
upload_conf "FLUX_LOG_LEVEL=warn"
R0=$(( (NOW - 6000 * 60 - 3600) / 60 * 60 ))
: > "$B/upload.expected"
{
	echo "date,a,b,c,d"
	for ((i = 0; i < 6000; i++)); do
		echo "$((R0 + 60 * i)),$i.1,$i.2,$i.3,$i.4"
	done
} > "$B/report.csv"
awk -F, -v ns="$UPNS" 'NR > 1 { for (c = 2; c <= 5; c++) print ns "." substr("abcd", c - 1, 1), $1, $c }' \
    "$B/report.csv" > "$B/upload.expected"
drop_in kill1 "$(info_json skip_rows=0 header_row=0 'columns_to_metrics="date,a,b,c,d"')" "$B/report.csv"
# shellcheck disable=SC2317  # called through killed
upload_gone() { [ ! -e "$STACK_DIR/uploads/$UPNS/kill1" ]; }
killed uploads upload_gone 0.08
echo "upload status: $(status_of "$UPNS.kill1" .status)"
check upload "$B/upload.expected"

if grep -q 'error' "$B"/*.log; then
	echo "flux-batch errors:"; grep -h error "$B"/*.log | sort | uniq -c | head
fi
exit $rc
