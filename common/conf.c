/*
 * conf.c - the strict flux.conf reader of conf.h. Every setting is a row of
 * one table (name, type, where it lives, bounds); defaults are applied
 * first, then each line of the file overrides one setting exactly once.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "log.h"
#include "metric.h"
#include "util.h"

/* Skyline's shipped placeholder key: a working key there, refused here. */
#define PLACEHOLDER_KEY "YOURown32charSkylineAPIkeySecret"

/* A configuration line longer than this is refused rather than split. */
#define CONF_LINE_MAX 65536
/*
 * Why a line was refused, without the file and line: a name, at most 256
 * bytes of value and what was expected fit with room to spare.
 */
#define WHY_LEN 1024

enum conf_type {
	T_STR,		/* any text, may be empty */
	T_INT,		/* integer within [min, max] */
	T_BOOL,		/* true or false */
	T_LIST,		/* comma-separated items */
	T_MAP_FIRST,	/* left:right entries, split at the first ':' */
	T_MAP_LAST,	/* left:right entries, split at the last ':' */
	T_PROTO,	/* pickle or plaintext */
	T_LEVEL		/* error, warn, info or debug */
};

struct setting {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	const char	*def;
	int64_t		 min, max;
};

#define S(n, t, f, d, lo, hi) { n, t, offsetof(struct flux_conf, f), d, lo, hi }
static const struct setting settings[] = {
	S("FLUX_SELF_API_KEY", T_STR, self_api_key, NULL, 0, 0),
	S("FLUX_API_KEYS", T_MAP_FIRST, api_keys, "", 0, 0),
	S("FLUX_MAX_AGE", T_INT, max_age, "3600", 1, INT32_MAX),
	S("FLUX_MAX_FUTURE", T_INT, max_future, "60", 0, INT32_MAX),
	S("FLUX_CHECK_LAST_TIMESTAMP", T_BOOL, check_last_timestamp, "true", 0, 0),
	S("FLUX_MAX_METRICS_PER_POST", T_INT, max_metrics_per_post, "10000", 1, 10000000),
	S("FLUX_MAX_BODY_BYTES", T_INT, max_body_bytes, "1048576", 1, INT32_MAX),
	S("FLUX_MAX_INFLATED_BYTES", T_INT, max_inflated_bytes, "16777216", 1, INT32_MAX),
	S("FLUX_SEND_TO_CARBON", T_BOOL, send_to_carbon, "true", 0, 0),
	S("FLUX_CARBON_HOST", T_STR, carbon_host, "127.0.0.1", 0, 0),
	S("FLUX_CARBON_PORT", T_INT, carbon_port, "2003", 1, 65535),
	S("FLUX_CARBON_PICKLE_PORT", T_INT, carbon_pickle_port, "2004", 1, 65535),
	S("FLUX_CARBON_PROTOCOL", T_PROTO, carbon_protocol, "pickle", 0, 0),
	S("FLUX_CARBON_TIMEOUT_MS", T_INT, carbon_timeout_ms, "2000", 1, 600000),
	/* Not Skyline's: a resident responder's kept connection (flux.conf(5)). */
	S("FLUX_CARBON_KEEP_CONNECTION", T_BOOL, carbon_keep, "false", 0, 0),
	/* Not Skyline's: where flux-batch reads how far back carbon keeps points. */
	S("FLUX_CARBON_STORAGE_SCHEMAS", T_STR, carbon_storage_schemas,
	    "/etc/carbon/storage-schemas.conf", 0, 0),
	S("FLUX_SPOOL_PATH", T_STR, spool_path, "/var/spool/flux", 0, 0),
	S("REDIS_SOCKET_PATH", T_STR, redis_socket_path, NULL, 0, 0),
	S("REDIS_HOST", T_STR, redis_host, "127.0.0.1", 0, 0),
	S("REDIS_PORT", T_INT, redis_port, "6379", 1, 65535),
	S("REDIS_PASSWORD", T_STR, redis_password, NULL, 0, 0),
	S("REDIS_TIMEOUT_MS", T_INT, redis_timeout_ms, "1000", 1, 600000),
	/*
	 * Redis behind Sentinel (INSTALL, Scaling out): the sentinels to ask
	 * for the master of REDIS_SENTINEL_MASTER, and how long a connection
	 * may keep asking while a fail-over is under way.
	 */
	S("REDIS_SENTINELS", T_LIST, redis_sentinels, "", 0, 0),
	S("REDIS_SENTINEL_MASTER", T_STR, redis_sentinel_master, "mymaster", 0, 0),
	S("REDIS_SENTINEL_PASSWORD", T_STR, redis_sentinel_password, NULL, 0, 0),
	S("REDIS_SENTINEL_WAIT_MS", T_INT, redis_sentinel_wait_ms, "5000", 0, 600000),
	/* Empty: no local Graphite, so populate never asks our own Apache. */
	S("GRAPHITE_HOST", T_STR, graphite_host, "", 0, 0),
	S("GRAPHITE_PROTOCOL", T_STR, graphite_protocol, "http", 0, 0),
	S("GRAPHITE_PORT", T_INT, graphite_port, "80", 1, 65535),
	S("GRAPHITE_RENDER_URI", T_STR, graphite_render_uri, "render", 0, 0),
	S("VISTA_DO_NOT_SUBMIT_CURRENT_MINUTE", T_BOOL, vista_no_current_minute, "true", 0, 0),
	S("FLUX_PROCESS_UPLOADS", T_BOOL, process_uploads, "false", 0, 0),
	S("WEBAPP_ACCEPT_DATA_UPLOADS", T_BOOL, accept_uploads, "false", 0, 0),
	S("DATA_UPLOADS_PATH", T_STR, uploads_path, "/var/lib/flux/data_uploads", 0, 0),
	S("FLUX_UPLOADS_KEYS", T_MAP_LAST, uploads_keys, "", 0, 0),
	S("BATCH_PROCESSING", T_BOOL, batch_processing, "false", 0, 0),
	S("BATCH_PROCESSING_NAMESPACES", T_LIST, batch_namespaces, "", 0, 0),
	S("FLUX_SAVE_UPLOADS", T_BOOL, save_uploads, "false", 0, 0),
	S("FLUX_SAVE_UPLOADS_PATH", T_STR, save_uploads_path, "/var/lib/flux/processed_uploads", 0, 0),
	/* Not Skyline's: bounds on what one upload may cost in disk. */
	S("FLUX_MAX_UPLOAD_BYTES", T_INT, max_upload_bytes, "1073741824", 1, INT64_MAX / 4),
	S("FLUX_MAX_EXTRACTED_BYTES", T_INT, max_extracted_bytes, "4294967296", 1, INT64_MAX / 4),
	/*
	 * A request body must arrive at FLUX_BODY_MIN_RATE bytes a second or
	 * more, over each FLUX_BODY_RATE_WINDOW seconds (mod_reqtimeout's
	 * default floor, 500 bytes/s, over its 20 s): a client that trickles
	 * holds a CGI no longer than that.
	 */
	S("FLUX_BODY_MIN_RATE", T_INT, body_min_rate, "500", 0, INT32_MAX),
	S("FLUX_BODY_RATE_WINDOW", T_INT, body_rate_window, "20", 1, 3600),
	/*
	 * What one flux-batch run gives each of its jobs, in seconds, so that
	 * a hanging remote cannot keep the spool replay or the uploads from
	 * their turn (cron starts a run a minute; a run in progress makes the
	 * next ones skip).
	 */
	S("FLUX_BATCH_FLUSH_SECONDS", T_INT, flush_seconds, "60", 1, 86400),
	S("FLUX_BATCH_POPULATE_SECONDS", T_INT, populate_seconds, "120", 1, 86400),
	S("FLUX_BATCH_UPLOADS_SECONDS", T_INT, uploads_seconds, "600", 1, 86400),
	S("FLUX_POPULATE_PARALLEL", T_INT, populate_parallel, "4", 1, 32),
	S("FLUX_POPULATE_MAX_JOBS_PER_KEY", T_INT, populate_max_per_key, "1000", 1, 1000000),
	/*
	 * A populate job or an upload that a flux-batch run takes is leased
	 * for this long, and renewed while it runs: another node takes it
	 * over only once a lease has run out (its run must have died).
	 */
	S("FLUX_BATCH_LEASE_SECONDS", T_INT, batch_lease_seconds, "60", 2, 86400),
	/* Remote hosts populate_metric may fetch from; empty: any (see INSTALL). */
	S("FLUX_POPULATE_ALLOWED_HOSTS", T_LIST, populate_hosts, "", 0, 0),
	S("FLUX_LOG_LEVEL", T_LEVEL, log_level, "info", 0, 0),
	/*
	 * Not Skyline's: where flux-batch logs besides its standard error,
	 * which cron mails and a host without a mail server loses.
	 */
	S("FLUX_BATCH_LOG", T_STR, batch_log, "syslog", 0, 0),
	/* Not Skyline's: Flux's own metrics, sent by flux-batch (flux(7)). */
	S("FLUX_SELF_METRICS", T_BOOL, self_metrics, "true", 0, 0),
	S("FLUX_SELF_METRICS_NAMESPACE", T_STR, self_metrics_ns, "", 0, 0),
};
#undef S
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

