/*
 * stats.c - the counts of stats.h: their names, the spec a Redis script
 * applies ("<source>.<name> n ..."), the hash of a host's minute, and the
 * reason class of a refused request.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

/* A host name as gethostname(2) gives it (HOST_NAME_MAX is 64). */
#define HOST_MAX 256

static const char *const stat_names[FLUX_STAT__MAX] = {
	[FLUX_STAT_REQUESTS] = "requests",
	[FLUX_STAT_ACCEPTED] = "accepted",
	[FLUX_STAT_DELIVERED] = "delivered",
	[FLUX_STAT_SPOOLED] = "spooled",
	[FLUX_STAT_DUPLICATES] = "duplicates",
	[FLUX_STAT_REFUSED_KEY] = "refused.key",
	[FLUX_STAT_REFUSED_METRIC] = "refused.metric",
	[FLUX_STAT_REFUSED_TIMESTAMP] = "refused.timestamp",
	[FLUX_STAT_REFUSED_VALUE] = "refused.value",
	[FLUX_STAT_REFUSED_BODY] = "refused.body",
	[FLUX_STAT_REFUSED_JSON] = "refused.json",
	[FLUX_STAT_REFUSED_QUOTA] = "refused.quota",
	[FLUX_STAT_UNAVAILABLE] = "unavailable",
	[FLUX_STAT_ERRORS] = "errors",
	[FLUX_STAT_FLUSH_FILES] = "flush.files",
	[FLUX_STAT_FLUSH_POINTS] = "flush.points",
	[FLUX_STAT_POPULATE_DONE] = "populate.done",
	[FLUX_STAT_POPULATE_FAILED] = "populate.failed",
	[FLUX_STAT_POPULATE_DROPPED] = "populate.dropped",
	[FLUX_STAT_POPULATE_POINTS] = "populate.points",
	[FLUX_STAT_UPLOADS_COMPLETE] = "uploads.complete",
	[FLUX_STAT_UPLOADS_PARTIAL] = "uploads.partial",
	[FLUX_STAT_UPLOADS_FAILED] = "uploads.failed",
	[FLUX_STAT_UPLOADS_ROWS] = "uploads.rows",
	[FLUX_STAT_UPLOADS_POINTS] = "uploads.points",
};

const char *
flux_stats_name(enum flux_stat k)
{
	return stat_names[k];
}

void
flux_stats_begin(struct flux_stats *st, const char *source)
{
	memset(st, 0, sizeof(*st));
	st->source = source;
}

void
flux_stats_add(struct flux_stats *st, enum flux_stat k, int64_t n)
{
	if (st != NULL) {
		st->n[k] += n;
		st->all[k] += n;
	}
}

/* Note n of k that a Redis script counted itself (de-dup: duplicates). */
void
flux_stats_counted(struct flux_stats *st, enum flux_stat k, int64_t n)
{
	if (st != NULL)
		st->all[k] += n;
}

/*
 * The outcome of a delivery to carbon, kept with the minute's counts so
 * that the health check can tell whether the last one failed.
 */
void
flux_stats_delivery(struct flux_stats *st, int ok, const char *why)
{
	if (st == NULL)
		return;
	snprintf(st->delivery, sizeof(st->delivery), "%lld %s%s%s",
	    (long long)time(NULL), ok ? "ok" : "failed", why ? " " : "",
	    why ? why : "");
}

/* True when the request has counted something not yet sent. */
int
flux_stats_pending(const struct flux_stats *st)
{
	size_t	i;

	if (st == NULL || st->source == NULL)
		return 0;
	for (i = 0; i < FLUX_STAT__MAX; i++)
		if (st->n[i] != 0)
			return 1;
	return st->delivery[0] != '\0';
}

/*
 * What is counted and not yet sent, as the spec a script applies
 * ("<source>.<name> n ...", appended to spec) and the delivery outcome
 * ("" none). -1 when out of memory. Once the script ran, the caller
 * forgets them with flux_stats_clear().
 */
int
flux_stats_spec(const struct flux_stats *st, struct flux_buf *spec,
    char delivery[FLUX_STATS_DELIVERY_MAX])
{
	size_t	i, len = spec->len;

	delivery[0] = '\0';
	if (flux_buf_adds(spec, "") == -1)
		return -1;
	if (!flux_stats_pending(st))
		return 0;
	for (i = 0; i < FLUX_STAT__MAX; i++)
		if (st->n[i] != 0 && flux_buf_printf(spec, "%s%s.%s %lld",
		    spec->len > 0 ? " " : "", st->source, stat_names[i],
		    (long long)st->n[i]) == -1) {
			spec->len = len;
			return -1;
		}
	memcpy(delivery, st->delivery, sizeof(st->delivery));
	return 0;
}

