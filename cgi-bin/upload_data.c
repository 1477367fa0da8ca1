/*
 * upload_data - POST /flux/upload_data (SPEC 4.4): a multipart form with
 * Skyline's fields, a data file and optionally an info file. The body is
 * parsed as it arrives and file parts go straight to a temporary
 * directory inside DATA_UPLOADS_PATH; once everything is checked the
 * finished directory is renamed to <namespace>/<upload_id>, so flux-batch
 * never sees half an upload. Client file names are checked metadata: the
 * parts are written under names of our own.
 *
 * Nothing reaches the disk before the request is authenticated: the key
 * and parent_metric_namespace fields must come before the file parts (the
 * order of Skyline's form and of curl -F in its docs), and a file part met
 * before them is refused there, unwritten (400), as is one after a wrong
 * key (401). Until then a request holds at most its text fields in memory
 * (FIELD_MAX each).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "status.h"
#include "upload.h"
#include "util.h"

/* A text field's value; columns_to_metrics of 10000 columns fits. */
#define FIELD_MAX 262144
/* Reads from the body; also the size of the parser's largest feed. */
#define CHUNK 65536
/* Attempts at a fresh upload id, should one ever be taken. */
#define ID_TRIES 8
/* Random bytes of an upload id: 128 bits, so upload_status (which asks for
 * no key) cannot be walked by guessing ids. */
#define ID_RANDOM 16

/* The form's fields (Skyline's /upload_data); others are ignored. */
enum field {
	F_KEY, F_NS, F_TIMEZONE, F_FORMAT, F_ARCHIVE, F_SKIP_ROWS, F_HEADER_ROW,
	F_DATE_ORIENTATION, F_COLUMNS, F_IGNORE, F_RESAMPLE, F_DATE_FORMAT,
	F_JSON_RESPONSE, F_DATA_FILE, F_INFO_FILE, F__MAX
};

static const char *const field_names[F__MAX] = {
	[F_KEY] = "key",
	[F_NS] = "parent_metric_namespace",
	[F_TIMEZONE] = "timezone",
	[F_FORMAT] = "format",
	[F_ARCHIVE] = "archive",
	[F_SKIP_ROWS] = "skip_rows",
	[F_HEADER_ROW] = "header_row",
	[F_DATE_ORIENTATION] = "date_orientation",
	[F_COLUMNS] = "columns_to_metrics",
	[F_IGNORE] = "ignore_submitted_timestamps",
	[F_RESAMPLE] = "resample_method",
	[F_DATE_FORMAT] = "date_format",
	[F_JSON_RESPONSE] = "json_response",
	[F_DATA_FILE] = "data_file",
	[F_INFO_FILE] = "info_file",
};

#define IS_FILE(f) ((f) == F_DATA_FILE || (f) == F_INFO_FILE)
#define DISCARD (-1)

/* A file part on its way to disk. */
struct file_part {
	char	 name[FLUX_MP_NAME_MAX + 1];	/* the client's name */
	char	 path[FLUX_PATH_MAX];		/* where we put it */
	int	 fd;
	int	 seen;
	long long size;
};

/* One request being taken apart. */
struct upload {
	struct flux_env		*env;
	struct flux_req		*req;
	const struct flux_conf	*conf;
	struct flux_buf		 vals[F__MAX];	/* text fields */
	int			 seen[F__MAX];
	int			 cur;		/* field of the current part */
	struct file_part	 files[2];	/* data_file, info_file */
	char			 tmpdir[FLUX_PATH_MAX];
	int			 status;	/* first failure's HTTP status */
	char			 msg[FLUX_MSG_MAX];
	cJSON			*info;		/* merged info.json */
	char			 id[FLUX_UPLOAD_ID_MAX];
	char			 id_key[FLUX_PATH_MAX];
};

