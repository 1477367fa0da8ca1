/*
 * fuzz_spool - libFuzzer harness for the spool file reader
 * (flux_spool_read, common/spool.c). A spool file is read back as
 * untrusted input: an operator may edit one, a disk may damage one. The
 * input is written to a temporary file and read; every point accepted must
 * hold a valid metric name and a finite value, and spooling the points
 * again must produce a file that reads back to the same points.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "metric.h"
#include "spool.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char	dir[] = "/tmp/fuzz_spool.XXXXXX";
static char	path[FLUX_PATH_MAX];

static void
check(const struct flux_points *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		if (flux_metric_invalid(p->v[i].name) != NULL ||
		    !isfinite(p->v[i].value) || p->v[i].ts < 0)
			abort();
}

/* Write the points as a new spool file, read it back, compare, remove it. */
static void
respool(const struct flux_points *p)
{
	struct flux_conf	 c = { 0 };
	struct flux_points	 back = { 0 };
	char			 err[FLUX_ERRLEN], f[FLUX_PATH_MAX];
	struct dirent		*e;
	DIR			*d;
	size_t			 i;

	c.spool_path = dir;
	if (p->n == 0 || flux_spool_write(&c, p, err) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		if (flux_spool_read(f, &back, err) == -1)
			abort();
		unlink(f);
	}
	closedir(d);
	if (back.n != p->n)
		abort();
	for (i = 0; i < p->n; i++)
		if (strcmp(back.v[i].name, p->v[i].name) != 0 ||
		    back.v[i].ts != p->v[i].ts || back.v[i].value != p->v[i].value)
			abort();
	flux_points_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flux_points	 p = { 0 };
	char			 err[FLUX_ERRLEN];
	FILE			*f;

	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s.in", dir);
	}
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if (flux_spool_read(path, &p, err) == 0) {
		check(&p);
		respool(&p);
	}
	flux_points_free(&p);
	return 0;
}
