/*
 * store.h - Redis: the flux.last.<metric> de-duplication records (SPEC
 * section 5), checked and advanced for a whole request in one Lua script,
 * as claims of that request that it confirms once its points are delivered
 * or spooled, or rolls back when they could be neither; the same records
 * read and advanced in batches for flux-batch; a few plain commands; the
 * queue of populate jobs that several nodes share, and leases.
 *
 * The parts: store.c (connection, commands, queue, leases), store_claim.c
 * (the claims, with common/lua/dedup.lua), store_last.c (the record and
 * its batch read and advance). Behind Redis Sentinel the store asks the
 * sentinels where the master is, and asks again when it is lost.
 */
#ifndef FLUX_STORE_H
#define FLUX_STORE_H

#include "conf.h"
#include "metric.h"
#include "util.h"

struct flux_store;

struct flux_store *flux_store_open(const struct flux_conf *c, char err[]);
void	flux_store_close(struct flux_store *s);
int	flux_store_usable(const struct flux_store *s);
int	flux_store_ping(struct flux_store *s, int64_t now, char err[]);
int	flux_store_setex(struct flux_store *s, const char *key, const char *val,
	    int64_t ttl, char err[]);
char	*flux_store_get(struct flux_store *s, const char *key, char err[]);
int	flux_store_del(struct flux_store *s, const char *key, char err[]);
int	flux_store_set_add(struct flux_store *s, const char *set,
	    const char *member, char err[]);

struct flux_stats;
void	flux_store_set_stats(struct flux_store *s, struct flux_stats *st);
int	flux_store_count(struct flux_store *s, char err[]);

/* Minutes back the health check looks for the last delivery's outcome. */
#define FLUX_HEALTH_MINUTES 60

/* What the health check reads from Redis (store_stats.c). */
struct flux_store_health {
	long long	queued;		/* populate jobs waiting */
	long long	running;	/* and being run */
	char		delivery[FLUX_ERRLEN + 64];	/* newest outcome, "" none */
};

int	flux_store_health(struct flux_store *s, int64_t now, const char *queue,
	    const char *running, const char *legacy, struct flux_store_health *h,
	    char err[]);
typedef void (*flux_store_field_fn)(void *ctx, size_t minute,
	    const char *name, const char *value);
typedef void (*flux_store_record_fn)(void *ctx, const char *record);
int	flux_store_history(struct flux_store *s, int64_t now, size_t n,
	    const char *recent, const char *record_prefix, size_t nrecent,
	    flux_store_field_fn field, flux_store_record_fn record, void *ctx,
	    char err[]);
int	flux_store_upload_new(struct flux_store *s, const char *key,
	    const char *text, int64_t ttl, const char *recent, const char *id,
	    size_t keep, char err[]);

int	flux_store_dedup(struct flux_store *s, const struct flux_conf *c,
	    struct flux_points *p, int apply, char err[]);
int	flux_store_confirm(struct flux_store *s, char err[]);
int	flux_store_rollback(struct flux_store *s, char err[]);

int	flux_store_last_get(struct flux_store *s, const char *const *metrics,
	    size_t n, int64_t *ts, char err[]);
int	flux_store_last_advance(struct flux_store *s, const char *const *metrics,
	    const int64_t *ts, const double *values, size_t n, char err[]);

/*
 * A queue several nodes share: jobs wait in a list (pushed at its head,
 * taken from its tail), and a job taken is leased to its taker's node: it
 * moves into a sorted set of running jobs as "<node> <token> <job>",
 * scored with the deadline of its lease (on Redis's clock), which its
 * runner renews while the job runs. A job whose lease ran out (its run
 * died, or stalled past it), or that a run of the taking node itself left
 * behind (flux-batch's lock says that run is over), goes back to the tail
 * of the queue, to be taken first: a job is always in one of the two and
 * runs on one node at a time. legacy is the list where a Flux from before
 * leases kept its running jobs: they are queued again too. name is what
 * messages call the queue.
 */
struct flux_store_queue {
	const char	*waiting;
	const char	*running;
	const char	*legacy;
	const char	*name;
};

/* A job (or an upload) leased to this run: what renews or ends it. */
struct flux_store_lease {
	char		*key;		/* the running set, or the lease's own key */
	char		*head;		/* "<node> <token>", the lease's owner */
	char		*entry;		/* a job's: "<head> <job>"; else NULL */
	int64_t		 ms;		/* its length */
	int64_t		 renewed;	/* monotonic ms */
};

/* What becomes of a job when its lease ends. */
enum flux_queue_next {
	FLUX_QUEUE_DONE,	/* done, or dropped */
	FLUX_QUEUE_AGAIN,	/* queued again, as the text given */
	FLUX_QUEUE_UPDATE	/* runs on as the text given, its lease renewed */
};

int	flux_store_queue_push_bounded(struct flux_store *s,
	    const struct flux_store_queue *q, const char *job, const char *mark,
	    int64_t bound, char err[]);
int	flux_store_queue_recover(struct flux_store *s,
	    const struct flux_store_queue *q, const char *node, long long *moved,
	    char err[]);
int	flux_store_queue_length(struct flux_store *s,
	    const struct flux_store_queue *q, long long *n, char err[]);
int	flux_store_queue_take(struct flux_store *s,
	    const struct flux_store_queue *q, const char *node, int64_t ms,
	    char **job, struct flux_store_lease *l, long long *lapsed, char err[]);
int	flux_store_queue_end(struct flux_store *s,
	    const struct flux_store_queue *q, struct flux_store_lease *l,
	    enum flux_queue_next how, const char *next, char err[]);
int	flux_store_queue_list(struct flux_store *s,
	    const struct flux_store_queue *q, struct flux_list *jobs, char err[]);

int	flux_store_lease_take(struct flux_store *s, const char *key,
	    const char *node, int64_t ms, struct flux_store_lease *l, char err[]);
int	flux_store_lease_keep(struct flux_store *s, struct flux_store_lease *l,
	    char err[]);
int	flux_store_lease_release(struct flux_store *s,
	    struct flux_store_lease *l, char err[]);
void	flux_store_lease_free(struct flux_store_lease *l);

#endif