/* Remember the first failure; always -1, for the parser's callbacks. */
static int
fail(struct upload *u, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct upload *u, int status, const char *fmt, ...)
{
	va_list	ap;

	if (u->status != 0)
		return -1;
	u->status = status;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A 500: the client hears "internal error", the log the detail. */
static int
fail_internal(struct upload *u, const char *detail)
{
	flux_err("%s", detail);
	return fail(u, 500, "internal error");
}

static struct file_part *
file_of(struct upload *u, int f)
{
	return &u->files[f == F_DATA_FILE ? 0 : 1];
}

static const char *
val(struct upload *u, enum field f)
{
	return u->seen[f] && !IS_FILE(f) ? (u->vals[f].ptr ? u->vals[f].ptr : "") :
	    NULL;
}

/* The temporary directory, made on the first file part. */
static int
make_tmpdir(struct upload *u)
{
	char	err[FLUX_ERRLEN];

	if (u->tmpdir[0] != '\0')
		return 0;
	if (snprintf(u->tmpdir, sizeof(u->tmpdir), "%s/" FLUX_UPLOAD_TMP_PREFIX
	    "XXXXXX", u->conf->uploads_path) >= (int)sizeof(u->tmpdir) ||
	    mkdtemp(u->tmpdir) == NULL || chmod(u->tmpdir, FLUX_DIR_MODE) == -1) {
		flux_errf(err, "cannot create a directory in '%s': %s",
		    u->conf->uploads_path, strerror(errno));
		u->tmpdir[0] = '\0';
		return fail_internal(u, err);
	}
	return 0;
}

static int
open_file_part(struct upload *u, int f, const char *client_name)
{
	struct file_part	*fp = file_of(u, f);
	char			 err[FLUX_ERRLEN], part[32];

	snprintf(fp->name, sizeof(fp->name), "%s", client_name);
	if (make_tmpdir(u) == -1)
		return -1;
	/* "data_file.part" or "info_file.part": never the client's name. */
	snprintf(part, sizeof(part), "%s.part", field_names[f]);
	if (flux_fs_join(fp->path, sizeof(fp->path), u->tmpdir, part) == -1)
		return fail_internal(u, "upload path too long");
	if ((fp->fd = open(fp->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    FLUX_FILE_MODE)) == -1 || fchmod(fp->fd, FLUX_FILE_MODE) == -1) {
		flux_errf(err, "cannot create '%s': %s", fp->path,
		    strerror(errno));
		return fail_internal(u, err);
	}
	return 0;
}

/*
 * A file part may be written only once the request is authenticated: the
 * key and namespace fields have come, and the key is the namespace's.
 * Else the request fails here, before a byte of the file is kept.
 */
static int
authenticated(struct upload *u, int f)
{
	if (val(u, F_KEY) == NULL || val(u, F_NS) == NULL)
		return fail(u, 400, "key and parent_metric_namespace must be sent "
		    "before %s", field_names[f]);
	if (*val(u, F_NS) == '\0')
		return fail(u, 400, "no parent_metric_namespace in the POST variables");
	if (!flux_upload_key_ok(u->conf, val(u, F_NS), val(u, F_KEY)))
		return fail(u, 401, "invalid key");
	return 0;
}

/* A part begins; a file part goes to disk once the request is authenticated. */
static int
on_begin(void *ctx, const struct flux_mp_part *part)
{
	struct upload	*u = ctx;
	int		 f;

	for (f = 0; f < F__MAX && strcmp(part->name, field_names[f]) != 0; f++)
		;
	u->cur = (f == F__MAX) ? DISCARD : f;
	if (f == F__MAX)
		return 0;
	if (u->seen[f]++)
		return fail(u, 400, "repeated field - %s", field_names[f]);
	if (!IS_FILE(f))
		return 0;
	if (!part->has_filename)
		return fail(u, 400, "%s is not a file", field_names[f]);
	/*
	 * A browser sends a file input left empty as a part named "" without
	 * content (HTML's form encoding): no file given. The optional
	 * info_file is then absent; a data_file is missing.
	 */
	if (part->filename[0] == '\0') {
		u->cur = DISCARD;
		return 0;
	}
	if (authenticated(u, f) == -1)
		return -1;
	return open_file_part(u, f, part->filename);
}

static int
on_data(void *ctx, const char *buf, size_t n)
{
	struct upload		*u = ctx;
	struct file_part	*fp;
	char			 err[FLUX_ERRLEN];

	if (u->cur == DISCARD)
		return 0;
	if (!IS_FILE(u->cur)) {
		if (u->vals[u->cur].len + n > FIELD_MAX)
			return fail(u, 400, "field too long - %s", field_names[u->cur]);
		/* Fields are used as C strings: a NUL would cut one short. */
		if (memchr(buf, '\0', n) != NULL)
			return fail(u, 400, "invalid field - %s - NUL byte in value",
			    field_names[u->cur]);
		return flux_buf_add(&u->vals[u->cur], buf, n) == -1 ?
		    fail_internal(u, "out of memory") : 0;
	}
	fp = file_of(u, u->cur);
	fp->size += (long long)n;
	if (u->cur == F_INFO_FILE && fp->size > FLUX_UPLOAD_JSON_MAX)
		return fail(u, 400, "info_file too large - more than %d bytes",
		    FLUX_UPLOAD_JSON_MAX);
	if (flux_write_all(fp->fd, buf, n) == -1) {
		flux_errf(err, "cannot write '%s': %s", fp->path,
		    strerror(errno));
		return fail_internal(u, err);
	}
	return 0;
}

static int
on_end(void *ctx)
{
	struct upload		*u = ctx;
	struct file_part	*fp;
	char			 err[FLUX_ERRLEN];

	if (u->cur == DISCARD || !IS_FILE(u->cur))
		return 0;
	fp = file_of(u, u->cur);
	fp->seen = 1;
	if (close(fp->fd) == -1) {
		fp->fd = -1;
		flux_errf(err, "cannot write '%s': %s", fp->path,
		    strerror(errno));
		return fail_internal(u, err);
	}
	fp->fd = -1;
	return 0;
}

/* Read and parse the body; the rest of it is drained by the caller. */
static int
read_form(struct upload *u, const char *boundary)
{
	struct flux_mp_cb	 cb = { on_begin, on_data, on_end, u };
	struct flux_mp		*mp;
	char			 buf[CHUNK], err[FLUX_ERRLEN];
	long long		 total = 0;
	long			 n;

	if ((mp = flux_mp_new(boundary, &cb)) == NULL)
		return fail_internal(u, "out of memory");
	while (u->status == 0 && (n = flux_req_read(u->req, buf, sizeof(buf))) > 0) {
		if ((total += n) > u->conf->max_upload_bytes)
			fail(u, 413, "upload too large - more than %lld bytes",
			    (long long)u->conf->max_upload_bytes);
		else if (flux_mp_feed(mp, buf, (size_t)n, err) == -1)
			fail(u, 400, "invalid multipart/form-data body - %s", err);
	}
	if (u->status == 0 && u->req->body_status != 0)
		fail(u, u->req->body_status, "%s", u->req->body_error);
	if (u->status == 0 && flux_mp_finish(mp, err) == -1)
		fail(u, 400, "invalid multipart/form-data body - %s", err);
	flux_mp_free(mp);
	return u->status ? -1 : 0;
}

/* info_file: JSON naming the form's namespace. */
static int
read_info_file(struct upload *u, cJSON **out)
{
	struct file_part	*fp = file_of(u, F_INFO_FILE);
	const cJSON		*ns;
	const char		*why = NULL;
	char			*text, err[FLUX_ERRLEN];
	size_t			 len;

	if (!flux_upload_name_ok(fp->name) || strlen(fp->name) < 6 ||
	    strcmp(fp->name + strlen(fp->name) - 5, ".json") != 0)
		return fail(u, 400, "invalid info_file name - %s", fp->name);
	if ((text = flux_fs_read(fp->path, FLUX_UPLOAD_JSON_MAX, &len, err)) == NULL)
		return fail_internal(u, err);
	*out = flux_json_parse(text, len, &why);
	free(text);
	if (*out == NULL && strncmp(why, "not JSON", 8) != 0)
		return fail(u, 400, "info_file is not valid JSON - %s", why);
	if (!cJSON_IsObject(*out))
		return fail(u, 400, "info_file is not valid JSON");
	ns = cJSON_GetObjectItemCaseSensitive(*out, "parent_metric_namespace");
	if (!cJSON_IsString(ns) || strcmp(ns->valuestring, val(u, F_NS)) != 0)
		return fail(u, 400, "info_file parent_metric_namespace does not match "
		    "the form's - %s", cJSON_IsString(ns) ? ns->valuestring : "none");
	return 0;
}

/*
 * The info.json to write: the form's fields, overridden by info_file's
 * (SPEC 4.4). The key is not part of it: upload.json keeps it.
 */
static int
merge_info(struct upload *u)
{
	cJSON	*file = NULL, *it;
	int	 f;

	if (file_of(u, F_INFO_FILE)->seen && read_info_file(u, &file) == -1) {
		cJSON_Delete(file);
		return -1;
	}
	if ((u->info = cJSON_CreateObject()) == NULL)
		goto oom;
	for (f = F_NS; f < F_JSON_RESPONSE; f++)
		if (val(u, f) != NULL && (file == NULL ||
		    !cJSON_HasObjectItem(file, field_names[f])) &&
		    cJSON_AddStringToObject(u->info, field_names[f], val(u, f)) == NULL)
			goto oom;
	for (it = file ? file->child : NULL; it != NULL; it = it->next)
		if (strcmp(it->string, "key") != 0 &&
		    !cJSON_AddItemToObject(u->info, it->string, cJSON_Duplicate(it, 1)))
			goto oom;
	cJSON_Delete(file);
	return 0;
oom:
	cJSON_Delete(file);
	return fail_internal(u, "out of memory");
}

/* Everything the form must say, in the order the client hears about it. */
static int
check_form(struct upload *u)
{
	struct flux_upload_info	 info;
	struct file_part	*data = file_of(u, F_DATA_FILE);
	char			 err[FLUX_ERRLEN];
	int			 rc;

	if (val(u, F_NS) == NULL || *val(u, F_NS) == '\0')
		return fail(u, 400, "no parent_metric_namespace in the POST variables");
	if (!flux_upload_key_ok(u->conf, val(u, F_NS), val(u, F_KEY)))
		return fail(u, 401, "invalid key");
	if (!data->seen || data->name[0] == '\0')
		return fail(u, 400, "no data_file in the POST variables");
	if (!flux_upload_name_ok(data->name) || !flux_upload_name_is_data(data->name))
		return fail(u, 400, "invalid data_file name - %s", data->name);
	if (merge_info(u) == -1)
		return -1;
	if (flux_upload_info_parse(u->info, &info, err) == -1)
		return fail(u, 400, "%s", err);
	if (flux_upload_name_fits(data->name, info.format, info.archive))
		rc = 0;
	else if (info.archive == FLUX_AR_NONE)
		rc = fail(u, 400, "data_file name does not fit format %s and "
		    "archive none - %s", flux_upload_format_name(info.format),
		    data->name);
	else
		rc = fail(u, 400, "data_file name does not fit archive %s - %s",
		    flux_upload_archive_name(info.archive), data->name);
	flux_upload_info_free(&info);
	if (rc == 0 && data->size == 0)
		return fail(u, 400, "data_file is empty");
	return rc;
}

/* upload.json: what the CGI recorded (SPEC 8). Caller frees. */
static char *
upload_record(struct upload *u)
{
	const struct file_part	*info = file_of(u, F_INFO_FILE);
	cJSON			*o = cJSON_CreateObject(), *fields = NULL;
	char			 when[32], *text = NULL;
	int			 f, ok;

	flux_upload_iso_time(u->req->now, when);
	ok = o != NULL && cJSON_AddStringToObject(o, "key", val(u, F_KEY)) &&
	    cJSON_AddStringToObject(o, "upload_id", u->id) &&
	    (fields = cJSON_AddObjectToObject(o, "fields")) != NULL;
	for (f = F_NS; ok && f < F_DATA_FILE; f++)
		if (val(u, f) != NULL)
			ok = cJSON_AddStringToObject(fields, field_names[f],
			    val(u, f)) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "data_file",
	    file_of(u, F_DATA_FILE)->name) && (info->seen ?
	    cJSON_AddStringToObject(o, "info_file", info->name) :
	    cJSON_AddNullToObject(o, "info_file")) &&
	    cJSON_AddStringToObject(o, "uploaded_at", when);
	if (ok)
		text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

/*
 * A fresh id, "<seconds>_<128 random bits in hex>": an operator sees when
 * an upload came, nobody can guess another's id, and there is no dot in
 * it. -1 when the system has no randomness to give (never a weaker id).
 */
static int
new_id(struct upload *u)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		r[ID_RANDOM];
	char			rnd[2 * ID_RANDOM + 1];
	size_t			i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return fail_internal(u, "cannot make an upload id: getrandom failed");
	for (i = 0; i < sizeof(r); i++) {
		rnd[2 * i] = hex[r[i] >> 4];
		rnd[2 * i + 1] = hex[r[i] & 15];
	}
	rnd[2 * ID_RANDOM] = '\0';
	snprintf(u->id, sizeof(u->id), "%lld_%s", (long long)u->req->now, rnd);
	snprintf(u->id_key, sizeof(u->id_key), "%s.%s", val(u, F_NS), u->id);
	return 0;
}

