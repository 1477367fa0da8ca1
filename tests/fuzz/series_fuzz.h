/*
 * series_fuzz.h - the body shared by fuzz_graphite and fuzz_prometheus:
 * parse a remote answer (untrusted) with the given parser, then filter and
 * resample as flux-batch does, checking the invariants the delivery code
 * relies on: finite values, timestamps in range, bins strictly increasing
 * and minute-aligned; and an answer holding a \u0000 escape in a string is
 * refused (json.h). Included by exactly one harness per binary.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_fuzz.h"
#include "series.h"
#include "util.h"

typedef int (*series_parser)(const char *, size_t, struct flux_series *,
    char *);

static int
fuzz_series(series_parser parse, const uint8_t *data, size_t size)
{
	struct flux_series	s = { 0 };
	char			err[FLUX_ERRLEN];
	size_t			i;

	if (parse((const char *)data, size, &s, err) == -1) {
		if (s.n != 0)
			abort();
	} else if (json_has_nul_escape(data, size))
		abort();	/* accepted: a string would be read cut short */
	for (i = 0; i < s.n; i++)
		if (!isfinite(s.v[i].value) || s.v[i].ts < 0 ||
		    s.v[i].ts > UINT32_MAX)
			abort();
	flux_series_keep(&s, 60, INT64_MAX);
	flux_series_resample(&s, 60);
	for (i = 0; i < s.n; i++)
		if (!isfinite(s.v[i].value) || s.v[i].ts % 60 != 0 ||
		    (i > 0 && s.v[i].ts <= s.v[i - 1].ts))
			abort();
	flux_series_free(&s);
	return 0;
}
