/*
 * popjob.c - see popjob.h.
 *
 * One set of rules reads both Vista's payload (in the CGI) and the queued
 * job (in flux-batch), so a job that was accepted is a job that can run,
 * and a queue entry someone else wrote is checked like any other input.
 *
 * The queue is the store's shared queue (store.h): the CGI pushes;
 * flux-batch leases the job at the tail, so the queue is FIFO, a job is
 * always waiting or running, and runs on one node at a time. Moving a job
 * on (done, retried, counted) is one atomic step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "metric.h"
#include "popjob.h"
#include "pylist.h"
#include "store.h"

static const char *const type_names[] = {
	[FLUX_REMOTE_GRAPHITE] = "graphite",
	[FLUX_REMOTE_PROMETHEUS] = "prometheus",
};

static const struct flux_store_queue queue = {
	FLUX_POPJOB_QUEUE, FLUX_POPJOB_RUNNING, FLUX_POPJOB_PROCESSING,
	"populate queue"
};

const char *
flux_popjob_type_name(enum flux_remote t)
{
	return type_names[t];
}

/*
 * NULL when url is an absolute http or https URL with a host and only
 * printable ASCII (no space: it would end the request line), else why not.
 */
static const char *
url_invalid(const char *url)
{
	size_t		 len = strlen(url), i;
	const char	*auth, *end, *host, *p;

	if (len == 0)
		return "empty URL";
	if (len > FLUX_POPJOB_URL_MAX)
		return "URL longer than 4096 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return "space, control or non-ASCII character in URL";
	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else
		return "not an http or https URL";
	end = auth + strcspn(auth, "/?#");
	for (host = p = auth; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (host == end || *host == ':')
		return "no host in URL";
	return NULL;
}

/* A copy of s, or NULL with msg set. */
static char *
copy(const char *s, char msg[])
{
	char	*c = strdup(s);

	if (c == NULL)
		flux_msgf(msg, "out of memory");
	return c;
}

/*
 * The string field name of o into *out (a copy): missing is an error, so
 * is null unless none_as is given, which then stands for it.
 */
static int
str_field(const cJSON *o, const char *name, const char *none_as, char **out,
    char msg[])
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	if (f == NULL || (cJSON_IsNull(f) && none_as == NULL))
		return flux_msgf(msg, "no %s passed", name);
	if (cJSON_IsNull(f))
		return (*out = copy(none_as, msg)) ? 0 : -1;
	if (!cJSON_IsString(f))
		return flux_msgf(msg, "invalid %s - not a string", name);
	return (*out = copy(f->valuestring, msg)) ? 0 : -1;
}

static int
host_type(const cJSON *o, struct flux_popjob *j, char msg[])
{
	char	*t = NULL;
	size_t	 i;
	int	 rc = -1;

	if (str_field(o, "remote_host_type", NULL, &t, msg) == -1)
		return -1;
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(t, type_names[i]) == 0) {
			j->type = (enum flux_remote)i;
			rc = 0;
		}
	if (rc == -1)
		flux_msgf(msg, "invalid remote_host_type - %s - not graphite or "
		    "prometheus", t);
	free(t);
	return rc;
}

/*
 * A payload's name gets what every entry point gives a name (SPEC 3): the
 * POST normalisation, the name rules and the key's namespace prefix, so a
 * prefixed key back-fills only its own namespace. Vista's own key has no
 * prefix and its name is final (2.3): it is kept as it is. A queued name
 * must already be valid as it stands.
 */
static int
metric_name(const cJSON *o, int queued, const char *prefix,
    struct flux_popjob *j, char msg[])
{
	const char	*why;
	char		*raw = NULL, *bad_name = NULL;

	if (str_field(o, "metric", NULL, &raw, msg) == -1)
		return -1;
	if (queued) {
		if ((why = flux_metric_invalid(raw)) != NULL) {
			flux_msgf(msg, "invalid metric - %s - %s", raw, why);
			free(raw);
			return -1;
		}
		j->metric = raw;
		return 0;
	}
	j->metric = flux_metric_build(raw, prefix, &why, &bad_name);
	if (j->metric == NULL)
		flux_msgf(msg, "invalid metric - %s - %s", bad_name ? bad_name : raw,
		    why);
	free(bad_name);
	free(raw);
	return j->metric ? 0 : -1;
}

