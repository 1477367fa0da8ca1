/*
 * xlsx.c - the xlsx reader of sheet.h: an Office Open XML workbook
 * (ECMA-376 Part 1, SpreadsheetML), a zip of XML parts, read with
 * libarchive and parsed as a stream with expat.
 *
 * Why expat: it is small, it streams (a 1 GB sheet goes through one
 * 64 KiB buffer and one cell at a time), it never fetches external
 * entities, and since 2.4 it bounds entity amplification. We go further
 * and refuse any DTD at all (no SpreadsheetML part has one), so entities
 * other than the five predefined ones cannot even be declared. libxml2's
 * xmlreader would stream too, but brings much more to turn off (network
 * and file access, XInclude, catalogs) for nothing we need.
 *
 * Zip members may come in any order and the sheet needs what other parts
 * say (which part it is, the date system, the styles, the shared
 * strings), so the zip is read three times, each time inflating only the
 * parts wanted: the workbook and its relationships; the styles and the
 * shared strings; the sheet. The zip is read through its central
 * directory, so the parts passed over are skipped, never inflated, and
 * everything inflated counts against FLUX_MAX_EXTRACTED_BYTES, which
 * stops a zip bomb.
 *
 * Hostile XML is bounded: elements nested deeper than XML_DEPTH_MAX, a
 * token (a tag with its attributes, a comment) longer than XML_TOKEN_MAX,
 * a cell text longer than FLUX_REPORT_FIELD_MAX, shared strings past
 * FLUX_SHEET_STRINGS_MAX, rows or columns past Excel's limits all fail
 * the file with a reason. Nothing is ever sized from what a part claims
 * (dimension, spans, counts).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <expat.h>

#include "fs.h"
#include "sheet.h"
#include "util.h"

/* Bytes inflated and parsed at a time, and blocks inflated ahead. */
#define BLOCK 262144
#define RING 4
/* SpreadsheetML nests about ten deep (extLst in a sheet); this is plenty. */
#define XML_DEPTH_MAX 128
/* A tag with all its attributes, or a comment, is far below this. */
#define XML_TOKEN_MAX (16 * 1024 * 1024)
/* Zip members of one workbook (as FLUX_UNPACK_MEMBERS_MAX for uploads). */
#define PARTS_MAX 10000
/* Relationships of the workbook: one per sheet, and a few more. */
#define RELS_MAX (2 * FLUX_SHEET_SHEETS_MAX)
/* A name, relationship id or part name kept from the workbook. */
#define NAME_MAX_LEN 1024
/* Excel's limits (ECMA-376 Part 1, 18.3.1.73 and 18.3.1.4). */
#define ROWS_MAX 1048576
#define COLS_MAX 16384

enum part { P_NONE, P_WORKBOOK, P_RELS, P_STYLES, P_STRINGS, P_SHEET, P__MAX };

/* The relationship types we follow; the rest are other parts. */
enum rel_kind { R_OTHER, R_WORKSHEET, R_STYLES, R_STRINGS };

/* The standard places, used when the workbook's relationships say nothing. */
static const char *const default_path[P__MAX] = {
	[P_WORKBOOK] = "xl/workbook.xml",
	[P_RELS] = "xl/_rels/workbook.xml.rels",
	[P_STYLES] = "xl/styles.xml",
	[P_STRINGS] = "xl/sharedStrings.xml",
};

/* How a cell's value is to be read (its "t" attribute). */
enum cell_type { T_NUMBER, T_SHARED, T_STRING, T_INLINE, T_BOOL, T_ERROR, T_DATE };

struct sheet_ent {
	char	*name;
	char	*rid;
};

struct rel {
	char		*id;
	char		*target;	/* resolved to a part name */
	enum rel_kind	 kind;
};

struct xlsx {
	const struct flux_sheet_spec	*spec;
	struct flux_report		*r;
	char				*err;
	int				 failed;
	XML_Parser			 p;
	const char			*part;		/* being parsed, for messages */
	int				 depth;
	size_t				 since;		/* bytes fed since the last event */
	int64_t				 inflated;
	char				*blocks;	/* RING blocks, inflated ahead */
	char				 path[P__MAX][NAME_MAX_LEN];
	int				 seen[P__MAX];

	/* workbook.xml and its relationships */
	int				 date1904;
	struct sheet_ent		*sheets;
	size_t				 nsheets;
	struct rel			*rels;
	size_t				 nrels;
	char				*sheet_name;	/* the one chosen, for messages */

	/* styles.xml */
	struct flux_sheet_styles	 styles;
	int				 in_numfmts, in_xfs;

	/* sharedStrings.xml, and inline strings */
	struct flux_strtab		 sst;
	int				 in_si, in_t, in_rph;

