/*
 * store_stats.c - the self-metrics' part of the store (stats.h). The
 * counts of a request ride in a script it runs anyway: the script gets
 * the hash of this host's minute in its KEYS and the counts in its ARGV
 * (store_stats_args), and applies them with count_stats() of
 * common/lua/stats.lua. What no such script took is sent once the answer
 * is written, without waiting for Redis's reply (flux_store_count).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"
#include "store.h"
#include "store_priv.h"

#include "lua/stats.lua.h"

/* KEYS: the minute's hash; ARGV: the counts, the delivery outcome. */
static const char count_lua[] = STATS_LUA
    "count_stats(KEYS[1], ARGV[1], ARGV[2])\n"
    "return 0\n";

/* The counts the store's scripts carry from now on (NULL: none). */
void
flux_store_set_stats(struct flux_store *s, struct flux_stats *st)
{
	s->stats = st;
}

/*
 * Add to a script's keys the hash of this minute, and to its arguments
 * the counts not yet sent and the delivery outcome (both empty when there
 * are none). The script counts them with count_stats(); once it ran, the
 * caller calls store_stats_sent(). A failure to build marks the lists
 * failed, as every adder does.
 */
int
store_stats_args(struct flux_store *s, struct store_args *keys,
    struct store_args *args)
{
	char		key[FLUX_STATS_KEY_MAX], delivery[FLUX_STATS_DELIVERY_MAX];
	struct flux_buf	spec = { 0 };
	int		rc = 0;

	if (flux_stats_key(key, (int64_t)time(NULL)) == -1 ||
	    flux_stats_spec(s->stats, &spec, delivery) == -1) {
		keys->failed = 1;
		rc = -1;
	} else {
		store_args_copy(keys, key);
		store_args_copy(args, spec.ptr ? spec.ptr : "");
		store_args_copy(args, delivery);
	}
	flux_buf_free(&spec);
	return rc;
}

/* The script that carried the counts ran (ok) or failed. */
void
store_stats_sent(struct flux_store *s, int ok)
{
	if (ok)
		flux_stats_clear(s->stats);
}

/*
 * Send what the request counted and no script took (a request refused
 * before de-duplication, a back-fill, a health check), without waiting
 * for the reply: one command written after the answer, whose reply the
 * connection's next command reads first, or the process's exit drops.
 */
int
flux_store_count(struct flux_store *s, char err[])
{
	struct store_script	sc = { count_lua, { 0 }, { 0 }, NULL };
	int			rc = 0;

	if (!flux_stats_pending(s->stats))
		return 0;
	store_stats_args(s, &sc.keys, &sc.args);
	if ((rc = store_script_send(s, &sc, err)) == 0)
		store_stats_sent(s, 1);
	store_script_free(&sc);
	return rc;
}

/*
 * The health check's round trip (SPEC 4.1: a write, as Skyline's
 * flux.listen heartbeat): KEYS flux.listen, the populate queue, its set of
 * running (leased) jobs and the list where a Flux from before leases kept
 * them, then the hashes of the last minutes, newest first; ARGV now, the
 * heartbeat's life. Returns how many jobs wait and run, and the newest
 * delivery outcome of those minutes (false: none).
 */
static const char health_lua[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))\n"
    "local last = false\n"
    "for i = 5, #KEYS do\n"
    "  last = redis.call('HGET', KEYS[i], '" FLUX_STATS_DELIVERY "')\n"
    "  if last then break end\n"
    "end\n"
    "return { redis.call('LLEN', KEYS[2]),\n"
    "  redis.call('ZCARD', KEYS[3]) + redis.call('LLEN', KEYS[4]), last }\n";

/* Skyline's flux.listen heartbeat expires unless renewed within this. */
#define LISTEN_TTL_S 120

/* The hashes of the n minutes up to now's, newest first, into keys. */
static int
minute_keys(struct store_args *keys, int64_t now, size_t n)
{
	char	key[FLUX_STATS_KEY_MAX];
	size_t	i;

	for (i = 0; i < n; i++) {
		if (flux_stats_key(key, now - 60 * (int64_t)i) == -1)
			return -1;
		store_args_copy(keys, key);
	}
	return 0;
}