static int
namespace_prefix(const cJSON *o, struct flux_popjob *j, char msg[])
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, "namespace_prefix");

	if (f == NULL)
		return flux_msgf(msg, "no namespace_prefix passed");
	if (cJSON_IsNull(f))
		return 0;
	if (!cJSON_IsString(f))
		return flux_msgf(msg, "invalid namespace_prefix - not a string or "
		    "null");
	return (j->namespace_prefix = copy(f->valuestring, msg)) ? 0 : -1;
}

/* token, user and password: strings, "None" (or null) meaning none. */
static int
credentials(const cJSON *o, struct flux_popjob *j, char msg[])
{
	const char	*p;

	if (str_field(o, "token", "None", &j->token, msg) == -1)
		return -1;
	/* The token goes into a request header: no line breaks, no controls. */
	for (p = j->token; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return flux_msgf(msg, "invalid token - control characters in "
			    "token");
	if (str_field(o, "user", "None", &j->user, msg) == -1 ||
	    str_field(o, "password", "None", &j->password, msg) == -1)
		return -1;
	return 0;
}

static int
urls_from_array(const cJSON *a, struct flux_list *out, char msg[])
{
	const cJSON	*u;

	if (cJSON_GetArraySize(a) > FLUX_POPJOB_MAX_URLS)
		return flux_msgf(msg, "invalid fetch_resolution_urls - more than %d "
		    "URLs", FLUX_POPJOB_MAX_URLS);
	if ((out->v = calloc((size_t)cJSON_GetArraySize(a) + 1,
	    sizeof(*out->v))) == NULL)
		return flux_msgf(msg, "out of memory");
	cJSON_ArrayForEach(u, a) {
		if (!cJSON_IsString(u))
			return flux_msgf(msg, "invalid fetch_resolution_urls - not a "
			    "list of strings");
		if ((out->v[out->n] = copy(u->valuestring, msg)) == NULL)
			return -1;
		out->n++;
	}
	return 0;
}

/*
 * fetch_resolution_urls: a JSON array of URLs, or (from a client, not in
 * the queue) Vista's legacy string holding a Python list repr.
 */
static int
urls(const cJSON *o, int queued, struct flux_popjob *j, char msg[])
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, "fetch_resolution_urls");
	char		 err[FLUX_ERRLEN];
	const char	*why;
	size_t		 i;

	if (f == NULL || cJSON_IsNull(f) ||
	    (cJSON_IsString(f) && strcmp(f->valuestring, "None") == 0))
		return flux_msgf(msg, "no fetch_resolution_urls passed");
	if (cJSON_IsArray(f)) {
		if (urls_from_array(f, &j->urls, msg) == -1)
			return -1;
	} else if (cJSON_IsString(f) && !queued) {
		if (flux_pylist_parse(f->valuestring, strlen(f->valuestring),
		    &j->urls, err) == -1)
			return flux_msgf(msg, "invalid fetch_resolution_urls - %s",
			    err);
	} else
		return flux_msgf(msg, "invalid fetch_resolution_urls - not a "
		    "list");
	if (j->urls.n == 0)
		return flux_msgf(msg, "invalid fetch_resolution_urls - no URLs");
	if (j->urls.n > FLUX_POPJOB_MAX_URLS)
		return flux_msgf(msg, "invalid fetch_resolution_urls - more than %d "
		    "URLs", FLUX_POPJOB_MAX_URLS);
	for (i = 0; i < j->urls.n; i++)
		if ((why = url_invalid(j->urls.v[i])) != NULL)
			return flux_msgf(msg, "invalid fetch_resolution_urls - %s - "
			    "%s", j->urls.v[i], why);
	return 0;
}

/* A non-negative integral JSON number up to max. */
static int
count_field(const cJSON *o, const char *name, double max, int64_t *out,
    char msg[])
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(f) || !(f->valuedouble >= 0) ||
	    f->valuedouble > max || f->valuedouble != floor(f->valuedouble))
		return flux_msgf(msg, "invalid %s - not a count", name);
	*out = (int64_t)f->valuedouble;
	return 0;
}

