/*
 * retention.c - carbon's storage-schemas.conf, read the way carbon-cache
 * 1.1 reads it (carbon/storage.py): sections in file order, each with a
 * "pattern" (a regular expression searched in the metric name) and
 * "retentions" ("precision:span" archives); the first section whose
 * pattern matches decides a new metric's whisper file, and with none
 * carbon uses 60-second points for 7 days. A section without a pattern
 * or retentions, or whose archives whisper would refuse, is skipped, as
 * carbon skips it; a retention carbon cannot parse stops carbon, so it
 * is an error here too.
 *
 * Patterns are Python regular expressions; they are compiled here as
 * POSIX extended ones, which agree on what storage-schemas.conf files
 * hold (anchors, dots, classes, alternation). A pattern using a Python-only
 * construct is refused rather than matched differently.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention.h"

/* carbon's default for a metric no pattern matches: 60 s points, 7 days. */
#define DEFAULT_SECONDS (60 * 10080)
/* More archives than whisper files ever have. */
#define MAX_ARCHIVES 32
/*
 * Larger than any whisper file (12 bytes a point, 24 GiB) or precision
 * (a century) carbon could use; with them every product of the two fits
 * in 63 bits.
 */
#define MAX_POINTS INT32_MAX
/* Longer than any pattern a storage-schemas.conf needs. */
#define MAX_PATTERN 256
#define MAX_PRECISION (100LL * 365 * 86400)
/* A line longer than this is refused (the file is an administrator's). */
#define LINE_MAX_LEN 65536

struct schema {
	char	*name;
	char	*pattern;
	char	*retentions;
	regex_t	 re;
	int	 compiled;
	int64_t	 seconds;
};

struct flux_retention {
	char		*path;
	struct schema	*v;
	size_t		 n;
};

struct archive {
	int64_t	precision;
	int64_t	points;
};

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* carbon's units (carbon/util.py UnitMultipliers). */
static int64_t
unit_seconds(char u)
{
	switch (u) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	case 'y':
		return 365 * 86400;
	default:
		return 0;
	}
}

/* "60" or "60s": digits, then at most one unit letter; *unit 0 when none. */
static int
parse_amount(const char *s, int64_t *n, int64_t *unit)
{
	int64_t	v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX / 10 - 9) / (365 * 86400))
			return -1;
		v = v * 10 + (*s - '0');
	}
	*unit = 0;
	if (*s != '\0' && ((*unit = unit_seconds(*s)) == 0 || s[1] != '\0'))
		return -1;
	*n = v;
	return 0;
}

/*
 * One "precision:span" archive: the precision in seconds (a bare number is
 * seconds), the span a number of points or a duration (carbon divides it
 * by the precision, dropping the remainder).
 */
static int
parse_archive(char *def, struct archive *a)
{
	char	*colon = strchr(def, ':');
	int64_t	 n, unit;

	if (colon == NULL || strchr(colon + 1, ':') != NULL)
		return -1;
	*colon = '\0';
	if (parse_amount(trim(def), &n, &unit) == -1)
		return -1;
	a->precision = n * (unit ? unit : 1);
	if (a->precision <= 0 || a->precision > MAX_PRECISION ||
	    parse_amount(trim(colon + 1), &n, &unit) == -1)
		return -1;
	a->points = unit ? n * unit / a->precision : n;
	return a->points > MAX_POINTS ? -1 : 0;
}

static int
cmp_archive(const void *x, const void *y)
{
	const struct archive	*a = x, *b = y;

	return (a->precision > b->precision) - (a->precision < b->precision);
}

/* whisper.validateArchiveList: what carbon refuses to create. */
static const char *
invalid_archives(struct archive *a, size_t n)
{
	size_t	i;

	if (n == 0)
		return "no archives";
	qsort(a, n, sizeof(*a), cmp_archive);
	for (i = 0; i + 1 < n; i++) {
		if (a[i].precision == a[i + 1].precision)
			return "two archives with the same precision";
		if (a[i + 1].precision % a[i].precision != 0)
			return "a precision that does not divide the next one";
		if (a[i + 1].precision * a[i + 1].points <= a[i].precision * a[i].points)
			return "a coarser archive that does not cover a longer span";
		if (a[i].points < a[i + 1].precision / a[i].precision)
			return "too few points to consolidate into the next archive";
	}
	return NULL;
}

/*
 * The span of the longest archive of text into *seconds; -1 with why when
 * carbon could not parse it, 1 with why when whisper refuses it (carbon
 * then skips the section).
 */
