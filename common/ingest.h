/*
 * ingest.h - the life of accepted points, shared by every endpoint and by
 * flux-batch: de-duplicate and advance flux.last in one step, deliver to
 * carbon, spool what carbon did not take, and roll flux.last back when the
 * points could be neither delivered nor spooled (SPEC sections 5 and 6).
 */
#ifndef FLUX_INGEST_H
#define FLUX_INGEST_H

#include "cgi.h"
#include "metric.h"

int	flux_ingest_dedup(struct flux_env *env, struct flux_points *p, int test);
int	flux_ingest(struct flux_env *env, struct flux_points *p, char err[]);

void	flux_resp_test(struct flux_resp *resp, const char *prefix,
	    const struct flux_points *p, const struct flux_list *dropped);
#endif
