/*
 * status_page - GET /flux/status_page: one HTML page for an operator, on
 * a phone as well: the health of each part (common/health.c), the last
 * hour of the self-metrics as small charts drawn here in SVG (points
 * accepted, refused by reason, spooled, delivered), the spool backlog,
 * the populate queue and the uploads. format=json gives the same data
 * for scripts.
 *
 * Who may see what: like status=true, the page asks for no key and then
 * shows states and counts only. What names things (the error texts, with
 * hosts and paths; the recent uploads, whose ids would open their status
 * records to anyone, as upload_status asks for no key) is shown only to a
 * POST of the form with FLUX_SELF_API_KEY: a form field, never the URL,
 * so the key stays out of access logs.
 *
 * Where the hour comes from: the per-minute hashes every request counts
 * in (flux.stats.<host>.<minute>, two hours' life) and the list of the
 * last uploads, read in one script; so the page shows the host serving
 * it. Nothing is asked of Graphite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "health.h"
#include "json.h"
#include "log.h"
#include "query.h"
#include "stats.h"
#include "status.h"
#include "store.h"
#include "upload.h"

/* Minutes the page shows: the last hour, the minute under way last. */
#define MINUTES 60
/* Uploads listed, newest first. */
#define UPLOADS 10
/* The chart: MINUTES bars of BAR_W in a CHART_W x CHART_H box. */
#define BAR_W 5
#define CHART_W (MINUTES * BAR_W)
#define CHART_H 60

/* The reason classes of refusals, in the order the chart stacks them. */
static const char *const classes[] = {
	"key", "metric", "timestamp", "value", "body", "json", "quota",
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))
static const char *const class_colors[NCLASSES] = {
	"#c0392b", "#8e44ad", "#d35400", "#f39c12", "#7f8c8d", "#2c3e50",
	"#16a085",
};

struct page {
	struct flux_env		*env;
	struct flux_health	 health;
	int64_t			 now;
	int64_t			 start;		/* the first minute shown */
	int			 detail;	/* FLUX_SELF_API_KEY given */
	int			 history_ok;
	long long		 accepted[MINUTES];
	long long		 delivered[MINUTES];
	long long		 spooled[MINUTES];
	long long		 refused[NCLASSES][MINUTES];
	cJSON			*uploads;	/* the recent records */
};

/*
 * Counts of points: the live endpoints', and flux-batch's (back-fills
 * and uploads deliver or spool through the same path; replays deliver).
 */
static int
is_point_source(const char *source, size_t len)
{
	return (len == 11 && strncmp(source, "metric_data", 11) == 0) ||
	    (len == 16 && strncmp(source, "metric_data_post", 16) == 0);
}

static int
is_batch(const char *source, size_t len)
{
	return len == 5 && strncmp(source, "batch", 5) == 0;
}

static void
on_field(void *ctx, size_t m, const char *name, const char *value)
{
	struct page	*pg = ctx;
	const char	*dot = strchr(name, '.'), *what;
	int64_t		 n;
	size_t		 i, len;

	if (dot == NULL || m >= MINUTES ||
	    flux_parse_i64(value, 0, INT64_MAX / 2, &n) == -1)
		return;
	len = (size_t)(dot - name);
	what = dot + 1;
	if (strncmp(what, "refused.", 8) == 0) {
		for (i = 0; i < NCLASSES; i++)
			if (strcmp(what + 8, classes[i]) == 0)
				pg->refused[i][m] += n;
	} else if (is_point_source(name, len) && strcmp(what, "accepted") == 0)
		pg->accepted[m] += n;
	else if ((is_point_source(name, len) || is_batch(name, len)) &&
	    strcmp(what, "delivered") == 0)
		pg->delivered[m] += n;
	else if ((is_point_source(name, len) || is_batch(name, len)) &&
	    strcmp(what, "spooled") == 0)
		pg->spooled[m] += n;
	else if (is_batch(name, len) && strcmp(what, "flush.points") == 0)
		pg->delivered[m] += n;
}