	/* the sheet */
	int				 in_data, in_row, in_c, in_v, in_is;
	uint64_t			 row, prev_row;
	uint32_t			 col, next_col, style;
	enum cell_type			 ctype;
	struct flux_buf			 text;
};

static void
stop(struct xlsx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first failure wins; the parser, if running, stops at once. */
static void
stop(struct xlsx *x, const char *fmt, ...)
{
	va_list	ap;

	if (x->p != NULL)
		XML_StopParser(x->p, XML_FALSE);
	if (x->failed)
		return;
	x->failed = 1;
	va_start(ap, fmt);
	vsnprintf(x->err, FLUX_ERRLEN, fmt, ap);
	va_end(ap);
}

/* The report failed: its error is the file's, ours stays empty. */
static void
stop_report(struct xlsx *x)
{
	stop(x, "%s", "");
}

/*
 * An element's or attribute's name without its namespace prefix. A loop
 * of our own: names are a few bytes, and a sheet has tens of millions.
 */
static const char *
local(const char *name)
{
	const char	*p, *l = name;

	for (p = name; *p != '\0'; p++)
		if (*p == ':')
			l = p + 1;
	return l;
}

static const char *
attr(const char **atts, const char *want)
{
	for (; *atts != NULL; atts += 2)
		if (strcmp(local(atts[0]), want) == 0)
			return atts[1];
	return NULL;
}

static int
is(const char *name, const char *want)
{
	return strcmp(local(name), want) == 0;
}

/*
 * Every element start: depth bounded, and an event seen. After a failure
 * expat may still call a handler or two; they do nothing.
 */
static int
enter(struct xlsx *x)
{
	if (x->failed)
		return -1;
	x->since = 0;
	if (++x->depth > XML_DEPTH_MAX) {
		stop(x, "%s: elements nested deeper than %d", x->part, XML_DEPTH_MAX);
		return -1;
	}
	return 0;
}

static void
leave(struct xlsx *x)
{
	x->since = 0;
	x->depth--;
}

/* No DTD: no entity can be declared, so none can expand (billion laughs). */
static void XMLCALL
on_doctype(void *ctx, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int internal)
{
	struct xlsx	*x = ctx;

	(void)name;
	(void)sysid;
	(void)pubid;
	(void)internal;
	stop(x, "%s: a DTD (<!DOCTYPE>) is not allowed in a workbook", x->part);
}

static void XMLCALL
on_entity(void *ctx, const XML_Char *name, int param, const XML_Char *value,
    int len, const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
    const XML_Char *notation)
{
	struct xlsx	*x = ctx;

	(void)name; (void)param; (void)value; (void)len; (void)base;
	(void)sysid; (void)pubid; (void)notation;
	stop(x, "%s: an entity declaration is not allowed in a workbook", x->part);
}

/* A copy of a short string kept from the workbook; NULL after stop(). */
static char *
keep(struct xlsx *x, const char *s, const char *what)
{
	char	*d;

	if (s == NULL)
		s = "";
	if (strlen(s) >= NAME_MAX_LEN) {
		stop(x, "%s: a %s longer than %d bytes", x->part, what, NAME_MAX_LEN - 1);
		return NULL;
	}
	if ((d = strdup(s)) == NULL)
		stop(x, "out of memory");
	return d;
}

/* ------------------------------------------------------------ workbook -- */

static int
is_true(const char *s)
{
	return s != NULL && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
}

static void XMLCALL
workbook_start(void *ctx, const XML_Char *name, const XML_Char **atts)
{
	struct xlsx		*x = ctx;
	struct sheet_ent	*v;

	if (enter(x) == -1)
		return;
	if (is(name, "workbookPr"))
		x->date1904 = is_true(attr(atts, "date1904"));
	if (!is(name, "sheet"))
		return;
	if (x->nsheets == FLUX_SHEET_SHEETS_MAX) {
		stop(x, "%s: more than %d sheets", x->part, FLUX_SHEET_SHEETS_MAX);
		return;
	}
	if ((v = realloc(x->sheets, (x->nsheets + 1) * sizeof(*v))) == NULL) {
		stop(x, "out of memory");
		return;
	}
	x->sheets = v;
	v += x->nsheets++;
	v->name = keep(x, attr(atts, "name"), "sheet name");
	v->rid = keep(x, attr(atts, "id"), "relationship id");
}

/* A relationship's target, relative to xl/ unless absolute, as a part name. */
static int
resolve(const char *target, char out[NAME_MAX_LEN])
{
	char	 buf[2 * NAME_MAX_LEN], *seg, *save = NULL;
	size_t	 n = 0, len;
	int	 k;

	k = snprintf(buf, sizeof(buf), "%s%s", target[0] == '/' ? "" : "xl/",
	    target);
	if (k < 0 || (size_t)k >= sizeof(buf))
		return -1;
	out[0] = '\0';
	for (seg = strtok_r(buf, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			out[n] = '\0';
			continue;
		}
		len = strlen(seg);
		if (n + len + 2 > NAME_MAX_LEN)
			return -1;
		if (n > 0)
			out[n++] = '/';
		memcpy(out + n, seg, len + 1);
		n += len;
	}
	return n > 0 ? 0 : -1;
}

static enum rel_kind
rel_kind(const char *type)
{
	static const struct { const char *suffix; enum rel_kind kind; } kinds[] = {
		{ "/worksheet", R_WORKSHEET }, { "/styles", R_STYLES },
		{ "/sharedStrings", R_STRINGS },
	};
	size_t	i, n = type ? strlen(type) : 0, m;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		m = strlen(kinds[i].suffix);
		if (n >= m && strcmp(type + n - m, kinds[i].suffix) == 0)
			return kinds[i].kind;
	}
	return R_OTHER;
}

