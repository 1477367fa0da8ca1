/*
 * date.c - the date reader of date.h.
 *
 * The fixed layouts are matched by hand rather than by strptime(3), which
 * skips spaces anywhere, depends on the locale and accepts a day of 31 in
 * any month. Calendar arithmetic is done on integers (days from civil,
 * Howard Hinnant's algorithm), never through the server's zone: Skyline
 * used strftime('%s') and so read every report in the server's zone
 * (reference Q33, Q46).
 *
 * A naive time w (wall clock, counted as if it were UTC) is converted by
 * trying the UTC offsets in force a day before and a day after it: each
 * candidate t = w - offset is kept if the zone really has that offset at
 * t. One candidate: the answer. Two different ones: w happens twice (the
 * hour repeated when DST ends). None: w never happens (the hour skipped
 * when DST starts). This assumes at most one offset change within two
 * days, true of every zone in the tz database.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "fs.h"
#include "util.h"

#define DEFAULT_TZDIR "/usr/share/zoneinfo"

/* Layouts of SPEC 8, in the order tried; each may end with an offset. */
static const char *const layouts[] = {
	"%d-%m-%Y %H:%M:%S",
	"%d-%m-%Y %H:%M",
	"%Y/%m/%d %H:%M:%S",
	"%Y-%m-%d %H:%M:%S",
	"%Y-%m-%dT%H:%M:%S",
};
#define NLAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

