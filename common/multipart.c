/*
 * multipart.c - the parser of multipart.h.
 *
 * The body is a preamble, then parts each introduced by the delimiter
 * CRLF "--" boundary, then the close delimiter (the same followed by
 * "--") and an epilogue. The body may open with the delimiter itself, so
 * matching starts as if a CRLF had just been seen. A boundary holds no CR
 * (RFC 2046 bchars), so the delimiter's only CR is its first byte: on a
 * mismatch the bytes matched so far are plain content and matching
 * restarts at the current byte, with no back-tracking table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"
#include "util.h"

enum state {
	S_PREAMBLE,	/* before the first delimiter: discarded */
	S_AFTER,	/* a delimiter matched: "--", padding or CRLF next */
	S_CLOSE,	/* "-" seen after a delimiter, a second one closes */
	S_PADDING,	/* transport padding (spaces, tabs) before CRLF */
	S_LF,		/* CR seen, LF next */
	S_HEADERS,	/* a part's header block, up to an empty line */
	S_BODY,		/* a part's content */
	S_EPILOGUE	/* after the close delimiter: discarded */
};

struct flux_mp {
	struct flux_mp_cb	 cb;
	enum state		 state;
	char			 delim[4 + FLUX_MP_BOUNDARY_MAX + 1];
	size_t			 dlen;
	size_t			 matched;	/* bytes of delim matched */
	char			 hdr[FLUX_MP_HEADER_MAX + 1];
	size_t			 hlen;
	size_t			 parts;
	const char		*error;
};

static int
bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("'()+_,-./:=? ", c));
}

/* RFC 2046: 1 to 70 bchars, not ending in a space. */
static int
boundary_ok(const char *b, size_t n)
{
	size_t	i;

	if (n == 0 || n > FLUX_MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!bchar((unsigned char)b[i]))
			return 0;
	return 1;
}

static int
tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/*
 * Read a parameter value at *p, a token or a quoted-string (RFC 9110
 * section 5.6.6, quoted-pair allowed), into out (at most max bytes).
 * Returns -1 when malformed or too long; *p is left after the value.
 */
static int
param_value(const char **p, char *out, size_t max)
{
	const char	*s = *p;
	size_t		 n = 0;

	if (*s != '"') {
		while (tchar((unsigned char)*s) && n < max)
			out[n++] = *s++;
		out[n] = '\0';
		*p = s;
		return (n == 0 || tchar((unsigned char)*s)) ? -1 : 0;
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		if (*s == '\0' || (unsigned char)*s < 0x20 || *s == 0x7f || n == max)
			return -1;
		out[n++] = *s;
	}
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

/* Skip spaces, then expect ";" and a "name=" whose name is copied to out. */
static int
param_name(const char **p, char *out, size_t max)
{
	const char	*s = *p;
	size_t		 n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != ';')
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	while (tchar((unsigned char)*s) && n < max)
		out[n++] = *s++;
	out[n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (n == 0 || *s++ != '=')
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	*p = s;
	return 0;
}

/* Skip to the parameters of media type (or disposition) type in s. */
static const char *
after_type(const char *s, const char *type)
{
	size_t	n = strlen(type);

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, type, n) != 0)
		return NULL;
	s += n;
	return (*s == '\0' || *s == ';' || *s == ' ' || *s == '\t') ? s : NULL;
}

/*
 * The boundary of a CONTENT_TYPE "multipart/form-data; boundary=...";
 * -1 when it is another type or the boundary is missing, repeated or not
 * a valid RFC 2046 boundary.
 */
int
flux_mp_boundary(const char *ct, char out[FLUX_MP_BOUNDARY_MAX + 1])
{
	char		 name[32], val[FLUX_MP_BOUNDARY_MAX + 2];
	const char	*s;
	int		 found = 0;

	if (ct == NULL || (s = after_type(ct, "multipart/form-data")) == NULL)
		return -1;
	while (*s != '\0') {
		if (param_name(&s, name, sizeof(name) - 1) == -1 ||
		    param_value(&s, val, sizeof(val) - 1) == -1)
			return -1;
		if (strcasecmp(name, "boundary") != 0)
			continue;
		if (found++ || !boundary_ok(val, strlen(val)))
			return -1;
		memcpy(out, val, strlen(val) + 1);
		while (*s == ' ' || *s == '\t')
			s++;
	}
	return found ? 0 : -1;
}