static int
parse_retentions(const char *text, int64_t *seconds, char *why, size_t len)
{
	struct archive	 a[MAX_ARCHIVES];
	char		*copy, *item, *save = NULL, shown[65];
	const char	*bad;
	size_t		 n = 0;
	int		 rc = -1;

	if ((copy = strdup(text)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		/* Shown as written: parse_archive cuts its copy at the colon. */
		snprintf(shown, sizeof(shown), "%s", trim(item));
		if (n == MAX_ARCHIVES || parse_archive(item, &a[n]) == -1) {
			snprintf(why, len, "invalid retention '%s'", shown);
			goto done;
		}
		n++;
	}
	if ((bad = invalid_archives(a, n)) != NULL) {
		snprintf(why, len, "%s", bad);
		rc = 1;
		goto done;
	}
	*seconds = a[n - 1].precision * a[n - 1].points;
	rc = 0;
done:
	free(copy);
	return rc;
}

/*
 * A construct Python's re has and POSIX EREs lack or read otherwise
 * (lazy and possessive quantifiers among them), or one that makes glibc's
 * regcomp() build an automaton out of all proportion to the pattern: a
 * long pattern, a repetition bound above 255, more than two bounds.
 */
static int
unreadable(const char *p, char *why, size_t len)
{
	static const char *const marks[] = {
		"(?", "\\d", "\\D", "\\A", "\\Z", "*?", "+?", "??", "}?",
		"*+", "++", "?+", "}+",
	};
	const char	*b, *comma;
	size_t		 i, bounds = 0;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(p, marks[i]) != NULL) {
			snprintf(why, len, "uses '%s', which Flux cannot read as a "
			    "POSIX extended regular expression", marks[i]);
			return 1;
		}
	if (strlen(p) > MAX_PATTERN) {
		snprintf(why, len, "is longer than %d bytes", MAX_PATTERN);
		return 1;
	}
	for (b = strchr(p, '{'); b != NULL; b = strchr(b + 1, '{')) {
		comma = strpbrk(b, ",}");
		if (++bounds > 2 || strtol(b + 1, NULL, 10) > 255 ||
		    (comma != NULL && *comma == ',' &&
		    strtol(comma + 1, NULL, 10) > 255)) {
			snprintf(why, len, "has more than two repetition bounds, or "
			    "one above 255");
			return 1;
		}
	}
	return 0;
}

static void
schema_free(struct schema *s)
{
	free(s->name);
	free(s->pattern);
	free(s->retentions);
	if (s->compiled)
		regfree(&s->re);
}

void
flux_retention_free(struct flux_retention *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		schema_free(&r->v[i]);
	free(r->v);
	free(r->path);
	free(r);
}

/* Add a section being read; NULL when out of memory. */
static struct schema *
new_schema(struct flux_retention *r, const char *name)
{
	struct schema	*v;

	if ((v = realloc(r->v, (r->n + 1) * sizeof(*v))) == NULL)
		return NULL;
	r->v = v;
	memset(&v[r->n], 0, sizeof(*v));
	if ((v[r->n].name = strdup(name)) == NULL)
		return NULL;
	return &v[r->n++];
}

/* Set pattern or retentions (other keys are carbon's business). */
static int
set_key(struct schema *s, char *key, const char *val)
{
	char	**field = NULL, *p;

	for (p = key; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(key, "pattern") == 0)
		field = &s->pattern;
	else if (strcmp(key, "retentions") == 0)
		field = &s->retentions;
	if (field == NULL)
		return 0;
	free(*field);
	return (*field = strdup(val)) == NULL ? -1 : 0;
}

/*
 * Check a finished section: 0 kept, 1 skipped (as carbon skips it), -1
 * with why when carbon would refuse to start.
 */
