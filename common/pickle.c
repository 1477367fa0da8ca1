/*
 * pickle.c - the encoder of pickle.h. A frame is built in one buffer: 4
 * bytes reserved for the length, PROTO 2, EMPTY_LIST, MARK, the items,
 * APPENDS, STOP; flux_pickle_end() fills in the length.
 */
#include <string.h>

#include "pickle.h"

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void
put_be64(unsigned char *p, double d)
{
	uint64_t	u;
	int		i;

	memcpy(&u, &d, sizeof(u));
	for (i = 7; i >= 0; i--, u >>= 8)
		p[i] = u & 0xff;
}

/* Start a frame in b (which is emptied, its memory kept). */
void
flux_pickle_begin(struct flux_buf *b)
{
	static const unsigned char head[] = { 0, 0, 0, 0, 0x80, 2, ']', '(' };

	b->len = 0;
	if (flux_buf_add(b, head, sizeof(head)) == -1)
		b->len = 0;
}

int
flux_pickle_add(struct flux_buf *b, const char *name, int64_t ts, double value)
{
	size_t		 nl = strlen(name);
	unsigned char	*p;

	if (b->len < 8 || flux_buf_grow(b, FLUX_PICKLE_ITEM_SIZE(nl)) == -1)
		return -1;
	p = (unsigned char *)b->ptr + b->len;
	*p++ = 'X';
	put_le32(p, (uint32_t)nl);
	memcpy(p + 4, name, nl);
	p += 4 + nl;
	if (ts >= 0 && ts <= INT32_MAX) {
		/* BININT: 4-byte signed little-endian. */
		*p++ = 'J';
		put_le32(p, (uint32_t)ts);
		p += 4;
	} else {
		/* After 2038 a timestamp travels as BINFLOAT, exact below 2^53. */
		*p++ = 'G';
		put_be64(p, (double)ts);
		p += 8;
	}
	*p++ = 'G';
	put_be64(p, value);
	p += 8;
	*p++ = 0x86;	/* TUPLE2: (ts, value) */
	*p++ = 0x86;	/* TUPLE2: (name, (ts, value)) */
	b->len = (size_t)((char *)p - b->ptr);
	return 0;
}

/* Close the frame: APPENDS, STOP, and the big-endian length in front. */
int
flux_pickle_end(struct flux_buf *b)
{
	uint32_t	len;

	if (b->len < 8 || flux_buf_add(b, "e.", 2) == -1)
		return -1;
	len = (uint32_t)(b->len - 4);
	b->ptr[0] = (char)(len >> 24);
	b->ptr[1] = (char)(len >> 16);
	b->ptr[2] = (char)(len >> 8);
	b->ptr[3] = (char)len;
	return 0;
}
