/*
 * fs.c - the helpers of fs.h. Modes are set with fchmod/chmod after
 * creation so they do not depend on the umask the web server or cron
 * hands us.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "util.h"

/* "a/b" into out; -1 when it does not fit. */
int
flux_fs_join(char *out, size_t len, const char *a, const char *b)
{
	int	n = snprintf(out, len, "%s/%s", a, b);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/*
 * Write dir/name whole: a reader sees the old file or the new one, never
 * part of it.
 */
int
flux_fs_write_atomic(const char *dir, const char *name, const char *data,
    size_t len, char err[])
{
	char	tmp[FLUX_PATH_MAX], dst[FLUX_PATH_MAX], base[FLUX_PATH_MAX];
	int	fd, rc = -1;

	if (snprintf(base, sizeof(base), ".%s.tmp", name) >= (int)sizeof(base) ||
	    flux_fs_join(tmp, sizeof(tmp), dir, base) == -1 ||
	    flux_fs_join(dst, sizeof(dst), dir, name) == -1)
		return flux_errf(err, "path too long: '%s/%s'", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    FLUX_FILE_MODE)) == -1)
		return flux_errf(err, "cannot create '%s': %s", tmp, strerror(errno));
	if (fchmod(fd, FLUX_FILE_MODE) == -1 || flux_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1)
		flux_errf(err, "cannot write '%s': %s", tmp, strerror(errno));
	else
		rc = 0;
	if (close(fd) == -1 && rc == 0) {
		flux_errf(err, "cannot write '%s': %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, dst) == -1) {
		flux_errf(err, "cannot rename '%s': %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		unlink(tmp);
	return rc;
}

/*
 * Read a regular file of at most max bytes (symbolic links refused) into
 * a new NUL-terminated buffer; the caller frees it.
 */
char *
flux_fs_read(const char *path, size_t max, size_t *len, char err[])
{
	struct flux_buf	 b = { 0 };
	struct stat	 st;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd;

	/* O_NONBLOCK: a FIFO planted under the name must not hang the open. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		flux_errf(err, "cannot open '%s': %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		flux_errf(err, "'%s' is %s", path, S_ISREG(st.st_mode) ?
		    "too large" : "not a regular file");
		close(fd);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (b.len + (size_t)n > max || flux_buf_add(&b, chunk, (size_t)n) == -1) {
			n = -1;
			errno = EFBIG;
			break;
		}
	if (n == -1 || flux_buf_grow(&b, 0) == -1) {
		flux_errf(err, "cannot read '%s': %s", path, strerror(errno));
		flux_buf_free(&b);
		b.ptr = NULL;
	}
	close(fd);
	*len = b.len;
	return b.ptr;
}

/* mkdir -p with FLUX_DIR_MODE for the directories it creates. */
int
flux_fs_mkdirs(const char *path, char err[])
{
	char	buf[FLUX_PATH_MAX], *p;
	size_t	n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return flux_errf(err, "invalid directory '%s'", path);
	memcpy(buf, path, n + 1);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, FLUX_DIR_MODE) == 0)
			chmod(buf, FLUX_DIR_MODE);
		else if (errno != EEXIST) {
			return flux_errf(err, "cannot create '%s': %s", buf,
			    strerror(errno));
		}
		if (p == buf + n)
			return 0;
		*p = '/';
	}
}

/*
 * Remove name in the directory dfd, and everything under it. Each
 * directory is opened with O_NOFOLLOW and its entries removed relative to
 * it, so a symbolic link is removed, never followed, even one put in the
 * place of a directory between a look and a use.
 */
static int
remove_at(int dfd, const char *name)
{
	struct dirent	*e;
	DIR		*d;
	int		 fd, rc = 0;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno != ENOTDIR && errno != ELOOP)
			return -1;
		return unlinkat(dfd, name, 0) == -1 && errno != ENOENT ? -1 : 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    remove_at(dirfd(d), e->d_name) == -1)
			rc = -1;
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

/*
 * rm -r that never follows a symbolic link (it removes the link). Depth
 * is bounded by what an upload holds (the upload and its extraction
 * directory), so recursion is fine.
 */
int
flux_fs_remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path);
}

/*
 * Open a file of an upload for reading: a regular file, not through a
 * symbolic link at its last element, and not a FIFO (which would hang the
 * open). Returns the descriptor, or -1 with err ("cannot open: ...").
 */
int
flux_fs_open_file(const char *path, char err[])
{
	struct stat	st;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		flux_errf(err, "cannot open: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		flux_errf(err, "cannot open: not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the directory name in dfd (AT_FDCWD: a path) without following a
 * symbolic link at its last element, creating it (FLUX_DIR_MODE) when
 * create is set and it is missing. Returns the descriptor, or -1.
 */
int
flux_fs_open_dir(int dfd, const char *name, int create)
{
	if (create && mkdirat(dfd, name, FLUX_DIR_MODE) == -1 && errno != EEXIST)
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}
