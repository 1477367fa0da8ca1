/*
 * populate.c - the "populate" job of flux-batch (SPEC 7): run the jobs
 * that populate_metric queued. Each job's URLs are fetched from the remote
 * Graphite or Prometheus, the points newer than the metric's last known
 * timestamp are resampled to 1-minute bins and delivered to carbon (or
 * spooled, like the live path), and flux.last.<metric> moves forward.
 *
 * A job is leased to this node before it runs (store.h) and its lease is
 * renewed while it runs: while answers come in, between the local
 * lookups, between deliveries. It ends only when the job is done, queued
 * again or given up, so a run killed in the middle loses nothing: this
 * node's next run puts the job back at once (it holds the node's lock, so
 * the killed run is over), another node's once the lease has run out.
 * Runs on several nodes at once never take the same job. Every start
 * counts as an attempt, a killed run's included, so a job that kills its
 * run cannot come back forever.
 *
 * A run has FLUX_BATCH_POPULATE_SECONDS: it takes no job after that, and
 * a job whose answers have not all come by then goes back to the queue
 * with its attempt counted, so hanging remotes cannot keep the uploads
 * and the next runs waiting. A job's URLs are fetched side by side
 * (FLUX_POPULATE_PARALLEL at a time), each answer parsed as it arrives
 * into 1-minute bins of its own (series.h), which join the job's bins
 * once the answer has come whole: memory follows the minutes covered,
 * not the number or size of the answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "deliver.h"
#include "fetch.h"
#include "log.h"
#include "metric.h"
#include "popjob.h"
#include "series.h"
#include "store.h"
#include "util.h"
#include "xalloc.h"

/* Skyline gave the local render API 10 s to answer (5 s to connect). */
#define LOCAL_TOTAL_MS 10000

/* Where the local Graphite is asked for the newest point, in turn (SPEC 7). */
static const char *const local_windows[] = {
	"-50mins", "-6hours", "-24hours", "-7days", "-30days", "-90days",
};

/* One run of the job: its connections, counters and deadline. */
struct run {
	const struct flux_conf	*conf;
	const char		*node;		/* this node's id (batch.h) */
	struct flux_store	*store;
	struct flux_fetch	*remote;
	struct flux_fetch	*local;
	int			 dryrun;
	size_t			 done;
	size_t			 failed;
	int64_t			 deadline;	/* monotonic ms */
	size_t			 points;	/* delivered or spooled */
	struct flux_store_lease	*lease;		/* the job's; NULL: none */
	const char		*metric;	/* the job's, for messages */
	int			 lost;		/* another node took the job */
};

enum result {
	R_DONE,		/* delivered or spooled (or nothing new), flux.last set */
	R_RETRY,	/* nothing delivered: try again on a later run */
	R_PARTIAL	/* last attempt: what was fetched went, some URLs failed */
};

/*
 * What a job fetched: the bins of its answers, then the bins kept; how
 * many answers failed, whether the deadline cut one, and why (the first
 * reason, the one that will be shown).
 */
struct haul {
	struct flux_bins	bins;
	struct flux_series	series;
	size_t			points, dropped, ignored;
	size_t			urls_failed;
	int			cut;
	char			why[FLUX_ERRLEN];
};

/* One answer on its way in: its parser, its bins and what it may keep. */
struct answer {
	const struct flux_popjob	*job;
	struct haul			*haul;
	struct flux_series_parser	*parser;
	struct flux_bins		 bins;
	int64_t				 after, before;
};

/* Seconds on a monotonic clock, for the progress lines. */
static double
mono(void)
{
	return (double)flux_clock_ms(CLOCK_MONOTONIC) / 1e3;
}

/* "None" (Python's str(None), as Vista sends it) and "" mean absent. */
static const char *
given(const char *s)
{
	return (s == NULL || *s == '\0' || strcmp(s, "None") == 0) ? NULL : s;
}

/*
 * The total time allowed per remote request: SPEC 7's 30 s, unless the
 * environment says otherwise (FLUX_FETCH_TIMEOUT_MS, a test hook like
 * FLUX_NOW, so tests of slow remotes need not wait 30 s).
 */
