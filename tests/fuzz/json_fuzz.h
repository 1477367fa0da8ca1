/*
 * json_fuzz.h - the oracle the JSON harnesses share for json.h's rule: a
 * JSON text holding the escape \u0000 in a string must be refused, and so
 * must a \u escape that is not four hex digits (cJSON decodes it as 0).
 * Written apart from the scanner it checks: an escape is a "u" after an
 * odd run of backslashes (an even run is escaped backslashes, then text),
 * and in a text that parses, backslashes only stand inside strings.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static int
json_has_nul_escape(const uint8_t *p, size_t n)
{
	size_t	i = 0, run;

	while (i < n) {
		if (p[i] != '\\') {
			i++;
			continue;
		}
		for (run = 0; i + run < n && p[i + run] == '\\'; run++)
			;
		i += run;
		if (run % 2 == 1 && i < n && p[i] == 'u' && (n - i < 5 ||
		    memcmp(p + i, "u0000", 5) == 0 || !isxdigit(p[i + 1]) ||
		    !isxdigit(p[i + 2]) || !isxdigit(p[i + 3]) || !isxdigit(p[i + 4])))
			return 1;
	}
	return 0;
}
