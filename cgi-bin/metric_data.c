/*
 * metric_data - GET /flux/metric_data (SPEC 4.1): one point in the query
 * string. Checks run in a fixed order whatever the parameter order:
 * unknown or repeated parameter, status, key, metric, timestamp, value.
 */
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "health.h"
#include "ingest.h"
#include "log.h"
#include "metric.h"
#include "query.h"
#include "store.h"

enum param {
	P_METRIC,
	P_VALUE,
	P_TIMESTAMP,
	P_KEY,
	P_FILL,
	P_TEST,
	P_STATUS,
	P__MAX
};

static const char *const param_names[P__MAX] = {
	[P_METRIC] = "metric",
	[P_VALUE] = "value",
	[P_TIMESTAMP] = "timestamp",
	[P_KEY] = "key",
	[P_FILL] = "fill",
	[P_TEST] = "test",
	[P_STATUS] = "status",
};

/* Index the parameters by name; -1 (and an answer) on a bad one. */
static int
sort_params(const struct flux_query *q, const char *vals[P__MAX],
    struct flux_resp *resp)
{
	size_t	i;
	int	k;

	for (i = 0; i < q->n; i++) {
		for (k = 0; k < P__MAX; k++)
			if (strcmp(q->v[i].name, param_names[k]) == 0)
				break;
		if (k == P__MAX || vals[k] != NULL) {
			flux_resp_error(resp, 400, "Invalid parameter received - %s",
			    q->v[i].name);
			return -1;
		}
		vals[k] = q->v[i].value;
	}
	return 0;
}

/* Validate metric, timestamp and value into p (SPEC 3); -1 with the answer set. */
static int
build_point(struct flux_env *env, struct flux_req *req, const char *vals[],
    const char *prefix, struct flux_points *p, struct flux_resp *resp)
{
	struct flux_point_rules	r = { &env->conf, req->now, prefix,
	    &flux_point_strings };
	struct flux_point_in	in = { vals[P_METRIC], vals[P_TIMESTAMP],
	    vals[P_VALUE], vals[P_FILL] && strcmp(vals[P_FILL], "true") == 0 };
	char			msg[FLUX_MSG_MAX];

	switch (flux_point_check(&r, &in, p, msg, NULL)) {
	case FLUX_POINT_OK:
		return 0;
	case FLUX_POINT_BAD:
		flux_resp_error(resp, 400, "%s", msg);
		return -1;
	default:
		flux_resp_error(resp, 500, "internal error");
		return -1;
	}
}

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct flux_query	 q;
	struct flux_points	 p = { 0 };
	const char		*vals[P__MAX] = { 0 }, *prefix = NULL, *xt;
	char			 err[FLUX_ERRLEN];
	int			 test;

	if (flux_req_accept(req, resp, "GET") == -1)
		return;
	if (flux_query_parse(req->query, &q) == -1) {
		flux_resp_error(resp, 400, "invalid query string");
		goto done;
	}
	if (sort_params(&q, vals, resp) == -1)
		goto done;
	/* What a refusal's log line names: never the key. */
	flux_resp_metric(resp, vals[P_METRIC]);
	if (vals[P_STATUS] && strcmp(vals[P_STATUS], "true") == 0) {
		flux_resp_health(env, req->now, resp);
		goto done;
	}
	if (vals[P_KEY] == NULL) {
		flux_resp_error(resp, 400, "no key parameter passed");
		goto done;
	}
	if (flux_key_check(&env->conf, vals[P_KEY], &prefix) == -1) {
		flux_resp_error(resp, 401, "invalid key");
		goto done;
	}
	if (build_point(env, req, vals, prefix, &p, resp) == -1)
		goto done;
	xt = flux_req_env(req, "HTTP_X_TEST_ONLY");
	test = (vals[P_TEST] && strcmp(vals[P_TEST], "true") == 0) ||
	    (xt != NULL && *xt != '\0');
	if (test) {
		flux_ingest_dedup(env, &p, 1);
		flux_resp_test(resp, prefix, &p, NULL);
	} else if (flux_ingest(env, &p, err) == -1)
		flux_resp_error(resp, 503, "points could not be delivered or spooled, "
		    "retry later");
	else
		resp->status = 204;
done:
	flux_points_free(&p);
	flux_query_free(&q);
}

int
main(void)
{
	return flux_cgi_main("metric_data", handle);
}
