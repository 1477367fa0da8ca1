/*
 * status.c - "flux-batch status": the health check of status=true
 * (common/health.c), with its detail, for the operator at a terminal or a
 * monitoring script: one line per part on stdout, and the exit status 1
 * only when a point sent now could be neither delivered nor spooled.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "health.h"
#include "spool.h"
#include "store.h"

/* " (why)" after a part's state, when there is a why. */
static const char *
paren(const char *why, char *buf, size_t len)
{
	if (why[0] == '\0')
		return "";
	snprintf(buf, len, " (%s)", why);
	return buf;
}

static void
print_delivery(const struct flux_health *h, int64_t now)
{
	char	b[FLUX_ERRLEN + 8];

	if (h->delivery_at == 0)
		printf("last delivery: none in the last %d minutes\n",
		    FLUX_HEALTH_MINUTES);
	else
		printf("last delivery: %s %lld s ago%s\n", h->delivery_ok ? "ok" :
		    "failed", (long long)(now - h->delivery_at),
		    paren(h->delivery_why, b, sizeof(b)));
}

static void
print_spool(const struct flux_conf *c, const struct flux_health *h,
    int64_t now)
{
	char		err[FLUX_ERRLEN], b[FLUX_ERRLEN + 8];
	long long	files, points;
	int64_t		oldest;

	if (flux_spool_backlog(c, &files, &oldest, &points, err) == -1) {
		printf("spool: %s\n", err);
		return;
	}
	printf("spool: %s, %lld files (%lld points)", h->spool_writable ?
	    "writable" : "not writable", files, points);
	if (oldest > 0)
		printf(", oldest %lld s", (long long)(now - oldest));
	printf("%s\n", h->spool_writable ? "" : paren(h->spool_err, b, sizeof(b)));
}

/* The status job: 0 while points are accepted, -1 when they could not be. */
int
job_status(const struct flux_conf *c, int dryrun)
{
	struct flux_health	 h;
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN], b[FLUX_ERRLEN + 8];
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i;

	(void)dryrun;
	s = flux_store_open(c, err);
	flux_health_check(c, s, err, now, &h);
	printf("status: %s\n", h.status);
	for (i = 0; i < h.nreasons; i++)
		printf("reason: %s\n", h.reasons[i]);
	printf("redis: %s%s\n", h.redis_ok ? "ok" : "unavailable",
	    paren(h.redis_err, b, sizeof(b)));
	printf("carbon: %s%s\n", flux_health_carbon_name(h.carbon),
	    h.carbon == FLUX_CARBON_UNREACHABLE ? paren(h.carbon_err, b,
	    sizeof(b)) : "");
	print_delivery(&h, now);
	printf("hold: %s\n", h.held ? "yes, delivery is held" : "no");
	print_spool(c, &h, now);
	if (h.queued < 0)
		printf("populate: unknown (redis unavailable)\n");
	else
		printf("populate: %lld queued, %lld running\n", h.queued, h.running);
	if (h.uploads_pending < 0)
		printf("uploads: off\n");
	else
		printf("uploads: %lld pending\n", h.uploads_pending);
	fflush(stdout);
	flux_store_close(s);
	return strcmp(h.status, "unavailable") == 0 ? -1 : 0;
}
