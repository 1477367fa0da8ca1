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

/*
 * This node's id: 64 random bits in hex, kept in flux-batch's lock file in
 * the spool (one per node, as the spool is), and known only while the
 * lock is held. The leases of the jobs and uploads a run takes name it,
 * so a later run of the same node knows them for those of a run that
 * died (the lock is proof) and takes them back at once.
 */
#define BATCH_NODE_BYTES 8

const char *batch_node(void);

struct flux_store;
struct flux_store_lease;

int	batch_lease_keep(struct flux_store *s, struct flux_store_lease *l,
	    int *lost, const char *what);

int	job_populate(const struct flux_conf *c, int dryrun);
int	job_uploads(const struct flux_conf *c, int dryrun);
int	job_check(const struct flux_conf *c, int dryrun);
int	job_status(const struct flux_conf *c, int dryrun);
void	batch_selfmetrics(const struct flux_conf *c, struct flux_stats *st,
	    int send);
void	batch_progress(const char *job, size_t done, size_t total,
	    const char *unit, uint64_t count, int last);

#endif
