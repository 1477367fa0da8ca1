/*
 * series.c - see series.h. The parsers read what graphite-web and
 * Prometheus document (reference/ecosystem.md 1.4 and 1.5) and nothing
 * looser: a structural surprise is an error naming the datapoint, while
 * null and non-finite values are dropped and counted.
 *
 * yajl reports the answer as events; a small stack says what each open
 * array or object is (the list of series, the first series, its
 * datapoints, one [value, ts] pair, or something skipped), and each pair
 * is checked and handed on when it closes. Every byte also goes through
 * json.h's scan first (no NUL, no \u0000 in a string, no token over
 * FLUX_SERIES_TOKEN_MAX), which bounds what yajl buffers of a token split
 * across reads.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json.h"
#include "metric.h"
#include "series.h"
#include "util.h"

/* Timestamps are Unix seconds that carbon can store: below 2^32. */
#define TS_LIMIT 4294967296.0
/* Longest error, type and result type text kept from an answer. */
#define TEXT_MAX 512

/* What an open array or object is. */
enum role {
	R_SKIP,		/* read and ignored */
	R_G_ROOT,	/* graphite: the list of series */
	R_G_SERIES,	/* graphite: the first series */
	R_G_DPS,	/* graphite: its datapoints */
	R_P_ROOT,	/* prometheus: the answer */
	R_P_DATA,	/* prometheus: "data" */
	R_P_RESULT,	/* prometheus: "result" (the pair itself for a scalar) */
	R_P_SERIES,	/* prometheus: the first series */
	R_P_VALUES,	/* prometheus: its "values" */
	R_PAIR		/* one [value, ts] or [ts, value] */
};

/* What the next value in an object is, by its key. */
enum slot {
	K_NONE, K_DATAPOINTS, K_STATUS, K_DATA, K_ERROR_TYPE, K_ERROR,
	K_RESULT_TYPE, K_RESULT, K_VALUES, K_VALUE
};

/* One item of a pair as it came. */
enum item { I_NULL, I_NUMBER, I_STRING, I_OTHER };

struct frame {
	enum role	role;
	int		map;		/* an object, not an array */
	size_t		items;		/* values seen in it */
};

struct flux_series_parser {
	enum flux_series_kind	 kind;
	flux_series_sink	 sink;
	void			*ctx;
	yajl_handle		 y;
	struct flux_json_scan	 scan;
	struct frame		 stack[FLUX_SERIES_DEPTH_MAX];
	int			 depth;
	int			 started;	/* the root value has begun */
	enum slot		 slot;		/* of the value to come */
	size_t			 bytes;
	/* the pair being read */
	enum item		 it[2];
	double			 num[2];
	char			*str;		/* a string item (prometheus value) */
	size_t			 pair_index;	/* datapoint or sample number */
	/* what the answer said */
	int			 seen_datapoints, seen_data, seen_result;
	int			 seen_series, seen_values, seen_value, scalar;
	char			 status[TEXT_MAX], error_type[TEXT_MAX];
	char			 error[TEXT_MAX], result_type[TEXT_MAX];
	int			 have_status, have_error_type, have_error;
	int			 have_result_type;
	size_t			 points, dropped, ignored;
	char			 err[FLUX_ERRLEN];
	int			 failed;
};