/* Write info.json, upload.json and status.json into the temporary dir. */
static int
write_meta(struct upload *u, struct flux_store *s)
{
	char	*info = cJSON_Print(u->info), *rec = upload_record(u);
	char	 err[FLUX_ERRLEN];
	cJSON	*st = flux_status_new(val(u, F_NS), u->id_key,
		    file_of(u, F_DATA_FILE)->name);
	int	 rc = -1;

	if (info == NULL || rec == NULL || st == NULL)
		flux_errf(err, "out of memory");
	else if (flux_fs_write_atomic(u->tmpdir, FLUX_UPLOAD_INFO, info,
	    strlen(info), err) == 0 && flux_fs_write_atomic(u->tmpdir,
	    FLUX_UPLOAD_META, rec, strlen(rec), err) == 0 &&
	    flux_status_save(NULL, u->tmpdir, st, err) == 0)
		rc = 0;
	/* Redis before the rename: flux-batch's "processing" must come after. */
	if (rc == 0 && s != NULL && flux_status_publish(s, st, err) == -1)
		flux_warn("upload %s: %s", u->id_key, err);
	if (rc == -1)
		fail_internal(u, err);
	free(info);
	free(rec);
	cJSON_Delete(st);
	return rc;
}

/* Rename the temporary dir to <ns>/<id>, never over an existing upload. */
static int
publish(struct upload *u, struct flux_store *s)
{
	char	nsdir[FLUX_PATH_MAX], dst[FLUX_PATH_MAX], err[FLUX_ERRLEN];
	int	i;

	if (flux_fs_join(nsdir, sizeof(nsdir), u->conf->uploads_path,
	    val(u, F_NS)) == -1 || flux_fs_mkdirs(nsdir, err) == -1)
		return fail_internal(u, "cannot create the namespace directory");
	for (i = 0; i < ID_TRIES; i++) {
		if (i > 0) {
			if (s != NULL)
				flux_status_forget(s, u->id_key, err);
			if (new_id(u) == -1 || write_meta(u, s) == -1)
				return -1;
		}
		if (flux_upload_dir(u->conf, val(u, F_NS), u->id, dst) == -1)
			return fail_internal(u, "upload path too long");
		if (renameat2(AT_FDCWD, u->tmpdir, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	flux_errf(err, "cannot rename an upload to '%s': %s", dst,
	    strerror(errno));
	if (s != NULL)
		flux_status_forget(s, u->id_key, err);
	return fail_internal(u, err);
}

/* Give the data file its client name, record everything, publish. */
static int
commit(struct upload *u)
{
	struct file_part	*data = file_of(u, F_DATA_FILE);
	struct flux_store	*s = flux_env_store(u->env);
	char			 dst[FLUX_PATH_MAX], err[FLUX_ERRLEN];

	if (file_of(u, F_INFO_FILE)->seen)
		unlink(file_of(u, F_INFO_FILE)->path);
	if (flux_fs_join(dst, sizeof(dst), u->tmpdir, data->name) == -1 ||
	    rename(data->path, dst) == -1) {
		flux_errf(err, "cannot rename '%s': %s", data->path,
		    strerror(errno));
		return fail_internal(u, err);
	}
	if (new_id(u) == -1 || write_meta(u, s) == -1 || publish(u, s) == -1)
		return -1;
	u->tmpdir[0] = '\0';
	flux_info("upload %s accepted: %s, %lld bytes", u->id_key, data->name,
	    data->size);
	flux_stats_add(&u->env->stats, FLUX_STAT_ACCEPTED, 1);
	return 0;
}

static void
answer(struct upload *u, struct flux_resp *resp)
{
	cJSON	*o = cJSON_CreateObject();

	if (o != NULL) {
		cJSON_AddStringToObject(o, "upload", "successful");
		cJSON_AddStringToObject(o, "upload_id_key", u->id_key);
		cJSON_AddStringToObject(o, "parent_metric_namespace", val(u, F_NS));
		cJSON_AddStringToObject(o, "data file", file_of(u, F_DATA_FILE)->name);
	}
	flux_resp_json(resp, 200, o);
	cJSON_Delete(o);
}

static void
cleanup(struct upload *u)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (u->files[i].fd != -1)
			close(u->files[i].fd);
	if (u->tmpdir[0] != '\0' && flux_fs_remove_tree(u->tmpdir) == -1)
		flux_warn("cannot remove '%s': %s", u->tmpdir, strerror(errno));
	for (i = 0; i < F__MAX; i++)
		flux_buf_free(&u->vals[i]);
	cJSON_Delete(u->info);
}

/* Checks before the body: enabled, method, framing, type, size. */
static int
check_request(struct upload *u, char boundary[])
{
	if (strcmp(u->req->method, "POST") != 0)
		return fail(u, 405, "method not allowed");
	if (u->req->body_status != 0)
		return fail(u, u->req->body_status, "%s", u->req->body_error);
	if (flux_mp_boundary(flux_req_env(u->req, "CONTENT_TYPE"), boundary) == -1)
		return fail(u, 415, "Content-Type must be multipart/form-data with "
		    "a boundary");
	/* body_left is CONTENT_LENGTH here, or -1 for a chunked body. */
	if (u->req->body_left > u->conf->max_upload_bytes)
		return fail(u, 413, "upload too large - more than %lld bytes",
		    (long long)u->conf->max_upload_bytes);
	return 0;
}

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct upload	*u;
	char		 boundary[FLUX_MP_BOUNDARY_MAX + 1];

	if (!env->conf.accept_uploads) {
		flux_resp_error(resp, 404, "not found");
		return;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		flux_resp_error(resp, 500, "internal error");
		return;
	}
	*u = (struct upload){ .env = env, .req = req, .conf = &env->conf,
	    .files = { { .fd = -1 }, { .fd = -1 } } };
	if (check_request(u, boundary) == 0 && read_form(u, boundary) == 0 &&
	    check_form(u) == 0 && commit(u) == 0)
		answer(u, resp);
	else
		flux_resp_error(resp, u->status, "%s", u->msg);
	if (u->status == 405)
		resp->allow = "POST";
	cleanup(u);
	free(u);
}

int
main(void)
{
	return flux_cgi_main_stream("upload_data", handle);
}
