#!/bin/bash
# bench/uploads.sh - how fast "flux-batch -n uploads" reads a report, as
# ratios against baselines measured in the same run (SPEC 10):
#   (a) wc -l of the file: reading the bytes;
#   (b) csvcount: a plain libcsv read counting fields (bench/csvcount.c);
#   (c) flux-batch -n uploads: both passes (parse, check, spill; read the
#       spill, print every point in carbon's plaintext format to /dev/null);
#   (d) the same for the same report as an xlsx workbook (bench/genxlsx.c:
#       date cells, number cells, deflated), against (c): the target is
#       at least 0.3 of the CSV rate.
# A 1,000,000-row x 10-column report (a date and 9 values), then peak RSS
# of (c) for a 10 MB and a 1 GB report, and of (d) for a 10 MB and a 1 GB
# sheet (the worksheet's XML, as inflated), to show memory does not grow
# with the file. Everything is made in a temporary directory and removed.
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
cc -O2 -o "$work/genxlsx" "$top/bench/genxlsx.c" -larchive
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

# make_upload ROWS [FORMAT [COLUMNS]]: a dropped-in upload holding a
# generated report, csv (default) or xlsx, of 10 columns (xlsx: COLUMNS);
# for xlsx the sheet's size goes to $work/sheet.bytes.
make_upload() {
	local fmt=${2:-csv} ncols=${3:-10} names=date i
	rm -rf "$work/uploads"
	mkdir -p "$work/uploads/$ns/run"
	if [ "$fmt" = csv ]; then
		"$work/gencsv" "$1" > "$work/uploads/$ns/run/report.csv"
	else
		"$work/genxlsx" "$1" "$work/uploads/$ns/run/report.xlsx" "$ncols" \
			2> "$work/sheet.bytes"
	fi
	for ((i = 1; i < ncols; i++)); do names+=",c$i"; done
	printf '{"key": "%s", "parent_metric_namespace": "%s", "timezone": "UTC", "format": "%s", "archive": "none", "header_row": 0, "columns_to_metrics": "%s"}\n' \
		"$key" "$ns" "$fmt" "$names" > "$work/uploads/$ns/run/info.json"
}

# timed NAME CMD...: run CMD (stdout to /dev/null), record wall seconds
# (EPOCHREALTIME: /usr/bin/time has 10 ms steps), CPU seconds (user and
# system, all threads) and peak RSS in KiB.
timed() {
	local name=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$work/time.$name" "$@" > /dev/null
	t1=$EPOCHREALTIME
	secs[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	read -r rss[$name] u s < "$work/time.$name"
	cpu[$name]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}

declare -A secs rss cpu
make_upload "$rows"
csv="$work/uploads/$ns/run/report.csv"
size=$(stat -c %s "$csv")
cells=$(( rows * 10 ))
timed wc wc -l "$csv"
timed libcsv "$work/csvcount" "$csv"
timed flux "$top/batch/flux-batch" -c "$work/flux.conf" -n uploads
lines=$("$top/batch/flux-batch" -c "$work/flux.conf" -n uploads | wc -l)
make_upload "$rows" xlsx
xsize=$(stat -c %s "$work/uploads/$ns/run/report.xlsx")
xsheet=$(cat "$work/sheet.bytes")
timed xlsx "$top/batch/flux-batch" -c "$work/flux.conf" -n uploads
xlines=$("$top/batch/flux-batch" -c "$work/flux.conf" -n uploads | wc -l)

echo "report: $rows rows x 10 columns, $size bytes, $cells values; dry run printed $lines points"
echo "as xlsx: $xsize bytes, its sheet $xsheet bytes inflated; dry run printed $xlines points"
printf '%-32s %8s %8s %14s %10s %10s %10s\n' step seconds "cpu s" "values/s" "vs wc -l" \
	"vs libcsv" "RSS KiB"
for s in wc libcsv flux xlsx; do
	case $s in
	wc) label="(a) wc -l" ;;
	libcsv) label="(b) libcsv field count" ;;
	flux) label="(c) flux-batch -n uploads" ;;
	*) label="(d) flux-batch -n uploads, xlsx" ;;
	esac
	awk -v n="$label" -v t="${secs[$s]}" -v c="$cells" -v a="${secs[wc]}" \
	    -v b="${secs[libcsv]}" -v r="${rss[$s]}" -v u="${cpu[$s]}" \
		'BEGIN { printf "%-32s %8.3f %8.2f %14.0f %9.1fx %9.1fx %10d\n", n, t, u,
		             c / t, t / a, t / b, r }'
done
awk -v c="${secs[flux]}" -v x="${secs[xlsx]}" -v cc="${cpu[flux]}" -v xc="${cpu[xlsx]}" \
	'BEGIN { printf "xlsx values/s / csv values/s: %.2f by wall time, %.2f by cpu time " \
	         "(target >= 0.3)\n", c / x, cc / xc }'

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
# A sheet holds 1,048,576 rows at most: 1 GB of sheet takes rows of about
# 1.2 KB, 40 columns. Both sheets have that shape; only the rows differ.
echo "peak RSS of flux-batch -n uploads of an xlsx of 40 columns (dry run):"
make_upload 10000 xlsx 40
wide=$(cat "$work/sheet.bytes")
for mb in 10 1024; do
	want=$(( mb * 1024 * 1024 ))
	make_upload $(( want * 10000 / wide )) xlsx 40
	timed "xrss$mb" "$top/batch/flux-batch" -c "$work/flux.conf" -n uploads
	printf '  %5d MB sheet (%s bytes inflated, %s bytes of xlsx): %6d KiB peak RSS, %7.2f s\n' \
		"$mb" "$(cat "$work/sheet.bytes")" "$(stat -c %s "$work/uploads/$ns/run/report.xlsx")" \
		"${rss[xrss$mb]}" "${secs[xrss$mb]}"
	rm -rf "$work/uploads"
done
