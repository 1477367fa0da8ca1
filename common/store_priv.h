/*
 * store_priv.h - what the three parts of the Redis store share, and no
 * other module sees: store.c (the connection, the one way a command is sent
 * and its reply checked, the plain and queue commands), store_claim.c (the
 * de-duplication claims of a request) and store_last.c (the flux.last
 * record, and its batch read and advance for flux-batch).
 */
#ifndef FLUX_STORE_PRIV_H
#define FLUX_STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include "conf.h"
#include "metric.h"
#include "stats.h"

/* The prefix of the de-duplication records, flux.last.<metric> (SPEC 5). */
#define STORE_LAST_PREFIX "flux.last."
/*
 * The hash of their entries, one field per metric, which Skyline's readers
 * look up before the record (common/lua/record.lua).
 */
#define STORE_LAST_HASH "flux.last.metric_data"

/* A reply type for store_command(): any reply but an error. */
#define STORE_REPLY_ANY (-1)

/* What one applied check-and-set changed, for a rollback. */
struct store_undo {
	char	*key;		/* flux.last.<metric> */
	char	*newrec;	/* the record this request wrote */
	char	*oldrec;	/* what the key held, when had_old */
	int	 had_old;
	char	*oldentry;	/* its entry in STORE_LAST_HASH, "" when none */
};

/* Random bytes in a request's token: 64 bits, written as 16 hex digits. */
#define STORE_TOKEN_BYTES 8

/* The claim of the request under way (store_claim.c). */
struct store_claim {
	char			 token[2 * STORE_TOKEN_BYTES + 1];
	int			 claimed;	/* pending, not yet ended */
	int64_t			 lease;		/* in milliseconds */
	struct store_undo	*undo;
	size_t			 nundo;
};

struct flux_store {
	const struct flux_conf	*conf;		/* how to connect again */
	redisContext		*ctx;
	int			 lost;		/* master demoted: connect again */
	int			 noscript;	/* the last reply: NOSCRIPT */
	struct store_claim	 claim;
	struct flux_stats	*stats;		/* the request's counts, or NULL */
	int			 owed;		/* replies of commands sent unread */
};


/*
 * A list of strings being built for one command (the keys or the
 * arguments of a script): each string owned by it, freed by
 * store_args_free(). An adder that runs out of memory (or is given NULL,
 * a failed allocation) returns -1 and marks the list failed, and sending
 * a failed list fails with "out of memory" instead: so a builder may
 * leave the adders' results unchecked and see its error once, when the
 * command is sent.
 */
struct store_args {
	char	**v;
	size_t	 *len;
	size_t	  n;
	size_t	  cap;
	int	  failed;
};

int	store_args_reserve(struct store_args *a, size_t more);
int	store_args_add(struct store_args *a, char *owned);
int	store_args_copy(struct store_args *a, const char *s);
int	store_args_i64(struct store_args *a, long long v);
int	store_args_join(struct store_args *a, const char *prefix,
	    const char *s);
void	store_args_free(struct store_args *a);

/*
 * A Lua script to run: its text, its KEYS and its ARGV, and its SHA1 (the
 * NAME_lua_sha of an embedded script), or NULL to send the text each time
 * with EVAL.
 */
struct store_script {
	const char		*text;
	struct store_args	 keys;
	struct store_args	 args;
	const char		*sha;
};

void	store_script_free(struct store_script *sc);
int	store_stats_args(struct flux_store *s, struct store_args *keys,
	    struct store_args *args);
void	store_stats_sent(struct flux_store *s, int ok);

int	store_command(struct flux_store *s, int want, redisReply **reply,
	    const char *what, char err[], const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
int	store_command_args(struct flux_store *s, const struct store_args *a,
	    int want, redisReply **reply, const char *what, char err[]);
int	store_script_run(struct flux_store *s, const struct store_script *sc,
	    int want, redisReply **reply, const char *what, char err[]);
int	store_script_send(struct flux_store *s, const struct store_script *sc,
	    char err[]);
void	store_reply_error(const struct flux_store *s, const redisReply *r,
	    const char *what, char err[]);

size_t	store_put_i64(char *out, long long v);
char	*store_last_record(const struct flux_point *pt);
void	store_claim_clear(struct flux_store *s);

#endif
