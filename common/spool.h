/*
 * spool.h - points accepted but not yet delivered (SPEC section 6). One
 * file per request under FLUX_SPOOL_PATH, written to a temporary name,
 * fsynced and renamed, so a file is either whole or absent. flux-batch
 * replays the files oldest first and deletes each once carbon took it all.
 */
#ifndef FLUX_SPOOL_H
#define FLUX_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "metric.h"

int	flux_spool_write(const struct flux_conf *c, const struct flux_points *p,
	    char err[]);
int	flux_spool_read(const char *path, struct flux_points *p, char err[]);
int	flux_spool_flush(const struct flux_conf *c, int dryrun, int64_t deadline,
	    size_t *files, size_t *points, size_t *left, char err[]);
typedef void (*flux_spool_progress_fn)(size_t done, size_t total,
	    size_t points, int last);
void	flux_spool_set_progress(flux_spool_progress_fn fn);
int	flux_spool_held(const struct flux_conf *c, char *path, size_t len);
int	flux_spool_writable(const struct flux_conf *c, char err[]);
int	flux_spool_backlog(const struct flux_conf *c, long long *files,
	    int64_t *oldest, long long *points, char err[]);

#endif
