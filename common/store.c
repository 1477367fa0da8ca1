/*
 * store.c - the Redis store of store.h, on hiredis 0.14: the connection,
 * the one way every part of the store sends a command and checks its reply
 * (store_priv.h), the plain commands and the reliable queue. The claims are
 * in store_claim.c, the flux.last batch read and advance in store_last.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pylist.h"
#include "store.h"
#include "store_priv.h"
#include "util.h"

/*
 * Skyline's flux.listen heartbeat: written by every health check, it
 * expires unless renewed within this many seconds.
 */
#define LISTEN_TTL_S 120

/* Room for a long long in decimal: 20 characters, a sign and the NUL. */
#define I64_LEN 24

/* Strings the argument lists hold at first: a GET or a small script. */
#define ARGS_FIRST_CAP 8

/*
 * Between two rounds of the sentinels while no master answers (a
 * fail-over under way): short, as a promotion takes a second or so.
 */
#define SENTINEL_PAUSE_MS 100

/* Room for a host name or address of a sentinel or a master. */
#define HOST_MAX 256

/* A context to host:port, or to the Unix socket path when it is not NULL. */
static redisContext *
dial(const char *host, int port, const char *path, int64_t ms,
    const char *what, char err[])
{
	struct timeval	 tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	redisContext	*ctx;

	ctx = path != NULL ? redisConnectUnixWithTimeout(path, tv) :
	    redisConnectWithTimeout(host, port, tv);
	if (ctx == NULL || ctx->err || redisSetTimeout(ctx, tv) != REDIS_OK) {
		flux_errf(err, "cannot connect to %s: %s", what,
		    ctx ? ctx->errstr : "out of memory");
		if (ctx)
			redisFree(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * One command on a bare context (before it is a store's): its reply, of
 * type want or nil, for the caller to free; NULL with err "<what> failed:
 * <why>".
 */
static redisReply *
ask(redisContext *ctx, int want, const char *what, char err[],
    const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;

	va_start(ap, fmt);
	r = redisvCommand(ctx, fmt, ap);
	va_end(ap);
	if (r != NULL && (r->type == want || r->type == REDIS_REPLY_NIL))
		return r;
	flux_errf(err, "%s failed: %s", what, r == NULL ? ctx->errstr :
	    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r != NULL)
		freeReplyObject(r);
	return NULL;
}

/* AUTH with password unless it is unset or empty; what names the server. */
static int
auth(redisContext *ctx, const char *password, const char *what, char err[])
{
	char		 label[FLUX_ERRLEN];
	redisReply	*r;

	if (password == NULL || *password == '\0')
		return 0;
	snprintf(label, sizeof(label), "%s AUTH", what);
	if ((r = ask(ctx, REDIS_REPLY_STATUS, label, err, "AUTH %s",
	    password)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/*
 * Ask the sentinel item ("host:port") where the master is: 0 with its
 * address in host and *port, or -1 with err.
 */
static int
ask_sentinel(const struct flux_conf *c, const char *item, char *host,
    int *port, char err[])
{
	char		 shost[HOST_MAX], what[HOST_MAX + 32];
	int		 sport, rc = -1;
	int64_t		 p;
	redisContext	*ctx;
	redisReply	*r = NULL;

	snprintf(what, sizeof(what), "redis sentinel '%s'", item);
	if (flux_conf_hostport(item, shost, sizeof(shost), &sport) == -1) {
		flux_errf(err, "%s: not host:port", what);
		return -1;
	}
	if ((ctx = dial(shost, sport, NULL, c->redis_timeout_ms, what, err)) == NULL)
		return -1;
	if (auth(ctx, c->redis_sentinel_password, what, err) == 0 &&
	    (r = ask(ctx, REDIS_REPLY_ARRAY, what, err,
	    "SENTINEL get-master-addr-by-name %s", c->redis_sentinel_master)) != NULL) {
		if (r->type == REDIS_REPLY_NIL)
			flux_errf(err, "%s knows no master '%s'", what,
			    c->redis_sentinel_master);
		else if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_STRING ||
		    strlen(r->element[0]->str) >= HOST_MAX ||
		    flux_parse_i64(r->element[1]->str, 1, 65535, &p) == -1)
			flux_errf(err, "%s failed: unexpected reply", what);
		else {
			memcpy(host, r->element[0]->str, strlen(r->element[0]->str) + 1);
			*port = (int)p;
			rc = 0;
		}
		freeReplyObject(r);
	}
	redisFree(ctx);
	return rc;
}

/*
 * The master the sentinel item names, connected, authenticated and
 * checked with ROLE: a sentinel may still name a master that a fail-over
 * has just demoted. NULL with err.
 */
static redisContext *
via_sentinel(const struct flux_conf *c, const char *item, char err[])
{
	char		 host[HOST_MAX], what[HOST_MAX + 32];
	int		 port;
	redisContext	*ctx;
	redisReply	*r;

	if (ask_sentinel(c, item, host, &port, err) == -1)
		return NULL;
	snprintf(what, sizeof(what), strchr(host, ':') ? "redis '[%s]:%d'" :
	    "redis '%s:%d'", host, port);
	if ((ctx = dial(host, port, NULL, c->redis_timeout_ms, what, err)) == NULL)
		return NULL;
	if (auth(ctx, c->redis_password, what, err) == 0 &&
	    (r = ask(ctx, REDIS_REPLY_ARRAY, what, err, "ROLE")) != NULL) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[0]->str, "master") == 0) {
			freeReplyObject(r);
			return ctx;
		}
		flux_errf(err, "%s, named master '%s' by %s, is not a "
		    "master (role %s)", what, c->redis_sentinel_master, item,
		    r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING ? r->element[0]->str :
		    "unknown");
		freeReplyObject(r);
	}
	redisFree(ctx);
	return NULL;
}

/*
 * The master behind REDIS_SENTINELS (Redis's guidelines for Sentinel
 * clients): each sentinel in turn is asked for it until one names a master
 * that ROLE confirms. While none does (a fail-over under way: the old
 * master gone, the sentinels still naming it or naming a replica not yet
 * promoted) the sentinels are asked again every SENTINEL_PAUSE_MS, and no
 * new round begins once REDIS_SENTINEL_WAIT_MS has passed. A resident
 * process starts with the sentinel that answered it last.
 */
static redisContext *
connect_sentinels(const struct flux_conf *c, char err[])
{
	static size_t	 first;
	const size_t	 n = c->redis_sentinels.n;
	int64_t		 deadline = flux_clock_ms(CLOCK_MONOTONIC) +
			    c->redis_sentinel_wait_ms, left;
	char		 last[FLUX_ERRLEN];
	redisContext	*ctx;
	size_t		 k, i;

	for (;;) {
		for (k = 0; k < n; k++) {
			i = (first + k) % n;
			if ((ctx = via_sentinel(c, c->redis_sentinels.v[i], last)) != NULL) {
				first = i;
				return ctx;
			}
		}
		if ((left = deadline - flux_clock_ms(CLOCK_MONOTONIC)) <= 0)
			break;
		flux_sleep_ms(left < SENTINEL_PAUSE_MS ? left : SENTINEL_PAUSE_MS);
	}
	flux_errf(err, "no redis master '%s' from the sentinels within "
	    "%lld ms: %.4096s", c->redis_sentinel_master,
	    (long long)c->redis_sentinel_wait_ms, last);
	return NULL;
}

/* A connection to the master: its socket or address, or the sentinels'. */
static redisContext *
connect_redis(const struct flux_conf *c, char err[])
{
	const char	*path = c->redis_socket_path;
	char		 what[FLUX_PATH_MAX + 16];
	redisContext	*ctx;

	if (c->redis_sentinels.n > 0)
		return connect_sentinels(c, err);
	if (path != NULL && *path == '\0')
		path = NULL;
	snprintf(what, sizeof(what), "redis '%s'", path ? path : c->redis_host);
	if ((ctx = dial(c->redis_host, (int)c->redis_port, path,
	    c->redis_timeout_ms, what, err)) != NULL &&
	    auth(ctx, c->redis_password, "redis", err) == -1) {
		redisFree(ctx);
		ctx = NULL;
	}
	return ctx;
}

/*
 * Connect (and authenticate); NULL with err set when Redis is unreachable.
 * c must outlive the store: a store whose connection is lost connects
 * again before its next command, with the same settings.
 */
struct flux_store *
flux_store_open(const struct flux_conf *c, char err[])
{
	struct flux_store	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		flux_errf(err, "out of memory");
		return NULL;
	}
	s->conf = c;
	if ((s->ctx = connect_redis(c, err)) == NULL) {
		flux_store_close(s);
		return NULL;
	}
	return s;
}

void
flux_store_close(struct flux_store *s)
{
	if (s == NULL)
		return;
	store_claim_clear(s);
	if (s->ctx)
		redisFree(s->ctx);
	free(s);
}

/*
 * False once the connection has failed (hiredis contexts are not reusable
 * then) or the server has turned out to be a replica: a caller that keeps
 * stores (a resident process) drops such a store and opens another.
 */
int
flux_store_usable(const struct flux_store *s)
{
	return s != NULL && s->ctx != NULL && s->ctx->err == 0 && !s->lost;
}

/*
 * Before each command: a store whose connection failed, or whose master
 * was demoted (READONLY), connects again, behind sentinels to whichever
 * master they name now. A long run (flux-batch) so rides out a fail-over
 * or a restart of Redis; the command that failed is not replayed.
 */
static int
ready(struct flux_store *s, char err[])
{
	if (flux_store_usable(s))
		return 0;
	if (s->ctx != NULL)
		redisFree(s->ctx);
	s->lost = 0;
	s->owed = 0;	/* their replies went with the connection */
	if ((s->ctx = connect_redis(s->conf, err)) == NULL)
		return -1;
	return 0;
}

/* A reply error as text, for the caller's err. */
void
store_reply_error(const struct flux_store *s, const redisReply *r,
    const char *what, char err[])
{
	flux_errf(err, "redis %s failed: %s", what, r ?
	    (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply") :
	    s->ctx->errstr);
}

/* Whether r is Redis saying it does not hold the script of an EVALSHA. */
static int
noscript(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", strlen("NOSCRIPT")) == 0;
}

/*
 * The one check of every reply r: of type want (a nil passes for a string,
 * as a missing key; STORE_REPLY_ANY: anything but an error). On success r
 * goes to *reply for the caller to free, or is freed when reply is NULL;
 * on failure it is freed and err says "redis <what> failed: <why>".
 */
static int
checked(struct flux_store *s, redisReply *r, int want, redisReply **reply,
    const char *what, char err[])
{
	int	ok = r != NULL && (r->type == want ||
	    (want == REDIS_REPLY_STRING && r->type == REDIS_REPLY_NIL) ||
	    (want == STORE_REPLY_ANY && r->type != REDIS_REPLY_ERROR));

	if (!ok)
		store_reply_error(s, r, what, err);
	/* An EVALSHA of a script Redis does not hold (store_script_run). */
	s->noscript = !ok && noscript(r);
	/* A master demoted by a fail-over refuses writes: find the new one. */
	if (!ok && r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "READONLY", 8) == 0)
		s->lost = 1;
	if (reply != NULL)
		*reply = ok ? r : NULL;
	if (r != NULL && (!ok || reply == NULL))
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/*
 * Read and drop the replies of commands sent without waiting for them
 * (flux_store_count), so that the next command reads its own reply. A
 * resident process sends its counts after one answer and reads their
 * reply here, before the next request's first command: by then it has
 * long arrived.
 */
static void
drain(struct flux_store *s)
{
	void	*r;

	while (s->owed > 0 && s->ctx->err == 0) {
		if (redisGetReply(s->ctx, &r) != REDIS_OK)
			break;
		freeReplyObject(r);
		s->owed--;
	}
	s->owed = 0;
}

/*
 * Before each command: the replies of commands sent unread are read,
 * then a lost connection (or a demoted master) is replaced (ready). -1
 * with err, *reply (when not NULL) set to NULL, when there is none.
 */
static int
prepare(struct flux_store *s, redisReply **reply, char err[])
{
	drain(s);
	if (ready(s, err) == 0)
		return 0;
	if (reply != NULL)
		*reply = NULL;
	return -1;
}

static int
vcommand(struct flux_store *s, int want, redisReply **reply, const char *what,
    char err[], const char *fmt, va_list ap)
{
	if (prepare(s, reply, err) == -1)
		return -1;
	return checked(s, redisvCommand(s->ctx, fmt, ap), want, reply, what, err);
}

/* A command in hiredis's format (%s, %d, %lld), its reply checked(). */
int
store_command(struct flux_store *s, int want, redisReply **reply,
    const char *what, char err[], const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = vcommand(s, want, reply, what, err, fmt, ap);
	va_end(ap);
	return rc;
}

/* The command built in a, its reply checked(); unless a failed. */
int
store_command_args(struct flux_store *s, const struct store_args *a, int want,
    redisReply **reply, const char *what, char err[])
{
	if (a->failed)
		return flux_errf(err, "out of memory");
	if (prepare(s, reply, err) == -1)
		return -1;
	return checked(s, redisCommandArgv(s->ctx, (int)a->n,
	    (const char **)a->v, a->len), want, reply, what, err);
}

/* The health check: a write round trip, as Skyline's flux.listen heartbeat. */
int
flux_store_ping(struct flux_store *s, int64_t now, char err[])
{
	return store_command(s, REDIS_REPLY_STATUS, NULL, "health check", err,
	    "SET flux.listen %lld EX %d", (long long)now, LISTEN_TTL_S);
}

/* SET key val EX ttl. */
int
flux_store_setex(struct flux_store *s, const char *key, const char *val,
    int64_t ttl, char err[])
{
	return store_command(s, REDIS_REPLY_STATUS, NULL, "SET", err,
	    "SET %s %s EX %lld", key, val, (long long)ttl);
}

/*
 * GET key: a new string the caller frees; NULL with err "" when the key
 * does not exist, NULL with err set when Redis failed.
 */
char *
flux_store_get(struct flux_store *s, const char *key, char err[])
{
	redisReply	*r;
	char		*out = NULL;

	err[0] = '\0';
	if (store_command(s, REDIS_REPLY_STRING, &r, "GET", err, "GET %s",
	    key) == -1)
		return NULL;
	if (r->type == REDIS_REPLY_STRING && (out = strdup(r->str)) == NULL)
		flux_errf(err, "out of memory");
	freeReplyObject(r);
	return out;
}

int
flux_store_del(struct flux_store *s, const char *key, char err[])
{
	return store_command(s, REDIS_REPLY_INTEGER, NULL, "DEL", err,
	    "DEL %s", key);
}

/* SADD set member. */
int
flux_store_set_add(struct flux_store *s, const char *set, const char *member,
    char err[])
{
	return store_command(s, REDIS_REPLY_INTEGER, NULL, "SADD", err,
	    "SADD %s %s", set, member);
}

/*
 * The arguments of the Redis scripts are built without printf: for a
 * batch of 450 points a two-pass vsnprintf per argument was a quarter of
 * the instructions of a whole metric_data_post request.
 */

/* Write the decimal text of v (with its NUL) at out; returns its length. */
size_t
store_put_i64(char *out, long long v)
{
	char			 buf[I64_LEN], *p = buf + sizeof(buf);
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;
	size_t			 n;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (v < 0)
		*--p = '-';
	n = (size_t)(buf + sizeof(buf) - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

/* Room for more strings in a; 0, or -1 when out of memory. */
int
store_args_reserve(struct store_args *a, size_t more)
{
	size_t	 cap = a->cap ? a->cap : ARGS_FIRST_CAP;
	char	**v;
	size_t	*len;

	if (a->n + more <= a->cap)
		return 0;
	while (cap < a->n + more)
		cap *= 2;
	if ((v = realloc(a->v, cap * sizeof(*v))) != NULL)
		a->v = v;
	if (v == NULL || (len = realloc(a->len, cap * sizeof(*len))) == NULL) {
		a->failed = 1;
		return -1;
	}
	a->len = len;
	a->cap = cap;
	return 0;
}

/* Append owned (a malloc'd string, now a's); -1 when NULL or a is full. */
int
store_args_add(struct store_args *a, char *owned)
{
	if (owned == NULL || store_args_reserve(a, 1) == -1) {
		a->failed = 1;
		free(owned);
		return -1;
	}
	a->v[a->n] = owned;
	a->len[a->n++] = strlen(owned);
	return 0;
}

int
store_args_copy(struct store_args *a, const char *s)
{
	return store_args_add(a, strdup(s));
}

int
store_args_i64(struct store_args *a, long long v)
{
	char	buf[I64_LEN];

	store_put_i64(buf, v);
	return store_args_copy(a, buf);
}

/* Append prefix followed by s, e.g. a key. */
int
store_args_join(struct store_args *a, const char *prefix, const char *s)
{
	size_t	 lp = strlen(prefix), ls = strlen(s);
	char	*j;

	if ((j = malloc(lp + ls + 1)) != NULL) {
		memcpy(j, prefix, lp);
		memcpy(j + lp, s, ls + 1);
	}
	return store_args_add(a, j);
}

void
store_args_free(struct store_args *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->len);
	memset(a, 0, sizeof(*a));
}

void
store_script_free(struct store_script *sc)
{
	store_args_free(&sc->keys);
	store_args_free(&sc->args);
}

/* Append the strings of from to a, which has room for them, not copied. */
static void
borrow(struct store_args *a, const struct store_args *from)
{
	if (from->n == 0)
		return;
	memcpy(a->v + a->n, from->v, from->n * sizeof(*a->v));
	memcpy(a->len + a->n, from->len, from->n * sizeof(*a->len));
	a->n += from->n;
}

/* What EVAL's argument vector starts with, before the keys and arguments. */
enum eval_head {
	EVAL_COMMAND,		/* "EVALSHA", or "EVAL" */
	EVAL_SCRIPT,		/* the script's SHA1, or its text */
	EVAL_NKEYS,		/* how many keys follow */
	EVAL_HEAD
};

/* Make a's head call the script by its SHA1 (sha) or send its text. */
static void
eval_head(struct store_args *a, const char *sha, const char *text)
{
	a->v[EVAL_COMMAND] = (char *)(sha ? "EVALSHA" : "EVAL");
	a->v[EVAL_SCRIPT] = (char *)(sha ? sha : text);
	a->len[EVAL_COMMAND] = strlen(a->v[EVAL_COMMAND]);
	a->len[EVAL_SCRIPT] = strlen(a->v[EVAL_SCRIPT]);
}

/*
 * EVAL's argument vector for the script sc in a: its head (EVALSHA and
 * its SHA1 when it has one, else EVAL and its text), then the strings of
 * sc, borrowed (a's own are never freed); a failed when sc's keys or
 * arguments were built out of memory. nkeys is room for a number.
 */
static void
script_argv(const struct store_script *sc, const char *sha,
    struct store_args *a, char nkeys[I64_LEN])
{
	if (!sc->keys.failed && !sc->args.failed && store_args_reserve(a,
	    EVAL_HEAD + sc->keys.n + sc->args.n) == 0) {
		eval_head(a, sha, sc->text);
		a->v[EVAL_NKEYS] = nkeys;
		a->len[EVAL_NKEYS] = store_put_i64(nkeys, (long long)sc->keys.n);
		a->n = EVAL_HEAD;
		borrow(a, &sc->keys);
		borrow(a, &sc->args);
	} else
		a->failed = 1;
}

/*
 * Run the script sc, its reply checked() (what names it in err), unless
 * its keys or arguments were built out of memory. A script with a SHA1 is
 * called by it (EVALSHA), so that a request sends a few bytes rather than
 * the whole text and Redis does not hash the text again; Redis answers
 * NOSCRIPT when its script cache does not hold it (Redis restarted, a
 * fail-over to a replica that never ran it, or SCRIPT FLUSH), and the
 * text goes with EVAL, which caches it. Every script of the store that
 * waits for its reply runs through here.
 */
int
store_script_run(struct flux_store *s, const struct store_script *sc,
    int want, redisReply **reply, const char *what, char err[])
{
	struct store_args	a = { 0 };
	char			nkeys[I64_LEN];
	int			rc;

	script_argv(sc, sc->sha, &a, nkeys);
	s->noscript = 0;
	rc = store_command_args(s, &a, want, reply, what, err);
	if (rc == -1 && sc->sha != NULL && s->noscript) {
		eval_head(&a, NULL, sc->text);
		rc = store_command_args(s, &a, want, reply, what, err);
	}
	free(a.v);
	free(a.len);
	return rc;
}

/*
 * EVAL the script sc without waiting for its reply: the command is written
 * whole to the connection and its reply read (and dropped) before the
 * next command's (drain). For work the answer does not depend on, sent
 * after the answer. Always the text, never the SHA1: a NOSCRIPT would be
 * read when no one is left to send the text again. -1 with err when it
 * cannot be written.
 */
int
store_script_send(struct flux_store *s, const struct store_script *sc,
    char err[])
{
	struct store_args	a = { 0 };
	char			nkeys[I64_LEN];
	int			done = 0, rc = -1;

	if (ready(s, err) == -1)
		return -1;
	script_argv(sc, NULL, &a, nkeys);
	if (a.failed)
		flux_errf(err, "out of memory");
	else if (redisAppendCommandArgv(s->ctx, (int)a.n, (const char **)a.v,
	    a.len) != REDIS_OK)
		store_reply_error(s, NULL, "EVAL", err);
	else {
		while (!done && redisBufferWrite(s->ctx, &done) == REDIS_OK)
			;
		if (done) {
			s->owed++;
			rc = 0;
		} else
			store_reply_error(s, NULL, "EVAL", err);
	}
	free(a.v);
	free(a.len);
	return rc;
}

/*
 * The queue's scripts. A running job's entry is "<node> <token> <job>";
 * times are Redis's (TIME, in milliseconds), so the nodes' clocks do not
 * matter. Each returns how many leases it put back, among other things.
 */
#define QUEUE_NOW \
    "local t = redis.call('TIME')\n" \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/*
 * Put back, at the tail of the queue (KEYS[1]), the jobs of the running
 * set (KEYS[2]) whose lease has run out or whose node is ARGV[1] (a run
 * of this node that died: the caller holds the node's lock), and every
 * job of the legacy list (KEYS[3], where a Flux before leases kept its
 * running jobs). An entry that is not "<node> <token> <job>" goes back
 * whole, to be refused as unreadable.
 */
static const char recover_lua[] =
    QUEUE_NOW
    "local n, all = 0, redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')\n"
    "for i = 1, #all, 2 do\n"
    "  local node, job = string.match(all[i], '^(%x+) %x+ (.*)$')\n"
    "  if tonumber(all[i + 1]) <= now or node == ARGV[1] then\n"
    "    redis.call('ZREM', KEYS[2], all[i])\n"
    "    redis.call('RPUSH', KEYS[1], job or all[i])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "while true do\n"
    "  local v = redis.call('LPOP', KEYS[3])\n"
    "  if not v then break end\n"
    "  redis.call('RPUSH', KEYS[1], v)\n"
    "  n = n + 1\n"
    "end\n"
    "return n\n";

/*
 * Put back the jobs whose lease has run out, then lease the oldest job
 * (the tail of KEYS[1]) to node ARGV[1] as token ARGV[2] for ARGV[3] ms:
 * {leases put back, the job} or {leases put back} when the queue is empty.
 */
static const char take_lua[] =
    QUEUE_NOW
    "local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)\n"
    "for _, e in ipairs(lapsed) do\n"
    "  redis.call('ZREM', KEYS[2], e)\n"
    "  redis.call('RPUSH', KEYS[1], string.match(e, '^%x+ %x+ (.*)$') or e)\n"
    "end\n"
    "local job = redis.call('RPOP', KEYS[1])\n"
    "if not job then return {#lapsed} end\n"
    "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]),\n"
    "  ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. job)\n"
    "return {#lapsed, job}\n";

/* Renew the entry ARGV[1] of the running set for ARGV[2] ms; 0: gone. */
static const char renew_entry_lua[] =
    "if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end\n"
    QUEUE_NOW
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\n"
    "return 1\n";

/*
 * End the lease of entry ARGV[1] in the running set (KEYS[1]): 0 when it
 * is no longer there (the lease ran out and another node took the job).
 * Then ARGV[2] "queue": LPUSH ARGV[3] to the queue (KEYS[2]); "update":
 * the job carries on as entry ARGV[3], leased ARGV[4] ms from now.
 */
static const char end_entry_lua[] =
    "if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "if ARGV[2] == 'queue' then redis.call('LPUSH', KEYS[2], ARGV[3])\n"
    "elseif ARGV[2] == 'update' then\n"
    QUEUE_NOW
    "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])\n"
    "end\n"
    "return 1\n";

/*
 * LPUSH ARGV[1] to the queue (KEYS[1]) unless ARGV[3] jobs holding the text
 * ARGV[2] wait in the queue or run (KEYS[2]) already; -1 then, else how
 * many such jobs there were. The jobs are only read when there are ARGV[3]
 * or more in all.
 */
static const char push_bounded_lua[] =
    "local bound, n = tonumber(ARGV[3]), 0\n"
    "if redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= bound then\n"
    "  local lists = { redis.call('LRANGE', KEYS[1], 0, -1),\n"
    "    redis.call('ZRANGE', KEYS[2], 0, -1) }\n"
    "  for _, jobs in ipairs(lists) do\n"
    "    for _, v in ipairs(jobs) do\n"
    "      if string.find(v, ARGV[2], 1, true) then n = n + 1 end\n"
    "    end\n"
    "  end\n"
    "  if n >= bound then return -1 end\n"
    "end\n"
    "redis.call('LPUSH', KEYS[1], ARGV[1])\n"
    "return n\n";

/*
 * A lease on a key of its own (an upload): KEYS[1] becomes ARGV[2] ("<node>
 * <token>") for ARGV[3] ms unless another node's lease holds it (a lease
 * of node ARGV[1] is of a run that died); 1 taken, 0 held.
 */
static const char take_key_lua[] =
    "local held = redis.call('GET', KEYS[1])\n"
    "if held and string.sub(held, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then\n"
    "  return 0\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n"
    "return 1\n";

/* While KEYS[1] holds ARGV[1]: renew it for ARGV[2] ms, or end it (''). */
static const char keep_key_lua[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "if ARGV[2] == '' then redis.call('DEL', KEYS[1])\n"
    "else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "return 1\n";

/* An integer command; *n its result. */
static int
int_command(struct flux_store *s, long long *n, const char *what, char err[],
    const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = vcommand(s, REDIS_REPLY_INTEGER, &r, what, err, fmt, ap);
	va_end(ap);
	if (rc == 0) {
		if (n != NULL)
			*n = r->integer;
		freeReplyObject(r);
	}
	return rc;
}

/*
 * Queue a job (its text) durably unless bound jobs holding the text mark
 * (what makes the jobs of one owner) wait or run already: 0 queued, 1
 * refused, -1 with err when Redis failed. Behind sentinels the job must
 * also reach a replica (WAIT, up to half of REDIS_TIMEOUT_MS, so that its
 * answer comes before the connection's own timeout), as replication is
 * asynchronous and a fail-over would forget it: 2 when none has it yet.
 */
int
flux_store_queue_push_bounded(struct flux_store *s,
    const struct flux_store_queue *q, const char *job, const char *mark,
    int64_t bound, char err[])
{
	long long	n = 0, replicas = 0;
	int64_t		wait_ms = s->conf->redis_timeout_ms / 2;

	if (int_command(s, &n, "LPUSH", err, "EVAL %s 2 %s %s %s %s %lld",
	    push_bounded_lua, q->waiting, q->running, job, mark,
	    (long long)bound) == -1)
		return -1;
	if (n < 0)
		return 1;
	if (s->conf->redis_sentinels.n == 0)
		return 0;
	if (wait_ms < 1)
		wait_ms = 1;	/* WAIT 0 would wait for ever */
	if (int_command(s, &replicas, "WAIT", err, "WAIT 1 %lld",
	    (long long)wait_ms) == -1)
		return 2;
	if (replicas < 1)
		flux_errf(err, "no replica has it after %lld ms", (long long)wait_ms);
	return replicas < 1 ? 2 : 0;
}

/*
 * Put back what runs that ended without finishing left: the jobs whose
 * lease has run out and those of node (whose lock the caller holds, so
 * its earlier runs are over), and those of the legacy list; to be taken
 * first. *moved says how many.
 */
int
flux_store_queue_recover(struct flux_store *s,
    const struct flux_store_queue *q, const char *node, long long *moved,
    char err[])
{
	return int_command(s, moved, "recovery", err, "EVAL %s 3 %s %s %s %s",
	    recover_lua, q->waiting, q->running, q->legacy, node);
}

/* How many jobs wait in the queue. */
int
flux_store_queue_length(struct flux_store *s, const struct flux_store_queue *q,
    long long *n, char err[])
{
	return int_command(s, n, "LLEN", err, "LLEN %s", q->waiting);
}

/* A lease of ms for node: its token and its renewal clock. */
static int
lease_init(struct flux_store_lease *l, const char *key, const char *node,
    int64_t ms, char err[])
{
	char	token[2 * STORE_TOKEN_BYTES + 1];

	memset(l, 0, sizeof(*l));
	flux_random_hex(token, STORE_TOKEN_BYTES);
	l->ms = ms;
	l->renewed = flux_clock_ms(CLOCK_MONOTONIC);
	if ((l->key = strdup(key)) == NULL ||
	    (l->head = malloc(strlen(node) + sizeof(token) + 2)) == NULL) {
		flux_store_lease_free(l);
		flux_errf(err, "out of memory");
		return -1;
	}
	snprintf(l->head, strlen(node) + sizeof(token) + 2, "%s %s", node, token);
	return 0;
}

/* The entry of job under lease l: "<node> <token> <job>". */
static char *
lease_entry(const struct flux_store_lease *l, const char *job)
{
	size_t	 hl = strlen(l->head), jl = strlen(job);
	char	*e;

	if ((e = malloc(hl + jl + 2)) == NULL)
		return NULL;
	memcpy(e, l->head, hl);
	e[hl] = ' ';
	memcpy(e + hl + 1, job, jl + 1);
	return e;
}

/*
 * Lease the oldest job to node for ms milliseconds: its text in *job
 * (caller frees; NULL when the queue is empty) and its lease in *l (free
 * it with flux_store_lease_free). Jobs whose lease ran out are put back
 * first; *lapsed (may be NULL) says how many.
 */
int
flux_store_queue_take(struct flux_store *s, const struct flux_store_queue *q,
    const char *node, int64_t ms, char **job, struct flux_store_lease *l,
    long long *lapsed, char err[])
{
	redisReply	*r;
	int		 rc = -1;

	*job = NULL;
	if (lease_init(l, q->running, node, ms, err) == -1)
		return -1;
	if (store_command(s, REDIS_REPLY_ARRAY, &r, "take", err,
	    "EVAL %s 2 %s %s %s %s %lld", take_lua, q->waiting, q->running, node,
	    strchr(l->head, ' ') + 1, (long long)ms) == -1) {
		flux_store_lease_free(l);
		return -1;
	}
	if (r->elements < 1 || r->elements > 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    (r->elements == 2 && r->element[1]->type != REDIS_REPLY_STRING))
		store_reply_error(s, r, "take", err);
	else if (r->elements == 2 && ((*job = strdup(r->element[1]->str)) == NULL ||
	    (l->entry = lease_entry(l, *job)) == NULL))
		flux_errf(err, "out of memory");
	else {
		if (lapsed != NULL)
			*lapsed = r->element[0]->integer;
		rc = 0;
	}
	freeReplyObject(r);
	if (rc == -1 || *job == NULL) {
		free(*job);
		*job = NULL;
		flux_store_lease_free(l);
	}
	return rc;
}

/*
 * End the lease l of a job: FLUX_QUEUE_DONE (the job is done or dropped),
 * FLUX_QUEUE_AGAIN (next, the job's new text, is queued again at the head)
 * or FLUX_QUEUE_UPDATE (the job runs on as next, its lease renewed, and l
 * now stands for it). 0; 1 when the lease had been lost (it ran out and
 * another node took the job: nothing was changed); -1 with err.
 */
int
flux_store_queue_end(struct flux_store *s, const struct flux_store_queue *q,
    struct flux_store_lease *l, enum flux_queue_next how, const char *next,
    char err[])
{
	static const char *const how_names[] = {
		[FLUX_QUEUE_DONE] = "done", [FLUX_QUEUE_AGAIN] = "queue",
		[FLUX_QUEUE_UPDATE] = "update",
	};
	char		*entry = NULL;
	long long	 n = 0;
	int		 rc;

	if (how == FLUX_QUEUE_UPDATE && (entry = lease_entry(l, next)) == NULL) {
		flux_errf(err, "out of memory");
		return -1;
	}
	rc = int_command(s, &n, "job update", err, "EVAL %s 2 %s %s %s %s %s %lld",
	    end_entry_lua, q->running, q->waiting, l->entry, how_names[how],
	    how == FLUX_QUEUE_UPDATE ? entry : how == FLUX_QUEUE_AGAIN ? next : "",
	    (long long)l->ms);
	if (rc == 0 && n == 1 && how == FLUX_QUEUE_UPDATE) {
		free(l->entry);
		l->entry = entry;
		entry = NULL;
		l->renewed = flux_clock_ms(CLOCK_MONOTONIC);
	}
	free(entry);
	return rc == -1 ? -1 : n == 1 ? 0 : 1;
}

/*
 * Lease the key of its own (an upload's) to node for ms milliseconds:
 * 0 taken (l holds the lease), 1 held by another node's lease, -1 with
 * err. A lease of node itself is of one of its runs that died: taken over.
 */
int
flux_store_lease_take(struct flux_store *s, const char *key, const char *node,
    int64_t ms, struct flux_store_lease *l, char err[])
{
	long long	n = 0;

	if (lease_init(l, key, node, ms, err) == -1)
		return -1;
	if (int_command(s, &n, "lease", err, "EVAL %s 1 %s %s %s %lld",
	    take_key_lua, key, node, l->head, (long long)ms) == -1) {
		flux_store_lease_free(l);
		return -1;
	}
	if (n != 1)
		flux_store_lease_free(l);
	return n == 1 ? 0 : 1;
}

/*
 * Renew the lease l when a third of it has passed (cheap to call often):
 * 0 renewed or not yet due, 1 lost (it ran out and another node took the
 * job or the upload: stop working on it), -1 with err when Redis failed
 * (the caller carries on: the next call tries again).
 */
int
flux_store_lease_keep(struct flux_store *s, struct flux_store_lease *l,
    char err[])
{
	int64_t		now = flux_clock_ms(CLOCK_MONOTONIC);
	long long	n = 0;
	int		rc;

	if (now - l->renewed < l->ms / 3)
		return 0;
	/* A queue's job is an entry of the running set; else the key is ours. */
	rc = int_command(s, &n, "lease renewal", err, "EVAL %s 1 %s %s %lld",
	    l->entry != NULL ? renew_entry_lua : keep_key_lua, l->key,
	    l->entry != NULL ? l->entry : l->head, (long long)l->ms);
	if (rc == -1)
		return -1;
	l->renewed = now;
	return n == 1 ? 0 : 1;
}

/* End the lease l of a key: 0, 1 when it had been lost, -1 with err. */
int
flux_store_lease_release(struct flux_store *s, struct flux_store_lease *l,
    char err[])
{
	long long	n = 0;

	if (int_command(s, &n, "lease release", err, "EVAL %s 1 %s %s %s",
	    keep_key_lua, l->key, l->head, "") == -1)
		return -1;
	return n == 1 ? 0 : 1;
}

void
flux_store_lease_free(struct flux_store_lease *l)
{
	free(l->key);
	free(l->head);
	free(l->entry);
	memset(l, 0, sizeof(*l));
}

/* The queued jobs, oldest first, without taking them (for a dry run). */
int
flux_store_queue_list(struct flux_store *s, const struct flux_store_queue *q,
    struct flux_list *jobs, char err[])
{
	redisReply	*r;
	size_t		 i;
	int		 rc = 0;

	jobs->v = NULL;
	jobs->n = 0;
	if (store_command(s, REDIS_REPLY_ARRAY, &r, "LRANGE", err,
	    "LRANGE %s 0 -1", q->waiting) == -1)
		return -1;
	/* LRANGE lists from the head; the oldest job is at the tail. */
	for (i = r->elements; rc == 0 && i-- > 0; )
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    flux_list_add(jobs, r->element[i]->str) == -1)
			rc = -1;
	if (rc == -1)
		flux_errf(err, "cannot read the %s", q->name);
	freeReplyObject(r);
	if (rc == -1)
		flux_list_free(jobs);
	return rc;
}