static void XMLCALL
rels_start(void *ctx, const XML_Char *name, const XML_Char **atts)
{
	struct xlsx	*x = ctx;
	struct rel	*v;
	const char	*target = attr(atts, "Target"), *mode = attr(atts, "TargetMode");
	char		 part[NAME_MAX_LEN];

	if (enter(x) == -1 || !is(name, "Relationship") || target == NULL ||
	    (mode != NULL && strcmp(mode, "External") == 0))
		return;
	if (x->nrels == RELS_MAX) {
		stop(x, "%s: more than %d relationships", x->part, RELS_MAX);
		return;
	}
	if (resolve(target, part) == -1) {
		stop(x, "%s: a relationship target that is not a part name", x->part);
		return;
	}
	if ((v = realloc(x->rels, (x->nrels + 1) * sizeof(*v))) == NULL) {
		stop(x, "out of memory");
		return;
	}
	x->rels = v;
	v += x->nrels++;
	v->id = keep(x, attr(atts, "Id"), "relationship id");
	v->target = keep(x, part, "part name");
	v->kind = rel_kind(attr(atts, "Type"));
}

/* -------------------------------------------------------------- styles -- */

static uint32_t
u32(const char *s)
{
	int64_t	v;

	return (s != NULL && flux_digits_only(s) &&
	    flux_parse_i64(s, 0, UINT32_MAX, &v) == 0) ? (uint32_t)v : 0;
}

static void XMLCALL
styles_start(void *ctx, const XML_Char *name, const XML_Char **atts)
{
	struct xlsx	*x = ctx;
	const char	*code;

	if (enter(x) == -1)
		return;
	if (is(name, "numFmts"))
		x->in_numfmts = x->depth;
	else if (is(name, "cellXfs"))
		x->in_xfs = x->depth;
	else if (is(name, "numFmt") && x->in_numfmts == x->depth - 1 &&
	    (code = attr(atts, "formatCode")) != NULL)
		flux_sheet_styles_format(&x->styles, u32(attr(atts, "numFmtId")),
		    code, strlen(code));
	else if (is(name, "xf") && x->in_xfs == x->depth - 1 &&
	    flux_sheet_styles_xf(&x->styles, u32(attr(atts, "numFmtId"))) == -1)
		stop(x, "%s: more than %d cell styles", x->part, FLUX_SHEET_XF_MAX);
}

static void XMLCALL
styles_end(void *ctx, const XML_Char *name)
{
	struct xlsx	*x = ctx;

	if (x->in_numfmts == x->depth && is(name, "numFmts"))
		x->in_numfmts = 0;
	if (x->in_xfs == x->depth && is(name, "cellXfs"))
		x->in_xfs = 0;
	leave(x);
}

/* ------------------------------------------------------ shared strings -- */

/*
 * Text runs (<t>) of a string item, rich or not, make its text; phonetic
 * runs (<rPh>, the reading of East Asian text) are not part of it.
 */
static void
text_start(struct xlsx *x, const char *name)
{
	if (is(name, "rPh"))
		x->in_rph++;
	else if (is(name, "t") && x->in_rph == 0)
		x->in_t = 1;
}

static void
text_end(struct xlsx *x, const char *name)
{
	if (is(name, "rPh"))
		x->in_rph--;
	else if (is(name, "t"))
		x->in_t = 0;
}

static void XMLCALL
strings_start(void *ctx, const XML_Char *name, const XML_Char **atts)
{
	struct xlsx	*x = ctx;

	(void)atts;
	if (enter(x) == -1)
		return;
	if (is(name, "si"))
		x->in_si = 1;
	else if (x->in_si)
		text_start(x, name);
}

