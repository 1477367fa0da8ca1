/*
 * store_last.c - the flux.last.<metric> record in C, and the batch read
 * and advance of a metric's records for flux-batch (populate and uploads).
 *
 * The record is "[<ts>, <value>]", a JSON array and a Python literal both,
 * so that Skyline's literal_eval readers keep working. It is written here
 * only (store_last_record). Everything else about a metric's records, its
 * entry in flux.last.metric_data beside it included, is in the Redis
 * scripts: common/lua/record.lua reads both and makes the entry from the
 * record, and last.lua and advance.lua are the batch read and advance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_priv.h"
#include "util.h"

#include "lua/advance.lua.h"
#include "lua/last.lua.h"

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

/*
 * The last timestamps of n metrics, each the newer of its record and its
 * entry, in one round trip (common/lua/last.lua): ts[i] is -1 where there
 * is none (or the records are not ours to read).
 */
int
flux_store_last_get(struct flux_store *s, const char *const *metrics, size_t n,
    int64_t *ts, char err[])
{
	struct store_script	 sc = { last_lua, { 0 }, { 0 }, last_lua_sha };
	redisReply		*r;
	size_t			 i;
	int			 rc;

	if (n == 0)
		return 0;
	store_args_reserve(&sc.keys, n + 1);
	store_args_copy(&sc.keys, STORE_LAST_HASH);
	for (i = 0; i < n; i++)
		store_args_join(&sc.keys, STORE_LAST_PREFIX, metrics[i]);
	rc = store_script_run(s, &sc, REDIS_REPLY_ARRAY, &r, "flux.last read",
	    err);
	/* A read: worth running again on a new connection (see below). */
	if (rc == -1 && !flux_store_usable(s))
		rc = store_script_run(s, &sc, REDIS_REPLY_ARRAY, &r, "flux.last read",
		    err);
	store_script_free(&sc);
	if (rc == -1)
		return -1;
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			break;
	if (r->elements != n || i < n) {
		store_reply_error(s, r, "flux.last read", err);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++)
		ts[i] = r->element[i]->integer;
	freeReplyObject(r);
	return rc;
}

/*
 * Set the records of n metrics to "[ts, value]", and their entries to
 * match, unless they already hold a timestamp at or past ts
 * (common/lua/advance.lua), in one round trip.
 */
int
flux_store_last_advance(struct flux_store *s, const char *const *metrics,
    const int64_t *ts, const double *values, size_t n, char err[])
{
	struct store_script	sc = { advance_lua, { 0 }, { 0 }, advance_lua_sha };
	size_t			i;
	int			rc;

	if (n == 0)
		return 0;
	store_args_reserve(&sc.keys, n + 1);
	store_args_reserve(&sc.args, 2 * n);
	store_args_copy(&sc.keys, STORE_LAST_HASH);
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
