/*
 * sheet.c - what the xlsx and xls readers share: which number formats are
 * dates, the date a serial number stands for, and a bounded table of
 * shared strings.
 *
 * A spreadsheet stores a date as a number of days (the serial) and shows
 * it as a date only through the cell's number format, so a cell is a
 * date exactly when its format is one: a built-in id of a date or time
 * format, or a format code with date or time letters outside quotes,
 * escapes and brackets (ECMA-376 Part 1, 18.8.30 and 18.8.31). pandas
 * (openpyxl, xlrd) reads such cells as naive datetimes; so do we, as text
 * that the report's date rules then read in info.json's time zone.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sheet.h"

/* Excel's last day, 9999-12-31, is serial 2958465 (1900 system). */
#define SERIAL_MAX 2958466.0
/* Days from 1970-01-01 back to each system's day 0. */
#define DAYS_1899_12_30 (-25569)
#define DAYS_1899_12_31 (-25568)
#define DAYS_1904_01_01 (-24107)
/* The 1900 system's serial 60: 29 February 1900, a day that never was. */
#define FICTITIOUS_LEAP_DAY 60

static int
bit(const unsigned char *set, uint32_t i)
{
	return (set[i >> 3] >> (i & 7)) & 1;
}

static void
set_bit(unsigned char *set, uint32_t i, int on)
{
	if (on)
		set[i >> 3] |= (unsigned char)(1u << (i & 7));
	else
		set[i >> 3] &= (unsigned char)~(1u << (i & 7));
}

/*
 * The built-in formats that are dates or times: 14-22 in every locale,
 * 45-47 (mm:ss, [h]:mm:ss, mm:ss.0), and 27-36 and 50-58, the East Asian
 * locales' dates (as xlrd reads them).
 */
static int
builtin_is_date(uint32_t id)
{
	return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) ||
	    (id >= 45 && id <= 47) || (id >= 50 && id <= 58);
}

/* Is "[...]" at code[i] elapsed time ([h], [mm], [ss])? *end is its ']'. */
static int
elapsed(const char *code, size_t len, size_t i, size_t *end)
{
	size_t	j;
	char	c = (char)(code[i + 1] | 0x20);

	for (j = i + 1; j < len && code[j] != ']'; j++)
		;
	*end = j;
	if (j == i + 1 || (c != 'h' && c != 'm' && c != 's'))
		return 0;
	for (i++; i < j; i++)
		if ((code[i] | 0x20) != c)
			return 0;
	return 1;
}

/*
 * Does a format code show a date or time? Only its first section counts
 * (the one for positive numbers); quoted text, escaped characters, the
 * characters after _ and * (spacing, fill) and brackets (colours,
 * conditions, locales) are not format letters, but elapsed time is.
 */
static int
code_is_date(const char *code, size_t len)
{
	size_t	i, end;

	for (i = 0; i < len; i++)
		switch (code[i]) {
		case ';':
			return 0;
		case '"':
			for (i++; i < len && code[i] != '"'; i++)
				;
			break;
		case '\\':
		case '_':
		case '*':
			i++;
			break;
		case '[':
			if (elapsed(code, len, i, &end))
				return 1;
			i = end;
			break;
		case 'd': case 'D': case 'm': case 'M': case 'y': case 'Y':
		case 'h': case 'H': case 's': case 'S':
			return 1;
		default:
			break;
		}
	return 0;
}

/*
 * Room for need elements of size bytes in the array at p, doubling; NULL
 * when out of memory (p is then still valid and *cap unchanged).
 */
static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t	n = *cap ? *cap : 256;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	if ((p = realloc(p, n * size)) != NULL)
		*cap = n;
	return p;
}

/* The workbook's own format code for format id (ids past 65535 are ignored). */
void
flux_sheet_styles_format(struct flux_sheet_styles *st, uint32_t id,
    const char *code, size_t len)
{
	if (id > 65535)
		return;
	set_bit(st->custom, id, 1);
	set_bit(st->date, id, code_is_date(code, len));
}

/* The next cell style, showing numbers with format fmt; -1 past the bound. */
int
flux_sheet_styles_xf(struct flux_sheet_styles *st, uint32_t fmt)
{
	uint32_t	*v;

	if (st->nxf == FLUX_SHEET_XF_MAX || (v = grow(st->xf_fmt, &st->xf_cap,
	    st->nxf + 1, sizeof(*v))) == NULL)
		return -1;
	st->xf_fmt = v;
	v[st->nxf++] = fmt;
	return 0;
}

