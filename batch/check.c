/*
 * check.c - "flux-batch check": what an operator wants to know before
 * reloading Apache or leaving cron to it. One line per finding on stdout,
 * "ok: ", "note: " or "error: " first; the job fails when any line is an
 * error. Directories are tried with access(2), so the answer is for the
 * user running the check: run it as the web server's user.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "carbon.h"
#include "retention.h"
#include "spool.h"
#include "store.h"
#include "upload.h"
#include "util.h"

struct check {
	const struct flux_conf	*conf;
	int			 errors;
};

static void say(struct check *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct check *k, const char *level, const char *fmt, ...)
{
	va_list	ap;

	if (strcmp(level, "error") == 0)
		k->errors++;
	printf("%s: ", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* "www-data:www-data 0750" for a stat, names when the system has them. */
static void
owner(const struct stat *st, char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(st->st_uid);
	struct group	*gr = getgrgid(st->st_gid);
	char		 u[32], g[32];

	if (pw != NULL)
		snprintf(u, sizeof(u), "%.31s", pw->pw_name);
	else
		snprintf(u, sizeof(u), "%u", (unsigned)st->st_uid);
	if (gr != NULL)
		snprintf(g, sizeof(g), "%.31s", gr->gr_name);
	else
		snprintf(g, sizeof(g), "%u", (unsigned)st->st_gid);
	snprintf(buf, len, "%s:%s %04o", u, g, (unsigned)(st->st_mode & 07777));
}

/* A directory Flux writes (what names the setting it comes from). */
static void
check_dir(struct check *k, const char *what, const char *path)
{
	struct stat	st;
	char		own[96];

	if (stat(path, &st) == -1) {
		say(k, "error", "%s '%s': %s", what, path, strerror(errno));
		return;
	}
	owner(&st, own, sizeof(own));
	if (!S_ISDIR(st.st_mode))
		say(k, "error", "%s '%s': not a directory", what, path);
	else if (access(path, W_OK | X_OK) == -1)
		say(k, "error", "%s '%s' (%s): not writable by uid %u: %s", what, path,
		    own, (unsigned)geteuid(), strerror(errno));
	else if (st.st_mode & S_IWOTH)
		say(k, "error", "%s '%s' (%s): writable by every user", what, path,
		    own);
	else
		say(k, "ok", "%s '%s' (%s)", what, path, own);
}

/* The file itself: loaded already; it holds keys, so not for everyone. */
static void
check_file(struct check *k)
{
	const struct flux_conf	*c = k->conf;
	struct stat		 st;
	char			 own[96];
	int			 keys;

	keys = (c->self_api_key != NULL && *c->self_api_key != '\0') +
	    (c->api_keys.n > 0) + (c->uploads_keys.n > 0);
	if (stat(c->path, &st) == 0) {
		owner(&st, own, sizeof(own));
		if (keys > 0 && (st.st_mode & S_IROTH))
			say(k, "error", "configuration '%s' (%s): holds keys and is "
			    "readable by every user (chmod o-r)", c->path, own);
		else
			say(k, "ok", "configuration '%s' (%s)", c->path, own);
	}
	if (keys == 0)
		say(k, "error", "no key is set (FLUX_SELF_API_KEY, FLUX_API_KEYS, "
		    "FLUX_UPLOADS_KEYS): every request is refused and flux-batch "
		    "does nothing");
	else
		say(k, "ok", "keys: FLUX_SELF_API_KEY %s, %zu in FLUX_API_KEYS, %zu "
		    "in FLUX_UPLOADS_KEYS", (c->self_api_key != NULL &&
		    *c->self_api_key != '\0') ? "set" : "unset", c->api_keys.n,
		    c->uploads_keys.n);
}

static void
check_spool(struct check *k)
{
	char	hold[FLUX_PATH_MAX];

	check_dir(k, "spool (FLUX_SPOOL_PATH)", k->conf->spool_path);
	if (flux_spool_held(k->conf, hold, sizeof(hold)))
		say(k, "note", "delivery is held while '%s' exists", hold);
}

