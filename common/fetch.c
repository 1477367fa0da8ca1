/*
 * fetch.c - the libcurl client of fetch.h. flux_fetch_get runs one request
 * on an easy handle kept for the run and keeps the body in memory (small
 * answers: the local Graphite's). flux_fetch_many runs a job's requests
 * side by side on a multi handle kept for the run (its connection cache
 * serves every job), and streams each answer to its consumer as it
 * arrives. Either way a body is cut off beyond a cap, a deadline ends what
 * is still running, and only an HTTP 200 counts as an answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "fetch.h"

#define USER_AGENT "flux-batch (populate_metric)"
/* Longest wait for activity before the deadline is looked at again. */
#define POLL_MS 1000

struct flux_fetch {
	CURL		*curl;
	CURLM		*multi;
	long		 connect_ms, total_ms;
	int		 reuse;
	int		 no_redirects;
	int64_t		 deadline_ms;	/* monotonic; 0: none */
	int		(*tick)(void *);	/* between rounds of many */
	void		*tick_ctx;
	size_t		 max_bytes;
	struct flux_buf	*body;		/* the request's, while it runs */
	int		 too_big;
	char		 errbuf[CURL_ERROR_SIZE];
	char		 ctype[128];
};

/* One request of flux_fetch_many on its way. */
struct xfer {
	struct flux_fetch	*f;
	struct flux_fetch_req	*req;
	CURL			*c;
	struct curl_slist	*hdrs;
	int64_t			 t0;
	int			 too_big;
	int			 sink_failed;
	int			 deadline_bound;	/* its timeout is the deadline */
	int			 reported;	/* on_done was called */
	char			 errbuf[CURL_ERROR_SIZE];
};

static size_t
on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct flux_fetch	*f = ctx;
	size_t			 len = size * n;

	if (len > f->max_bytes - f->body->len) {
		f->too_big = 1;
		return 0;
	}
	return flux_buf_add(f->body, p, len) == -1 ? 0 : len;
}

/* The options every request shares; 0 or -1. */
static int
setup(struct flux_fetch *f, CURL *c, long connect_ms, long total_ms, int reuse)
{
	if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, reuse ? 0L : 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#else
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, f->no_redirects ? 0L : 1L) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)f->max_bytes) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, f) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * A fetcher with the given limits (milliseconds, bytes of decoded body).
 * reuse keeps connections open between requests: worth a TLS handshake per
 * URL to a remote, but against a server that writes headers and body in
 * separate segments (Python's http.server, Django's runserver) each later
 * request on the connection waits ~40 ms for Nagle and a delayed ACK, so
 * small requests to a near server go better without it (measured, see
 * bench/populate.sh). NULL with err set on failure; the caller closes it
 * with flux_fetch_close.
 */
struct flux_fetch *
flux_fetch_open(long connect_ms, long total_ms, size_t max_bytes, int reuse,
    char err[])
{
	struct flux_fetch	*f;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		flux_errf(err, "cannot initialise libcurl");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->curl = curl_easy_init()) == NULL) {
		flux_errf(err, "cannot initialise libcurl: out of memory");
		free(f);
		curl_global_cleanup();
		return NULL;
	}
	f->max_bytes = max_bytes;
	f->connect_ms = connect_ms;
	f->total_ms = total_ms;
	f->reuse = reuse;
	if (setup(f, f->curl, connect_ms, total_ms, reuse) == -1) {
		flux_errf(err, "cannot set libcurl options");
		flux_fetch_close(f);
		return NULL;
	}
	return f;
}

void
flux_fetch_close(struct flux_fetch *f)
{
	if (f == NULL)
		return;
	if (f->multi != NULL)
		curl_multi_cleanup(f->multi);
	curl_easy_cleanup(f->curl);
	free(f);
	curl_global_cleanup();
}

/* Credentials for this request only; *hdrs is the caller's to free. */
static int
set_auth(CURL *c, const struct flux_fetch_auth *auth, struct curl_slist **hdrs)
{
	struct flux_buf	 b = { 0 };
	const char	*user = auth ? auth->user : NULL;
	const char	*token = auth ? auth->token : NULL;
	int		 rc = 0;

	*hdrs = NULL;
	/* A line break in the token would add headers of the sender's choosing. */
	if (token != NULL && (strpbrk(token, "\r\n") != NULL ||
	    flux_buf_printf(&b, "Authorization: Bearer %s", token) == -1 ||
	    (*hdrs = curl_slist_append(NULL, b.ptr)) == NULL))
		rc = -1;
	flux_buf_free(&b);
	if (rc == 0 && (curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERNAME, user) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PASSWORD, user == NULL ? NULL :
	    auth->password ? auth->password : "") != CURLE_OK))
		rc = -1;
	return rc;
}