static int
stop(struct flux_series_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Remember why the answer is refused; 0, for yajl: cancel the parse. */
static int
stop(struct flux_series_parser *p, const char *fmt, ...)
{
	va_list	ap;

	if (!p->failed) {
		p->failed = 1;
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
	}
	return 0;
}

static struct frame *
top(struct flux_series_parser *p)
{
	return p->depth > 0 ? &p->stack[p->depth - 1] : NULL;
}

/* Item i of the datapoints or samples is not a pair. */
static int
stop_shape(struct flux_series_parser *p, size_t i)
{
	if (p->kind == FLUX_SERIES_GRAPHITE)
		return stop(p, "datapoint %zu is not [value, timestamp]", i);
	return stop(p, "sample %zu is not [timestamp, value]", i);
}

/* A timestamp: a finite number in [0, 2^32), fractions truncated. */
static int
valid_ts(enum item it, double v, int64_t *ts)
{
	if (it != I_NUMBER || !(v >= 0) || !(v < TS_LIMIT))
		return -1;
	*ts = (int64_t)v;
	return 0;
}

static int
emit(struct flux_series_parser *p, int64_t ts, double v)
{
	if (!isfinite(v)) {
		p->dropped++;
		return 1;
	}
	p->points++;
	if (p->sink(p->ctx, ts, v, p->err) == -1) {
		p->failed = 1;
		return 0;
	}
	return 1;
}

/*
 * A Prometheus sample value: a string (so that NaN and +-Inf can be
 * written) or, leniently, a number. Non-finite values are dropped; text
 * that is no number at all is an error.
 */
static int
prom_value(const struct flux_series_parser *p, double *out)
{
	char	*end;

	if (p->it[1] == I_NUMBER) {
		*out = p->num[1];
		return 0;
	}
	if (p->it[1] != I_STRING)
		return -1;
	if (flux_parse_double(p->str, out) == 0)
		return 0;
	/* Only a complete spelling of a non-finite number is dropped. */
	*out = strtod(p->str, &end);
	if (end == p->str || *end != '\0' || isfinite(*out))
		return -1;
	return 0;
}

/* A pair closed: check it and hand its sample on. */
static int
end_pair(struct flux_series_parser *p, size_t items)
{
	size_t	i = p->pair_index++;
	int64_t	ts;
	double	v;

	if (items != 2)
		return stop_shape(p, i);
	if (p->kind == FLUX_SERIES_GRAPHITE) {
		if (valid_ts(p->it[1], p->num[1], &ts) == -1)
			return stop(p, "datapoint %zu has an invalid timestamp", i);
		if (p->it[0] == I_NULL) {
			p->dropped++;
			return 1;
		}
		if (p->it[0] != I_NUMBER)
			return stop(p, "datapoint %zu has a value that is not a number", i);
		return emit(p, ts, p->num[0]);
	}
	if (valid_ts(p->it[0], p->num[0], &ts) == -1)
		return stop(p, "sample %zu has an invalid timestamp", i);
	if (prom_value(p, &v) == -1)
		return stop(p, "sample %zu has a value that is not a number", i);
	return emit(p, ts, v);
}

/* A scalar item inside a pair. */
static int
pair_item(struct flux_series_parser *p, struct frame *f, enum item it,
    double num, const char *s, size_t len)
{
	size_t	k = f->items++;

	if (k >= 2)
		return 1;	/* end_pair refuses it */
	p->it[k] = it;
	p->num[k] = num;
	if (it == I_STRING && k == 1) {
		free(p->str);
		if ((p->str = strndup(s, len)) == NULL) {
			flux_errf(p->err, "out of memory");
			p->failed = 1;
			return 0;
		}
	}
	return 1;
}

/* The role of a new container, from where it opens; 0 to cancel. */
static int
open_role(struct flux_series_parser *p, int map, enum role *role)
{
	struct frame	*f = top(p);
	enum slot	 slot = p->slot;
	size_t		 k = f ? f->items++ : 0;

	p->slot = K_NONE;
	*role = R_SKIP;
	if (f == NULL) {
		if (p->kind == FLUX_SERIES_GRAPHITE && map)
			return stop(p, "not a graphite render answer: not a list");
		if (p->kind == FLUX_SERIES_PROMETHEUS && !map)
			return stop(p, "not a prometheus answer: no status success");
		*role = p->kind == FLUX_SERIES_GRAPHITE ? R_G_ROOT : R_P_ROOT;
		return 1;
	}
	switch (f->role) {
	case R_G_ROOT:
		if (k > 0)
			p->ignored++;
		else if (!map)
			return stop(p, "not a graphite render answer: no datapoints");
		else
			*role = R_G_SERIES;
		break;
	case R_G_SERIES:
		if (slot == K_DATAPOINTS && !map)
			*role = R_G_DPS;
		break;
	case R_G_DPS:
	case R_P_VALUES:
		if (map)
			return stop_shape(p, p->pair_index);
		*role = R_PAIR;
		break;
	case R_P_ROOT:
		if (slot == K_DATA && map)
			*role = R_P_DATA;
		break;
	case R_P_DATA:
		if (slot == K_RESULT && !map)
			*role = R_P_RESULT;
		break;
	case R_P_RESULT:
		if (p->scalar)
			return stop_shape(p, 0);
		if (k > 0)
			p->ignored++;
		else if (map)
			*role = R_P_SERIES;
		else
			return stop(p, "not a prometheus answer: no matrix, vector or "
			    "scalar result");
		break;
	case R_P_SERIES:
		if (slot == K_VALUES && !map)
			*role = R_P_VALUES;
		else if (slot == K_VALUE && !map)
			*role = R_PAIR;
		break;
	case R_PAIR:
		return stop_shape(p, p->pair_index);
	default:
		break;
	}
	return 1;
}

static int
push(struct flux_series_parser *p, int map)
{
	enum role	role;

	if (p->depth == FLUX_SERIES_DEPTH_MAX) {
		p->failed = 1;
		flux_errf(p->err, "answer nested deeper than %d levels",
		    FLUX_SERIES_DEPTH_MAX);
		return 0;
	}
	p->started = 1;
	if (!open_role(p, map, &role))
		return 0;
	if (role == R_G_DPS)
		p->seen_datapoints = 1;
	else if (role == R_P_DATA)
		p->seen_data = 1;
	else if (role == R_P_RESULT)
		p->seen_result = 1;
	else if (role == R_P_SERIES)
		p->seen_series = 1;
	else if (role == R_P_VALUES)
		p->seen_values = 1;
	else if (role == R_PAIR && top(p)->role == R_P_SERIES)
		p->seen_value = 1;
	p->stack[p->depth++] = (struct frame){ role, map, 0 };
	return 1;
}

static int
pop(struct flux_series_parser *p)
{
	struct frame	f = p->stack[--p->depth];

	if (f.role == R_PAIR || (f.role == R_P_RESULT && p->scalar))
		return end_pair(p, f.items);
	if (f.role == R_G_SERIES && !p->seen_datapoints)
		return stop(p, "not a graphite render answer: no datapoints");
	return 1;
}

/* A scalar value (null, bool, number, string) wherever it stands. */
static int
scalar(struct flux_series_parser *p, enum item it, double num, const char *s,
    size_t len)
{
	struct frame	*f = top(p);
	enum slot	 slot = p->slot;
	char		*dst = NULL;
	int		*have = NULL;

	p->slot = K_NONE;
	p->started = 1;
	if (f == NULL)
		return p->kind == FLUX_SERIES_GRAPHITE ?
		    stop(p, "not a graphite render answer: not a list") :
		    stop(p, "not a prometheus answer: no status success");
	if (f->role == R_PAIR)
		return pair_item(p, f, it, num, s, len);
	if (f->role == R_P_RESULT && f->items == 0 && !p->scalar)
		p->scalar = 1;		/* "result": [ts, "v"] */
	if (f->role == R_P_RESULT && p->scalar)
		return pair_item(p, f, it, num, s, len);
	f->items++;
	if (f->role == R_G_ROOT)
		return f->items > 1 ? (p->ignored++, 1) :
		    stop(p, "not a graphite render answer: no datapoints");
	if (f->role == R_G_DPS || f->role == R_P_VALUES)
		return stop_shape(p, p->pair_index);
	if (it != I_STRING)
		return 1;
	if (slot == K_STATUS && f->role == R_P_ROOT)
		dst = p->status, have = &p->have_status;
	else if (slot == K_ERROR_TYPE && f->role == R_P_ROOT)
		dst = p->error_type, have = &p->have_error_type;
	else if (slot == K_ERROR && f->role == R_P_ROOT)
		dst = p->error, have = &p->have_error;
	else if (slot == K_RESULT_TYPE && f->role == R_P_DATA)
		dst = p->result_type, have = &p->have_result_type;
	if (dst != NULL && !*have) {
		snprintf(dst, TEXT_MAX, "%.*s", (int)(len < TEXT_MAX ? len : TEXT_MAX - 1), s);
		*have = 1;
	}
	return 1;
}

/* ------------------------------------------------------ yajl callbacks -- */

static int
cb_null(void *ctx)
{
	return scalar(ctx, I_NULL, 0, NULL, 0);
}

static int
cb_boolean(void *ctx, int b)
{
	(void)b;
	return scalar(ctx, I_OTHER, 0, NULL, 0);
}

static int
cb_number(void *ctx, const char *s, size_t len)
{
	char	buf[128], *copy = buf, *end;
	double	v;

	if (len >= sizeof(buf) && (copy = strndup(s, len)) == NULL) {
		struct flux_series_parser *p = ctx;

		p->failed = 1;
		flux_errf(p->err, "out of memory");
		return 0;
	}
	if (copy == buf) {
		memcpy(buf, s, len);
		buf[len] = '\0';
	}
	v = strtod(copy, &end);
	if (copy != buf)
		free(copy);
	return scalar(ctx, I_NUMBER, v, NULL, 0);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return scalar(ctx, I_STRING, 0, (const char *)s, len);
}

static const struct {
	const char	*name;
	enum role	 in;
	enum slot	 slot;
} keys[] = {
	{ "datapoints", R_G_SERIES, K_DATAPOINTS },
	{ "status", R_P_ROOT, K_STATUS },
	{ "data", R_P_ROOT, K_DATA },
	{ "errorType", R_P_ROOT, K_ERROR_TYPE },
	{ "error", R_P_ROOT, K_ERROR },
	{ "resultType", R_P_DATA, K_RESULT_TYPE },
	{ "result", R_P_DATA, K_RESULT },
	{ "values", R_P_SERIES, K_VALUES },
	{ "value", R_P_SERIES, K_VALUE },
};

/* A key: which value comes next. Only the first of a repeated key counts. */
static int
cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct flux_series_parser	*p = ctx;
	struct frame			*f = top(p);
	size_t				 i;

	p->slot = K_NONE;
	for (i = 0; f != NULL && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].in == f->role && strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, s, len) == 0)
			p->slot = keys[i].slot;
	if ((p->slot == K_DATAPOINTS && p->seen_datapoints) ||
	    (p->slot == K_DATA && p->seen_data) ||
	    (p->slot == K_RESULT && p->seen_result) ||
	    (p->slot == K_VALUES && p->seen_values) ||
	    (p->slot == K_VALUE && p->seen_value))
		p->slot = K_NONE;
	return 1;
}

