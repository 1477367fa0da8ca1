/*
 * metric.h - the validation shared by every entry point (SPEC section 3):
 * API keys and their namespace prefixes, metric names, timestamps and
 * values, and the list of points a request carries.
 */
#ifndef FLUX_METRIC_H
#define FLUX_METRIC_H

#include <stddef.h>
#include <stdint.h>

struct flux_conf;

/* Whisper keeps a name element in a file "<element>.wsp" of at most 255 bytes. */
#define FLUX_ELEMENT_MAX 251
/* Linux PATH_MAX bounds the whole name. */
#define FLUX_NAME_MAX 4096

struct flux_point {
	char	*name;
	int64_t	 ts;
	double	 value;
	int	 fill;		/* back-fill: no age limit, no de-dup */
	int	 state;		/* enum flux_point_state, set by the store */
};

enum flux_point_state {
	FLUX_PT_NEW,		/* not yet looked at by de-dup */
	FLUX_PT_ACCEPT,		/* to be delivered */
	FLUX_PT_DUP		/* discarded: not newer than flux.last */
};

struct flux_points {
	struct flux_point	*v;
	size_t			 n;
	size_t			 cap;
};

void	flux_metric_normalise(char *name);
const char *flux_metric_invalid(const char *name);
int	flux_key_check(const struct flux_conf *c, const char *key,
	    const char **prefix);
char	*flux_metric_prefix(const char *prefix, const char *name);
char	*flux_metric_build(const char *raw, const char *prefix,
	    const char **why, char **bad);
int	flux_ts_parse(const char *raw, int64_t *out);
const char *flux_ts_check(const struct flux_conf *c, int64_t ts, int64_t now,
	    char *buf, size_t len);

int	flux_points_add(struct flux_points *p, char *name, int64_t ts,
	    double value, int fill);
size_t	flux_points_count(const struct flux_points *p, int state);
void	flux_points_free(struct flux_points *p);

#endif
