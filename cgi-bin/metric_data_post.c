/*
 * metric_data_post - POST /flux/metric_data_post (SPEC 4.2): JSON bodies in
 * the single, multi and telegraf forms, optionally gzipped. Every element
 * is validated before anything is delivered: one bad element rejects the
 * request and nothing of it reaches carbon or flux.last.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "health.h"
#include "ingest.h"
#include "log.h"
#include "metric.h"
#include "store.h"
#include "telegraf.h"

/* One request being taken apart. */
struct post {
	struct flux_env		*env;
	struct flux_req		*req;
	struct flux_resp	*resp;
	cJSON			*root;
	const char		*prefix;	/* the key's namespace prefix */
	struct flux_point_rules	 rules;		/* once the key is known */
	struct flux_points	 points;
	struct flux_list	 dropped;	/* telegraf: non-numeric fields */
};

/* Body flags accept true or "true" only. */
static int
flag(const cJSON *o, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsTrue(f) || (cJSON_IsString(f) && strcmp(f->valuestring,
	    "true") == 0);
}

static const char *
str_item(const cJSON *o, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* The text a client sent for an item: a string as is, else its JSON. */
static char *
raw_text(const void *item)
{
	const cJSON	*it = item;

	if (it == NULL)
		return strdup("None");
	if (cJSON_IsString(it))
		return strdup(it->valuestring);
	return cJSON_PrintUnformatted(it);
}

/* A 400 about element idx, its name in "metric" so the client can find it. */
static int
reject(struct post *ps, int idx, const char *metric, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
reject(struct post *ps, int idx, const char *metric, const char *fmt, ...)
{
	char	 msg[FLUX_MSG_MAX], *clean;
	cJSON	*o;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	flux_resp_error(ps->resp, 400, "%s", msg);
	flux_resp_metric(ps->resp, metric);
	if (idx < 0 || (o = cJSON_Parse(ps->resp->body.ptr)) == NULL)
		return -1;
	clean = metric ? flux_utf8_clean(metric, strlen(metric)) : NULL;
	if (clean)
		cJSON_AddStringToObject(o, "metric", clean);
	cJSON_AddNumberToObject(o, "index", idx);
	flux_resp_json(ps->resp, 400, o);
	cJSON_Delete(o);
	free(clean);
	return -1;
}

/* A JSON timestamp: an integer, or a string of digits (SPEC 3). */
static int
parse_ts(const void *item, int64_t *ts)
{
	const cJSON	*t = item;

	if (cJSON_IsString(t))
		return flux_ts_parse(t->valuestring, ts);
	if (!cJSON_IsNumber(t) || !(t->valuedouble >= 0) ||
	    t->valuedouble > (double)UINT32_MAX ||
	    t->valuedouble != floor(t->valuedouble))
		return -1;
	*ts = (int64_t)t->valuedouble;
	return 0;
}

/* A JSON value: a finite number, or a string that is one (SPEC 3). */
static int
parse_value(const void *item, double *out)
{
	const cJSON	*v = item;

	if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		*out = v->valuedouble;
		return 0;
	}
	return cJSON_IsString(v) ? flux_parse_double(v->valuestring, out) : -1;
}

/* How the JSON forms carry a point's parts (metric.h). */
static const struct flux_point_form json_form = {
	parse_ts, parse_value, raw_text
};

/* Validate one point and add it (SPEC 3); -1 with the answer set. */
static int
add_point(struct post *ps, int idx, const char *rawname, const cJSON *t,
    const cJSON *v, int fill)
{
	struct flux_point_in	in = { rawname, t, v, fill };
	char			msg[FLUX_MSG_MAX], *shown;

	switch (flux_point_check(&ps->rules, &in, &ps->points, msg, &shown)) {
	case FLUX_POINT_OK:
		return 0;
	case FLUX_POINT_BAD:
		reject(ps, idx, shown, "%s", msg);
		break;
	default:
		flux_resp_error(ps->resp, 500, "internal error");
	}
	free(shown);
	return -1;
}

/* One element of the flux forms: {"metric", "timestamp", "value", "fill"}. */
static int
add_element(struct post *ps, int idx, const cJSON *m, int fill)
{
	const char	*name = str_item(m, "metric");
	char		*raw;

	if (!cJSON_IsObject(m) || name == NULL) {
		raw = raw_text(m);
		reject(ps, idx, NULL, "invalid metric - %s - %s", raw ? raw : "",
		    cJSON_IsObject(m) ? "no metric name" : "not an object");
		free(raw);
		return -1;
	}
	return add_point(ps, idx, name,
	    cJSON_GetObjectItemCaseSensitive(m, "timestamp"),
	    cJSON_GetObjectItemCaseSensitive(m, "value"), fill || flag(m, "fill"));
}

static int
too_many(struct post *ps, size_t n)
{
	if (n <= (size_t)ps->env->conf.max_metrics_per_post)
		return 0;
	flux_resp_error(ps->resp, 413, "too many metrics in one request, the "
	    "limit is %lld", (long long)ps->env->conf.max_metrics_per_post);
	return 1;
}

static int
flux_forms(struct post *ps)
{
	const cJSON	*ms = cJSON_GetObjectItemCaseSensitive(ps->root, "metrics");
	const cJSON	*m;
	int		 i = 0;

	if (cJSON_IsArray(ms) && cJSON_GetArraySize(ms) > 0) {
		if (too_many(ps, (size_t)cJSON_GetArraySize(ms)))
			return -1;
		cJSON_ArrayForEach(m, ms)
			if (add_element(ps, i++, m, 0) == -1)
				return -1;
		return 0;
	}
	if (ms != NULL && !cJSON_IsArray(ms)) {
		flux_resp_error(ps->resp, 400, "invalid metrics - not a list");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(ps->root, "metric") == NULL) {
		flux_resp_error(ps->resp, 400, "no metric data passed");
		return -1;
	}
	return add_element(ps, -1, ps->root, flag(ps->root, "fill"));
}

static int
add_dropped(struct post *ps, const char *name)
{
	return flux_list_take(&ps->dropped, flux_metric_prefix(ps->prefix, name));
}

/*
 * One object of a telegraf batch: each numeric field a point, each other
 * field a dropped name (telegraf.h names them).
 */
static int
telegraf_object(struct post *ps, int idx, const cJSON *obj, const char *pfx)
{
	struct flux_telegraf	 t;
	const cJSON		*value;
	const char		*name;
	char			*raw;
	int			 rc;

	if (!flux_telegraf_is_metric(obj)) {
		raw = raw_text(obj);
		reject(ps, idx, NULL, "invalid metric - %s - %s", raw ? raw : "",
		    "not a telegraf metric");
		free(raw);
		return -1;
	}
	rc = flux_telegraf_open(&t, obj, pfx);
	while (rc == 0 && (rc = flux_telegraf_next(&t, &name, &value)) == 1)
		if (value == NULL)
			rc = add_dropped(ps, name);
		else if (add_point(ps, idx, name, cJSON_GetObjectItemCaseSensitive(obj,
		    "timestamp"), value, 0) == -1)
			rc = -2;	/* answered */
		else
			rc = 0;
	flux_telegraf_close(&t);
	if (rc == -1)
		flux_resp_error(ps->resp, 500, "internal error");
	return rc == 0 ? 0 : -1;
}

static int
telegraf_form(struct post *ps)
{
	const cJSON	*ms = cJSON_GetObjectItemCaseSensitive(ps->root, "metrics");
	const cJSON	*obj;
	const char	*pfx = flux_req_env(ps->req, "HTTP_PREFIX");
	int		 i = 0;

	if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) == 0) {
		flux_resp_error(ps->resp, 400, "no metric data passed");
		return -1;
	}
	if (too_many(ps, flux_telegraf_count(ms)))
		return -1;
	cJSON_ArrayForEach(obj, ms)
		if (telegraf_object(ps, i++, obj, pfx) == -1)
			return -1;
	return 0;
}

