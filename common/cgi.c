/*
 * cgi.c - request reading, response writing and the shared main() of the
 * CGI programs.
 *
 * The body is always read to its end before the answer, whatever the
 * answer: under Apache a CGI that exits without reading makes the server
 * reset the connection and the client gets nothing (ecosystem.md, finding
 * 3). Apache passes a chunked body with no CONTENT_LENGTH (finding 1), so
 * then we read to EOF. Bytes beyond a cap are read and thrown away.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <fcgiapp.h>
#include <zlib.h>

#include "carbon.h"
#include "cgi.h"
#include "json.h"
#include "log.h"
#include "stats.h"
#include "store.h"

/* Used before the config is known, e.g. to drain a body when it failed. */
#define DEFAULT_BODY_MAX 1048576
#define READ_CHUNK 65536

extern char **environ;

static const struct {
	int		 code;
	const char	*reason;
} reasons[] = {
	{ 200, "OK" }, { 204, "No Content" }, { 207, "Multi-Status" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
	{ 413, "Payload Too Large" }, { 429, "Too Many Requests" },
	{ 415, "Unsupported Media Type" }, { 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

static const char *
reason_of(int code)
{
	size_t	i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Unknown";
}

/* A meta-variable of the request (RFC 3875 section 4.1), or NULL. */
const char *
flux_req_env(const struct flux_req *r, const char *name)
{
	size_t	n = strlen(name);
	char	**e;

	for (e = r->envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static void
body_fail(struct flux_req *r, int status, const char *msg)
{
	if (r->body_status == 0) {
		r->body_status = status;
		r->body_error = msg;
	}
}

/* Start the clock of the body's rate floor (conf NULL: defaults). */
static void
rate_begin(struct flux_req *r, const struct flux_conf *c)
{
	r->min_rate = c ? c->body_min_rate : 500;
	r->window_ms = (c ? c->body_rate_window : 20) * 1000;
	r->window_end = flux_clock_ms(CLOCK_MONOTONIC) + r->window_ms;
	r->window_bytes = 0;
}

/*
 * The floor on a body's rate: each window must bring min_rate bytes a
 * second, or the body must end within it. A client that trickles would
 * otherwise hold the CGI (and an upload's temporary files) for as long as
 * the web server's Timeout allows. Waits for input while the window
 * lasts when the transport can wait; returns -1 (408, and the body given
 * up unread) when a window closed short.
 */
static int
rate_check(struct flux_req *r)
{
	int64_t	now, need = r->min_rate * (r->window_ms / 1000);
	int	ready = 0;

	if (r->min_rate == 0)
		return 0;
	while (!ready) {
		now = flux_clock_ms(CLOCK_MONOTONIC);
		while (now >= r->window_end) {
			if (r->window_bytes < need) {
				r->body_eof = 1;
				body_fail(r, 408, "request body too slow");
				flux_warn("request body too slow: less than %lld bytes a "
				    "second over %lld s; given up", (long long)r->min_rate,
				    (long long)(r->window_ms / 1000));
				return -1;
			}
			r->window_end += r->window_ms;
			r->window_bytes = 0;
		}
		if (r->io->wait == NULL || r->io->wait(r->io->ctx,
		    r->window_end - now) != 0)
			ready = 1;	/* input, an error for read(), or no way to wait */
	}
	return 0;
}

/* Keep at most max bytes of the rest of the body in b, discarding the rest. */
static void
read_stream(struct flux_req *r, size_t max, struct flux_buf *b)
{
	char	buf[READ_CHUNK];
	long	n;
	size_t	keep;

	while ((n = flux_req_read(r, buf, sizeof(buf))) > 0) {
		keep = (b->len < max) ? max - b->len : 0;
		if ((size_t)n > keep)
			body_fail(r, 413, "request body too large");
		if (keep > 0 && flux_buf_add(b, buf, (size_t)n < keep ? (size_t)n : keep) == -1)
			body_fail(r, 500, "out of memory");
	}
}

/* Inflate a gzip body (several members allowed), at most max bytes out. */
static int
gunzip(struct flux_req *r, const struct flux_buf *in, size_t max,
    struct flux_buf *out)
{
	z_stream	z = { 0 };
	int		zr = Z_OK;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return body_fail(r, 500, "out of memory"), -1;
	z.next_in = (Bytef *)in->ptr;
	z.avail_in = (uInt)in->len;
	while (zr != Z_STREAM_END || z.avail_in > 0) {
		if (zr == Z_STREAM_END && inflateReset(&z) != Z_OK)
			break;
		if (flux_buf_grow(out, READ_CHUNK) == -1) {
			body_fail(r, 500, "out of memory");
			break;
		}
		z.next_out = (Bytef *)out->ptr + out->len;
		z.avail_out = READ_CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len = (size_t)((char *)z.next_out - out->ptr);
		out->ptr[out->len] = '\0';
		if (out->len > max) {
			body_fail(r, 413, "inflated request body too large");
			break;
		}
		if (zr != Z_OK && zr != Z_STREAM_END) {
			body_fail(r, 400, "invalid gzip data");
			break;
		}
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			body_fail(r, 400, "invalid gzip data");
			break;
		}
	}
	inflateEnd(&z);
	return r->body_status ? -1 : 0;
}

/* CONTENT_LENGTH, or -1 when absent (read to EOF) or invalid (400). */
static long long
content_length(struct flux_req *r)
{
	const char	*cl = flux_req_env(r, "CONTENT_LENGTH");
	int64_t		 v;

	if (cl == NULL || *cl == '\0')
		return -1;
	if (!flux_digits_only(cl) || flux_parse_i64(cl, 0, INT64_MAX, &v) == -1) {
		body_fail(r, 400, "invalid Content-Length");
		return -1;
	}
	return (long long)v;
}

static int
decode_body(struct flux_req *r, const struct flux_conf *c, struct flux_buf *raw)
{
	const char	*enc = flux_req_env(r, "HTTP_CONTENT_ENCODING");
	struct flux_buf	 out = { 0 };
	size_t		 max = c ? (size_t)c->max_inflated_bytes : DEFAULT_BODY_MAX;

	if (enc == NULL || *enc == '\0' || strcasecmp(enc, "identity") == 0) {
		r->body = raw->ptr;
		r->body_len = raw->len;
		return 0;
	}
	if (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "x-gzip") != 0) {
		body_fail(r, 415, "unsupported Content-Encoding");
		flux_buf_free(raw);
		return -1;
	}
	gunzip(r, raw, max, &out);
	flux_buf_free(raw);
	r->body = out.ptr;
	r->body_len = out.len;
	return r->body_status ? -1 : 0;
}

/*
 * Read the whole body. body_status is then 0, or the status the request
 * earns (400 bad length or gzip, 413 over a cap, 415 unknown encoding);
 * the body is read to its end in every case.
 */
int
flux_req_read_body(struct flux_req *r, const struct flux_conf *c,
    const struct flux_io *io)
{
	struct flux_buf	raw = { 0 };
	size_t		max = c ? (size_t)c->max_body_bytes : DEFAULT_BODY_MAX;

	r->io = io;
	r->body_left = content_length(r);
	rate_begin(r, c);
	read_stream(r, max, &raw);
	if (flux_buf_grow(&raw, 0) == -1)
		body_fail(r, 500, "out of memory");
	if (r->body_status != 0) {
		flux_buf_free(&raw);
		return -1;
	}
	return decode_body(r, c, &raw);
}

/*
 * Read at most n bytes of the body: never more than CONTENT_LENGTH (RFC
 * 3875 section 4.2), to EOF when there is none. Returns the count, 0 at
 * the end of the body, -1 when it cannot be read, ends early (then
 * body_status is 400) or comes slower than the floor (408). Used by
 * streaming handlers and by the whole-body reader alike.
 */
long
flux_req_read(struct flux_req *r, char *buf, size_t n)
{
	long	got;

	if (r->io == NULL || r->body_eof || n == 0)
		return 0;
	if (r->body_left == 0) {
		r->body_eof = 1;
		return 0;
	}
	if (r->body_left > 0 && (long long)n > r->body_left)
		n = (size_t)r->body_left;
	if (rate_check(r) == -1)
		return -1;
	if ((got = r->io->read(r->io->ctx, buf, n)) < 0) {
		r->body_eof = 1;
		body_fail(r, 400, "cannot read request body");
		return -1;
	}
	if (got == 0) {
		r->body_eof = 1;
		if (r->body_left > 0) {
			body_fail(r, 400, "incomplete request body");
			return -1;
		}
		return 0;
	}
	if (r->body_left > 0)
		r->body_left -= got;
	r->window_bytes += got;
	return got;
}

/*
 * Read and discard the rest of the body; returns the bytes discarded.
 * Under Apache the answer only reaches the client once the body is read
 * (ecosystem.md, finding 3), so every streaming request ends here.
 */
static long long
req_drain(struct flux_req *r)
{
	char		buf[READ_CHUNK];
	long long	total = 0;
	long		n;

	while ((n = flux_req_read(r, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

/*
 * Streaming mode: check the framing of the body and leave the reading to
 * the handler. A Content-Encoding is refused (415): decoding a stream
 * behind the handler's back would defeat its caps, and no upload client
 * (curl -F, browsers) compresses a form.
 */
static void
stream_begin(struct flux_req *r, const struct flux_conf *c,
    const struct flux_io *io)
{
	const char	*enc = flux_req_env(r, "HTTP_CONTENT_ENCODING");

	r->io = io;
	r->body_left = content_length(r);
	rate_begin(r, c);
	if (enc != NULL && *enc != '\0' && strcasecmp(enc, "identity") != 0)
		body_fail(r, 415, "unsupported Content-Encoding");
}

/*
 * Copy compact JSON into b with a space after each ':' and ',' outside
 * strings: the layout of Python's json.dumps, which Skyline's clients and
 * the SPEC show ({"code": 400, "message": "..."}).
 */
static int
add_spaced_json(struct flux_buf *b, const char *s)
{
	int	in_str = 0, esc = 0;

	for (; *s != '\0'; s++) {
		if (flux_buf_add(b, s, 1) == -1)
			return -1;
		if (in_str) {
			if (esc)
				esc = 0;
			else if (*s == '\\')
				esc = 1;
			else if (*s == '"')
				in_str = 0;
		} else if (*s == '"')
			in_str = 1;
		else if ((*s == ':' || *s == ',') && flux_buf_add(b, " ", 1) == -1)
			return -1;
	}
	return 0;
}

static void
set_json_body(struct flux_resp *resp, int status, cJSON *o)
{
	char	*text = o ? cJSON_PrintUnformatted(o) : NULL;

	resp->body.len = 0;
	resp->status = status;
	resp->content_type = "application/json";
	if (text == NULL || add_spaced_json(&resp->body, text) == -1) {
		resp->status = 500;
		resp->body.len = 0;
		flux_buf_adds(&resp->body,
		    "{\"code\": 500, \"message\": \"internal error\"}");
	}
	free(text);
}

/* Answer {"code": status, "message": ...}; invalid UTF-8 is replaced. */
void
flux_resp_error(struct flux_resp *resp, int status, const char *fmt, ...)
{
	char	 buf[FLUX_MSG_MAX];
	char	*clean;
	cJSON	*o = cJSON_CreateObject();
	va_list	 ap;
	size_t	 n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The log line's copy: at most FLUX_REASON_MAX - 1 bytes of it. */
	n = strnlen(buf, sizeof(resp->message) - 1);
	memcpy(resp->message, buf, n);
	resp->message[n] = '\0';
	clean = flux_utf8_clean(buf, strlen(buf));
	if (o != NULL) {
		cJSON_AddNumberToObject(o, "code", status);
		cJSON_AddStringToObject(o, "message", clean ? clean : "");
	}
	set_json_body(resp, status, o);
	cJSON_Delete(o);
	free(clean);
}

/*
 * The start every endpoint shares: the one method it serves (else 405 with
 * Allow) and the status the body already earned (bad length, over a cap,
 * broken gzip). Returns 0 to go on, -1 when the answer is set.
 */
int
flux_req_accept(const struct flux_req *req, struct flux_resp *resp,
    const char *method)
{
	if (strcmp(req->method, method) != 0) {
		flux_resp_error(resp, 405, "method not allowed");
		resp->allow = method;
		return -1;
	}
	if (req->body_status != 0) {
		flux_resp_error(resp, req->body_status, "%s", req->body_error);
		return -1;
	}
	return 0;
}

/*
 * The body of a JSON endpoint as a non-empty object (caller deletes it), or
 * NULL with the answer set: 400 "no POST data received" for an empty body
 * or any other document, "invalid json data" for what is not JSON.
 */
void *
flux_req_json(const struct flux_req *req, struct flux_resp *resp)
{
	const char	*why;
	cJSON		*root;
	size_t		 i = 0;

	while (i < req->body_len && strchr(" \t\r\n", req->body[i]) != NULL)
		i++;
	if (i == req->body_len) {
		flux_resp_error(resp, 400, "no POST data received");
		return NULL;
	}
	/* A NUL byte, or a string holding \u0000, is refused with the rest. */
	if ((root = flux_json_parse(req->body, req->body_len, &why)) == NULL) {
		if (strncmp(why, "not JSON", 8) == 0 || strncmp(why, "a NUL byte", 10) == 0)
			flux_resp_error(resp, 400, "invalid json data");
		else
			flux_resp_error(resp, 400, "invalid json data - %s", why);
		return NULL;
	}
	if (!cJSON_IsObject(root) || root->child == NULL) {
		flux_resp_error(resp, 400, "no POST data received");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/*
 * The metric a refusal is about, for its log line (never the key). The
 * first one named wins: it is the one the message is about.
 */
void
flux_resp_metric(struct flux_resp *resp, const char *metric)
{
	if (resp->metric == NULL && metric != NULL)
		resp->metric = strdup(metric);
}

/* Answer with the page html (taken: the buffer is emptied). */
void
flux_resp_html(struct flux_resp *resp, int status, struct flux_buf *html)
{
	flux_buf_free(&resp->body);
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = *html;
	resp->no_store = 1;
	memset(html, 0, sizeof(*html));
}

/* Answer with a JSON text given whole. */
void
flux_resp_raw(struct flux_resp *resp, int status, const char *json)
{
	resp->status = status;
	resp->content_type = "application/json";
	resp->body.len = 0;
	if (flux_buf_adds(&resp->body, json) == -1)
		resp->status = 500;
}

/* Answer with the JSON object o (not freed here). */
void
flux_resp_json(struct flux_resp *resp, int status, void *o)
{
	set_json_body(resp, status, o);
}

static int
resp_write(const struct flux_resp *resp, const struct flux_io *io)
{
	struct flux_buf	h = { 0 };
	int		rc;

	rc = flux_buf_printf(&h, "Status: %d %s\r\n", resp->status,
	    reason_of(resp->status));
	if (rc == 0 && resp->allow)
		rc = flux_buf_printf(&h, "Allow: %s\r\n", resp->allow);
	/*
	 * Pages show live state and take keys in their forms: never cached,
	 * and framed by no other site.
	 */
	if (rc == 0 && resp->no_store)
		rc = flux_buf_adds(&h, "Cache-Control: no-store\r\n"
		    "X-Frame-Options: DENY\r\n"
		    "X-Content-Type-Options: nosniff\r\n");
	if (rc == 0 && resp->body.len > 0)
		rc = flux_buf_printf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    resp->content_type ? resp->content_type : "application/json",
		    resp->body.len);
	if (rc == 0)
		rc = flux_buf_adds(&h, "\r\n");
	if (rc == 0 && resp->body.len > 0)
		rc = flux_buf_add(&h, resp->body.ptr, resp->body.len);
	if (rc == 0)
		rc = io->write(io->ctx, h.ptr, h.len);
	flux_buf_free(&h);
	return rc;
}

/*
 * The Redis store of this process, connected on first use; NULL when Redis
 * cannot be reached (the caller decides what that means). A failed
 * connection is not retried within the request. A resident process keeps
 * the connection for the next request; one that broke is dropped here.
 */
struct flux_store *
flux_env_store(struct flux_env *e)
{
	char	err[FLUX_ERRLEN];

	if (e->store != NULL && !flux_store_usable(e->store)) {
		flux_store_close(e->store);
		e->store = NULL;
	}
	if (e->store == NULL && !e->store_failed) {
		if ((e->store = flux_store_open(&e->conf, err)) == NULL) {
			e->store_failed = 1;
			flux_warn("%s", err);
		}
	}
	if (e->store != NULL)
		flux_store_set_stats(e->store, &e->stats);
	return e->store;
}

/*
 * After a Redis command failed: drop the connection and, once a request,
 * connect again and return the new one (else NULL). That is worth it when
 * the connection was carried over from an earlier request (Redis may have
 * closed an idle connection, or restarted), and behind sentinels, where
 * the master may just have changed: the new connection asks the sentinels
 * again. This is the transparent reconnection of resident mode.
 */
struct flux_store *
flux_env_store_retry(struct flux_env *e)
{
	int	again = e->store_retry;

	flux_store_close(e->store);
	e->store = NULL;
	e->store_retry = 0;
	if (!again)
		e->store_failed = 1;
	return again ? flux_env_store(e) : NULL;
}

static long
fd_read(void *ctx, char *buf, size_t n)
{
	ssize_t	r;

	(void)ctx;
	while ((r = read(STDIN_FILENO, buf, n)) == -1 && errno == EINTR)
		;
	return (long)r;
}

static int
fd_wait(void *ctx, int64_t ms)
{
	struct pollfd	p = { STDIN_FILENO, POLLIN, 0 };
	int		n;

	(void)ctx;
	if (ms > INT_MAX)
		ms = INT_MAX;
	while ((n = poll(&p, 1, (int)ms)) == -1 && errno == EINTR)
		;
	return n > 0 ? 1 : n;
}

static int
fd_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	return flux_write_all(STDOUT_FILENO, buf, n);
}

/*
 * What the request came to, for the self-metrics and the log: a refusal
 * counts in its reason class and is logged at info with its reason and
 * the metric it was about (never the key: no message holds one); a 500 or
 * 503 counts too; at debug every request says what it did.
 */
static void
account(struct flux_env *env, const struct flux_req *req,
    const struct flux_resp *resp)
{
	enum flux_stat	why = flux_stats_refusal(resp->status, resp->message);
	char		did[512];

	if (why != FLUX_STAT__MAX) {
		flux_stats_add(&env->stats, why, 1);
		flux_info("refused %d (%s): %s%s%s", resp->status,
		    flux_stats_name(why) + strlen("refused."), resp->message,
		    resp->metric ? "; metric " : "", resp->metric ? resp->metric : "");
	} else if (resp->status == 503)
		flux_stats_add(&env->stats, FLUX_STAT_UNAVAILABLE, 1);
	else if (resp->status >= 500)
		flux_stats_add(&env->stats, FLUX_STAT_ERRORS, 1);
	flux_stats_summary(&env->stats, did, sizeof(did));
	flux_debug("%s %s: %d%s%s%s%s", req->method, env->program, resp->status,
	    resp->message[0] ? " " : "", resp->message, did[0] ? "; " : "", did);
}

/*
 * Send what the request counted and no script of its own took (no claim
 * to confirm: a refusal, a test request, a health check), after its
 * answer: without waiting for Redis, and not at all when Redis could not
 * be reached (the counts are lost, the request is not).
 */
static void
flush_stats(struct flux_env *env)
{
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN];

	if (!env->conf_ok || !flux_stats_pending(&env->stats) ||
	    (s = flux_env_store(env)) == NULL)
		return;
	if (flux_store_count(s, err) == -1) {
		flux_warn("self-metrics not counted: %s", err);
		flux_store_close(env->store);
		env->store = NULL;
	}
}

/*
 * A request runs to its end: a SIGTERM (Apache stopping a CGI, a process
 * manager stopping a resident one) between advancing flux.last and
 * delivering or spooling would lose accepted points. It waits until the
 * answer is written and the claim ended (request_end).
 */
static void
request_begin(sigset_t *old)
{
	sigset_t	block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, old);
}

/*
 * After the answer has gone: end the request's claim (its points are
 * delivered or spooled), a Redis round trip the client no longer waits
 * for, which carries the request's self-metrics; what no script took is
 * sent then (flush_stats). Then the signals held since request_begin
 * arrive.
 */
static void
request_end(struct flux_env *env, const sigset_t *old)
{
	char	err[FLUX_ERRLEN];

	if (env->confirm_due && env->store != NULL &&
	    flux_store_confirm(env->store, err) == -1)
		flux_warn("%s; it ends when its lease runs out", err);
	env->confirm_due = 0;
	flush_stats(env);
	flux_log_client(NULL);
	sigprocmask(SIG_SETMASK, old, NULL);
}

/*
 * A plain CGI's answer is complete for the web server when standard output
 * closes (RFC 3875 6.3: the response runs to the end of the script's
 * output). Closed now, the client has it while the process ends the
 * claim; /dev/null takes the descriptor's place, so that no socket opened
 * later becomes standard output.
 */
static void
answer_sent(void)
{
	int	fd;

	fflush(stdout);
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		close(STDOUT_FILENO);
		return;
	}
	if (fd != STDOUT_FILENO) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
}

/*
 * Serve one request: limit, read, dispatch, respond, count. A streaming
 * handler reads the body itself; what it leaves is drained before the
 * answer. What follows the answer is request_end's.
 */
static void
serve(struct flux_env *env, flux_handler h, const struct flux_io *io,
    int stream)
{
	struct flux_req		req = { 0 };
	struct flux_resp	resp = { 0 };

	req.envp = io->envp;
	req.method = flux_req_env(&req, "REQUEST_METHOD");
	req.query = flux_req_env(&req, "QUERY_STRING");
	req.now = flux_now_from(flux_req_env(&req, "FLUX_NOW"));
	if (req.method == NULL)
		req.method = "";
	if (req.query == NULL)
		req.query = "";
	flux_log_client(flux_req_env(&req, "REMOTE_ADDR"));
	flux_stats_begin(&env->stats, env->program);
	flux_stats_add(&env->stats, FLUX_STAT_REQUESTS, 1);
	if (stream)
		stream_begin(&req, env->conf_ok ? &env->conf : NULL, io);
	else
		flux_req_read_body(&req, env->conf_ok ? &env->conf : NULL, io);
	if (!env->conf_ok)
		flux_resp_error(&resp, 500, "internal error");
	else
		h(env, &req, &resp);
	if (stream)
		req_drain(&req);
	account(env, &req, &resp);
	if (resp_write(&resp, io) == -1)
		flux_warn("cannot write the response: %s", strerror(errno));
	free(req.body);
	free(resp.metric);
	flux_buf_free(&resp.body);
}

/*
 * Make env->conf the configuration of path: load it on first use, and
 * again whenever the file changed (a resident process picks up edits
 * without a restart). A connection made with the old settings is dropped.
 */
static void
env_config(struct flux_env *env, const char *path)
{
	char	err[FLUX_ERRLEN];

	if (env->conf_ok && strcmp(env->conf.path, path) == 0 &&
	    !flux_conf_changed(&env->conf))
		return;
	flux_store_close(env->store);
	env->store = NULL;
	if (env->conf_ok)
		flux_conf_free(&env->conf);
	env->conf_ok = 0;
	if (flux_conf_load(path, &env->conf, err) == -1) {
		flux_err("%s", err);
		return;
	}
	env->conf_ok = 1;
	flux_log_set_level((enum flux_level)env->conf.log_level);
}

/* FLUX_CONF of the request (Apache SetEnv, a FastCGI parameter), else ours. */
static const char *
request_conf_path(char **envp)
{
	struct flux_req	r = { 0 };
	const char	*p;

	r.envp = envp;
	p = flux_req_env(&r, "FLUX_CONF");
	return (p != NULL && *p != '\0') ? p : flux_conf_path();
}

static void
env_begin(struct flux_env *env, char **envp)
{
	env_config(env, request_conf_path(envp));
	env->store_failed = 0;
	env->confirm_due = 0;
	env->store_retry = env->store != NULL ||
	    (env->conf_ok && env->conf.redis_sentinels.n > 0);
}

static long
fcgi_read(void *ctx, char *buf, size_t n)
{
	FCGX_Request	*r = ctx;
	int		 got;

	got = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, r->in);
	return (got == 0 && FCGX_GetError(r->in) != 0) ? -1 : got;
}

static int
fcgi_write(void *ctx, const char *buf, size_t n)
{
	FCGX_Request	*r = ctx;

	return (n <= INT_MAX && FCGX_PutStr(buf, (int)n, r->out) == (int)n) ? 0 : -1;
}

/*
 * Resident FastCGI responder: serve request after request with the same
 * handler, keeping only the configuration and the Redis connection.
 */
static int
fcgi_loop(struct flux_env *env, flux_handler h, int stream)
{
	FCGX_Request	freq;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&freq, 0, 0) != 0) {
		flux_err("cannot initialise FastCGI");
		return 1;
	}
	flux_info("resident FastCGI responder started");
	/* Out of memory: a connection per delivery, as a plain CGI. */
	env->carbon = flux_carbon_new();
	while (FCGX_Accept_r(&freq) >= 0) {
		struct flux_io	io = { fcgi_read, fcgi_write, NULL, &freq, freq.envp };
		sigset_t	old;

		request_begin(&old);
		env_begin(env, freq.envp);
		serve(env, h, &io, stream);
		/* The answer goes to the server, which completes the request. */
		FCGX_Finish_r(&freq);
		request_end(env, &old);
	}
	FCGX_Free(&freq, 1);
	return 0;
}

/*
 * One request as a plain CGI, or many as a FastCGI responder when started
 * by a process manager (mod_fcgid, spawn-fcgi): same binary, same handler.
 */
static int
cgi_main(const char *program, flux_handler h, int stream)
{
	struct flux_env	env = { 0 };
	struct flux_io	io = { fd_read, fd_write, fd_wait, NULL, environ };
	int		rc = 0;

	flux_log_init(program);
	env.program = program;
	if (!FCGX_IsCGI())
		rc = fcgi_loop(&env, h, stream);
	else {
		sigset_t	old;

		request_begin(&old);
		env_begin(&env, environ);
		serve(&env, h, &io, stream);
		answer_sent();
		request_end(&env, &old);
	}
	flux_store_close(env.store);
	flux_carbon_free(env.carbon);
	if (env.conf_ok)
		flux_conf_free(&env.conf);
	return rc;
}

/* The main() of every CGI program whose body fits in memory. */
int
flux_cgi_main(const char *program, flux_handler h)
{
	return cgi_main(program, h, 0);
}

/*
 * The main() of a CGI that reads its body as a stream (upload_data): the
 * handler gets req->body == NULL and calls flux_req_read(); body_status
 * may already hold 400 (bad Content-Length) or 415 (Content-Encoding).
 */
int
flux_cgi_main_stream(const char *program, flux_handler h)
{
	return cgi_main(program, h, 1);
}
