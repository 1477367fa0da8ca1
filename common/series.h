/*
 * series.h - time series fetched from a remote Graphite or Prometheus for
 * populate_metric (SPEC section 7): the parsers of their JSON answers, which
 * are untrusted input, and the filtering and 1-minute resampling applied
 * before the points are delivered.
 */
#ifndef FLUX_SERIES_H
#define FLUX_SERIES_H

#include <stddef.h>
#include <stdint.h>

/*
 * cJSON spends about 80 bytes per JSON value; a bound on the values of one
 * answer bounds the memory a hostile or runaway remote can make us use
 * (about 320 MB here; 90 days of 1-minute Graphite data is ~390,000).
 */
#define FLUX_SERIES_MAX_VALUES 4000000

struct flux_sample {
	int64_t	ts;
	double	value;
};

struct flux_series {
	struct flux_sample	*v;
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;	/* null or non-finite values */
	size_t			 ignored;	/* series after the first */
};

int	flux_series_add(struct flux_series *s, int64_t ts, double value);
int	flux_series_graphite(const char *body, size_t len,
	    struct flux_series *out, char err[]);
int	flux_series_prometheus(const char *body, size_t len,
	    struct flux_series *out, char err[]);
void	flux_series_keep(struct flux_series *s, int64_t after, int64_t before);
void	flux_series_resample(struct flux_series *s, int64_t step);
void	flux_series_free(struct flux_series *s);

#endif
