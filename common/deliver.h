/*
 * deliver.h - SPEC 6's rule for accepted points, kept once for every path
 * that sends them (a request, an upload, a populate job): deliver to
 * carbon, else spool; they are lost only when the spool refuses them too,
 * and then the caller is told and says so in its own terms (a 503 and a
 * rollback, a failed column, a job queued again).
 *
 * A request delivers once. A run (an upload job, a populate job) delivers
 * in chunks of FLUX_DELIVER_CHUNK points through one struct flux_delivery:
 * once carbon has failed, or delivery is held, the rest of the run goes
 * straight to the spool, without a connect timeout per chunk.
 */
#ifndef FLUX_DELIVER_H
#define FLUX_DELIVER_H

#include <stddef.h>

#include "carbon.h"
#include "conf.h"
#include "metric.h"
#include "stats.h"

/*
 * Points per delivery of a run: one carbon connection or one spool file
 * each. A chunk borrows its names (a run's points share a few), so it
 * takes a struct flux_point a point, about 3 MB, and a spool file of it
 * a few MB of plaintext lines.
 */
#define FLUX_DELIVER_CHUNK 100000

/* One delivery, or a run of them; zero it, then set conf, who and stats. */
struct flux_delivery {
	const struct flux_conf	*conf;
	/* A run's name for its log lines ("upload X", "populate 'm'"); NULL: a request. */
	const char		*who;
	/*
	 * The self-metrics the points delivered and spooled are counted in,
	 * and the outcome of each attempt at carbon kept, for the health
	 * check (stats.h); NULL: none.
	 */
	struct flux_stats	*stats;
	int			 spool_only;	/* carbon failed, or delivery is held */
	size_t			 sent;		/* points carbon took */
	size_t			 spooled;	/* points written to the spool */
	/* A resident responder's kept carbon connection; NULL: one per delivery. */
	struct flux_carbon	*kept;
};

int	flux_deliver(struct flux_delivery *d, const struct flux_points *p,
	    char err[]);

#endif