#define FIELD(c, s, type) ((type *)(void *)((char *)(c) + (s)->off))

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static void
map_free(struct flux_map *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].left);
		free(m->v[i].right);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/*
 * Split "a, b ,c" into trimmed items; empty text gives an empty list. An
 * empty item ("a,,b", "a,", ",a") is refused, not skipped: it is more
 * likely a name lost in an edit than one meant to be left out.
 */
static int
parse_list(char *val, struct flux_list *out)
{
	char	*item, *next = val;

	if (*trim(val) == '\0')
		return 0;
	while ((item = strsep(&next, ",")) != NULL) {
		item = trim(item);
		if (*item == '\0' || flux_list_add(out, item) == -1)
			return -1;
	}
	return 0;
}

static int
parse_map(char *val, int last, struct flux_map *out)
{
	struct flux_list	 items = { 0 };
	struct flux_pair	*v;
	char			*colon;
	size_t			 i;
	int			 rc = -1;

	if (parse_list(val, &items) == -1)
		goto done;
	if ((v = calloc(items.n ? items.n : 1, sizeof(*v))) == NULL)
		goto done;
	out->v = v;
	for (i = 0; i < items.n; i++, out->n++) {
		colon = last ? strrchr(items.v[i], ':') : strchr(items.v[i], ':');
		if (colon == NULL)
			goto done;
		*colon = '\0';
		v[i].left = strdup(trim(items.v[i]));
		v[i].right = strdup(trim(colon + 1));
		if (v[i].left == NULL || v[i].right == NULL || *v[i].left == '\0') {
			out->n++;
			goto done;
		}
	}
	rc = 0;
done:
	flux_list_free(&items);
	return rc;
}