/* A recent upload's record, kept with the fields the page shows. */
static void
on_record(void *ctx, const char *text)
{
	static const char *const keep[] = {
		"upload_id_key", "parent_metric_namespace", "status", "error",
		"points_submitted", "started_at", "finished_at",
	};
	struct page	*pg = ctx;
	const char	*why;
	cJSON		*rec = flux_json_parse(text, strlen(text), &why), *o;
	size_t		 i;

	if (cJSON_IsObject(rec) && (o = cJSON_CreateObject()) != NULL) {
		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			cJSON *f = cJSON_DetachItemFromObjectCaseSensitive(rec, keep[i]);

			if (f != NULL)
				cJSON_AddItemToObject(o, keep[i], f);
		}
		cJSON_AddItemToArray(pg->uploads, o);
	}
	cJSON_Delete(rec);
}

/* Everything the page shows. */
static void
gather(struct page *pg)
{
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN];

	pg->now = flux_now();
	pg->start = pg->now - pg->now % 60 - 60 * (MINUTES - 1);
	pg->uploads = cJSON_CreateArray();
	flux_health_env(pg->env, pg->now, &pg->health);
	s = pg->env->store;
	if (s != NULL && pg->health.redis_ok)
		pg->history_ok = flux_store_history(s, pg->now, MINUTES,
		    FLUX_STATUS_RECENT, FLUX_STATUS_PREFIX, UPLOADS, on_field,
		    on_record, pg, err) == 0;
	if (s != NULL && !pg->history_ok && pg->health.redis_ok)
		flux_warn("status page: %s", err);
}

/* ---------------------------------------------------------------- JSON -- */

static cJSON *
series(const long long *v)
{
	cJSON	*a = cJSON_CreateArray();
	size_t	 i;

	for (i = 0; a != NULL && i < MINUTES; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
	return a;
}

/* The uploads: pending and by state always, the records only in detail. */
static cJSON *
uploads_json(const struct page *pg)
{
	cJSON		*o = cJSON_CreateObject(), *by, *u;
	const cJSON	*st;

	if (o == NULL)
		return NULL;
	if (pg->health.uploads_pending < 0)
		cJSON_AddNullToObject(o, "pending");
	else
		cJSON_AddNumberToObject(o, "pending",
		    (double)pg->health.uploads_pending);
	by = cJSON_AddObjectToObject(o, "recent_by_state");
	cJSON_ArrayForEach(u, pg->uploads) {
		st = cJSON_GetObjectItemCaseSensitive(u, "status");
		if (by == NULL || !cJSON_IsString(st))
			continue;
		if (cJSON_GetObjectItemCaseSensitive(by, st->valuestring) == NULL)
			cJSON_AddNumberToObject(by, st->valuestring, 0);
		cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(by,
		    st->valuestring), cJSON_GetObjectItemCaseSensitive(by,
		    st->valuestring)->valuedouble + 1);
	}
	if (pg->detail)
		cJSON_AddItemToObject(o, "recent", cJSON_Duplicate(pg->uploads, 1));
	return o;
}

static cJSON *
page_json(const struct page *pg)
{
	cJSON	*o = cJSON_CreateObject(), *h, *r;
	size_t	 i;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "time", (double)pg->now);
	cJSON_AddItemToObject(o, "health", flux_health_json(&pg->health, pg->now,
	    pg->detail));
	if (!pg->history_ok)
		cJSON_AddNullToObject(o, "history");
	else if ((h = cJSON_AddObjectToObject(o, "history")) != NULL) {
		cJSON_AddNumberToObject(h, "start", (double)pg->start);
		cJSON_AddNumberToObject(h, "step", 60);
		cJSON_AddItemToObject(h, "accepted", series(pg->accepted));
		cJSON_AddItemToObject(h, "delivered", series(pg->delivered));
		cJSON_AddItemToObject(h, "spooled", series(pg->spooled));
		r = cJSON_AddObjectToObject(h, "refused");
		for (i = 0; r != NULL && i < NCLASSES; i++)
			cJSON_AddItemToObject(r, classes[i], series(pg->refused[i]));
	}
	cJSON_AddItemToObject(o, "uploads", uploads_json(pg));
	return o;
}

