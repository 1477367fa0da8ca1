/*
 * unpack.c - see unpack.h. Only the formats and filters an upload may
 * use are enabled in libarchive, which keeps its attack surface to what
 * we need. Members are written flat (their last path element only), so
 * no directory is ever made from archive data.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "unpack.h"
#include "fs.h"
#include "util.h"

#define BLOCK 65536

/*
 * NULL when a member may be in an upload archive, else why not. Paths are
 * split at '/' and '\\' alike: a name made on Windows must not escape
 * either.
 */
const char *
flux_unpack_member_check(const char *path, mode_t type, int hardlink,
    int symlink)
{
	const char	*p = path;
	size_t		 n;

	if (path == NULL || *path == '\0')
		return "member without a name";
	if (hardlink)
		return "hard link member";
	if (symlink || type == AE_IFLNK)
		return "symbolic link member";
	if (type != AE_IFREG && type != AE_IFDIR)
		return "member is not a regular file";
	if (*path == '/' || *path == '\\' || (((path[0] | 0x20) >= 'a' &&
	    (path[0] | 0x20) <= 'z') && path[1] == ':'))
		return "absolute member path";
	for (;;) {
		n = strcspn(p, "/\\");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "'..' in member path";
		if (p[n] == '\0')
			return NULL;
		p += n + 1;
	}
}

/* A reader for kind: gzip filter for gz and tar_gz, one format each. */
static struct archive *
reader(enum flux_archive kind)
{
	struct archive	*a = archive_read_new();

	if (a == NULL)
		return NULL;
	if (kind != FLUX_AR_ZIP)
		archive_read_support_filter_gzip(a);
	if (kind == FLUX_AR_GZ)
		archive_read_support_format_raw(a);
	else if (kind == FLUX_AR_ZIP)
		archive_read_support_format_zip(a);
	else
		archive_read_support_format_tar(a);
	return a;
}

/*
 * The check pass over an opened archive: every member's path and type,
 * the number of members, and the sizes their headers declare. 0 when the
 * archive may be unpacked.
 */
int
flux_unpack_check(struct archive *a, int64_t cap, char err[])
{
	struct archive_entry	*e;
	const char		*why;
	int64_t			 total = 0;
	size_t			 n = 0;
	int			 r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		why = flux_unpack_member_check(archive_entry_pathname(e),
		    archive_entry_filetype(e), archive_entry_hardlink(e) != NULL,
		    archive_entry_symlink(e) != NULL);
		if (why != NULL)
			return flux_errf(err, "%s - %.255s", why,
			    archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
		if (++n > FLUX_UNPACK_MEMBERS_MAX)
			return flux_errf(err, "more than %d members",
			    FLUX_UNPACK_MEMBERS_MAX);
		if (archive_entry_size_is_set(e) && (total += archive_entry_size(e)) > cap)
			return flux_errf(err, "members larger than the %lld byte cap",
			    (long long)cap);
	}
	if (r != ARCHIVE_EOF)
		return flux_errf(err, "corrupt archive: %s",
		    archive_error_string(a) ? archive_error_string(a) : "unknown error");
	return 0;
}

static int
list_has(const struct flux_list *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* Copy the current member's data to dir/name, adding to *total (capped). */
static int
write_member(struct archive *a, const char *dir, const char *name, int64_t cap,
    int64_t *total, char err[])
{
	char		path[FLUX_PATH_MAX], buf[BLOCK];
	la_ssize_t	n;
	int		fd, rc = 0;

	if (flux_fs_join(path, sizeof(path), dir, name) == -1 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    FLUX_FILE_MODE)) == -1)
		return flux_errf(err, "cannot create '%.255s': %s", name,
		    strerror(errno));
	while (rc == 0 && (n = archive_read_data(a, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			flux_errf(err, "corrupt archive: %s",
			    archive_error_string(a) ? archive_error_string(a) : "?");
			rc = -1;
		} else if ((*total += n) > cap) {
			flux_errf(err, "unpacks to more than the %lld byte cap",
			    (long long)cap);
			rc = -1;
		} else if (flux_write_all(fd, buf, (size_t)n) == -1) {
			flux_errf(err, "cannot write '%.255s': %s", name,
			    strerror(errno));
			rc = -1;
		}
	}
	if (close(fd) == -1 && rc == 0) {
		flux_errf(err, "cannot write '%.255s': %s", name,
		    strerror(errno));
		rc = -1;
	}
	return rc;
}

