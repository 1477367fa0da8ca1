#!/usr/bin/env bats
# Spreadsheet reports (format xlsx and xls) through flux-batch uploads:
# each fixture, made by office software (tests/fixtures/uploads/
# make-spreadsheets.sh), lands in a real carbon-cache's whisper files
# exactly the points of its CSV twin; the CSV rules give the same
# messages for spreadsheets; sheets are chosen by name or index; hostile
# workbooks fail with a reason.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/sheet.bash
source "$BATS_TEST_DIRNAME/lib/sheet.bash"

setup_file() {
	suite_start sht
	STACK_WHISPER_RETENTIONS=900s:10y
	start_redis
	start_carbon
	upload_conf "FLUX_UPLOADS_KEYS=$(twin_keys)"
	start_apache "$FLUX_TOP/cgi-bin" "$STACK_DIR/flux.conf"
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR FLUX_URL
}

teardown_file() {
	suite_stop
}

setup() {
	STACK_WHISPER_STEP=900
	rm -rf "$STACK_DIR/uploads" "$STACK_DIR/saved" "$STACK_DIR/spool"
	upload_conf "FLUX_UPLOADS_KEYS=$(twin_keys)"
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	export FLUX_NOW=1700000000
}

teardown() {
	stop_capture
}

DOCS=${UPCSV%.csv}

# The docs' four rows for both columns at T (default 11:00 UTC).
example_points() {
	local t=${1:-$T0}
	printf '%s\n' \
		"$UPNS.roof $t 45.72" "$UPNS.floor $t 22.78" \
		"$UPNS.roof $((t + 900)) 45.94" "$UPNS.floor $((t + 900)) 22.92" \
		"$UPNS.roof $((t + 1800)) 46.13" "$UPNS.floor $((t + 1800)) 22.98" \
		"$UPNS.roof $((t + 2700)) 46.34" "$UPNS.floor $((t + 2700)) 23.06" | sort
}

# twins REPORT N FORMATS...: REPORT's uploads in FORMATS all completed and
# each landed in whisper the N points its CSV twin landed.
twins() {
	local t=$1 n=$2 f csv
	shift 2
	csv=$(wait_points "temp_monitoring.twin.$t.csv" "$n")
	[ "$(grep -c . <<<"$csv")" = "$n" ]
	for f in "$@"; do
		[ "$(status_of "temp_monitoring.twin.$t.$f.$t" .status)" = complete ]
		diff -u <(echo "$csv") <(wait_points "temp_monitoring.twin.$t.$f" "$n")
	done
}

# hostile NAME [INFO CHANGES...] < SHEET-XML: the docs' xlsx with its sheet
# part replaced, dropped in as h.xlsx (format xlsx, skip_rows 0).
hostile() {
	local name=$1
	shift
	cp "$FIXTURES/$DOCS.xlsx" "$STACK_DIR/h.xlsx"
	zip_part "$STACK_DIR/h.xlsx" xl/worksheets/sheet1.xml
	drop_in "$name" "$(info_json skip_rows=0 'format="xlsx"' "$@")" "$STACK_DIR/h.xlsx"
}

SHEET_HEAD='<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'

# ------------------------------------------------------------- twins --

@test "the docs' example as .xlsx, .xls and each zipped lands the same points in whisper as the CSV" {
	for f in $TWIN_FORMATS; do
		case $f in
		csv) file=$FIXTURES/$UPCSV ;;
		xlsx*) file=$FIXTURES/$DOCS.xlsx ;;
		*) file=$FIXTURES/$DOCS.xls ;;
		esac
		drop_twin docs "$f" "$file"
	done
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	csv=$(wait_points temp_monitoring.twin.docs.csv 8)
	[ "$csv" = "$(printf '%s\n' \
		"floor $T0 22.78" "floor $((T0 + 900)) 22.92" "floor $((T0 + 1800)) 22.98" \
		"floor $((T0 + 2700)) 23.06" "roof $T0 45.72" "roof $((T0 + 900)) 45.94" \
		"roof $((T0 + 1800)) 46.13" "roof $((T0 + 2700)) 46.34")" ]
	twins docs 8 xlsx xls xlsx_zip xls_zip
}