/* ---------------------------------------------------------------- HTML -- */

/* Text into HTML: the five characters that could open markup escaped. */
static void
esc(struct flux_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		switch (*s) {
		case '<': flux_buf_adds(b, "&lt;"); break;
		case '>': flux_buf_adds(b, "&gt;"); break;
		case '&': flux_buf_adds(b, "&amp;"); break;
		case '"': flux_buf_adds(b, "&quot;"); break;
		case '\'': flux_buf_adds(b, "&#39;"); break;
		default: flux_buf_add(b, s, 1);
		}
}

static long long
total(const long long *v)
{
	long long	t = 0;
	size_t		i;

	for (i = 0; i < MINUTES; i++)
		t += v[i];
	return t;
}

/*
 * One chart: the minutes as bars, a stack of nv series of colors, scaled
 * to the busiest minute; its title says the hour's total and the peak.
 */
static void
chart(struct flux_buf *b, const char *id, const char *title,
    const long long *const *v, const char *const *colors, size_t nv)
{
	long long	peak = 1, sum = 0, m, y, h;
	size_t		i, k;

	for (i = 0; i < MINUTES; i++) {
		for (m = 0, k = 0; k < nv; k++)
			m += v[k][i];
		peak = m > peak ? m : peak;
		sum += m;
	}
	flux_buf_printf(b, "<figure id=\"%s\"><figcaption>%s: <b class=\"total\">"
	    "%lld</b> in the last hour, at most %lld a minute</figcaption>"
	    "<svg viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\" role=\"img\" "
	    "aria-label=\"%s per minute\"><rect width=\"%d\" height=\"%d\" "
	    "fill=\"#f4f6f7\"/>", id, title, sum, sum ? peak : 0, CHART_W, CHART_H,
	    title, CHART_W, CHART_H);
	for (i = 0; i < MINUTES; i++)
		for (y = CHART_H, k = 0; k < nv; k++) {
			if (v[k][i] == 0)
				continue;
			h = v[k][i] * CHART_H / peak;
			h = h < 1 ? 1 : h;
			y -= h;
			flux_buf_printf(b, "<rect x=\"%zu\" y=\"%lld\" width=\"%d\" "
			    "height=\"%lld\" fill=\"%s\"><title>%lld</title></rect>",
			    i * BAR_W, y, BAR_W - 1, h, colors[k], v[k][i]);
		}
	flux_buf_printf(b, "</svg><p class=\"axis\"><span>%d min ago</span>"
	    "<span>now</span></p></figure>\n", MINUTES);
}

static void
charts(struct flux_buf *b, const struct page *pg)
{
	const long long	*one[1], *stack[NCLASSES];
	const char	*green[] = { "#27ae60" }, *blue[] = { "#2980b9" },
			*orange[] = { "#e67e22" };
	size_t		 i;

	if (!pg->history_ok) {
		flux_buf_adds(b, "<p class=\"bad\">No history: Redis is "
		    "unavailable.</p>\n");
		return;
	}
	one[0] = pg->accepted;
	chart(b, "accepted", "Points accepted", one, green, 1);
	for (i = 0; i < NCLASSES; i++)
		stack[i] = pg->refused[i];
	chart(b, "refused", "Requests refused", stack, class_colors, NCLASSES);
	flux_buf_adds(b, "<p class=\"legend\">");
	for (i = 0; i < NCLASSES; i++)
		flux_buf_printf(b, "<span><i style=\"background:%s\"></i>%s %lld"
		    "</span> ", class_colors[i], classes[i], total(pg->refused[i]));
	flux_buf_adds(b, "</p>\n");
	one[0] = pg->spooled;
	chart(b, "spooled", "Points spooled", one, orange, 1);
	one[0] = pg->delivered;
	chart(b, "delivered", "Points delivered", one, blue, 1);
}