static void XMLCALL
strings_end(void *ctx, const XML_Char *name)
{
	struct xlsx	*x = ctx;

	if (x->failed)
		return;
	if (x->in_si && is(name, "si")) {
		x->in_si = 0;
		if (flux_strtab_end(&x->sst) == -1)
			stop(x, "%s: shared strings larger than %d bytes", x->part,
			    FLUX_SHEET_STRINGS_MAX);
	} else if (x->in_si)
		text_end(x, name);
	leave(x);
}

static void XMLCALL
strings_text(void *ctx, const XML_Char *s, int len)
{
	struct xlsx	*x = ctx;

	x->since = 0;
	if (!x->failed && x->in_si && x->in_t && flux_strtab_add(&x->sst, s, (size_t)len) == -1)
		stop(x, "%s: shared strings larger than %d bytes", x->part,
		    FLUX_SHEET_STRINGS_MAX);
}

/* --------------------------------------------------------------- sheet -- */

/* "AB12": column 27 (0-based) and row 12; -1 outside Excel's limits. */
static int
cell_ref(const char *s, uint32_t *col, uint64_t *row)
{
	uint32_t	c = 0;
	uint64_t	r = 0;
	int		n;

	for (n = 0; (*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'; s++, n++) {
		if (n == 3)
			return -1;
		c = c * 26 + (uint32_t)((*s | 0x20) - 'a' + 1);
	}
	if (n == 0 || c > COLS_MAX)
		return -1;
	for (n = 0; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 7)
			return -1;
		r = r * 10 + (uint64_t)(*s - '0');
	}
	if (n == 0 || *s != '\0' || r == 0 || r > ROWS_MAX)
		return -1;
	*col = c - 1;
	*row = r;
	return 0;
}

/*
 * <dimension ref="A1:C10">: never used to size anything, but a sheet
 * claiming more than Excel can hold is not a spreadsheet we read.
 */
static void
dimension(struct xlsx *x, const char *ref)
{
	char		a[32], *b;
	uint32_t	col;
	uint64_t	row;

	if (ref == NULL)
		return;
	snprintf(a, sizeof(a), "%s", ref);
	if ((b = strchr(a, ':')) != NULL)
		*b++ = '\0';
	if (strlen(ref) >= sizeof(a) || cell_ref(a, &col, &row) == -1 ||
	    (b != NULL && cell_ref(b, &col, &row) == -1))
		stop(x, "%s: sheet dimension '%.64s' is beyond %d rows and %d "
		    "columns", x->part, ref, ROWS_MAX, COLS_MAX);
}

static void
row_start(struct xlsx *x, const char **atts)
{
	const char	*r = attr(atts, "r");
	int64_t		 n;

	if (r == NULL)
		n = (int64_t)x->prev_row + 1;
	else if (!flux_digits_only(r) || flux_parse_i64(r, 1, ROWS_MAX, &n) == -1) {
		stop(x, "row number '%.32s' is not from 1 to %d", r, ROWS_MAX);
		return;
	}
	if ((uint64_t)n <= x->prev_row || n > ROWS_MAX) {
		stop(x, "row %lld after row %llu: rows out of order", (long long)n,
		    (unsigned long long)x->prev_row);
		return;
	}
	x->row = (uint64_t)n;
	x->next_col = 0;
	x->in_row = 1;
}

static enum cell_type
cell_type(const char *t)
{
	static const struct { const char *name; enum cell_type type; } types[] = {
		{ "n", T_NUMBER }, { "s", T_SHARED }, { "str", T_STRING },
		{ "inlineStr", T_INLINE }, { "b", T_BOOL }, { "e", T_ERROR },
		{ "d", T_DATE },
	};
	size_t	i;

	for (i = 0; t != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i].name) == 0)
			return types[i].type;
	return T_NUMBER;
}

static void
cell_start(struct xlsx *x, const char **atts)
{
	const char	*ref = NULL, *t = NULL, *s = NULL, *n;
	uint64_t	 row;

	/* One pass over the attributes: a sheet has millions of cells. */
	for (; *atts != NULL; atts += 2) {
		n = local(atts[0]);
		if (n[0] != '\0' && n[1] == '\0') {
			if (n[0] == 'r')
				ref = atts[1];
			else if (n[0] == 't')
				t = atts[1];
			else if (n[0] == 's')
				s = atts[1];
		}
	}

	if (ref == NULL)
		x->col = x->next_col;
	else if (cell_ref(ref, &x->col, &row) == -1) {
		stop(x, "row %llu: cell '%.32s' is beyond %d rows and %d columns",
		    (unsigned long long)x->row, ref, ROWS_MAX, COLS_MAX);
		return;
	} else if (row != x->row) {
		stop(x, "row %llu: cell '%.32s' is in another row",
		    (unsigned long long)x->row, ref);
		return;
	}
	if (x->col < x->next_col || x->col >= COLS_MAX) {
		stop(x, "row %llu: cells out of order", (unsigned long long)x->row);
		return;
	}
	x->next_col = x->col + 1;
	x->ctype = cell_type(t);
	x->style = u32(s);
	x->text.len = 0;
	if (x->text.ptr != NULL)
		x->text.ptr[0] = '\0';
	x->in_c = 1;
}

