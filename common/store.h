/*
 * store.h - Redis: the flux.last.<metric> de-duplication records (SPEC
 * section 5), checked and advanced for a whole request in one Lua script,
 * and rolled back when the points could be neither delivered nor spooled.
 */
#ifndef FLUX_STORE_H
#define FLUX_STORE_H

#include "conf.h"
#include "metric.h"

struct flux_store;

struct flux_store *flux_store_open(const struct flux_conf *c, char err[]);
void	flux_store_close(struct flux_store *s);
int	flux_store_ping(struct flux_store *s, int64_t now, char err[]);
int	flux_store_dedup(struct flux_store *s, const struct flux_conf *c,
	    struct flux_points *p, int apply, char err[]);
int	flux_store_rollback(struct flux_store *s, char err[]);
void	*flux_store_context(struct flux_store *s);
int	flux_store_last_get(struct flux_store *s, const char *metric,
	    int64_t *ts, int *found, char err[]);
int	flux_store_last_advance(struct flux_store *s, const char *metric,
	    int64_t ts, double value, int *moved, char err[]);

#endif
