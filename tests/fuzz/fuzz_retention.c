/*
 * fuzz_retention - libFuzzer harness for flux_retention_load
 * (batch/retention.c): the input is written to a private temporary file
 * and read as carbon's storage-schemas.conf. A file that loads must give
 * every metric a retention from a named rule; one that does not must say
 * why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retention.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char	path[] = "/tmp/fuzz_retention.XXXXXX";

static const char *const metrics[] = {
	"carbon.agents.a.cpu", "temp_monitoring.warehouse.2.roof", "a", "x.y.z",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int			 fd = -1;
	struct flux_retention		*r;
	struct flux_retention_rule	 rule;
	char				 err[FLUX_ERRLEN];
	size_t				 i;

	if (fd == -1 && (fd = mkstemp(path)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if ((r = flux_retention_load(path, err)) == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		flux_retention_of(r, metrics[i], &rule);
		/* 0 is possible: an archive of no points keeps nothing. */
		if (rule.seconds < 0 || rule.section == NULL || rule.retentions == NULL)
			abort();
	}
	flux_retention_free(r);
	return 0;
}