/* Every setting uploads need, in the order an upload meets them. */
static void
check_uploads(struct check *k)
{
	const struct flux_conf	*c = k->conf;
	size_t			 i;
	int			 processed = c->process_uploads && c->batch_processing;

	if (!c->accept_uploads && !processed) {
		say(k, "ok", "uploads: off (WEBAPP_ACCEPT_DATA_UPLOADS, "
		    "FLUX_PROCESS_UPLOADS and BATCH_PROCESSING)");
		return;
	}
	if (!processed)
		say(k, "error", "uploads are accepted (WEBAPP_ACCEPT_DATA_UPLOADS) "
		    "but never processed: %s is false", !c->process_uploads ?
		    "FLUX_PROCESS_UPLOADS" : "BATCH_PROCESSING");
	else if (!c->accept_uploads)
		say(k, "note", "WEBAPP_ACCEPT_DATA_UPLOADS is false: only uploads "
		    "dropped into DATA_UPLOADS_PATH by hand are processed");
	check_dir(k, "uploads (DATA_UPLOADS_PATH)", c->uploads_path);
	if (processed && c->save_uploads)
		check_dir(k, "saved uploads (FLUX_SAVE_UPLOADS_PATH)",
		    c->save_uploads_path);
	if (c->uploads_keys.n == 0)
		say(k, "error", "FLUX_UPLOADS_KEYS is empty: every upload is refused");
	for (i = 0; processed && i < c->uploads_keys.n; i++)
		if (!flux_upload_ns_allowed(c, c->uploads_keys.v[i].left))
			say(k, "error", "uploads to '%s' are never processed: not under "
			    "BATCH_PROCESSING_NAMESPACES", c->uploads_keys.v[i].left);
}

static void
check_redis(struct check *k)
{
	const struct flux_conf	*c = k->conf;
	struct flux_store	*s;
	char			 err[FLUX_ERRLEN], *v = NULL;
	const char		*where = (c->redis_socket_path != NULL &&
	    *c->redis_socket_path != '\0') ? c->redis_socket_path : c->redis_host;

	/* A read: the check changes nothing in Redis. */
	if ((s = flux_store_open(c, err)) == NULL ||
	    ((v = flux_store_get(s, "flux.listen", err)) == NULL && err[0] != '\0'))
		say(k, "error", "%s", err);
	else if (c->redis_sentinels.n > 0)
		say(k, "ok", "redis master '%s' answers (found through the sentinels)",
		    c->redis_sentinel_master);
	else
		say(k, "ok", "redis '%s' answers", where);
	free(v);
	flux_store_close(s);
}

static void
check_carbon(struct check *k)
{
	const struct flux_conf	*c = k->conf;
	char			 err[FLUX_ERRLEN];
	int			 pickle = c->carbon_protocol == FLUX_PROTO_PICKLE;

	if (!c->send_to_carbon) {
		say(k, "note", "FLUX_SEND_TO_CARBON is false: points are checked and "
		    "de-duplicated, never sent");
		return;
	}
	if (flux_carbon_probe(c, err) == -1)
		say(k, "error", "%s", err);
	else
		say(k, "ok", "carbon '%s:%lld' (%s) accepts connections",
		    c->carbon_host, (long long)(pickle ? c->carbon_pickle_port :
		    c->carbon_port), pickle ? "pickle" : "plaintext");
}

/* What flux-batch can know of carbon's retention, and the local Graphite. */
static void
check_history(struct check *k)
{
	const struct flux_conf	*c = k->conf;
	struct flux_retention	*r;
	char			 err[FLUX_ERRLEN];

	if ((r = flux_retention_load(c->carbon_storage_schemas, err)) != NULL)
		say(k, "ok", "carbon's retention: '%s' (%zu sections)",
		    flux_retention_path(r), flux_retention_count(r));
	else if (err[0] != '\0')
		say(k, "error", "FLUX_CARBON_STORAGE_SCHEMAS: %s", err);
	else
		say(k, "note", "carbon's retention is unknown (FLUX_CARBON_STORAGE_"
		    "SCHEMAS %s%s%s): uploads older than it are not flagged",
		    *c->carbon_storage_schemas ? "'" : "is empty",
		    c->carbon_storage_schemas, *c->carbon_storage_schemas ?
		    "' does not exist" : "");
	flux_retention_free(r);
	if (*c->graphite_host == '\0')
		say(k, "note", "GRAPHITE_HOST is not set: populate_metric takes "
		    "every point fetched for a metric without flux.last");
	else
		say(k, "ok", "local graphite: %s://%s:%lld/%s (not contacted)",
		    c->graphite_protocol, c->graphite_host,
		    (long long)c->graphite_port, c->graphite_render_uri);
}

/* The check job; -1 when a line said "error". */
int
job_check(const struct flux_conf *c, int dryrun)
{
	struct check	k = { c, 0 };

	(void)dryrun;
	check_file(&k);
	check_spool(&k);
	check_uploads(&k);
	check_redis(&k);
	check_carbon(&k);
	check_history(&k);
	if (geteuid() == 0)
		say(&k, "note", "run as root: directories were checked for root; "
		    "run as the web server's user to check its access");
	printf("%d problem%s found\n", k.errors, k.errors == 1 ? "" : "s");
	fflush(stdout);
	return k.errors ? -1 : 0;
}
