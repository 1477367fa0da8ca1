/*
 * store_last.c - the flux.last.<metric> record in C, and its batch read
 * and advance for flux-batch (populate and uploads).
 *
 * The record is "[<ts>, <value>]", a JSON array and a Python literal both,
 * so that Skyline's literal_eval readers keep working; a bare integer
 * timestamp, as older writers left, is read too. Written here only
 * (store_last_record), read here for flux-batch (record_ts) and in Lua by
 * record_ts() in common/lua/record.lua, which the Redis scripts that read
 * records start with. Keep the three alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_priv.h"
#include "util.h"

#include "lua/advance.lua.h"

/*
 * Digits of a record's timestamp read at most: seconds since the epoch
 * have 10 for millennia yet, and 18 cannot overflow an int64_t.
 */
#define RECORD_TS_DIGITS 18

/* Room for a record: brackets, an int64, ", ", a double, the NUL. */
#define RECORD_LEN (1 + 20 + 2 + FLUX_DBLLEN + 2)

/* The record of pt, a new string (NULL when out of memory). */
char *
store_last_record(const struct flux_point *pt)
{
	char	rec[RECORD_LEN];
	size_t	n = 0;

	rec[n++] = '[';
	n += store_put_i64(rec + n, (long long)pt->ts);
	rec[n++] = ',';
	rec[n++] = ' ';
	flux_fmt_double(pt->value, rec + n);
	n += strlen(rec + n);
	rec[n++] = ']';
	rec[n] = '\0';
	return strdup(rec);
}

/* The timestamp of a record, or -1 when it holds none. */
static int64_t
record_ts(const char *rec)
{
	int64_t	v = 0;
	int	digits = 0;

	while (*rec == ' ' || *rec == '[')
		rec++;
	for (; *rec >= '0' && *rec <= '9' && digits < RECORD_TS_DIGITS;
	    rec++, digits++)
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
	struct store_args	 a = { 0 };
	redisReply		*r;
	size_t			 i;
	int			 rc;

	if (n == 0)
		return 0;
	store_args_reserve(&a, n + 1);
	store_args_copy(&a, "MGET");
	for (i = 0; i < n; i++)
		store_args_join(&a, STORE_LAST_PREFIX, metrics[i]);
	rc = store_command_args(s, &a, REDIS_REPLY_ARRAY, &r, "MGET", err);
	/* A read: worth sending again on a new connection (see below). */
	if (rc == -1 && !flux_store_usable(s))
		rc = store_command_args(s, &a, REDIS_REPLY_ARRAY, &r, "MGET", err);
	store_args_free(&a);
	if (rc == -1)
		return -1;
	if (r->elements != n) {
		store_reply_error(s, r, "MGET", err);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++)
		ts[i] = r->element[i]->type == REDIS_REPLY_STRING ?
		    record_ts(r->element[i]->str) : -1;
	freeReplyObject(r);
	return rc;
}

/*
 * Set flux.last.<metric> to "[ts, value]" unless it already holds a
 * timestamp at or past ts (common/lua/advance.lua), for n metrics in one
 * round trip.
 */
int
flux_store_last_advance(struct flux_store *s, const char *const *metrics,
    const int64_t *ts, const double *values, size_t n, char err[])
{
	struct store_script	sc = { advance_lua, { 0 }, { 0 } };
	size_t			i;
	int			rc;

	if (n == 0)
		return 0;
	store_args_reserve(&sc.keys, n);
	store_args_reserve(&sc.args, 2 * n);
	for (i = 0; i < n; i++) {
		struct flux_point pt = { NULL, ts[i], values[i], 0, 0 };

		store_args_join(&sc.keys, STORE_LAST_PREFIX, metrics[i]);
		store_args_i64(&sc.args, (long long)ts[i]);
		store_args_add(&sc.args, store_last_record(&pt));
	}
	rc = store_script_run(s, &sc, STORE_REPLY_ANY, NULL, "flux.last update",
	    err);
	/*
	 * The connection lost under it (a fail-over: the sentinels close the
	 * old master's connections) or the master demoted: the store connects
	 * again, and the script runs once more. It may have run already: run
	 * twice it does what it does once.
	 */
	if (rc == -1 && !flux_store_usable(s))
		rc = store_script_run(s, &sc, STORE_REPLY_ANY, NULL,
		    "flux.last update", err);
	store_script_free(&sc);
	return rc;
}