/* The counts are in Redis: nothing is pending any more. */
void
flux_stats_clear(struct flux_stats *st)
{
	if (st == NULL)
		return;
	memset(st->n, 0, sizeof(st->n));
	st->delivery[0] = '\0';
}

/*
 * This host's name as a part of a Redis key and of a metric name: letters,
 * digits, '-' and '_' kept, anything else (the dots of a full name) '_'.
 * Looked up once per process.
 */
const char *
flux_stats_host(void)
{
	static char	host[HOST_MAX];
	size_t		i;

	if (host[0] != '\0')
		return host;
	if (gethostname(host, sizeof(host) - 1) == -1 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	for (i = 0; host[i] != '\0'; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') ||
		    (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '-'))
			host[i] = '_';
	return host;
}

/*
 * The hash of this host's minute holding when (unix seconds, the machine's
 * clock: Flux's nodes keep NTP time, and FLUX_NOW, which pins a request's
 * notion of now in tests, does not apply). -1 if it does not fit.
 */
int
flux_stats_key(char out[FLUX_STATS_KEY_MAX], int64_t when)
{
	int	n;

	n = snprintf(out, FLUX_STATS_KEY_MAX, FLUX_STATS_PREFIX "%s.%lld",
	    flux_stats_host(), (long long)(when - when % 60));
	return (n < 0 || n >= FLUX_STATS_KEY_MAX) ? -1 : 0;
}

/*
 * The reason class of a refused request (SPEC 3: key, metric name,
 * timestamp, value; and the request's body, its JSON, a quota), from its
 * status and message; FLUX_STAT__MAX when it is no refusal (2xx, 404,
 * 5xx). Every message that is not about one of the classes is about the
 * request as a whole: its method, parameters, size, encoding or fields.
 */
enum flux_stat
flux_stats_refusal(int status, const char *message)
{
	static const struct {
		const char	*prefix;
		enum flux_stat	 stat;
	} classes[] = {
		{ "invalid key", FLUX_STAT_REFUSED_KEY },
		{ "no key", FLUX_STAT_REFUSED_KEY },
		{ "invalid metric", FLUX_STAT_REFUSED_METRIC },
		{ "no metric parameter", FLUX_STAT_REFUSED_METRIC },
		{ "invalid timestamp", FLUX_STAT_REFUSED_TIMESTAMP },
		{ "invalid value", FLUX_STAT_REFUSED_VALUE },
		{ "no value parameter", FLUX_STAT_REFUSED_VALUE },
		{ "invalid json data", FLUX_STAT_REFUSED_JSON },
		{ "no POST data received", FLUX_STAT_REFUSED_JSON },
		{ "no metric data passed", FLUX_STAT_REFUSED_JSON },
		{ "invalid metrics - not a list", FLUX_STAT_REFUSED_JSON },
	};
	size_t	i;

	if (status == 401)
		return FLUX_STAT_REFUSED_KEY;
	if (status == 429)
		return FLUX_STAT_REFUSED_QUOTA;
	if (status < 400 || status == 404 || status >= 500)
		return FLUX_STAT__MAX;
	for (i = 0; message != NULL && i < sizeof(classes) / sizeof(classes[0]);
	    i++)
		if (strncmp(message, classes[i].prefix,
		    strlen(classes[i].prefix)) == 0)
			return classes[i].stat;
	return FLUX_STAT_REFUSED_BODY;
}

/* "accepted 3, delivered 3" for a debug line: the non-zero counts. */
int
flux_stats_summary(const struct flux_stats *st, char *out, size_t len)
{
	size_t	i, o = 0;
	int	n;

	out[0] = '\0';
	for (i = 0; i < FLUX_STAT__MAX && o < len; i++) {
		if (st->all[i] == 0)
			continue;
		n = snprintf(out + o, len - o, "%s%s %lld", o ? ", " : "",
		    stat_names[i], (long long)st->all[i]);
		if (n < 0)
			return -1;
		o += (size_t)n;
	}
	return 0;
}
