#!/bin/bash
# bench/uploads.sh - how fast "flux-batch -n uploads" reads a report, as
# ratios against baselines measured in the same run (SPEC 10):
#   (a) wc -l of the file: reading the bytes;
#   (b) csvcount: a plain libcsv read counting fields (bench/csvcount.c);
#   (c) flux-batch -n uploads: both passes (parse, check, spill; read the
#       spill, print every point in carbon's plaintext format to /dev/null).
# A 1,000,000-row x 10-column report (a date and 9 values), then peak RSS
# of (c) for a 10 MB and a 1 GB report, to show memory does not grow with
# the file. Everything is made in a temporary directory and removed.
# Usage: bench/uploads.sh [ROWS]   (run from the top of the tree, after make)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
work=$(mktemp -d /tmp/flux-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ns=bench.report
key=bench-key

cc -O2 -o "$work/csvcount" "$top/bench/csvcount.c" -lcsv
cc -O2 -o "$work/gencsv" "$top/bench/gencsv.c"
[ -x "$top/batch/flux-batch" ] || make -C "$top" >/dev/null

cat > "$work/flux.conf" <<CONF
FLUX_PROCESS_UPLOADS = true
BATCH_PROCESSING = true
BATCH_PROCESSING_NAMESPACES = bench
FLUX_UPLOADS_KEYS = $ns:$key
DATA_UPLOADS_PATH = $work/uploads
FLUX_SPOOL_PATH = $work
REDIS_SOCKET_PATH = $work/no-redis.sock
FLUX_LOG_LEVEL = error
CONF

# make_upload ROWS: a dropped-in upload holding a generated report.
make_upload() {
	rm -rf "$work/uploads"
	mkdir -p "$work/uploads/$ns/run"
	"$work/gencsv" "$1" > "$work/uploads/$ns/run/report.csv"
	printf '{"key": "%s", "parent_metric_namespace": "%s", "timezone": "UTC", "format": "csv", "archive": "none", "header_row": 0, "columns_to_metrics": "date,c1,c2,c3,c4,c5,c6,c7,c8,c9"}\n' \
		"$key" "$ns" > "$work/uploads/$ns/run/info.json"
}

# timed NAME CMD...: run CMD (stdout to /dev/null), record wall seconds
# (EPOCHREALTIME: /usr/bin/time has 10 ms steps) and peak RSS in KiB.
timed() {
	local name=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$work/time.$name" "$@" > /dev/null
	t1=$EPOCHREALTIME
	secs[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	rss[$name]=$(cat "$work/time.$name")
}

declare -A secs rss
make_upload "$rows"
csv="$work/uploads/$ns/run/report.csv"
size=$(stat -c %s "$csv")
cells=$(( rows * 10 ))
timed wc wc -l "$csv"
timed libcsv "$work/csvcount" "$csv"
timed flux "$top/batch/flux-batch" -c "$work/flux.conf" -n uploads
lines=$("$top/batch/flux-batch" -c "$work/flux.conf" -n uploads | wc -l)

echo "report: $rows rows x 10 columns, $size bytes, $cells values; dry run printed $lines points"
printf '%-32s %8s %14s %10s %10s %10s\n' step seconds "values/s" "vs wc -l" "vs libcsv" "RSS KiB"
for s in wc libcsv flux; do
	case $s in
	wc) label="(a) wc -l" ;;
	libcsv) label="(b) libcsv field count" ;;
	*) label="(c) flux-batch -n uploads" ;;
	esac
	awk -v n="$label" -v t="${secs[$s]}" -v c="$cells" -v a="${secs[wc]}" \
	    -v b="${secs[libcsv]}" -v r="${rss[$s]}" \
		'BEGIN { printf "%-32s %8.3f %14.0f %9.1fx %9.1fx %10d\n", n, t, c / t,
		             t / a, t / b, r }'
done

echo
echo "peak RSS of flux-batch -n uploads (dry run):"
for mb in 10 1024; do
	want=$(( mb * 1024 * 1024 ))
	make_upload $(( want * rows / size ))
	timed "rss$mb" "$top/batch/flux-batch" -c "$work/flux.conf" -n uploads
	printf '  %5d MB report (%s bytes): %6d KiB peak RSS, %7.2f s\n' "$mb" \
		"$(stat -c %s "$work/uploads/$ns/run/report.csv")" "${rss[rss$mb]}" "${secs[rss$mb]}"
	rm -rf "$work/uploads"
done