/* Does cell style xf show a date or time? An unknown style is "General". */
int
flux_sheet_styles_is_date(const struct flux_sheet_styles *st, uint32_t xf)
{
	uint32_t	id;

	if (xf >= st->nxf || (id = st->xf_fmt[xf]) > 65535)
		return 0;
	return bit(st->custom, id) ? bit(st->date, id) :
	    builtin_is_date(id);
}

void
flux_sheet_styles_free(struct flux_sheet_styles *st)
{
	free(st->xf_fmt);
	st->xf_fmt = NULL;
	st->nxf = st->xf_cap = 0;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* n as exactly width digits at p (n fits: the caller checked). */
static char *
digits(char *p, int64_t n, int width)
{
	int	i;

	for (i = width - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
	return p + width;
}

/*
 * The wall-clock time a date cell's serial stands for, rounded to the
 * second (a time of day is a binary fraction: 11:00 is 0.458333...), as
 * "YYYY-MM-DD HH:MM:SS"; under a day, a time of day alone, "HH:MM:SS".
 * In the 1900 system day 1 is 1900-01-01 and day 60 is 1900-02-29, the
 * leap day Lotus 1-2-3 invented and Excel kept: it is written as such,
 * and the date rules refuse it. -1 when the serial is not a day from
 * 0 to 9999-12-31: the cell is then read as a plain number. Written digit
 * by digit: it runs once a row, and snprintf() showed in profiles.
 */
int
flux_sheet_date_text(double serial, int date1904, char out[FLUX_SHEET_DATE_LEN])
{
	int64_t	total, days, secs, y = 1900, z;
	int	m = 2, d = 29;
	char	*p = out;

	if (!(serial >= 0 && serial < SERIAL_MAX))
		return -1;
	total = llround(serial * 86400.0);
	days = total / 86400;
	secs = total % 86400;
	if (days > 0) {
		if (date1904)
			z = days + DAYS_1904_01_01;
		else
			z = days + (days < FICTITIOUS_LEAP_DAY ? DAYS_1899_12_31 :
			    DAYS_1899_12_30);
		if (date1904 || days != FICTITIOUS_LEAP_DAY)
			civil_from_days(z, &y, &m, &d);
		p = digits(p, y, 4);
		*p++ = '-';
		p = digits(p, m, 2);
		*p++ = '-';
		p = digits(p, d, 2);
		*p++ = ' ';
	}
	p = digits(p, secs / 3600, 2);
	*p++ = ':';
	p = digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = digits(p, secs % 60, 2);
	*p = '\0';
	return 0;
}

/* ------------------------------------------------------ shared strings -- */

/* Add n bytes to the string being built; -1 past t->max bytes in all. */
int
flux_strtab_add(struct flux_strtab *t, const char *p, size_t n)
{
	char	*text;
	size_t	*off;

	if (t->len + n + 1 + (t->n + 1) * sizeof(*off) > t->max)
		return -1;
	if ((text = grow(t->text, &t->cap, t->len + n + 1, 1)) == NULL)
		return -1;
	t->text = text;
	if ((off = grow(t->off, &t->ncap, t->n + 1, sizeof(*off))) == NULL)
		return -1;
	t->off = off;
	if (!t->open) {
		t->off[t->n] = t->len;
		t->open = 1;
	}
	if (n > 0)
		memcpy(t->text + t->len, p, n);
	t->len += n;
	return 0;
}

/* The string being built is complete (an empty one if nothing was added). */
int
flux_strtab_end(struct flux_strtab *t)
{
	if (!t->open && flux_strtab_add(t, "", 0) == -1)
		return -1;
	t->text[t->len++] = '\0';
	t->n++;
	t->open = 0;
	return 0;
}

/* String i, NUL-terminated, its length in *len; NULL past the end. */
const char *
flux_strtab_get(const struct flux_strtab *t, size_t i, size_t *len)
{
	size_t	end;

	if (i >= t->n)
		return NULL;
	/* The end of the last string: the start of one being built, if any. */
	end = i + 1 < t->n ? t->off[i + 1] : t->open ? t->off[t->n] : t->len;
	*len = end - t->off[i] - 1;
	return t->text + t->off[i];
}

void
flux_strtab_free(struct flux_strtab *t)
{
	free(t->text);
	free(t->off);
	memset(t, 0, sizeof(*t));
}
