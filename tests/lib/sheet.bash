# shellcheck shell=bash
# tests/lib/sheet.bash - helpers for the spreadsheet upload suite: reports
# written as xlsx (openpyxl) or xls (xlwt) from CSV text, dropped-in
# uploads in namespaces of their own, and every point whisper holds for a
# namespace, exactly as stored.

source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/upload.bash"

# Namespaces of the twin tests: one per report and format, so each lands
# in whisper files of its own. They all upload with the docs' key.
TWINS="docs cells inline d1904"
TWIN_FORMATS="csv xlsx xls xlsx_zip xls_zip"

# twin_keys: FLUX_UPLOADS_KEYS with the docs' namespace and every twin's.
twin_keys() {
	local keys="$UPNS:$UPKEY" t f
	for t in $TWINS; do
		for f in $TWIN_FORMATS; do
			keys+=", temp_monitoring.twin.$t.$f:$UPKEY"
		done
	done
	echo "$keys"
}

# to_sheet FMT OUT < CSV: the CSV as a workbook of one sheet, written by
# openpyxl (xlsx) or xlwt (xls): a field that reads as a number is a
# number cell, an empty field no cell at all, any other a text cell.
to_sheet() {
	/usr/bin/python3 -c "$(cat <<'PY'
import csv, sys
fmt, out = sys.argv[1], sys.argv[2]

def cell(text):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text

rows = [[cell(t) if t != "" else None for t in r] for r in csv.reader(sys.stdin)]
if fmt == "xlsx":
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, r in enumerate(rows, 1):
        for j, v in enumerate(r, 1):
            if v is not None:
                ws.cell(i, j, v)
    wb.save(out)
else:
    import xlwt
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Report")
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is not None:
                ws.write(i, j, v)
    wb.save(out)
PY
)" "$1" "$2"
}

# drop_report NAME FMT [INFO CHANGES...] < CSV: a dropped-in report in the
# docs' namespace, as FMT (csv, xlsx or xls) and named report.FMT, with
# skip_rows 0 and the docs' columns unless changed.
drop_report() {
	local name=$1 fmt=$2 file
	shift 2
	file="$STACK_DIR/report.$fmt"
	if [ "$fmt" = csv ]; then cat > "$file"; else to_sheet "$fmt" "$file"; fi
	drop_in "$name" "$(info_json skip_rows=0 "format=\"$fmt\"" "$@")" "$file"
}

# drop_twin REPORT FMT FILE [INFO CHANGES...]: FILE (a report, or for
# xlsx_zip and xls_zip the report to zip) as a dropped-in upload in the
# twin namespace of REPORT and FMT.
drop_twin() {
	local t=$1 f=$2 file=$3 ns="temp_monitoring.twin.$1.$2" tmp fmt=${2%_zip}
	local archive=none
	shift 3
	tmp="$STACK_DIR/uploads/.incoming.$t.$f"
	mkdir -p "$tmp" "$STACK_DIR/uploads/$ns"
	if [ "$f" != "$fmt" ]; then
		archive=zip
		(cd "$(dirname "$file")" && zip -qj "$tmp/report.zip" "$(basename "$file")")
	else
		cp "$file" "$tmp/"
	fi
	info_json "parent_metric_namespace=\"$ns\"" "format=\"$fmt\"" \
		"archive=\"$archive\"" "$@" > "$tmp/info.json"
	mv "$tmp" "$STACK_DIR/uploads/$ns/$t"
}

# whisper_points NS: "name ts value" for every point whisper holds under
# namespace NS around the reports' day, the name without NS and the value
# as Python prints the stored double, sorted.
whisper_points() {
	/usr/bin/python3 - "$WHISPER_DIR/${1//.//}" "$T0" <<'PY'
import os, sys, whisper
root, t0 = sys.argv[1], int(sys.argv[2])
out = []
for d, _, files in os.walk(root):
    for f in files:
        if not f.endswith(".wsp"):
            continue
        name = os.path.relpath(os.path.join(d, f[:-4]), root).replace("/", ".")
        (start, _, step), values = whisper.fetch(os.path.join(d, f), t0 - 86400,
                                                 t0 + 86400)
        out += ["%s %d %r" % (name, start + i * step, v)
                for i, v in enumerate(values) if v is not None]
print("\n".join(sorted(out)))
PY
}

# wait_points NS N: poll (15 s at most) until whisper holds N points under
# NS, then print them.
wait_points() {
	local deadline=$(( $(date +%s) + 15 )) p
	while :; do
		p=$(whisper_points "$1")
		if [ "$(grep -c . <<<"$p")" -ge "$2" ] || [ "$(date +%s)" -ge "$deadline" ]; then
			echo "$p"
			return
		fi
		sleep 0.2
	done
}

# zip_part FILE PART < CONTENT: replace (or add) one part of a zip with
# stdin, as Python's zipfile writes it.
zip_part() {
	/usr/bin/python3 -c "$(cat <<'PY'
import sys, zipfile
path, part = sys.argv[1], sys.argv[2]
data = sys.stdin.buffer.read()
with zipfile.ZipFile(path) as z:
    parts = [(i, z.read(i.filename)) for i in z.infolist() if i.filename != part]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for i, d in parts:
        z.writestr(i, d)
    z.writestr(part, data)
PY
)" "$1" "$2"
}
