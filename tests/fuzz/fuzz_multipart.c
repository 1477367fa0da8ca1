/*
 * fuzz_multipart - libFuzzer harness for common/multipart.c. The input's
 * first line is the CONTENT_TYPE (its boundary, if valid, is used; else
 * "XyZ"), the rest the body, fed in chunks whose size the first byte
 * picks, so delimiters split across feeds are exercised.
 */
#include <stdint.h>
#include <string.h>

#include "multipart.h"
#include "util.h"

struct counts {
	size_t	parts, bytes;
};

static int
on_begin(void *ctx, const struct flux_mp_part *part)
{
	struct counts	*c = ctx;

	c->parts++;
	/* The parser promises NUL-terminated, bounded names. */
	return strlen(part->name) + strlen(part->filename) > 2 * FLUX_MP_NAME_MAX;
}

static int
on_data(void *ctx, const char *buf, size_t n)
{
	struct counts	*c = ctx;
	volatile char	 sink = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		sink ^= buf[i];
	c->bytes += n;
	return 0;
}

static int
on_end(void *ctx)
{
	(void)ctx;
	return 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct counts		 c = { 0, 0 };
	struct flux_mp_cb	 cb = { on_begin, on_data, on_end, &c };
	struct flux_mp		*mp;
	char			 ct[512], boundary[FLUX_MP_BOUNDARY_MAX + 1], err[FLUX_ERRLEN];
	const uint8_t		*nl = memchr(data, '\n', size < sizeof(ct) ? size : sizeof(ct) - 1);
	size_t			 hl = nl ? (size_t)(nl - data) : 0, chunk, off;

	memcpy(ct, data, hl);
	ct[hl] = '\0';
	if (flux_mp_boundary(ct, boundary) == -1)
		memcpy(boundary, "XyZ", 4);
	if ((mp = flux_mp_new(boundary, &cb)) == NULL)
		return 0;
	off = nl ? hl + 1 : 0;
	chunk = size > 0 ? (size_t)(data[0] % 97) + 1 : 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (flux_mp_feed(mp, (const char *)data + off, n, err) == -1)
			break;
		off += n;
	}
	flux_mp_finish(mp, err);
	flux_mp_free(mp);
	return 0;
}