static long
remote_total_ms(void)
{
	const char	*s = getenv("FLUX_FETCH_TIMEOUT_MS");
	int64_t		 v;

	if (s != NULL && flux_parse_i64(s, 1, 3600000, &v) == 0)
		return (long)v;
	return FLUX_FETCH_TOTAL_MS;
}

/* Renew the running job's lease when due; -1 once it is lost (batch.h). */
static int
keep_lease(struct run *r)
{
	char	what[FLUX_ERRLEN];

	snprintf(what, sizeof(what), "populate '%s'", r->metric ? r->metric : "?");
	return batch_lease_keep(r->store, r->lease, &r->lost, what);
}

/* keep_lease as flux_fetch's tick, while answers come in. */
static int
fetch_tick(void *ctx)
{
	return keep_lease(ctx);
}

/* The local render URL of metric for one window. Caller frees. */
static char *
local_url(const struct flux_conf *c, const char *metric, const char *from)
{
	struct flux_buf	 b = { 0 };
	const char	*uri = c->graphite_render_uri;
	char		*target = flux_fetch_escape(metric);

	while (*uri == '/')
		uri++;
	if (target == NULL || flux_buf_printf(&b, "%s://%s:%lld/%s?target=%s"
	    "&format=json&from=%s", c->graphite_protocol, c->graphite_host,
	    (long long)c->graphite_port, uri, target, from) == -1)
		flux_buf_free(&b);
	free(target);
	return b.ptr;
}

/* The newest timestamp of one local answer; 1 found, 0 none, -1 failed. */
static int
local_window(struct run *r, const char *url, int64_t *last, char err[])
{
	struct flux_series	s = { 0 };
	struct flux_buf		body = { 0 };
	size_t			i;
	int			rc = -1;

	if (flux_fetch_get(r->local, url, NULL, &body, err) == 0 &&
	    flux_series_graphite(body.ptr, body.len, &s, err) == 0) {
		for (i = 0, rc = 0; i < s.n; i++)
			if (rc == 0 || s.v[i].ts > *last) {
				*last = s.v[i].ts;
				rc = 1;
			}
	}
	flux_series_free(&s);
	flux_buf_free(&body);
	return rc;
}

/*
 * No flux.last: ask the local Graphite for the newest non-null point of
 * the first window that has one (Skyline's populate_metric_worker). A
 * failed window is skipped like an empty one; returns 1 found, else 0.
 */
static int
local_last(struct run *r, const char *metric, int64_t *last)
{
	char	 err[FLUX_ERRLEN], first[FLUX_ERRLEN] = "", *url;
	size_t	 i;
	int	 rc = 0;

	/* Unset by default: never guess, it could be our own Apache. */
	if (*r->conf->graphite_host == '\0') {
		flux_info("populate '%s': no local graphite to ask for the last "
		    "timestamp (GRAPHITE_HOST is not set); taking every point fetched",
		    metric);
		return 0;
	}
	for (i = 0; rc != 1 && i < sizeof(local_windows) / sizeof(local_windows[0]); i++) {
		if (keep_lease(r) == -1)
			return 0;
		if ((url = local_url(r->conf, metric, local_windows[i])) == NULL) {
			flux_errf(first, "out of memory");
			break;
		}
		rc = local_window(r, url, last, err);
		if (rc == -1 && first[0] == '\0')
			flux_errf(first, "%s", err);
		free(url);
	}
	if (rc != 1 && first[0] != '\0')
		flux_warn("populate '%s': local graphite lookup failed: %s; taking "
		    "every point fetched", metric, first);
	return rc == 1;
}

/* The last timestamp the metric has: flux.last, else the local Graphite. */
static int
last_known(struct run *r, const char *metric, int64_t *last, int *known,
    char err[])
{
	int64_t	ts;

	if (flux_store_last_get(r->store, &metric, 1, &ts, err) == -1)
		return -1;
	*known = ts >= 0;
	if (*known)
		*last = ts;
	else
		*known = local_last(r, metric, last);
	if (*known)
		flux_info("populate '%s': last timestamp %lld", metric,
		    (long long)*last);
	else
		flux_info("populate '%s': no last timestamp, new metric", metric);
	return 0;
}

