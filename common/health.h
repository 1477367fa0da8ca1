/*
 * health.h - the health check of status=true, flux-batch status and the
 * status page: what each part of the delivery path is doing now, and what
 * that means for a point sent now. "ok": it would be delivered; "degraded"
 * (still HTTP 200): it would be accepted, but goes to the spool, or goes
 * undeduplicated, or could not be spooled were carbon to fail;
 * "unavailable" (503): it could be neither delivered nor spooled.
 */
#ifndef FLUX_HEALTH_H
#define FLUX_HEALTH_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "conf.h"
#include "store.h"

/* A failed delivery younger than this makes carbon "failing" (seconds). */
#define FLUX_HEALTH_RECENT 300
/* Reasons one check may give. */
#define FLUX_HEALTH_REASONS 8

enum flux_carbon_state {
	FLUX_CARBON_OK,
	FLUX_CARBON_OFF,		/* FLUX_SEND_TO_CARBON false */
	FLUX_CARBON_UNREACHABLE,	/* no connection now */
	FLUX_CARBON_FAILING		/* connects, but the last delivery failed */
};

struct flux_health {
	const char		*status;	/* "ok", "degraded", "unavailable" */
	const char		*reasons[FLUX_HEALTH_REASONS];
	size_t			 nreasons;
	int			 redis_ok;
	enum flux_carbon_state	 carbon;
	int			 held;
	int			 spool_writable;
	long long		 spool_files;	/* -1: the spool cannot be read */
	int64_t			 spool_oldest;	/* unix seconds; 0 none */
	long long		 queued;	/* populate jobs; -1 unknown */
	long long		 running;
	long long		 uploads_pending;	/* -1: uploads off */
	int64_t			 delivery_at;	/* last delivery; 0 unknown */
	int			 delivery_ok;
	/* The detail, shown only to a holder of FLUX_SELF_API_KEY. */
	char			 redis_err[FLUX_ERRLEN];
	char			 carbon_err[FLUX_ERRLEN];
	char			 spool_err[FLUX_ERRLEN];
	char			 delivery_why[FLUX_ERRLEN];
};

void	flux_health_check(const struct flux_conf *c, struct flux_store *s,
	    const char *store_err, int64_t now, struct flux_health *h);
cJSON	*flux_health_json(const struct flux_health *h, int64_t now, int detail);
void	flux_health_env(struct flux_env *env, int64_t now,
	    struct flux_health *h);
void	flux_resp_health(struct flux_env *env, int64_t now,
	    struct flux_resp *resp);
const char *flux_health_carbon_name(enum flux_carbon_state s);

#endif
