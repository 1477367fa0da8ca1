/*
 * upfile.c - one report file of an upload (CSV, or a spreadsheet through
 * sheet.h), in two passes (SPEC 8 steps 3-4).
 *
 * Why two passes: nothing may be sent before the whole file is known to
 * be good (a ragged row or a bad date at the end fails the file, and a
 * bad cell anywhere fails its column, so sending as we read would leave
 * half a column in Graphite), and whether to resample depends on the most
 * common interval of all rows. Pass 1 parses and checks the file and
 * writes each row, already converted, to a spill file: a timestamp and
 * one double per column. Pass 2 reads the spill back and sends. Memory
 * stays constant whatever the file size (a row, the per-column state and
 * one chunk of points); the spill takes 8 bytes per cell on disk, in an
 * anonymous file that vanishes with the process.
 *
 * Resampling to one minute (mean or sum, bins labelled by their start)
 * is done per column in streaming order: a bin is complete when a row of
 * another minute arrives. That needs the rows in time order, up or down,
 * which pass 1 checks; a file that must be resampled but is not ordered
 * fails rather than being resampled wrongly. Without resampling order
 * does not matter: carbon files each point by its timestamp.
 *
 * De-duplication reads flux.last once per column before sending and
 * keeps points (or bins) newer than it; flux.last moves forward, to the
 * newest point of each chunk, only once the chunk is delivered or
 * spooled (SPEC 5, 6).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "deliver.h"
#include "fs.h"
#include "log.h"
#include "report.h"
#include "sheet.h"
#include "status.h"
#include "uploads.h"
#include "util.h"
#include "xalloc.h"

/* Bytes read from the file at a time. */
#define READ_BLOCK 262144
/* Rows between looks at the clock for progress. */
#define PROGRESS_EVERY 16384

struct column {
	const char	*metric;	/* NULL for the date column */
	const char	*name;		/* as in columns_to_metrics */
	const char	*error;		/* why it failed, or NULL */
	int64_t		 last;		/* flux.last before this file; -1 none */
	int		 have_bin;
	int64_t		 bin;
	double		 acc;
	uint64_t	 nacc;
	uint64_t	 sent, known, future, pending;
	int64_t		 top_ts;	/* newest point of the current chunk */
	double		 top_value;
	/* Older points are beyond carbon's retention (INT64_MIN: unknown). */
	int64_t		 oldest;
	uint64_t	 expired;
	struct flux_retention_rule rule;
};

/* One file on its way through both passes. */
struct file {
	struct up_upload	*u;
	const char		*name;
	struct column		*cols;
	size_t			 ncols;
	FILE			*spill;
	int			 resample;
	struct flux_points	 chunk;		/* names borrowed from cols */
	char			 error[FLUX_ERRLEN];
	char			*why;		/* the first failure: up_file()'s */
	int			 failed;
	struct timespec		 started, shown;
	uint64_t		 count;
};

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Progress on a terminal, at most twice a second: files, rows, points/s. */
static void
progress(struct file *f, const char *what, int last)
{
	struct timespec	now;
	double		secs;

	if (!f->u->job->tty || (!last && f->count % PROGRESS_EVERY != 0))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && elapsed(&f->shown, &now) < 0.5)
		return;
	f->shown = now;
	secs = elapsed(&f->started, &now);
	fprintf(stderr, "\r%s %s: %llu %s, %.0f %s/s ", f->u->id_key, f->name,
	    (unsigned long long)f->count, what, secs > 0 ? (double)f->count / secs : 0.0,
	    what);
	if (last)
		fputc('\n', stderr);
}

static void
progress_start(struct file *f)
{
	clock_gettime(CLOCK_MONOTONIC, &f->started);
	f->shown = f->started;
	f->count = 0;
}

/* ------------------------------------------------------------- pass 1 -- */

/* A row of the report, to the spill. */
static int
spill_row(void *ctx, uint64_t line, int64_t ts, const double *values)
{
	struct file	*f = ctx;

	(void)line;
	if (fwrite(&ts, sizeof(ts), 1, f->spill) != 1 ||
	    fwrite(values, sizeof(*values), f->ncols, f->spill) != f->ncols)
		return -1;
	f->count++;
	progress(f, "rows", 0);
	/* A long file keeps the upload's lease (a look at the clock). */
	if (f->count % PROGRESS_EVERY == 0 && up_keep(f->u) == -1)
		return -1;
	return 0;
}

