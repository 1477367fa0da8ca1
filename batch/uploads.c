/*
 * uploads.c - "flux-batch uploads" (SPEC 8): take the upload directories
 * under DATA_UPLOADS_PATH, oldest first, check each (namespace, key,
 * info.json), unpack its archive, hand its report files (CSV, xlsx or
 * xls) to upfile.c, keep its status record up to date and move it away
 * when done: deleted or saved when complete, kept under .failed when
 * not, so it is not retried.
 *
 * Uploads from upload_data carry upload.json (with the key); uploads
 * dropped in by scp or rsync carry the key in info.json. Both appear by
 * rename(), so a directory we see is whole. A run that crashed leaves its
 * upload in place with status "processing"; the next run takes it again,
 * and flux.last keeps it from sending twice what was delivered.
 *
 * Each upload is leased in Redis (flux.upload.lease.<upload_id_key>, see
 * store.h) while a run processes it, and the lease is renewed as it goes,
 * so when DATA_UPLOADS_PATH is storage several nodes share, one node
 * processes each upload and the others leave it alone: a run that died
 * leaves its uploads to this node's next run at once (it holds the node's
 * lock), to another node's once the lease has run out. Without Redis no
 * upload is taken.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpack.h"
#include "batch.h"
#include "date.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "metric.h"
#include "status.h"
#include "uploads.h"
#include "util.h"
#include "xalloc.h"

/* An upload's lease: flux.upload.lease.<upload_id_key>. */
#define LEASE_PREFIX "flux.upload.lease."

/* CGI temporary directories older than this were left by a crash. */
#define STALE_TMP_SECONDS 86400
/* Names tried when a destination is taken: <id>, <id>-1, ... */
#define MOVE_TRIES 100

/* An upload directory found by the scan. */
struct pending {
	char		ns[256];
	char		id[FLUX_UPLOAD_ID_MAX + 1];
	struct timespec	mtime;
};

struct pending_list {
	struct pending	*v;
	size_t		 n;
};

/* The upload's "error" is its first failure (SPEC 8 step 5). */
static void
first_error(struct up_upload *u, const char *msg)
{
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u->status, "error")))
		flux_status_set(u->status, "error", msg);
}

