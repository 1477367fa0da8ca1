/*
 * ingest.c - see ingest.h. The order matters: a point is marked as seen in
 * flux.last only together with its acceptance, and an accepted point is,
 * before the client hears 204, either in carbon or durably in the spool.
 */
#include <stdio.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "deliver.h"
#include "ingest.h"
#include "log.h"
#include "stats.h"
#include "store.h"

/*
 * Mark every point of p FLUX_PT_ACCEPT or FLUX_PT_DUP. When test is set
 * flux.last is only read. Redis being unreachable refuses no data: every
 * point is then taken without de-duplication, with a warning.
 */
int
flux_ingest_dedup(struct flux_env *env, struct flux_points *p, int test)
{
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN];
	size_t			 i, need = 0;
	int			 rc = -1;

	for (i = 0; i < p->n; i++)
		need += env->conf.check_last_timestamp && !p->v[i].fill;
	/* No point to de-duplicate: no Redis round trip at all. */
	s = need ? flux_env_store(env) : NULL;
	if (s != NULL && (rc = flux_store_dedup(s, &env->conf, p, !test, err)) == 0)
		return 0;
	if (s != NULL && rc == -1) {
		flux_warn("%s", err);
		/* A connection kept from an earlier request may have gone stale. */
		s = flux_env_store_retry(env);
		if (s != NULL && (rc = flux_store_dedup(s, &env->conf, p, !test,
		    err)) == 0)
			return 0;
		if (s != NULL && rc == -1) {
			flux_warn("%s", err);
			flux_env_store_retry(env);
		}
	}
	if (rc == -2)
		/* Another request's claim never ended: deliver rather than drop. */
		flux_warn("%s; de-duplication skipped for %zu points", err, p->n);
	else if (need)
		flux_warn("de-duplication skipped for %zu points: redis unavailable",
		    p->n);
	for (i = 0; i < p->n; i++)
		p->v[i].state = FLUX_PT_ACCEPT;
	return 0;
}

static void
log_points(const struct flux_points *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].state == FLUX_PT_ACCEPT)
			flux_info("not sent (FLUX_SEND_TO_CARBON is false): %s %.17g %lld",
			    p->v[i].name, p->v[i].value, (long long)p->v[i].ts);
}

/*
 * The accepted points are delivered or spooled, and the request succeeds.
 * Its claim ends once the answer is out (flux_cgi_main: the client does
 * not wait for that round trip), or lapses if that fails.
 */
static int
confirmed(struct flux_env *env)
{
	env->confirm_due = env->store != NULL;
	return 0;
}

/*
 * De-duplicate p, then deliver or spool the accepted points. Returns 0 when
 * every accepted point is delivered or spooled; -1 (with err) when they are
 * neither, after rolling flux.last back, so the client may retry.
 */
int
flux_ingest(struct flux_env *env, struct flux_points *p, char err[])
{
	struct flux_delivery	d = { &env->conf, NULL, &env->stats, 0, 0, 0,
	    env->conf.carbon_keep ? env->carbon : NULL };
	char			rerr[FLUX_ERRLEN];
	size_t			n;

	flux_ingest_dedup(env, p, 0);
	n = flux_points_count(p, FLUX_PT_ACCEPT);
	/* The de-dup script counted the duplicates itself. */
	flux_stats_counted(&env->stats, FLUX_STAT_DUPLICATES,
	    (int64_t)flux_points_count(p, FLUX_PT_DUP));
	if (n == 0)
		return 0;
	if (!env->conf.send_to_carbon) {
		log_points(p);
		flux_stats_add(&env->stats, FLUX_STAT_ACCEPTED, (int64_t)n);
		return confirmed(env);
	}
	if (flux_deliver(&d, p, err) == 0) {
		flux_stats_add(&env->stats, FLUX_STAT_ACCEPTED, (int64_t)n);
		return confirmed(env);
	}
	flux_err("%s; %zu points neither delivered nor spooled", err, n);
	if (env->store != NULL && flux_store_rollback(env->store, rerr) == -1)
		flux_err("%s", rerr);
	return -1;
}

/*
 * The answer to a test request (SPEC 4.2): what would be ingested and what
 * dropped (duplicates, and the names in dropped), as real JSON arrays.
 */
void
flux_resp_test(struct flux_resp *resp, const char *prefix,
    const struct flux_points *p, const struct flux_list *dropped)
{
	cJSON	*o = cJSON_CreateObject(), *m = cJSON_CreateArray(),
		*d = cJSON_CreateArray();
	size_t	 i, ndrop = dropped ? dropped->n : 0;

	if (o == NULL || m == NULL || d == NULL)
		goto done;
	for (i = 0; i < p->n; i++)
		cJSON_AddItemToArray(p->v[i].state == FLUX_PT_DUP ? d : m,
		    cJSON_CreateString(p->v[i].name));
	for (i = 0; i < ndrop; i++)
		cJSON_AddItemToArray(d, cJSON_CreateString(dropped->v[i]));
	if (prefix)
		cJSON_AddStringToObject(o, "namespace", prefix);
	else
		cJSON_AddNullToObject(o, "namespace");
	cJSON_AddStringToObject(o, "message", "metric ingestion test, no metrics "
	    "were ingested only counts are reported");
	cJSON_AddNumberToObject(o, "ingest_count",
	    (double)flux_points_count(p, FLUX_PT_ACCEPT));
	cJSON_AddNumberToObject(o, "drop_count",
	    (double)(flux_points_count(p, FLUX_PT_DUP) + ndrop));
	cJSON_AddItemToObject(o, "metrics", m);
	cJSON_AddItemToObject(o, "dropped", d);
	m = d = NULL;
done:
	flux_resp_json(resp, 200, o);
	cJSON_Delete(o);
	cJSON_Delete(m);
	cJSON_Delete(d);
}
