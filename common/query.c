/*
 * query.c - the decoder of query.h. Malformed percent-encoding and %00 are
 * errors rather than guesses: a parameter we cannot read exactly is one we
 * must not act on.
 */
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "util.h"

/* Decode s[0..n) into a new string; NULL when malformed or out of memory. */
static char *
decode(const char *s, size_t n)
{
	char	*out = malloc(n + 1), *w = out;
	size_t	 i;
	int	 hi, lo;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*w++ = ' ';
		else if (s[i] != '%')
			*w++ = s[i];
		else {
			if (i + 2 >= n)
				goto bad;
			if ((hi = flux_hexval(s[i + 1])) < 0 || (lo = flux_hexval(s[i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				goto bad;
			*w++ = (char)(hi * 16 + lo);
			i += 2;
		}
	}
	*w = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int
add_param(struct flux_query *q, const char *s, size_t n)
{
	struct flux_param	*v;
	const char		*eq = memchr(s, '=', n);
	size_t			 nl = eq ? (size_t)(eq - s) : n;

	if ((v = realloc(q->v, (q->n + 1) * sizeof(*v))) == NULL)
		return -1;
	q->v = v;
	v[q->n].name = decode(s, nl);
	v[q->n].value = eq ? decode(eq + 1, n - nl - 1) : strdup("");
	q->n++;
	return (v[q->n - 1].name && v[q->n - 1].value) ? 0 : -1;
}

/* Split and decode qs into q; -1 when it is malformed. Free q either way. */
int
flux_query_parse(const char *qs, struct flux_query *q)
{
	const char	*p = qs, *amp;
	size_t		 n;

	q->v = NULL;
	q->n = 0;
	if (strlen(qs) > FLUX_QUERY_MAX)
		return -1;
	while (*p != '\0') {
		amp = strchr(p, '&');
		n = amp ? (size_t)(amp - p) : strlen(p);
		if (n > 0 && add_param(q, p, n) == -1)
			return -1;
		p += n + (amp != NULL);
	}
	return 0;
}

void
flux_query_free(struct flux_query *q)
{
	size_t	i;

	for (i = 0; i < q->n; i++) {
		free(q->v[i].name);
		free(q->v[i].value);
	}
	free(q->v);
	q->v = NULL;
	q->n = 0;
}
