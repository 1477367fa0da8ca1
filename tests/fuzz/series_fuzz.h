/*
 * series_fuzz.h - the body shared by fuzz_graphite and fuzz_prometheus:
 * parse a remote answer (untrusted) as flux-batch does, streamed in chunks
 * of a size the input picks, into 1-minute bins, and check the invariants
 * the delivery code relies on: samples finite with timestamps in range,
 * the same verdict and samples whole or in chunks, selected bins finite,
 * minute-aligned and strictly increasing; and an answer holding a \u0000
 * escape in a string is refused (json.h). Included by exactly one harness
 * per binary.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_fuzz.h"
#include "series.h"
#include "util.h"

struct fuzz_ctx {
	struct flux_bins	bins;
	size_t			samples;
};

static int
fuzz_sink(void *ctx, int64_t ts, double value, char err[])
{
	struct fuzz_ctx	*c = ctx;

	if (!isfinite(value) || ts < 0 || ts > UINT32_MAX)
		abort();
	c->samples++;
	return flux_bins_add(&c->bins, ts, value, err);
}

static int
fuzz_series(enum flux_series_kind kind, const uint8_t *data, size_t size)
{
	struct flux_series_parser	*p;
	struct fuzz_ctx			 c = { { NULL, 0, 0 }, 0 };
	struct flux_series		 whole = { 0 }, sel = { 0 };
	char				 err[FLUX_ERRLEN];
	size_t				 off = 0, chunk, n, i;
	int				 ok, whole_ok;

	whole_ok = flux_series_parse(kind, (const char *)data, size, &whole, err) == 0;
	if (!whole_ok && whole.n != 0)
		abort();
	if ((p = flux_series_parser_new(kind, fuzz_sink, &c)) == NULL)
		return 0;
	chunk = size > 0 ? (size_t)(data[0] % 17) + 1 : 1;
	for (ok = 1; ok && off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		ok = flux_series_parser_feed(p, (const char *)data + off, n, err) == 0;
	}
	ok = ok && flux_series_parser_finish(p, err) == 0;
	if (ok != whole_ok || (ok && c.samples != whole.n))
		abort();	/* chunking changed the verdict or the samples */
	if (ok && json_has_nul_escape(data, size))
		abort();	/* accepted: a string would be read cut short */
	if (ok && flux_bins_select(&c.bins, 60, INT64_MAX, &sel) == 0)
		for (i = 0; i < sel.n; i++)
			if (!isfinite(sel.v[i].value) || sel.v[i].ts % 60 != 0 ||
			    (i > 0 && sel.v[i].ts <= sel.v[i - 1].ts))
				abort();
	flux_series_parser_free(p);
	flux_bins_free(&c.bins);
	flux_series_free(&whole);
	flux_series_free(&sel);
	return 0;
}