@test "cells.xlsx and cells.xls (dates in many formats, booleans, formulas, holes) give cells.csv's points" {
	for f in csv xlsx xls; do
		drop_twin cells "$f" "$FIXTURES/cells.$f" skip_rows=2 \
			'columns_to_metrics="date,roof,floor,door,double"'
	done
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	twins cells 26 xlsx xls
	# Booleans are 1 and 0; formulas give their cached values.
	[ "$(whisper_points temp_monitoring.twin.cells.xlsx | grep -c '^door .* 1.0$')" = 4 ]
	[ "$(whisper_points temp_monitoring.twin.cells.xls | grep "^double $T0 ")" = "double $T0 91.44" ]
}

@test "inline.xlsx (inline strings, XlsxWriter) gives inline.csv's points" {
	for f in csv xlsx; do
		drop_twin inline "$f" "$FIXTURES/inline.$f" skip_rows=0
	done
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	twins inline 8 xlsx
}

@test "dates1904.xlsx and dates1904.xls (the 1904 date system) give dates1904.csv's points" {
	for f in csv xlsx xls; do
		drop_twin d1904 "$f" "$FIXTURES/dates1904.$f" skip_rows=0 \
			'columns_to_metrics="date,roof,door"'
	done
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	twins d1904 8 xlsx xls
}

# ---------------------------------------------------------- the form --

@test "upload_data takes the docs' form with format=xlsx, and the points land in whisper" {
	upload_form format=xlsx "data_file=@$FIXTURES/$DOCS.xlsx"
	expect 200
	id=$(upload_id)
	cmp "$(upload_dir "$id")/$DOCS.xlsx" "$FIXTURES/$DOCS.xlsx"
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[ "$(status_of "$id" .status)" = complete ]
	[ "$(status_of "$id" .points_submitted)" = 8 ]
	run whisper_fetch_value "$UPNS.roof" $((T0 + 2700))
	[ "$output" = 46.340000 ]
	run whisper_fetch_value "$UPNS.floor" "$T0"
	[ "$output" = 22.780000 ]
}

@test "upload_data takes an xls report in a zip" {
	use_capture
	(cd "$FIXTURES" && zip -qj "$STACK_DIR/report.zip" "$DOCS.xls")
	upload_form format=xls archive=zip "data_file=@$STACK_DIR/report.zip"
	expect 200
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	[ "$(captured | sort)" = "$(example_points)" ]
	[ "$(status_of "$(upload_id)" '.files | keys | join(" ")')" = "$DOCS.xls report.zip" ]
}

@test "an xlsx in a gz and an xls in a tar.gz are unpacked and read" {
	use_capture
	gzip -c "$FIXTURES/$DOCS.xlsx" > "$STACK_DIR/$DOCS.xlsx.gz"
	drop_in gz "$(info_json 'format="xlsx"' 'archive="gz"' ignore_submitted_timestamps=true)" \
		"$STACK_DIR/$DOCS.xlsx.gz"
	mkdir -p "$STACK_DIR/t/sub"
	cp "$FIXTURES/$DOCS.xls" "$STACK_DIR/t/sub/"
	tar -C "$STACK_DIR/t" -czf "$STACK_DIR/report.tar.gz" sub
	drop_in tgz "$(info_json 'format="xls"' 'archive="tar_gz"' ignore_submitted_timestamps=true)" \
		"$STACK_DIR/report.tar.gz"
	run --separate-stderr batch uploads
	[ "$status" -eq 0 ]
	outcome gz complete
	outcome tgz complete
	[ "$(captured | sort -u)" = "$(example_points)" ]
	[ "$(captured | wc -l)" = 16 ]
}

