/*
 * store_claim.c - de-duplication with claims (SPEC 5): the check-and-set
 * of a whole request in one Lua script (common/lua/dedup.lua, which says
 * what a claim is and what each of its keys holds), the confirm that ends
 * the request's claim once its points are delivered or spooled, and the
 * rollback when they could be neither (common/lua/rollback.lua).
 *
 * The script returns, per point, whether it was taken and what its record
 * and its entry in flux.last.metric_data held before, which is what a
 * rollback needs to put each back unless a newer request moved it on. The
 * keys are read with MGET and written with MSET, in chunks, not with a GET
 * and a SET each: for 450 points that was 445 instead of 740 microseconds
 * of Redis time. The confirm (common/lua/confirm.lua) runs once the
 * answer has gone (common/cgi.c); every embedded script is called by its
 * SHA1 (store_script_run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_priv.h"
#include "util.h"

#include "lua/confirm.lua.h"
#include "lua/dedup.lua.h"
#include "lua/rollback.lua.h"

/*
 * A claim's lease: how long it stands when its request neither confirms
 * nor rolls back (killed), LEASE_TIMEOUTS carbon timeouts but at least
 * LEASE_MIN_MS; a confirmed claim reads done for DONE_LEASES leases, so
 * that a request waiting on it tells it from one whose lease ran out.
 */
#define LEASE_TIMEOUTS 10
#define LEASE_MIN_MS 30000
#define DONE_LEASES 2

/*
 * A request waiting on another's claim runs the script again after
 * WAIT_FIRST_MS, then twice as long each time up to WAIT_MAX_MS; it gives
 * up WAIT_MARGIN_MS past the lease (that request must have died).
 */
#define WAIT_FIRST_MS 1
#define WAIT_MAX_MS 50
#define WAIT_MARGIN_MS 5000

/* The claims' keys (common/lua/dedup.lua says what each holds). */
#define CLAIMS_PENDING "flux.claim.pending"
#define CLAIMS_DONE "flux.claim.done"
#define CLAIMS_PREFIX "flux.claims."

/* Longest token the script may report; a longer word is not ours. */
#define TOKEN_TEXT_MAX 64

/* Where dedup.lua finds its keys and arguments (it names them alike). */
enum dedup_key {
	DK_PENDING,		/* CLAIMS_PENDING */
	DK_DONE,		/* CLAIMS_DONE */
	DK_LAST_HASH,		/* STORE_LAST_HASH */
	DK_STATS,		/* this minute's self-metrics (store_stats.c) */
	DK_POINTS		/* then per point: */
};
enum dedup_point_key {
	DK_LAST,		/* flux.last.<metric> */
	DK_LIST,		/* flux.claims.<metric> */
	DK_PER_POINT
};
enum dedup_arg {
	DA_APPLY,		/* "1", or "0" for a test request */
	DA_LEASE,		/* milliseconds */
	DA_TOKEN,
	DA_SEEN,		/* tokens seen pending, space-separated */
	DA_STATS,		/* the request's counts so far */
	DA_DELIVERY,		/* (no delivery yet: empty) */
	DA_DUPLICATES,		/* the field its duplicates count in, or "" */
	DA_POINTS		/* then per point: */
};
enum dedup_point_arg {
	DA_TS,
	DA_RECORD,		/* the record it would write */
	DA_PER_POINT
};
/* Point i's key or argument which. */
#define DK(i, which)	(DK_POINTS + DK_PER_POINT * (i) + (which))
#define DA(i, which)	(DA_POINTS + DA_PER_POINT * (i) + (which))

/*
 * The reply: the tokens of the pending claims met, then per point a code,
 * the record its key held before and the entry its field held before.
 */
enum dedup_code {
	DEDUP_DUPLICATE,	/* not newer: dropped */
	DEDUP_TAKEN_NEW,	/* taken; its flux.last key was absent */
	DEDUP_TAKEN_OVER,	/* taken; the old record follows */
	DEDUP_WAIT		/* held back by another request's pending claim */
};
#define DEDUP_REPLY_TOKENS	0
#define DEDUP_REPLY_CODE(i)	(1 + 3 * (i))
#define DEDUP_REPLY_OLD(i)	(2 + 3 * (i))
#define DEDUP_REPLY_OLD_ENTRY(i) (3 + 3 * (i))
#define DEDUP_REPLY_LEN(n)	(1 + 3 * (n))