/* A broken-down civil time. */
struct civil {
	int64_t	y, mo, d, h, mi, s;
};

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int
days_in_month(int64_t y, int64_t m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

static int
civil_valid(const struct civil *c)
{
	return c->y >= 1 && c->y <= 9999 && c->mo >= 1 && c->mo <= 12 &&
	    c->d >= 1 && c->d <= days_in_month(c->y, c->mo) && c->h >= 0 &&
	    c->h <= 23 && c->mi >= 0 && c->mi <= 59 && c->s >= 0 && c->s <= 59;
}

/* Seconds since the epoch of a civil time read as UTC. */
static int64_t
civil_seconds(const struct civil *c)
{
	int64_t	y = c->mo <= 2 ? c->y - 1 : c->y;
	int64_t	era = floor_div(y, 400);
	int64_t	yoe = y - era * 400;
	int64_t	doy = (153 * (c->mo + (c->mo > 2 ? -3 : 9)) + 2) / 5 + c->d - 1;
	int64_t	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t	days = era * 146097 + doe - 719468;

	return days * 86400 + c->h * 3600 + c->mi * 60 + c->s;
}

/* Read 1..max digits (exactly max when exact) at *p. */
static int
digits(const char **p, int max, int exact, int64_t *out)
{
	int	n = 0;

	*out = 0;
	while (n < max && **p >= '0' && **p <= '9') {
		*out = *out * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return (n == 0 || (exact && n != max)) ? -1 : 0;
}

/* Match one layout at *p; *p is left after it. */
static int
match_layout(const char *lay, const char **p, struct civil *c)
{
	int64_t	*field;

	for (; *lay != '\0'; lay++) {
		if (*lay != '%') {
			if (*(*p)++ != *lay)
				return -1;
			continue;
		}
		switch (*++lay) {
		case 'Y': field = &c->y; break;
		case 'm': field = &c->mo; break;
		case 'd': field = &c->d; break;
		case 'H': field = &c->h; break;
		case 'M': field = &c->mi; break;
		default: field = &c->s; break;
		}
		if (digits(p, *lay == 'Y' ? 4 : 2, *lay == 'Y', field) == -1)
			return -1;
	}
	return 0;
}

/*
 * An optional UTC offset at p: "Z", or +HH, +HHMM, +HH:MM (or -), after
 * at most one space. Returns 1 and *off (seconds east of UTC) when there
 * is one, 0 at the end of the text, -1 for anything else.
 */
static int
utc_offset(const char *p, int64_t *off)
{
	int64_t	h, m = 0;
	int	sign;

	if (*p == ' ')
		p++;
	if (*p == '\0')
		return p[-1] == ' ' ? -1 : 0;
	if (p[0] == 'Z' && p[1] == '\0') {
		*off = 0;
		return 1;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = (*p++ == '-') ? -1 : 1;
	if (digits(&p, 2, 1, &h) == -1)
		return -1;
	if (*p == ':')
		p++;
	if (*p != '\0' && digits(&p, 2, 1, &m) == -1)
		return -1;
	if (*p != '\0' || h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 1;
}

/* The UTC offset of the process's zone at t. */
static int64_t
offset_at(int64_t t)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* Wall-clock seconds w in the process's zone to UTC; see the top of the file. */
static int
local_to_utc(struct flux_date *d, int64_t w, int64_t *out, const char **why)
{
	int64_t	minute = floor_div(w, 60), oa, ob;
	int	va, vb;

	if (d->cache_ok && d->cache_minute == minute) {
		*out = w - d->cache_offset;
		return 0;
	}
	oa = offset_at(w - 86400);
	ob = offset_at(w + 86400);
	va = offset_at(w - oa) == oa;
	vb = offset_at(w - ob) == ob;
	if (va && vb && oa != ob) {
		*why = "ambiguous local time (repeated when DST ends)";
		return -1;
	}
	if (!va && !vb) {
		*why = "non-existent local time (skipped when DST starts)";
		return -1;
	}
	d->cache_offset = va ? oa : ob;
	d->cache_minute = minute;
	d->cache_ok = 1;
	*out = w - d->cache_offset;
	return 0;
}

/* The civil time and offset of an explicit strptime format. */
static int
parse_format(const char *fmt, const char *s, struct civil *c, int64_t *off,
    int *has_off)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = 1;
	if ((end = strptime(s, fmt, &tm)) == NULL)
		return -1;
	while (*end == ' ')
		end++;
	if (*end != '\0')
		return -1;
	*c = (struct civil){ (int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec };
	*has_off = strstr(fmt, "%z") != NULL;
	*off = tm.tm_gmtoff;
	return 0;
}

/* The civil time and offset of one of the fixed layouts. */
static int
parse_layouts(const char *s, struct civil *c, int64_t *off, int *has_off)
{
	const char	*p;
	size_t		 i;
	int		 r;

	for (i = 0; i < NLAYOUTS; i++) {
		p = s;
		memset(c, 0, sizeof(*c));
		if (match_layout(layouts[i], &p, c) == -1)
			continue;
		if ((r = utc_offset(p, off)) == -1)
			continue;
		*has_off = r;
		return 0;
	}
	return -1;
}

/* Copy s without surrounding spaces into buf (bounded); -1 when too long. */
static int
trimmed(const char *s, char *buf, size_t len)
{
	size_t	n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= len)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/*
 * Parse one date cell into Unix seconds. On failure *why says why
 * (unparseable, out of range, or a local time that does not exist or
 * happens twice).
 */
int
flux_date_parse(struct flux_date *d, const char *s, int64_t *out,
    const char **why)
{
	struct civil	c;
	char		buf[128];
	int64_t		off = 0, t;
	int		has_off = 0;

	*why = "unparseable date";
	if (trimmed(s, buf, sizeof(buf)) == -1 || buf[0] == '\0')
		return -1;
	if (d->format == NULL && strlen(buf) == 10 && flux_digits_only(buf))
		return flux_parse_i64(buf, 0, UINT32_MAX, out);
	if ((d->format ? parse_format(d->format, buf, &c, &off, &has_off) :
	    parse_layouts(buf, &c, &off, &has_off)) == -1)
		return -1;
	if (!civil_valid(&c))
		return -1;
	t = civil_seconds(&c);
	if (has_off)
		t -= off;
	else if (local_to_utc(d, t, &t, why) == -1)
		return -1;
	if (t < 0 || t > (int64_t)UINT32_MAX) {
		*why = "date out of range (1970 to 2106)";
		return -1;
	}
	*out = t;
	return 0;
}

void
flux_date_init(struct flux_date *d, const char *format)
{
	memset(d, 0, sizeof(*d));
	d->format = format;
}

/* Names of the tz database: letters, digits, "_+-" in "/"-separated parts. */
static int
tz_name_ok(const char *name)
{
	size_t	i, n = strlen(name);

	if (n == 0 || n > FLUX_TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/' ||
	    strstr(name, "//") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' &&
		    name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
		    strchr("_+-/", name[i]) != NULL))
			return 0;
	return 1;
}

/*
 * True when name is a zone of the system's tz database: a well-formed name
 * whose file begins with the TZif magic. glibc silently reads an unknown
 * TZ as UTC, so this must be checked before the zone is used.
 */
int
flux_date_tz_valid(const char *name)
{
	const char	*dir = getenv("TZDIR");
	char		 path[FLUX_PATH_MAX], magic[4];
	int		 fd, n;

	if (name == NULL || !tz_name_ok(name))
		return 0;
	if (dir == NULL || *dir == '\0')
		dir = DEFAULT_TZDIR;
	if (flux_fs_join(path, sizeof(path), dir, name) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return 0;
	n = (int)read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* Make name the zone of naive times (TZ and tzset(3)); -1 when unknown. */
int
flux_date_set_tz(const char *name, char err[])
{
	if (!flux_date_tz_valid(name))
		return flux_errf(err, "unknown timezone '%s'", name ? name : "");
	if (setenv("TZ", name, 1) == -1)
		return flux_errf(err, "cannot set TZ: %s", strerror(errno));
	tzset();
	return 0;
}
