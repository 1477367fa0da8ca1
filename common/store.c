/*
 * store.c - the Redis store of store.h, on hiredis 0.14.
 *
 * flux.last.<metric> holds "[<ts>, <value>]", a JSON array and a Python
 * literal both, so Skyline's literal_eval readers keep working; a bare
 * integer timestamp is read too. The check-and-set script returns, per
 * point, whether it was taken and what the key held before, which is what
 * a rollback needs to put each key back unless a newer request moved it on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define LAST_PREFIX "flux.last."
#define CLAIM_PREFIX "flux.claim."

/*
 * Claims. A point taken by the script advances flux.last before it is
 * delivered; until its request has delivered or spooled it (and says so
 * with flux_store_confirm) or rolled it back, the new record is a claim,
 * not a fact. Each request has a token; KEYS[1] is its claim key
 * "flux.claim.<token>", set to "p" (pending) with a lease (PX) when it
 * takes a point, set to "d" (done) for twice the lease when the request
 * confirms, deleted when it rolls back. "flux.claims.<metric>" lists the
 * claims made on a metric as "<token>:<previous ts>:<claimed ts>" entries
 * (previous "-" when the key was absent); entries that are not pending
 * are pruned at the next claim.
 *
 * A point not newer than flux.last, but newer than the previous timestamp
 * of another request's pending claim, is "pending" itself: it is a
 * duplicate only if that claim is delivered. A request with a pending point
 * takes nothing and writes nothing (so a waiting request holds no claim
 * another could wait on), and the caller runs the script again, passing
 * in ARGV[4] the tokens it has seen pending. A claim seen pending whose key
 * is then gone was rolled back, or its request was killed and the lease
 * ran out: either way not delivered (a confirmed claim reads "d" for twice
 * the lease). Such an "abandoned" claim no longer counts, and when it wrote
 * the record flux.last holds, the record before it counts instead, so the
 * waiting point is taken. A vanished claim the caller never saw pending
 * counts as delivered.
 *
 * ARGV[1] is "1" to apply or "0" for a test request (read only), ARGV[2]
 * the lease in milliseconds, ARGV[3] the token, ARGV[4] the tokens seen
 * pending; then ARGV[2i+3], ARGV[2i+4] are point i's timestamp and new
 * record, for KEYS[i+1]. The reply holds two entries per point: 0
 * (duplicate), 1 (taken, key was absent), 2 (taken, old record follows) or
 * 3 (pending), and the old record or ""; then the pending tokens seen. A
 * key of another type counts as absent (MGET reads it as nil, MSET
 * replaces it). The keys are read with MGET and written with MSET, in
 * chunks (unpack has a limit), not with a GET and a SET each: for 450
 * points that is 445 instead of 740 microseconds of Redis time. A key
 * given twice is judged against the record set earlier in the same call,
 * and the later MSET pair wins, as sequential SETs would.
 */