/* Read the form-data disposition's name and filename parameters. */
static int
disposition(const char *v, struct flux_mp_part *part)
{
	char		 name[32], val[FLUX_MP_NAME_MAX + 1];
	const char	*s;
	int		 have_name = 0;

	if ((s = after_type(v, "form-data")) == NULL)
		return -1;
	while (*s != '\0') {
		if (param_name(&s, name, sizeof(name) - 1) == -1 ||
		    param_value(&s, val, FLUX_MP_NAME_MAX) == -1)
			return -1;
		if (strcasecmp(name, "name") == 0) {
			if (have_name++)
				return -1;
			memcpy(part->name, val, strlen(val) + 1);
		} else if (strcasecmp(name, "filename") == 0) {
			if (part->has_filename++)
				return -1;
			memcpy(part->filename, val, strlen(val) + 1);
		}
		while (*s == ' ' || *s == '\t')
			s++;
	}
	return (have_name && *part->name != '\0') ? 0 : -1;
}

/*
 * Parse the header block in mp->hdr (lines ending in CRLF, the empty line
 * removed). Only Content-Disposition matters; folded lines are refused.
 */
static int
parse_headers(struct flux_mp *mp, struct flux_mp_part *part)
{
	char	*line = mp->hdr, *eol, *colon;
	int	 seen = 0;

	memset(part, 0, sizeof(*part));
	for (; *line != '\0'; line = eol + 2) {
		if ((eol = strstr(line, "\r\n")) == NULL)
			return -1;
		*eol = '\0';
		if ((colon = strchr(line, ':')) == NULL || colon == line ||
		    line[0] == ' ' || line[0] == '\t')
			return -1;
		*colon = '\0';
		if (strcasecmp(line, "Content-Disposition") != 0)
			continue;
		if (seen++ || disposition(colon + 1, part) == -1)
			return -1;
	}
	return seen ? 0 : -1;
}

struct flux_mp *
flux_mp_new(const char *boundary, const struct flux_mp_cb *cb)
{
	struct flux_mp	*mp;
	size_t		 n = strlen(boundary);

	if (!boundary_ok(boundary, n) || (mp = calloc(1, sizeof(*mp))) == NULL)
		return NULL;
	mp->cb = *cb;
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, boundary, n + 1);
	mp->dlen = 4 + n;
	mp->matched = 2;	/* the body may open with the delimiter */
	mp->state = S_PREAMBLE;
	return mp;
}

void
flux_mp_free(struct flux_mp *mp)
{
	free(mp);
}

static int
fail(struct flux_mp *mp, const char *why)
{
	if (mp->error == NULL)
		mp->error = why;
	return -1;
}

/* Content of the current part (discarded outside a part). */
static int
emit(struct flux_mp *mp, const char *p, size_t n)
{
	if (mp->state != S_BODY || n == 0)
		return 0;
	return mp->cb.data(mp->cb.ctx, p, n) == -1 ? fail(mp, "aborted") : 0;
}

/*
 * Scan content for the delimiter; returns the bytes of buf consumed, the
 * state having moved to S_AFTER when the delimiter was found, or -1.
 */