/* What flux-batch keeps in a queued job besides the payload. */
static int
run_state(const cJSON *o, struct flux_popjob *j, char msg[])
{
	const cJSON	*e = cJSON_GetObjectItemCaseSensitive(o, "last_error");
	const cJSON	*w = cJSON_GetObjectItemCaseSensitive(o, "owner");

	if (count_field(o, "attempts", 1e6, &j->attempts, msg) == -1 ||
	    count_field(o, "queued_at", 1e12, &j->queued_at, msg) == -1)
		return -1;
	if (e != NULL && !cJSON_IsString(e))
		return flux_msgf(msg, "invalid last_error - not a string");
	if (e != NULL && (j->last_error = copy(e->valuestring, msg)) == NULL)
		return -1;
	if (w != NULL && !cJSON_IsString(w))
		return flux_msgf(msg, "invalid owner - not a string");
	if (w != NULL && (j->owner = copy(w->valuestring, msg)) == NULL)
		return -1;
	return 0;
}

/*
 * Fill j from the JSON object o: Vista's payload (queued 0; the key is the
 * caller's business, its namespace prefix, or NULL, is applied to the
 * metric) or a queued job (queued 1: URLs only as an array, attempts and
 * queued_at required, prefix ignored). Fields are checked in a fixed order
 * and the first failure is put in msg (FLUX_MSG_MAX bytes) as the text of
 * a 400 answer. j is zeroed first; free it with flux_popjob_free() either
 * way.
 */
int
flux_popjob_from_json(const struct cJSON *o, int queued, const char *prefix,
    struct flux_popjob *j, char msg[])
{
	memset(j, 0, sizeof(*j));
	if (!cJSON_IsObject(o))
		return flux_msgf(msg, "no POST data received");
	if (host_type(o, j, msg) == -1 ||
	    str_field(o, "remote_target", NULL, &j->remote_target, msg) == -1)
		return -1;
	if (*j->remote_target == '\0')
		return flux_msgf(msg, "invalid remote_target - empty");
	if (metric_name(o, queued, prefix, j, msg) == -1 ||
	    namespace_prefix(o, j, msg) == -1 || credentials(o, j, msg) == -1 ||
	    urls(o, queued, j, msg) == -1)
		return -1;
	return queued ? run_state(o, j, msg) : 0;
}

/* Read a queued job (text as stored in Redis); -1 with err if it is bad. */
int
flux_popjob_decode(const char *text, struct flux_popjob *j, char err[])
{
	char		 msg[FLUX_MSG_MAX];
	const char	*why;
	cJSON		*o;
	int		 rc;

	if ((o = flux_json_parse(text, strlen(text), &why)) == NULL) {
		memset(j, 0, sizeof(*j));
		return flux_errf(err, "queued job is %s", strncmp(why, "not JSON",
		    8) == 0 ? "not JSON" : why);
	}
	rc = flux_popjob_from_json(o, 1, NULL, j, msg);
	if (rc == -1)
		flux_errf(err, "queued job is not valid: %.1024s", msg);
	cJSON_Delete(o);
	return rc;
}

static void
add_str(cJSON *o, const char *name, const char *s, int *ok)
{
	if ((s ? cJSON_AddStringToObject(o, name, s) :
	    cJSON_AddNullToObject(o, name)) == NULL)
		*ok = 0;
}

/*
 * The job as queued: the payload's fields normalised (URLs a real JSON
 * array, the metric as validated), attempts, queued_at and last_error.
 * The API key is not kept: flux-batch has no use for it. Caller frees.
 */
