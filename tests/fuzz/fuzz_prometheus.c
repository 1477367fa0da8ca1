/*
 * fuzz_prometheus - libFuzzer harness for flux_series_prometheus() (a remote Prometheus query or query_range answer),
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