static void
up_fail(struct up_upload *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record a failure of the upload: counted, and its "error" if the first. */
static void
up_fail(struct up_upload *u, const char *fmt, ...)
{
	char	msg[FLUX_MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	u->failures++;
	first_error(u, msg);
}

/* One report file (upfile.c), its failures recorded. */
static void
run_file(struct up_upload *u, const char *path, const char *name)
{
	char	why[FLUX_MSG_MAX];

	if (up_file(u, path, name, why) == -1)
		first_error(u, why);
}

/*
 * Renew the upload's lease when due; -1 once it is lost (batch.h): then
 * this run leaves the upload's status and files alone.
 */
int
up_keep(struct up_upload *u)
{
	char	what[FLUX_ERRLEN];

	snprintf(what, sizeof(what), "upload %s", u->id_key);
	return batch_lease_keep(u->job->store, u->lease, &u->lost, what);
}

/* ---------------------------------------------------------------- scan -- */

static int
cmp_pending(const void *a, const void *b)
{
	const struct pending	*x = a, *y = b;
	int			 c;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return (c = strcmp(x->ns, y->ns)) != 0 ? c : strcmp(x->id, y->id);
}

static void
add_pending(struct pending_list *l, const char *ns, const char *id,
    const struct stat *st)
{
	struct pending	*v;

	l->v = v = xreallocarray(l->v, l->n + 1, sizeof(*v));
	snprintf(v[l->n].ns, sizeof(v[l->n].ns), "%.*s", (int)sizeof(v->ns) - 1, ns);
	snprintf(v[l->n].id, sizeof(v[l->n].id), "%.*s", FLUX_UPLOAD_ID_MAX, id);
	v[l->n++].mtime = st->st_mtim;
}

/* The upload directories of one namespace directory. */
static void
scan_ns(const char *path, const char *ns, struct pending_list *l)
{
	char		 sub[FLUX_PATH_MAX];
	struct dirent	*e;
	struct stat	 st;
	DIR		*d;

	if ((d = opendir(path)) == NULL) {
		flux_warn("uploads: cannot open '%s': %s", path, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (flux_upload_id_ok(e->d_name) &&
		    flux_fs_join(sub, sizeof(sub), path, e->d_name) == 0 &&
		    lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			add_pending(l, ns, e->d_name, &st);
	closedir(d);
}

/* A temporary directory the CGI left behind when it was killed. */
static void
sweep_tmp(const char *path, const struct stat *st, const struct up_job *j)
{
	if (j->dryrun || st->st_mtim.tv_sec > j->now - STALE_TMP_SECONDS)
		return;
	if (flux_fs_remove_tree(path) == 0)
		flux_info("uploads: removed stale temporary directory '%s'", path);
}

/* Every upload directory, oldest first (upload ids need not sort by time). */
static int
scan(const struct up_job *j, struct pending_list *l)
{
	const char	*root = j->conf->uploads_path;
	char		 path[FLUX_PATH_MAX];
	struct dirent	*e;
	struct stat	 st;
	DIR		*d;

	if ((d = opendir(root)) == NULL) {
		flux_err("uploads: cannot open '%s': %s", root, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (flux_fs_join(path, sizeof(path), root, e->d_name) == -1 ||
		    lstat(path, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (strncmp(e->d_name, FLUX_UPLOAD_TMP_PREFIX,
		    strlen(FLUX_UPLOAD_TMP_PREFIX)) == 0)
			sweep_tmp(path, &st, j);
		else if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof(l->v->ns) &&
		    flux_metric_invalid(e->d_name) == NULL)
			scan_ns(path, e->d_name, l);
	}
	closedir(d);
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), cmp_pending);
	return 0;
}

/* --------------------------------------------------------------- checks -- */

/* A JSON file of the upload dir; NULL with err (and *absent when missing). */
static cJSON *
load_json(const struct up_upload *u, const char *name, int *absent, char err[])
{
	char		 path[FLUX_PATH_MAX], *text;
	const char	*why = "not JSON";
	struct stat	 st;
	size_t		 len;
	cJSON		*o;

	*absent = 0;
	if (flux_fs_join(path, sizeof(path), u->dir, name) == -1) {
		flux_errf(err, "%s: path too long", name);
		return NULL;
	}
	if (lstat(path, &st) == -1 && errno == ENOENT) {
		*absent = 1;
		flux_errf(err, "%s: missing", name);
		return NULL;
	}
	if ((text = flux_fs_read(path, FLUX_UPLOAD_JSON_MAX, &len, err)) == NULL) {
		flux_errf(err, "%s: cannot be read", name);
		return NULL;
	}
	o = flux_json_parse(text, len, &why);
	free(text);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		if (o == NULL && strncmp(why, "not JSON", 8) != 0)
			flux_errf(err, "%s is not valid JSON - %s", name, why);
		else
			flux_errf(err, "%s is not valid JSON", name);
		return NULL;
	}
	return o;
}

static const char *
json_str(const cJSON *o, const char *name)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/*
 * The key: upload.json's (written by upload_data), else info.json's (a
 * dropped-in upload). -1 after up_fail() when it is missing or wrong.
 */
static int
check_key(struct up_upload *u, const cJSON *meta, const cJSON *info,
    const char *info_err)
{
	const char	*key = meta ? json_str(meta, "key") : json_str(info, "key");

	if (key == NULL && meta == NULL && info == NULL)
		up_fail(u, "%s", info_err);
	else if (key == NULL)
		up_fail(u, "no key in %s", meta ? FLUX_UPLOAD_META : FLUX_UPLOAD_INFO);
	else if (!flux_upload_key_ok(u->job->conf, u->ns, key))
		up_fail(u, "invalid key");
	else
		return 0;
	return -1;
}

/* info.json: JSON, naming the directory's namespace, with valid settings. */
static int
check_info(struct up_upload *u, const cJSON *info, const char *info_err)
{
	const char	*ns = json_str(info, "parent_metric_namespace");
	char		 err[FLUX_ERRLEN];

	if (info == NULL)
		up_fail(u, "%s", info_err);
	else if (ns == NULL || strcmp(ns, u->ns) != 0)
		up_fail(u, "info.json parent_metric_namespace does not match the "
		    "upload's - %.512s", ns ? ns : "none");
	else if (flux_upload_info_parse(info, &u->info, err) == -1)
		up_fail(u, "info.json: %s", err);
	else
		return 0;
	return -1;
}

/* The one file with a data extension, for an upload that does not name it. */
static int
find_data(struct up_upload *u, char *out, size_t len)
{
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	struct stat	 st;

	if ((d = opendir(u->dir)) == NULL)
		return -1;
	/* Only regular files: a link or a FIFO with a data name is no data. */
	while ((e = readdir(d)) != NULL)
		if (flux_upload_name_ok(e->d_name) &&
		    flux_upload_name_is_data(e->d_name) &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && n++ == 0)
			snprintf(out, len, "%s", e->d_name);
	closedir(d);
	if (n != 1)
		up_fail(u, n ? "several data files: name one with data_filename in "
		    "info.json" : "no data file");
	return n == 1 ? 0 : -1;
}

/* The data file: named by upload.json or info.json, or the only one there. */
static int
check_data(struct up_upload *u, const cJSON *meta, char *name, size_t len)
{
	const char	*named = meta ? json_str(meta, "data_file") : NULL;
	char		 path[FLUX_PATH_MAX];
	struct stat	 st;

	if (named == NULL)
		named = u->info.data_filename;
	if (named == NULL)
		return find_data(u, name, len);
	snprintf(name, len, "%s", named);
	if (!flux_upload_name_ok(name) || !flux_upload_name_is_data(name))
		up_fail(u, "invalid data file name - %.255s", name);
	else if (flux_fs_join(path, sizeof(path), u->dir, name) == -1 ||
	    lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		up_fail(u, "%.255s: missing or not a regular file", name);
	else if (!flux_upload_name_fits(name, u->info.format, u->info.archive) &&
	    u->info.archive == FLUX_AR_NONE)
		up_fail(u, "%.255s: does not fit format %s and archive none", name,
		    flux_upload_format_name(u->info.format));
	else if (!flux_upload_name_fits(name, u->info.format, u->info.archive))
		up_fail(u, "%.255s: does not fit archive %s", name,
		    flux_upload_archive_name(u->info.archive));
	else
		return 0;
	return -1;
}

/* SPEC 8 step 1, in order: namespace, key, info.json; then the data file. */
static int
check(struct up_upload *u, char *data, size_t len)
{
	cJSON	*meta, *info;
	char	 merr[FLUX_ERRLEN], ierr[FLUX_ERRLEN];
	int	 no_meta, no_info, rc = -1;

	if (!flux_upload_ns_allowed(u->job->conf, u->ns)) {
		up_fail(u, "namespace %.512s is not in BATCH_PROCESSING_NAMESPACES",
		    u->ns);
		return -1;
	}
	meta = load_json(u, FLUX_UPLOAD_META, &no_meta, merr);
	info = load_json(u, FLUX_UPLOAD_INFO, &no_info, ierr);
	if (meta == NULL && !no_meta)
		up_fail(u, "%s", merr);
	else if (check_key(u, meta, info, ierr) == 0 &&
	    check_info(u, info, ierr) == 0)
		rc = check_data(u, meta, data, len);
	cJSON_Delete(meta);
	cJSON_Delete(info);
	return rc;
}

/* ----------------------------------------------------------------- data -- */

/* Unpack the archive into the private directory and process its reports. */
static void
run_archive(struct up_upload *u, const char *path, const char *name)
{
	struct flux_list	 csv = { 0 }, skipped = { 0 };
	char			 gz[FLUX_UPLOAD_NAME_MAX + 1], err[FLUX_ERRLEN];
	char			 file[FLUX_PATH_MAX], skip[64];
	size_t			 i;

	/* A .gz holds one stream; it becomes the file name without ".gz". */
	snprintf(gz, sizeof(gz), "%.*s", (int)(strlen(name) - 3), name);
	if (flux_fs_join(u->work, sizeof(u->work), u->dir, ".work") == -1 ||
	    flux_fs_remove_tree(u->work) == -1 || mkdir(u->work, 0700) == -1) {
		up_fail(u, "%s: cannot make a directory to unpack into", name);
		u->work[0] = '\0';
	} else if (flux_unpack_archive(path, u->info.archive, u->info.format, gz,
	    u->work, u->job->conf->max_extracted_bytes, &csv, &skipped,
	    err) == -1) {
		up_fail(u, "%s: %s", name, err);
		flux_status_set_in(u->status, "files", name, "failed");
	} else
		flux_status_set_in(u->status, "files", name, "unpacked");
	snprintf(skip, sizeof(skip), "skipped - not a%s %s file",
	    u->info.format == FLUX_FMT_CSV ? "" : "n",
	    flux_upload_format_name(u->info.format));
	for (i = 0; i < skipped.n; i++)
		flux_status_set_in(u->status, "files", skipped.v[i], skip);
	for (i = 0; i < csv.n && up_keep(u) == 0; i++)
		if (flux_fs_join(file, sizeof(file), u->work, csv.v[i]) == 0)
			run_file(u, file, csv.v[i]);
	flux_list_free(&csv);
	flux_list_free(&skipped);
}

static void
run_data(struct up_upload *u, const char *name)
{
	char	path[FLUX_PATH_MAX], err[FLUX_ERRLEN];

	if (flux_date_set_tz(u->info.timezone, err) == -1) {
		up_fail(u, "%s", err);
		return;
	}
	u->dry = u->job->dryrun || u->info.dryrun;
	if (flux_fs_join(path, sizeof(path), u->dir, name) == -1)
		up_fail(u, "%.255s: path too long", name);
	else if (u->info.archive == FLUX_AR_NONE)
		run_file(u, path, name);
	else
		run_archive(u, path, name);
}

/* ------------------------------------------------------------ the end -- */

/*
 * Rename the upload to <root>/<sub>/<ns>/<id> (sub: NULL or one element,
 * ".failed"), or <id>-N when that is taken. Every directory below root is
 * opened without following a symbolic link and the rename is relative to
 * the directories' descriptors, so a link planted as <ns> (by whoever can
 * write there) cannot send the upload elsewhere.
 */
static int
move_to(const struct up_upload *u, const char *root, const char *sub,
    char err[])
{
	char	dst[FLUX_UPLOAD_ID_MAX + 16];
	int	rfd = -1, sfd = -1, nfd = -1, from = -1, i, n, rc = -1;

	errno = 0;
	if ((rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 &&
	    (flux_fs_mkdirs(root, err) == -1 ||
	    (rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1))
		goto done;
	if ((sfd = sub ? flux_fs_open_dir(rfd, sub, 1) : dup(rfd)) == -1 ||
	    (nfd = flux_fs_open_dir(sfd, u->ns, 1)) == -1 ||
	    (from = flux_fs_open_dir(AT_FDCWD, u->nsdir, 0)) == -1)
		goto done;
	for (i = 0; i < MOVE_TRIES && rc == -1; i++) {
		n = i ? snprintf(dst, sizeof(dst), "%s-%d", u->id, i) :
		    snprintf(dst, sizeof(dst), "%s", u->id);
		if (n < 0 || (size_t)n >= sizeof(dst))
			break;
		if (renameat2(from, u->id, nfd, dst, RENAME_NOREPLACE) == 0)
			rc = 0;
		else if (errno != EEXIST)
			break;
	}
done:
	if (rc == -1)
		flux_errf(err, "cannot move the upload to '%s%s%s/%s': %s",
		    root, sub ? "/" : "", sub ? sub : "", u->ns, errno ?
		    strerror(errno) : "path too long");
	if (rfd != -1)
		close(rfd);
	if (sfd != -1)
		close(sfd);
	if (nfd != -1)
		close(nfd);
	if (from != -1)
		close(from);
	return rc;
}

/*
 * Done: a complete upload is deleted, or saved when FLUX_SAVE_UPLOADS; a
 * failed or partial one goes to DATA_UPLOADS_PATH/.failed. Either way it
 * leaves the directory scanned, so it is never taken twice.
 */
static int
move_away(struct up_upload *u, const char *status)
{
	const struct flux_conf	*c = u->job->conf;
	char			 err[FLUX_ERRLEN];

	if (u->work[0] != '\0')
		flux_fs_remove_tree(u->work);
	if (strcmp(status, "complete") == 0 && !c->save_uploads) {
		if (flux_fs_remove_tree(u->dir) == 0)
			return 0;
		flux_errf(err, "cannot remove '%s': %s", u->dir,
		    strerror(errno));
	} else if (strcmp(status, "complete") == 0) {
		if (move_to(u, c->save_uploads_path, NULL, err) == 0)
			return 0;
	} else if (move_to(u, c->uploads_path, FLUX_UPLOAD_FAILED_DIR, err) == 0)
		return 0;
	flux_err("upload %s: %s", u->id_key, err);
	return -1;
}

/* The final status: complete only when nothing failed (reference Q48). */
static const char *
verdict(const struct up_upload *u)
{
	if (u->failures == 0)
		return "complete";
	return u->successes > 0 ? "partial" : "failed";
}

static void
save(struct up_upload *u)
{
	char	err[FLUX_ERRLEN];

	if (!u->job->dryrun &&
	    flux_status_save(u->job->store, u->dir, u->status, err) == -1)
		flux_warn("upload %s: status not saved: %s", u->id_key, err);
}

static int
finish(struct up_upload *u)
{
	const char	*v = verdict(u);
	const cJSON	*e = cJSON_GetObjectItemCaseSensitive(u->status, "error");
	char		 when[32];

	flux_upload_iso_time(flux_now(), when);
	flux_status_set(u->status, "status", v);
	flux_status_set(u->status, "finished_at", when);
	cJSON_ReplaceItemInObjectCaseSensitive(u->status, "points_submitted",
	    cJSON_CreateNumber((double)u->submitted));
	if (u->dry)
		cJSON_AddTrueToObject(u->status, "dryrun");
	save(u);
	if (!u->job->dryrun) {
		flux_stats_add(&batch_stats, strcmp(v, "complete") == 0 ?
		    FLUX_STAT_UPLOADS_COMPLETE : strcmp(v, "partial") == 0 ?
		    FLUX_STAT_UPLOADS_PARTIAL : FLUX_STAT_UPLOADS_FAILED, 1);
		flux_stats_add(&batch_stats, FLUX_STAT_UPLOADS_POINTS, u->submitted);
	}
	if (strcmp(v, "complete") == 0)
		flux_info("upload %s: complete, %lld points %s", u->id_key,
		    (long long)u->submitted, u->dry ? "(dry run)" : "submitted");
	else
		flux_warn("upload %s: %s, %lld points submitted: %s", u->id_key, v,
		    (long long)u->submitted, cJSON_IsString(e) ? e->valuestring : "");
	if (!u->job->dryrun && move_away(u, v) == -1)
		return -1;
	return strcmp(v, "complete") == 0 ? 0 : -1;
}

/* An upload whose status is final but which could not be moved away. */
static int
already_done(const struct up_upload *u)
{
	char		 err[FLUX_ERRLEN];
	const char	*st;
	cJSON		*o;
	int		 absent, done;

	if ((o = load_json(u, FLUX_UPLOAD_STATUS, &absent, err)) == NULL)
		return 0;
	st = json_str(o, "status");
	done = st != NULL && (strcmp(st, "complete") == 0 ||
	    strcmp(st, "partial") == 0 || strcmp(st, "failed") == 0);
	cJSON_Delete(o);
	return done && !u->job->dryrun;
}

/* One upload, start to end, its lease held; 0 when it completed. */
static int
run_upload(struct up_upload *u)
{
	char	data[FLUX_UPLOAD_NAME_MAX + 1], when[32];
	int	rc = -1;

	if (already_done(u)) {
		flux_err("upload %s: already processed but still in place; move it "
		    "away by hand", u->id_key);
		return -1;
	}
	if ((u->status = flux_status_new(u->ns, u->id_key, NULL)) == NULL)
		return -1;
	flux_upload_iso_time(flux_now(), when);
	flux_status_set(u->status, "status", "processing");
	flux_status_set(u->status, "started_at", when);
	if (check(u, data, sizeof(data)) == 0) {
		flux_status_set_in(u->status, "files", data, "processing");
		save(u);
		run_data(u, data);
	}
	if (up_keep(u) == -1)
		rc = 0;		/* the upload is another run's now */
	else
		rc = finish(u);
	flux_upload_info_free(&u->info);
	cJSON_Delete(u->status);
	return rc;
}

/*
 * Lease the upload (not in a dry run, which changes nothing) and run it:
 * 0 when it completed or is gone (another node has just finished it), 1
 * when another node holds its lease, -1 when it failed.
 */
static int
process(struct up_job *j, const struct pending *p)
{
	struct up_upload	u = { .job = j };
	struct flux_store_lease	lease;
	struct flux_buf		key = { 0 };
	char			err[FLUX_ERRLEN];
	struct stat		st;
	int			rc = -1, taken;

	snprintf(u.ns, sizeof(u.ns), "%s", p->ns);
	snprintf(u.id, sizeof(u.id), "%s", p->id);
	snprintf(u.id_key, sizeof(u.id_key), "%s.%s", p->ns, p->id);
	snprintf(u.who, sizeof(u.who), "upload %s", u.id_key);
	if (flux_upload_dir(j->conf, p->ns, p->id, u.dir) == -1 ||
	    flux_fs_join(u.nsdir, sizeof(u.nsdir), j->conf->uploads_path, p->ns) == -1)
		return -1;
	if (j->dryrun)
		return run_upload(&u);
	if (flux_buf_printf(&key, LEASE_PREFIX "%s", u.id_key) == -1) {
		flux_err("upload %s: out of memory", u.id_key);
		return -1;
	}
	taken = flux_store_lease_take(j->store, key.ptr, j->node,
	    j->conf->batch_lease_seconds * 1000, &lease, err);
	flux_buf_free(&key);
	if (taken == -1)
		flux_err("upload %s: %s", u.id_key, err);
	else if (taken == 1) {
		flux_info("upload %s: leased to another node; left to it", u.id_key);
		rc = 1;
	} else if (lstat(u.dir, &st) == -1 && errno == ENOENT)
		rc = 0;		/* done by another node since the scan */
	else {
		u.lease = &lease;
		rc = run_upload(&u);
	}
	if (taken == 0 && !u.lost && flux_store_lease_release(j->store, &lease,
	    err) == -1)
		flux_warn("upload %s: lease not ended (it runs out by itself): %s",
		    u.id_key, err);
	if (taken == 0)
		flux_store_lease_free(&lease);
	return rc;
}

/*
 * Whether namespaces a and b may hold the same metrics: the same, or one
 * under the other ("a.b" under "a").
 */
static int
ns_overlap(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	return strncmp(a, b, n) == 0 && (la == lb || (la < lb ? b : a)[n] == '.');
}

/*
 * Whether upload i must wait for one before it that another node holds
 * (held[k] set). flux.last drops a point not newer than the last one, so
 * a later upload of the same metrics must not overtake an earlier one:
 * uploads of one namespace run in the order they came, on whichever node.
 */
static int
behind_held(const struct pending_list *l, const char *held, size_t i)
{
	size_t	k;

	for (k = 0; k < i; k++)
		if (held[k] && ns_overlap(l->v[k].ns, l->v[i].ns))
			return 1;
	return 0;
}

/*
 * The job: every pending upload, oldest first, when FLUX_PROCESS_UPLOADS
 * and BATCH_PROCESSING allow it; else they stay pending, the log says why
 * and the job fails. Returns 0 when every upload taken completed.
 */
int
job_uploads(const struct flux_conf *c, int dryrun)
{
	struct up_job		j = { .conf = c, .dryrun = dryrun, .now = flux_now(),
	    .tty = isatty(2), .delivery = { .conf = c, .stats = &batch_stats },
	    .node = batch_node() };
	struct pending_list	l = { 0 };
	char			err[FLUX_ERRLEN];
	size_t			i;
	int			rc = 0, r;
	int64_t			deadline;
	struct stat		st;
	char			*held;

	/* Uploads off and no upload directory: nothing waits, nothing to say. */
	if ((!c->process_uploads || !c->batch_processing) &&
	    stat(c->uploads_path, &st) == -1 && errno == ENOENT)
		return 0;
	if (scan(&j, &l) == -1)
		return -1;
	/* Uploads that wait for ever are an operator's problem: say so loudly. */
	if (l.n > 0 && (!c->process_uploads || !c->batch_processing)) {
		flux_warn("uploads: %zu pending, not processed: %s is false", l.n,
		    !c->process_uploads ? "FLUX_PROCESS_UPLOADS" : "BATCH_PROCESSING");
		rc = -1;
	} else if (l.n > 0 && (j.store = flux_store_open(c, err)) == NULL &&
	    !dryrun) {
		/* Leases keep two nodes from taking one upload: none without them. */
		flux_err("uploads: %s; %zu uploads wait (each is leased in redis "
		    "while it is processed)", err, l.n);
		rc = -1;
	} else if (l.n > 0) {
		if (j.store == NULL)
			flux_warn("uploads: %s; no de-duplication in this dry run", err);
		if ((j.retention = flux_retention_load(c->carbon_storage_schemas,
		    err)) == NULL && err[0] != '\0')
			flux_warn("uploads: carbon's retention not checked: %s", err);
		held = xcalloc(l.n, 1);
		deadline = flux_clock_ms(CLOCK_MONOTONIC) + c->uploads_seconds * 1000;
		for (i = 0; i < l.n; i++) {
			if (flux_clock_ms(CLOCK_MONOTONIC) >= deadline) {
				flux_warn("uploads: FLUX_BATCH_UPLOADS_SECONDS (%lld s) spent; "
				    "%zu uploads wait for the next run",
				    (long long)c->uploads_seconds, l.n - i);
				break;
			}
			if (behind_held(&l, held, i)) {
				held[i] = 1;
				flux_info("upload %s.%s: waits for an earlier upload of its "
				    "namespace that another node holds", l.v[i].ns, l.v[i].id);
			} else if ((r = process(&j, &l.v[i])) == 1)
				held[i] = 1;
			else if (r == -1)
				rc = -1;
		}
		free(held);
		flux_retention_free(j.retention);
		flux_store_close(j.store);
	}
	free(l.v);
	return rc;
}
