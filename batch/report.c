/*
 * report.c - the CSV reader of report.h.
 *
 * skip_rows counts physical lines (SPEC 8: "skip_rows: 5" skips lines
 * 1-5 whatever they hold, as Skyline's docs show with a preamble of
 * "key,value" lines), so lines are skipped before libcsv sees them. Then
 * libcsv splits records, quoted fields with embedded newlines included;
 * the header_row-th record is the header and only its width matters,
 * since columns_to_metrics names every column. A UTF-8 byte order mark
 * is dropped, CRLF and LF both end lines, empty lines are no records.
 *
 * Errors name the physical line (1-based, counting skipped lines) where
 * the record began. A record whose width is wrong, or whose date cannot
 * be read, fails the whole file: no time, no points. A cell that is not a
 * number fails its column only.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "date.h"
#include "report.h"
#include "util.h"

/* Distinct intervals tracked for the most common one; rare ones may be missed. */
#define INTERVALS 32
/* A cell quoted back in a message is cut to this. */
#define QUOTE_MAX 64

static const char bom[] = "\xef\xbb\xbf";

struct flux_report {
	struct flux_report_spec	 spec;
	flux_report_row		 row;
	void			*ctx;
	struct csv_parser	 csv;
	struct flux_date	 date;
	struct flux_date	 sheet_date;	/* date cells: built-in layouts only */
	int			 date_cell;	/* the date is a sheet's date cell */
	size_t			 row_cells;	/* non-empty cells of a sheet row */
	uint64_t		 bytes;
	uint64_t		 line;		/* line being fed, 1-based */
	uint64_t		 record_line;	/* line the record began on; 0: none yet */
	uint64_t		 records;	/* records after the skipped lines */
	int64_t			 skipped;
	size_t			 bom_seen;	/* bytes of a BOM matched at the start */
	size_t			 nfields;	/* fields of the record so far */
	size_t			 nonempty;
	double			*values;
	char			 date_text[128];
	char			**col_error;
	char			 error[FLUX_ERRLEN];
	int			 failed;
	int64_t			 prev_ts;
	int			 direction;	/* +1 up, -1 down, 0 not yet known */
	int64_t			 iv[INTERVALS];
	uint64_t		 ivn[INTERVALS];
	struct flux_report_stats stats;
};