/* The parser's sample: into the answer's bins when it may be kept. */
static int
to_bins(void *ctx, int64_t ts, double value, char err[])
{
	struct answer	*a = ctx;

	if (ts <= a->after || ts >= a->before)
		return 0;
	return flux_bins_add(&a->bins, ts, value, err);
}

/* A chunk of an answer, as it arrives. */
static int
feed(void *ctx, const char *p, size_t n, char err[])
{
	struct answer	*a = ctx;

	return flux_series_parser_feed(a->parser, p, n, err);
}

/* One failed URL: logged, counted, the first reason kept. */
static void
url_failed(const struct flux_popjob *j, struct haul *h, int cut,
    const char *err)
{
	flux_err("populate '%s': %s", j->metric, err);
	h->cut |= cut;
	if (h->urls_failed++ == 0)
		flux_errf(h->why, "%s", err);
}

/* An answer the parser refused: say whose, of what type and size. */
static void
bad_answer(const struct flux_popjob *j, struct flux_fetch_req *q,
    const char *why, struct haul *h)
{
	char	err[FLUX_ERRLEN], shown[512];

	flux_fetch_redact(q->url, shown, sizeof(shown));
	flux_errf(err, "bad answer from '%s' (%.100s, %zu bytes): "
	    "%.1024s", shown, *q->ctype ? q->ctype : "no content type", q->bytes,
	    why);
	url_failed(j, h, 0, err);
}

/* A fetched answer: parse its end, log it, add its bins to the job's. */
static void
take_answer(const struct flux_popjob *j, struct flux_fetch_req *q,
    struct answer *a, struct haul *h)
{
	char	err[FLUX_ERRLEN], shown[512];
	size_t	pts, drop, ign;

	flux_fetch_redact(q->url, shown, sizeof(shown));
	if (flux_series_parser_finish(a->parser, err) == -1) {
		bad_answer(j, q, err, h);
		return;
	}
	if (flux_bins_merge(&h->bins, &a->bins, err) == -1) {
		url_failed(j, h, 0, err);
		return;
	}
	flux_series_parser_counts(a->parser, &pts, &drop, &ign);
	h->points += pts;
	h->dropped += drop;
	h->ignored += ign;
	flux_info("populate '%s': fetched '%s': %zu points, %zu null or "
	    "non-finite dropped (%zu bytes in %.3f s)", j->metric, shown, pts,
	    drop, q->bytes, q->secs);
}

/* An answer ended: its bins join the job's, or its failure is told. */
static void
answer_done(void *ctx, struct flux_fetch_req *q)
{
	struct answer	*a = ctx;

	if (q->refused)
		bad_answer(a->job, q, q->err, a->haul);
	else if (q->failed)
		url_failed(a->job, a->haul, q->cut, q->err);
	else
		take_answer(a->job, q, a, a->haul);
	flux_series_parser_free(a->parser);
	a->parser = NULL;
	flux_bins_free(&a->bins);
}

/*
 * Fetch every URL of j side by side, each answer parsed into bins of its
 * own as it arrives and added to the job's as soon as it has come whole;
 * keep only samples after `after` and before `before`. Each failure is
 * logged.
 */
