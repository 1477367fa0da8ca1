/*
 * query.h - QUERY_STRING decoding (RFC 3875 section 4.1.7, HTML form
 * encoding): name=value pairs split at '&', '+' is a space, %XX a byte.
 */
#ifndef FLUX_QUERY_H
#define FLUX_QUERY_H

#include <stddef.h>

struct flux_param {
	char	*name;
	char	*value;
};

struct flux_query {
	struct flux_param	*v;
	size_t			 n;
};

/* Longest query string decoded; Apache's request line limit is 8190. */
#define FLUX_QUERY_MAX 65536

int	flux_query_parse(const char *qs, struct flux_query *q);
void	flux_query_free(struct flux_query *q);

#endif
