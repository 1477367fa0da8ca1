/*
 * selfmetrics.c - what flux-batch does with Flux's self-metrics
 * (stats.h) at the end of a run: adds its own counts to this host's minute
 * in Redis, then sends every minute not yet sent, and the gauges of now
 * (spool backlog, populate queue, pending uploads), to carbon as Graphite
 * metrics under FLUX_SELF_METRICS_NAMESPACE (skyline.flux.<host> by
 * default, the shape of Skyline's own metrics), with Skyline's names for
 * the counts Skyline's Flux sent, so its dashboards keep working.
 *
 * A minute's count is one point at the minute's start. The minute under
 * way is sent as it stands and sent again by the next run, whose value
 * replaces it in whisper; a minute is marked sent (flux.stats.<host>.sent)
 * once it is over and carbon took it. Nothing here fails a run: a failure
 * is a warning, and the next run sends what this one could not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "carbon.h"
#include "health.h"
#include "log.h"
#include "spool.h"
#include "stats.h"
#include "status.h"
#include "store.h"

/* Minutes a run looks back at most: the life of a minute's hash. */
#define LOOKBACK_MINUTES 120

/* One count read back: the minute it belongs to, its field, its value. */
struct count {
	size_t		 minute;
	char		*field;
	long long	 value;
};

struct counts {
	struct count	*v;
	size_t		 n;
	int		 oom;
};

/*
 * Skyline's names (skyline/flux/listen.py, worker.py and
 * populate_metric_worker.py), each the sum of counts of ours.
 */
static const struct alias {
	const char	*skyline;
	const char	*ours[4];
} aliases[] = {
	{ "listen.added_to_queue",
	    { "metric_data.accepted", "metric_data_post.accepted" } },
	{ "listen.discarded.invalid_key",
	    { "metric_data.refused.key", "metric_data_post.refused.key" } },
	{ "listen.discarded.metric_name",
	    { "metric_data.refused.metric", "metric_data_post.refused.metric" } },
	{ "listen.discarded.invalid_timestamp",
	    { "metric_data.refused.timestamp",
	      "metric_data_post.refused.timestamp" } },
	{ "listen.discarded.invalid_value",
	    { "metric_data.refused.value", "metric_data_post.refused.value" } },
	{ "listen.discarded.invalid_parameters",
	    { "metric_data.refused.body", "metric_data_post.refused.body",
	      "metric_data_post.refused.json" } },
	{ "worker.metrics_sent_to_graphite",
	    { "metric_data.delivered", "metric_data_post.delivered",
	      "batch.flush.points" } },
	{ "worker.discarded.already_received",
	    { "metric_data.duplicates", "metric_data_post.duplicates" } },
	{ "populate_metric_worker.datapoints_sent_to_graphite",
	    { "batch.populate.points" } },
	{ "uploaded_data_worker.datapoints_sent_to_graphite",
	    { "batch.uploads.points" } },
};

static void
on_field(void *ctx, size_t minute, const char *name, const char *value)
{
	struct counts	*c = ctx;
	struct count	*v;
	int64_t		 n;

	if (flux_parse_i64(value, INT64_MIN / 2, INT64_MAX / 2, &n) == -1)
		return;		/* the delivery outcome: no count */
	if ((v = realloc(c->v, (c->n + 1) * sizeof(*v))) == NULL ||
	    (v[c->n].field = strdup(name)) == NULL) {
		if (v != NULL)
			c->v = v;
		c->oom = 1;
		return;
	}
	c->v = v;
	v[c->n].minute = minute;
	v[c->n++].value = n;
}

static void
on_record(void *ctx, const char *record)
{
	(void)ctx;
	(void)record;
}

/* The namespace: FLUX_SELF_METRICS_NAMESPACE, or skyline.flux.<host>. */
static void
namespace_of(const struct flux_conf *c, char *out, size_t len)
{
	if (*c->self_metrics_ns != '\0')
		snprintf(out, len, "%s", c->self_metrics_ns);
	else
		snprintf(out, len, "skyline.flux.%s", flux_stats_host());
}

static int
add(struct flux_points *p, const char *ns, const char *name, int64_t ts,
    double value)
{
	struct flux_buf	b = { 0 };

	if (flux_buf_printf(&b, "%s.%s", ns, name) == -1 ||
	    flux_metric_invalid(b.ptr) != NULL) {
		flux_buf_free(&b);
		return -1;
	}
	/* The name is the point's now (freed with it, or by a failed add). */
	if (flux_points_add(p, b.ptr, ts, value, 1) == -1)
		return -1;
	p->v[p->n - 1].state = FLUX_PT_ACCEPT;
	return 0;
}

/* Skyline's names of minute m, where any of their counts was counted. */
static void
add_aliases(const struct counts *c, size_t m, const char *ns, int64_t ts,
    struct flux_points *p)
{
	size_t		i, j, k;
	long long	sum;
	int		seen;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		sum = 0;
		seen = 0;
		for (j = 0; j < c->n; j++)
			for (k = 0; c->v[j].minute == m && k < 4 &&
			    aliases[i].ours[k] != NULL; k++)
				if (strcmp(c->v[j].field, aliases[i].ours[k]) == 0) {
					sum += c->v[j].value;
					seen = 1;
				}
		if (seen)
			add(p, ns, aliases[i].skyline, ts, (double)sum);
	}
}

