/*
 * carbon.h - delivery of points to carbon-cache (SPEC section 6): pickle
 * frames to the pickle port by default, or plaintext lines.
 * flux_carbon_deliver() makes a connection per call, confirmed by an
 * orderly close; flux_carbon_send() keeps one connection (struct
 * flux_carbon, a resident responder's under FLUX_CARBON_KEEP_CONNECTION),
 * confirmed by its send queue draining. Connect, send and confirm are bounded by
 * FLUX_CARBON_TIMEOUT_MS.
 */
#ifndef FLUX_CARBON_H
#define FLUX_CARBON_H

#include "conf.h"
#include "metric.h"

int	flux_carbon_deliver(const struct flux_conf *c,
	    const struct flux_points *p, char err[]);
int	flux_carbon_probe(const struct flux_conf *c, char err[]);

/* A kept connection: flux_carbon_new() (NULL: out of memory), freed by
 * flux_carbon_free(), which closes it. */
struct flux_carbon;
struct flux_carbon *flux_carbon_new(void);
void	flux_carbon_free(struct flux_carbon *k);
int	flux_carbon_send(struct flux_carbon *k, const struct flux_conf *c,
	    const struct flux_points *p, char err[]);

#endif