/* An anonymous file beside the upload: gone when closed, or on a crash. */
static FILE *
open_spill(const char *dir)
{
	char	path[FLUX_PATH_MAX];
	FILE	*fp;
	int	fd;

	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) {
		if (snprintf(path, sizeof(path), "%s/.spill.XXXXXX", dir) >=
		    (int)sizeof(path) || (fd = mkstemp(path)) == -1)
			return NULL;
		unlink(path);
	}
	if ((fp = fdopen(fd, "w+")) == NULL)
		close(fd);
	return fp;
}

/* What pass 1 learnt: failed columns, and whether and how to resample. */
static int
pass1_done(struct file *f, const struct flux_report *r)
{
	const struct flux_report_stats	*st = flux_report_stats(r);
	const char			*e;
	size_t				 i;

	for (i = 0; i < f->ncols; i++)
		if (f->cols[i].metric != NULL &&
		    (e = flux_report_column_error(r, i)) != NULL)
			f->cols[i].error = xstrdup(e);
	f->resample = st->interval > 0 && st->interval < FLUX_BIN_SECONDS;
	if (f->resample && !st->ordered)
		return flux_errf(f->error, "rows are not in time order, "
		    "and the data (every %llds) must be resampled to 1 minute",
		    (long long)st->interval);
	if (fflush(f->spill) == EOF)
		return flux_errf(f->error, "cannot write the spill file: %s",
		    strerror(errno));
	return 0;
}

/* A CSV file, fed to the report as it is read; -1 with f->error. */
static int
read_csv(struct file *f, const char *path, struct flux_report *r)
{
	char	buf[READ_BLOCK];
	ssize_t	n;
	int	fd;

	if ((fd = flux_fs_open_file(path, f->error)) == -1)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0 &&
	    flux_report_feed(r, buf, (size_t)n) == 0)
		;
	if (n == -1)
		flux_errf(f->error, "cannot read: %s", strerror(errno));
	else if (n > 0)
		flux_errf(f->error, "%s", flux_report_error(r));
	close(fd);
	return n == 0 ? 0 : -1;
}

/* An xlsx or xls file, read cell by cell into the report (sheet.h). */
static int
read_sheet(struct file *f, const char *path, struct flux_report *r)
{
	const struct flux_upload_info	*in = &f->u->info;
	struct flux_sheet_spec		 spec = { in->sheet_name, in->sheet_index,
	    f->u->job->conf->max_extracted_bytes };
	char				 err[FLUX_ERRLEN];

	if ((in->format == FLUX_FMT_XLSX ? flux_xlsx_read(path, &spec, r, err) :
	    flux_xls_read(path, &spec, r, err)) == 0)
		return 0;
	return flux_errf(f->error, "%s", flux_report_error(r) ?
	    flux_report_error(r) : err);
}

/* Parse and check the file into the spill; -1 with f->error when it fails. */
static int
pass1(struct file *f, const char *path)
{
	const struct flux_upload_info	*in = &f->u->info;
	struct flux_report_spec		 spec = { in->skip_rows, in->header_row,
	    in->ncolumns, in->date_column, in->date_format };
	struct flux_report		*r;
	int				 rc;

	if ((r = flux_report_new(&spec, spill_row, f)) == NULL)
		return flux_errf(f->error, "out of memory");
	progress_start(f);
	rc = in->format == FLUX_FMT_CSV ? read_csv(f, path, r) :
	    read_sheet(f, path, r);
	if (ferror(f->spill)) {
		flux_errf(f->error, "cannot write the spill file");
		rc = -1;
	} else if (rc == 0 && flux_report_finish(r) == -1) {
		flux_errf(f->error, "%s", flux_report_error(r));
		rc = -1;
	} else if (rc == 0)
		rc = pass1_done(f, r);
	progress(f, "rows", 1);
	if (!f->u->job->dryrun)
		flux_stats_add(&batch_stats, FLUX_STAT_UPLOADS_ROWS,
		    (int64_t)f->count);
	flux_report_free(r);
	return rc;
}

/* ------------------------------------------------------------- pass 2 -- */

/*
 * Print what a dry run would send, in carbon's plaintext format. Built
 * with fputs: printf's format parsing was a fifth of a dry run's time.
 */
static void
print_chunk(const struct flux_points *p)
{
	char	num[FLUX_DBLLEN], ts[24], *t;
	size_t	i;
	int64_t	v;

	for (i = 0; i < p->n; i++) {
		flux_fmt_double(p->v[i].value, num);
		t = ts + sizeof(ts) - 1;
		*t = '\0';
		v = p->v[i].ts;		/* 0 .. 2^32: checked when parsed */
		do
			*--t = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		fputs(p->v[i].name, stdout);
		putchar(' ');
		fputs(num, stdout);
		putchar(' ');
		fputs(t, stdout);
		putchar('\n');
	}
}

