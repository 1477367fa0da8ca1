/*
 * fuzz_report - libFuzzer harness for an uploaded report: info.json
 * (common/upload.c) and the CSV reader (batch/report.c, libcsv, dates).
 * Input: info.json text, a NUL, the CSV. When the info.json is refused a
 * fixed three-column spec reads the CSV, so the CSV is always exercised.
 *
 * Asserted: info.json holding a \u0000 escape is refused (json.h), no
 * timestamp outside 1970-2106, and no file with a NUL byte
 * past its skipped lines is accepted (every such byte is in a field, and a
 * field with a NUL fails the file: it would be read cut short).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "date.h"
#include "json.h"
#include "json_fuzz.h"
#include "report.h"
#include "upload.h"
#include "util.h"

static int
on_row(void *ctx, uint64_t line, int64_t ts, const double *values)
{
	size_t	*rows = ctx;

	(void)line;
	(void)values;
	if (ts < 0 || ts > (int64_t)UINT32_MAX)
		abort();	/* the reader promises 1970 to 2106 */
	(*rows)++;
	return 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the lines skip_rows drops end, in the n bytes of the CSV at p. */
static size_t
skipped_end(const uint8_t *p, size_t n, int64_t skip_rows)
{
	const uint8_t	*nl;
	size_t		 at = 0;

	for (; skip_rows > 0; skip_rows--) {
		if ((nl = memchr(p + at, '\n', n - at)) == NULL)
			return n;
		at = (size_t)(nl - p) + 1;
	}
	return at;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 tz_set;
	struct flux_upload_info	 info = { 0 };
	struct flux_report_spec	 spec = { 1, 0, 3, 0, NULL };
	struct flux_report	*r;
	const uint8_t		*nul = memchr(data, '\0', size);
	size_t			 il = nul ? (size_t)(nul - data) : 0, off, rows = 0, chunk;
	size_t			 start, fields;
	char			 err[FLUX_ERRLEN];
	const char		*why;
	cJSON			*o;
	int			 parsed = 0, accepted = 0;

	if (!tz_set++)
		flux_date_set_tz("America/New_York", err);
	if (nul != NULL && (o = flux_json_parse((const char *)data, il, &why)) != NULL) {
		if (json_has_nul_escape(data, il))
			abort();	/* parsed: a string would be read cut short */
		parsed = flux_upload_info_parse(o, &info, err) == 0;
		cJSON_Delete(o);
	}
	if (parsed && info.skip_rows < 1000 && info.header_row < 1000)
		spec = (struct flux_report_spec){ info.skip_rows, info.header_row,
		    info.ncolumns, info.date_column, info.date_format };
	off = start = nul ? il + 1 : 0;
	fields = start + skipped_end(data + start, size - start, spec.skip_rows);
	chunk = size > 0 ? (size_t)(data[size - 1] % 61) + 1 : 1;
	if ((r = flux_report_new(&spec, on_row, &rows)) != NULL) {
		while (off < size) {
			size_t n = size - off < chunk ? size - off : chunk;

			if (flux_report_feed(r, (const char *)data + off, n) == -1)
				break;
			off += n;
		}
		if (off >= size)
			accepted = flux_report_finish(r) == 0;
		flux_report_free(r);
	}
	if (accepted && fields < size && memchr(data + fields, '\0', size - fields))
		abort();	/* a field with a NUL was read as a C string */
	if (parsed)
		flux_upload_info_free(&info);
	return 0;
}
