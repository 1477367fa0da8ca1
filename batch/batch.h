/*
 * batch.h - the jobs of flux-batch. Each job is one function over the
 * loaded configuration; it returns 0 when everything it took on succeeded,
 * -1 otherwise, and logs its own progress and failures.
 */
#ifndef FLUX_BATCH_H
#define FLUX_BATCH_H

#include "conf.h"

int	job_populate(const struct flux_conf *c, int dryrun);
int	job_uploads(const struct flux_conf *c, int dryrun);
int	job_check(const struct flux_conf *c, int dryrun);

#endif
