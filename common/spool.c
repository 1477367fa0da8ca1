/*
 * spool.c - the spool of spool.h. A spool file holds carbon plaintext
 * lines, "name value timestamp\n", which any operator can read, and which
 * are validated again when read back, as any other untrusted input.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carbon.h"
#include "fs.h"
#include "log.h"
#include "spool.h"
#include "util.h"

#define SPOOL_SUFFIX ".spool"
/* A file being written: the listing skips dot files, so a reader never sees it. */
#define SPOOL_TMP_PREFIX ".tmp."
#define SPOOL_HOLD "hold"

/*
 * True while the operator holds delivery (a file FLUX_SPOOL_PATH/hold
 * exists, of any type): requests spool their points instead of sending
 * them, and flux-batch runs no job that sends to carbon, so carbon-cache
 * can be restarted without losing what it holds in memory. path gets the
 * hold file's name, for log lines.
 */
int
flux_spool_held(const struct flux_conf *c, char *path, size_t len)
{
	struct stat	st;

	/* A spool path too long for the hold file is too long for the spool. */
	return flux_fs_join(path, len, c->spool_path, SPOOL_HOLD) == 0 &&
	    lstat(path, &st) == 0;
}

/* Names sort by time: 12-digit seconds, 9-digit nanoseconds, pid, counter. */
#define SPOOL_NAME_MAX 96

static int
spool_name(char *out, size_t len, const char *prefix)
{
	static unsigned	counter;
	struct timespec	ts;
	int		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(out, len, "%s%012lld.%09ld.%ld.%u" SPOOL_SUFFIX, prefix,
	    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(), counter++);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int
format_points(struct flux_buf *b, const struct flux_points *p)
{
	char	num[FLUX_DBLLEN];
	size_t	i;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].state != FLUX_PT_ACCEPT)
			continue;
		flux_fmt_double(p->v[i].value, num);
		if (flux_buf_printf(b, "%s %s %lld\n", p->v[i].name, num,
		    (long long)p->v[i].ts) == -1)
			return -1;
	}
	return 0;
}

static int
sync_dir(const char *dir)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write the accepted points of p durably; 0 on success, -1 with err. */
int
flux_spool_write(const struct flux_conf *c, const struct flux_points *p,
    char err[])
{
	struct flux_buf	 b = { 0 };
	char		 tmpname[sizeof(SPOOL_TMP_PREFIX) + SPOOL_NAME_MAX];
	char		 tmp[FLUX_PATH_MAX], dst[FLUX_PATH_MAX];
	const char	*name = tmpname + strlen(SPOOL_TMP_PREFIX);
	int		 fd = -1, rc = -1;

	/* One name, made once: the committed file is the temporary one's tail. */
	if (format_points(&b, p) == -1 ||
	    spool_name(tmpname, sizeof(tmpname), SPOOL_TMP_PREFIX) == -1) {
		flux_errf(err, "out of memory");
		goto done;
	}
	if (flux_fs_join(tmp, sizeof(tmp), c->spool_path, tmpname) == -1 ||
	    flux_fs_join(dst, sizeof(dst), c->spool_path, name) == -1) {
		flux_errf(err, "spool path too long: '%s'", c->spool_path);
		goto done;
	}
	/*
	 * 0640 whatever the umask the web server hands us (as fs.c does):
	 * flux-batch may read the spool as another user of the group.
	 */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640)) == -1 ||
	    fchmod(fd, 0640) == -1 ||
	    flux_write_all(fd, b.ptr, b.len) == -1 || fsync(fd) == -1) {
		flux_errf(err, "cannot write spool file '%s': %s", tmp,
		    strerror(errno));
		goto done;
	}
	if (close(fd) == -1 || (fd = -1, rename(tmp, dst) == -1) ||
	    sync_dir(c->spool_path) == -1) {
		fd = -1;
		flux_errf(err, "cannot commit spool file '%s': %s", dst,
		    strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	if (rc == -1 && b.ptr != NULL)
		unlink(tmp);
	flux_buf_free(&b);
	return rc;
}

/* Parse one "name value ts" line into p; -1 when it is not valid. */
static int
parse_line(char *line, struct flux_points *p)
{
	char	*name, *val, *ts, *save = NULL, *copy;
	double	 v;
	int64_t	 t;

	name = strtok_r(line, " ", &save);
	val = strtok_r(NULL, " ", &save);
	ts = strtok_r(NULL, " \n", &save);
	if (name == NULL || val == NULL || ts == NULL ||
	    strtok_r(NULL, " \n", &save) != NULL ||
	    flux_metric_invalid(name) != NULL || flux_parse_double(val, &v) == -1 ||
	    flux_ts_parse(ts, &t) == -1)
		return -1;
	if ((copy = strdup(name)) == NULL ||
	    flux_points_add(p, copy, t, v, 1) == -1)
		return -1;
	p->v[p->n - 1].state = FLUX_PT_ACCEPT;
	return 0;
}

/*
 * Open a spool file for reading: a regular file, never through a symbolic
 * link (flux-batch may read as another user than the one who can write the
 * spool), nor a FIFO, which would hang the open.
 */
static FILE *
open_spool_file(const char *path, char err[])
{
	struct stat	st;
	FILE		*f = NULL;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		flux_errf(err, "cannot open spool file '%s': %s", path,
		    strerror(errno));
	} else if (!S_ISREG(st.st_mode))
		flux_errf(err, "spool file '%s' is not a regular file", path);
	else if ((f = fdopen(fd, "r")) == NULL)
		flux_errf(err, "cannot open spool file '%s': %s", path,
		    strerror(errno));
	if (f == NULL && fd != -1)
		close(fd);
	return f;
}

