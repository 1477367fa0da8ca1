/*
 * fuzz_xls - libFuzzer harness for the xls reader (batch/xls.c): the
 * input is the file, read as a Compound File holding BIFF8 records, its
 * cells handed to a report (batch/report.c).
 */
#include <stdint.h>
#include <stdio.h>

#include "sheet_fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE	*fp = fuzz_file("fuzz_xls");

	if (ftruncate(fileno(fp), 0) == -1 || pwrite(fileno(fp), data, size, 0) !=
	    (ssize_t)size)
		abort();
	fuzz_read(0);
	return 0;
}