static int
fail(struct flux_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct flux_report *r, const char *fmt, ...)
{
	va_list	ap;

	if (!r->failed) {
		r->failed = 1;
		va_start(ap, fmt);
		vsnprintf(r->error, sizeof(r->error), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Copy at most QUOTE_MAX bytes of a cell, printable ASCII only, for a message. */
static void
quote(char *out, const char *s, size_t len)
{
	size_t	i, n = len < QUOTE_MAX ? len : QUOTE_MAX;

	for (i = 0; i < n; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[n] = '\0';
}

/* Trim spaces that libcsv keeps in quoted cells; s is NUL-terminated. */
static const char *
trim(char *s, size_t *len)
{
	while (*len > 0 && (*s == ' ' || *s == '\t'))
		s++, (*len)--;
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t' ||
	    s[*len - 1] == '\r'))
		s[--*len] = '\0';
	return s;
}

static void
column_fail(struct flux_report *r, size_t col, const char *s, size_t len)
{
	char	q[QUOTE_MAX + 1];
	char	msg[160];

	if (r->col_error[col] != NULL)
		return;
	quote(q, s, len);
	snprintf(msg, sizeof(msg), "row %llu: invalid value '%s'",
	    (unsigned long long)r->record_line, q);
	r->col_error[col] = strdup(msg);
}

/*
 * libcsv: one field of the current record. libcsv hands a field as bytes
 * and a length; everything after it treats the field as a C string, so a
 * NUL inside it would cut it short ("1\0999" read as 1). Such a field is
 * not text: it fails the file, naming its row and column, whatever record
 * it is in (the header included).
 */
static void
on_field(void *field, size_t len, void *data)
{
	struct flux_report	*r = data;
	size_t			 i = r->nfields++;
	const char		*s;

	if (!r->failed && len > 0 && memchr(field, '\0', len) != NULL)
		fail(r, "row %llu, column %zu: NUL byte in field",
		    (unsigned long long)r->record_line, i + 1);
	if (r->failed || r->records <= (uint64_t)r->spec.header_row ||
	    i >= r->spec.ncolumns)
		return;
	s = field ? trim(field, &len) : "";
	if (len > 0)
		r->nonempty++;
	if (i == r->spec.date_column) {
		snprintf(r->date_text, sizeof(r->date_text), "%.*s", (int)len, s);
		return;
	}
	r->values[i] = NAN;
	if (len > 0 && flux_parse_double(s, &r->values[i]) == -1) {
		r->values[i] = NAN;
		column_fail(r, i, s, len);
	}
}

/* Count the step from the previous row for the most common interval. */
static void
note_step(struct flux_report *r, int64_t ts)
{
	int64_t	d = ts > r->prev_ts ? ts - r->prev_ts : r->prev_ts - ts;
	int	dir = ts > r->prev_ts ? 1 : -1, i;

	if (d == 0)
		return;
	if (r->direction == 0)
		r->direction = dir;
	else if (r->direction != dir)
		r->stats.ordered = 0;
	for (i = 0; i < INTERVALS && r->ivn[i] != 0; i++)
		if (r->iv[i] == d) {
			r->ivn[i]++;
			return;
		}
	if (i < INTERVALS) {
		r->iv[i] = d;
		r->ivn[i] = 1;
	}
}

/* A complete data record: check it, read its date, hand it on. */
static void
data_row(struct flux_report *r)
{
	char		q[QUOTE_MAX + 1];
	const char	*why;
	int64_t		 ts;

	if (r->nonempty == 0)
		return;		/* ",,," lines that spreadsheets leave at the end */
	if (r->nfields != r->spec.ncolumns) {
		fail(r, "row %llu: %zu fields, expected %zu",
		    (unsigned long long)r->record_line, r->nfields, r->spec.ncolumns);
		return;
	}
	if (flux_date_parse(r->date_cell ? &r->sheet_date : &r->date,
	    r->date_text, &ts, &why) == -1) {
		quote(q, r->date_text, strlen(r->date_text));
		fail(r, "row %llu: %s '%s'", (unsigned long long)r->record_line, why, q);
		return;
	}
	if (r->stats.rows++ == 0)
		r->stats.first_ts = ts;
	else
		note_step(r, ts);
	r->prev_ts = r->stats.last_ts = ts;
	if (r->row(r->ctx, r->record_line, ts, r->values) == -1)
		fail(r, "row %llu: stopped", (unsigned long long)r->record_line);
}

/* libcsv: the end of a record. */
static void
on_record(int c, void *data)
{
	struct flux_report	*r = data;
	size_t			 i;

	(void)c;
	if (!r->failed && r->records == (uint64_t)r->spec.header_row &&
	    r->nfields != r->spec.ncolumns)
		fail(r, "row %llu: the header has %zu columns, columns_to_metrics "
		    "names %zu", (unsigned long long)r->record_line, r->nfields,
		    r->spec.ncolumns);
	else if (!r->failed && r->records > (uint64_t)r->spec.header_row)
		data_row(r);
	r->records++;
	r->nfields = r->nonempty = 0;
	r->date_text[0] = '\0';
	r->date_cell = 0;
	r->record_line = 0;
	for (i = 0; i < r->spec.ncolumns; i++)
		r->values[i] = NAN;
}

struct flux_report *
flux_report_new(const struct flux_report_spec *spec, flux_report_row row,
    void *ctx)
{
	struct flux_report	*r;
	size_t			 i;

	if (spec->ncolumns == 0 || spec->date_column >= spec->ncolumns ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->spec = *spec;
	r->row = row;
	r->ctx = ctx;
	r->line = 1;
	r->stats.ordered = 1;
	flux_date_init(&r->date, spec->date_format);
	flux_date_init(&r->sheet_date, NULL);
	r->values = malloc(spec->ncolumns * sizeof(*r->values));
	r->col_error = calloc(spec->ncolumns, sizeof(*r->col_error));
	for (i = 0; r->values != NULL && i < spec->ncolumns; i++)
		r->values[i] = NAN;
	if (r->values == NULL || r->col_error == NULL ||
	    csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		free(r->values);
		free(r->col_error);
		free(r);
		return NULL;
	}
	return r;
}

/* Does a line segment hold anything but blanks (so a record starts on it)? */
static int
has_content(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 1;
	return 0;
}

/* Hand one segment (at most one line, its LF included) to libcsv. */
static int
parse_segment(struct flux_report *r, const char *p, size_t n)
{
	if (r->record_line == 0 && has_content(p, n))
		r->record_line = r->line;
	if (csv_parse(&r->csv, p, n, on_field, on_record, r) != n)
		return fail(r, "row %llu: malformed CSV (%s)",
		    (unsigned long long)(r->record_line ? r->record_line : r->line),
		    csv_strerror(csv_error(&r->csv)));
	if (r->csv.entry_pos > FLUX_REPORT_FIELD_MAX)
		return fail(r, "row %llu: a field longer than %d bytes",
		    (unsigned long long)r->record_line, FLUX_REPORT_FIELD_MAX);
	return r->failed ? -1 : 0;
}

/* Split bytes into lines: skipped ones are dropped, the rest parsed. */
static int
feed_lines(struct flux_report *r, const char *buf, size_t n)
{
	const char	*nl;
	size_t		 seg;

	while (n > 0) {
		nl = memchr(buf, '\n', n);
		seg = nl ? (size_t)(nl - buf) + 1 : n;
		if (r->skipped < r->spec.skip_rows) {
			if (nl != NULL)
				r->skipped++;
		} else if (parse_segment(r, buf, seg) == -1)
			return -1;
		if (nl != NULL)
			r->line++;
		buf += seg;
		n -= seg;
	}
	return 0;
}

/*
 * Feed the next n bytes of the file; -1 once the file has failed. A BOM
 * at the very start is dropped, even when it arrives split across feeds.
 */
int
flux_report_feed(struct flux_report *r, const char *buf, size_t n)
{
	size_t	had;

	if (r->failed)
		return -1;
	r->bytes += n;
	while (r->bom_seen < 3 && n > 0) {
		if (*buf == bom[r->bom_seen]) {
			r->bom_seen++;
			buf++;
			n--;
			continue;
		}
		/* Not a BOM after all: what looked like one is data. */
		had = r->bom_seen;
		r->bom_seen = 3;
		if (had > 0 && feed_lines(r, bom, had) == -1)
			return -1;
	}
	return feed_lines(r, buf, n);
}

/* ------------------------------------------------------- spreadsheets -- */

/*
 * A typed cell of a data record: a number is the value itself, a date
 * cell is a date (its text read with the built-in layouts, whatever
 * date_format says, since the cell already is a date) and no value.
 */
static void
on_typed(struct flux_report *r, const struct flux_cell *c)
{
	size_t	i = r->nfields++;
	char	num[FLUX_DBLLEN];

	if (r->records <= (uint64_t)r->spec.header_row || i >= r->spec.ncolumns)
		return;
	r->nonempty++;
	if (c->type == FLUX_CELL_NUMBER && (i == r->spec.date_column ||
	    !isfinite(c->number))) {
		/* Whole numbers without ".0", so Unix seconds read as such. */
		if (fabs(c->number) < 1e15 && c->number == floor(c->number))
			snprintf(num, sizeof(num), "%.0f", c->number);
		else
			flux_fmt_double(c->number, num);
	}
	if (i == r->spec.date_column) {
		snprintf(r->date_text, sizeof(r->date_text), "%s",
		    c->type == FLUX_CELL_DATE ? c->text : num);
		r->date_cell = c->type == FLUX_CELL_DATE;
	} else if (c->type == FLUX_CELL_DATE)
		column_fail(r, i, c->text, c->len);
	else if (!isfinite(c->number))
		column_fail(r, i, num, strlen(num));
	else
		r->values[i] = c->number;
}

/*
 * One cell of a spreadsheet (row 1-based, col 0-based); cells come in
 * reading order and missing ones are empty. Rows up to skip_rows are
 * skipped as CSV lines are; then each cell is a field, the row's fields
 * ending with its last non-empty cell. -1 once the file has failed.
 */
int
flux_report_cell(struct flux_report *r, uint64_t row, size_t col,
    struct flux_cell *c)
{
	if (r->failed)
		return -1;
	r->bytes++;
	/* As in a CSV field (on_field), in any row, skipped ones included. */
	if (c->type != FLUX_CELL_NUMBER && memchr(c->text, '\0', c->len) != NULL)
		return fail(r, "row %llu, column %zu: NUL byte in field",
		    (unsigned long long)row, col + 1);
	if (row <= (uint64_t)r->spec.skip_rows)
		return 0;
	if (c->type != FLUX_CELL_NUMBER) {
		c->text = (char *)trim(c->text, &c->len);
		if (c->len == 0)
			return 0;
	}
	r->record_line = row;
	r->row_cells++;
	r->nfields = col;
	if (c->type == FLUX_CELL_TEXT)
		on_field(c->text, c->len, r);
	else
		on_typed(r, c);
	return r->failed ? -1 : 0;
}

/*
 * The end of a spreadsheet row. A row without a non-empty cell is no
 * record, as an empty line is not; a data row narrower than the header
 * ends in empty cells, which a sheet leaves out rather than writes.
 */
int
flux_report_row_end(struct flux_report *r, uint64_t row)
{
	if (r->failed)
		return -1;
	if (row <= (uint64_t)r->spec.skip_rows || r->row_cells == 0)
		return 0;
	r->row_cells = 0;
	if (r->records > (uint64_t)r->spec.header_row &&
	    r->nfields < r->spec.ncolumns)
		r->nfields = r->spec.ncolumns;
	on_record(0, r);
	return r->failed ? -1 : 0;
}

/* ------------------------------------------------------------- finish -- */

/* The most common step between rows (the smaller one on a tie). */
static int64_t
mode_interval(const struct flux_report *r)
{
	int64_t		best = 0;
	uint64_t	count = 0;
	int		i;

	for (i = 0; i < INTERVALS && r->ivn[i] != 0; i++)
		if (r->ivn[i] > count || (r->ivn[i] == count && r->iv[i] < best)) {
			best = r->iv[i];
			count = r->ivn[i];
		}
	return best;
}

/* The file has ended: flush the last record, then judge the whole file. */
int
flux_report_finish(struct flux_report *r)
{
	if (!r->failed && r->bom_seen > 0 && r->bom_seen < 3)
		feed_lines(r, bom, r->bom_seen);
	if (!r->failed && csv_fini(&r->csv, on_field, on_record, r) != 0)
		fail(r, "row %llu: malformed CSV (%s)",
		    (unsigned long long)(r->record_line ? r->record_line : r->line),
		    csv_strerror(csv_error(&r->csv)));
	r->stats.interval = mode_interval(r);
	if (r->failed)
		return -1;
	if (r->bytes == 0)
		return fail(r, "empty file");
	if (r->records <= (uint64_t)r->spec.header_row)
		return fail(r, "no header row (the file has %llu records after "
		    "skip_rows)", (unsigned long long)r->records);
	if (r->stats.rows == 0)
		return fail(r, "no data rows");
	return 0;
}

/* Why the file failed (valid after -1 from feed or finish). */
const char *
flux_report_error(const struct flux_report *r)
{
	return r->failed ? r->error : NULL;
}

/* NULL, or why column col failed ("row N: invalid value '...'"). */
const char *
flux_report_column_error(const struct flux_report *r, size_t col)
{
	return r->col_error[col];
}

const struct flux_report_stats *
flux_report_stats(const struct flux_report *r)
{
	return &r->stats;
}

void
flux_report_free(struct flux_report *r)
{
	size_t	i;

	if (r == NULL)
		return;
	csv_free(&r->csv);
	for (i = 0; i < r->spec.ncolumns; i++)
		free(r->col_error[i]);
	free(r->col_error);
	free(r->values);
	free(r);
}