/* Store one value into its field; the old value (a default) is replaced. */
static int
set_value(struct flux_conf *c, const struct setting *s, const char *text)
{
	char		*copy;
	int		 rc = -1;
	enum flux_level	 lv;

	if ((copy = strdup(text)) == NULL)
		return -1;
	switch (s->type) {
	case T_STR:
		free(*FIELD(c, s, char *));
		*FIELD(c, s, char *) = copy;
		return 0;
	case T_INT:
		rc = flux_parse_i64(copy, s->min, s->max, FIELD(c, s, int64_t));
		break;
	case T_BOOL:
		rc = 0;
		if (strcmp(copy, "true") == 0)
			*FIELD(c, s, int) = 1;
		else if (strcmp(copy, "false") == 0)
			*FIELD(c, s, int) = 0;
		else
			rc = -1;
		break;
	case T_LIST:
		flux_list_free(FIELD(c, s, struct flux_list));
		rc = parse_list(copy, FIELD(c, s, struct flux_list));
		break;
	case T_MAP_FIRST:
	case T_MAP_LAST:
		map_free(FIELD(c, s, struct flux_map));
		rc = parse_map(copy, s->type == T_MAP_LAST,
		    FIELD(c, s, struct flux_map));
		break;
	case T_PROTO:
		rc = 0;
		if (strcmp(copy, "pickle") == 0)
			*FIELD(c, s, enum flux_proto) = FLUX_PROTO_PICKLE;
		else if (strcmp(copy, "plaintext") == 0)
			*FIELD(c, s, enum flux_proto) = FLUX_PROTO_PLAINTEXT;
		else
			rc = -1;
		break;
	case T_LEVEL:
		if ((rc = flux_log_parse_level(copy, &lv)) == 0)
			*FIELD(c, s, int) = (int)lv;
		break;
	}
	free(copy);
	return rc;
}

