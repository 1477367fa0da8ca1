/*
 * fuzz_prometheus - libFuzzer harness for the Prometheus parser of series.c (a remote query or query_range answer),
 * with the checks of series_fuzz.h.
 *
 * Build: see tests/fuzz/README.
 */
#include "series_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_series(FLUX_SERIES_PROMETHEUS, data, size);
}
