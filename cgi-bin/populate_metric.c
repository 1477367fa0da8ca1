/*
 * populate_metric - POST /flux/populate_metric (SPEC 4.3): Vista asks for a
 * metric's history to be fetched from a remote Graphite or Prometheus. The
 * payload is checked here, the key first, and queued durably in Redis as a
 * normalised job; flux-batch does the fetching (SPEC 7). Nothing is queued
 * unless everything in the payload is valid, every URL's host is allowed
 * (FLUX_POPULATE_ALLOWED_HOSTS) and the key has fewer than
 * FLUX_POPULATE_MAX_JOBS_PER_KEY jobs queued (429 otherwise).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "fetch.h"
#include "log.h"
#include "metric.h"
#include "popjob.h"
#include "store.h"

/*
 * A known key or 401, before anything else is looked at. "None" (what
 * Skyline let through, Q23) is not 32 alphanumerics, so it fails here.
 * *prefix is the key's namespace prefix, NULL for none.
 */
static int
check_key(struct flux_env *env, const cJSON *root, const char **prefix,
    struct flux_resp *resp)
{
	const cJSON	*k = cJSON_GetObjectItemCaseSensitive(root, "key");

	if (k == NULL || cJSON_IsNull(k)) {
		flux_resp_error(resp, 400, "no key passed");
		return -1;
	}
	if (!cJSON_IsString(k) ||
	    flux_key_check(&env->conf, k->valuestring, prefix) == -1) {
		flux_resp_error(resp, 401, "invalid key");
		return -1;
	}
	return 0;
}

/*
 * The tag a job carries to count the jobs of its key: a 64-bit FNV-1a
 * fingerprint of the key, in hex. It tells keys apart without keeping the
 * key (no more than 64 of a key's 190 bits, so it cannot be found from it).
 */
static char *
key_tag(const char *key)
{
	uint64_t	h = 14695981039346656037ULL;
	char		tag[20];

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	snprintf(tag, sizeof(tag), "k%016llx", (unsigned long long)h);
	return strdup(tag);
}

/* Every URL's host must be allowed (SSRF: see INSTALL); else a 400. */
static int
hosts_allowed(const struct flux_conf *c, const struct flux_popjob *job,
    struct flux_resp *resp)
{
	size_t	i;

	for (i = 0; i < job->urls.n; i++)
		if (!flux_fetch_host_allowed(&c->populate_hosts, job->urls.v[i])) {
			flux_resp_error(resp, 400, "invalid fetch_resolution_urls - %s - "
			    "host not in FLUX_POPULATE_ALLOWED_HOSTS", job->urls.v[i]);
			return -1;
		}
	return 0;
}

/* Queue the job; 429 past the key's bound, 503 when it cannot be kept. */
static void
enqueue(struct flux_env *env, struct flux_popjob *job, struct flux_resp *resp)
{
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN], *text;
	int			 rc = -1;

	if ((text = flux_popjob_encode(job)) == NULL) {
		flux_err("cannot encode the populate job: out of memory");
		flux_resp_error(resp, 500, "internal error");
		return;
	}
	if ((s = flux_env_store(env)) != NULL &&
	    (rc = flux_popjob_push_bounded(s, text, job->owner,
	    env->conf.populate_max_per_key, err)) == -1) {
		/* A stale connection, or a master a fail-over has demoted. */
		flux_warn("%s", err);
		if ((s = flux_env_store_retry(env)) != NULL)
			rc = flux_popjob_push_bounded(s, text, job->owner,
			    env->conf.populate_max_per_key, err);
	}
	if (rc == -1) {
		if (s != NULL)
			flux_err("%s", err);
		flux_resp_error(resp, 503, "redis unavailable");
	} else if (rc == 1) {
		flux_warn("populate job for '%s' refused: its key has %lld jobs queued",
		    job->metric, (long long)env->conf.populate_max_per_key);
		flux_resp_error(resp, 429, "too many populate jobs queued for this key "
		    "- the limit is %lld", (long long)env->conf.populate_max_per_key);
	} else {
		if (rc == 2)
			flux_warn("populate job for '%s' queued on the redis master "
			    "only: %s; a fail-over now would lose it", job->metric, err);
		flux_info("queued populate job for '%s' from %s '%s' (%zu URLs)",
		    job->metric, flux_popjob_type_name(job->type),
		    job->remote_target, job->urls.n);
		flux_stats_add(&env->stats, FLUX_STAT_ACCEPTED, 1);
		resp->status = 204;
	}
	free(text);
}

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct flux_popjob	 job = { 0 };
	char			 msg[FLUX_MSG_MAX];
	const char		*prefix = NULL;
	cJSON			*root;

	if (flux_req_accept(req, resp, "POST") == -1)
		return;
	if ((root = flux_req_json(req, resp)) == NULL)
		return;
	if (check_key(env, root, &prefix, resp) == 0) {
		if (flux_popjob_from_json(root, 0, prefix, &job, msg) == -1)
			flux_resp_error(resp, 400, "%s", msg);
		else if (hosts_allowed(&env->conf, &job, resp) == 0) {
			job.queued_at = req->now;
			if ((job.owner = key_tag(cJSON_GetObjectItemCaseSensitive(root,
			    "key")->valuestring)) == NULL)
				flux_resp_error(resp, 500, "internal error");
			else
				enqueue(env, &job, resp);
		}
	}
	flux_popjob_free(&job);
	cJSON_Delete(root);
}

int
main(void)
{
	return flux_cgi_main("populate_metric", handle);
}
