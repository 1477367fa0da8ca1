/*
 * carbon.h - delivery of points to carbon-cache (SPEC section 6): pickle
 * frames to the pickle port by default, or plaintext lines. One connection
 * per call, connect and send bounded by FLUX_CARBON_TIMEOUT_MS.
 */
#ifndef FLUX_CARBON_H
#define FLUX_CARBON_H

#include "conf.h"
#include "metric.h"

int	flux_carbon_deliver(const struct flux_conf *c,
	    const struct flux_points *p, char err[]);
int	flux_carbon_probe(const struct flux_conf *c, char err[]);

#endif
