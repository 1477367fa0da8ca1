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

/*
 * Populate and uploads resample to carbon's usual step, one minute, in
 * bins labelled by their start (SPEC 7, 8).
 */
#define FLUX_BIN_SECONDS 60

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

/*
 * How a form carries the parts of a point: query-string text, JSON items.
 * Each form reads them with its own parsers; flux_point_check() keeps the
 * checks, their order and their messages (SPEC 3), once for every form.
 */
struct flux_point_form {
	int	(*ts)(const void *item, int64_t *ts);		/* 0 or -1 */
	int	(*value)(const void *item, double *value);	/* 0 or -1 */
	char	*(*text)(const void *item);	/* as sent, for a message; caller frees */
};

/* The form whose parts are strings (flux_ts_parse, flux_parse_double). */
extern const struct flux_point_form flux_point_strings;

/* What every point of a request is checked against. */
struct flux_point_rules {
	const struct flux_conf		*conf;
	int64_t				 now;
	const char			*prefix;	/* the key's, or NULL */
	const struct flux_point_form	*form;
};

/* One point as a client sent it; a part that is absent is NULL. */
struct flux_point_in {
	const char	*metric;
	const void	*ts;		/* absent: now */
	const void	*value;
	int		 fill;
};

/* What flux_point_check() found: a point added, a 400, or a 500. */
enum flux_point_verdict {
	FLUX_POINT_OK,
	FLUX_POINT_BAD,
	FLUX_POINT_NOMEM
};

void	flux_metric_normalise(char *name);
const char *flux_metric_invalid(const char *name);
int	flux_key_check(const struct flux_conf *c, const char *key,
	    const char **prefix);
char	*flux_metric_prefix(const char *prefix, const char *name);
char	*flux_metric_build(const char *raw, const char *prefix,
	    const char **why, char **bad);
int	flux_ts_parse(const char *raw, int64_t *out);

enum flux_point_verdict flux_point_check(const struct flux_point_rules *r,
	    const struct flux_point_in *in, struct flux_points *p, char msg[],
	    char **shown);
int	flux_points_add(struct flux_points *p, char *name, int64_t ts,
	    double value, int fill);
size_t	flux_points_count(const struct flux_points *p, int state);
void	flux_points_free(struct flux_points *p);

#endif