@test "members of an archive without the format's extension are skipped" {
	use_capture
	echo notes > "$STACK_DIR/README.txt"
	(cd "$FIXTURES" && zip -qj "$STACK_DIR/report.zip" "$DOCS.xlsx" "$UPCSV" "$STACK_DIR/README.txt")
	drop_in zipped "$(info_json 'format="xlsx"' 'archive="zip"')" "$STACK_DIR/report.zip"
	run --separate-stderr batch uploads
	outcome zipped complete
	[ "$(status_of "$UPNS.zipped" ".files[\"$UPCSV\"]")" = "skipped - not an xlsx file" ]
	[ "$(status_of "$UPNS.zipped" '.files["README.txt"]')" = "skipped - not an xlsx file" ]
	[ "$(captured | wc -l)" = 8 ]
}

@test "a data file must have the format's extension" {
	drop_in wrongext "$(info_json 'format="xlsx"' "data_filename=\"$DOCS.xls\"")" "$FIXTURES/$DOCS.xls"
	run --separate-stderr batch uploads
	outcome wrongext failed "$DOCS.xls: does not fit format xlsx and archive none"
}

# ------------------------------------------------------ the CSV rules --

@test "a row wider than columns_to_metrics fails the file with its row, in every format" {
	for f in csv xlsx xls; do
		printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78,9\n' | drop_report "wide-$f" "$f"
	done
	run --separate-stderr batch uploads
	for f in csv xlsx xls; do
		outcome "wide-$f" failed "report.$f: row 2: 4 fields, expected 3"
	done
}

@test "a missing cell at the end of a row is an empty cell, not a short row" {
	use_capture
	for f in xlsx xls; do
		printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15,45.94\n' |
			drop_report "short-$f" "$f" ignore_submitted_timestamps=true
	done
	run --separate-stderr batch uploads
	outcome short-xlsx complete
	outcome short-xls complete
	[ "$(captured | grep -c floor)" = 2 ]
	[ "$(captured | grep -c roof)" = 4 ]
}

@test "a header whose width differs from columns_to_metrics fails the file, in every format" {
	for f in xlsx xls; do
		drop_in "narrow-$f" "$(info_json "format=\"$f\"" 'columns_to_metrics="date,roof"')" \
			"$FIXTURES/$DOCS.$f"
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "narrow-$f" failed "$DOCS.$f: row 6: the header has 3 columns, columns_to_metrics names 2"
	done
}

@test "an unparseable date fails the file with its row, and nothing is sent" {
	use_capture
	for f in xlsx xls; do
		printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16/05/2020 11:15,45.94,22.92\n' |
			drop_report "baddate-$f" "$f"
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "baddate-$f" failed "report.$f: row 3: unparseable date '16/05/2020 11:15'"
	done
	[ ! -s "$CAPTURE_FILE" ]
}

@test "a local time skipped by DST fails the file, in every format" {
	for f in xlsx xls; do
		printf 'Date,Roof,Floor\n2021-03-14 01:30:00,1,2\n2021-03-14 02:30:00,1,2\n' |
			drop_report "gap-$f" "$f" 'timezone="America/New_York"'
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "gap-$f" failed "report.$f: row 3: non-existent local time (skipped when DST starts) '2021-03-14 02:30:00'"
	done
}