static int
is_telegraf(const struct flux_req *req)
{
	const char	*t = flux_req_env(req, "HTTP_TELEGRAF");

	return t != NULL && strcasecmp(t, "true") == 0;
}

/* 207 when telegraf fields were dropped, else 204. */
static void
answer_delivered(struct post *ps)
{
	cJSON	*o, *d;
	char	 msg[64], *clean;
	size_t	 i;

	if (ps->dropped.n == 0) {
		ps->resp->status = 204;
		return;
	}
	snprintf(msg, sizeof(msg), "%zu non-numeric value metrics were dropped",
	    ps->dropped.n);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "code", 207);
	cJSON_AddStringToObject(o, "message", msg);
	d = cJSON_AddArrayToObject(o, "dropped non-numeric metrics");
	for (i = 0; d != NULL && i < ps->dropped.n; i++) {
		clean = flux_utf8_clean(ps->dropped.v[i], strlen(ps->dropped.v[i]));
		cJSON_AddItemToArray(d, cJSON_CreateString(clean ? clean : ""));
		free(clean);
	}
	cJSON_AddNumberToObject(o, "processed metrics count", (double)ps->points.n);
	flux_resp_json(ps->resp, 207, o);
	cJSON_Delete(o);
}

/* Health check, key, validate_key; -1 when the request is answered. */
static int
check_key(struct post *ps)
{
	const char	*key = flux_req_env(ps->req, "HTTP_KEY");
	const cJSON	*k = cJSON_GetObjectItemCaseSensitive(ps->root, "key");

	if (key == NULL || *key == '\0')
		key = cJSON_IsString(k) ? k->valuestring : NULL;
	if (key == NULL && k != NULL && !cJSON_IsNull(k))
		key = "";	/* present but not a string: invalid, not missing */
	if (key == NULL) {
		flux_resp_error(ps->resp, 400, "no key passed");
		return -1;
	}
	if (flux_key_check(&ps->env->conf, key, &ps->prefix) == -1) {
		flux_resp_error(ps->resp, 401, "invalid key");
		return -1;
	}
	if (flag(ps->root, "validate_key")) {
		flux_resp_raw(ps->resp, 200, "{\"status\": \"key valid\"}");
		return -1;
	}
	return 0;
}

