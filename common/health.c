/*
 * health.c - the health check of health.h. Each part is looked at as it
 * is now: Redis answers a write (and tells the populate queue's length
 * and the outcome of the last delivery, which requests and flux-batch
 * keep with their self-metrics), carbon accepts a connection, the hold
 * file, the spool takes a file, what waits in the spool and in the upload
 * directory. The verdict says what would become of a point sent now.
 *
 * Without FLUX_SELF_API_KEY (status=true asks for no key) the answer
 * names states and counts only: no host, address, path or error text,
 * which would map the site's insides for anyone who asks.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carbon.h"
#include "fs.h"
#include "health.h"
#include "log.h"
#include "metric.h"
#include "popjob.h"
#include "spool.h"
#include "upload.h"

static const char *const carbon_names[] = {
	[FLUX_CARBON_OK] = "ok",
	[FLUX_CARBON_OFF] = "not sending",
	[FLUX_CARBON_UNREACHABLE] = "unreachable",
	[FLUX_CARBON_FAILING] = "failing",
};

const char *
flux_health_carbon_name(enum flux_carbon_state s)
{
	return carbon_names[s];
}

static void
reason(struct flux_health *h, const char *why)
{
	if (h->nreasons < FLUX_HEALTH_REASONS)
		h->reasons[h->nreasons++] = why;
}

/* Uploads waiting in DATA_UPLOADS_PATH/<namespace>/<id>; -1 when off. */
static long long
uploads_pending(const struct flux_conf *c)
{
	char		 path[FLUX_PATH_MAX];
	struct dirent	*e, *f;
	long long	 n = 0;
	DIR		*d, *nd;

	if (!c->accept_uploads && !c->process_uploads)
		return -1;
	if ((d = opendir(c->uploads_path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || flux_metric_invalid(e->d_name) != NULL ||
		    flux_fs_join(path, sizeof(path), c->uploads_path, e->d_name) == -1 ||
		    (nd = opendir(path)) == NULL)
			continue;
		while ((f = readdir(nd)) != NULL)
			n += flux_upload_id_ok(f->d_name);
		closedir(nd);
	}
	closedir(d);
	return n;
}

/* Parse "<unix seconds> ok|failed [why]", a delivery's outcome. */
static void
read_delivery(struct flux_health *h, const char *text)
{
	long long	at = 0;
	int		used = 0;

	if (sscanf(text, "%lld %n", &at, &used) != 1 || used == 0)
		return;
	h->delivery_at = at;
	h->delivery_ok = strncmp(text + used, "ok", 2) == 0;
	if (!h->delivery_ok && strncmp(text + used, "failed ", 7) == 0)
		snprintf(h->delivery_why, sizeof(h->delivery_why), "%s",
		    text + used + 7);
}

static void
check_carbon(const struct flux_conf *c, int64_t now, struct flux_health *h)
{
	if (!c->send_to_carbon)
		h->carbon = FLUX_CARBON_OFF;
	else if (flux_carbon_probe(c, h->carbon_err) == -1)
		h->carbon = FLUX_CARBON_UNREACHABLE;
	else if (h->delivery_at > 0 && !h->delivery_ok &&
	    now - h->delivery_at < FLUX_HEALTH_RECENT)
		h->carbon = FLUX_CARBON_FAILING;
	else
		h->carbon = FLUX_CARBON_OK;
}

/* What becomes of a point sent now, and why. */
static void
verdict(struct flux_health *h)
{
	int	to_spool = h->held || h->carbon == FLUX_CARBON_UNREACHABLE ||
	    h->carbon == FLUX_CARBON_FAILING;

	h->status = "ok";
	if (to_spool && !h->spool_writable) {
		h->status = "unavailable";
		reason(h, h->held ? "points could be neither delivered nor spooled: "
		    "delivery held and the spool is not writable" :
		    "points could be neither delivered nor spooled: carbon "
		    "unreachable and the spool is not writable");
		return;
	}
	if (!h->redis_ok)
		reason(h, "redis unavailable: points are delivered without "
		    "de-duplication");
	if (h->carbon == FLUX_CARBON_OFF)
		reason(h, "FLUX_SEND_TO_CARBON is false: points are checked, not "
		    "sent");
	else if (h->held)
		reason(h, "delivery held: points go to the spool");
	else if (h->carbon == FLUX_CARBON_UNREACHABLE)
		reason(h, "carbon unreachable: points go to the spool");
	else if (h->carbon == FLUX_CARBON_FAILING)
		reason(h, "carbon's last delivery failed: points may go to the "
		    "spool");
	if (!h->spool_writable && !to_spool)
		reason(h, "spool not writable: points carbon does not take would be "
		    "refused");
	if (h->nreasons > 0)
		h->status = "degraded";
}

/*
 * Look at every part. s is the Redis connection (NULL when Redis cannot
 * be reached, store_err saying why).
 */
void
flux_health_check(const struct flux_conf *c, struct flux_store *s,
    const char *store_err, int64_t now, struct flux_health *h)
{
	struct flux_store_health	rh;
	char				hold[FLUX_PATH_MAX];

	memset(h, 0, sizeof(*h));
	h->queued = h->running = -1;
	if (s == NULL)
		snprintf(h->redis_err, sizeof(h->redis_err), "%s", store_err);
	else if (flux_store_health(s, now, FLUX_POPJOB_QUEUE,
	    FLUX_POPJOB_RUNNING, FLUX_POPJOB_PROCESSING, &rh, h->redis_err) == 0) {
		h->redis_ok = 1;
		h->queued = rh.queued;
		h->running = rh.running;
		read_delivery(h, rh.delivery);
	}
	check_carbon(c, now, h);
	h->held = flux_spool_held(c, hold, sizeof(hold));
	h->spool_writable = flux_spool_writable(c, h->spool_err) == 0;
	if (flux_spool_backlog(c, &h->spool_files, &h->spool_oldest, NULL,
	    h->spool_err) == -1)
		h->spool_files = -1;
	h->uploads_pending = uploads_pending(c);
	verdict(h);
}

/* A count, or null when it is not known. */
static void
add_count(cJSON *o, const char *name, long long n)
{
	if (n < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, (double)n);
}

static void
add_detail(cJSON *d, const char *name, const char *text)
{
	if (text[0] != '\0')
		cJSON_AddStringToObject(d, name, text);
}

/*
 * The check as JSON (the caller deletes it): the verdict and its reasons,
 * then each part. detail adds the error texts (hosts, paths).
 */
cJSON *
flux_health_json(const struct flux_health *h, int64_t now, int detail)
{
	cJSON	*o = cJSON_CreateObject(), *r, *p, *d;
	size_t	 i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "status", h->status);
	r = cJSON_AddArrayToObject(o, "reasons");
	for (i = 0; r != NULL && i < h->nreasons; i++)
		cJSON_AddItemToArray(r, cJSON_CreateString(h->reasons[i]));
	cJSON_AddStringToObject(o, "redis", h->redis_ok ? "ok" : "unavailable");
	cJSON_AddStringToObject(o, "carbon", carbon_names[h->carbon]);
	if (h->delivery_at == 0)
		cJSON_AddNullToObject(o, "last_delivery");
	else if ((p = cJSON_AddObjectToObject(o, "last_delivery")) != NULL) {
		cJSON_AddStringToObject(p, "outcome", h->delivery_ok ? "ok" :
		    "failed");
		cJSON_AddNumberToObject(p, "age", (double)(now - h->delivery_at));
	}
	cJSON_AddBoolToObject(o, "hold", h->held);
	if ((p = cJSON_AddObjectToObject(o, "spool")) != NULL) {
		cJSON_AddBoolToObject(p, "writable", h->spool_writable);
		add_count(p, "files", h->spool_files);
		add_count(p, "oldest_age", h->spool_oldest > 0 ?
		    (long long)(now - h->spool_oldest) : h->spool_files < 0 ? -1 : 0);
	}
	if ((p = cJSON_AddObjectToObject(o, "populate")) != NULL) {
		add_count(p, "queued", h->queued);
		add_count(p, "running", h->running);
	}
	if ((p = cJSON_AddObjectToObject(o, "uploads")) != NULL)
		add_count(p, "pending", h->uploads_pending);
	if (detail && (d = cJSON_AddObjectToObject(o, "detail")) != NULL) {
		add_detail(d, "redis", h->redis_err);
		add_detail(d, "carbon", h->carbon != FLUX_CARBON_OK ? h->carbon_err : "");
		add_detail(d, "last_delivery", h->delivery_why);
		add_detail(d, "spool", h->spool_err);
	}
	return o;
}

