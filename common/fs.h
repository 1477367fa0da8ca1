/*
 * fs.h - the few file operations uploads need: whole small files written
 * atomically (temporary name, fsync, rename), read back with a bound,
 * directory trees created and removed without following symbolic links.
 */
#ifndef FLUX_FS_H
#define FLUX_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Modes of everything an upload writes: readable by the web server's group. */
#define FLUX_FILE_MODE 0640
#define FLUX_DIR_MODE 0750

int	flux_fs_write_atomic(const char *dir, const char *name, const char *data,
	    size_t len, char err[]);
char	*flux_fs_read(const char *path, size_t max, size_t *len, char err[]);
int	flux_fs_mkdirs(const char *path, char err[]);
int	flux_fs_remove_tree(const char *path);
int	flux_fs_open_dir(int dfd, const char *name, int create);
int	flux_fs_open_file(const char *path, char err[]);
int	flux_fs_join(char *out, size_t len, const char *a, const char *b);

#endif