@test "a cell that is not a number fails its column only: partial" {
	use_capture
	for f in xlsx xls; do
		printf 'Date,Roof,Floor\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15,45.94,n/a\n' |
			drop_report "cell-$f" "$f" ignore_submitted_timestamps=true
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "cell-$f" partial "report.$f: column floor: row 3: invalid value 'n/a'"
		[ "$(status_of "$UPNS.cell-$f" ".columns[\"roof (report.$f)\"]")" = "complete - 2 points submitted" ]
	done
	[ "$(captured | cut -d' ' -f1 | sort -u)" = "$UPNS.roof" ]
}

@test "an error cell (#DIV/0!) is not a number" {
	cp "$FIXTURES/$DOCS.xlsx" "$STACK_DIR/e.xlsx"
	zip_part "$STACK_DIR/e.xlsx" xl/worksheets/sheet1.xml <<-EOF
	$SHEET_HEAD<sheetData><row r="1"><c t="inlineStr"><is><t>Date</t></is></c><c t="inlineStr"><is><t>Roof</t></is></c><c t="inlineStr"><is><t>Floor</t></is></c></row>
	<row r="2"><c t="inlineStr"><is><t>16-05-2020 11:00</t></is></c><c t="e"><f>1/0</f><v>#DIV/0!</v></c><c><v>22.78</v></c></row></sheetData></worksheet>
	EOF
	drop_in errcell "$(info_json skip_rows=0 'format="xlsx"')" "$STACK_DIR/e.xlsx"
	run --separate-stderr batch uploads
	outcome errcell partial "e.xlsx: column roof: row 2: invalid value '#DIV/0!'"
}

@test "empty cells and rows are skipped; only the header row counts for header_row" {
	use_capture
	for f in xlsx xls; do
		printf 'Date,Roof,Floor\n\n16-05-2020 11:00,45.72,22.78\n16-05-2020 11:15, ,22.92\n' |
			drop_report "holes-$f" "$f" ignore_submitted_timestamps=true
	done
	run --separate-stderr batch uploads
	outcome holes-xlsx complete
	outcome holes-xls complete
	[ "$(captured | grep -c roof)" = 2 ]
	[ "$(captured | grep -c floor)" = 4 ]
}

@test "a shared string with spaces around it reads the same every time it is used" {
	use_capture
	# xlwt writes text as shared strings: " 45.5 " twice is one string.
	printf 'Date,Roof,Floor\n16-05-2020 11:00, 45.5 ,1\n16-05-2020 11:15, 45.5 ,2\n' |
		drop_report spaced-xls xls ignore_submitted_timestamps=true
	cp "$FIXTURES/$DOCS.xlsx" "$STACK_DIR/spaced.xlsx"
	echo '<sst><si><t xml:space="preserve"> 45.5 </t></si></sst>' |
		zip_part "$STACK_DIR/spaced.xlsx" xl/sharedStrings.xml
	zip_part "$STACK_DIR/spaced.xlsx" xl/worksheets/sheet1.xml <<-EOF
	$SHEET_HEAD<sheetData><row r="1"><c t="inlineStr"><is><t>Date</t></is></c><c t="inlineStr"><is><t>Roof</t></is></c><c t="inlineStr"><is><t>Floor</t></is></c></row>
	<row r="2"><c t="inlineStr"><is><t>16-05-2020 11:00</t></is></c><c t="s"><v>0</v></c><c><v>1</v></c></row>
	<row r="3"><c t="inlineStr"><is><t>16-05-2020 11:15</t></is></c><c t="s"><v>0</v></c><c><v>2</v></c></row></sheetData></worksheet>
	EOF
	drop_in spaced-xlsx "$(info_json skip_rows=0 'format="xlsx"' ignore_submitted_timestamps=true)" "$STACK_DIR/spaced.xlsx"
	run --separate-stderr batch uploads
	outcome spaced-xls complete
	outcome spaced-xlsx complete
	[ "$(captured | grep -c "^$UPNS.roof .* 45.5$")" = 4 ]
}

@test "a sheet with only its header fails: no data rows; an empty sheet: empty file" {
	for f in xlsx xls; do
		printf 'Date,Roof,Floor\n' | drop_report "headeronly-$f" "$f"
		: | drop_report "empty-$f" "$f"
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "headeronly-$f" failed "report.$f: no data rows"
		outcome "empty-$f" failed "report.$f: empty file"
	done
}

@test "data under a minute apart is resampled to 1-minute means" {
	use_capture
	{ echo "date,v"; for i in $(seq 0 11); do echo "$((T0 + 10 * i)),$((i + 1))"; done; } |
		drop_report tensec xlsx 'columns_to_metrics="date,v"'
	run --separate-stderr batch uploads
	outcome tensec complete
	[ "$(captured)" = "$UPNS.v $T0 3.5"$'\n'"$UPNS.v $((T0 + 60)) 9.5" ]
}

@test "date cells are wall-clock times in the upload's timezone" {
	use_capture
	for f in xlsx xls; do
		drop_in "ny-$f" "$(info_json "format=\"$f\"" 'timezone="America/New_York"')" \
			"$FIXTURES/$DOCS.$f"
	done
	run --separate-stderr batch uploads
	outcome ny-xlsx complete
	outcome ny-xls complete
	[ "$(captured | sort -u)" = "$(example_points $((T0 + 14400)))" ]
}