/* An age for a person: "42 s", "17 min", "5 h", "3 d". */
static void
age(char *out, size_t len, int64_t secs)
{
	if (secs < 120)
		snprintf(out, len, "%lld s", (long long)secs);
	else if (secs < 7200)
		snprintf(out, len, "%lld min", (long long)(secs / 60));
	else if (secs < 172800)
		snprintf(out, len, "%lld h", (long long)(secs / 3600));
	else
		snprintf(out, len, "%lld d", (long long)(secs / 86400));
}

/* One row of the health table; why, when shown, is escaped. */
static void
row(struct flux_buf *b, const char *id, const char *part, int good,
    const char *state, const char *why)
{
	flux_buf_printf(b, "<tr id=\"%s\"><th>%s</th><td class=\"%s\">", id, part,
	    good ? "good" : "bad");
	esc(b, state);
	if (why != NULL && why[0] != '\0') {
		flux_buf_adds(b, "<br><small>");
		esc(b, why);
		flux_buf_adds(b, "</small>");
	}
	flux_buf_adds(b, "</td></tr>\n");
}

static void
health_table(struct flux_buf *b, const struct page *pg)
{
	const struct flux_health	*h = &pg->health;
	char				 t[256], a[32];
	int				 d = pg->detail;

	flux_buf_adds(b, "<table class=\"health\">\n");
	row(b, "redis", "Redis", h->redis_ok, h->redis_ok ? "ok" : "unavailable",
	    d ? h->redis_err : NULL);
	row(b, "carbon", "carbon", h->carbon == FLUX_CARBON_OK ||
	    h->carbon == FLUX_CARBON_OFF, flux_health_carbon_name(h->carbon),
	    d && h->carbon == FLUX_CARBON_UNREACHABLE ? h->carbon_err : NULL);
	if (h->delivery_at == 0)
		snprintf(t, sizeof(t), "none in the last hour");
	else {
		age(a, sizeof(a), pg->now - h->delivery_at);
		snprintf(t, sizeof(t), "%s %s ago", h->delivery_ok ? "ok" : "failed", a);
	}
	row(b, "last_delivery", "Last delivery", h->delivery_at == 0 ||
	    h->delivery_ok, t, d ? h->delivery_why : NULL);
	row(b, "hold", "Hold", !h->held, h->held ? "delivery held" : "none", NULL);
	if (h->spool_files < 0)
		snprintf(t, sizeof(t), "cannot be read");
	else
		snprintf(t, sizeof(t), "%s, %lld files waiting", h->spool_writable ?
		    "writable" : "not writable", h->spool_files);
	row(b, "spool", "Spool", h->spool_writable && h->spool_files >= 0, t,
	    d ? h->spool_err : NULL);
	if (h->spool_oldest > 0) {
		age(t, sizeof(t), pg->now - h->spool_oldest);
		row(b, "spool_oldest", "Oldest spooled", 1, t, NULL);
	}
	if (h->queued < 0)
		snprintf(t, sizeof(t), "unknown");
	else
		snprintf(t, sizeof(t), "%lld queued, %lld running", h->queued,
		    h->running);
	row(b, "populate", "Populate queue", h->queued >= 0, t, NULL);
	if (h->uploads_pending < 0)
		snprintf(t, sizeof(t), "off");
	else
		snprintf(t, sizeof(t), "%lld pending", h->uploads_pending);
	row(b, "uploads_pending", "Uploads", 1, t, NULL);
	flux_buf_adds(b, "</table>\n");
}