static int
cb_start_map(void *ctx)
{
	return push(ctx, 1);
}

static int
cb_start_array(void *ctx)
{
	return push(ctx, 0);
}

static int
cb_end(void *ctx)
{
	return pop(ctx);
}

static const yajl_callbacks callbacks = {
	cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

/* -------------------------------------------------------------- parser -- */

/*
 * A parser of one answer of the given kind, handing each finite sample to
 * sink. NULL when out of memory; free it with flux_series_parser_free().
 */
struct flux_series_parser *
flux_series_parser_new(enum flux_series_kind kind, flux_series_sink sink,
    void *ctx)
{
	struct flux_series_parser	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->kind = kind;
	p->sink = sink;
	p->ctx = ctx;
	if ((p->y = yajl_alloc(&callbacks, NULL, p)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

/* Why yajl stopped: our own reason, or the text is not JSON. */
static int
failure(struct flux_series_parser *p, char err[])
{
	if (p->failed)
		flux_errf(err, "%s", p->err);
	else
		flux_errf(err, "answer is not JSON");
	p->failed = 1;
	return -1;
}

/* The next n bytes of the answer; -1 with err once it has failed. */
int
flux_series_parser_feed(struct flux_series_parser *p, const char *buf,
    size_t n, char err[])
{
	const char	*why;

	if (p->failed)
		return failure(p, err);
	p->bytes += n;
	if (flux_json_scan(&p->scan, buf, n, FLUX_SERIES_TOKEN_MAX, &why) == -1) {
		p->failed = 1;
		flux_errf(p->err, "answer is not JSON: %s", why);
		return failure(p, err);
	}
	if (yajl_parse(p->y, (const unsigned char *)buf, n) != yajl_status_ok)
		return failure(p, err);
	return 0;
}

/* What a whole Prometheus answer must have said besides its samples. */
static int
prom_verdict(struct flux_series_parser *p, char err[])
{
	const char	*t = p->have_result_type ? p->result_type : "";

	if (!p->have_status || strcmp(p->status, "success") != 0) {
		if (p->have_error)
			flux_errf(err, "prometheus answered an error: %s: %s",
			    p->have_error_type ? p->error_type : "unknown", p->error);
		else
			flux_errf(err, "not a prometheus answer: no status "
			    "success");
		return -1;
	}
	if (!p->seen_data)
		return flux_errf(err, "not a prometheus answer: no data");
	if (!p->seen_result || (strcmp(t, "matrix") != 0 &&
	    strcmp(t, "vector") != 0 && strcmp(t, "scalar") != 0) ||
	    (p->scalar && strcmp(t, "scalar") != 0))
		return flux_errf(err, "not a prometheus answer: no matrix, "
		    "vector or scalar result");
	if ((strcmp(t, "scalar") == 0 && !p->scalar) ||
	    (strcmp(t, "vector") == 0 && p->seen_series && !p->seen_value))
		return flux_errf(err, "sample 0 is not [timestamp, value]");
	if ((strcmp(t, "matrix") == 0 && p->seen_value) ||
	    (strcmp(t, "vector") == 0 && p->seen_values))
		return flux_errf(err, "not a prometheus answer: the result does "
		    "not match its resultType %s", t);
	if (strcmp(t, "matrix") == 0 && p->seen_series && !p->seen_values)
		return flux_errf(err, "not a prometheus answer: no values");
	return 0;
}

/* The answer has ended: 0 when it was whole and of the expected shape. */
int
flux_series_parser_finish(struct flux_series_parser *p, char err[])
{
	if (p->failed)
		return failure(p, err);
	if (p->bytes == 0) {
		p->failed = 1;
		return flux_errf(err, "answer is not JSON (empty)");
	}
	if (yajl_complete_parse(p->y) != yajl_status_ok)
		return failure(p, err);
	if (p->kind == FLUX_SERIES_PROMETHEUS && prom_verdict(p, err) == -1) {
		p->failed = 1;
		return -1;
	}
	return 0;
}

void
flux_series_parser_counts(const struct flux_series_parser *p, size_t *points,
    size_t *dropped, size_t *ignored)
{
	*points = p->points;
	*dropped = p->dropped;
	*ignored = p->ignored;
}

void
flux_series_parser_free(struct flux_series_parser *p)
{
	if (p == NULL)
		return;
	yajl_free(p->y);
	free(p->str);
	free(p);
}

/* ------------------------------------------------------ whole answers -- */

static int
series_add(struct flux_series *s, int64_t ts, double value)
{
	struct flux_sample	*v;
	size_t			 cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 1024;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(s->v, cap * sizeof(*v))) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct flux_sample){ ts, value };
	return 0;
}

static int
to_series(void *ctx, int64_t ts, double value, char err[])
{
	if (series_add(ctx, ts, value) == 0)
		return 0;
	return flux_errf(err, "out of memory");
}

/*
 * Append the samples of a whole answer to out (for answers known to be
 * small: the local Graphite's). On failure out is left as it was.
 */
int
flux_series_parse(enum flux_series_kind kind, const char *body, size_t len,
    struct flux_series *out, char err[])
{
	struct flux_series_parser	*p;
	size_t				 n0 = out->n, pts, drop, ign;
	int				 rc = -1;

	if ((p = flux_series_parser_new(kind, to_series, out)) == NULL)
		return flux_errf(err, "out of memory");
	if (flux_series_parser_feed(p, body, len, err) == 0 &&
	    flux_series_parser_finish(p, err) == 0) {
		flux_series_parser_counts(p, &pts, &drop, &ign);
		out->dropped += drop;
		out->ignored += ign;
		rc = 0;
	} else
		out->n = n0;
	flux_series_parser_free(p);
	return rc;
}

int
flux_series_graphite(const char *body, size_t len, struct flux_series *out,
    char err[])
{
	return flux_series_parse(FLUX_SERIES_GRAPHITE, body, len, out, err);
}

void
flux_series_free(struct flux_series *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- bins -- */

/*
 * One minute: its number plus one (0 marks a free slot; a timestamp below
 * 2^32 is a minute below 2^26), the count and the sum of its samples, and
 * the sum of the samples / 2^32, which cannot overflow where the sum can
 * (values near DBL_MAX) and then gives the mean instead.
 */
struct flux_bin {
	uint32_t	key;
	uint32_t	count;
	double		sum;
	double		scaled;
};

#define SCALE 4294967296.0

static size_t
slot_of(uint32_t key, size_t cap)
{
	return (size_t)((key * 2654435761u) & (uint32_t)(cap - 1));
}

static struct flux_bin *
find(struct flux_bin *v, size_t cap, uint32_t key)
{
	size_t	i = slot_of(key, cap);

	while (v[i].key != 0 && v[i].key != key)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Double the table (or make its first); -1 when out of memory. */
static int
grow(struct flux_bins *b)
{
	size_t		 cap = b->cap ? b->cap * 2 : 1024, i;
	struct flux_bin	*v;

	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < b->cap; i++)
		if (b->v[i].key != 0)
			*find(v, cap, b->v[i].key) = b->v[i];
	free(b->v);
	b->v = v;
	b->cap = cap;
	return 0;
}

/* The bin of key, made when missing; NULL with err when it cannot be. */
static struct flux_bin *
bin_of(struct flux_bins *b, uint32_t key, char err[])
{
	struct flux_bin	*x;

	if (b->cap > 0 && (x = find(b->v, b->cap, key))->key == key)
		return x;
	if (b->n == FLUX_SERIES_MAX_BINS) {
		flux_errf(err, "answers cover more than %d distinct "
		    "minutes", FLUX_SERIES_MAX_BINS);
		return NULL;
	}
	if ((b->n + 1) * 2 > b->cap && grow(b) == -1) {
		flux_errf(err, "out of memory");
		return NULL;
	}
	x = find(b->v, b->cap, key);
	*x = (struct flux_bin){ key, 0, 0, 0 };
	b->n++;
	return x;
}

/* Add a sample (ts in [0, 2^32), value finite) to the bin of its minute. */
int
flux_bins_add(struct flux_bins *b, int64_t ts, double value, char err[])
{
	struct flux_bin	*x = bin_of(b, (uint32_t)(ts / FLUX_BIN_SECONDS) + 1, err);

	if (x == NULL)
		return -1;
	x->count++;
	x->sum += value;
	x->scaled += value / SCALE;
	return 0;
}

/* Move every bin of src into dst, emptying src. */
int
flux_bins_merge(struct flux_bins *dst, struct flux_bins *src, char err[])
{
	struct flux_bin	*x;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; rc == 0 && i < src->cap; i++) {
		if (src->v[i].key == 0)
			continue;
		if ((x = bin_of(dst, src->v[i].key, err)) == NULL)
			rc = -1;
		else {
			x->count += src->v[i].count;
			x->sum += src->v[i].sum;
			x->scaled += src->v[i].scaled;
		}
	}
	flux_bins_free(src);
	return rc;
}

static int
cmp_ts(const void *a, const void *b)
{
	const struct flux_sample *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

/*
 * The bins labelled in (after, before), in time order, as samples of
 * their minute's mean (floor(ts / 60) * 60; SPEC 7), into out (replaced).
 * -1 when out of memory.
 */
int
flux_bins_select(const struct flux_bins *b, int64_t after, int64_t before,
    struct flux_series *out)
{
	double	mean;
	int64_t	ts;
	size_t	i;

	flux_series_free(out);
	for (i = 0; i < b->cap; i++) {
		if (b->v[i].key == 0)
			continue;
		ts = (int64_t)(b->v[i].key - 1) * FLUX_BIN_SECONDS;
		mean = b->v[i].sum / b->v[i].count;
		if (!isfinite(mean))
			mean = b->v[i].scaled / b->v[i].count * SCALE;
		if (ts > after && ts < before && isfinite(mean) &&
		    series_add(out, ts, mean) == -1)
			return -1;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_ts);
	return 0;
}

void
flux_bins_free(struct flux_bins *b)
{
	free(b->v);
	b->v = NULL;
	b->cap = b->n = 0;
}
