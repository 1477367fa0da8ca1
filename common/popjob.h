/*
 * popjob.h - a populate_metric job (SPEC 4.3 and 7): the rules for Vista's
 * payload, the normalised JSON form queued in Redis, and the queue itself,
 * which several nodes share (store.h: a list for waiting jobs, and a
 * lease for each job being run, so a run that dies leaves its job behind
 * to be put back, and no two runs take the same job).
 */
#ifndef FLUX_POPJOB_H
#define FLUX_POPJOB_H

#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "util.h"

#define FLUX_POPJOB_QUEUE "flux.populate_metric.queue"
/* The running jobs and their leases: a sorted set (store.h). */
#define FLUX_POPJOB_RUNNING "flux.populate_metric.running"
/* Where a Flux from before leases kept its running job: a list. */
#define FLUX_POPJOB_PROCESSING "flux.populate_metric.processing"
/* Vista's set of remote targets it need not ask to populate again. */
#define FLUX_POPJOB_VISTA_SET "vista.fetcher.unique_metrics"

/* Vista sends one URL per resolution, a handful; more is not Vista. */
#define FLUX_POPJOB_MAX_URLS 32
/* Apache's request line limit is 8190; no sane render URL is longer. */
#define FLUX_POPJOB_URL_MAX 4096
/* A job that failed this many runs is dropped (SPEC 7). */
#define FLUX_POPJOB_MAX_ATTEMPTS 5

struct cJSON;
struct flux_store;

enum flux_remote {
	FLUX_REMOTE_GRAPHITE,
	FLUX_REMOTE_PROMETHEUS
};

struct flux_popjob {
	enum flux_remote	 type;
	char			*remote_target;
	char			*metric;		/* final, validated name */
	char			*namespace_prefix;	/* NULL: JSON null */
	char			*token;			/* "None": no token */
	char			*user;			/* "None": no auth */
	char			*password;
	struct flux_list	 urls;			/* http(s) URLs, >= 1 */
	int64_t			 attempts;		/* runs that took it */
	int64_t			 queued_at;
	char			*last_error;		/* NULL: none yet */
	char			*owner;			/* the key's tag; NULL: none */
};

const char *flux_popjob_type_name(enum flux_remote t);
int	flux_popjob_from_json(const struct cJSON *o, int queued,
	    const char *prefix, struct flux_popjob *j, char msg[]);
int	flux_popjob_decode(const char *text, struct flux_popjob *j, char err[]);
char	*flux_popjob_encode(const struct flux_popjob *j);
int	flux_popjob_set_error(struct flux_popjob *j, const char *why);
void	flux_popjob_free(struct flux_popjob *j);

int	flux_popjob_push_bounded(struct flux_store *s, const char *job,
	    const char *owner, int64_t bound, char err[]);
int	flux_popjob_recover(struct flux_store *s, const char *node,
	    long long *moved, char err[]);
int	flux_popjob_pending(struct flux_store *s, long long *n, char err[]);
int	flux_popjob_take(struct flux_store *s, const char *node, int64_t ms,
	    char **job, struct flux_store_lease *l, long long *lapsed, char err[]);
int	flux_popjob_end(struct flux_store *s, struct flux_store_lease *l,
	    enum flux_queue_next how, const char *next, char err[]);
int	flux_popjob_list(struct flux_store *s, struct flux_list *jobs,
	    char err[]);
int	flux_popjob_mark_known(struct flux_store *s, const char *remote_target,
	    char err[]);

#endif