static void
fetch_all(struct run *r, const struct flux_popjob *j, int64_t after,
    int64_t before, struct haul *h)
{
	struct flux_fetch_auth	 auth = { given(j->user), given(j->password),
	    given(j->token) };
	struct flux_fetch_req	*q;
	struct answer		*a;
	enum flux_series_kind	 kind = j->type == FLUX_REMOTE_GRAPHITE ?
	    FLUX_SERIES_GRAPHITE : FLUX_SERIES_PROMETHEUS;
	char			 err[FLUX_ERRLEN], shown[512];
	size_t			 i, n = 0;

	q = xcalloc(j->urls.n, sizeof(*q));
	a = xcalloc(j->urls.n, sizeof(*a));
	for (i = 0; i < j->urls.n; i++) {
		if (!flux_fetch_host_allowed(&r->conf->populate_hosts, j->urls.v[i])) {
			flux_fetch_redact(j->urls.v[i], shown, sizeof(shown));
			flux_errf(err, "'%s' not fetched: its host is not in "
			    "FLUX_POPULATE_ALLOWED_HOSTS", shown);
			url_failed(j, h, 0, err);
			continue;
		}
		a[n] = (struct answer){ j, h, flux_series_parser_new(kind, to_bins,
		    &a[n]), { NULL, 0, 0 }, after, before };
		q[n] = (struct flux_fetch_req){ .url = j->urls.v[i], .auth = &auth,
		    .on_data = feed, .on_done = answer_done, .ctx = &a[n] };
		if (a[n].parser == NULL)
			break;
		n++;
	}
	if (i < j->urls.n)
		url_failed(j, h, 0, "out of memory");
	else if (flux_fetch_many(r->remote, q, n, (size_t)r->conf->populate_parallel,
	    r->deadline, err) == -1)
		url_failed(j, h, 0, err);
	for (i = 0; i < n; i++) {
		flux_series_parser_free(a[i].parser);
		flux_bins_free(&a[i].bins);
	}
	if (h->ignored > 0)
		flux_warn("populate '%s': answers held %zu more series; only the "
		    "first of each was used", j->metric, h->ignored);
	free(q);
	free(a);
}

/*
 * Keep the bins that are new and complete, in time order. Samples after
 * the last timestamp and not beyond now + FLUX_MAX_FUTURE (now when the
 * fetching began) were kept as they came; "now" for the current minute is
 * read here, after fetching (SPEC 7): the current minute is the one the
 * points are filtered in, and its bin is whole or dropped whole. There is
 * no FLUX_MAX_AGE limit (history is the point of the job). A bin labelled
 * at or before an unaligned last would overwrite it: it goes too.
 */
static int
select_bins(struct run *r, struct haul *h, int64_t after)
{
	int64_t	now = flux_now(), before = INT64_MAX;

	if (r->conf->vista_no_current_minute)
		before = now - now % FLUX_BIN_SECONDS;
	return flux_bins_select(&h->bins, after, before, &h->series);
}

/*
 * Every bin of s to carbon (or the spool), in chunks whose points borrow
 * the metric's name.
 */
static int
deliver(struct run *r, const char *metric, const struct flux_series *s,
    struct flux_delivery *d, char why[])
{
	struct flux_points	c = { 0 };
	char			err[FLUX_ERRLEN];
	size_t			i;

	if (!d->conf->send_to_carbon) {
		flux_info("populate '%s': FLUX_SEND_TO_CARBON is false: %zu points "
		    "not sent", metric, s->n);
		return 0;
	}
	c.cap = s->n < FLUX_DELIVER_CHUNK ? s->n : FLUX_DELIVER_CHUNK;
	c.v = xcalloc(c.cap, sizeof(*c.v));
	for (i = 0; i < s->n; i++) {
		c.v[c.n++] = (struct flux_point){ (char *)metric, s->v[i].ts,
		    s->v[i].value, 1, FLUX_PT_ACCEPT };
		if (c.n < c.cap && i + 1 < s->n)
			continue;
		/* Lost meanwhile: another run has the job now, and delivers it. */
		if (keep_lease(r) == -1) {
			free(c.v);
			return flux_errf(why, "the job's lease was lost");
		}
		if (flux_deliver(d, &c, err) == -1) {
			free(c.v);
			return flux_errf(why, "%.4096s; %zu points neither delivered "
			    "nor spooled", err, c.n);
		}
		c.n = 0;
	}
	free(c.v);
	return 0;
}

