/*
 * test_unit.c - C unit tests of the pure functions in common/: number
 * parsing, float formatting, name rules, query decoding, UTF-8 cleaning,
 * the pickle encoder, the point validator and telegraf naming. Prints
 * TAP, so prove (through unit.bats) reads it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "metric.h"
#include "pickle.h"
#include "query.h"
#include "telegraf.h"
#include "util.h"

static int	tests, failed;

static void
ok(int cond, const char *what)
{
	tests++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tests, what);
}

static void
test_parse(void)
{
	int64_t	i;
	double	d;

	ok(flux_parse_i64("42", 0, 100, &i) == 0 && i == 42, "i64 parses 42");
	ok(flux_parse_i64("-5", -10, 0, &i) == 0 && i == -5, "i64 parses -5");
	ok(flux_parse_i64("", 0, 100, &i) == -1, "i64 refuses empty");
	ok(flux_parse_i64("4x", 0, 100, &i) == -1, "i64 refuses trailing junk");
	ok(flux_parse_i64(" 4", 0, 100, &i) == -1, "i64 refuses leading space");
	ok(flux_parse_i64("101", 0, 100, &i) == -1, "i64 refuses above max");
	ok(flux_parse_i64("99999999999999999999", 0, INT64_MAX, &i) == -1,
	    "i64 refuses ERANGE");
	ok(flux_parse_double("1.5", &d) == 0 && d == 1.5, "double parses 1.5");
	ok(flux_parse_double("-1e3", &d) == 0 && d == -1000, "double parses -1e3");
	ok(flux_parse_double("nan", &d) == -1, "double refuses nan");
	ok(flux_parse_double("inf", &d) == -1, "double refuses inf");
	ok(flux_parse_double("1e999", &d) == -1, "double refuses overflow");
	ok(flux_parse_double("0x10", &d) == -1, "double refuses hex");
	ok(flux_parse_double("1 ", &d) == -1, "double refuses trailing space");
	ok(flux_parse_double("", &d) == -1, "double refuses empty");
	ok(flux_parse_double(".", &d) == -1, "double refuses a lone dot");
}

static void
test_fmt(void)
{
	static const struct { double v; const char *s; } cases[] = {
		{ 1.0, "1.0" }, { 0.1, "0.1" }, { -2.5, "-2.5" }, { 1e16, "1e+16" },
		{ 1e15, "1000000000000000.0" }, { 1.0 / 3, "0.3333333333333333" },
		{ 0, "0.0" }, { 123456789.125, "123456789.125" }, { 1e-05, "1e-05" },
		{ 0.0001, "0.0001" }, { -1.5e300, "-1.5e+300" }, { 5e-324, "5e-324" },
	};
	char	buf[FLUX_DBLLEN];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flux_fmt_double(cases[i].v, buf);
		ok(strcmp(buf, cases[i].s) == 0, cases[i].s);
		ok(strtod(buf, NULL) == cases[i].v, "round-trips");
	}
}

static void
test_names(void)
{
	char	n[64];
	char	*p;

	snprintf(n, sizeof(n), "a b*c'd...e");
	flux_metric_normalise(n);
	ok(strcmp(n, "a_b_c_d.e") == 0, "normalise");
	ok(flux_metric_invalid("a.b-c_d:e=f+g%h") == NULL, "allowed characters");
	ok(flux_metric_invalid("a/b") != NULL, "no slash");
	ok(flux_metric_invalid("a;b") != NULL, "no semicolon");
	ok(flux_metric_invalid(".a") != NULL, "no leading dot");
	ok(flux_metric_invalid("a.") != NULL, "no trailing dot");
	ok(flux_metric_invalid("") != NULL, "not empty");
	ok(flux_metric_invalid("a\xc3\xa9") != NULL, "ASCII only");
	p = flux_metric_prefix("team", "team.x");
	ok(strcmp(p, "team.x") == 0, "prefix kept when present");
	free(p);
	p = flux_metric_prefix("team", "teamx");
	ok(strcmp(p, "team.teamx") == 0, "prefix is a dotted-element test");
	free(p);
}

static void
test_query(void)
{
	struct flux_query	q;

	ok(flux_query_parse("a=1&b=x+y%21&&c", &q) == 0 && q.n == 3 &&
	    strcmp(q.v[1].value, "x y!") == 0 && strcmp(q.v[2].value, "") == 0,
	    "query decodes");
	flux_query_free(&q);
	ok(flux_query_parse("a=%4", &q) == -1, "query refuses a short escape");
	flux_query_free(&q);
	ok(flux_query_parse("a=%00", &q) == -1, "query refuses NUL");
	flux_query_free(&q);
}

static void
test_utf8(void)
{
	char	*c = flux_utf8_clean("a\xff" "b\xc3\xa9", 5);

	ok(strcmp(c, "a\xef\xbf\xbd" "b\xc3\xa9") == 0, "invalid byte replaced");
	free(c);
	ok(!flux_utf8_valid("\xed\xa0\x80", 3), "surrogates are invalid");
	ok(!flux_utf8_valid("\xc0\xaf", 2), "overlong is invalid");
}

static void
test_pickle(void)
{
	static const unsigned char want[] = {
		0, 0, 0, 0x1c, 0x80, 2, ']', '(', 'X', 1, 0, 0, 0, 'm', 'J',
		0x00, 0xf1, 0x53, 0x65, 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
		0x86, 0x86, 'e', '.' };
	struct flux_buf	b = { 0 };

	flux_pickle_begin(&b);
	flux_pickle_add(&b, "m", 1700000000, 1.5);
	flux_pickle_end(&b);
	ok(b.len == sizeof(want) && memcmp(b.ptr, want, b.len) == 0,
	    "pickle frame bytes");
	flux_pickle_begin(&b);
	flux_pickle_add(&b, "m", 4294967295LL, 1.5);
	ok(b.ptr[8 + 1 + 4 + 1] == 'G', "a timestamp after 2038 is a BINFLOAT");
	flux_buf_free(&b);
}

/* The key comparison (SPEC 3): right on every pair; its timing is not tested. */
static void
test_ct_equal(void)
{
	static const char	key[] = "abcdefghij0123456789ABCDEFGHIJ01";

	ok(flux_ct_equal(key, "abcdefghij0123456789ABCDEFGHIJ01") == 1,
	    "ct_equal: equal keys");
	ok(flux_ct_equal(key, "bbcdefghij0123456789ABCDEFGHIJ01") == 0,
	    "ct_equal: first byte differs");
	ok(flux_ct_equal(key, "abcdefghij0123456789ABCDEFGHIJ00") == 0,
	    "ct_equal: last byte differs");
	ok(flux_ct_equal(key, "abcdefghij0123456789ABCDEFGHIJ0") == 0,
	    "ct_equal: a prefix of the key");
	ok(flux_ct_equal(key, "abcdefghij0123456789ABCDEFGHIJ012") == 0,
	    "ct_equal: the key and one more byte");
	ok(flux_ct_equal("abcdefghij0123456789ABCDEFGHIJ0", key) == 0,
	    "ct_equal: shorter first argument");
	ok(flux_ct_equal(key, "") == 0 && flux_ct_equal("", key) == 0,
	    "ct_equal: empty against a key, both ways");
	ok(flux_ct_equal("", "") == 1, "ct_equal: two empty strings");
	ok(flux_ct_equal("abab", "ab") == 0,
	    "ct_equal: a repetition of the shorter one is not equal");
	ok(flux_ct_equal("\x80\xff", "\x80\xff") == 1 &&
	    flux_ct_equal("\x80\xff", "\x80\xfe") == 0,
	    "ct_equal: bytes above 0x7f");
}