/*
 * A shared string cell: its <v> is the string's index. The string is
 * copied, since the report trims the text it is given in place.
 */
static int
shared(struct xlsx *x, struct flux_cell *c)
{
	const char	*str;
	size_t		 len;
	int64_t		 i;

	if (!flux_digits_only(x->text.ptr) || flux_parse_i64(x->text.ptr, 0,
	    INT64_MAX, &i) == -1 || (str = flux_strtab_get(&x->sst, (size_t)i,
	    &len)) == NULL) {
		stop(x, "row %llu: shared string '%.32s' out of range (%zu strings)",
		    (unsigned long long)x->row, x->text.ptr, x->sst.n);
		return -1;
	}
	x->text.len = 0;
	if (flux_buf_add(&x->text, str, len) == -1) {
		stop(x, "out of memory");
		return -1;
	}
	c->text = x->text.ptr;
	c->len = x->text.len;
	return 0;
}

/* A boolean cell is 1 or 0, as pandas reads True and False as numbers. */
static int
boolean(struct xlsx *x, struct flux_cell *c)
{
	const char	*v = x->text.ptr;

	c->type = FLUX_CELL_NUMBER;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		c->number = 1;
	else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		c->number = 0;
	else {
		stop(x, "row %llu: boolean cell holding '%.32s'",
		    (unsigned long long)x->row, v);
		return -1;
	}
	return 0;
}

/* The cell is complete: hand it to the report. */
static void
cell_end(struct xlsx *x)
{
	struct flux_cell	c = { FLUX_CELL_TEXT, x->text.ptr, x->text.len, 0 };
	char			date[FLUX_SHEET_DATE_LEN];
	double			serial;

	x->in_c = x->in_v = x->in_is = x->in_t = 0;
	if (x->text.len == 0)
		return;		/* empty, or a formula without a cached value */
	if ((x->ctype == T_SHARED && shared(x, &c) == -1) ||
	    (x->ctype == T_BOOL && boolean(x, &c) == -1))
		return;
	if (x->ctype == T_DATE)
		c.type = FLUX_CELL_DATE;
	if (x->ctype == T_NUMBER && flux_sheet_styles_is_date(&x->styles,
	    x->style) && flux_parse_double(x->text.ptr, &serial) == 0 &&
	    flux_sheet_date_text(serial, x->date1904, date) == 0)
		c = (struct flux_cell){ FLUX_CELL_DATE, date, strlen(date), 0 };
	if (flux_report_cell(x->r, x->row, x->col, &c) == -1)
		stop_report(x);
}

static void XMLCALL
sheet_start(void *ctx, const XML_Char *name, const XML_Char **atts)
{
	struct xlsx	*x = ctx;
	const char	*n = local(name);

	if (enter(x) == -1)
		return;
	if (x->in_c) {
		if (strcmp(n, "v") == 0)
			x->in_v = 1;
		else if (strcmp(n, "is") == 0)
			x->in_is = 1;
		else if (x->in_is)
			text_start(x, n);
	} else if (x->in_row && strcmp(n, "c") == 0)
		cell_start(x, atts);
	else if (x->in_data && strcmp(n, "row") == 0)
		row_start(x, atts);
	else if (strcmp(n, "sheetData") == 0)
		x->in_data = 1;
	else if (strcmp(n, "dimension") == 0)
		dimension(x, attr(atts, "ref"));
}

static void XMLCALL
sheet_end(void *ctx, const XML_Char *name)
{
	struct xlsx	*x = ctx;
	const char	*n = local(name);

	if (x->failed)
		return;
	if (x->in_c && strcmp(n, "c") == 0)
		cell_end(x);
	else if (x->in_c && strcmp(n, "v") == 0)
		x->in_v = 0;
	else if (x->in_is)
		text_end(x, n);
	else if (x->in_row && strcmp(n, "row") == 0) {
		x->in_row = 0;
		x->prev_row = x->row;
		if (flux_report_row_end(x->r, x->row) == -1)
			stop_report(x);
	} else if (strcmp(n, "sheetData") == 0)
		x->in_data = 0;
	leave(x);
}