/* A JSON value of a record as text ("" for null and absent). */
static const char *
field(const cJSON *o, const char *name, char *buf, size_t len)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsString(f))
		return f->valuestring;
	if (cJSON_IsNumber(f)) {
		snprintf(buf, len, "%.0f", f->valuedouble);
		return buf;
	}
	return "";
}

static void
uploads_html(struct flux_buf *b, const struct page *pg)
{
	const cJSON	*u;
	char		 n[32];
	size_t		 i;
	static const char *const cols[] = {
		"upload_id_key", "status", "points_submitted", "finished_at", "error",
	};

	flux_buf_adds(b, "<h2>Recent uploads</h2>\n");
	if (!pg->detail) {
		flux_buf_printf(b, "<p id=\"uploads\">%d recent uploads; their ids "
		    "and states are shown with the key.</p>\n",
		    cJSON_GetArraySize(pg->uploads));
		return;
	}
	flux_buf_adds(b, "<table id=\"uploads\" class=\"uploads\"><tr><th>upload"
	    "</th><th>status</th><th>points</th><th>finished</th><th>error</th>"
	    "</tr>\n");
	cJSON_ArrayForEach(u, pg->uploads) {
		flux_buf_adds(b, "<tr>");
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			flux_buf_printf(b, "<td class=\"u_%s\">", cols[i]);
			esc(b, field(u, cols[i], n, sizeof(n)));
			flux_buf_adds(b, "</td>");
		}
		flux_buf_adds(b, "</tr>\n");
	}
	flux_buf_adds(b, "</table>\n");
}