static int
valid_key(const char *k)
{
	size_t	i;

	for (i = 0; k[i] != '\0'; i++)
		if (!isascii((unsigned char)k[i]) || !isalnum((unsigned char)k[i]))
			return 0;
	return i == FLUX_KEY_LEN;
}

/* Checks that involve a whole value, done once the line is stored. */
static const char *
check_setting(const struct flux_conf *c, const struct setting *s)
{
	size_t	i;

	if (s->off == offsetof(struct flux_conf, self_metrics_ns) &&
	    *c->self_metrics_ns != '\0' &&
	    flux_metric_invalid(c->self_metrics_ns) != NULL)
		return "a namespace must be a valid metric name";
	if (s->off == offsetof(struct flux_conf, batch_log) &&
	    strcmp(c->batch_log, "syslog") != 0 &&
	    strcmp(c->batch_log, "none") != 0 && c->batch_log[0] != '/')
		return "expected syslog, none or an absolute path";
	if (s->off == offsetof(struct flux_conf, self_api_key)) {
		if (strcmp(c->self_api_key, PLACEHOLDER_KEY) == 0)
			return "the Skyline placeholder key is not a key";
		if (!valid_key(c->self_api_key))
			return "a key is 32 ASCII letters and digits";
	}
	if (s->off == offsetof(struct flux_conf, api_keys))
		for (i = 0; i < c->api_keys.n; i++) {
			if (!valid_key(c->api_keys.v[i].left))
				return "a key is 32 ASCII letters and digits";
			if (*c->api_keys.v[i].right != '\0' &&
			    flux_metric_invalid(c->api_keys.v[i].right) != NULL)
				return "a namespace prefix must be a valid metric name";
		}
	if (s->off == offsetof(struct flux_conf, uploads_keys))
		for (i = 0; i < c->uploads_keys.n; i++)
			if (*c->uploads_keys.v[i].right == '\0')
				return "an upload key must not be empty";
	if (s->off == offsetof(struct flux_conf, redis_sentinels))
		for (i = 0; i < c->redis_sentinels.n; i++)
			if (flux_conf_hostport(c->redis_sentinels.v[i], NULL, 0,
			    NULL) == -1)
				return "a sentinel is host:port";
	if (s->off == offsetof(struct flux_conf, redis_sentinel_master) &&
	    *c->redis_sentinel_master == '\0')
		return "the master's name must not be empty";
	return NULL;
}

/*
 * Split "host:port" (an IPv6 address in brackets, "[::1]:26379") into host
 * (len bytes; NULL: only check) and port. -1 when it is not of that form.
 */
