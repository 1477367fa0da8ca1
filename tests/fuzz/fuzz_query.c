/*
 * fuzz_query - libFuzzer harness for common/query.c (QUERY_STRING
 * decoding, RFC 3875 section 4.1.7). Any input is parsed; every parameter
 * of an accepted one must be NUL-terminated and free of NULs (%00 is
 * refused). Then the round trip: the parameters, percent-encoded byte by
 * byte and joined again, must parse back to the same list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
encode(struct flux_buf *b, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			e[3] = { '%', 0, 0 };

	for (; *s != '\0'; s++) {
		e[1] = hex[(unsigned char)*s >> 4];
		e[2] = hex[(unsigned char)*s & 15];
		if (flux_buf_add(b, e, 3) == -1)
			return -1;
	}
	return 0;
}

static void
round_trip(const struct flux_query *q)
{
	struct flux_buf		b = { 0 };
	struct flux_query	back;
	size_t			i, kept = 0;

	for (i = 0; i < q->n; i++) {
		/* An empty name with no value is an empty pair, which is skipped. */
		if (q->v[i].name[0] == '\0' && q->v[i].value[0] == '\0')
			continue;
		if ((b.len > 0 && flux_buf_add(&b, "&", 1) == -1) ||
		    encode(&b, q->v[i].name) == -1 || flux_buf_add(&b, "=", 1) == -1 ||
		    encode(&b, q->v[i].value) == -1)
			goto done;
		kept++;
	}
	if (flux_buf_grow(&b, 0) == -1 || b.len > FLUX_QUERY_MAX)
		goto done;
	if (flux_query_parse(b.ptr, &back) == -1 || back.n != kept)
		abort();
	for (i = 0, kept = 0; i < q->n; i++) {
		if (q->v[i].name[0] == '\0' && q->v[i].value[0] == '\0')
			continue;
		if (strcmp(q->v[i].name, back.v[kept].name) != 0 ||
		    strcmp(q->v[i].value, back.v[kept].value) != 0)
			abort();
		kept++;
	}
	flux_query_free(&back);
done:
	flux_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flux_query	 q;
	char			*qs = malloc(size + 1);

	if (qs == NULL)
		return 0;
	memcpy(qs, data, size);
	qs[size] = '\0';
	if (flux_query_parse(qs, &q) == 0)
		round_trip(&q);
	flux_query_free(&q);
	free(qs);
	return 0;
}