int
flux_store_health(struct flux_store *s, int64_t now, const char *queue,
    const char *running, const char *legacy, struct flux_store_health *h,
    char err[])
{
	struct store_script	 sc = { health_lua, { 0 }, { 0 }, NULL };
	redisReply		*r = NULL;
	int			 rc;

	memset(h, 0, sizeof(*h));
	store_args_copy(&sc.keys, "flux.listen");
	store_args_copy(&sc.keys, queue);
	store_args_copy(&sc.keys, running);
	store_args_copy(&sc.keys, legacy);
	if (minute_keys(&sc.keys, now, FLUX_HEALTH_MINUTES) == -1)
		sc.keys.failed = 1;
	store_args_i64(&sc.args, (long long)now);
	store_args_i64(&sc.args, LISTEN_TTL_S);
	rc = store_script_run(s, &sc, REDIS_REPLY_ARRAY, &r, "health check", err);
	if (rc == 0 && (r->elements != 3 || r->element[0]->type !=
	    REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER)) {
		store_reply_error(s, r, "health check", err);
		rc = -1;
	} else if (rc == 0) {
		h->queued = r->element[0]->integer;
		h->running = r->element[1]->integer;
		if (r->element[2]->type == REDIS_REPLY_STRING)
			snprintf(h->delivery, sizeof(h->delivery), "%s",
			    r->element[2]->str);
	}
	if (r != NULL)
		freeReplyObject(r);
	store_script_free(&sc);
	return rc;
}

/*
 * The counts of the n minutes up to now's (oldest first) and the recent
 * uploads' status records, for the status page: KEYS the minutes' hashes,
 * then the list of recent uploads; ARGV how many uploads. Returns the
 * minutes' fields as flat arrays, then the records (false when gone).
 */
static const char history_lua[] =
    "local out = {}\n"
    "for i = 1, #KEYS - 1 do\n"
    "  out[i] = redis.call('HGETALL', KEYS[i])\n"
    "end\n"
    "local ids = {}\n"
    "if tonumber(ARGV[1]) > 0 then\n"
    "  ids = redis.call('LRANGE', KEYS[#KEYS], 0, tonumber(ARGV[1]) - 1)\n"
    "end\n"
    "local records = {}\n"
    "for i, id in ipairs(ids) do\n"
    "  records[i] = redis.call('GET', ARGV[2] .. id)\n"
    "end\n"
    "out[#KEYS] = records\n"
    "return out\n";

int
flux_store_history(struct flux_store *s, int64_t now, size_t n,
    const char *recent, const char *record_prefix, size_t nrecent,
    flux_store_field_fn field, flux_store_record_fn record, void *ctx,
    char err[])
{
	struct store_script	 sc = { history_lua, { 0 }, { 0 }, NULL };
	redisReply		*r = NULL, *m;
	size_t			 i, j;
	int			 rc;

	/* Oldest first: minute i is now's minus n - 1 - i. */
	for (i = 0; i < n; i++) {
		char	key[FLUX_STATS_KEY_MAX];

		if (flux_stats_key(key, now - 60 * (int64_t)(n - 1 - i)) == -1)
			sc.keys.failed = 1;
		else
			store_args_copy(&sc.keys, key);
	}
	store_args_copy(&sc.keys, recent);
	store_args_i64(&sc.args, (long long)nrecent);
	store_args_copy(&sc.args, record_prefix);
	rc = store_script_run(s, &sc, REDIS_REPLY_ARRAY, &r, "status history", err);
	if (rc == 0 && r->elements != n + 1) {
		store_reply_error(s, r, "status history", err);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		m = r->element[i];
		for (j = 0; m->type == REDIS_REPLY_ARRAY && j + 1 < m->elements;
		    j += 2)
			if (m->element[j]->type == REDIS_REPLY_STRING &&
			    m->element[j + 1]->type == REDIS_REPLY_STRING)
				field(ctx, i, m->element[j]->str, m->element[j + 1]->str);
	}
	m = rc == 0 ? r->element[n] : NULL;
	for (j = 0; m != NULL && m->type == REDIS_REPLY_ARRAY && j < m->elements;
	    j++)
		if (m->element[j]->type == REDIS_REPLY_STRING)
			record(ctx, m->element[j]->str);
	if (r != NULL)
		freeReplyObject(r);
	store_script_free(&sc);
	return rc;
}

/*
 * A new upload's status record, and its id at the head of the list of
 * recent uploads the status page shows (keep at most), in one round trip.
 */
static const char upload_new_lua[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))\n"
    "redis.call('LPUSH', KEYS[2], ARGV[3])\n"
    "redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)\n"
    "return 0\n";

int
flux_store_upload_new(struct flux_store *s, const char *key, const char *text,
    int64_t ttl, const char *recent, const char *id, size_t keep, char err[])
{
	struct store_script	sc = { upload_new_lua, { 0 }, { 0 }, NULL };
	int			rc;

	store_args_copy(&sc.keys, key);
	store_args_copy(&sc.keys, recent);
	store_args_copy(&sc.args, text);
	store_args_i64(&sc.args, (long long)ttl);
	store_args_copy(&sc.args, id);
	store_args_i64(&sc.args, (long long)keep);
	rc = store_script_run(s, &sc, STORE_REPLY_ANY, NULL, "status record", err);
	store_script_free(&sc);
	return rc;
}