/* The page up to its body: a format, its one %s the refresh. */
#define PAGE_HEAD \
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n" \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
    "%s<title>Flux status</title>\n<style>\n" \
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:42em;" \
    "padding:.5em 1em;color:#222}\n" \
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}\n" \
    ".status{display:inline-block;padding:.1em .6em;border-radius:.3em;" \
    "color:#fff}\n.ok{background:#27ae60}.degraded{background:#e67e22}" \
    ".unavailable{background:#c0392b}\n" \
    "table{border-collapse:collapse;width:100%%}th,td{text-align:left;" \
    "padding:.3em;border-bottom:1px solid #ddd;vertical-align:top}\n" \
    "td.good{color:#1e8449}td.bad{color:#c0392b;font-weight:bold}\n" \
    "small{color:#555;font-weight:normal;word-break:break-word}\n" \
    "figure{margin:1em 0}svg{width:100%%;height:4em;display:block}\n" \
    ".axis{display:flex;justify-content:space-between;margin:0;" \
    "font-size:.75em;color:#777}\n" \
    ".legend span{white-space:nowrap;margin-right:.6em}.legend i{display:" \
    "inline-block;width:.8em;height:.8em;margin-right:.2em}\n" \
    ".uploads td{overflow-wrap:anywhere;font-size:.9em}" \
    ".uploads td.u_status,.uploads td.u_points_submitted{overflow-wrap:normal}\n" \
    "form{margin-top:1.5em}input{font-size:1em;max-width:100%%}\n" \
    "</style></head><body>\n"

static void
page_html(struct flux_buf *b, const struct page *pg)
{
	const struct flux_health	*h = &pg->health;
	char				 when[32];
	size_t				 i;

	/* The public view refreshes itself; a POST would be sent again. */
	flux_buf_printf(b, PAGE_HEAD, pg->detail ? "" :
	    "<meta http-equiv=\"refresh\" content=\"60\">\n");
	flux_upload_iso_time(pg->now, when);
	flux_buf_printf(b, "<h1>Flux on %s: <span id=\"status\" class=\"status "
	    "%s\">%s</span></h1>\n<p>%s UTC", flux_stats_host(), h->status,
	    h->status, when);
	for (i = 0; i < h->nreasons; i++) {
		flux_buf_adds(b, "<br><span class=\"reason\">");
		esc(b, h->reasons[i]);
		flux_buf_adds(b, "</span>");
	}
	flux_buf_adds(b, "</p>\n<h2>Health</h2>\n");
	health_table(b, pg);
	flux_buf_adds(b, "<h2>The last hour, per minute</h2>\n");
	charts(b, pg);
	uploads_html(b, pg);
	if (pg->detail)
		flux_buf_adds(b, "<form method=\"post\" action=\"status_page\">"
		    "<p>Details shown. <a href=\"status_page\">Public view</a></p>"
		    "</form>\n");
	else
		flux_buf_adds(b, "<form method=\"post\" action=\"status_page\">"
		    "<label>Key (FLUX_SELF_API_KEY) for the details: <input "
		    "type=\"password\" name=\"key\" autocomplete=\"off\" "
		    "required></label> <button type=\"submit\">Show</button></form>\n");
	flux_buf_adds(b, "<p><a href=\"status_page?format=json\">The same as "
	    "JSON</a></p>\n</body></html>\n");
}

/* ------------------------------------------------------------- request -- */

/*
 * The parameters: format=json from the query string, and on a POST the
 * form's key and format. 0 to go on, -1 with the answer set.
 */
static int
params(struct flux_env *env, struct flux_req *req, struct page *pg, int *json,
    struct flux_resp *resp)
{
	struct flux_query	q = { 0 }, f = { 0 };
	const char		*key = NULL;
	size_t			i;
	int			rc = 0, post = strcmp(req->method, "POST") == 0;

	if (flux_query_parse(req->query, &q) == -1 || (post &&
	    flux_query_parse(req->body ? req->body : "", &f) == -1)) {
		flux_resp_error(resp, 400, "invalid query string");
		rc = -1;
	}
	for (i = 0; rc == 0 && i < q.n + f.n; i++) {
		const struct flux_param *p = i < q.n ? &q.v[i] : &f.v[i - q.n];

		if (strcmp(p->name, "format") == 0 && strcmp(p->value, "json") == 0)
			*json = 1;
		else if (i >= q.n && strcmp(p->name, "key") == 0)
			key = p->value;
		else if (strcmp(p->name, "format") != 0) {
			flux_resp_error(resp, 400, "Invalid parameter received - %s",
			    p->name);
			rc = -1;
		}
	}
	if (rc == 0 && post && (key == NULL || env->conf.self_api_key == NULL ||
	    !flux_ct_equal(key, env->conf.self_api_key))) {
		flux_resp_error(resp, key == NULL ? 400 : 401, key == NULL ?
		    "no key passed" : "invalid key");
		rc = -1;
	}
	pg->detail = post && rc == 0;
	flux_query_free(&q);
	flux_query_free(&f);
	return rc;
}

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct page	*pg;
	struct flux_buf	 b = { 0 };
	cJSON		*o;
	int		 json = 0;

	if (strcmp(req->method, "POST") != 0 &&
	    flux_req_accept(req, resp, "GET") == -1) {
		resp->allow = "GET, POST";
		return;
	}
	if (req->body_status != 0) {
		flux_resp_error(resp, req->body_status, "%s", req->body_error);
		return;
	}
	if ((pg = calloc(1, sizeof(*pg))) == NULL) {
		flux_resp_error(resp, 500, "internal error");
		return;
	}
	pg->env = env;
	if (params(env, req, pg, &json, resp) == 0) {
		gather(pg);
		if (json) {
			o = page_json(pg);
			flux_resp_json(resp, 200, o);
			cJSON_Delete(o);
			resp->no_store = 1;
		} else {
			page_html(&b, pg);
			flux_resp_html(resp, 200, &b);
		}
	}
	cJSON_Delete(pg->uploads);
	flux_buf_free(&b);
	free(pg);
}

int
main(void)
{
	return flux_cgi_main("status_page", handle);
}