/*
 * Deliver the chunk, or spool it (SPEC 6), through the run's delivery
 * (deliver.h); flush() then moves flux.last on.
 */
static int
deliver(struct file *f)
{
	struct flux_delivery	*d = &f->u->job->delivery;
	char			 err[FLUX_ERRLEN];

	if (f->u->dry) {
		print_chunk(&f->chunk);
		return 0;
	}
	if (!d->conf->send_to_carbon) {
		flux_info("upload %s: %zu points not sent (FLUX_SEND_TO_CARBON is "
		    "false)", f->u->id_key, f->chunk.n);
		return 0;
	}
	d->who = f->u->who;
	if (flux_deliver(d, &f->chunk, err) == 0)
		return 0;
	return flux_errf(f->error, "points could be neither delivered nor "
	    "spooled: %.4000s", err);
}

/* Move flux.last on to the newest point of the chunk, per column. */
static void
advance_last(struct file *f)
{
	const char	**names;
	int64_t		 *ts;
	double		 *vals;
	size_t		  i, n = 0;
	char		  err[FLUX_ERRLEN];

	if (f->u->dry || f->u->job->store == NULL)
		return;
	names = xcalloc(f->ncols, sizeof(*names));
	ts = xcalloc(f->ncols, sizeof(*ts));
	vals = xcalloc(f->ncols, sizeof(*vals));
	for (i = 0; i < f->ncols; i++)
		if (f->cols[i].pending > 0) {
			names[n] = f->cols[i].metric;
			ts[n] = f->cols[i].top_ts;
			vals[n++] = f->cols[i].top_value;
		}
	if (flux_store_last_advance(f->u->job->store, names, ts, vals, n,
	    err) == -1)
		flux_warn("upload %s: flux.last not updated: %s", f->u->id_key, err);
	free(names);
	free(ts);
	free(vals);
}

static int
flush(struct file *f)
{
	size_t	i;

	if (f->chunk.n == 0)
		return 0;
	if (up_keep(f->u) == -1 || deliver(f) == -1) {
		f->failed = 1;
		return -1;
	}
	advance_last(f);
	for (i = 0; i < f->ncols; i++) {
		f->cols[i].sent += f->cols[i].pending;
		f->cols[i].pending = 0;
	}
	if (!f->u->dry)
		f->u->submitted += (int64_t)f->chunk.n;
	f->chunk.n = 0;
	return 0;
}

/* One point (or bin) of a column: de-duplicated, bounded, chunked. */
static void
put(struct file *f, struct column *c, int64_t ts, double v)
{
	const struct up_job	*j = f->u->job;

	if (!f->u->info.ignore_submitted && c->last >= 0 && ts <= c->last) {
		c->known++;
		return;
	}
	if (ts > j->now + j->conf->max_future) {
		c->future++;
		return;
	}
	/* Whisper would drop it without a word: count it, say so, keep it out. */
	if (ts < c->oldest) {
		c->expired++;
		return;
	}
	if (f->chunk.n == FLUX_DELIVER_CHUNK && flush(f) == -1)
		return;
	f->chunk.v[f->chunk.n++] = (struct flux_point){ (char *)c->metric, ts, v,
	    1, FLUX_PT_ACCEPT };
	if (c->pending++ == 0 || ts > c->top_ts) {
		c->top_ts = ts;
		c->top_value = v;
	}
	f->count++;
	progress(f, "points", 0);
}

/* Close a column's current one-minute bin. */
static void
close_bin(struct file *f, struct column *c)
{
	if (!c->have_bin)
		return;
	put(f, c, c->bin, f->u->info.resample == FLUX_RS_SUM ? c->acc :
	    c->acc / (double)c->nacc);
	c->have_bin = 0;
}

/* One cell, raw or into its bin (bins labelled by their start). */
static void
take(struct file *f, struct column *c, int64_t ts, double v)
{
	int64_t	bin = ts - ts % FLUX_BIN_SECONDS;

	if (!f->resample) {
		put(f, c, ts, v);
		return;
	}
	if (c->have_bin && c->bin != bin)
		close_bin(f, c);
	if (!c->have_bin) {
		c->have_bin = 1;
		c->bin = bin;
		c->acc = 0;
		c->nacc = 0;
	}
	c->acc += v;
	c->nacc++;
}