/*
 * The check of a request, on its Redis connection: a resident process's
 * connection may have gone stale since its last request, and behind
 * sentinels the master may just have changed, so a failure there is
 * tried once more on a new connection, as every command is.
 */
void
flux_health_env(struct flux_env *env, int64_t now, struct flux_health *h)
{
	struct flux_store	*s = flux_env_store(env);
	const char		*why = "cannot connect to redis (see the error log)";

	flux_health_check(&env->conf, s, why, now, h);
	if (!h->redis_ok && s != NULL && env->store_retry &&
	    (s = flux_env_store_retry(env)) != NULL)
		flux_health_check(&env->conf, s, why, now, h);
	else if (!h->redis_ok && s != NULL)
		flux_env_store_retry(env);
}

/* o with "code" and "message" first, as every error of Flux. */
static cJSON *
error_first(cJSON *o, int code, const char *message)
{
	cJSON	*e = cJSON_CreateObject(), *it;

	if (e == NULL)
		return o;
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	while (o != NULL && (it = o->child) != NULL) {
		cJSON_DetachItemViaPointer(o, it);
		cJSON_AddItemToObject(e, it->string, it);
	}
	cJSON_Delete(o);
	return e;
}

/*
 * The answer of GET status=true and POST "status" (SPEC 4.1, as issue 12
 * made it tell the truth): 200 with the check while points are accepted
 * ("ok" or "degraded"), 503 with the reason when they could be neither
 * delivered nor spooled. No key is asked, so no detail is shown.
 */
void
flux_resp_health(struct flux_env *env, int64_t now, struct flux_resp *resp)
{
	struct flux_health	 h;
	cJSON			*o;
	size_t			 i;
	int			 down;

	/* Ages are the machine's, as the times they are measured from. */
	(void)now;
	flux_health_env(env, flux_now(), &h);
	down = strcmp(h.status, "unavailable") == 0;
	o = flux_health_json(&h, flux_now(), 0);
	if (down)
		o = error_first(o, 503, h.reasons[0]);
	flux_resp_json(resp, down ? 503 : 200, o);
	if (down)
		snprintf(resp->message, sizeof(resp->message), "%s", h.reasons[0]);
	for (i = 0; i < h.nreasons; i++)
		flux_debug("health: %s", h.reasons[i]);
	cJSON_Delete(o);
}
