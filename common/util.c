/*
 * util.c - strict parsers, buffers and the other small helpers of util.h.
 * Numbers are parsed, never atoi'ed: empty input, trailing junk, ERANGE,
 * NaN and Inf are all errors.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* A message into buf, cut short if longer; errno is kept. Returns -1. */
static int
vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	int	saved = errno;

	vsnprintf(buf, len, fmt, ap);
	errno = saved;
	return -1;
}

/*
 * The error convention in one call: the message into err (FLUX_ERRLEN
 * bytes), and -1 for the caller to return. errno is kept, for a caller
 * that still looks at it.
 */
int
flux_errf(char err[], const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vformat(err, FLUX_ERRLEN, fmt, ap);
	va_end(ap);
	return -1;
}

/* The same for a message a client reads: msg has FLUX_MSG_MAX bytes. */
int
flux_msgf(char msg[], const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vformat(msg, FLUX_MSG_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* Append s to l, taking it: it is freed if it cannot be added. 0 or -1. */
int
flux_list_take(struct flux_list *l, char *s)
{
	char	**v;

	if (s == NULL || (v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(s);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

/* Append a copy of s to l; 0, or -1 when memory ran out (l unchanged). */
int
flux_list_add(struct flux_list *l, const char *s)
{
	return flux_list_take(l, strdup(s));
}

/* Free every string of l and the list itself; l is left empty. */
void
flux_list_free(struct flux_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Parse a decimal integer in [min, max]; optional leading '-', nothing else. */
int
flux_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char	*p = (s != NULL && *s == '-') ? s + 1 : s;
	char		*end;
	long long	 v;

	if (p == NULL || *p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parse a finite decimal number, the whole string. Only the characters of a
 * decimal float are allowed, so "0x10", " 1", "1_000", "nan" and "inf" (all
 * accepted by strtod or by Python's float()) are refused.
 */
int
flux_parse_double(const char *s, double *out)
{
	char	*end;
	double	 v;

	if (s == NULL || *s == '\0' || strspn(s, "0123456789+-.eE") != strlen(s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE && fabs(v) > 1.0)
		return -1;
	if (end == s || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* The value of one hexadecimal digit, or -1. */
int
flux_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* True when s is a non-empty run of ASCII digits. */
int
flux_digits_only(const char *s)
{
	return s != NULL && *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

int
flux_buf_grow(struct flux_buf *b, size_t more)
{
	size_t	 cap;
	char	*p;

	if (more > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->ptr, cap)) == NULL)
		return -1;
	b->ptr = p;
	b->cap = cap;
	b->ptr[b->len] = '\0';
	return 0;
}

int
flux_buf_add(struct flux_buf *b, const void *p, size_t n)
{
	if (flux_buf_grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int
flux_buf_adds(struct flux_buf *b, const char *s)
{
	return flux_buf_add(b, s, strlen(s));
}

int
flux_buf_printf(struct flux_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || flux_buf_grow(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
flux_buf_free(struct flux_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

/* Compare two NUL-terminated secrets in time independent of where they differ. */
int
flux_ct_equal(const char *a, const char *b)
{
	size_t			 la = strlen(a), lb = strlen(b), i;
	volatile unsigned char	 d = (unsigned char)(la != lb);

	for (i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return d == 0;
}

/* Powers of ten that are exact doubles, for fmt_short(). */
static const double pow10s[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
    1e9 };

/*
 * The common case of flux_fmt_double() without printf: |v| in [1e-4,
 * 1e15) written with k <= 9 decimals and at most 15 digits, m / 10^k.
 * m and 10^k are exact doubles, so IEEE division rounds m / 10^k to the
 * double nearest the decimal, which is what strtod() reads it as: when
 * the quotient equals v the text round-trips. With the smallest such k it
 * has no trailing zero, and it is then what "%.15g" prints (fixed
 * notation in this range, 15 digits being below DBL_DIG's limit). Returns
 * 0 when v is not such a value.
 */
static int
fmt_short(double v, char out[FLUX_DBLLEN])
{
	double		a = fabs(v), m = 0;
	uint64_t	u;
	char		buf[FLUX_DBLLEN], *p;
	int		k, i;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (k = 0; k < (int)(sizeof(pow10s) / sizeof(pow10s[0])); k++) {
		m = nearbyint(a * pow10s[k]);
		if (m >= 1e15)
			return 0;
		if (m / pow10s[k] == a)
			break;
	}
	if (k == (int)(sizeof(pow10s) / sizeof(pow10s[0])))
		return 0;
	/* Digits right to left: k decimals (at least "0"), the point, the rest. */
	u = (uint64_t)m;
	p = buf + sizeof(buf);
	for (i = 0; i < (k ? k : 1); i++) {
		*--p = (char)('0' + (k ? u % 10 : 0));
		u = k ? u / 10 : u;
	}
	*--p = '.';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (v < 0)
		*--p = '-';
	memcpy(out, p, (size_t)(buf + sizeof(buf) - p));
	out[buf + sizeof(buf) - p] = '\0';
	return 1;
}

/*
 * Print a double as Python's repr() would: the shortest digits that read
 * back as the same double, in positional notation when the decimal
 * exponent is in [-4, 16), else as d.ddde+XX; always with a '.' or an
 * exponent, so Skyline's literal_eval readers of flux.last see a float.
 */
void
flux_fmt_double(double v, char out[FLUX_DBLLEN])
{
	/* "%.17e" gives at most 18 significant digits. */
	char	 sci[FLUX_DBLLEN], digits[20], *e;
	size_t	 nd = 0, i;
	int	 prec, exp, o = 0;

	if (fmt_short(v, out))
		return;
	for (prec = 0; prec <= 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	if (!isfinite(v)) {
		snprintf(out, FLUX_DBLLEN, "%s", sci);
		return;
	}
	for (i = (sci[0] == '-'); sci[i] != 'e'; i++)
		if (sci[i] != '.')
			digits[nd++] = sci[i];
	digits[nd] = '\0';
	e = strchr(sci, 'e');
	exp = (int)strtol(e + 1, NULL, 10);
	if (v < 0 || (v == 0 && signbit(v)))
		out[o++] = '-';
	if (exp < -4 || exp >= 16) {
		o += snprintf(out + o, FLUX_DBLLEN - (size_t)o, "%c%s%se%c%02d",
		    digits[0], nd > 1 ? "." : "", digits + 1, exp < 0 ? '-' : '+',
		    exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		o += snprintf(out + o, FLUX_DBLLEN - (size_t)o, "0.%.*s%s", -exp - 1,
		    "0000", digits);
		return;
	}
	for (i = 0; i <= (size_t)exp; i++)
		out[o++] = i < nd ? digits[i] : '0';
	out[o++] = '.';
	if (nd > (size_t)exp + 1)
		o += snprintf(out + o, FLUX_DBLLEN - (size_t)o, "%s", digits + exp + 1);
	else
		out[o++] = '0', out[o] = '\0';
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t		len, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int
flux_utf8_valid(const char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		if ((n = utf8_seq((const unsigned char *)s + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/*
 * Copy s with every invalid UTF-8 byte replaced by U+FFFD and every NUL by
 * U+FFFD, so the text can be echoed inside a JSON answer. Caller frees.
 */
char *
flux_utf8_clean(const char *s, size_t len)
{
	struct flux_buf	b = { 0 };
	size_t		i = 0, n;

	if (flux_buf_grow(&b, len) == -1)
		return NULL;
	while (i < len) {
		n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0 || s[i] == '\0') {
			if (flux_buf_add(&b, "\xef\xbf\xbd", 3) == -1)
				goto fail;
			i++;
			continue;
		}
		if (flux_buf_add(&b, s + i, n) == -1)
			goto fail;
		i += n;
	}
	return b.ptr;
fail:
	flux_buf_free(&b);
	return NULL;
}

/*
 * "Now" in Unix seconds, read once per request by the caller. FLUX_NOW pins
 * it so tests are repeatable: s is its value from the request's
 * environment (NULL: the process environment).
 */
int64_t
flux_now_from(const char *s)
{
	int64_t	v;

	if (s == NULL)
		s = getenv("FLUX_NOW");
	if (s != NULL && flux_parse_i64(s, 0, INT64_MAX / 2, &v) == 0)
		return v;
	return (int64_t)time(NULL);
}

int64_t
flux_now(void)
{
	return flux_now_from(NULL);
}

/* Milliseconds on clock id (CLOCK_MONOTONIC for intervals and deadlines). */
int64_t
flux_clock_ms(clockid_t id)
{
	struct timespec	t;

	clock_gettime(id, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * n random bytes as 2n lowercase hex digits and a NUL at out (a request's
 * claim token, a lease's, a node's id). Without entropy yet (early boot)
 * the clock, the pid and a counter stand in: unique enough per host.
 */
void
flux_random_hex(char *out, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	static unsigned long	counter;
	unsigned char		r[32];
	uint64_t		fallback;
	size_t			i;

	if (n > sizeof(r))
		n = sizeof(r);
	if (getrandom(r, n, GRND_NONBLOCK) != (ssize_t)n)
		for (i = 0; i < n; i += sizeof(fallback)) {
			fallback = (uint64_t)flux_clock_ms(CLOCK_REALTIME) ^
			    ((uint64_t)getpid() << 40) ^ (uint64_t)++counter << 20;
			memcpy(r + i, &fallback, n - i < sizeof(fallback) ?
			    n - i : sizeof(fallback));
		}
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Sleep ms milliseconds, whatever signals come meanwhile. */
void
flux_sleep_ms(int64_t ms)
{
	struct timespec	t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) == -1)
		;
}

int
flux_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