/* Where a member goes: its last path element, if a safe CSV name. */
static const char *
member_name(struct archive_entry *e, enum flux_archive kind, const char *gz_name)
{
	const char	*p = archive_entry_pathname(e), *slash;

	if (kind == FLUX_AR_GZ)
		return gz_name;
	while ((slash = strpbrk(p, "/\\")) != NULL)
		p = slash + 1;
	return p;
}

/* A member to unpack: a safe name with the extension of the format. */
static int
is_data(const char *name, enum flux_format format)
{
	return flux_upload_name_ok(name) && flux_upload_name_is_format(name, format);
}

/* The extraction pass: regular members with report names, flat into dir. */
static int
extract(struct archive *a, enum flux_archive kind, enum flux_format format,
    const char *gz_name, const char *dir, int64_t cap, struct flux_list *csv,
    struct flux_list *skipped, char err[])
{
	struct archive_entry	*e;
	const char		*name;
	int64_t			 total = 0;
	int			 r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		name = member_name(e, kind, gz_name);
		if (kind != FLUX_AR_GZ && !is_data(name, format)) {
			if (flux_list_add(skipped, archive_entry_pathname(e)) == -1)
				goto oom;
			continue;
		}
		if (list_has(csv, name))
			return flux_errf(err, "two members named %.255s", name);
		if (write_member(a, dir, name, cap, &total, err) == -1)
			return -1;
		if (flux_list_add(csv, name) == -1)
			goto oom;
	}
	if (r == ARCHIVE_EOF)
		return 0;
	return flux_errf(err, "corrupt archive: %s",
	    archive_error_string(a) ? archive_error_string(a) : "unknown error");
oom:
	return flux_errf(err, "out of memory");
}

/*
 * Open the archive at path for a: a regular file, not reached through a
 * symbolic link (flux_fs_open_file). *fd is the caller's to close once a
 * is freed.
 */
static int
open_file(struct archive *a, const char *path, int *fd, char err[])
{
	char	why[FLUX_ERRLEN];

	if ((*fd = flux_fs_open_file(path, why)) == -1)
		return flux_errf(err, "%s", why);
	if (archive_read_open_fd(a, *fd, BLOCK) == ARCHIVE_OK)
		return 0;
	return flux_errf(err, "cannot open archive: %s",
	    archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

/*
 * Unpack the archive at path into dir (which the caller made, and removes
 * on failure): check pass, then extraction pass. For gz the one stream
 * becomes gz_name. csv receives the names written, skipped the members
 * left out as not of the format; the caller frees both lists.
 */
int
flux_unpack_archive(const char *path, enum flux_archive kind,
    enum flux_format format, const char *gz_name, const char *dir, int64_t cap,
    struct flux_list *csv, struct flux_list *skipped, char err[])
{
	struct archive	*a;
	int		 rc = -1, fd = -1;

	if ((a = reader(kind)) == NULL)
		return flux_errf(err, "out of memory");
	if (kind != FLUX_AR_GZ && (open_file(a, path, &fd, err) == -1 ||
	    flux_unpack_check(a, cap, err) == -1))
		goto done;
	if (kind != FLUX_AR_GZ) {
		archive_read_free(a);
		close(fd);
		fd = -1;
		if ((a = reader(kind)) == NULL)
			return flux_errf(err, "out of memory");
	}
	if (open_file(a, path, &fd, err) == 0)
		rc = extract(a, kind, format, gz_name, dir, cap, csv, skipped, err);
	if (rc == 0 && csv->n == 0) {
		flux_errf(err, "no %s file in the archive",
		    flux_upload_format_name(format));
		rc = -1;
	}
done:
	archive_read_free(a);
	if (fd != -1)
		close(fd);
	return rc;
}
