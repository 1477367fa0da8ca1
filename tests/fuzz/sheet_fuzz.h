/*
 * sheet_fuzz.h - what the spreadsheet harnesses share: the report the
 * cells go to (the docs' three columns, no rows skipped, rows checked as
 * upfile.c would take them) and one file on disk per fuzzing process, since
 * the readers read a path as flux-batch does.
 */
#ifndef FLUX_SHEET_FUZZ_H
#define FLUX_SHEET_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "date.h"
#include "report.h"
#include "sheet.h"
#include "util.h"

static char	fuzz_path[64];

static void
fuzz_unlink(void)
{
	unlink(fuzz_path);
}

static int
fuzz_row(void *ctx, uint64_t line, int64_t ts, const double *values)
{
	(void)ctx;
	(void)line;
	(void)values;
	if (ts < 0 || ts > (int64_t)UINT32_MAX)
		abort();	/* the report promises 1970 to 2106 */
	return 0;
}

/* The file the reader reads, made once; its content replaced each time. */
static FILE *
fuzz_file(const char *name)
{
	static FILE	*fp;
	char		 err[FLUX_ERRLEN];
	int		 fd;

	if (fp != NULL)
		return fp;
	snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/%s.XXXXXX", name);
	if ((fd = mkstemp(fuzz_path)) == -1 || (fp = fdopen(fd, "w+")) == NULL)
		abort();
	atexit(fuzz_unlink);
	flux_date_set_tz("Europe/London", err);
	return fp;
}

/* Read the file as format xlsx (1) or xls (0) into a report, to its end. */
static void
fuzz_read(int xlsx)
{
	struct flux_report_spec	 spec = { 0, 0, 3, 0, NULL };
	struct flux_sheet_spec	 sheet = { NULL, 0, 1 << 24 };
	struct flux_report	*r;
	char			 err[FLUX_ERRLEN];
	int			 rc;

	if ((r = flux_report_new(&spec, fuzz_row, NULL)) == NULL)
		return;
	rc = xlsx ? flux_xlsx_read(fuzz_path, &sheet, r, err) :
	    flux_xls_read(fuzz_path, &sheet, r, err);
	if (rc == 0)
		flux_report_finish(r);
	flux_report_free(r);
}

#endif
