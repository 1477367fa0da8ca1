/*
 * pylist.c - the reader of pylist.h.
 *
 * Grammar (Python 3 literal syntax, restricted to what repr() of a list of
 * str produces, plus the whitespace and trailing comma Python allows):
 *
 *	text	= ws ( str ws | list ) EOF	; str: decode, read text again
 *	list	= "[" ws [ str ws *( "," ws str ws ) [ "," ws ] ] "]" ws
 *	str	= "'" *char "'" / DQUOTE *char DQUOTE
 *
 * Escapes are Python's: \\ \' \" \a \b \f \n \r \t \v, \<newline>, octal
 * \o \oo \ooo, \xhh, \uhhhh, \Uhhhhhhhh. \N{...}, unknown escapes, prefixes
 * (u'', r'', b''), implicit concatenation ('a' 'b'), triple quotes, raw
 * newlines in a literal, NUL and surrogates are refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pylist.h"
#include "util.h"

struct rd {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	char		*err;
};

static int
fail(struct rd *r, const char *what)
{
	return flux_errf(r->err, "%s at offset %zu", what, r->pos);
}

static void
skip_ws(struct rd *r)
{
	while (r->pos < r->len && strchr(" \t\n\r\f", r->s[r->pos]) != NULL &&
	    r->s[r->pos] != '\0')
		r->pos++;
}

/* Append code point cp as UTF-8; NUL and surrogates cannot be kept. */
static int
add_utf8(struct rd *r, struct flux_buf *b, uint32_t cp)
{
	char	u[4];
	size_t	n;

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return fail(r, "escape gives NUL, a surrogate or no character");
	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return flux_buf_add(b, u, n) == -1 ? fail(r, "out of memory") : 0;
}

/* Exactly n hex digits at the read position (\x, \u, \U). */
static int
hex_escape(struct rd *r, size_t n, uint32_t *cp)
{
	size_t	i;
	int	d;

	*cp = 0;
	for (i = 0; i < n; i++) {
		if (r->pos >= r->len || (d = flux_hexval(r->s[r->pos])) == -1)
			return fail(r, "truncated hex escape");
		*cp = (*cp << 4) | (uint32_t)d;
		r->pos++;
	}
	return 0;
}

/* One to three octal digits; the first is already known to be one. */
static uint32_t
octal_escape(struct rd *r)
{
	uint32_t	cp = 0;
	size_t		i;

	for (i = 0; i < 3 && r->pos < r->len && r->s[r->pos] >= '0' &&
	    r->s[r->pos] <= '7'; i++)
		cp = cp * 8 + (uint32_t)(r->s[r->pos++] - '0');
	return cp;
}

/* The escape after a backslash (r->pos is past the backslash). */
static int
escape(struct rd *r, struct flux_buf *b)
{
	static const char	 simple_in[] = "\\'\"abfnrtv";
	static const char	 simple_out[] = "\\'\"\a\b\f\n\r\t\v";
	const char		*p;
	uint32_t		 cp;
	char			 c;

	if (r->pos >= r->len)
		return fail(r, "unterminated string");
	c = r->s[r->pos];
	if (c != '\0' && (p = strchr(simple_in, c)) != NULL) {
		r->pos++;
		return flux_buf_add(b, &simple_out[p - simple_in], 1) == -1 ?
		    fail(r, "out of memory") : 0;
	}
	if (c == '\n') {		/* line continuation: nothing */
		r->pos++;
		return 0;
	}
	if (c >= '0' && c <= '7')
		return add_utf8(r, b, octal_escape(r));
	r->pos++;
	if (c == 'x' || c == 'u' || c == 'U') {
		if (hex_escape(r, c == 'x' ? 2 : c == 'u' ? 4 : 8, &cp) == -1)
			return -1;
		return add_utf8(r, b, cp);
	}
	r->pos--;
	return fail(r, "unknown escape");
}

