/*
 * deliver.c - the delivery rule of deliver.h. The spool is the fallback,
 * never the loss: a point leaves here in carbon or in a spool file, or
 * the caller hears it is in neither.
 */
#include <stdio.h>

#include "carbon.h"
#include "deliver.h"
#include "log.h"
#include "spool.h"

/*
 * True when the operator holds delivery (spool.h): said once for a run,
 * with the number of points for a request, whose one delivery is all.
 */
static int
held(const struct flux_delivery *d, size_t n)
{
	char	hold[FLUX_PATH_MAX];

	if (!flux_spool_held(d->conf, hold, sizeof(hold)))
		return 0;
	if (d->who != NULL)
		flux_info("%s: delivery held by %s; spooling", d->who, hold);
	else
		flux_info("delivery held by %s; spooling %zu points", hold, n);
	return 1;
}

/* Carbon did not take the points: say why, once for a run. */
static void
carbon_failed(const struct flux_delivery *d, size_t n, const char *err)
{
	if (d->who != NULL)
		flux_warn("%s: %s; spooling", d->who, err);
	else
		flux_warn("%s; spooling %zu points", err, n);
}

/*
 * Deliver the accepted points of p to carbon, else spool them. 0 when
 * they are in one or the other; -1 with err (why the spool refused them)
 * when they are in neither.
 */
int
flux_deliver(struct flux_delivery *d, const struct flux_points *p, char err[])
{
	size_t	n = flux_points_count(p, FLUX_PT_ACCEPT);

	if (!d->spool_only && held(d, n))
		d->spool_only = 1;
	if (!d->spool_only && (d->kept != NULL ?
	    flux_carbon_send(d->kept, d->conf, p, err) :
	    flux_carbon_deliver(d->conf, p, err)) == 0) {
		flux_stats_delivery(d->stats, 1, NULL);
		flux_stats_add(d->stats, FLUX_STAT_DELIVERED, (int64_t)n);
		d->sent += n;
		return 0;
	}
	if (!d->spool_only) {
		carbon_failed(d, n, err);
		flux_stats_delivery(d->stats, 0, err);
		d->spool_only = 1;
	}
	if (flux_spool_write(d->conf, p, err) == -1)
		return -1;
	flux_stats_add(d->stats, FLUX_STAT_SPOOLED, (int64_t)n);
	d->spooled += n;
	return 0;
}
