/*
 * series.c - see series.h. The parsers read what graphite-web and
 * Prometheus document (reference/ecosystem.md 1.4 and 1.5) and nothing
 * looser: a structural surprise is an error naming the datapoint, while
 * null and non-finite values are dropped and counted. A failed parse leaves
 * the output series as it was, so several answers can be appended in turn.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "series.h"
#include "util.h"

/* Timestamps are Unix seconds that carbon can store: below 2^32. */
#define TS_LIMIT 4294967296.0

int
flux_series_add(struct flux_series *s, int64_t ts, double value)
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

void
flux_series_free(struct flux_series *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Parse a whole answer. Every JSON value but the first follows a ',', '['
 * or '{', so counting those bytes bounds the values cJSON would allocate
 * before it allocates any. Returns the root (caller deletes) or NULL.
 */
static cJSON *
parse_json(const char *body, size_t len, char err[])
{
	const char	*why;
	cJSON		*root;
	size_t		 i, values = 1;

	for (i = 0; i < len; i++)
		values += body[i] == ',' || body[i] == '[' || body[i] == '{';
	if (values > FLUX_SERIES_MAX_VALUES) {
		snprintf(err, FLUX_ERRLEN, "answer too large: more than %d JSON values",
		    FLUX_SERIES_MAX_VALUES);
		return NULL;
	}
	if (len == 0) {
		snprintf(err, FLUX_ERRLEN, "answer is not JSON (empty)");
		return NULL;
	}
	if ((root = flux_json_parse(body, len, &why)) == NULL) {
		if (strncmp(why, "not JSON", 8) == 0)
			snprintf(err, FLUX_ERRLEN, "answer is %s", why);
		else
			snprintf(err, FLUX_ERRLEN, "answer is not JSON: %s", why);
		return NULL;
	}
	return root;
}

/* A timestamp: a finite number in [0, 2^32), fractions truncated. */
static int
parse_ts(const cJSON *t, int64_t *ts)
{
	if (!cJSON_IsNumber(t) || !(t->valuedouble >= 0) ||
	    !(t->valuedouble < TS_LIMIT))
		return -1;
	*ts = (int64_t)t->valuedouble;
	return 0;
}

/* The two items of a [a, b] pair, or -1. */
static int
pair(const cJSON *p, const cJSON **a, const cJSON **b)
{
	if (!cJSON_IsArray(p) || (*a = p->child) == NULL ||
	    (*b = (*a)->next) == NULL || (*b)->next != NULL)
		return -1;
	return 0;
}

static int
add_value(struct flux_series *out, int64_t ts, double v, char err[])
{
	if (!isfinite(v)) {
		out->dropped++;
		return 0;
	}
	if (flux_series_add(out, ts, v) == -1) {
		snprintf(err, FLUX_ERRLEN, "out of memory");
		return -1;
	}
	return 0;
}

/* Graphite: [value|null, ts]. */
static int
graphite_point(const cJSON *dp, size_t i, struct flux_series *out, char err[])
{
	const cJSON	*v, *t;
	int64_t		 ts;

	if (pair(dp, &v, &t) == -1) {
		snprintf(err, FLUX_ERRLEN, "datapoint %zu is not [value, timestamp]", i);
		return -1;
	}
	if (parse_ts(t, &ts) == -1) {
		snprintf(err, FLUX_ERRLEN, "datapoint %zu has an invalid timestamp", i);
		return -1;
	}
	if (cJSON_IsNull(v)) {
		out->dropped++;
		return 0;
	}
	if (!cJSON_IsNumber(v)) {
		snprintf(err, FLUX_ERRLEN, "datapoint %zu has a value that is not a "
		    "number", i);
		return -1;
	}
	return add_value(out, ts, v->valuedouble, err);
}

/*
 * Append the datapoints of the first series of a graphite-web render
 * answer, [{"target": T, "datapoints": [[value|null, ts], ...]}, ...], to
 * out. "[]" (an unknown metric) appends nothing and is not an error; the
 * other series of a glob target are counted in out->ignored.
 */
int
flux_series_graphite(const char *body, size_t len, struct flux_series *out,
    char err[])
{
	size_t		 n0 = out->n, d0 = out->dropped, i = 0;
	const cJSON	*first, *dps, *dp;
	cJSON		*root;
	int		 rc = -1;

	if ((root = parse_json(body, len, err)) == NULL)
		return -1;
	if (!cJSON_IsArray(root)) {
		snprintf(err, FLUX_ERRLEN, "not a graphite render answer: not a list");
		goto done;
	}
	if ((first = root->child) == NULL) {
		rc = 0;
		goto done;
	}
	dps = cJSON_GetObjectItemCaseSensitive(first, "datapoints");
	if (!cJSON_IsObject(first) || !cJSON_IsArray(dps)) {
		snprintf(err, FLUX_ERRLEN, "not a graphite render answer: no datapoints");
		goto done;
	}
	cJSON_ArrayForEach(dp, dps)
		if (graphite_point(dp, i++, out, err) == -1)
			goto done;
	out->ignored += (size_t)cJSON_GetArraySize(root) - 1;
	rc = 0;
done:
	if (rc == -1) {
		out->n = n0;
		out->dropped = d0;
	}
	cJSON_Delete(root);
	return rc;
}

/*
 * A Prometheus sample value: a string (so that NaN and +-Inf can be
 * written) or, leniently, a number. Non-finite values are dropped; text
 * that is no number at all is an error.
 */
static int
prom_value(const cJSON *v, double *out)
{
	char	*end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	if (flux_parse_double(v->valuestring, out) == 0)
		return 0;
	/* Only a complete spelling of a non-finite number is dropped. */
	*out = strtod(v->valuestring, &end);
	if (end == v->valuestring || *end != '\0' || isfinite(*out))
		return -1;
	return 0;
}

/* Prometheus: [ts, "value"]. */
static int
prom_sample(const cJSON *smp, size_t i, struct flux_series *out, char err[])
{
	const cJSON	*t, *v;
	int64_t		 ts;
	double		 value;

	if (pair(smp, &t, &v) == -1) {
		snprintf(err, FLUX_ERRLEN, "sample %zu is not [timestamp, value]", i);
		return -1;
	}
	if (parse_ts(t, &ts) == -1) {
		snprintf(err, FLUX_ERRLEN, "sample %zu has an invalid timestamp", i);
		return -1;
	}
	if (prom_value(v, &value) == -1) {
		snprintf(err, FLUX_ERRLEN, "sample %zu has a value that is not a "
		    "number", i);
		return -1;
	}
	return add_value(out, ts, value, err);
}

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON	*s = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* "status": "error" answers carry errorType and error; say what they say. */
static void
prom_error(const cJSON *root, char err[])
{
	const char	*type = str_of(root, "errorType"), *msg = str_of(root, "error");

	if (msg != NULL)
		snprintf(err, FLUX_ERRLEN, "prometheus answered an error: %s: %.512s",
		    type ? type : "unknown", msg);
	else
		snprintf(err, FLUX_ERRLEN, "not a prometheus answer: no status success");
}

/* The samples of the first series of a matrix or vector, or a scalar. */
static int
prom_result(const cJSON *data, struct flux_series *out, char err[])
{
	const char	*type = str_of(data, "resultType");
	const cJSON	*res = cJSON_GetObjectItemCaseSensitive(data, "result");
	const cJSON	*first, *vals, *smp;
	size_t		 i = 0;

	if (type != NULL && strcmp(type, "scalar") == 0)
		return prom_sample(res, 0, out, err);
	if (type == NULL || (strcmp(type, "matrix") != 0 &&
	    strcmp(type, "vector") != 0) || !cJSON_IsArray(res)) {
		snprintf(err, FLUX_ERRLEN, "not a prometheus answer: no matrix, "
		    "vector or scalar result");
		return -1;
	}
	if ((first = res->child) == NULL)
		return 0;
	out->ignored += (size_t)cJSON_GetArraySize(res) - 1;
	if (strcmp(type, "vector") == 0)
		return prom_sample(cJSON_GetObjectItemCaseSensitive(first, "value"),
		    0, out, err);
	vals = cJSON_GetObjectItemCaseSensitive(first, "values");
	if (!cJSON_IsArray(vals)) {
		snprintf(err, FLUX_ERRLEN, "not a prometheus answer: no values");
		return -1;
	}
	cJSON_ArrayForEach(smp, vals)
		if (prom_sample(smp, i++, out, err) == -1)
			return -1;
	return 0;
}

/*
 * Append the samples of a Prometheus query or query_range answer,
 * {"status": "success", "data": {"resultType", "result"}}, to out: the
 * first series' "values" of a matrix, its "value" of a vector, or the
 * scalar. An empty result appends nothing and is not an error.
 */
int
flux_series_prometheus(const char *body, size_t len, struct flux_series *out,
    char err[])
{
	size_t		 n0 = out->n, d0 = out->dropped, g0 = out->ignored;
	const char	*status;
	const cJSON	*data;
	cJSON		*root;
	int		 rc = -1;

	if ((root = parse_json(body, len, err)) == NULL)
		return -1;
	status = str_of(root, "status");
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsObject(root) || status == NULL ||
	    strcmp(status, "success") != 0)
		prom_error(root, err);
	else if (!cJSON_IsObject(data))
		snprintf(err, FLUX_ERRLEN, "not a prometheus answer: no data");
	else
		rc = prom_result(data, out, err);
	if (rc == -1) {
		out->n = n0;
		out->dropped = d0;
		out->ignored = g0;
	}
	cJSON_Delete(root);
	return rc;
}