/* flux_point_check() on strings, as GET sends them: verdict and message. */
static void
point_is(const char *metric, const char *ts, const char *value, int fill,
    enum flux_point_verdict want, const char *msg, const char *what)
{
	struct flux_conf	c = { 0 };
	struct flux_point_rules	r = { &c, 1700000000, "team", &flux_point_strings };
	struct flux_point_in	in = { metric, ts, value, fill };
	struct flux_points	p = { 0 };
	char			m[FLUX_MSG_MAX] = "", *shown = NULL;
	enum flux_point_verdict	v;

	c.max_age = 3600;
	c.max_future = 60;
	v = flux_point_check(&r, &in, &p, m, &shown);
	ok(v == want && strcmp(m, msg) == 0 && p.n == (v == FLUX_POINT_OK), what);
	free(shown);
	flux_points_free(&p);
}

static void
test_point(void)
{
	point_is("a.b", "1700000000", "1.5", 0, FLUX_POINT_OK, "",
	    "point: a good one is added");
	point_is(NULL, "x", "x", 0, FLUX_POINT_BAD, "no metric parameter passed",
	    "point: no metric comes first");
	point_is("a/b", "x", "x", 0, FLUX_POINT_BAD,
	    "invalid metric - a/b - invalid characters in name",
	    "point: the name before the timestamp");
	point_is("a", "1e9", "x", 0, FLUX_POINT_BAD,
	    "invalid timestamp - 1e9 - timestamp is not an int",
	    "point: a timestamp that is not an int, before the value");
	point_is("a", "1600000000", "x", 0, FLUX_POINT_BAD, "invalid timestamp - "
	    "1600000000 - timestamp is too old, older than 3600 seconds",
	    "point: too old");
	point_is("a", "1600000000", "2", 1, FLUX_POINT_OK, "",
	    "point: a back-fill has no age limit");
	point_is("a", "1700000061", "2", 0, FLUX_POINT_BAD, "invalid timestamp - "
	    "1700000061 - timestamp is more than 1 minute in the future",
	    "point: too far in the future");
	point_is("a", NULL, NULL, 0, FLUX_POINT_BAD, "no value parameter passed",
	    "point: no value");
	point_is("a", NULL, "nan", 0, FLUX_POINT_BAD, "invalid value - nan",
	    "point: a value that is not a finite number");
}

