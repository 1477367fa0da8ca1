/*
 * stats.h - Flux's self-metrics: what each request did, counted in Redis
 * per host and minute (common/lua/stats.lua), and sent to Graphite by
 * flux-batch. A CGI lives for one request, so the counts of a request are
 * gathered here while it runs and handed to the last Redis script it runs
 * anyway (the de-dup check-and-set, the confirm, the rollback); what no
 * such script took is sent after the answer, without waiting for Redis's
 * reply (flux_stats_flush).
 */
#ifndef FLUX_STATS_H
#define FLUX_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* What is counted, per endpoint (flux(7), SELF-METRICS, names them). */
enum flux_stat {
	FLUX_STAT_REQUESTS,
	FLUX_STAT_ACCEPTED,	/* points (jobs, uploads) accepted */
	FLUX_STAT_DELIVERED,	/* points carbon took (deliver.c) */
	FLUX_STAT_SPOOLED,	/* points written to the spool (deliver.c) */
	FLUX_STAT_DUPLICATES,	/* points discarded as duplicates */
	FLUX_STAT_REFUSED_KEY,	/* requests refused, by reason class */
	FLUX_STAT_REFUSED_METRIC,
	FLUX_STAT_REFUSED_TIMESTAMP,
	FLUX_STAT_REFUSED_VALUE,
	FLUX_STAT_REFUSED_BODY,
	FLUX_STAT_REFUSED_JSON,
	FLUX_STAT_REFUSED_QUOTA,
	FLUX_STAT_UNAVAILABLE,	/* requests answered 503 */
	FLUX_STAT_ERRORS,	/* requests answered 500 */
	/* flux-batch's, per run */
	FLUX_STAT_FLUSH_FILES,	/* spool files replayed */
	FLUX_STAT_FLUSH_POINTS,	/* and their points */
	FLUX_STAT_POPULATE_DONE,	/* populate jobs done */
	FLUX_STAT_POPULATE_FAILED,	/* failed (queued again, or partial) */
	FLUX_STAT_POPULATE_DROPPED,	/* dropped after their attempts */
	FLUX_STAT_POPULATE_POINTS,	/* points back-filled */
	FLUX_STAT_UPLOADS_COMPLETE,	/* uploads by final state */
	FLUX_STAT_UPLOADS_PARTIAL,
	FLUX_STAT_UPLOADS_FAILED,
	FLUX_STAT_UPLOADS_ROWS,	/* report rows read */
	FLUX_STAT_UPLOADS_POINTS,	/* points submitted */
	FLUX_STAT__MAX
};

/* The Redis hash of a host's minute: flux.stats.<host>.<minute start>. */
#define FLUX_STATS_PREFIX "flux.stats."
/* Field of that hash holding the outcome of the minute's last delivery. */
#define FLUX_STATS_DELIVERY "carbon.last_delivery"
/* Room for a bucket's key: the prefix, a host name, a minute. */
#define FLUX_STATS_KEY_MAX 320
/* Room for a delivery outcome: the time, a word, one error message. */
#define FLUX_STATS_DELIVERY_MAX (FLUX_ERRLEN + 64)

/* The counts of one request (or of one flux-batch run). */
struct flux_stats {
	const char	*source;	/* the program: "metric_data", ... */
	int64_t		 n[FLUX_STAT__MAX];	/* counted, not yet sent */
	int64_t		 all[FLUX_STAT__MAX];	/* counted in all, for the log */
	char		 delivery[FLUX_STATS_DELIVERY_MAX];	/* "" none */
};

const char *flux_stats_name(enum flux_stat k);
void	flux_stats_begin(struct flux_stats *st, const char *source);
void	flux_stats_add(struct flux_stats *st, enum flux_stat k, int64_t n);
void	flux_stats_counted(struct flux_stats *st, enum flux_stat k, int64_t n);
void	flux_stats_delivery(struct flux_stats *st, int ok, const char *why);
int	flux_stats_pending(const struct flux_stats *st);
int	flux_stats_spec(const struct flux_stats *st, struct flux_buf *spec,
	    char delivery[FLUX_STATS_DELIVERY_MAX]);
void	flux_stats_clear(struct flux_stats *st);
int	flux_stats_key(char out[FLUX_STATS_KEY_MAX], int64_t when);
const char *flux_stats_host(void);
enum flux_stat flux_stats_refusal(int status, const char *message);
int	flux_stats_summary(const struct flux_stats *st, char *out, size_t len);

#endif