/* Forget the request's claim: nothing to confirm or roll back. */
void
store_claim_clear(struct flux_store *s)
{
	struct store_claim	*cl = &s->claim;
	size_t			 i;

	for (i = 0; i < cl->nundo; i++) {
		free(cl->undo[i].key);
		free(cl->undo[i].newrec);
		free(cl->undo[i].oldrec);
		free(cl->undo[i].oldentry);
	}
	free(cl->undo);
	cl->undo = NULL;
	cl->nundo = 0;
	cl->claimed = 0;
}

static int64_t
lease_ms(const struct flux_conf *c)
{
	int64_t	ms = LEASE_TIMEOUTS * (int64_t)c->carbon_timeout_ms;

	return ms > LEASE_MIN_MS ? ms : LEASE_MIN_MS;
}

/*
 * The keys and arguments of dedup.lua for the n points of p listed in idx
 * (out of memory: the script's run says so).
 */
static void
build_dedup(struct store_script *sc, struct flux_store *s,
    const struct flux_points *p, const size_t *idx, size_t n, int apply)
{
	size_t	i;

	store_args_reserve(&sc->keys, DK(n, 0));
	store_args_reserve(&sc->args, DA(n, 0));
	store_args_copy(&sc->keys, CLAIMS_PENDING);
	store_args_copy(&sc->keys, CLAIMS_DONE);
	store_args_copy(&sc->keys, STORE_LAST_HASH);
	store_args_copy(&sc->args, apply ? "1" : "0");
	store_args_i64(&sc->args, (long long)s->claim.lease);
	store_args_copy(&sc->args, s->claim.token);
	store_args_copy(&sc->args, "");
	store_stats_args(s, &sc->keys, &sc->args);
	if (apply && s->stats != NULL) {
		char	field[128];

		snprintf(field, sizeof(field), "%s.%s", s->stats->source,
		    flux_stats_name(FLUX_STAT_DUPLICATES));
		store_args_copy(&sc->args, field);
	} else
		store_args_copy(&sc->args, "");
	for (i = 0; i < n; i++) {
		const struct flux_point *pt = &p->v[idx[i]];

		store_args_join(&sc->keys, STORE_LAST_PREFIX, pt->name);
		store_args_join(&sc->keys, CLAIMS_PREFIX, pt->name);
		store_args_i64(&sc->args, (long long)pt->ts);
		store_args_add(&sc->args, store_last_record(pt));
	}
}

/*
 * Keep what a rollback needs of taken point i (the script's keys and
 * arguments in sc, its reply r); -1 when out of memory.
 */
static int
undo_add(struct store_claim *cl, const struct store_script *sc,
    const redisReply *r, size_t i)
{
	struct store_undo	*u = &cl->undo[cl->nundo++];

	u->had_old = r->element[DEDUP_REPLY_CODE(i)]->integer == DEDUP_TAKEN_OVER;
	u->key = strdup(sc->keys.v[DK(i, DK_LAST)]);
	u->newrec = strdup(sc->args.v[DA(i, DA_RECORD)]);
	u->oldrec = strdup(r->element[DEDUP_REPLY_OLD(i)]->str);
	u->oldentry = strdup(r->element[DEDUP_REPLY_OLD_ENTRY(i)]->str);
	return u->key && u->newrec && u->oldrec && u->oldentry ? 0 : -1;
}

/* Whether r is a well-formed reply of dedup.lua for n points. */
static int
reply_valid(const redisReply *r, size_t n)
{
	size_t	i;

	if (r->elements != DEDUP_REPLY_LEN(n) ||
	    r->element[DEDUP_REPLY_TOKENS]->type != REDIS_REPLY_STRING)
		return 0;
	for (i = 0; i < n; i++) {
		const redisReply *code = r->element[DEDUP_REPLY_CODE(i)];

		if (code->type != REDIS_REPLY_INTEGER ||
		    code->integer < DEDUP_DUPLICATE || code->integer > DEDUP_WAIT ||
		    r->element[DEDUP_REPLY_OLD(i)]->type != REDIS_REPLY_STRING ||
		    r->element[DEDUP_REPLY_OLD_ENTRY(i)]->type != REDIS_REPLY_STRING)
			return 0;
	}
	return 1;
}