/* The gauges of now: what waits in the spool, the queue, the uploads. */
static void
add_gauges(const struct flux_conf *c, struct flux_store *s, const char *ns,
    int64_t now, struct flux_points *p)
{
	struct flux_health	h;
	long long		files, points;
	int64_t			oldest;
	char			err[FLUX_ERRLEN];

	flux_health_check(c, s, "", now, &h);
	if (flux_spool_backlog(c, &files, &oldest, &points, err) == 0) {
		add(p, ns, "batch.spool.files", now, (double)files);
		add(p, ns, "batch.spool.points", now, (double)points);
		add(p, ns, "batch.spool.oldest_age", now,
		    oldest > 0 ? (double)(now - oldest) : 0.0);
	}
	if (h.queued >= 0) {
		add(p, ns, "batch.populate.queued", now, (double)h.queued);
		add(p, ns, "batch.populate.running", now, (double)h.running);
	}
	if (h.uploads_pending >= 0)
		add(p, ns, "batch.uploads.pending", now, (double)h.uploads_pending);
}

/* The points to send: minutes first..now's, and the gauges. */
static int
gather(const struct flux_conf *c, struct flux_store *s, int64_t first,
    int64_t now, struct flux_points *p, char err[])
{
	struct counts	cs = { 0 };
	char		ns[FLUX_NAME_MAX];
	int64_t		minute = now - now % 60;
	size_t		n = (size_t)((minute - first) / 60 + 1), i, m;
	int		rc;

	namespace_of(c, ns, sizeof(ns));
	rc = flux_store_history(s, now, n, FLUX_STATUS_RECENT, "", 0, on_field,
	    on_record, &cs, err);
	for (i = 0; rc == 0 && i < cs.n; i++)
		if (add(p, ns, cs.v[i].field, first + 60 * (int64_t)cs.v[i].minute,
		    (double)cs.v[i].value) == -1)
			flux_warn("self-metrics: '%s.%s' is not a metric name", ns,
			    cs.v[i].field);
	for (m = 0; rc == 0 && m < n; m++)
		add_aliases(&cs, m, ns, first + 60 * (int64_t)m, p);
	if (rc == 0)
		add_gauges(c, s, ns, now, p);
	for (i = 0; i < cs.n; i++)
		free(cs.v[i].field);
	free(cs.v);
	if (rc == 0 && cs.oom)
		rc = flux_errf(err, "out of memory");
	return rc;
}

/* The key marking the last minute sent, and its value (0: none). */
static int64_t
sent_until(struct flux_store *s, char key[FLUX_STATS_KEY_MAX])
{
	char	 err[FLUX_ERRLEN], *v;
	int64_t	 t = 0;

	snprintf(key, FLUX_STATS_KEY_MAX, FLUX_STATS_PREFIX "%s.sent",
	    flux_stats_host());
	if ((v = flux_store_get(s, key, err)) != NULL &&
	    flux_parse_i64(v, 0, INT64_MAX / 2, &t) == -1)
		t = 0;
	free(v);
	return t;
}

/*
 * Count the run's own counts (st), then send what is not yet sent. Never
 * fails the run: a problem is a warning, and the next run tries again.
 */
void
batch_selfmetrics(const struct flux_conf *c, struct flux_stats *st, int send)
{
	struct flux_points	 p = { 0 };
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN], key[FLUX_STATS_KEY_MAX], v[32];
	int64_t			 now = (int64_t)time(NULL), minute = now - now % 60;
	int64_t			 first, last;

	if ((s = flux_store_open(c, err)) == NULL) {
		flux_warn("self-metrics: %s", err);
		return;
	}
	flux_store_set_stats(s, st);
	if (flux_store_count(s, err) == -1)
		flux_warn("self-metrics: %s", err);
	if (!send || !c->self_metrics || !c->send_to_carbon)
		goto done;
	last = sent_until(s, key);
	first = minute - 60 * (LOOKBACK_MINUTES - 1);
	if (last + 60 > first)
		first = last + 60;
	if (first > minute)
		first = minute;
	if (gather(c, s, first, now, &p, err) == -1)
		flux_warn("self-metrics: %s", err);
	else if (flux_carbon_deliver(c, &p, err) == -1)
		flux_warn("self-metrics: %s; %zu points not sent, the next run "
		    "tries again", err, p.n);
	else {
		flux_debug("self-metrics: %zu points sent", p.n);
		snprintf(v, sizeof(v), "%lld", (long long)(minute - 60));
		if (flux_store_setex(s, key, v, 60 * LOOKBACK_MINUTES, err) == -1)
			flux_warn("self-metrics: %s", err);
	}
done:
	flux_points_free(&p);
	flux_store_close(s);
}
