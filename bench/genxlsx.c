/*
 * genxlsx - write the report of gencsv.c as an xlsx workbook for
 * bench/uploads.sh: the same header, dates and values, the dates as date
 * cells (a serial styled "yyyy-mm-dd hh:mm:ss"), the values as number
 * cells, the header as inline strings, every cell with its reference, as
 * office software writes them. The workbook is streamed through
 * libarchive's zip writer (deflate), so its size is not bounded by
 * memory. Prints the sheet part's size in bytes on stderr. COLUMNS (10
 * by default, as gencsv) makes rows wider: a sheet holds 1,048,576 rows
 * at most, so a 1 GB sheet needs rows of a kilobyte.
 * Usage: genxlsx ROWS OUT.xlsx [COLUMNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#define BUF 65536

static const char content_types[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-"
	"package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\""
	"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\""
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
	"<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
	"<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd."
	"openxmlformats-officedocument.spreadsheetml.styles+xml\"/></Types>";

static const char root_rels[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	"relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas."
	"openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
	"Target=\"xl/workbook.xml\"/></Relationships>";

static const char workbook[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships\"><sheets><sheet name=\"Report\" sheetId=\"1\" r:id=\"rId1\"/>"
	"</sheets></workbook>";

static const char workbook_rels[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	"relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas."
	"openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
	"Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\""
	"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	"styles\" Target=\"styles.xml\"/></Relationships>";

static const char styles[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
	"main\"><numFmts count=\"1\"><numFmt numFmtId=\"164\" formatCode=\""
	"yyyy\\-mm\\-dd\\ hh:mm:ss\"/></numFmts><cellXfs count=\"2\">"
	"<xf numFmtId=\"0\"/><xf numFmtId=\"164\" applyNumberFormat=\"1\"/>"
	"</cellXfs></styleSheet>";

static const char sheet_head[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
	"main\"><sheetData><row r=\"1\">";

static struct archive	*a;
static char		 buf[BUF];
static size_t		 used;
static unsigned long long sheet_bytes;

static void
die(const char *what)
{
	fprintf(stderr, "genxlsx: %s: %s\n", what, archive_error_string(a));
	exit(1);
}

static void
part(const char *name, const char *text, int unknown_size)
{
	struct archive_entry	*e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (unknown_size)
		archive_entry_unset_size(e);
	else
		archive_entry_set_size(e, (la_int64_t)strlen(text));
	if (archive_write_header(a, e) != ARCHIVE_OK)
		die(name);
	archive_entry_free(e);
	if (text != NULL && archive_write_data(a, text, strlen(text)) < 0)
		die(name);
}

static void
flush(void)
{
	if (used > 0 && archive_write_data(a, buf, used) < 0)
		die("sheet");
	sheet_bytes += used;
	used = 0;
}

static void
put(const char *s, int n)
{
	if (n < 0 || (size_t)n >= BUF) {
		fprintf(stderr, "genxlsx: cell too long\n");
		exit(1);
	}
	if (used + (size_t)n > BUF)
		flush();
	memcpy(buf + used, s, (size_t)n);
	used += (size_t)n;
}

/* Column c's letters (0 is A, 26 is AA), for c < 702. */
static const char *
letters(unsigned int c)
{
	static char	name[3];

	if (c < 26) {
		name[0] = (char)('A' + c);
		name[1] = '\0';
	} else {
		name[0] = (char)('A' + c / 26 - 1);
		name[1] = (char)('A' + c % 26);
		name[2] = '\0';
	}
	return name;
}

int
main(int argc, char *argv[])
{
	unsigned long long	 rows, i, cols = 10;
	unsigned int		 x = 12345, c;
	long long		 t = 1577836800;
	char			 cell[128], *end;

	if (argc < 3 || argc > 4 || (rows = strtoull(argv[1], &end, 10)) == 0 ||
	    *end != '\0' || (argc == 4 && ((cols = strtoull(argv[3], &end, 10)) < 2 ||
	    cols > 702 || *end != '\0'))) {
		fprintf(stderr, "usage: genxlsx ROWS OUT.xlsx [COLUMNS]\n");
		return 2;
	}
	a = archive_write_new();
	archive_write_set_format_zip(a);
	archive_write_zip_set_compression_deflate(a);
	if (archive_write_open_filename(a, argv[2]) != ARCHIVE_OK)
		die(argv[2]);
	part("[Content_Types].xml", content_types, 0);
	part("_rels/.rels", root_rels, 0);
	part("xl/workbook.xml", workbook, 0);
	part("xl/_rels/workbook.xml.rels", workbook_rels, 0);
	part("xl/styles.xml", styles, 0);
	part("xl/worksheets/sheet1.xml", NULL, 1);
	put(sheet_head, (int)strlen(sheet_head));
	put(cell, snprintf(cell, sizeof(cell), "<c r=\"A1\" t=\"inlineStr\"><is><t>"
	    "date</t></is></c>"));
	for (c = 1; c < cols; c++)
		put(cell, snprintf(cell, sizeof(cell), "<c r=\"%s1\" t=\"inlineStr\">"
		    "<is><t>c%u</t></is></c>", letters(c), c));
	put("</row>", 6);
	for (i = 0; i < rows; i++, t += 60) {
		/* Days since 1899-12-30, to the microsecond, as Excel writes it. */
		put(cell, snprintf(cell, sizeof(cell), "<row r=\"%llu\"><c r=\"A%llu\" "
		    "s=\"1\"><v>%.10f</v></c>", i + 2, i + 2,
		    (double)t / 86400.0 + 25569.0));
		for (c = 1; c < cols; c++) {
			x = x * 1103515245u + 12345u;
			put(cell, snprintf(cell, sizeof(cell), "<c r=\"%s%llu\"><v>%u.%02u"
			    "</v></c>", letters(c), i + 2, (x >> 16) % 1000, (x >> 8) % 100));
		}
		put("</row>", 6);
	}
	put("</sheetData></worksheet>", 24);
	flush();
	if (archive_write_close(a) != ARCHIVE_OK)
		die(argv[2]);
	archive_write_free(a);
	fprintf(stderr, "%llu\n", sheet_bytes);
	return 0;
}
