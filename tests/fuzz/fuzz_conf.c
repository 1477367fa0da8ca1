/*
 * fuzz_conf - libFuzzer harness for flux_conf_load (common/conf.c): the
 * input is written to a private temporary file (mode 0600) and loaded. A
 * file that loads must hold settings within their documented ranges; one
 * that does not must leave an error message naming the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char	path[] = "/tmp/fuzz_conf.XXXXXX";

static void
check(const struct flux_conf *c)
{
	size_t	i;

	if (c->self_api_key != NULL && strlen(c->self_api_key) != FLUX_KEY_LEN)
		abort();
	for (i = 0; i < c->api_keys.n; i++)
		if (c->api_keys.v[i].left == NULL || c->api_keys.v[i].right == NULL)
			abort();
	if (c->max_body_bytes <= 0 || c->max_inflated_bytes <= 0 ||
	    c->max_metrics_per_post <= 0 || c->carbon_timeout_ms <= 0 ||
	    c->carbon_host == NULL || c->spool_path == NULL)
		abort();
	/* Every sentinel that loaded is one the store can split and dial. */
	for (i = 0; i < c->redis_sentinels.n; i++)
		if (flux_conf_hostport(c->redis_sentinels.v[i], NULL, 0, NULL) == -1)
			abort();
	if (c->redis_sentinel_master == NULL || *c->redis_sentinel_master == '\0' ||
	    c->batch_lease_seconds < 2)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 fd = -1;
	struct flux_conf	 c;
	char			 err[FLUX_ERRLEN];

	if (fd == -1 && (fd = mkstemp(path)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&c, 0, sizeof(c));
	if (flux_conf_load(path, &c, err) == 0) {
		check(&c);
		flux_conf_free(&c);
	} else if (strstr(err, path) == NULL)
		abort();
	return 0;
}
