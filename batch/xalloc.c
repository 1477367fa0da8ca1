/*
 * xalloc.c - see xalloc.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* The end of the run: said once, in the log cron mails. */
static void
out_of_memory(size_t n, size_t size)
{
	flux_err("out of memory (%zu x %zu bytes); stopping, the next run "
	    "takes over", n, size);
	exit(1);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		out_of_memory(n, size);
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	void	*q;

	if (size != 0 && n > SIZE_MAX / size)
		out_of_memory(n, size);
	if ((q = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		out_of_memory(n, size);
	return q;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		out_of_memory(1, strlen(s) + 1);
	return p;
}