static void
run(struct post *ps)
{
	const char	*xt = flux_req_env(ps->req, "HTTP_X_TEST_ONLY");
	char		 err[FLUX_ERRLEN];
	int		 test;

	if ((ps->root = flux_req_json(ps->req, ps->resp)) == NULL)
		return;
	if (flag(ps->root, "status")) {
		flux_resp_health(ps->env, ps->req->now, ps->resp);
		return;
	}
	if (check_key(ps) == -1)
		return;
	ps->rules = (struct flux_point_rules){ &ps->env->conf, ps->req->now,
	    ps->prefix, &json_form };
	test = flag(ps->root, "test") || (xt != NULL && *xt != '\0');
	if ((is_telegraf(ps->req) ? telegraf_form(ps) : flux_forms(ps)) == -1)
		return;
	if (test) {
		flux_ingest_dedup(ps->env, &ps->points, 1);
		flux_resp_test(ps->resp, ps->prefix, &ps->points, &ps->dropped);
	} else if (flux_ingest(ps->env, &ps->points, err) == -1)
		flux_resp_error(ps->resp, 503, "points could not be delivered or "
		    "spooled, retry later");
	else
		answer_delivered(ps);
}

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct post	ps = { env, req, resp, NULL, NULL, { 0 }, { 0 }, { 0 } };

	if (flux_req_accept(req, resp, "POST") == -1)
		return;
	run(&ps);
	cJSON_Delete(ps.root);
	flux_points_free(&ps.points);
	flux_list_free(&ps.dropped);
}

int
main(void)
{
	return flux_cgi_main("metric_data_post", handle);
}