/* Deliver the selected bins and move flux.last to the last one. */
static int
send_bins(struct run *r, const struct flux_popjob *j,
    const struct flux_series *s, struct flux_delivery *d, char why[])
{
	const struct flux_sample	*lastbin = s->n ? &s->v[s->n - 1] : NULL;

	if (r->dryrun) {
		flux_info("populate '%s': dry run: would send %zu points", j->metric,
		    s->n);
		return 0;
	}
	if (deliver(r, j->metric, s, d, why) == -1)
		return -1;
	if (lastbin != NULL && flux_store_last_advance(r->store,
	    (const char *const *)&j->metric, &lastbin->ts, &lastbin->value, 1,
	    why) == -1)
		return -1;
	if (flux_popjob_mark_known(r->store, j->remote_target, why) == -1)
		flux_warn("populate '%s': %s", j->metric, why);
	return 0;
}

/* Why a job's fetching failed: the first reason, and how many URLs. */
static void
fetch_why(const struct flux_popjob *j, const struct haul *h, char why[])
{
	if (h->urls_failed == j->urls.n || h->urls_failed == 0)
		flux_errf(why, "%s", h->why);
	else
		flux_errf(why, "%zu of %zu URLs failed: %.4096s",
		    h->urls_failed, j->urls.n, h->why);
}

/* Run one job: fetch, select, deliver. why says what failed. */
static enum result
populate(struct run *r, const struct flux_popjob *j, char why[])
{
	struct haul		*h;
	char			 who[FLUX_NAME_MAX + 16];
	struct flux_delivery	 d = { r->conf, who, &batch_stats, 0, 0, 0, NULL };
	int64_t			 last = 0, after;
	double			 t0;
	int			 known = 0, last_try;
	enum result		 res = R_RETRY;

	last_try = j->attempts >= FLUX_POPJOB_MAX_ATTEMPTS;
	h = xcalloc(1, sizeof(*h));
	snprintf(who, sizeof(who), "populate '%s'", j->metric);
	if (last_known(r, j->metric, &last, &known, why) == -1)
		goto done;
	after = known ? last : -1;
	fetch_all(r, j, after, flux_now() + r->conf->max_future + 1, h);
	fetch_why(j, h, why);
	/*
	 * Some answers missing: retry while attempts remain (see SPEC 7); an
	 * answer the run's time cut off is always tried again.
	 */
	if (h->urls_failed == j->urls.n || (h->urls_failed > 0 && !last_try) ||
	    h->cut)
		goto done;
	if (select_bins(r, h, after) == -1) {
		flux_errf(why, "out of memory");
		goto done;
	}
	flux_bins_free(&h->bins);
	t0 = mono();
	if (send_bins(r, j, &h->series, &d, why) == -1)
		goto done;
	r->points += d.sent + d.spooled;
	if (!r->dryrun)
		flux_stats_add(&batch_stats, FLUX_STAT_POPULATE_POINTS,
		    (int64_t)(d.sent + d.spooled));
	flux_info("populate '%s': %zu of %zu URLs fetched, %zu points, %zu bins "
	    "kept, %zu sent, %zu spooled (delivery %.3f s)", j->metric,
	    j->urls.n - h->urls_failed, j->urls.n, h->points, h->series.n, d.sent,
	    d.spooled, mono() - t0);
	res = h->urls_failed > 0 ? R_PARTIAL : R_DONE;
done:
	flux_bins_free(&h->bins);
	flux_series_free(&h->series);
	free(h);
	return res;
}

/* End the job's lease: done, queued again or running on (store.h). */
static int
end_job(struct run *r, enum flux_queue_next how, const char *next)
{
	char	err[FLUX_ERRLEN];
	int	rc;

	if (r->lost)
		return 0;
	if ((rc = flux_popjob_end(r->store, r->lease, how, next, err)) == -1)
		flux_err("populate: %s", err);
	else if (rc == 1) {
		r->lost = 1;
		flux_warn("populate '%s': its lease ran out and another run took it; "
		    "leaving it to that run", r->metric ? r->metric : "?");
	}
	return rc == -1 ? -1 : 0;
}

/*
 * After a failed attempt: queue the job again with the reason, or drop it
 * once it has had its attempts. Either way the job counts as failed.
 */