static const char dedup_lua[] =
    "local apply, lease, token = ARGV[1] == '1', ARGV[2], ARGV[3]\n"
    "local saw = {}\n"
    "for t in string.gmatch(ARGV[4], '%x+') do saw[t] = true end\n"
    "local n = #KEYS - 1\n"
    "local ck, got, cgot, seen, cseen, out, set = {}, {}, {}, {}, {}, {}, {}\n"
    "for i = 1, n do ck[i] = 'flux.claims.' .. string.sub(KEYS[i + 1], 11) end\n"
    "for c = 1, n, 1000 do\n"
    "  local e = math.min(c + 999, n)\n"
    "  local r = redis.call('MGET', unpack(KEYS, c + 1, e + 1))\n"
    "  for j = 1, #r do got[c + j - 1] = r[j] end\n"
    "  r = redis.call('MGET', unpack(ck, c, e))\n"
    "  for j = 1, #r do cgot[c + j - 1] = r[j] end\n"
    "end\n"
    "local state, live = {}, {}\n"
    "local function st(t)\n"
    "  local s = state[t]\n"
    "  if s == nil then\n"
    "    s = 'd'\n"
    "    if t ~= token then\n"
    "      local v = redis.pcall('GET', 'flux.claim.' .. t)\n"
    "      if v == 'p' then s = 'p'; live[#live + 1] = t\n"
    "      elseif v == false and saw[t] then s = 'a' end\n"
    "    end\n"
    "    state[t] = s\n"
    "  end\n"
    "  return s\n"
    "end\n"
    "local pending, taken = false, false\n"
    "local function take(i, k, cur, cl, prev)\n"
    "  local mine = token .. ':' .. (prev or '-') .. ':' .. ARGV[2 * i + 3]\n"
    "  local t1 = string.match(cl, '^(%x+):[-%d]+:?%d*$')\n"
    "  if cl == '' or (t1 and t1 ~= token and st(t1) ~= 'p') then\n"
    "    cl = mine\n"
    "  else\n"
    "    local keep = {}\n"
    "    for e, t in string.gmatch(cl, '((%x+):[-%d]+:?%d*)') do\n"
    "      if t == token or st(t) == 'p' then keep[#keep + 1] = e end\n"
    "    end\n"
    "    keep[#keep + 1] = mine\n"
    "    cl = table.concat(keep, ' ')\n"
    "  end\n"
    "  set[#set + 1] = k\n"
    "  set[#set + 1] = ARGV[2 * i + 4]\n"
    "  set[#set + 1] = ck[i]\n"
    "  set[#set + 1] = cl\n"
    "  seen[k] = ARGV[2 * i + 4]\n"
    "  cseen[k] = cl\n"
    "  taken = true\n"
    "  out[2 * i - 1] = cur and 2 or 1\n"
    "  out[2 * i] = cur or ''\n"
    "end\n"
    "for i = 1, n do\n"
    "  local k, ts = KEYS[i + 1], tonumber(ARGV[2 * i + 3])\n"
    "  local cur, cl = seen[k], cseen[k]\n"
    "  if cur == nil then cur = got[i] end\n"
    "  if cl == nil then cl = cgot[i] or '' end\n"
    "  local last = nil\n"
    "  if cur then last = tonumber(string.match(cur, '^%s*%[?%s*(%d+)')) end\n"
    "  if last == nil or ts > last then\n"
    "    take(i, k, cur, cl, last)\n"
    "  else\n"
    "    local es, eff = {}, last\n"
    "    for t, pv, tv in string.gmatch(cl, '(%x+):([-%d]+):?(%d*)') do\n"
    "      es[#es + 1] = { t, tonumber(pv) or -1, tonumber(tv) }\n"
    "    end\n"
    "    for j = #es, 1, -1 do\n"
    "      if es[j][3] == eff and st(es[j][1]) == 'a' then eff = es[j][2] end\n"
    "    end\n"
    "    local w = eff\n"
    "    for j = 1, #es do\n"
    "      if es[j][2] < w and st(es[j][1]) == 'p' then w = es[j][2] end\n"
    "    end\n"
    "    if ts > eff then\n"
    "      take(i, k, cur, cl, eff >= 0 and eff or nil)\n"
    "    else\n"
    "      out[2 * i - 1] = ts > w and 3 or 0\n"
    "      pending = pending or ts > w\n"
    "      out[2 * i] = ''\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if apply and taken and not pending then\n"
    "  redis.call('SET', KEYS[1], 'p', 'PX', lease)\n"
    "  for c = 1, #set, 1000 do\n"
    "    redis.call('MSET', unpack(set, c, math.min(c + 999, #set)))\n"
    "  end\n"
    "end\n"
    "out[2 * n + 1] = table.concat(live, ' ')\n"
    "return out\n";

/*
 * KEYS[1] the claim key, then the flux.last keys in reverse order of
 * setting; ARGV triples: new record, status, old. The claim ends too.
 */
static const char rollback_lua[] =
    "for i = 2, #KEYS do\n"
    "  local k = KEYS[i]\n"
    "  local cur = redis.pcall('GET', k)\n"
    "  if cur == ARGV[3 * i - 5] then\n"
    "    if ARGV[3 * i - 4] == '2' then redis.call('SET', k, ARGV[3 * i - 3])\n"
    "    else redis.call('DEL', k) end\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return 0\n";

