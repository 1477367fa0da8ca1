/*
 * fuzz_date - libFuzzer harness for common/date.c. The first byte picks
 * the zone (UTC, New York, Lord Howe's half-hour DST, London) and whether
 * the text before the first NUL is an explicit date_format; the rest is
 * the date cell. Every result must be in range and, for the built-in
 * layouts, stable when parsed again (the zone cache must not change it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "util.h"

static const char *const zones[] = {
	"UTC", "America/New_York", "Australia/Lord_Howe", "Europe/London",
};

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 zone = -1;
	struct flux_date	 d;
	char			 fmt[FLUX_DATE_FORMAT_MAX + 1], cell[256], err[FLUX_ERRLEN];
	const char		*why, *use = NULL;
	const uint8_t		*nul;
	size_t			 n;
	int64_t			 a, b;

	if (size < 1)
		return 0;
	if (zone != (data[0] & 3)) {
		zone = data[0] & 3;
		if (flux_date_set_tz(zones[zone], err) == -1)
			abort();
	}
	data++, size--;
	if ((data[-1] & 4) && (nul = memchr(data, '\0', size)) != NULL &&
	    (size_t)(nul - data) <= FLUX_DATE_FORMAT_MAX) {
		memcpy(fmt, data, (size_t)(nul - data));
		fmt[nul - data] = '\0';
		use = fmt;
		size -= (size_t)(nul - data) + 1;
		data = nul + 1;
	}
	n = size < sizeof(cell) ? size : sizeof(cell) - 1;
	memcpy(cell, data, n);
	cell[n] = '\0';
	flux_date_init(&d, use);
	if (flux_date_parse(&d, cell, &a, &why) == 0) {
		if (a < 0 || a > (int64_t)UINT32_MAX)
			abort();
		if (use == NULL && (flux_date_parse(&d, cell, &b, &why) != 0 || a != b))
			abort();
	}
	return 0;
}