@test "date_format applies to dates written as text, not to date cells" {
	use_capture
	for f in xlsx xls; do
		drop_in "fmt-$f" "$(info_json "format=\"$f\"" 'date_format="%d/%m/%Y %H:%M"' \
			ignore_submitted_timestamps=true)" "$FIXTURES/$DOCS.$f"
		printf 'Date,Roof,Floor\n16/05/2020 11:00,45.72,22.78\n' |
			drop_report "textfmt-$f" "$f" 'date_format="%d/%m/%Y %H:%M"' \
			ignore_submitted_timestamps=true
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "fmt-$f" complete
		outcome "textfmt-$f" complete
	done
	[ "$(captured | grep -c "^$UPNS.roof $T0 45.72$")" = 4 ]
}

# ------------------------------------------------------------ sheets --

@test "the first worksheet is read unless sheet names another, by name or 0-based index" {
	use_capture
	cols='columns_to_metrics="date,roof,floor,door,double"'
	drop_in first "$(info_json 'format="xlsx"' skip_rows=2 "$cols")" "$FIXTURES/cells.xlsx"
	drop_in byname "$(info_json 'format="xls"' skip_rows=2 "$cols" 'sheet="Readings"')" "$FIXTURES/cells.xls"
	drop_in byindex "$(info_json 'format="xlsx"' skip_rows=0 "$cols" 'sheet=1')" "$FIXTURES/cells.xlsx"
	run --separate-stderr batch uploads
	outcome first complete
	outcome byname complete
	outcome byindex failed "cells.xlsx: row 1: the header has 1 columns, columns_to_metrics names 5"
}

@test "a sheet that is not there fails the upload naming the sheets there are" {
	for f in xlsx xls; do
		drop_in "noname-$f" "$(info_json "format=\"$f\"" 'sheet="Totals"')" "$FIXTURES/leapday.$f"
		drop_in "noindex-$f" "$(info_json "format=\"$f\"" 'sheet=3')" "$FIXTURES/leapday.$f"
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "noname-$f" failed "leapday.$f: no sheet named 'Totals' (the workbook has 'day59', 'day60', 'day61')"
		outcome "noindex-$f" failed "leapday.$f: no sheet 3: the workbook has 3 worksheets ('day59', 'day60', 'day61')"
	done
}

@test "1900's fictitious 29 February (serial 60) is refused; serials either side of it are real days" {
	for f in xlsx xls; do
		for d in 59 60 61; do
			drop_in "day$d-$f" "$(info_json "format=\"$f\"" skip_rows=0 \
				'columns_to_metrics="date,roof"' "sheet=\"day$d\"")" "$FIXTURES/leapday.$f"
		done
	done
	run --separate-stderr batch uploads
	for f in xlsx xls; do
		outcome "day59-$f" failed "leapday.$f: row 2: date out of range (1970 to 2106) '1900-02-28 00:00:00'"
		outcome "day60-$f" failed "leapday.$f: row 2: unparseable date '1900-02-29 00:00:00'"
		outcome "day61-$f" failed "leapday.$f: row 2: date out of range (1970 to 2106) '1900-03-01 00:00:00'"
	done
}

# ---------------------------------------------------------- hostile --

@test "a NUL character in an xls cell fails the file" {
	drop_in nul "$(info_json 'format="xls"' skip_rows=0 'columns_to_metrics="date,roof"')" "$FIXTURES/nul.xls"
	run --separate-stderr batch uploads
	outcome nul failed "nul.xls: row 2, column 2: NUL byte in field"
}

