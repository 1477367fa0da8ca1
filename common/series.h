/*
 * series.h - time series fetched from a remote Graphite or Prometheus for
 * populate_metric (SPEC section 7): a streaming parser of their JSON
 * answers, which are untrusted input, and the 1-minute bins the samples go
 * into as they arrive.
 *
 * Memory does not grow with the number or the size of the answers: an
 * answer is parsed as its bytes arrive (yajl, no tree), each sample goes
 * straight into the bin of its minute (a count and a sum), and no string or
 * number longer than FLUX_SERIES_TOKEN_MAX is buffered. What grows is the
 * number of distinct minutes, bounded by FLUX_SERIES_MAX_BINS per table.
 */
#ifndef FLUX_SERIES_H
#define FLUX_SERIES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Distinct minutes one table of bins may hold: a year of 1-minute data
 * (Vista asks for 90 days at most; a coarser history covers many years
 * in fewer minutes). A bin takes 24 bytes in a table of a power of two
 * slots kept at most half full: 24 MiB at most, 6 MiB for 90 days of
 * minutes. A job holds one table, and one per answer in flight.
 */
#define FLUX_SERIES_MAX_BINS 525600
/* The longest string or number of an answer (a target, a label, a value). */
#define FLUX_SERIES_TOKEN_MAX 65536
/* Deeper nesting than this is no answer of Graphite's or Prometheus'. */
#define FLUX_SERIES_DEPTH_MAX 64

enum flux_series_kind {
	FLUX_SERIES_GRAPHITE,		/* [{"target", "datapoints": [[v, ts]]}] */
	FLUX_SERIES_PROMETHEUS		/* {"status", "data": {"resultType", "result"}} */
};

struct flux_sample {
	int64_t	ts;
	double	value;
};

/* Samples in an array (the bins, once selected; or a whole answer's). */
struct flux_series {
	struct flux_sample	*v;
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;	/* null or non-finite values */
	size_t			 ignored;	/* series after the first */
};

/* Where the parser hands each finite sample; -1 stops the parse (err set). */
typedef int (*flux_series_sink)(void *ctx, int64_t ts, double value,
	    char err[]);

struct flux_series_parser;

struct flux_series_parser *flux_series_parser_new(enum flux_series_kind kind,
	    flux_series_sink sink, void *ctx);
int	flux_series_parser_feed(struct flux_series_parser *p, const char *buf,
	    size_t n, char err[]);
int	flux_series_parser_finish(struct flux_series_parser *p, char err[]);
void	flux_series_parser_counts(const struct flux_series_parser *p,
	    size_t *points, size_t *dropped, size_t *ignored);
void	flux_series_parser_free(struct flux_series_parser *p);

int	flux_series_parse(enum flux_series_kind kind, const char *body,
	    size_t len, struct flux_series *out, char err[]);
int	flux_series_graphite(const char *body, size_t len,
	    struct flux_series *out, char err[]);
void	flux_series_free(struct flux_series *s);

/* 1-minute bins: per minute the count and sum of its samples. */
struct flux_bin;

struct flux_bins {
	struct flux_bin	*v;
	size_t		 cap;		/* slots, a power of two, or 0 */
	size_t		 n;		/* bins in use, FLUX_SERIES_MAX_BINS at most */
};

int	flux_bins_add(struct flux_bins *b, int64_t ts, double value, char err[]);
int	flux_bins_merge(struct flux_bins *dst, struct flux_bins *src, char err[]);
int	flux_bins_select(const struct flux_bins *b, int64_t after,
	    int64_t before, struct flux_series *out);
void	flux_bins_free(struct flux_bins *b);

#endif
