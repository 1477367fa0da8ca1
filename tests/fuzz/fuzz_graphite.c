/*
 * fuzz_graphite - libFuzzer harness for the Graphite parser of series.c (a remote graphite-web render answer),
 * with the checks of series_fuzz.h.
 *
 * Build: see tests/fuzz/README.
 */
#include "series_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_series(FLUX_SERIES_GRAPHITE, data, size);
}
