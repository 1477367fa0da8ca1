/*
 * fuzz_pylist - libFuzzer harness for common/pylist.c, the reader of
 * Vista's fetch_resolution_urls (a Python list repr inside a str literal).
 * Checks that whatever is accepted decodes to NUL-free strings.
 *
 * Build: see tests/fuzz/README.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pylist.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flux_list	l;
	char			err[FLUX_ERRLEN];
	size_t			i;

	if (flux_pylist_parse((const char *)data, size, &l, err) == -1) {
		if (l.n != 0 || l.v != NULL || memchr(err, '\0', FLUX_ERRLEN) == NULL)
			abort();
		return 0;
	}
	for (i = 0; i < l.n; i++)
		if (l.v[i] == NULL || strlen(l.v[i]) > size)
			abort();
	flux_list_free(&l);
	return 0;
}