/*
 * Record what the script reported; keep undo data when it applied. Returns
 * the number of waiting points (none is decided then, when applying), or
 * -1 on a malformed reply.
 */
static int
take_reply(struct flux_store *s, struct flux_points *p, const size_t *idx,
    size_t n, const struct store_script *sc, const redisReply *r, int apply)
{
	struct store_claim	*cl = &s->claim;
	size_t			 i;
	int			 nwait = 0;

	if (!reply_valid(r, n))
		return -1;
	for (i = 0; i < n; i++)
		nwait += r->element[DEDUP_REPLY_CODE(i)]->integer == DEDUP_WAIT;
	if (apply && nwait > 0)
		return nwait;
	if (apply && (cl->undo = calloc(n, sizeof(*cl->undo))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		long long code = r->element[DEDUP_REPLY_CODE(i)]->integer;

		/* A test request counts a waiting point as one it would take. */
		p->v[idx[i]].state = code != DEDUP_DUPLICATE ? FLUX_PT_ACCEPT :
		    FLUX_PT_DUP;
		if (apply && code != DEDUP_DUPLICATE &&
		    undo_add(cl, sc, r, i) == -1)
			return -1;
	}
	cl->claimed = apply && cl->nundo > 0;
	return nwait;
}

/*
 * Add to argument at of a (a space-separated list of tokens) the tokens of
 * more it does not hold yet: the claims a waiting request has seen pending.
 */
static int
note_tokens(struct store_args *a, size_t at, const char *more)
{
	char	 tok[TOKEN_TEXT_MAX], *v;
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

/*
 * Before the script runs again for waiting points: sleep *pause ms, the
 * next pause twice as long up to WAIT_MAX_MS; -1 with err once the wait
 * has outlasted the lease and the margin (*deadline, 0 before the first).
 */
static int
wait_again(int64_t *deadline, int64_t *pause, int64_t lease, int nwait,
    char err[])
{
	int64_t	now = flux_clock_ms(CLOCK_MONOTONIC);

	if (*deadline == 0)
		*deadline = now + lease + WAIT_MARGIN_MS;
	else if (now > *deadline) {
		return flux_errf(err, "%d points still claimed by another "
		    "request after %lld ms", nwait, (long long)(lease + WAIT_MARGIN_MS));
	}
	flux_sleep_ms(*pause);
	*pause = *pause * 2 > WAIT_MAX_MS ? WAIT_MAX_MS : *pause * 2;
	return 0;
}

/*
 * Run the script until no point waits (or once, for a test request): 0;
 * -1 on error; -2 when points still wait past the lease and the margin.
 */
static int
run_dedup(struct flux_store *s, struct store_script *sc, struct flux_points *p,
    const size_t *idx, size_t n, int apply, char err[])
{
	redisReply	*r;
	int64_t		 deadline = 0, pause = WAIT_FIRST_MS;
	int		 nwait;

	for (;;) {
		if (store_script_run(s, sc, REDIS_REPLY_ARRAY, &r, "de-duplication",
		    err) == -1)
			return -1;
		if ((nwait = take_reply(s, p, idx, n, sc, r, apply)) == -1)
			store_reply_error(s, r, "de-duplication", err);
		else if (nwait > 0 && apply && note_tokens(&sc->args, DA_SEEN,
		    r->element[DEDUP_REPLY_TOKENS]->str) == -1) {
			flux_errf(err, "out of memory");
			nwait = -1;
		}
		freeReplyObject(r);
		if (nwait == -1)
			return -1;
		if (nwait == 0 || !apply)
			return 0;
		if (wait_again(&deadline, &pause, s->claim.lease, nwait, err) == -1)
			return -2;
	}
}

/*
 * Decide every point of p: fill points (and all points when
 * FLUX_CHECK_LAST_TIMESTAMP is false) are taken as they are; the others are
 * checked against flux.last and, when apply is set, flux.last advances for
 * those taken, all in one round trip. When a point waits on another
 * request's claim the script is run again, after 1, 2, 4 ... up to 50 ms,
 * until nothing waits; past the lease (and a margin) that gives up with
 * -2, no point decided. On error (-1) no point is decided either.
 */
int
flux_store_dedup(struct flux_store *s, const struct flux_conf *c,
    struct flux_points *p, int apply, char err[])
{
	struct store_script	 sc = { dedup_lua, { 0 }, { 0 }, dedup_lua_sha };
	size_t			*idx, n = 0, i;
	int			 rc = 0;

	store_claim_clear(s);
	s->claim.lease = lease_ms(c);
	flux_random_hex(s->claim.token, STORE_TOKEN_BYTES);
	if ((idx = calloc(p->n ? p->n : 1, sizeof(*idx))) == NULL)
		return flux_errf(err, "out of memory");
	for (i = 0; i < p->n; i++)
		if (c->check_last_timestamp && !p->v[i].fill)
			idx[n++] = i;
	if (n > 0) {
		build_dedup(&sc, s, p, idx, n, apply);
		rc = run_dedup(s, &sc, p, idx, n, apply, err);
		/* The run that decided counted the request; a waiting one not. */
		store_stats_sent(s, rc == 0);
	}
	if (rc != 0) {
		/* Undecided: nothing to confirm or roll back either. */
		store_claim_clear(s);
		for (i = 0; i < n; i++)
			p->v[idx[i]].state = FLUX_PT_NEW;
	}
	for (i = 0; rc == 0 && i < p->n; i++)
		if (p->v[i].state == FLUX_PT_NEW)
			p->v[i].state = FLUX_PT_ACCEPT;
	store_script_free(&sc);
	free(idx);
	return rc;
}

/*
 * End this request's claim: its points are delivered or spooled. Without
 * it the claim stands until its lease runs out, and then counts as
 * abandoned (not delivered).
 */
int
flux_store_confirm(struct flux_store *s, char err[])
{
	struct store_script	sc = { confirm_lua, { 0 }, { 0 }, confirm_lua_sha };
	int			rc;

	if (!s->claim.claimed)
		return 0;
	store_claim_clear(s);
	store_args_copy(&sc.keys, CLAIMS_PENDING);
	store_args_copy(&sc.keys, CLAIMS_DONE);
	store_args_copy(&sc.args, s->claim.token);
	store_args_i64(&sc.args, DONE_LEASES * (long long)s->claim.lease);
	store_stats_args(s, &sc.keys, &sc.args);
	rc = store_script_run(s, &sc, STORE_REPLY_ANY, NULL, "claim confirm",
	    err);
	/*
	 * The connection lost under it, or the master demoted (a fail-over):
	 * once more on a new connection, as the claim may have reached the
	 * promoted replica, and requests waiting on it there would otherwise
	 * wait out its lease. Run twice, it does what it does once, but for
	 * the self-metrics it carries: counted twice if the first run was
	 * applied and only its reply lost.
	 */
	if (rc == -1 && !flux_store_usable(s))
		rc = store_script_run(s, &sc, STORE_REPLY_ANY, NULL, "claim confirm",
		    err);
	store_stats_sent(s, rc == 0);
	store_script_free(&sc);
	return rc;
}

/*
 * Put back what the last applied flux_store_dedup() changed, newest change
 * first, each record and entry only if it still holds what this request
 * wrote (common/lua/rollback.lua).
 */
int
flux_store_rollback(struct flux_store *s, char err[])
{
	struct store_claim	*cl = &s->claim;
	struct store_script	 sc = { rollback_lua, { 0 }, { 0 }, rollback_lua_sha };
	size_t			 i;
	int			 rc;

	if (cl->nundo == 0)
		return 0;
	store_args_reserve(&sc.keys, 2 + cl->nundo);
	store_args_reserve(&sc.args, 1 + 4 * cl->nundo);
	store_args_copy(&sc.keys, CLAIMS_PENDING);
	store_args_copy(&sc.keys, STORE_LAST_HASH);
	store_args_copy(&sc.args, cl->token);
	for (i = cl->nundo; i-- > 0;) {
		store_args_copy(&sc.keys, cl->undo[i].key);
		store_args_copy(&sc.args, cl->undo[i].newrec);
		store_args_copy(&sc.args, cl->undo[i].had_old ? "1" : "0");
		store_args_copy(&sc.args, cl->undo[i].oldrec);
		store_args_copy(&sc.args, cl->undo[i].oldentry);
	}
	store_stats_args(s, &sc.keys, &sc.args);
	if ((rc = store_script_run(s, &sc, STORE_REPLY_ANY, NULL, "rollback",
	    err)) == 0)
		store_claim_clear(s);
	store_stats_sent(s, rc == 0);
	store_script_free(&sc);
	return rc;
}