static int
retry_or_drop(struct run *r, struct flux_popjob *j, const char *why)
{
	char	*next;
	int	 rc;

	r->failed++;
	if (j->attempts >= FLUX_POPJOB_MAX_ATTEMPTS) {
		flux_stats_add(&batch_stats, FLUX_STAT_POPULATE_DROPPED, 1);
		flux_err("populate '%s': dropped after %lld attempts: %s", j->metric,
		    (long long)j->attempts, why);
		return end_job(r, FLUX_QUEUE_DONE, NULL);
	}
	flux_stats_add(&batch_stats, FLUX_STAT_POPULATE_FAILED, 1);
	flux_warn("populate '%s': attempt %lld of %d failed, queued again: %s",
	    j->metric, (long long)j->attempts, FLUX_POPJOB_MAX_ATTEMPTS, why);
	if (flux_popjob_set_error(j, why) == -1 ||
	    (next = flux_popjob_encode(j)) == NULL) {
		flux_err("populate: cannot encode a job: out of memory");
		return -1;
	}
	rc = end_job(r, FLUX_QUEUE_AGAIN, next);
	free(next);
	return rc;
}

/* One job taken from the queue, its lease in r->lease. */
static int
process(struct run *r, const char *text)
{
	struct flux_popjob	 j;
	char			 why[FLUX_ERRLEN], *started = NULL;
	enum result		 res;
	int			 rc = -1;

	r->lost = 0;
	r->metric = NULL;
	if (flux_popjob_decode(text, &j, why) == -1) {
		r->failed++;
		flux_stats_add(&batch_stats, FLUX_STAT_POPULATE_DROPPED, 1);
		flux_err("populate: dropped an unreadable job: %s", why);
		rc = end_job(r, FLUX_QUEUE_DONE, NULL);
		goto done;
	}
	r->metric = j.metric;
	if (j.attempts >= FLUX_POPJOB_MAX_ATTEMPTS) {
		rc = retry_or_drop(r, &j, j.last_error ? j.last_error :
		    "the runs that took it were interrupted");
		goto done;
	}
	/* Count the attempt before it runs: a killed run has made one too. */
	j.attempts++;
	if ((started = flux_popjob_encode(&j)) == NULL) {
		flux_err("populate: cannot encode a job: out of memory");
		goto done;
	}
	if (end_job(r, FLUX_QUEUE_UPDATE, started) == -1)
		goto done;
	res = r->lost ? R_RETRY : populate(r, &j, why);
	if (r->lost)
		rc = 0;		/* another run has the job now */
	else if (res == R_DONE) {
		r->done++;
		flux_stats_add(&batch_stats, FLUX_STAT_POPULATE_DONE, 1);
		rc = end_job(r, FLUX_QUEUE_DONE, NULL);
	} else if (res == R_PARTIAL) {
		r->failed++;
		flux_stats_add(&batch_stats, FLUX_STAT_POPULATE_FAILED, 1);
		flux_err("populate '%s': completed without the answers that failed: "
		    "%s", j.metric, why);
		rc = end_job(r, FLUX_QUEUE_DONE, NULL);
	} else
		rc = retry_or_drop(r, &j, why);
done:
	r->metric = NULL;
	free(started);
	flux_popjob_free(&j);
	return rc;
}

/*
 * True once the run's time is spent: no job is taken after that, and the
 * log says how many wait for the next run.
 */
static int
spent(const struct run *r, long long waiting)
{
	if (flux_clock_ms(CLOCK_MONOTONIC) < r->deadline)
		return 0;
	flux_warn("populate: FLUX_BATCH_POPULATE_SECONDS (%lld s) spent; %lld "
	    "jobs wait for the next run", (long long)r->conf->populate_seconds,
	    waiting);
	return 1;
}