char *
flux_popjob_encode(const struct flux_popjob *j)
{
	cJSON	*o = cJSON_CreateObject(), *a;
	char	*text = NULL;
	int	 ok = o != NULL;

	if (!ok)
		return NULL;
	add_str(o, "remote_host_type", type_names[j->type], &ok);
	add_str(o, "remote_target", j->remote_target, &ok);
	add_str(o, "metric", j->metric, &ok);
	add_str(o, "namespace_prefix", j->namespace_prefix, &ok);
	add_str(o, "token", j->token, &ok);
	add_str(o, "user", j->user, &ok);
	add_str(o, "password", j->password, &ok);
	a = cJSON_CreateStringArray((const char *const *)j->urls.v, (int)j->urls.n);
	if (a == NULL || !cJSON_AddItemToObject(o, "fetch_resolution_urls", a))
		ok = 0;
	if (cJSON_AddNumberToObject(o, "attempts", (double)j->attempts) == NULL ||
	    cJSON_AddNumberToObject(o, "queued_at", (double)j->queued_at) == NULL)
		ok = 0;
	if (j->last_error != NULL)
		add_str(o, "last_error", j->last_error, &ok);
	if (j->owner != NULL)
		add_str(o, "owner", j->owner, &ok);
	if (ok)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Remember why the last attempt failed; 0 or -1 (out of memory). */
int
flux_popjob_set_error(struct flux_popjob *j, const char *why)
{
	char	*c = strdup(why);

	if (c == NULL)
		return -1;
	free(j->last_error);
	j->last_error = c;
	return 0;
}

void
flux_popjob_free(struct flux_popjob *j)
{
	free(j->remote_target);
	free(j->metric);
	free(j->namespace_prefix);
	free(j->token);
	free(j->user);
	free(j->password);
	free(j->last_error);
	free(j->owner);
	flux_list_free(&j->urls);
	memset(j, 0, sizeof(*j));
}

/*
 * Queue a job of owner (a tag naming the key that asked) unless that key
 * has bound jobs waiting or running already: 0 queued, 1 refused, -1 with
 * err when Redis failed; 2 queued, but on the master only (behind
 * sentinels: err says why).
 */
int
flux_popjob_push_bounded(struct flux_store *s, const char *job,
    const char *owner, int64_t bound, char err[])
{
	struct flux_buf	mark = { 0 };
	int		rc;

	/* "owner":"<tag>" as cJSON writes it; in a string a quote is escaped. */
	if (flux_buf_printf(&mark, "\"owner\":\"%s\"", owner) == -1)
		return flux_errf(err, "out of memory");
	rc = flux_store_queue_push_bounded(s, &queue, job, mark.ptr, bound, err);
	flux_buf_free(&mark);
	return rc;
}

/*
 * Put back, to be taken first, the jobs of runs that ended without
 * finishing them: their lease ran out, or they were node's (whose lock the
 * caller holds).
 */
int
flux_popjob_recover(struct flux_store *s, const char *node, long long *moved,
    char err[])
{
	return flux_store_queue_recover(s, &queue, node, moved, err);
}

/* How many jobs wait in the queue. */
int
flux_popjob_pending(struct flux_store *s, long long *n, char err[])
{
	return flux_store_queue_length(s, &queue, n, err);
}

/*
 * Lease the oldest job to node for ms: its text in *job (caller frees),
 * NULL when the queue is empty; *lapsed: leases put back meanwhile.
 */
int
flux_popjob_take(struct flux_store *s, const char *node, int64_t ms,
    char **job, struct flux_store_lease *l, long long *lapsed, char err[])
{
	return flux_store_queue_take(s, &queue, node, ms, job, l, lapsed, err);
}

/*
 * End the job's lease: done, queued again as next, or running on as next
 * (store.h). 1 when the lease had been lost to another node.
 */
int
flux_popjob_end(struct flux_store *s, struct flux_store_lease *l,
    enum flux_queue_next how, const char *next, char err[])
{
	return flux_store_queue_end(s, &queue, l, how, next, err);
}

/*
 * Add the remote target to the set Vista consults before asking for a
 * populate again, as Skyline's populate_metric_worker did once done.
 */
int
flux_popjob_mark_known(struct flux_store *s, const char *remote_target,
    char err[])
{
	return flux_store_set_add(s, FLUX_POPJOB_VISTA_SET, remote_target, err);
}

/*
 * The queued jobs, oldest first, without taking them (for a dry run);
 * the caller frees jobs with flux_list_free().
 */
int
flux_popjob_list(struct flux_store *s, struct flux_list *jobs, char err[])
{
	return flux_store_queue_list(s, &queue, jobs, err);
}