/* Read a spool file into p (points in state FLUX_PT_ACCEPT). */
int
flux_spool_read(const char *path, struct flux_points *p, char err[])
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	unsigned lineno = 0;
	int	 rc = 0;

	if ((f = open_spool_file(path, err)) == NULL)
		return -1;
	while (rc == 0 && (n = getline(&line, &cap, f)) != -1) {
		lineno++;
		/* A NUL would cut the line short and its end be ignored. */
		if ((rc = memchr(line, '\0', (size_t)n) ? -1 : parse_line(line, p)) == -1)
			flux_errf(err, "spool file '%s' line %u: not a valid "
			    "point", path, lineno);
	}
	if (rc == 0 && ferror(f)) {
		flux_errf(err, "cannot read spool file '%s': %s", path,
		    strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The spool's committed files, sorted oldest first; anything but a regular
 * file (a symbolic link, a FIFO, a directory) is skipped with a warning.
 * Caller frees.
 */
static char **
list_spool(const char *dir, size_t *n, char err[])
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		**v = NULL, **nv;
	size_t		 len;

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		flux_errf(err, "cannot open spool directory '%s': %s", dir,
		    strerror(errno));
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= strlen(SPOOL_SUFFIX) ||
		    strcmp(e->d_name + len - strlen(SPOOL_SUFFIX), SPOOL_SUFFIX) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode)) {
			flux_warn("spool: skipping '%s/%s': not a regular file", dir,
			    e->d_name);
			continue;
		}
		if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[*n] = strdup(e->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (v == NULL)
		v = calloc(1, sizeof(*v));
	if (v != NULL)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

/* Move a spool file that does not parse aside, so it is kept but not retried. */
static void
quarantine(const char *path)
{
	char	bad[FLUX_PATH_MAX];

	if (snprintf(bad, sizeof(bad), "%s.bad", path) < (int)sizeof(bad) &&
	    rename(path, bad) == 0)
		flux_err("moved unreadable spool file to '%s'", bad);
}

static int
flush_one(const struct flux_conf *c, const char *path, int dryrun,
    size_t *points, char err[])
{
	struct flux_points	p = { 0 };
	int			rc = -1;

	if (flux_spool_read(path, &p, err) == -1) {
		flux_err("%s", err);
		quarantine(path);
		goto done;
	}
	if (!dryrun && flux_carbon_deliver(c, &p, err) == -1)
		goto done;
	if (!dryrun && unlink(path) == -1) {
		flux_errf(err, "cannot remove spool file '%s': %s", path,
		    strerror(errno));
		goto done;
	}
	*points += p.n;
	rc = 0;
done:
	flux_points_free(&p);
	return rc;
}

/* Told of the replay's progress (flux-batch on a terminal); NULL: none. */
static flux_spool_progress_fn	progress_fn;

void
flux_spool_set_progress(flux_spool_progress_fn fn)
{
	progress_fn = fn;
}

/*
 * Replay the spool oldest first. A file that does not parse is moved aside
 * and the replay goes on; a delivery failure stops it (carbon is down, the
 * later files would fail too). No file is begun after deadline (monotonic
 * ms; 0: none): *left says how many wait for the next run. Returns 0 when
 * every file taken went, else -1.
 */
int
flux_spool_flush(const struct flux_conf *c, int dryrun, int64_t deadline,
    size_t *files, size_t *points, size_t *left, char err[])
{
	char	**names, path[FLUX_PATH_MAX];
	size_t	  n, i;
	int	  rc = 0;

	*files = *points = *left = 0;
	if ((names = list_spool(c->spool_path, &n, err)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (deadline != 0 && flux_clock_ms(CLOCK_MONOTONIC) >= deadline) {
			*left = n - i;
			break;
		}
		if (flux_fs_join(path, sizeof(path), c->spool_path, names[i]) == -1) {
			flux_errf(err, "spool path too long: '%s'",
			    c->spool_path);
			rc = -1;
			break;
		}
		if (progress_fn != NULL)
			progress_fn(i, n, *points, 0);
		if (flush_one(c, path, dryrun, points, err) == 0) {
			(*files)++;
			continue;
		}
		rc = -1;
		if (access(path, F_OK) == 0)
			break;
	}
	if (progress_fn != NULL && n > 0)
		progress_fn(*files, n, *points, 1);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/*
 * Whether the spool takes a file now: one is made and removed (no fsync),
 * so a full disk or a read-only mount tells, not only the permissions.
 */
int
flux_spool_writable(const struct flux_conf *c, char err[])
{
	char	name[SPOOL_NAME_MAX], path[FLUX_PATH_MAX];
	int	fd;

	if (spool_name(name, sizeof(name), ".probe.") == -1 ||
	    flux_fs_join(path, sizeof(path), c->spool_path, name) == -1)
		return flux_errf(err, "spool path too long: '%s'", c->spool_path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640)) == -1 || write(fd, "\n", 1) != 1) {
		flux_errf(err, "cannot write spool file '%s': %s", path,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(path);
		}
		return -1;
	}
	close(fd);
	unlink(path);
	return 0;
}

/* Lines of a spool file: its points (-1 when it cannot be read). */
static long long
count_lines(int dfd, const char *name)
{
	char		buf[65536];
	long long	n = 0;
	ssize_t		r, i;
	int		fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return r < 0 ? -1 : n;
}

/*
 * What waits in the spool: *files, the oldest file's time (from its name,
 * unix seconds; 0 when none) and, when points is not NULL, the points in
 * them all (reading every file: flux-batch's, not a request's). -1 with
 * err when the spool cannot be read.
 */
int
flux_spool_backlog(const struct flux_conf *c, long long *files,
    int64_t *oldest, long long *points, char err[])
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	int64_t		 t;
	long long	 lines;
	size_t		 len, slen = strlen(SPOOL_SUFFIX);
	char		 secs[13];

	*files = 0;
	*oldest = 0;
	if (points != NULL)
		*points = 0;
	if ((d = opendir(c->spool_path)) == NULL)
		return flux_errf(err, "cannot open spool directory '%s': %s",
		    c->spool_path, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= slen ||
		    strcmp(e->d_name + len - slen, SPOOL_SUFFIX) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		(*files)++;
		/* Names start with 12 digits of seconds (spool_name). */
		memcpy(secs, e->d_name, sizeof(secs) - 1);
		secs[sizeof(secs) - 1] = '\0';
		if (len > sizeof(secs) && flux_parse_i64(secs, 0, INT64_MAX, &t) == 0 &&
		    (*oldest == 0 || t < *oldest))
			*oldest = t;
		if (points != NULL && (lines = count_lines(dirfd(d), e->d_name)) > 0)
			*points += lines;
	}
	closedir(d);
	return 0;
}