static void XMLCALL
sheet_text(void *ctx, const XML_Char *s, int len)
{
	struct xlsx	*x = ctx;

	x->since = 0;
	if (x->failed || (!x->in_v && !(x->in_is && x->in_t && x->in_rph == 0)))
		return;
	if (x->text.len + (size_t)len > FLUX_REPORT_FIELD_MAX)
		stop(x, "row %llu: a field longer than %d bytes",
		    (unsigned long long)x->row, FLUX_REPORT_FIELD_MAX);
	else if (flux_buf_add(&x->text, s, (size_t)len) == -1)
		stop(x, "out of memory");
}

static void XMLCALL
other_end(void *ctx, const XML_Char *name)
{
	(void)name;
	leave(ctx);
}

/* Text of the parts whose text we do not keep: an event all the same. */
static void XMLCALL
other_text(void *ctx, const XML_Char *s, int len)
{
	struct xlsx	*x = ctx;

	(void)s;
	(void)len;
	x->since = 0;
}

/* ---------------------------------------------------------------- zip -- */

static void
set_handlers(XML_Parser p, enum part kind)
{
	XML_SetCharacterDataHandler(p, other_text);
	switch (kind) {
	case P_WORKBOOK:
		XML_SetElementHandler(p, workbook_start, other_end);
		break;
	case P_RELS:
		XML_SetElementHandler(p, rels_start, other_end);
		break;
	case P_STYLES:
		XML_SetElementHandler(p, styles_start, styles_end);
		break;
	case P_STRINGS:
		XML_SetElementHandler(p, strings_start, strings_end);
		XML_SetCharacterDataHandler(p, strings_text);
		break;
	default:
		XML_SetElementHandler(p, sheet_start, sheet_end);
		XML_SetCharacterDataHandler(p, sheet_text);
		break;
	}
}

/*
 * Inflating a large part runs in a thread of its own, up to RING blocks
 * ahead of the parser: on a large sheet it is a fifth of the work, and
 * this takes it off the parser's path (bench/uploads.sh). The archive is
 * the thread's alone until it is joined. A small part is inflated in
 * line, block by block, as the parser asks.
 */
struct inflater {
	struct archive	*a;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		*buf[RING];
	la_ssize_t	 len[RING];	/* bytes, 0 at the end, < 0 on error */
	unsigned	 head, tail;	/* blocks inflated, blocks parsed */
	int		 stop;		/* the parser needs no more */
	int		 threaded;
};