/* A dry run: every queued job fetched and reported, nothing changed. */
static int
run_dry(struct run *r)
{
	struct flux_list	jobs;
	struct flux_popjob	j;
	char			err[FLUX_ERRLEN];
	size_t			i;

	if (flux_popjob_list(r->store, &jobs, err) == -1) {
		flux_err("populate: %s", err);
		return -1;
	}
	for (i = 0; i < jobs.n && !spent(r, (long long)(jobs.n - i)); i++) {
		if (flux_popjob_decode(jobs.v[i], &j, err) == -1) {
			flux_err("populate: unreadable job: %s", err);
			r->failed++;
		} else if (populate(r, &j, err) != R_DONE) {
			flux_err("populate '%s': %s", j.metric, err);
			r->failed++;
		}
		flux_popjob_free(&j);
	}
	flux_list_free(&jobs);
	return 0;
}

/*
 * Lease the oldest job and run it: 1 run, 0 the queue is empty, -1 Redis
 * failed.
 */
static int
take_one(struct run *r)
{
	struct flux_store_lease	 lease;
	char			 err[FLUX_ERRLEN], *text;
	long long		 lapsed = 0;
	int			 rc;

	if (flux_popjob_take(r->store, r->node, r->conf->batch_lease_seconds * 1000,
	    &text, &lease, &lapsed, err) == -1) {
		flux_err("populate: %s", err);
		return -1;
	}
	if (lapsed > 0)
		flux_warn("populate: %lld jobs whose lease ran out queued again",
		    lapsed);
	if (text == NULL)
		return 0;
	r->lease = &lease;
	rc = process(r, text);
	r->lease = NULL;
	flux_store_lease_free(&lease);
	free(text);
	return rc == -1 ? -1 : 1;
}

/*
 * Put back what runs that died left (this node's at once, others' once
 * their lease has run out), then run each job queued now once.
 */
static int
run_queue(struct run *r)
{
	char		 err[FLUX_ERRLEN];
	long long	 moved = 0, n = 0, i;
	int		 rc = 1;

	if (flux_popjob_recover(r->store, r->node, &moved, err) == -1 ||
	    flux_popjob_pending(r->store, &n, err) == -1) {
		flux_err("populate: %s", err);
		return -1;
	}
	if (moved > 0)
		flux_warn("populate: %lld jobs left by an interrupted run queued again",
		    moved);
	/* Jobs queued again go to the head: taking n from the tail runs each once. */
	for (i = 0; i < n && rc == 1 && !spent(r, n - i); i++) {
		batch_progress("populate", (size_t)i, (size_t)n, "points",
		    (uint64_t)r->points, 0);
		rc = take_one(r);
	}
	if (n > 0) {
		batch_progress("populate", (size_t)i, (size_t)n, "points",
		    (uint64_t)r->points, 1);
		flux_info("populate: %zu jobs done, %zu failed", r->done, r->failed);
	}
	return rc == -1 ? -1 : 0;
}

int
job_populate(const struct flux_conf *c, int dryrun)
{
	struct run	r = { .conf = c, .node = batch_node(), .dryrun = dryrun,
	    .deadline = flux_clock_ms(CLOCK_MONOTONIC) + c->populate_seconds * 1000 };
	char		err[FLUX_ERRLEN];
	int		rc = -1;

	if ((r.store = flux_store_open(c, err)) == NULL ||
	    (r.remote = flux_fetch_open(FLUX_FETCH_CONNECT_MS, remote_total_ms(),
	    FLUX_FETCH_MAX_BYTES, 1, err)) == NULL ||
	    (r.local = flux_fetch_open(FLUX_FETCH_CONNECT_MS, LOCAL_TOTAL_MS,
	    FLUX_FETCH_MAX_BYTES, 0, err)) == NULL)
		flux_err("populate: %s", err);
	else {
		flux_fetch_set_deadline(r.local, r.deadline);
		flux_fetch_set_tick(r.remote, fetch_tick, &r);
		if (c->populate_hosts.n > 0)
			flux_fetch_no_redirects(r.remote);
		rc = dryrun ? run_dry(&r) : run_queue(&r);
	}
	flux_fetch_close(r.local);
	flux_fetch_close(r.remote);
	flux_store_close(r.store);
	return (rc == -1 || r.failed > 0) ? -1 : 0;
}
