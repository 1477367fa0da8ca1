/*
 * fuzz_xlsx - libFuzzer harness for the xlsx reader (batch/xlsx.c).
 * An input starting "PK" is the file itself (the zip, as libarchive reads
 * it). Any other input is the parts' XML, separated by NUL bytes (which
 * XML cannot hold): the sheet, the shared strings, the styles, the
 * workbook and its relationships, a part left out taking a default; they
 * are zipped here, so that the XML reaches the parser intact rather than
 * failing the zip's checksums.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "sheet_fuzz.h"

static const char *const parts[] = {
	"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml",
	"xl/workbook.xml", "xl/_rels/workbook.xml.rels",
};

static const char *const defaults[] = {
	"<worksheet><sheetData/></worksheet>",
	"<sst/>",
	"<styleSheet><cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"22\"/>"
	    "</cellXfs></styleSheet>",
	"<workbook><sheets><sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>",
	"<Relationships><Relationship Id=\"rId1\" Type=\"x/worksheet\" "
	    "Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" "
	    "Type=\"x/sharedStrings\" Target=\"sharedStrings.xml\"/>"
	    "<Relationship Id=\"rId3\" Type=\"x/styles\" Target=\"styles.xml\"/>"
	    "</Relationships>",
};

#define NPARTS (sizeof(parts) / sizeof(parts[0]))

static void
add(struct archive *a, const char *name, const void *p, size_t n)
{
	struct archive_entry	*e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	if (archive_write_header(a, e) == ARCHIVE_OK && n > 0)
		archive_write_data(a, p, n);
	archive_entry_free(e);
}

/* The parts as a zip, written to fp. */
static void
zip_parts(FILE *fp, const uint8_t *data, size_t size)
{
	struct archive	*a = archive_write_new();
	const uint8_t	*p = data, *nul;
	size_t		 i, n;

	archive_write_set_format_zip(a);
	archive_write_zip_set_compression_store(a);
	if (archive_write_open_FILE(a, fp) != ARCHIVE_OK)
		abort();
	for (i = 0; i < NPARTS; i++) {
		if (p != NULL && p <= data + size) {
			nul = memchr(p, '\0', (size_t)(data + size - p));
			n = nul ? (size_t)(nul - p) : (size_t)(data + size - p);
			add(a, parts[i], p, n);
			p = nul ? nul + 1 : NULL;
		} else
			add(a, parts[i], defaults[i], strlen(defaults[i]));
	}
	archive_write_close(a);
	archive_write_free(a);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE	*fp = fuzz_file("fuzz_xlsx");

	if (ftruncate(fileno(fp), 0) == -1 || fseek(fp, 0, SEEK_SET) == -1)
		abort();
	if (size >= 2 && data[0] == 'P' && data[1] == 'K')
		fwrite(data, 1, size, fp);
	else
		zip_parts(fp, data, size);
	if (fflush(fp) == EOF)
		abort();
	fuzz_read(1);
	return 0;
}