/*
 * The time a request may take: the fetcher's total, or what is left
 * before the deadline if that is less (*bound set then); 0 when the
 * deadline has passed.
 */
static long
time_left(const struct flux_fetch *f, int *bound)
{
	int64_t	left;

	*bound = 0;
	if (f->deadline_ms == 0)
		return f->total_ms;
	left = f->deadline_ms - flux_clock_ms(CLOCK_MONOTONIC);
	if (left >= f->total_ms)
		return f->total_ms;
	*bound = 1;
	return left > 0 ? (long)left : 0;
}

static void
describe_failure(const struct flux_fetch *f, CURLcode res, const char *url,
    char err[])
{
	char	shown[512];

	flux_fetch_redact(url, shown, sizeof(shown));
	if (f->too_big || res == CURLE_FILESIZE_EXCEEDED)
		flux_errf(err, "answer of '%s' is larger than %zu bytes",
		    shown, f->max_bytes);
	else
		flux_errf(err, "cannot fetch '%s': %s", shown,
		    f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
}

/*
 * GET url into body (replacing its content). Returns 0 for an HTTP 200
 * answer that fit in the size cap, else -1 with err naming the URL (its
 * user:password@ part hidden) and the cause.
 */
int
flux_fetch_get(struct flux_fetch *f, const char *url,
    const struct flux_fetch_auth *auth, struct flux_buf *body, char err[])
{
	struct curl_slist	*hdrs = NULL;
	char			 shown[512], *ct = NULL;
	long			 code = 0;
	CURLcode		 res;
	int			 rc = -1;

	long			 ms;
	int			 bound;

	body->len = 0;
	f->body = body;
	f->too_big = 0;
	f->errbuf[0] = f->ctype[0] = '\0';
	if ((ms = time_left(f, &bound)) == 0) {
		flux_fetch_redact(url, shown, sizeof(shown));
		flux_errf(err, "'%s' not fetched: the time allowed ran out",
		    shown);
		goto done;
	}
	if (curl_easy_setopt(f->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK ||
	    set_auth(f->curl, auth, &hdrs) == -1) {
		flux_fetch_redact(url, shown, sizeof(shown));
		flux_errf(err, "cannot prepare a request for '%s'", shown);
		goto done;
	}
	if ((res = curl_easy_perform(f->curl)) != CURLE_OK) {
		describe_failure(f, res, url, err);
		goto done;
	}
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
	if (curl_easy_getinfo(f->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(f->ctype, sizeof(f->ctype), "%s", ct);
	if (code != 200) {
		flux_fetch_redact(url, shown, sizeof(shown));
		flux_errf(err, "'%s' answered HTTP %ld", shown, code);
		goto done;
	}
	rc = (flux_buf_grow(body, 0) == 0) ? 0 : -1;
	if (rc == -1)
		flux_errf(err, "out of memory");
done:
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	f->body = NULL;
	return rc;
}

/*
 * s percent-encoded for a query string: everything but RFC 3986's
 * unreserved characters, so '+' reaches Graphite as '+', not a space.
 * Caller frees.
 */
char *
flux_fetch_escape(const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	struct flux_buf		b = { 0 };
	unsigned char		c;
	char			enc[3];

	if (flux_buf_grow(&b, strlen(s) * 3) == -1)
		return NULL;
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			flux_buf_add(&b, s, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 15];
		flux_buf_add(&b, enc, 3);
	}
	return b.ptr;
}

/*
 * url as it may be logged: a user:password@ part becomes "***@" (SPEC 9:
 * passwords are never logged). Truncated to len - 1 bytes.
 */
void
flux_fetch_redact(const char *url, char *out, size_t len)
{
	const char	*auth = strstr(url, "://"), *end, *at;

	if (auth == NULL) {
		snprintf(out, len, "%s", url);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (at = end; at > auth && at[-1] != '@'; at--)
		;
	if (at == auth)
		snprintf(out, len, "%s", url);
	else
		snprintf(out, len, "%.*s***@%s", (int)(auth - url), url, at);
}

/* Later requests end at deadline_ms (monotonic ms; 0: no deadline). */
void
flux_fetch_set_deadline(struct flux_fetch *f, int64_t deadline_ms)
{
	f->deadline_ms = deadline_ms;
}

/*
 * Call tick(ctx) between the rounds of flux_fetch_many (at least once a
 * POLL_MS): a caller's chance to renew a lease while answers come in. It
 * returning -1 ends the requests still running, as the deadline does.
 */
void
flux_fetch_set_tick(struct flux_fetch *f, int (*tick)(void *), void *ctx)
{
	f->tick = tick;
	f->tick_ctx = ctx;
}

/*
 * Follow no redirect: with FLUX_POPULATE_ALLOWED_HOSTS set, a remote on
 * the list could otherwise send us on to one that is not (a 3xx is then
 * an answer that is not 200).
 */
void
flux_fetch_no_redirects(struct flux_fetch *f)
{
	f->no_redirects = 1;
	curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 0L);
}

/*
 * True when hosts is empty, or names the host of url: a host name,
 * compared without case, or an address as the URL writes it (an IPv6
 * address without its brackets). An entry ".example.org" also takes every
 * name below example.org.
 */
int
flux_fetch_host_allowed(const struct flux_list *hosts, const char *url)
{
	CURLU	*u;
	char	*host = NULL;
	size_t	 i, hl, el;
	int	 ok = 0;

	if (hosts->n == 0)
		return 1;
	if ((u = curl_url()) == NULL || curl_url_set(u, CURLUPART_URL, url, 0) !=
	    CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return 0;
	}
	hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']')
		memmove(host, host + 1, hl -= 2), host[hl] = '\0';
	for (i = 0; i < hosts->n && !ok; i++) {
		el = strlen(hosts->v[i]);
		ok = strcasecmp(host, hosts->v[i]) == 0 || (hosts->v[i][0] == '.' &&
		    hl > el && strcasecmp(host + hl - el, hosts->v[i]) == 0);
	}
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* libcurl: a chunk of a streamed answer; only a 200's body is passed on. */
static size_t
on_stream(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer	*x = ctx;
	size_t		 len = size * n;
	long		 code = 0;

	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return len;
	if (len > x->f->max_bytes - x->req->bytes) {
		x->too_big = 1;
		return 0;
	}
	x->req->bytes += len;
	if (x->req->on_data(x->req->ctx, p, len, x->req->err) == -1) {
		x->sink_failed = 1;
		return 0;
	}
	return len;
}

static void	xfer_end(struct flux_fetch *, struct xfer *);

enum why_not { NOT_STARTED, CUT_OFF, NOT_PREPARED };

static void
xfer_fail(struct flux_fetch_req *req, enum why_not why)
{
	char	shown[512];

	flux_fetch_redact(req->url, shown, sizeof(shown));
	req->failed = 1;
	req->cut = why != NOT_PREPARED;
	if (why == NOT_STARTED)
		flux_errf(req->err, "'%s' not fetched: the time allowed "
		    "ran out", shown);
	else if (why == CUT_OFF)
		flux_errf(req->err, "'%s' cut off: the time allowed ran "
		    "out", shown);
	else
		flux_errf(req->err, "cannot prepare a request for '%s'",
		    shown);
}

/* Start request x on the multi handle; -1 (and the request failed) if not. */
static int
xfer_start(struct flux_fetch *f, struct xfer *x)
{
	struct flux_fetch_req	*req = x->req;
	long			 ms;
	int			 bound;

	x->f = f;
	x->t0 = flux_clock_ms(CLOCK_MONOTONIC);
	if ((ms = time_left(f, &bound)) == 0) {
		xfer_fail(req, NOT_STARTED);
		return -1;
	}
	x->deadline_bound = bound;
	if ((x->c = curl_easy_init()) == NULL ||
	    setup(f, x->c, f->connect_ms, ms, f->reuse) == -1 ||
	    curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_stream) != CURLE_OK ||
	    curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(x->c, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK ||
	    curl_easy_setopt(x->c, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(x->c, CURLOPT_URL, req->url) != CURLE_OK ||
	    set_auth(x->c, req->auth, &x->hdrs) == -1 ||
	    curl_multi_add_handle(f->multi, x->c) != CURLM_OK) {
		xfer_fail(req, NOT_PREPARED);
		xfer_end(f, x);
		return -1;
	}
	return 0;
}

/* A request ended with res: say how it went in its req. */
static void
xfer_done(struct xfer *x, CURLcode res)
{
	struct flux_fetch_req	*req = x->req;
	char			 shown[512], *ct = NULL;
	long			 code = 0;

	req->secs = (double)(flux_clock_ms(CLOCK_MONOTONIC) - x->t0) / 1e3;
	flux_fetch_redact(req->url, shown, sizeof(shown));
	if (curl_easy_getinfo(x->c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(req->ctype, sizeof(req->ctype), "%s", ct);
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	req->failed = 1;
	req->refused = x->sink_failed;
	if (x->sink_failed)
		return;		/* the consumer said why in req->err */
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED)
		flux_errf(req->err, "answer of '%s' is larger than %zu "
		    "bytes", shown, x->f->max_bytes);
	else if (res == CURLE_OPERATION_TIMEDOUT && x->deadline_bound) {
		req->cut = 1;
		flux_errf(req->err, "'%s' cut off: the time allowed ran "
		    "out", shown);
	} else if (res != CURLE_OK)
		flux_errf(req->err, "cannot fetch '%s': %s", shown,
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	else if (code != 200)
		flux_errf(req->err, "'%s' answered HTTP %ld", shown, code);
	else
		req->failed = 0;
}

static void
xfer_end(struct flux_fetch *f, struct xfer *x)
{
	if (x->req != NULL && !x->reported) {
		x->reported = 1;
		x->req->on_done(x->req->ctx, x->req);
	}
	if (x->c != NULL) {
		curl_multi_remove_handle(f->multi, x->c);
		curl_easy_cleanup(x->c);
	}
	curl_slist_free_all(x->hdrs);
	x->c = NULL;
	x->hdrs = NULL;
}

/* Collect the requests that ended; returns how many did. */
static size_t
reap(struct flux_fetch *f)
{
	struct xfer	*x;
	CURLMsg		*m;
	size_t		 done = 0;
	int		 left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		xfer_done(x, m->data.result);
		xfer_end(f, x);
		done++;
	}
	return done;
}

/*
 * Run the n requests, at most parallel at a time, each streamed to its
 * on_data; every req says how it went. Requests still running or not yet
 * started at deadline_ms (monotonic; 0: none) fail with cut set. Returns
 * 0, or -1 with err when the multi handle itself failed.
 */
int
flux_fetch_many(struct flux_fetch *f, struct flux_fetch_req *reqs, size_t n,
    size_t parallel, int64_t deadline_ms, char err[])
{
	struct xfer	*xs;
	size_t		 next = 0, active = 0, i;
	int		 running, rc = 0;
	int64_t		 now, wait;

	if ((f->multi == NULL && (f->multi = curl_multi_init()) == NULL) ||
	    (xs = calloc(n ? n : 1, sizeof(*xs))) == NULL)
		return flux_errf(err, "cannot initialise libcurl: out of memory");
	f->deadline_ms = deadline_ms;
	while (next < n || active > 0) {
		for (; active < parallel && next < n; next++) {
			xs[next].req = &reqs[next];
			if (xfer_start(f, &xs[next]) == 0)
				active++;
		}
		if (curl_multi_perform(f->multi, &running) != CURLM_OK) {
			flux_errf(err, "libcurl failed to run the requests");
			rc = -1;
			break;
		}
		active -= reap(f);
		now = flux_clock_ms(CLOCK_MONOTONIC);
		if ((deadline_ms != 0 && now >= deadline_ms) ||
		    (f->tick != NULL && f->tick(f->tick_ctx) == -1))
			break;
		wait = deadline_ms != 0 && deadline_ms - now < POLL_MS ?
		    deadline_ms - now : POLL_MS;
		if (active > 0)
			curl_multi_poll(f->multi, NULL, 0, (int)wait, NULL);
	}
	for (i = 0; i < n; i++) {
		if (i >= next || xs[i].c != NULL)
			xfer_fail(&reqs[i], i < next ? CUT_OFF : NOT_STARTED);
		xs[i].req = &reqs[i];
		xfer_end(f, &xs[i]);
	}
	free(xs);
	return rc;
}