static void *
inflate_run(void *arg)
{
	struct inflater	*f = arg;
	la_ssize_t	 n = 1;
	unsigned	 slot;
	int		 stop;

	while (n > 0) {
		pthread_mutex_lock(&f->mu);
		while (f->head - f->tail == RING && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		slot = f->head % RING;
		stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			break;
		n = archive_read_data(f->a, f->buf[slot], BLOCK);
		pthread_mutex_lock(&f->mu);
		f->len[slot] = n;
		f->head++;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

/* The next inflated block, its length in *n; release it once parsed. */
static const char *
inflate_next(struct inflater *f, la_ssize_t *n)
{
	unsigned	slot;

	if (!f->threaded) {
		*n = archive_read_data(f->a, f->buf[0], BLOCK);
		return f->buf[0];
	}
	pthread_mutex_lock(&f->mu);
	while (f->head == f->tail)
		pthread_cond_wait(&f->cv, &f->mu);
	slot = f->tail % RING;
	*n = f->len[slot];
	pthread_mutex_unlock(&f->mu);
	return f->buf[slot];
}

static void
inflate_release(struct inflater *f)
{
	if (!f->threaded)
		return;
	pthread_mutex_lock(&f->mu);
	f->tail++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Stop the thread (it may be waiting for room) and join it. */
static void
inflate_join(struct inflater *f)
{
	if (!f->threaded)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
}

/* Start inflating the current member: in a thread when it is large. */
static int
inflate_start(struct inflater *f, struct archive *a, struct archive_entry *e,
    char *blocks)
{
	int	i;

	memset(f, 0, sizeof(*f));
	f->a = a;
	for (i = 0; i < RING; i++)
		f->buf[i] = blocks + (size_t)i * BLOCK;
	if (archive_entry_size_is_set(e) && archive_entry_size(e) <= RING * BLOCK)
		return 0;
	f->threaded = 1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->thread, NULL, inflate_run, f) == 0)
		return 0;
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	return -1;
}

static XML_Parser
new_parser(struct xlsx *x, enum part kind)
{
	XML_Parser	p;

	if ((p = XML_ParserCreate(NULL)) == NULL)
		return NULL;
	XML_SetUserData(p, x);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetEntityDeclHandler(p, on_entity);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	set_handlers(p, kind);
	return p;
}

/* Parse one inflated block (the last one when n is 0). */
static void
parse_block(struct xlsx *x, const char *buf, la_ssize_t n, const char *name)
{
	if ((x->inflated += n) > x->spec->max_bytes) {
		stop(x, "%s: unpacks to more than the %lld byte cap", name,
		    (long long)x->spec->max_bytes);
		return;
	}
	if (XML_Parse(x->p, buf, (int)n, n == 0) == XML_STATUS_ERROR && !x->failed)
		stop(x, "%s: line %lu: %s", name,
		    (unsigned long)XML_GetCurrentLineNumber(x->p),
		    XML_ErrorString(XML_GetErrorCode(x->p)));
	if (!x->failed && (x->since += (size_t)n) > XML_TOKEN_MAX)
		stop(x, "%s: an XML token longer than %d bytes", name, XML_TOKEN_MAX);
}

/* Parse the current zip member as part kind. */
static int
parse_part(struct xlsx *x, struct archive *a, struct archive_entry *e,
    enum part kind, const char *name)
{
	struct inflater	 f;
	const char	*buf;
	la_ssize_t	 n = 0;

	if ((x->p = new_parser(x, kind)) == NULL) {
		stop(x, "out of memory");
		return -1;
	}
	x->part = name;
	x->depth = 0;
	x->since = 0;
	if (inflate_start(&f, a, e, x->blocks) == -1) {
		stop(x, "cannot start a thread: %s", strerror(errno));
		XML_ParserFree(x->p);
		x->p = NULL;
		return -1;
	}
	do {
		buf = inflate_next(&f, &n);
		if (n >= 0)
			parse_block(x, buf, n, name);
		inflate_release(&f);
	} while (!x->failed && n > 0);
	inflate_join(&f);
	if (n < 0)
		stop(x, "%s: corrupt: %s", name, archive_error_string(a) ?
		    archive_error_string(a) : "unknown error");
	XML_ParserFree(x->p);
	x->p = NULL;
	return x->failed ? -1 : 0;
}

/* Which part a member is, among those wanted in this pass. */
static enum part
part_of(const struct xlsx *x, const char *name, const enum part *want)
{
	for (; *want != P_NONE; want++)
		if (x->path[*want][0] != '\0' && strcasecmp(name, x->path[*want]) == 0)
			return *want;
	return P_NONE;
}

/* One pass over the zip, parsing the parts wanted (a list ending P_NONE). */
static int
pass(struct xlsx *x, const char *path, const enum part *want)
{
	struct archive		*a = archive_read_new();
	struct archive_entry	*e;
	const char		*name;
	enum part		 kind;
	size_t			 n = 0;
	char			 ferr[FLUX_ERRLEN];
	int			 rc = ARCHIVE_OK, fd;

	if (a == NULL) {
		stop(x, "out of memory");
		return -1;
	}
	archive_read_support_format_zip_seekable(a);
	if ((fd = flux_fs_open_file(path, ferr)) == -1) {
		stop(x, "%s", ferr);
		archive_read_free(a);
		return -1;
	}
	if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK) {
		stop(x, "not an xlsx file (a zip): %s", archive_error_string(a) ?
		    archive_error_string(a) : "unknown error");
		archive_read_free(a);
		close(fd);
		return -1;
	}
	while (!x->failed && (rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (++n > PARTS_MAX)
			stop(x, "more than %d parts in the workbook", PARTS_MAX);
		else if ((name = archive_entry_pathname(e)) != NULL &&
		    (kind = part_of(x, name, want)) != P_NONE) {
			if (x->seen[kind]++)
				stop(x, "two parts named %.255s", name);
			else
				parse_part(x, a, e, kind, x->path[kind]);
		}
	}
	if (!x->failed && rc != ARCHIVE_EOF)
		stop(x, "corrupt xlsx file: %s", archive_error_string(a) ?
		    archive_error_string(a) : "unknown error");
	archive_read_free(a);
	close(fd);
	return x->failed ? -1 : 0;
}

/* ------------------------------------------------------ which sheet -- */

static const struct rel *
rel_by_id(const struct xlsx *x, const char *id)
{
	size_t	i;

	for (i = 0; id != NULL && i < x->nrels; i++)
		if (x->rels[i].id != NULL && strcmp(x->rels[i].id, id) == 0)
			return &x->rels[i];
	return NULL;
}

/* "'Sheet1', 'Data'": the names, for a message; cut short when long. */
static void
sheet_names(const struct xlsx *x, char *out, size_t len)
{
	size_t	i, n = 0;
	int	k;

	out[0] = '\0';
	for (i = 0; i < x->nsheets && n < len; i++) {
		k = snprintf(out + n, len - n, "%s'%.64s'", i ? ", " : "",
		    x->sheets[i].name);
		if (k < 0 || (size_t)k >= len - n) {
			snprintf(out + n, len - n, ", ...");
			return;
		}
		n += (size_t)k;
	}
}

/* The sheet info.json asks for: named, or the index-th worksheet. */
static const struct rel *
choose(struct xlsx *x)
{
	const struct rel	*rel = NULL;
	char			 names[512];
	int64_t			 k = 0;
	size_t			 i;

	for (i = 0; i < x->nsheets; i++) {
		rel = rel_by_id(x, x->sheets[i].rid);
		if (x->spec->name != NULL ?
		    strcmp(x->sheets[i].name, x->spec->name) == 0 :
		    rel != NULL && rel->kind == R_WORKSHEET && k++ == x->spec->index)
			break;
	}
	sheet_names(x, names, sizeof(names));
	if (i == x->nsheets && x->spec->name != NULL)
		stop(x, "no sheet named '%.255s' (the workbook has %s)",
		    x->spec->name, names);
	else if (i == x->nsheets)
		stop(x, "no sheet %lld: the workbook has %lld worksheets (%s)",
		    (long long)x->spec->index, (long long)k, names);
	else if ((x->sheet_name = x->sheets[i].name, rel == NULL))
		stop(x, "sheet '%.255s' has no part in the workbook", x->sheet_name);
	else if (rel->kind != R_WORKSHEET)
		stop(x, "sheet '%.255s' is not a worksheet", x->sheet_name);
	return x->failed ? NULL : rel;
}

/* After pass 1: where the sheet, the styles and the shared strings are. */
static int
locate(struct xlsx *x)
{
	const struct rel	*sheet;
	size_t			 i;

	if (!x->seen[P_WORKBOOK]) {
		stop(x, "not an xlsx workbook: no part %s", default_path[P_WORKBOOK]);
		return -1;
	}
	if ((sheet = choose(x)) == NULL)
		return -1;
	snprintf(x->path[P_SHEET], NAME_MAX_LEN, "%s", sheet->target);
	for (i = 0; i < x->nrels; i++)
		if (x->rels[i].kind == R_STYLES || x->rels[i].kind == R_STRINGS)
			snprintf(x->path[x->rels[i].kind == R_STYLES ? P_STYLES :
			    P_STRINGS], NAME_MAX_LEN, "%s", x->rels[i].target);
	return 0;
}

static void
xlsx_free(struct xlsx *x)
{
	size_t	i;

	for (i = 0; i < x->nsheets; i++) {
		free(x->sheets[i].name);
		free(x->sheets[i].rid);
	}
	for (i = 0; i < x->nrels; i++) {
		free(x->rels[i].id);
		free(x->rels[i].target);
	}
	free(x->sheets);
	free(x->rels);
	flux_sheet_styles_free(&x->styles);
	flux_strtab_free(&x->sst);
	flux_buf_free(&x->text);
	free(x->blocks);
}

int
flux_xlsx_read(const char *path, const struct flux_sheet_spec *spec,
    struct flux_report *r, char err[])
{
	static const enum part	 p1[] = { P_WORKBOOK, P_RELS, P_NONE };
	static const enum part	 p2[] = { P_STYLES, P_STRINGS, P_NONE };
	static const enum part	 p3[] = { P_SHEET, P_NONE };
	struct xlsx		*x;
	int			 i, rc;

	err[0] = '\0';
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return flux_errf(err, "out of memory");
	x->spec = spec;
	x->r = r;
	x->err = err;
	x->sst.max = FLUX_SHEET_STRINGS_MAX;
	if ((x->blocks = malloc((size_t)RING * BLOCK)) == NULL) {
		flux_errf(err, "out of memory");
		free(x);
		return -1;
	}
	for (i = 0; i < P__MAX; i++)
		if (default_path[i] != NULL)
			snprintf(x->path[i], NAME_MAX_LEN, "%s", default_path[i]);
	rc = (pass(x, path, p1) == 0 && locate(x) == 0 && pass(x, path, p2) == 0 &&
	    pass(x, path, p3) == 0) ? 0 : -1;
	if (rc == 0 && !x->seen[P_SHEET]) {
		stop(x, "no part %.255s for sheet '%.255s'", x->path[P_SHEET],
		    x->sheet_name);
		rc = -1;
	}
	xlsx_free(x);
	free(x);
	return rc;
}
