/*
 * unpack.h - unpacking uploaded archives (SPEC 8 step 2) with libarchive:
 * gz (one gzip stream), zip and tar_gz. Every member is checked before
 * anything is written: one absolute, "..", symbolic-link, hard-link or
 * special member fails the whole archive. Then only regular files are
 * written, flat, under names of the safe set with the extension of the
 * upload's format (a zip may hold notes beside its reports), into a
 * directory the caller made, and the bytes written are capped as they
 * are written, so neither a lying header nor a zip bomb can fill the disk.
 */
#ifndef FLUX_UNPACK_H
#define FLUX_UNPACK_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "upload.h"

struct archive;

/* Members of one archive; more is not a report upload. */
#define FLUX_UNPACK_MEMBERS_MAX 10000

const char *flux_unpack_member_check(const char *path, mode_t type,
	    int hardlink, int symlink);
int	flux_unpack_check(struct archive *a, int64_t cap, char err[]);
int	flux_unpack_archive(const char *path, enum flux_archive kind,
	    enum flux_format format, const char *gz_name, const char *dir,
	    int64_t cap, struct flux_list *csv, struct flux_list *skipped,
	    char err[]);

#endif