/* A str literal at the read position, decoded into b. */
static int
str_literal(struct rd *r, struct flux_buf *b)
{
	char	q, c;

	b->len = 0;
	if (flux_buf_grow(b, 0) == -1)
		return fail(r, "out of memory");
	b->ptr[0] = '\0';
	if (r->pos >= r->len || (r->s[r->pos] != '\'' && r->s[r->pos] != '"'))
		return fail(r, "expected a quoted string");
	q = r->s[r->pos++];
	if (r->pos + 1 < r->len && r->s[r->pos] == q && r->s[r->pos + 1] == q)
		return fail(r, "triple-quoted strings are not supported");
	for (;;) {
		if (r->pos >= r->len)
			return fail(r, "unterminated string");
		c = r->s[r->pos++];
		if (c == q)
			return 0;
		if (c == '\n' || c == '\r' || c == '\0') {
			r->pos--;
			return fail(r, "line break or NUL inside a string");
		}
		if (c == '\\') {
			if (escape(r, b) == -1)
				return -1;
		} else if (flux_buf_add(b, &c, 1) == -1)
			return fail(r, "out of memory");
	}
}

/* "[" items "]": the read position is at "[". */
static int
list(struct rd *r, struct flux_list *out)
{
	struct flux_buf	b = { 0 };
	int		rc = -1;

	r->pos++;
	for (;;) {
		skip_ws(r);
		if (r->pos < r->len && r->s[r->pos] == ']')
			break;
		if (str_literal(r, &b) == -1)
			goto done;
		if (flux_list_add(out, b.ptr) == -1) {
			fail(r, "out of memory");
			goto done;
		}
		skip_ws(r);
		if (r->pos < r->len && r->s[r->pos] == ',') {
			r->pos++;
			continue;
		}
		if (r->pos >= r->len || r->s[r->pos] != ']') {
			fail(r, "expected ',' or ']'");
			goto done;
		}
		break;
	}
	r->pos++;
	skip_ws(r);
	rc = (r->pos == r->len) ? 0 : fail(r, "unexpected text after the list");
done:
	flux_buf_free(&b);
	return rc;
}

/*
 * A str literal that wraps the list: decode it and read its content as a
 * text of its own (offsets in errors are then within the decoded text).
 */
static int
unwrap(struct rd *r, struct flux_list *out, int depth)
{
	struct flux_buf	b = { 0 };
	struct rd	inner;
	int		rc = -1;

	if (depth >= FLUX_PYLIST_MAX_WRAP) {
		fail(r, "too many levels of quoting");
		goto done;
	}
	if (str_literal(r, &b) == -1)
		goto done;
	skip_ws(r);
	if (r->pos != r->len) {
		fail(r, "unexpected text after the string");
		goto done;
	}
	inner = (struct rd){ b.ptr, b.len, 0, r->err };
	skip_ws(&inner);
	if (inner.pos < inner.len && inner.s[inner.pos] == '[')
		rc = list(&inner, out);
	else if (inner.pos < inner.len && (inner.s[inner.pos] == '\'' ||
	    inner.s[inner.pos] == '"'))
		rc = unwrap(&inner, out, depth + 1);
	else
		rc = fail(&inner, "expected a Python list");
done:
	flux_buf_free(&b);
	return rc;
}

/*
 * Read the Python list of str in s[0..len) into out, unwrapping at most
 * FLUX_PYLIST_MAX_WRAP str literals around it. On success out holds the
 * decoded items (UTF-8, no NUL), which the caller frees with
 * flux_list_free(); on failure out is empty and err says what and where.
 */
int
flux_pylist_parse(const char *s, size_t len, struct flux_list *out,
    char err[])
{
	struct rd	r = { s, len, 0, err };
	int		rc;

	out->v = NULL;
	out->n = 0;
	skip_ws(&r);
	if (r.pos < len && s[r.pos] == '[')
		rc = list(&r, out);
	else if (r.pos < len && (s[r.pos] == '\'' || s[r.pos] == '"'))
		rc = unwrap(&r, out, 0);
	else
		rc = fail(&r, "expected a Python list");
	if (rc == -1)
		flux_list_free(out);
	return rc;
}
