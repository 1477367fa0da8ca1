/*
 * report.h - one CSV report read as a stream with libcsv (SPEC 8 step 3).
 * Bytes are fed as they are read; each data row is handed to a callback
 * as a timestamp and one value per column, and nothing of a row is kept
 * after it, so memory does not grow with the file. The reader also keeps
 * what the caller must know before sending anything: the first error of
 * each column, whether the rows are in time order and the most common
 * interval between them.
 *
 * Spreadsheets (sheet.h) are not fed as bytes but cell by cell, with
 * flux_report_cell() and flux_report_row_end(); from there on every rule
 * is the CSV one.
 */
#ifndef FLUX_REPORT_H
#define FLUX_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* A field longer than this (1 MiB) is not a report cell. */
#define FLUX_REPORT_FIELD_MAX 1048576

struct flux_report;

/* How to read a report: the info.json settings that concern parsing. */
struct flux_report_spec {
	int64_t		 skip_rows;	/* physical lines skipped first */
	int64_t		 header_row;	/* then this record (0-based) is the header */
	size_t		 ncolumns;	/* fields every row must have */
	size_t		 date_column;
	const char	*date_format;	/* NULL: the built-in layouts */
};

/*
 * One data row: its line, its time and a value per column, NaN where the
 * cell is empty, not a number, or the date. Returning -1 stops the read.
 */
typedef int (*flux_report_row)(void *ctx, uint64_t line, int64_t ts,
	    const double *values);

/* What the whole file showed, valid after flux_report_finish(). */
struct flux_report_stats {
	uint64_t	rows;		/* data rows */
	int64_t		first_ts, last_ts;
	int64_t		interval;	/* most common step between rows; 0: none */
	int		ordered;	/* rows never go back in time, or never forward */
};

/* One spreadsheet cell, as a sheet reader hands it on. */
enum flux_cell_type {
	FLUX_CELL_TEXT,		/* a string, or a number as written (xlsx) */
	FLUX_CELL_NUMBER,	/* a binary number (xls), or a boolean as 1 or 0 */
	FLUX_CELL_DATE		/* a number styled as a date: "YYYY-MM-DD HH:MM:SS" */
};

struct flux_cell {
	enum flux_cell_type	 type;
	char			*text;		/* TEXT, DATE: NUL-terminated, len bytes */
	size_t			 len;
	double			 number;	/* NUMBER */
};

struct flux_report *flux_report_new(const struct flux_report_spec *spec,
	    flux_report_row row, void *ctx);
int	flux_report_feed(struct flux_report *r, const char *buf, size_t n);
int	flux_report_cell(struct flux_report *r, uint64_t row, size_t col,
	    struct flux_cell *c);
int	flux_report_row_end(struct flux_report *r, uint64_t row);
int	flux_report_finish(struct flux_report *r);
const char *flux_report_error(const struct flux_report *r);
const char *flux_report_column_error(const struct flux_report *r, size_t col);
const struct flux_report_stats *flux_report_stats(const struct flux_report *r);
void	flux_report_free(struct flux_report *r);

#endif