/* The names telegraf.h makes of one object: "name=value" or "name-". */
static void
telegraf_is(const char *json, const char *prefix, const char *want,
    const char *what)
{
	struct flux_telegraf	 t;
	struct flux_buf		 b = { 0 };
	cJSON			*o = cJSON_Parse(json);
	const cJSON		*v;
	const char		*name;
	int			 rc = -1;

	if (o != NULL && flux_telegraf_is_metric(o) &&
	    (rc = flux_telegraf_open(&t, o, prefix)) == 0) {
		while ((rc = flux_telegraf_next(&t, &name, &v)) == 1)
			flux_buf_printf(&b, "%s%s%s", b.len ? " " : "", name,
			    v ? "=" : "-");
		flux_telegraf_close(&t);
	}
	ok(rc == 0 && b.ptr != NULL && strcmp(b.ptr, want) == 0, what);
	if (rc != 0 || b.ptr == NULL || strcmp(b.ptr, want) != 0)
		printf("# got '%s'\n", b.ptr ? b.ptr : "(nothing)");
	flux_buf_free(&b);
	cJSON_Delete(o);
}

static void
test_telegraf(void)
{
	cJSON	*m;

	telegraf_is("{\"name\": \"cpu\", \"tags\": {\"host\": \"h1\", \"cpu\": "
	    "\"cpu0\"}, \"fields\": {\"idle\": 42.5, \"user\": 1}}", NULL,
	    "h1.cpu0.cpu.idle= h1.cpu0.cpu.user=",
	    "telegraf: host, the other tags, the name, the field");
	telegraf_is("{\"name\": \"cpu\", \"tags\": {\"host\": \"h1\"}, "
	    "\"fields\": {\"idle\": 1}}", "P.q", "P.q.h1.cpu.idle=",
	    "telegraf: the prefix header is taken as it is");
	telegraf_is("{\"name\": \"cpu\", \"tags\": {\"host\": \"h1\"}, "
	    "\"fields\": {\"idle\": 1}}", "", "h1.cpu.idle=",
	    "telegraf: an empty prefix is none");
	telegraf_is("{\"name\": \"disk.io\", \"tags\": {\"host\": \"a.b\", "
	    "\"dev\": \"/dev/sda1\"}, \"fields\": {\"x.y/z\": 1}}", NULL,
	    "a_b.-dev-sda1.disk_io.x_y-z=",
	    "telegraf: '.' -> '_' and '/' -> '-' inside every part");
	telegraf_is("{\"name\": \"cpu\", \"tags\": {\"z\": \"1\", \"host\": "
	    "\"h\", \"a\": \"2\", \"n\": 5}, \"fields\": {\"f\": 1}}", NULL,
	    "h.1.2.cpu.f=",
	    "telegraf: tags in key order, the host first, non-strings skipped");
	telegraf_is("{\"name\": \"cpu\", \"tags\": {\"host\": \"h\"}, "
	    "\"fields\": {\"s\": \"up\", \"b\": true, \"n\": null, "
	    "\"v\": 0}}", NULL, "h.cpu.s- h.cpu.b- h.cpu.n- h.cpu.v=",
	    "telegraf: string, boolean and null fields are dropped");
	telegraf_is("{\"name\": \"cpu\", \"tags\": {\"dc\": \"x\"}, "
	    "\"fields\": {\"idle\": 1}}", NULL, "x.cpu.idle-",
	    "telegraf: without a host every field is dropped, named without one");
	telegraf_is("{\"name\": \"cpu\", \"tags\": [\"h\", {\"host\": \"h\"}], "
	    "\"fields\": {\"idle\": 1}}", NULL, "cpu.idle-",
	    "telegraf: tags that are not an object are no tags, and no host");
	m = cJSON_Parse("[{\"fields\": {\"a\": 1, \"b\": 2}}, 3, {\"fields\": "
	    "7}, {\"name\": \"n\", \"fields\": {\"c\": \"x\"}}]");
	ok(m != NULL && flux_telegraf_count(m) == 3,
	    "telegraf: the count is every field of every object");
	ok(m != NULL && !flux_telegraf_is_metric(m->child) &&
	    !flux_telegraf_is_metric(m->child->next) &&
	    !flux_telegraf_is_metric(m->child->next->next) &&
	    flux_telegraf_is_metric(m->child->next->next->next),
	    "telegraf: a metric is an object with a name and an object of fields");
	cJSON_Delete(m);
}

int
main(void)
{
	test_parse();
	test_fmt();
	test_names();
	test_query();
	test_utf8();
	test_pickle();
	test_ct_equal();
	test_point();
	test_telegraf();
	printf("1..%d\n", tests);
	return failed != 0;
}
