/*
 * store.c - the Redis store of store.h, on hiredis 0.14: the connection,
 * the one way every part of the store sends a command and checks its reply
 * (store_priv.h), the plain commands and the reliable queue. The claims are
 * in store_claim.c, the flux.last batch read and advance in store_last.c.
 */
#include <stdarg.h>
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

static redisContext *
connect_redis(const struct flux_conf *c, char err[])
{
	struct timeval	 tv = { c->redis_timeout_ms / 1000,
	    (c->redis_timeout_ms % 1000) * 1000 };
	redisContext	*ctx;
	const char	*where;

	if (c->redis_socket_path != NULL && *c->redis_socket_path != '\0') {
		where = c->redis_socket_path;
		ctx = redisConnectUnixWithTimeout(where, tv);
	} else {
		where = c->redis_host;
		ctx = redisConnectWithTimeout(where, (int)c->redis_port, tv);
	}
	if (ctx == NULL || ctx->err || redisSetTimeout(ctx, tv) != REDIS_OK) {
		flux_errf(err, "cannot connect to redis '%s': %s", where,
		    ctx ? ctx->errstr : "out of memory");
		if (ctx)
			redisFree(ctx);
		return NULL;
	}
	return ctx;
}

/* Connect (and authenticate); NULL with err set when Redis is unreachable. */
struct flux_store *
flux_store_open(const struct flux_conf *c, char err[])
{
	struct flux_store	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		flux_errf(err, "out of memory");
		return NULL;
	}
	if ((s->ctx = connect_redis(c, err)) == NULL ||
	    (c->redis_password != NULL && *c->redis_password != '\0' &&
	    store_command(s, REDIS_REPLY_STATUS, NULL, "AUTH", err, "AUTH %s",
	    c->redis_password) == -1)) {
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

/* False once the connection has failed: hiredis contexts are not reusable then. */
int
flux_store_usable(const struct flux_store *s)
{
	return s != NULL && s->ctx != NULL && s->ctx->err == 0;
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

static int
vcommand(struct flux_store *s, int want, redisReply **reply, const char *what,
    char err[], const char *fmt, va_list ap)
{
	drain(s);
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
	drain(s);
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
	EVAL_COMMAND,		/* "EVAL" */
	EVAL_TEXT,		/* the script */
	EVAL_NKEYS,		/* how many keys follow */
	EVAL_HEAD
};

/*
 * EVAL's argument vector for the script sc in a: its head, then the
 * strings of sc, borrowed (a's own are never freed); a failed when sc's
 * keys or arguments were built out of memory. nkeys is room for a number.
 */
static void
script_argv(const struct store_script *sc, struct store_args *a,
    char nkeys[I64_LEN])
{
	if (!sc->keys.failed && !sc->args.failed && store_args_reserve(a,
	    EVAL_HEAD + sc->keys.n + sc->args.n) == 0) {
		a->v[EVAL_COMMAND] = (char *)"EVAL";
		a->v[EVAL_TEXT] = (char *)sc->text;
		a->v[EVAL_NKEYS] = nkeys;
		a->len[EVAL_COMMAND] = strlen(a->v[EVAL_COMMAND]);
		a->len[EVAL_TEXT] = strlen(sc->text);
		a->len[EVAL_NKEYS] = store_put_i64(nkeys, (long long)sc->keys.n);
		a->n = EVAL_HEAD;
		borrow(a, &sc->keys);
		borrow(a, &sc->args);
	} else
		a->failed = 1;
}

/*
 * EVAL the script sc, its reply checked() (what names it in err), unless
 * its keys or arguments were built out of memory. Every script of the
 * store runs through here.
 */
int
store_script_run(struct flux_store *s, const struct store_script *sc,
    int want, redisReply **reply, const char *what, char err[])
{
	struct store_args	a = { 0 };
	char			nkeys[I64_LEN];
	int			rc;

	script_argv(sc, &a, nkeys);
	rc = store_command_args(s, &a, want, reply, what, err);
	free(a.v);
	free(a.len);
	return rc;
}

/*
 * EVAL the script sc without waiting for its reply: the command is written
 * whole to the connection and its reply read (and dropped) before the
 * next command's (drain). For work the answer does not depend on, sent
 * after the answer. -1 with err when it cannot be written.
 */
int
store_script_send(struct flux_store *s, const struct store_script *sc,
    char err[])
{
	struct store_args	a = { 0 };
	char			nkeys[I64_LEN];
	int			done = 0, rc = -1;

	script_argv(sc, &a, nkeys);
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

/* Move every job left in processing (KEYS[1]) to the tail of the queue. */
static const char recover_lua[] =
    "local n = 0\n"
    "while true do\n"
    "  local v = redis.call('LPOP', KEYS[1])\n"
    "  if not v then break end\n"
    "  redis.call('RPUSH', KEYS[2], v)\n"
    "  n = n + 1\n"
    "end\n"
    "return n\n";

/*
 * LPUSH ARGV[1] to the queue (KEYS[1]) unless ARGV[3] jobs holding the text
 * ARGV[2] wait in the queue and in processing (KEYS[2]) already; -1 then,
 * else how many such jobs there were. The lists are only read when they
 * hold ARGV[3] jobs or more in all.
 */
static const char push_bounded_lua[] =
    "local bound, n = tonumber(ARGV[3]), 0\n"
    "if redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) >= bound then\n"
    "  for _, list in ipairs(KEYS) do\n"
    "    for _, v in ipairs(redis.call('LRANGE', list, 0, -1)) do\n"
    "      if string.find(v, ARGV[2], 1, true) then n = n + 1 end\n"
    "    end\n"
    "  end\n"
    "  if n >= bound then return -1 end\n"
    "end\n"
    "redis.call('LPUSH', KEYS[1], ARGV[1])\n"
    "return n\n";

/* Remove ARGV[1] from processing; if it was there, LPUSH ARGV[2] to KEYS[2]. */
static const char replace_lua[] =
    "local n = redis.call('LREM', KEYS[1], 1, ARGV[1])\n"
    "if n == 1 and ARGV[2] ~= '' then redis.call('LPUSH', KEYS[2], ARGV[2]) end\n"
    "return n\n";

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
 * refused, -1 with err when Redis failed.
 */
int
flux_store_queue_push_bounded(struct flux_store *s,
    const struct flux_store_queue *q, const char *job, const char *mark,
    int64_t bound, char err[])
{
	long long	n = 0;

	if (int_command(s, &n, "LPUSH", err, "EVAL %s 2 %s %s %s %s %lld",
	    push_bounded_lua, q->waiting, q->processing, job, mark,
	    (long long)bound) == -1)
		return -1;
	return n < 0 ? 1 : 0;
}

/* Put back what a crashed run left in processing, to be taken first. */
int
flux_store_queue_recover(struct flux_store *s,
    const struct flux_store_queue *q, long long *moved, char err[])
{
	return int_command(s, moved, "recovery", err, "EVAL %s 2 %s %s",
	    recover_lua, q->processing, q->waiting);
}

/* How many jobs wait in the queue. */
int
flux_store_queue_length(struct flux_store *s, const struct flux_store_queue *q,
    long long *n, char err[])
{
	return int_command(s, n, "LLEN", err, "LLEN %s", q->waiting);
}

/*
 * Move the oldest job into processing and return its text in *job (caller
 * frees), or NULL when the queue is empty.
 */
int
flux_store_queue_take(struct flux_store *s, const struct flux_store_queue *q,
    char **job, char err[])
{
	redisReply	*r;
	int		 rc = 0;

	*job = NULL;
	if (store_command(s, REDIS_REPLY_STRING, &r, "RPOPLPUSH", err,
	    "RPOPLPUSH %s %s", q->waiting, q->processing) == -1)
		return -1;
	if (r->type == REDIS_REPLY_STRING && (*job = strdup(r->str)) == NULL) {
		flux_errf(err, "out of memory");
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

/*
 * Remove job from processing and, when next is not NULL, LPUSH next to
 * list (the queue, or processing itself to update a running job), in one
 * step; list is ignored (may be NULL) without next. Returns -1 with err
 * when Redis failed or job was not in processing.
 */
int
flux_store_queue_replace(struct flux_store *s,
    const struct flux_store_queue *q, const char *job, const char *next,
    const char *list, char err[])
{
	long long	n = 0;

	if (next == NULL || list == NULL) {
		next = "";
		list = q->waiting;
	}
	if (int_command(s, &n, "job update", err, "EVAL %s 2 %s %s %s %s",
	    replace_lua, q->processing, list, job, next) == -1)
		return -1;
	if (n != 1)
		return flux_errf(err, "job is no longer in '%s'",
		    q->processing);
	return 0;
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