/* flux.last of every column that will send, in one round trip. */
static void
load_last(struct file *f)
{
	const char	**names = xcalloc(f->ncols, sizeof(*names));
	int64_t		 *ts = xcalloc(f->ncols, sizeof(*ts));
	size_t		  i, n = 0;
	char		  err[FLUX_ERRLEN];

	for (i = 0; i < f->ncols; i++)
		f->cols[i].last = -1;
	if (f->u->info.ignore_submitted || f->u->job->store == NULL)
		goto done;
	for (i = 0; i < f->ncols; i++)
		if (f->cols[i].metric != NULL && f->cols[i].error == NULL)
			names[n++] = f->cols[i].metric;
	if (flux_store_last_get(f->u->job->store, names, n, ts, err) == -1) {
		flux_warn("upload %s: no de-duplication: %s", f->u->id_key, err);
		goto done;
	}
	for (i = 0, n = 0; i < f->ncols; i++)
		if (f->cols[i].metric != NULL && f->cols[i].error == NULL)
			f->cols[i].last = ts[n++];
done:
	free(names);
	free(ts);
}

/* Send what the spill holds; -1 with f->error when delivery failed. */
static int
pass2(struct file *f)
{
	double	*vals;
	int64_t	 ts;
	size_t	 i;

	if (fseek(f->spill, 0, SEEK_SET) == -1) {
		f->failed = 1;
		return flux_errf(f->error, "cannot read the spill file: %s",
		    strerror(errno));
	}
	vals = xcalloc(f->ncols, sizeof(*vals));
	f->chunk.v = xcalloc(FLUX_DELIVER_CHUNK, sizeof(*f->chunk.v));
	f->chunk.cap = FLUX_DELIVER_CHUNK;
	load_last(f);
	progress_start(f);
	while (!f->failed && fread(&ts, sizeof(ts), 1, f->spill) == 1 &&
	    fread(vals, sizeof(*vals), f->ncols, f->spill) == f->ncols)
		for (i = 0; i < f->ncols; i++)
			if (f->cols[i].metric != NULL && f->cols[i].error == NULL &&
			    !isnan(vals[i]))
				take(f, &f->cols[i], ts, vals[i]);
	for (i = 0; i < f->ncols && !f->failed; i++)
		close_bin(f, &f->cols[i]);
	if (!f->failed)
		flush(f);
	progress(f, "points", 1);
	free(vals);
	return f->failed ? -1 : 0;
}

/* ------------------------------------------------------------- status -- */

/*
 * A failure of the file (column NULL) or of one column: counted in the
 * upload; the first is the one up_file() returns (SPEC 8 step 5).
 */
static void
fail(struct file *f, const char *column, const char *why)
{
	f->u->failures++;
	if (f->why[0] != '\0')
		return;
	if (column != NULL)
		snprintf(f->why, FLUX_MSG_MAX, "%s: column %s: %s", f->name, column, why);
	else
		snprintf(f->why, FLUX_MSG_MAX, "%s: %s", f->name, why);
}

/* A completed column's line: what was sent and what was left out. */
static char *
column_line(const struct file *f, const struct column *c)
{
	struct flux_buf	b = { 0 };

	if (f->u->dry)
		flux_buf_printf(&b, "complete - dry run, %llu points not submitted",
		    (unsigned long long)c->sent);
	else if (c->sent > 0)
		flux_buf_printf(&b, "complete - %llu points submitted",
		    (unsigned long long)c->sent);
	else if (c->known > 0)
		flux_buf_printf(&b, "complete - no new timestamps, all already known");
	else
		flux_buf_printf(&b, "complete - no values");
	if (c->sent > 0 && c->known > 0)
		flux_buf_printf(&b, ", %llu already known", (unsigned long long)c->known);
	if (c->future > 0)
		flux_buf_printf(&b, ", %llu in the future dropped",
		    (unsigned long long)c->future);
	return b.ptr;
}

/*
 * A column with points older than carbon keeps: it failed, and the status
 * says why, what rule decided it and what was submitted all the same.
 */
static void
expired_line(struct file *f, const struct column *c, struct flux_buf *line)
{
	char	why[FLUX_ERRLEN], when[32];

	flux_upload_iso_time(c->oldest, when);
	flux_errf(why, "%llu points older than carbon keeps, not "
	    "sent (retentions %.128s of [%.128s] in '%.512s': nothing before %s)",
	    (unsigned long long)c->expired, c->rule.retentions, c->rule.section,
	    flux_retention_path(f->u->job->retention), when);
	flux_buf_printf(line, "failed - %s", why);
	if (c->sent > 0)
		flux_buf_printf(line, "; %llu points %s", (unsigned long long)c->sent,
		    f->u->dry ? "in the dry run" : "submitted");
	fail(f, c->name, why);
}

