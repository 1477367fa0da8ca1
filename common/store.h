/*
 * store.h - Redis: the flux.last.<metric> de-duplication records (SPEC
 * section 5), checked and advanced for a whole request in one Lua script,
 * as claims of that request that it confirms once its points are delivered
 * or spooled, or rolls back when they could be neither.
 */
#ifndef FLUX_STORE_H
#define FLUX_STORE_H

#include "conf.h"
#include "metric.h"

struct flux_store;

struct flux_store *flux_store_open(const struct flux_conf *c, char err[]);
void	flux_store_close(struct flux_store *s);
int	flux_store_usable(const struct flux_store *s);
int	flux_store_ping(struct flux_store *s, int64_t now, char err[]);
int	flux_store_dedup(struct flux_store *s, const struct flux_conf *c,
	    struct flux_points *p, int apply, char err[]);
int	flux_store_confirm(struct flux_store *s, char err[]);
int	flux_store_rollback(struct flux_store *s, char err[]);
void	*flux_store_context(struct flux_store *s);
int	flux_store_setex(struct flux_store *s, const char *key, const char *val,
	    int64_t ttl, char err[]);
char	*flux_store_get(struct flux_store *s, const char *key, char err[]);
int	flux_store_del(struct flux_store *s, const char *key, char err[]);
int	flux_store_last_get(struct flux_store *s, const char *const *metrics,
	    size_t n, int64_t *ts, char err[]);
int	flux_store_last_advance(struct flux_store *s, const char *const *metrics,
	    const int64_t *ts, const double *values, size_t n, char err[]);

#endif