/* What one applied check-and-set changed, for a rollback. */
struct undo {
	char	*key;
	char	*newrec;
	char	*oldrec;
	int	 status;
};

struct flux_store {
	redisContext	*ctx;
	struct undo	*undo;
	size_t		 nundo;
	char		 claim[40];	/* "flux.claim.<token>" of this request */
	int		 claimed;	/* the claim key is set, not yet ended */
	int64_t		 lease;		/* of the claim, in milliseconds */
};

static void
undo_clear(struct flux_store *s)
{
	size_t	i;

	for (i = 0; i < s->nundo; i++) {
		free(s->undo[i].key);
		free(s->undo[i].newrec);
		free(s->undo[i].oldrec);
	}
	free(s->undo);
	s->undo = NULL;
	s->nundo = 0;
}

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
		snprintf(err, FLUX_ERRLEN, "cannot connect to redis '%s': %s", where,
		    ctx ? ctx->errstr : "out of memory");
		if (ctx)
			redisFree(ctx);
		return NULL;
	}
	return ctx;
}

static int
authenticate(redisContext *ctx, const char *password, char err[])
{
	redisReply	*r;
	int		 ok;

	r = redisCommand(ctx, "AUTH %s", password);
	ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	if (!ok)
		snprintf(err, FLUX_ERRLEN, "redis refused AUTH: %s",
		    r ? (r->str ? r->str : "unexpected reply") : ctx->errstr);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Connect (and authenticate); NULL with err set when Redis is unreachable. */
struct flux_store *
flux_store_open(const struct flux_conf *c, char err[])
{
	struct flux_store	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, FLUX_ERRLEN, "out of memory");
		return NULL;
	}
	if ((s->ctx = connect_redis(c, err)) == NULL ||
	    (c->redis_password != NULL && *c->redis_password != '\0' &&
	    authenticate(s->ctx, c->redis_password, err) == -1)) {
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
	undo_clear(s);
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

/* The hiredis context, for modules with Redis work of their own. */
void *
flux_store_context(struct flux_store *s)
{
	return s->ctx;
}

/* The health check: a write round trip, as Skyline's flux.listen heartbeat. */
int
flux_store_ping(struct flux_store *s, int64_t now, char err[])
{
	redisReply	*r;
	int		 ok;

	r = redisCommand(s->ctx, "SET flux.listen %lld EX 120", (long long)now);
	ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	if (!ok)
		snprintf(err, FLUX_ERRLEN, "redis health check failed: %s",
		    r ? (r->str ? r->str : "unexpected reply") : s->ctx->errstr);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Argument vectors for one EVAL; strings owned here, freed by args_free. */
struct args {
	char	**v;
	size_t	 *len;
	size_t	  n;
};

static int
args_add(struct args *a, char *s)
{
	if (s == NULL)
		return -1;
	a->v[a->n] = s;
	a->len[a->n++] = strlen(s);
	return 0;
}

static int
args_init(struct args *a, size_t max)
{
	a->n = 0;
	a->v = calloc(max, sizeof(*a->v));
	a->len = calloc(max, sizeof(*a->len));
	return (a->v && a->len) ? 0 : -1;
}

static void
args_free(struct args *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->len);
}

/*
 * The arguments of the Redis scripts are built without printf: for a
 * batch of 450 points a two-pass vsnprintf per argument was a quarter of
 * the instructions of a whole metric_data_post request.
 */

/* Write the decimal text of v (with its NUL) at out; returns its length. */
static size_t
put_i64(char *out, long long v)
{
	char			 buf[24], *p = buf + sizeof(buf);
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

/* A new string: a followed by b (NULL when out of memory). */
static char *
strjoin(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);
	char	*s;

	if ((s = malloc(la + lb + 1)) != NULL) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

static char *
i64_string(long long v)
{
	char	buf[24];

	put_i64(buf, v);
	return strdup(buf);
}

/* The record flux.last.<metric> gets: "[ts, value]". */
static char *
last_record(const struct flux_point *pt)
{
	char	rec[1 + 24 + 2 + FLUX_DBLLEN + 2];
	size_t	n = 0;

	rec[n++] = '[';
	n += put_i64(rec + n, (long long)pt->ts);
	rec[n++] = ',';
	rec[n++] = ' ';
	flux_fmt_double(pt->value, rec + n);
	n += strlen(rec + n);
	rec[n++] = ']';
	rec[n] = '\0';
	return strdup(rec);
}

/* A reply error as text, for the caller's err. */
static void
reply_error(struct flux_store *s, const redisReply *r, const char *what,
    char err[])
{
	snprintf(err, FLUX_ERRLEN, "redis %s failed: %s", what, r ?
	    (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply") :
	    s->ctx->errstr);
}

/* A new claim key for this request: 64 random bits, in hex. */
static void
new_claim(struct flux_store *s)
{
	static const char	hex[] = "0123456789abcdef";
	static unsigned long	counter;
	unsigned char		r[8];
	size_t			i, n = strlen(CLAIM_PREFIX);
	uint64_t		fallback;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* Early boot without entropy: unique enough per host and time. */
		fallback = (uint64_t)flux_clock_ms(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 40) ^
		    (uint64_t)++counter << 20;
		memcpy(r, &fallback, sizeof(r));
	}
	memcpy(s->claim, CLAIM_PREFIX, n);
	for (i = 0; i < sizeof(r); i++) {
		s->claim[n++] = hex[r[i] >> 4];
		s->claim[n++] = hex[r[i] & 15];
	}
	s->claim[n] = '\0';
}

/* How long a claim stands when its request neither confirms nor rolls back. */
static int64_t
lease_ms(const struct flux_conf *c)
{
	int64_t	ms = 10 * (int64_t)c->carbon_timeout_ms;

	return ms > 30000 ? ms : 30000;
}

/*
 * Where the dedup script's arguments are in its argument vector, for n
 * keys: EVAL, script, numkeys, the claim key, the n flux.last keys, then
 * apply, lease, token, the tokens seen pending, and a timestamp and a
 * record per point.
 */
#define DEDUP_KEY(i)		(4 + (i))
#define DEDUP_SAW(n)		(DEDUP_KEY(n) + 3)
#define DEDUP_RECORD(n, i)	(DEDUP_SAW(n) + 2 + 2 * (i))

static int
build_dedup(struct args *a, const struct flux_store *s,
    const struct flux_points *p, const size_t *idx, size_t n, int apply)
{
	size_t	i;

	if (args_init(a, DEDUP_RECORD(n, n)) == -1 ||
	    args_add(a, strdup("EVAL")) == -1 ||
	    args_add(a, strdup(dedup_lua)) == -1 ||
	    args_add(a, i64_string((long long)n + 1)) == -1 ||
	    args_add(a, strdup(s->claim)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (args_add(a, strjoin(LAST_PREFIX, p->v[idx[i]].name)) == -1)
			return -1;
	if (args_add(a, strdup(apply ? "1" : "0")) == -1 ||
	    args_add(a, i64_string((long long)s->lease)) == -1 ||
	    args_add(a, strdup(s->claim + strlen(CLAIM_PREFIX))) == -1 ||
	    args_add(a, strdup("")) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (args_add(a, i64_string((long long)p->v[idx[i]].ts)) == -1 ||
		    args_add(a, last_record(&p->v[idx[i]])) == -1)
			return -1;
	return 0;
}

/*
 * Record what the script reported; keep undo data when it applied. Returns
 * the number of pending points (none is decided then, when applying), or
 * -1 on a malformed reply.
 */
static int
take_reply(struct flux_store *s, struct flux_points *p, const size_t *idx,
    size_t n, const struct args *a, const redisReply *r, int apply)
{
	size_t	i;
	int	npend = 0;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * n + 1 ||
	    r->element[2 * n]->type != REDIS_REPLY_STRING)
		return -1;
	for (i = 0; i < n; i++) {
		const redisReply *st = r->element[2 * i], *old = r->element[2 * i + 1];

		if (st->type != REDIS_REPLY_INTEGER || st->integer < 0 ||
		    st->integer > 3 || old->type != REDIS_REPLY_STRING)
			return -1;
		npend += st->integer == 3;
	}
	if (apply && npend > 0)
		return npend;
	if (apply && (s->undo = calloc(n ? n : 1, sizeof(*s->undo))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const redisReply *st = r->element[2 * i], *old = r->element[2 * i + 1];

		/* A test request counts a pending point as one it would take. */
		p->v[idx[i]].state = st->integer ? FLUX_PT_ACCEPT : FLUX_PT_DUP;
		if (!apply || st->integer == 0)
			continue;
		s->undo[s->nundo].status = (int)st->integer;
		s->undo[s->nundo].key = strdup(a->v[DEDUP_KEY(i)]);
		s->undo[s->nundo].newrec = strdup(a->v[DEDUP_RECORD(n, i)]);
		s->undo[s->nundo].oldrec = strdup(old->str);
		if (s->undo[s->nundo++].oldrec == NULL)
			return -1;
	}
	s->claimed = apply && s->nundo > 0;
	return npend;
}

/*
 * Add to argument at of a (a space-separated list of tokens) the tokens of
 * more it does not hold yet: the claims a waiting request has seen pending.
 */
static int
note_tokens(struct args *a, size_t at, const char *more)
{
	char	 tok[64], *v;
	size_t	 len;

	for (;;) {
		more += strspn(more, " ");
		if ((len = strcspn(more, " ")) == 0)
			return 0;
		if (len < sizeof(tok)) {
			memcpy(tok, more, len);
			tok[len] = '\0';
			if (strstr(a->v[at], tok) == NULL) {
				if ((v = realloc(a->v[at], a->len[at] + len + 2)) == NULL)
					return -1;
				if (a->len[at] > 0)
					v[a->len[at]++] = ' ';
				memcpy(v + a->len[at], tok, len + 1);
				a->len[at] += len;
				a->v[at] = v;
			}
		}
		more += len;
	}
}

/* Sleep ms milliseconds (a wait for another request's claim). */
static void
nap(int64_t ms)
{
	struct timespec	t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) == -1)
		;
}

/*
 * Decide every point of p: fill points (and all points when
 * FLUX_CHECK_LAST_TIMESTAMP is false) are taken as they are; the others are
 * checked against flux.last and, when apply is set, flux.last advances for
 * those taken, all in one round trip. When a point is pending on another
 * request's claim the script is run again, after 1, 2, 4 ... up to 50 ms,
 * until nothing is pending; past the lease (and a margin) that gives up
 * with -2, no point decided. On error (-1) no point is decided either.
 */
int
flux_store_dedup(struct flux_store *s, const struct flux_conf *c,
    struct flux_points *p, int apply, char err[])
{
	struct args	 a = { 0 };
	redisReply	*r = NULL;
	size_t		*idx, n = 0, i;
	int64_t		 deadline = 0, pause = 1;
	int		 rc = -1, npend = 0;

	undo_clear(s);
	s->claimed = 0;
	s->lease = lease_ms(c);
	new_claim(s);
	if ((idx = calloc(p->n ? p->n : 1, sizeof(*idx))) == NULL)
		goto oom;
	for (i = 0; i < p->n; i++) {
		if (!c->check_last_timestamp || p->v[i].fill)
			continue;
		idx[n++] = i;
	}
	if (n > 0 && build_dedup(&a, s, p, idx, n, apply) == -1)
		goto oom;
	while (n > 0) {
		r = redisCommandArgv(s->ctx, (int)a.n, (const char **)a.v, a.len);
		if (r == NULL ||
		    (npend = take_reply(s, p, idx, n, &a, r, apply)) == -1) {
			reply_error(s, r, "de-duplication", err);
			goto undecided;
		}
		if (!apply || npend == 0)
			break;
		if (note_tokens(&a, DEDUP_SAW(n), r->element[2 * n]->str) == -1)
			goto oom;
		freeReplyObject(r);
		r = NULL;
		if (deadline == 0)
			deadline = flux_clock_ms(CLOCK_MONOTONIC) + s->lease + 5000;
		else if (flux_clock_ms(CLOCK_MONOTONIC) > deadline) {
			snprintf(err, FLUX_ERRLEN, "%d points still claimed by "
			    "another request after %lld ms", npend,
			    (long long)(s->lease + 5000));
			rc = -2;
			goto undecided;
		}
		nap(pause);
		pause = pause * 2 > 50 ? 50 : pause * 2;
	}
	for (i = 0; i < p->n; i++)
		if (p->v[i].state == FLUX_PT_NEW)
			p->v[i].state = FLUX_PT_ACCEPT;
	rc = 0;
	goto done;
undecided:
	undo_clear(s);
	s->claimed = 0;
	for (i = 0; i < n; i++)
		p->v[idx[i]].state = FLUX_PT_NEW;
	goto done;
oom:
	snprintf(err, FLUX_ERRLEN, "out of memory");
done:
	if (r)
		freeReplyObject(r);
	args_free(&a);
	free(idx);
	return rc;
}

/*
 * End this request's claim: its points are delivered or spooled. The claim
 * key reads "d" for twice the lease, so that a request waiting on it tells
 * it from one whose lease ran out. Without it the claim stands until its
 * lease runs out, and then counts as abandoned (not delivered).
 */
int
flux_store_confirm(struct flux_store *s, char err[])
{
	redisReply	*r;
	int		 ok;

	if (!s->claimed)
		return 0;
	s->claimed = 0;
	undo_clear(s);
	r = redisCommand(s->ctx, "SET %s d PX %lld", s->claim,
	    (long long)(2 * s->lease));
	ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	if (!ok)
		reply_error(s, r, "claim confirm", err);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/*
 * Put back what the last applied flux_store_dedup() changed, newest change
 * first, each key only if it still holds the record this request wrote.
 */
int
flux_store_rollback(struct flux_store *s, char err[])
{
	struct args	 a = { 0 };
	redisReply	*r = NULL;
	size_t		 i, j;
	int		 rc = -1;

	if (s->nundo == 0)
		return 0;
	if (args_init(&a, 4 + 4 * s->nundo) == -1 || args_add(&a, strdup("EVAL")) == -1 ||
	    args_add(&a, strdup(rollback_lua)) == -1 ||
	    args_add(&a, i64_string((long long)s->nundo + 1)) == -1 ||
	    args_add(&a, strdup(s->claim)) == -1)
		goto oom;
	for (i = s->nundo; i-- > 0;)
		if (args_add(&a, strdup(s->undo[i].key)) == -1)
			goto oom;
	for (i = s->nundo; i-- > 0;) {
		j = (size_t)s->undo[i].status;
		if (args_add(&a, strdup(s->undo[i].newrec)) == -1 ||
		    args_add(&a, i64_string((long long)j)) == -1 ||
		    args_add(&a, strdup(s->undo[i].oldrec)) == -1)
			goto oom;
	}
	r = redisCommandArgv(s->ctx, (int)a.n, (const char **)a.v, a.len);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		reply_error(s, r, "rollback", err);
		goto done;
	}
	undo_clear(s);
	s->claimed = 0;
	rc = 0;
	goto done;
oom:
	snprintf(err, FLUX_ERRLEN, "out of memory");
done:
	if (r)
		freeReplyObject(r);
	args_free(&a);
	return rc;
}

/* SET key val EX ttl. */
int
flux_store_setex(struct flux_store *s, const char *key, const char *val,
    int64_t ttl, char err[])
{
	redisReply	*r;
	int		 ok;

	r = redisCommand(s->ctx, "SET %s %s EX %lld", key, val, (long long)ttl);
	if (!(ok = r != NULL && r->type == REDIS_REPLY_STATUS))
		reply_error(s, r, "SET", err);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
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
	r = redisCommand(s->ctx, "GET %s", key);
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		if ((out = strdup(r->str)) == NULL)
			snprintf(err, FLUX_ERRLEN, "out of memory");
	} else if (r == NULL || r->type != REDIS_REPLY_NIL)
		reply_error(s, r, "GET", err);
	if (r)
		freeReplyObject(r);
	return out;
}

int
flux_store_del(struct flux_store *s, const char *key, char err[])
{
	redisReply	*r;
	int		 ok;

	r = redisCommand(s->ctx, "DEL %s", key);
	if (!(ok = r != NULL && r->type == REDIS_REPLY_INTEGER))
		reply_error(s, r, "DEL", err);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* The timestamp of a flux.last record: "[ts, value]" or a bare ts; -1 if none. */
static int64_t
record_ts(const char *rec)
{
	int64_t	v = 0;
	int	digits = 0;

	while (*rec == ' ' || *rec == '[')
		rec++;
	for (; *rec >= '0' && *rec <= '9' && digits < 18; rec++, digits++)
		v = v * 10 + (*rec - '0');
	return digits ? v : -1;
}

/*
 * The flux.last timestamps of n metrics in one MGET: ts[i] is -1 where
 * there is none (or the record is not ours to read).
 */
int
flux_store_last_get(struct flux_store *s, const char *const *metrics, size_t n,
    int64_t *ts, char err[])
{
	struct args	 a = { 0 };
	redisReply	*r = NULL;
	size_t		 i;
	int		 rc = -1;

	if (n == 0)
		return 0;
	if (args_init(&a, n + 1) == -1 || args_add(&a, strdup("MGET")) == -1)
		goto oom;
	for (i = 0; i < n; i++)
		if (args_add(&a, strjoin(LAST_PREFIX, metrics[i])) == -1)
			goto oom;
	r = redisCommandArgv(s->ctx, (int)a.n, (const char **)a.v, a.len);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		reply_error(s, r, "MGET", err);
		goto done;
	}
	for (i = 0; i < n; i++)
		ts[i] = r->element[i]->type == REDIS_REPLY_STRING ?
		    record_ts(r->element[i]->str) : -1;
	rc = 0;
	goto done;
oom:
	snprintf(err, FLUX_ERRLEN, "out of memory");
done:
	if (r)
		freeReplyObject(r);
	args_free(&a);
	return rc;
}

/*
 * Set flux.last.<metric> to "[ts, value]" unless it already holds a
 * timestamp at or past ts: batch loads may deliver a metric's history out
 * of order, and flux.last only ever moves forward. One round trip.
 */
static const char advance_lua[] =
    "for i, k in ipairs(KEYS) do\n"
    "  local ts = tonumber(ARGV[2 * i - 1])\n"
    "  local cur = redis.pcall('GET', k)\n"
    "  local last = nil\n"
    "  if type(cur) == 'string' then\n"
    "    last = tonumber(string.match(cur, '^%s*%[?%s*(%d+)'))\n"
    "  end\n"
    "  if last == nil or ts > last then redis.call('SET', k, ARGV[2 * i]) end\n"
    "end\n"
    "return 0\n";

int
flux_store_last_advance(struct flux_store *s, const char *const *metrics,
    const int64_t *ts, const double *values, size_t n, char err[])
{
	struct args	 a = { 0 };
	redisReply	*r = NULL;
	size_t		 i;
	int		 rc = -1;

	if (n == 0)
		return 0;
	if (args_init(&a, 3 + 3 * n) == -1 || args_add(&a, strdup("EVAL")) == -1 ||
	    args_add(&a, strdup(advance_lua)) == -1 ||
	    args_add(&a, i64_string((long long)n)) == -1)
		goto oom;
	for (i = 0; i < n; i++)
		if (args_add(&a, strjoin(LAST_PREFIX, metrics[i])) == -1)
			goto oom;
	for (i = 0; i < n; i++) {
		struct flux_point pt = { NULL, ts[i], values[i], 0, 0 };

		if (args_add(&a, i64_string((long long)ts[i])) == -1 ||
		    args_add(&a, last_record(&pt)) == -1)
			goto oom;
	}
	r = redisCommandArgv(s->ctx, (int)a.n, (const char **)a.v, a.len);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		reply_error(s, r, "flux.last update", err);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, FLUX_ERRLEN, "out of memory");
done:
	if (r)
		freeReplyObject(r);
	args_free(&a);
	return rc;
}
