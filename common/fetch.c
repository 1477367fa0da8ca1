/*
 * fetch.c - the libcurl client of fetch.h. One easy handle serves every
 * request of a run, so connections to the same remote are reused. Bodies
 * are kept in memory up to a cap and the transfer is cut off beyond it;
 * only an HTTP 200 counts as an answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fetch.h"

#define USER_AGENT "flux-batch (populate_metric)"

struct flux_fetch {
	CURL		*curl;
	size_t		 max_bytes;
	struct flux_buf	*body;		/* the request's, while it runs */
	int		 too_big;
	char		 errbuf[CURL_ERROR_SIZE];
	char		 ctype[128];
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
setup(struct flux_fetch *f, long connect_ms, long total_ms, int reuse)
{
	CURL	*c = f->curl;

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
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
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
		snprintf(err, FLUX_ERRLEN, "cannot initialise libcurl");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->curl = curl_easy_init()) == NULL) {
		snprintf(err, FLUX_ERRLEN, "cannot initialise libcurl: out of memory");
		free(f);
		curl_global_cleanup();
		return NULL;
	}
	f->max_bytes = max_bytes;
	if (setup(f, connect_ms, total_ms, reuse) == -1) {
		snprintf(err, FLUX_ERRLEN, "cannot set libcurl options");
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
	curl_easy_cleanup(f->curl);
	free(f);
	curl_global_cleanup();
}

/* Credentials for this request only; *hdrs is the caller's to free. */
static int
set_auth(struct flux_fetch *f, const struct flux_fetch_auth *auth,
    struct curl_slist **hdrs)
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
	if (rc == 0 && (curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, *hdrs) != CURLE_OK ||
	    curl_easy_setopt(f->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK ||
	    curl_easy_setopt(f->curl, CURLOPT_USERNAME, user) != CURLE_OK ||
	    curl_easy_setopt(f->curl, CURLOPT_PASSWORD, user == NULL ? NULL :
	    auth->password ? auth->password : "") != CURLE_OK))
		rc = -1;
	return rc;
}

static void
describe_failure(const struct flux_fetch *f, CURLcode res, const char *url,
    char err[])
{
	char	shown[512];

	flux_fetch_redact(url, shown, sizeof(shown));
	if (f->too_big || res == CURLE_FILESIZE_EXCEEDED)
		snprintf(err, FLUX_ERRLEN, "answer of '%s' is larger than %zu bytes",
		    shown, f->max_bytes);
	else
		snprintf(err, FLUX_ERRLEN, "cannot fetch '%s': %s", shown,
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

	body->len = 0;
	f->body = body;
	f->too_big = 0;
	f->errbuf[0] = f->ctype[0] = '\0';
	if (curl_easy_setopt(f->curl, CURLOPT_URL, url) != CURLE_OK ||
	    set_auth(f, auth, &hdrs) == -1) {
		flux_fetch_redact(url, shown, sizeof(shown));
		snprintf(err, FLUX_ERRLEN, "cannot prepare a request for '%s'", shown);
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
		snprintf(err, FLUX_ERRLEN, "'%s' answered HTTP %ld", shown, code);
		goto done;
	}
	rc = (flux_buf_grow(body, 0) == 0) ? 0 : -1;
	if (rc == -1)
		snprintf(err, FLUX_ERRLEN, "out of memory");
done:
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	f->body = NULL;
	return rc;
}

/* The Content-Type of the last answer ("" when none), for messages. */
const char *
flux_fetch_content_type(const struct flux_fetch *f)
{
	return f->ctype;
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
