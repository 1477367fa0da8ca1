/*
 * populate_metric - POST /flux/populate_metric (SPEC 4.3): Vista asks for a
 * metric's history to be fetched from a remote Graphite or Prometheus. The
 * payload is checked here, the key first, and queued durably in Redis as a
 * normalised job; flux-batch does the fetching (SPEC 7). Nothing is queued
 * unless everything in the payload is valid.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cgi.h"
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

/* Queue the job; 503 when it cannot be kept durably. */
static void
enqueue(struct flux_env *env, struct flux_popjob *job, struct flux_resp *resp)
{
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN], *text;

	if ((text = flux_popjob_encode(job)) == NULL) {
		flux_err("cannot encode the populate job: out of memory");
		flux_resp_error(resp, 500, "internal error");
		return;
	}
	if ((s = flux_env_store(env)) == NULL ||
	    flux_popjob_push(s, text, err) == -1) {
		if (s != NULL)
			flux_err("%s", err);
		flux_resp_error(resp, 503, "redis unavailable");
	} else {
		flux_info("queued populate job for '%s' from %s '%s' (%zu URLs)",
		    job->metric, flux_popjob_type_name(job->type),
		    job->remote_target, job->urls.n);
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
		else {
			job.queued_at = req->now;
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
