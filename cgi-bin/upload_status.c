/*
 * upload_status - GET /flux/upload_status?upload_id_key=ID (SPEC 4.4): the
 * status record of an upload, {"upload": {...}}. Redis holds it for 30
 * days, so any node answers for an upload any node received; while Redis
 * cannot be reached the status.json kept with the upload answers instead,
 * wherever flux-batch has moved it, when the upload is on this node's
 * disk (else 503: it may be on another's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "metric.h"
#include "query.h"
#include "status.h"
#include "store.h"
#include "upload.h"
#include "util.h"

/* The record's text from Redis: NULL when unknown (*down set if unreachable). */
static char *
from_redis(struct flux_env *env, const char *id_key, int *down)
{
	struct flux_store	*s = flux_env_store(env);
	struct flux_buf		 k = { 0 };
	char			 err[FLUX_ERRLEN], *text = NULL;

	*down = 1;
	if (s == NULL || flux_buf_printf(&k, FLUX_STATUS_PREFIX "%s", id_key) == -1)
		return NULL;
	text = flux_store_get(s, k.ptr, err);
	if (text == NULL && err[0] != '\0') {
		/* A stale connection, or a master a fail-over has demoted. */
		flux_warn("%s", err);
		if ((s = flux_env_store_retry(env)) != NULL &&
		    (text = flux_store_get(s, k.ptr, err)) == NULL && err[0] != '\0')
			flux_warn("%s", err);
	}
	if (text != NULL || err[0] == '\0')
		*down = 0;
	flux_buf_free(&k);
	return text;
}

/* status.json of <ns>/<id> under root, if there is one. */
static char *
from_dir(const char *root, const char *ns, const char *id)
{
	char	path[FLUX_PATH_MAX], err[FLUX_ERRLEN];
	size_t	len;
	int	n;

	n = snprintf(path, sizeof(path), "%s/%s/%s/" FLUX_UPLOAD_STATUS, root, ns, id);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	return flux_fs_read(path, FLUX_UPLOAD_JSON_MAX, &len, err);
}

/*
 * Without Redis: try each split of ID into "<namespace>.<id>" (both may
 * hold dots) in the places an upload lives: pending, failed, saved.
 */
static char *
from_disk(const struct flux_conf *c, const char *id_key)
{
	char		 ns[FLUX_PATH_MAX], failed[FLUX_PATH_MAX], *text = NULL;
	const char	*dot;

	if (flux_fs_join(failed, sizeof(failed), c->uploads_path,
	    FLUX_UPLOAD_FAILED_DIR) == -1 || strlen(id_key) >= sizeof(ns))
		return NULL;
	for (dot = strchr(id_key, '.'); dot != NULL && text == NULL;
	    dot = strchr(dot + 1, '.')) {
		memcpy(ns, id_key, (size_t)(dot - id_key));
		ns[dot - id_key] = '\0';
		if (flux_metric_invalid(ns) != NULL || !flux_upload_id_ok(dot + 1))
			continue;
		if ((text = from_dir(c->uploads_path, ns, dot + 1)) == NULL &&
		    (text = from_dir(failed, ns, dot + 1)) == NULL)
			text = from_dir(c->save_uploads_path, ns, dot + 1);
	}
	return text;
}

static void
answer(struct flux_resp *resp, const char *text, const char *id_key)
{
	const char	*why = "";
	cJSON		*rec = flux_json_parse(text, strlen(text), &why);
	cJSON		*o = cJSON_CreateObject();

	if (!cJSON_IsObject(rec) || o == NULL) {
		flux_err("status record of %s is not a JSON object%s%s", id_key,
		    *why ? ": " : "", why);
		flux_resp_error(resp, 500, "internal error");
		cJSON_Delete(rec);
	} else {
		cJSON_AddItemToObject(o, "upload", rec);
		flux_resp_json(resp, 200, o);
	}
	cJSON_Delete(o);
}

static void
lookup(struct flux_env *env, const char *id_key, struct flux_resp *resp)
{
	char	*text;
	int	 down;

	if ((text = from_redis(env, id_key, &down)) == NULL && down)
		text = from_disk(&env->conf, id_key);
	/*
	 * Not on this node's disk, and Redis cannot say: the upload may be on
	 * another node's disk, or done and gone, so "unknown" would be a lie.
	 */
	if (text == NULL && down)
		flux_resp_error(resp, 503, "redis unavailable");
	else if (text == NULL)
		flux_resp_error(resp, 404, "unknown upload_id_key - %s", id_key);
	else
		answer(resp, text, id_key);
	free(text);
}

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct flux_query	 q = { 0 };
	const char		*id = NULL;
	size_t			 i;

	if (!env->conf.accept_uploads) {
		flux_resp_error(resp, 404, "not found");
		return;
	}
	if (flux_req_accept(req, resp, "GET") == -1)
		return;
	if (flux_query_parse(req->query, &q) == -1) {
		flux_resp_error(resp, 400, "invalid query string");
		return;
	}
	for (i = 0; i < q.n; i++)
		if (strcmp(q.v[i].name, "upload_id_key") == 0)
			id = q.v[i].value;
	if (id == NULL || *id == '\0')
		flux_resp_error(resp, 400, "no upload_id_key parameter passed");
	else
		lookup(env, id, resp);
	flux_query_free(&q);
}

int
main(void)
{
	return flux_cgi_main("upload_status", handle);
}
