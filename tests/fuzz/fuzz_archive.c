/*
 * fuzz_archive - libFuzzer harness for the archive member checks of
 * batch/unpack.c: the input is opened by libarchive as zip, tar (gzip or
 * not) or a raw gzip stream, exactly the formats flux-batch enables, and
 * flux_unpack_check() walks its members; the input is also checked as
 * one member path of each type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "unpack.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const mode_t	 types[] = { AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO };
	struct archive		*a;
	char			 path[512], err[FLUX_ERRLEN];
	size_t			 n = size < sizeof(path) ? size : sizeof(path) - 1, i;

	memcpy(path, data, n);
	path[n] = '\0';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		flux_unpack_member_check(path, types[i], (int)(i & 1), 0);
	if ((a = archive_read_new()) == NULL)
		return 0;
	archive_read_support_filter_gzip(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, size) == ARCHIVE_OK)
		flux_unpack_check(a, 1 << 20, err);
	archive_read_free(a);
	return 0;
}