/* Keep the samples with after < ts < before, in order. */
void
flux_series_keep(struct flux_series *s, int64_t after, int64_t before)
{
	size_t	r, w = 0;

	for (r = 0; r < s->n; r++)
		if (s->v[r].ts > after && s->v[r].ts < before)
			s->v[w++] = s->v[r];
	s->n = w;
}

static int
cmp_ts(const void *a, const void *b)
{
	const struct flux_sample *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

/* floor(ts / step) * step, also for negative ts. */
static int64_t
bin_of(int64_t ts, int64_t step)
{
	int64_t	r = ts % step;

	return ts - (r < 0 ? r + step : r);
}

/*
 * The mean of k values. The plain sum is exact for the usual data; only
 * when it overflows is the mean summed as v/k, which cannot.
 */
static double
mean_of(const struct flux_sample *v, size_t k)
{
	double	sum = 0;
	size_t	i;

	for (i = 0; i < k; i++)
		sum += v[i].value;
	if (isfinite(sum))
		return sum / (double)k;
	for (sum = 0, i = 0; i < k; i++)
		sum += v[i].value / (double)k;
	return sum;
}

/*
 * Sort s by time and replace it by step-second bins: each bin labelled
 * floor(ts / step) * step, holding the mean of its samples; bins without
 * samples are omitted (Skyline pickled them as NaN, which carbon drops).
 */
void
flux_series_resample(struct flux_series *s, int64_t step)
{
	size_t	r = 0, w = 0, start;
	int64_t	bin;
	double	mean;

	if (s->n == 0 || step <= 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_ts);
	while (r < s->n) {
		start = r;
		bin = bin_of(s->v[r].ts, step);
		while (r < s->n && bin_of(s->v[r].ts, step) == bin)
			r++;
		mean = mean_of(s->v + start, r - start);
		if (isfinite(mean))
			s->v[w++] = (struct flux_sample){ bin, mean };
	}
	s->n = w;
}
