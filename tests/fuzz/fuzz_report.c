/*
 * fuzz_report - libFuzzer harness for an uploaded report: info.json
 * (common/upload.c) and the CSV reader (batch/report.c, libcsv, dates).
 * Input: info.json text, a NUL, the CSV. When the info.json is refused a
 * fixed three-column spec reads the CSV, so the CSV is always exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "date.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 tz_set;
	struct flux_upload_info	 info = { 0 };
	struct flux_report_spec	 spec = { 1, 0, 3, 0, NULL };
	struct flux_report	*r;
	const uint8_t		*nul = memchr(data, '\0', size);
	size_t			 il = nul ? (size_t)(nul - data) : 0, off, rows = 0, chunk;
	char			 err[FLUX_ERRLEN];
	cJSON			*o;
	int			 parsed = 0;

	if (!tz_set++)
		flux_date_set_tz("America/New_York", err);
	if (nul != NULL && (o = cJSON_ParseWithLength((const char *)data, il)) != NULL) {
		parsed = flux_upload_info_parse(o, &info, err) == 0;
		cJSON_Delete(o);
	}
	if (parsed && info.skip_rows < 1000 && info.header_row < 1000)
		spec = (struct flux_report_spec){ info.skip_rows, info.header_row,
		    info.ncolumns, info.date_column, info.date_format };
	off = nul ? il + 1 : 0;
	chunk = size > 0 ? (size_t)(data[size - 1] % 61) + 1 : 1;
	if ((r = flux_report_new(&spec, on_row, &rows)) != NULL) {
		while (off < size) {
			size_t n = size - off < chunk ? size - off : chunk;

			if (flux_report_feed(r, (const char *)data + off, n) == -1)
				break;
			off += n;
		}
		if (off >= size)
			flux_report_finish(r);
		flux_report_free(r);
	}
	if (parsed)
		flux_upload_info_free(&info);
	return 0;
}