/* Record each column's outcome; returns the number that failed. */
static size_t
report_columns(struct file *f, uint64_t *sent)
{
	struct flux_buf	 key = { 0 }, line = { 0 };
	struct column	*c;
	size_t		 i, nfail = 0;
	char		*ok;

	for (i = 0; i < f->ncols; i++) {
		c = &f->cols[i];
		if (c->metric == NULL)
			continue;
		key.len = line.len = 0;
		flux_buf_printf(&key, "%s (%s)", c->name, f->name);
		*sent += c->sent;
		if (c->error != NULL || f->failed) {
			nfail++;
			flux_buf_printf(&line, "failed - %s", c->error ? c->error : f->error);
			if (f->failed && c->sent > 0)
				flux_buf_printf(&line, "; %llu points submitted before",
				    (unsigned long long)c->sent);
			fail(f, c->name, c->error ? c->error : f->error);
		} else if (c->expired > 0) {
			nfail++;
			expired_line(f, c, &line);
		} else if ((ok = column_line(f, c)) != NULL) {
			flux_buf_adds(&line, ok);
			free(ok);
			f->u->successes++;
		}
		if (key.ptr != NULL && line.ptr != NULL)
			flux_status_set_in(f->u->status, "columns", key.ptr, line.ptr);
	}
	flux_buf_free(&key);
	flux_buf_free(&line);
	return nfail;
}

/* The file's line in "files", and its columns' in "columns". */
static void
report(struct file *f, int parsed)
{
	struct flux_buf	line = { 0 };
	uint64_t	sent = 0;
	size_t		nfail, ndata = f->ncols - 1;

	if (!parsed) {
		flux_buf_printf(&line, "failed - %s", f->error);
		fail(f, NULL, f->error);
	} else if ((nfail = report_columns(f, &sent)) > 0)
		flux_buf_printf(&line, "partial - %llu points submitted, %zu of %zu "
		    "columns failed", (unsigned long long)sent, nfail, ndata);
	else
		flux_buf_printf(&line, "complete - %llu points %s",
		    (unsigned long long)sent, f->u->dry ? "in the dry run" : "submitted");
	if (line.ptr != NULL)
		flux_status_set_in(f->u->status, "files", f->name, line.ptr);
	flux_buf_free(&line);
}

/* Per-column state from info.json: the date column has no metric. */
static void
file_init(struct file *f, struct up_upload *u, const char *name, char why[])
{
	size_t	i, skip = strlen(u->info.ns) + 1;

	memset(f, 0, sizeof(*f));
	f->u = u;
	f->name = name;
	f->why = why;
	why[0] = '\0';
	f->ncols = u->info.ncolumns;
	f->cols = xcalloc(f->ncols, sizeof(*f->cols));
	for (i = 0; i < f->ncols; i++) {
		f->cols[i].metric = u->info.metrics[i];
		f->cols[i].name = f->cols[i].metric ? f->cols[i].metric + skip : "date";
		f->cols[i].oldest = INT64_MIN;
		if (f->cols[i].metric != NULL && u->job->retention != NULL) {
			flux_retention_of(u->job->retention, f->cols[i].metric,
			    &f->cols[i].rule);
			f->cols[i].oldest = u->job->now - f->cols[i].rule.seconds;
		}
	}
}

static void
file_free(struct file *f)
{
	size_t	i;

	for (i = 0; i < f->ncols; i++)
		free((char *)f->cols[i].error);
	free(f->cols);
	free(f->chunk.v);
	if (f->spill != NULL)
		fclose(f->spill);
}

/*
 * Process one report file of upload u: read it (pass 1), send it (pass 2),
 * record the outcome in u's status. The spill lives beside the upload.
 * 0, or -1 when the file or a column failed, the first failure in why
 * (FLUX_MSG_MAX bytes); u->failures counts them all.
 */
int
up_file(struct up_upload *u, const char *path, const char *name, char why[])
{
	struct file	f;
	int		parsed = 0;

	file_init(&f, u, name, why);
	if ((f.spill = open_spill(u->dir)) == NULL)
		flux_errf(f.error, "cannot create a spill file: %s",
		    strerror(errno));
	else if (pass1(&f, path) == 0) {
		parsed = 1;
		pass2(&f);
	}
	report(&f, parsed);
	file_free(&f);
	return why[0] != '\0' ? -1 : 0;
}