@test "a NUL in xlsx XML is not well-formed, raw or as a character reference" {
	printf '%s<sheetData><row r="1"><c><v>1\0</v></c></row></sheetData></worksheet>' "$SHEET_HEAD" | hostile rawnul
	printf '%s<sheetData><row r="1"><c><v>1&#0;</v></c></row></sheetData></worksheet>' "$SHEET_HEAD" | hostile refnul
	run --separate-stderr batch uploads
	outcome rawnul failed "h.xlsx: xl/worksheets/sheet1.xml: line 2: not well-formed (invalid token)"
	outcome refnul failed "h.xlsx: xl/worksheets/sheet1.xml: line 2: reference to invalid character number"
}

@test "a DTD is refused before any entity can expand (billion laughs, external entities)" {
	hostile laughs <<-'EOF'
	<?xml version="1.0"?>
	<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
	<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
	<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>
	EOF
	cp "$FIXTURES/$DOCS.xlsx" "$STACK_DIR/x.xlsx"
	zip_part "$STACK_DIR/x.xlsx" xl/sharedStrings.xml <<-'EOF'
	<?xml version="1.0"?>
	<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
	<sst><si><t>&xxe;</t></si></sst>
	EOF
	drop_in xxe "$(info_json 'format="xlsx"')" "$STACK_DIR/x.xlsx"
	run --separate-stderr batch uploads
	outcome laughs failed "h.xlsx: xl/worksheets/sheet1.xml: a DTD (<!DOCTYPE>) is not allowed in a workbook"
	outcome xxe failed "x.xlsx: xl/sharedStrings.xml: a DTD (<!DOCTYPE>) is not allowed in a workbook"
}

@test "elements nested too deep are refused" {
	{ printf '%s<sheetData>' "$SHEET_HEAD"; for i in $(seq 200); do printf '<x>'; done
	  for i in $(seq 200); do printf '</x>'; done; printf '</sheetData></worksheet>'; } | hostile deep
	run --separate-stderr batch uploads
	outcome deep failed "h.xlsx: xl/worksheets/sheet1.xml: elements nested deeper than 128"
}

@test "a sheet claiming a billion columns or rows is refused, in both formats" {
	printf '%s<dimension ref="A1:ZZZZZ1000000000"/><sheetData/></worksheet>' "$SHEET_HEAD" | hostile wide
	printf '%s<sheetData><row r="1"><c r="XFE1"><v>1</v></c></row></sheetData></worksheet>' "$SHEET_HEAD" | hostile widecell
	printf '%s<sheetData><row r="1000000000"><c><v>1</v></c></row></sheetData></worksheet>' "$SHEET_HEAD" | hostile farrow
	# The xls: its DIMENSIONS record (0x0200, 14 bytes) says 60000 columns.
	/usr/bin/python3 - "$FIXTURES/$DOCS.xls" "$STACK_DIR/wide.xls" <<-'PY'
	import struct, sys
	data = bytearray(open(sys.argv[1], "rb").read())
	i = data.index(b"\x00\x02\x0e\x00")
	struct.pack_into("<H", data, i + 4 + 10, 60000)
	open(sys.argv[2], "wb").write(data)
	PY
	drop_in widexls "$(info_json 'format="xls"')" "$STACK_DIR/wide.xls"
	run --separate-stderr batch uploads
	outcome wide failed "h.xlsx: xl/worksheets/sheet1.xml: sheet dimension 'A1:ZZZZZ1000000000' is beyond 1048576 rows and 16384 columns"
	outcome widecell failed "h.xlsx: row 1: cell 'XFE1' is beyond 1048576 rows and 16384 columns"
	outcome farrow failed "h.xlsx: row number '1000000000' is not from 1 to 1048576"
	outcome widexls failed "wide.xls: sheet dimensions of 10 rows and 60000 columns are beyond 65536 rows and 256 columns"
}

