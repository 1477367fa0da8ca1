/*
 * fuzz_gzip - libFuzzer harness for the body reader (flux_req_read_body,
 * common/cgi.c) with Content-Encoding: gzip, through a memory flux_io that
 * hands out the body in small reads. The first byte of the input picks
 * the caps (body and inflated size), the CONTENT_LENGTH (exact, absent,
 * one short, one long) and the read size; the rest is the body as sent.
 * Whatever the bytes, the reader must consume the whole body, and a body
 * it accepts must be NUL-terminated and within the inflated cap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "conf.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t	*p;
	size_t		 len, off, chunk;
};

static long
mem_read(void *ctx, char *buf, size_t n)
{
	struct mem	*m = ctx;

	if (n > m->chunk)
		n = m->chunk;
	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (long)n;
}

static int
mem_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t	 body_caps[] = { 1048576, 64, 4096, 1 };
	static const int64_t	 inflated_caps[] = { 16777216, 100, 65536, 1 };
	struct flux_conf	 c = { 0 };
	struct mem		 m;
	struct flux_io		 io = { mem_read, mem_write, NULL, &m, NULL };
	struct flux_req		 r = { 0 };
	char			 cl[64], *env[4];
	uint8_t			 sel;
	int			 n = 0;

	if (size < 1)
		return 0;
	sel = data[0];
	m = (struct mem){ data + 1, size - 1, 0, (size_t)(sel >> 6) * 97 + 1 };
	c.max_body_bytes = body_caps[sel & 3];
	c.max_inflated_bytes = inflated_caps[(sel >> 2) & 3];
	env[n++] = (sel & 32) ? "HTTP_CONTENT_ENCODING=x-gzip" :
	    "HTTP_CONTENT_ENCODING=gzip";
	switch ((sel >> 4) & 1) {
	case 0:
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", m.len);
		env[n++] = cl;
		break;
	default:
		break;	/* no length: read to EOF, as Apache passes chunked bodies */
	}
	env[n] = NULL;
	io.envp = r.envp = env;
	flux_req_read_body(&r, &c, &io);
	if (m.off != m.len)
		abort();	/* the body must always be read to its end */
	if (r.body_status == 0) {
		if (r.body == NULL || r.body[r.body_len] != '\0' ||
		    r.body_len > (size_t)c.max_inflated_bytes)
			abort();
	} else if (r.body_error == NULL)
		abort();
	free(r.body);
	return 0;
}