static int
finish(struct schema *s, char *why, size_t len)
{
	char		 msg[256];
	int		 rc;

	if (s->pattern == NULL || s->retentions == NULL || *s->pattern == '\0')
		return 1;
	if ((rc = parse_retentions(s->retentions, &s->seconds, msg,
	    sizeof(msg))) != 0) {
		if (rc == -1)
			snprintf(why, len, "[%s]: %s", s->name, msg);
		return rc;
	}
	if (unreadable(s->pattern, msg, sizeof(msg))) {
		snprintf(why, len, "[%s]: pattern '%.128s' %s", s->name, s->pattern,
		    msg);
		return -1;
	}
	if ((rc = regcomp(&s->re, s->pattern, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &s->re, msg, sizeof(msg));
		snprintf(why, len, "[%s]: pattern '%.128s': %s", s->name,
		    s->pattern, msg);
		return -1;
	}
	s->compiled = 1;
	return 0;
}

/* Close the last section read: keep it, drop it, or fail. */
static int
close_section(struct flux_retention *r, char *why, size_t len)
{
	int	rc;

	if (r->n == 0)
		return 0;
	if ((rc = finish(&r->v[r->n - 1], why, len)) == 1)
		schema_free(&r->v[--r->n]);
	return rc == -1 ? -1 : 0;
}

/* One line of the file; -1 with why. */
static int
read_line(struct flux_retention *r, char *raw, char **lastval, char *why,
    size_t len)
{
	char	*t = trim(raw), *sep, *joined, *key;
	size_t	 n;

	if (*t == '\0' || *t == '#' || *t == ';')
		return 0;
	/* An indented line continues the value above (Python's ConfigParser). */
	if (isspace((unsigned char)*raw) && *lastval != NULL) {
		n = strlen(*lastval) + strlen(t) + 2;
		if ((joined = malloc(n)) == NULL)
			return snprintf(why, len, "out of memory"), -1;
		snprintf(joined, n, "%s %s", *lastval, t);
		free(*lastval);
		*lastval = joined;
		return 0;
	}
	*lastval = NULL;
	n = strlen(t);
	if (*t == '[' && t[n - 1] == ']') {
		t[n - 1] = '\0';
		if (close_section(r, why, len) == -1)
			return -1;
		if (new_schema(r, t + 1) == NULL)
			return snprintf(why, len, "out of memory"), -1;
		return 0;
	}
	if ((sep = t + strcspn(t, "=:")) == t + n || r->n == 0) {
		snprintf(why, len, r->n == 0 ? "a setting before any [section]" :
		    "expected 'name = value'");
		return -1;
	}
	*sep = '\0';
	key = trim(t);
	if (set_key(&r->v[r->n - 1], key, trim(sep + 1)) == -1)
		return snprintf(why, len, "out of memory"), -1;
	/* set_key lowered the key's case, as ConfigParser does. */
	if (strcmp(key, "retentions") == 0)
		*lastval = r->v[r->n - 1].retentions;
	return 0;
}

static int
read_file(FILE *f, struct flux_retention *r, char err[])
{
	char		*line = NULL, why[512], *lastval = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	unsigned	 lineno = 0;
	int		 rc = -1;

	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > LINE_MAX_LEN) {
			flux_errf(err, "'%s' line %u: line too long",
			    r->path, lineno);
			goto done;
		}
		if (read_line(r, line, &lastval, why, sizeof(why)) == -1) {
			flux_errf(err, "'%s' line %u: %s", r->path, lineno,
			    why);
			goto done;
		}
		/* A continued value was reallocated: keep the section's pointer. */
		if (lastval != NULL && r->n > 0)
			r->v[r->n - 1].retentions = lastval;
	}
	if (ferror(f))
		flux_errf(err, "cannot read '%s': %s", r->path,
		    strerror(errno));
	else if (close_section(r, why, sizeof(why)) == -1)
		flux_errf(err, "'%s' %s", r->path, why);
	else
		rc = 0;
done:
	free(line);
	return rc;
}

/*
 * Read carbon's storage-schemas.conf at path. NULL with err "" when path
 * is empty or names no file (carbon on another host: retention unknown),
 * NULL with err set when the file cannot be read or carbon would refuse
 * it. The caller frees the result with flux_retention_free().
 */
struct flux_retention *
flux_retention_load(const char *path, char err[])
{
	struct flux_retention	*r;
	FILE			*f;

	err[0] = '\0';
	if (*path == '\0')
		return NULL;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			flux_errf(err, "cannot open '%s': %s", path,
			    strerror(errno));
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->path = strdup(path)) == NULL) {
		flux_errf(err, "out of memory");
		free(r);
		fclose(f);
		return NULL;
	}
	if (read_file(f, r, err) == -1) {
		flux_retention_free(r);
		r = NULL;
	}
	fclose(f);
	return r;
}

/* The rule carbon applies to a new whisper file for metric. */
void
flux_retention_of(const struct flux_retention *r, const char *metric,
    struct flux_retention_rule *out)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (regexec(&r->v[i].re, metric, 0, NULL, 0) == 0) {
			out->section = r->v[i].name;
			out->retentions = r->v[i].retentions;
			out->seconds = r->v[i].seconds;
			return;
		}
	out->section = "carbon's default";
	out->retentions = "60:10080";
	out->seconds = DEFAULT_SECONDS;
}

const char *
flux_retention_path(const struct flux_retention *r)
{
	return r->path;
}

/* The sections carbon uses (those it would skip are not counted). */
size_t
flux_retention_count(const struct flux_retention *r)
{
	return r->n;
}