@test "rows and cells out of order are refused" {
	printf '%s<sheetData><row r="5"><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row><row r="3"><c><v>1</v></c></row></sheetData></worksheet>' "$SHEET_HEAD" | hostile rows
	printf '%s<sheetData><row r="1"><c r="C1"><v>1</v></c><c r="A1"><v>1</v></c></row></sheetData></worksheet>' "$SHEET_HEAD" | hostile cells
	run --separate-stderr batch uploads
	outcome rows failed "h.xlsx: row 3 after row 5: rows out of order"
	outcome cells failed "h.xlsx: row 1: cells out of order"
}

@test "a zip bomb inside an xlsx is stopped by FLUX_MAX_EXTRACTED_BYTES" {
	upload_conf "FLUX_UPLOADS_KEYS=$(twin_keys)" FLUX_MAX_EXTRACTED_BYTES=1000000
	{ printf '%s<sheetData>' "$SHEET_HEAD"; head -c 50000000 /dev/zero | tr '\0' ' '
	  printf '</sheetData></worksheet>'; } | hostile bomb
	[ "$(stat -c %s "$STACK_DIR/h.xlsx")" -lt 200000 ]
	run --separate-stderr batch uploads
	outcome bomb failed "h.xlsx: xl/worksheets/sheet1.xml: unpacks to more than the 1000000 byte cap"
}

@test "an XML token, a cell or the shared strings past their bounds are refused" {
	{ printf '%s<sheetData><row r="1" x="' "$SHEET_HEAD"; head -c 20000000 /dev/zero | tr '\0' a
	  printf '"/></sheetData></worksheet>'; } | hostile token
	{ printf '%s<sheetData><row r="1"><c t="inlineStr"><is><t>' "$SHEET_HEAD"
	  head -c 2000000 /dev/zero | tr '\0' 7; printf '</t></is></c></row></sheetData></worksheet>'; } | hostile bigcell
	cp "$FIXTURES/$DOCS.xlsx" "$STACK_DIR/s.xlsx"
	{ printf '<sst><si><t>'; head -c 70000000 /dev/zero | tr '\0' s; printf '</t></si></sst>'; } |
		zip_part "$STACK_DIR/s.xlsx" xl/sharedStrings.xml
	drop_in sst "$(info_json 'format="xlsx"')" "$STACK_DIR/s.xlsx"
	run --separate-stderr batch uploads
	outcome token failed "h.xlsx: xl/worksheets/sheet1.xml: an XML token longer than 16777216 bytes"
	outcome bigcell failed "h.xlsx: row 1: a field longer than 1048576 bytes"
	outcome sst failed "s.xlsx: xl/sharedStrings.xml: shared strings larger than 67108864 bytes"
}

@test "truncated workbooks and files that are not workbooks are refused" {
	head -c 3000 "$FIXTURES/cells.xlsx" > "$STACK_DIR/cut.xlsx"
	head -c 5000 "$FIXTURES/cells.xls" > "$STACK_DIR/cut.xls"
	drop_in cutx "$(info_json 'format="xlsx"')" "$STACK_DIR/cut.xlsx"
	drop_in cut "$(info_json 'format="xls"')" "$STACK_DIR/cut.xls"
	cp "$FIXTURES/$DOCS.xlsx" "$STACK_DIR/not.xls"
	drop_in notxls "$(info_json 'format="xls"')" "$STACK_DIR/not.xls"
	cp "$FIXTURES/$UPCSV" "$STACK_DIR/not.xlsx"
	drop_in notxlsx "$(info_json 'format="xlsx"')" "$STACK_DIR/not.xlsx"
	run --separate-stderr batch uploads
	[ "$status" -eq 1 ]
	[[ $(status_of "$UPNS.cutx" .error) == "cut.xlsx: not an xlsx file (a zip): "* ]]
	[[ $(status_of "$UPNS.cut" .error) == "cut.xls: truncated or corrupt xls file "* ]]
	outcome notxls failed "not.xls: not an xls file (no Compound File header)"
	[[ $(status_of "$UPNS.notxlsx" .error) == "not.xlsx: not an xlsx file (a zip): "* ]]
}
