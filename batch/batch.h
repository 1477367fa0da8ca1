/*
 * batch.h - the jobs of flux-batch. Each job is one function over the
 * loaded configuration; it returns 0 when everything it took on succeeded,
 * -1 otherwise, and logs its own progress and failures.
 */
#ifndef FLUX_BATCH_H
#define FLUX_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "stats.h"

/* What this run did: its self-metrics (selfmetrics.c sends them). */
extern struct flux_stats batch_stats;

int	job_populate(const struct flux_conf *c, int dryrun);
int	job_uploads(const struct flux_conf *c, int dryrun);
int	job_check(const struct flux_conf *c, int dryrun);
int	job_status(const struct flux_conf *c, int dryrun);
void	batch_selfmetrics(const struct flux_conf *c, struct flux_stats *st,
	    int send);
void	batch_progress(const char *job, size_t done, size_t total,
	    const char *unit, uint64_t count, int last);

#endif