int
flux_conf_hostport(const char *item, char *host, size_t len, int *port)
{
	const char	*colon = strrchr(item, ':'), *h = item;
	size_t		 hlen;
	int64_t		 p;

	if (colon == NULL || flux_parse_i64(colon + 1, 1, 65535, &p) == -1 ||
	    !flux_digits_only(colon + 1))
		return -1;
	hlen = (size_t)(colon - item);
	if (hlen >= 2 && item[0] == '[' && item[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	} else if (memchr(item, ':', hlen) != NULL)
		return -1;	/* an IPv6 address needs its brackets */
	if (hlen == 0 || memchr(h, '[', hlen) != NULL || memchr(h, ']', hlen) != NULL)
		return -1;
	if (host != NULL) {
		if (hlen >= len)
			return -1;
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	if (port != NULL)
		*port = (int)p;
	return 0;
}

static const struct setting *
find_setting(const char *name)
{
	size_t	i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

/* Settings whose values are keys or passwords: never echoed in errors. */
static int
secret(const struct setting *s)
{
	return s->off == offsetof(struct flux_conf, self_api_key) ||
	    s->off == offsetof(struct flux_conf, api_keys) ||
	    s->off == offsetof(struct flux_conf, uploads_keys) ||
	    s->off == offsetof(struct flux_conf, redis_password);
}

/* What a value of each type must look like, for "bad value" messages. */
static const char *const type_expects[] = {
	[T_STR] = "any text",
	[T_INT] = "an integer",		/* with its bounds: see expected() */
	[T_BOOL] = "true or false",
	[T_LIST] = "a comma-separated list without empty items",
	[T_MAP_FIRST] = "comma-separated name:value entries, each name not empty",
	[T_MAP_LAST] = "comma-separated name:value entries, each name not empty",
	[T_PROTO] = "pickle or plaintext",
	[T_LEVEL] = "error, warn, info or debug",
};

static void
expected(const struct setting *s, char *buf, size_t len)
{
	if (s->type == T_INT)
		snprintf(buf, len, "%s from %lld to %lld", type_expects[T_INT],
		    (long long)s->min, (long long)s->max);
	else
		snprintf(buf, len, "%s", type_expects[s->type]);
}

/*
 * The reason a value was refused, naming the setting and, unless it holds
 * keys, the value as written: "bad value '70000' for 'FLUX_CARBON_PORT':
 * expected an integer from 1 to 65535".
 */
static void
bad_value(const struct setting *s, const char *val, char why[WHY_LEN])
{
	char	want[128];

	expected(s, want, sizeof(want));
	if (secret(s))
		snprintf(why, WHY_LEN, "bad value for '%s' (not shown: it holds "
		    "keys): expected %s", s->name, want);
	else
		snprintf(why, WHY_LEN, "bad value '%.256s%s' for '%s': expected %s",
		    val, strlen(val) > 256 ? "..." : "", s->name, want);
}

/* One "NAME = value" line into c; -1 with why (the name included). */
static int
parse_line(struct flux_conf *c, char *line, unsigned char *seen,
    char why[WHY_LEN])
{
	const struct setting	*s;
	const char		*bad;
	char			*eq, *name, *val;

	if ((eq = strchr(line, '=')) == NULL) {
		/* Only the first word: the rest may be a key. */
		snprintf(why, WHY_LEN, "expected NAME = value: '%.*s'",
		    (int)strcspn(line, " \t"), line);
		return -1;
	}
	*eq = '\0';
	name = trim(line);
	val = trim(eq + 1);
	if ((s = find_setting(name)) == NULL) {
		snprintf(why, WHY_LEN, "unknown setting: '%.256s' (see flux.conf(5))",
		    name);
		return -1;
	}
	if (seen[s - settings]++) {
		snprintf(why, WHY_LEN, "setting given twice: '%s'", s->name);
		return -1;
	}
	if (set_value(c, s, val) == -1) {
		bad_value(s, val, why);
		return -1;
	}
	if ((bad = check_setting(c, s)) != NULL) {
		snprintf(why, WHY_LEN, "%s: '%s'", bad, s->name);
		return -1;
	}
	return 0;
}

static int
apply_defaults(struct flux_conf *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NSETTINGS; i++)
		if (settings[i].def != NULL &&
		    set_value(c, &settings[i], settings[i].def) == -1)
			return -1;
	return 0;
}

static int
read_lines(FILE *f, const char *path, struct flux_conf *c, char err[])
{
	unsigned char	 seen[NSETTINGS] = { 0 };
	char		*line = NULL, *p, why[WHY_LEN];
	size_t		 cap = 0;
	ssize_t		 n;
	unsigned	 lineno = 0;
	int		 rc = -1;

	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > CONF_LINE_MAX) {
			flux_errf(err, "%s:%u: line too long", path, lineno);
			goto done;
		}
		/* The line is read as a C string: a NUL would cut it short. */
		if (memchr(line, '\0', (size_t)n) != NULL) {
			flux_errf(err, "%s:%u: NUL byte in line", path, lineno);
			goto done;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (parse_line(c, p, seen, why) == -1) {
			/* A path too long to show whole still leaves the reason. */
			if (snprintf(err, FLUX_ERRLEN, "%s:%u: %s", path, lineno, why) >=
			    FLUX_ERRLEN)
				flux_errf(err, "line %u: %s", lineno, why);
			goto done;
		}
	}
	if (ferror(f)) {
		flux_errf(err, "cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free(line);
	return rc;
}

/*
 * Load path into conf. On failure conf is freed and err says why, naming
 * the file and line. The caller frees conf with flux_conf_free().
 */
int
flux_conf_load(const char *path, struct flux_conf *conf, char err[])
{
	struct stat	 st;
	FILE		*f;
	int		 rc;

	if (apply_defaults(conf) == -1) {
		flux_errf(err, "out of memory");
		flux_conf_free(conf);
		return -1;
	}
	if ((f = fopen(path, "re")) == NULL) {
		flux_errf(err, "cannot open '%s': %s", path, strerror(errno));
		flux_conf_free(conf);
		return -1;
	}
	if (fstat(fileno(f), &st) == -1 || (st.st_mode & S_IWOTH)) {
		flux_errf(err, "refusing '%s': the file is world-writable",
		    path);
		fclose(f);
		flux_conf_free(conf);
		return -1;
	}
	rc = read_lines(f, path, conf, err);
	fclose(f);
	if (rc == 0 && (conf->path = strdup(path)) == NULL) {
		flux_errf(err, "out of memory");
		rc = -1;
	}
	if (rc == -1) {
		flux_conf_free(conf);
		return -1;
	}
	conf->dev = st.st_dev;
	conf->ino = st.st_ino;
	conf->mtime = st.st_mtim;
	conf->ctime = st.st_ctim;
	conf->size = st.st_size;
	return 0;
}

void
flux_conf_free(struct flux_conf *c)
{
	size_t	i;

	for (i = 0; i < NSETTINGS; i++)
		switch (settings[i].type) {
		case T_STR:
			free(*FIELD(c, &settings[i], char *));
			break;
		case T_LIST:
			flux_list_free(FIELD(c, &settings[i], struct flux_list));
			break;
		case T_MAP_FIRST:
		case T_MAP_LAST:
			map_free(FIELD(c, &settings[i], struct flux_map));
			break;
		default:
			break;
		}
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/*
 * The i-th setting of the table: its name and its default as written in
 * flux.conf (NULL when it has none). -1 past the last one. For the test
 * that keeps flux.conf(5) and flux.conf.example in step with the table.
 */
int
flux_conf_setting(size_t i, const char **name, const char **def)
{
	if (i >= NSETTINGS)
		return -1;
	*name = settings[i].name;
	*def = settings[i].def;
	return 0;
}

/* The file to load: $FLUX_CONF, else the default. */
const char *
flux_conf_path(void)
{
	const char	*p = getenv("FLUX_CONF");

	return (p != NULL && *p != '\0') ? p : FLUX_CONF_DEFAULT;
}

/* True when the file on disk is no longer the one loaded (for reloads). */
int
flux_conf_changed(const struct flux_conf *c)
{
	struct stat	st;

	if (stat(c->path, &st) == -1)
		return 1;
	return st.st_dev != c->dev || st.st_ino != c->ino || st.st_size != c->size ||
	    st.st_ctim.tv_sec != c->ctime.tv_sec ||
	    st.st_ctim.tv_nsec != c->ctime.tv_nsec ||
	    st.st_mtim.tv_sec != c->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != c->mtime.tv_nsec;
}
