/*
 * json.c - see json.h. The scanner only needs to know where strings and
 * escapes are: in JSON a backslash can only stand inside a string, so an
 * escape "\u0000" is found by following the escapes, and "\\u0000" (an
 * escaped backslash, then text) is not one. Text that is not JSON at all
 * is the parser's to refuse.
 */
#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"

enum {
	S_OUT,		/* between values */
	S_STR,		/* inside a string */
	S_ESC,		/* after a backslash in a string */
	S_HEX		/* in the four hex digits of \u */
};

static const char nul_escape[] = "a string holds U+0000 (NUL)";
static const char bad_escape[] = "a string holds a bad unicode escape (not 4 hex digits)";

/* One byte; -1 with *why when it breaks a rule. */
static int
scan_byte(struct flux_json_scan *s, char c, size_t max, const char **why)
{
	switch (s->state) {
	case S_OUT:
		if (c == '"')
			s->state = S_STR, s->token = 0;
		else if (strchr(" \t\r\n,:[]{}", c) != NULL)
			s->token = 0;
		else
			s->token++;
		break;
	case S_STR:
		s->token++;
		if (c == '\\')
			s->state = S_ESC;
		else if (c == '"')
			s->state = S_OUT, s->token = 0;
		break;
	case S_ESC:
		s->token++;
		s->state = S_STR;
		if (c == 'u')
			s->state = S_HEX, s->digits = s->zeros = 0;
		break;
	default:
		s->token++;
		/* cJSON reads a \u escape that is not four hex digits as 0. */
		if (!isxdigit((unsigned char)c)) {
			*why = bad_escape;
			return -1;
		}
		s->zeros += c == '0';
		if (++s->digits == 4) {
			if (s->zeros == 4) {
				*why = nul_escape;
				return -1;
			}
			s->state = S_STR;
		}
		break;
	}
	if (max > 0 && s->token > max) {
		*why = s->state == S_OUT ? "a number or word too long" :
		    "a string too long";
		return -1;
	}
	return 0;
}

/*
 * Scan the next n bytes of a JSON text. token_max bounds the bytes of one
 * string (as written, escapes included) or bare token; 0 for no bound.
 * Returns 0, or -1 with *why (a static message) at a NUL byte, a \u0000
 * escape in a string, or a token over the bound.
 */
int
flux_json_scan(struct flux_json_scan *s, const char *p, size_t n,
    size_t token_max, const char **why)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0') {
			*why = "a NUL byte in the text";
			return -1;
		}
		if (scan_byte(s, p[i], token_max, why) == -1)
			return -1;
	}
	return 0;
}

/*
 * Parse a whole JSON text of len bytes (nothing but white space may follow
 * the value). Returns the root (the caller deletes it), or NULL with *why:
 * "not JSON", or a rule of flux_json_scan broken.
 */
struct cJSON *
flux_json_parse(const char *text, size_t len, const char **why)
{
	struct flux_json_scan	 s = { 0 };
	const char		*end = NULL;
	cJSON			*root;

	if (flux_json_scan(&s, text, len, 0, why) == -1)
		return NULL;
	if ((root = cJSON_ParseWithLengthOpts(text, len, &end, 0)) == NULL) {
		*why = "not JSON";
		return NULL;
	}
	while (end < text + len && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end != text + len) {
		*why = "not JSON (text after the value)";
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