static long
scan(struct flux_mp *mp, const char *buf, size_t n)
{
	const char	*cr;
	size_t		 i = 0;

	while (i < n) {
		if (mp->matched == 0) {
			cr = memchr(buf + i, '\r', n - i);
			if (emit(mp, buf + i, (cr ? (size_t)(cr - buf) : n) - i) == -1)
				return -1;
			if (cr == NULL)
				return (long)n;
			i = (size_t)(cr - buf) + 1;
			mp->matched = 1;
		} else if (buf[i] == mp->delim[mp->matched]) {
			i++;
			if (++mp->matched == mp->dlen) {
				mp->matched = 0;
				if (mp->state == S_BODY &&
				    mp->cb.end(mp->cb.ctx) == -1)
					return fail(mp, "aborted");
				mp->state = S_AFTER;
				return (long)i;
			}
		} else {
			/* Not a delimiter after all: what matched is content. */
			if (emit(mp, mp->delim, mp->matched) == -1)
				return -1;
			mp->matched = 0;
		}
	}
	return (long)n;
}

/* One byte of a header block; the part begins at the empty line. */
static int
header_byte(struct flux_mp *mp, char c)
{
	struct flux_mp_part	part;

	if (mp->hlen == FLUX_MP_HEADER_MAX)
		return fail(mp, "part headers too long");
	mp->hdr[mp->hlen++] = c;
	mp->hdr[mp->hlen] = '\0';
	if (c == '\0')
		return fail(mp, "NUL in part headers");
	if (mp->hlen == 2 && memcmp(mp->hdr, "\r\n", 2) == 0)
		return fail(mp, "part without Content-Disposition");
	if (mp->hlen < 4 || memcmp(mp->hdr + mp->hlen - 4, "\r\n\r\n", 4) != 0)
		return 0;
	mp->hdr[mp->hlen - 2] = '\0';
	if (parse_headers(mp, &part) == -1)
		return fail(mp, "invalid part headers");
	if (++mp->parts > FLUX_MP_PARTS_MAX)
		return fail(mp, "too many parts");
	if (mp->cb.begin(mp->cb.ctx, &part) == -1)
		return fail(mp, "aborted");
	mp->state = S_BODY;
	return 0;
}

/* One byte between a delimiter and the next part's headers. */
static int
delim_byte(struct flux_mp *mp, char c)
{
	switch (mp->state) {
	case S_AFTER:
		if (c == '-')
			mp->state = S_CLOSE;
		else if (c == ' ' || c == '\t')
			mp->state = S_PADDING;
		else if (c == '\r')
			mp->state = S_LF;
		else
			return fail(mp, "junk after a boundary");
		return 0;
	case S_CLOSE:
		if (c != '-')
			return fail(mp, "junk after a boundary");
		mp->state = S_EPILOGUE;
		return 0;
	case S_PADDING:
		if (c == '\r')
			mp->state = S_LF;
		else if (c != ' ' && c != '\t')
			return fail(mp, "junk after a boundary");
		return 0;
	default:	/* S_LF */
		if (c != '\n')
			return fail(mp, "junk after a boundary");
		mp->state = S_HEADERS;
		mp->hlen = 0;
		return 0;
	}
}

/*
 * Feed the next n bytes of the body. Returns 0, or -1 with err set when
 * the body is malformed, over a bound or a callback stopped it; after -1
 * the parser must not be fed again.
 */
int
flux_mp_feed(struct flux_mp *mp, const char *buf, size_t n, char err[])
{
	size_t	i = 0;
	long	used;

	while (i < n && mp->error == NULL) {
		switch (mp->state) {
		case S_PREAMBLE:
		case S_BODY:
			if ((used = scan(mp, buf + i, n - i)) == -1)
				break;
			i += (size_t)used;
			break;
		case S_HEADERS:
			header_byte(mp, buf[i++]);
			break;
		case S_EPILOGUE:
			i = n;
			break;
		default:
			delim_byte(mp, buf[i++]);
			break;
		}
	}
	if (mp->error != NULL)
		return flux_errf(err, "%s", mp->error);
	return 0;
}

/* The body has ended: -1 unless the close delimiter was seen. */
int
flux_mp_finish(struct flux_mp *mp, char err[])
{
	if (mp->error != NULL || mp->state != S_EPILOGUE)
		return flux_errf(err, "%s", mp->error ? mp->error :
		    "body ends before the closing boundary");
	return 0;
}
