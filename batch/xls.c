/*
 * xls.c - the xls reader of sheet.h: an Excel 97-2003 workbook, BIFF8
 * records ([MS-XLS]) in the "Workbook" stream of a Compound File
 * ([MS-CFB]), read as a stream: one sector, one record and one cell at a
 * time, so memory does not grow with the rows (BIFF8 holds 65536 rows of
 * 256 columns at most anyway).
 *
 * Why not Debian's libfreexl (1.0.6): it is built to load a whole sheet,
 * and that does not suit untrusted uploads. freexl_open() allocates
 * rows x columns cells from the sheet's DIMENSIONS record before reading
 * any, so memory grows with the sheet's area whatever the file holds,
 * and it turns every date cell into text by stepping from 1900 one day
 * at a time: one cell of serial 2e9 took 1.8 s here, so a 100 KB file of
 * such cells hangs a run for hours. It also writes dates with a "year
 * divisible by 4" leap rule (wrong from 2100) and only to the second,
 * and reads from a path, which a fuzzer cannot drive. What we need of
 * BIFF8 is small: the globals (date system, formats, cell styles, shared
 * strings, sheet list) and the cell records.
 *
 * Every count and offset in the file is checked against the file: sector
 * numbers against its size, chains against its number of sectors (no
 * loop can last), record lengths against BIFF8's 8224 bytes, cells
 * against 65536 rows and 256 columns and reading order.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fs.h"
#include "sheet.h"
#include "util.h"

/* [MS-CFB] 2.2: the header, and the sector numbers that are not sectors. */
#define CFB_HEADER 512
#define CFB_DIFAT_IN_HEADER 109
#define MAXREGSECT 0xFFFFFFFAu
#define ENDOFCHAIN 0xFFFFFFFEu
#define DIR_ENTRY 128
#define DIR_STREAM 2
#define DIR_ROOT 5
#define MINI_SECTOR 64
#define MINI_CUTOFF 4096
#define NO_SECTOR UINT32_MAX
/* [MS-XLS] 2.1.4: a record's data is at most 8224 bytes. */
#define RECORD_MAX 8224
/* BIFF8's sheet: 65536 rows, 256 columns. */
#define ROWS_MAX 65536
#define COLS_MAX 256

/* The records we read ([MS-XLS] 2.3). */
enum {
	R_FORMULA = 0x0006, R_EOF = 0x000A, R_DATEMODE = 0x0022,
	R_FILEPASS = 0x002F, R_CONTINUE = 0x003C, R_BOUNDSHEET = 0x0085,
	R_MULRK = 0x00BD, R_RSTRING = 0x00D6, R_XF = 0x00E0, R_SST = 0x00FC,
	R_LABELSST = 0x00FD, R_DIMENSIONS = 0x0200, R_NUMBER = 0x0203,
	R_LABEL = 0x0204, R_BOOLERR = 0x0205, R_STRING = 0x0207,
	R_RK = 0x027E, R_FORMAT = 0x041E, R_BOF = 0x0809
};

/* A sheet name kept for messages (Excel's own limit is 31 characters). */
#define NAME_LEN 256

#define BIFF8 0x0600
#define BOF_GLOBALS 0x0005
#define BOF_WORKSHEET 0x0010

/* The Workbook stream, read in order. */
struct stream {
	uint64_t	 size, pos;	/* stream bytes, and consumed */
	uint32_t	 start, sector;	/* first sector, the one in buf */
	uint64_t	 steps;		/* sectors followed: bounded by the file */
	unsigned char	*buf;		/* one sector, or the whole mini stream */
	size_t		 have, at;
	int		 mini;
};

struct xls {
	const struct flux_sheet_spec	*spec;
	struct flux_report		*r;
	char				*err;
	int				 failed;

	/* the compound file */
	int				 fd;
	uint64_t			 fsize, nsectors;
	uint32_t			 ssz, shift;
	uint32_t			*difat;		/* FAT sector numbers */
	uint32_t			 nfat;
	unsigned char			*fat;		/* one FAT sector, cached */
	uint32_t			 fat_at;	/* which; NO_SECTOR when none */
	unsigned char			*scratch;	/* one sector */
	uint32_t			 dir_start, minifat_start;
	uint32_t			 root_start;
	uint64_t			 root_size;
	struct stream			 st;

	/* the current record; pushback: read ahead, not yet handled */
	uint16_t			 type, len;
	unsigned char			 data[RECORD_MAX];
	size_t				 at;
	int				 pushback, hi;	/* hi: chars are 16-bit */
	uint32_t			 surrogate;	/* a UTF-16 high half pending */

	/* the globals */
	int				 date1904;
	struct flux_sheet_styles	 styles;
	struct flux_strtab		 sst;
	int64_t				 worksheets;
	uint32_t			 sheet_pos;	/* its BOF in the stream */
	int				 found, sheet_dt;
	char				 sheet_name[NAME_LEN];
	char				 names[512];

	/* the sheet */
	uint32_t			 row;		/* 1-based; 0 before the first */
	uint32_t			 next_col;
	int				 string_due;	/* a FORMULA's STRING is next */
	uint32_t			 due_row, due_col;
	struct flux_buf			 text;
	struct flux_buf			 piece;		/* of a shared string */
};

static void
fail(struct xls *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct xls *x, const char *fmt, ...)
{
	va_list	ap;

	if (x->failed)
		return;
	x->failed = 1;
	va_start(ap, fmt);
	vsnprintf(x->err, FLUX_ERRLEN, fmt, ap);
	va_end(ap);
}

static uint16_t
u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* ---------------------------------------------------- compound file -- */

/* Read sector s whole into buf; -1 when it is not in the file. */
static int
read_sector(struct xls *x, uint32_t s, void *buf)
{
	uint64_t	off = ((uint64_t)s + 1) << x->shift;
	ssize_t		n;

	if (s > MAXREGSECT || off + x->ssz > x->fsize) {
		fail(x, "truncated or corrupt xls file (sector %u is not in the file)",
		    s);
		return -1;
	}
	if ((n = pread(x->fd, buf, x->ssz, (off_t)off)) != (ssize_t)x->ssz) {
		fail(x, "cannot read: %s", n == -1 ? strerror(errno) : "short read");
		return -1;
	}
	return 0;
}

/* The sector after s in its chain (the FAT, one sector of it cached). */
static int
next_sector(struct xls *x, uint32_t s, uint32_t *out)
{
	uint32_t	per = x->ssz / 4, i = s / per;

	if (s > MAXREGSECT || i >= x->nfat) {
		fail(x, "corrupt xls file (sector %u has no FAT entry)", s);
		return -1;
	}
	if (x->fat_at != i) {
		x->fat_at = NO_SECTOR;
		if (read_sector(x, x->difat[i], x->fat) == -1)
			return -1;
		x->fat_at = i;
	}
	*out = u32(x->fat + 4 * (s % per));
	return 0;
}

/* Walk n links along a chain from start: what a mini stream lookup needs. */
static int
chain_seek(struct xls *x, uint32_t start, uint64_t n, uint32_t *out)
{
	if (n >= x->nsectors) {
		fail(x, "corrupt xls file (a chain longer than the file)");
		return -1;
	}
	for (*out = start; n > 0; n--)
		if (next_sector(x, *out, out) == -1)
			return -1;
	return 0;
}

/* The FAT's sectors: 109 in the header, the rest in the DIFAT chain. */
static int
load_difat(struct xls *x, const unsigned char *h)
{
	uint32_t	per = x->ssz / 4, s = u32(h + 0x44), i, j;
	uint64_t	k;

	/* No more FAT sectors than it takes to map every sector of the file. */
	x->nfat = u32(h + 0x2C);
	if (x->nfat == 0 || x->nfat > x->nsectors / per + 1) {
		fail(x, "corrupt xls file (%u FAT sectors)", x->nfat);
		return -1;
	}
	if ((x->difat = calloc(x->nfat, sizeof(*x->difat))) == NULL) {
		fail(x, "out of memory");
		return -1;
	}
	for (i = 0; i < x->nfat && i < CFB_DIFAT_IN_HEADER; i++)
		x->difat[i] = u32(h + 0x4C + 4 * i);
	/* Each DIFAT sector: per - 1 FAT sector numbers, then the next one. */
	for (k = 0; i < x->nfat; k++, s = u32(x->scratch + 4 * (per - 1))) {
		if (k >= x->nsectors || read_sector(x, s, x->scratch) == -1) {
			fail(x, "corrupt xls file (DIFAT chain)");
			return -1;
		}
		for (j = 0; j < per - 1 && i < x->nfat; j++)
			x->difat[i++] = u32(x->scratch + 4 * j);
	}
	return 0;
}

/* The header ([MS-CFB] 2.2): signature, sector size, where things start. */
static int
read_header(struct xls *x)
{
	static const unsigned char	 magic[8] = { 0xD0, 0xCF, 0x11, 0xE0, 0xA1,
	    0xB1, 0x1A, 0xE1 };
	unsigned char			 h[CFB_HEADER];
	struct stat			 sb;
	uint16_t			 major, shift;

	if (fstat(x->fd, &sb) == -1 || pread(x->fd, h, sizeof(h), 0) !=
	    (ssize_t)sizeof(h) || memcmp(h, magic, sizeof(magic)) != 0) {
		fail(x, "not an xls file (no Compound File header)");
		return -1;
	}
	major = u16(h + 0x1A);
	shift = u16(h + 0x1E);
	if (!((major == 3 && shift == 9) || (major == 4 && shift == 12)) ||
	    u16(h + 0x1C) != 0xFFFE || u16(h + 0x20) != 6 ||
	    u32(h + 0x38) != MINI_CUTOFF) {
		fail(x, "corrupt xls file (Compound File version %u, sector shift %u)",
		    major, shift);
		return -1;
	}
	x->shift = shift;
	x->ssz = 1u << shift;
	x->fsize = (uint64_t)sb.st_size;
	x->nsectors = x->fsize >> shift;
	x->dir_start = u32(h + 0x30);
	x->minifat_start = u32(h + 0x3C);
	if ((x->fat = malloc(x->ssz)) == NULL ||
	    (x->scratch = malloc(x->ssz)) == NULL) {
		fail(x, "out of memory");
		return -1;
	}
	return load_difat(x, h);
}

/* Is a directory entry's UTF-16 name this ASCII name, case aside? */
static int
entry_is(const unsigned char *e, const char *name)
{
	size_t	n = strlen(name), i, len = u16(e + 0x40);

	if (len != 2 * (n + 1))
		return 0;
	for (i = 0; i < n; i++)
		if (e[2 * i + 1] != 0 || (e[2 * i] | 0x20) != (name[i] | 0x20))
			return 0;
	return 1;
}

/*
 * The directory: the root entry (the mini stream) and "Workbook". The
 * entries are scanned in order rather than through their tree, which
 * finds the same stream and cannot loop.
 */
static int
find_workbook(struct xls *x)
{
	unsigned char	*buf = x->scratch, *e;
	uint32_t	 s = x->dir_start, i;
	uint64_t	 k;
	int		 found = 0, book = 0;

	for (k = 0; s != ENDOFCHAIN && !found && k < x->nsectors; k++) {
		if (read_sector(x, s, buf) == -1)
			break;
		for (i = 0; i < x->ssz / DIR_ENTRY && !found; i++) {
			e = buf + i * DIR_ENTRY;
			if (k == 0 && i == 0 && e[0x42] == DIR_ROOT) {
				x->root_start = u32(e + 0x74);
				x->root_size = u32(e + 0x78);
			} else if (e[0x42] == DIR_STREAM && entry_is(e, "Workbook")) {
				x->st.start = u32(e + 0x74);
				x->st.size = x->shift == 9 ? u32(e + 0x78) :
				    (uint64_t)u32(e + 0x78) | (uint64_t)u32(e + 0x7C) << 32;
				found = 1;
			} else if (e[0x42] == DIR_STREAM && entry_is(e, "Book"))
				book = 1;
			else if (e[0x42] == DIR_STREAM && entry_is(e, "EncryptedPackage"))
				book = 2;
		}
		if (!found && next_sector(x, s, &s) == -1)
			break;
	}
	if (!found && !x->failed)
		fail(x, "%s", book == 1 ? "an Excel 5.0/95 workbook (BIFF5): only "
		    "Excel 97 and later (BIFF8) is read" : book == 2 ? "an encrypted "
		    "workbook: not read" : "not an xls workbook (no Workbook stream)");
	if (found && x->st.size > x->fsize)
		fail(x, "corrupt xls file (Workbook larger than the file)");
	return x->failed ? -1 : 0;
}

/*
 * A stream under the cutoff lives in the mini stream (the root entry's
 * stream, in 64-byte mini sectors chained by the mini FAT): it is under
 * 4096 bytes, so it is read whole.
 */
static int
load_mini(struct xls *x)
{
	uint32_t	m = x->st.start, s;
	uint64_t	off, done, n;

	if ((x->st.buf = malloc(x->st.size + 1)) == NULL) {
		fail(x, "out of memory");
		return -1;
	}
	for (done = 0; done < x->st.size; done += n) {
		off = (uint64_t)m * MINI_SECTOR;
		n = x->st.size - done < MINI_SECTOR ? x->st.size - done : MINI_SECTOR;
		if (m > MAXREGSECT || off + n > x->root_size) {
			fail(x, "corrupt xls file (mini stream)");
			return -1;
		}
		if (chain_seek(x, x->root_start, off / x->ssz, &s) == -1 ||
		    read_sector(x, s, x->scratch) == -1)
			return -1;
		memcpy(x->st.buf + done, x->scratch + off % x->ssz, n);
		if (chain_seek(x, x->minifat_start, (uint64_t)m * 4 / x->ssz, &s) == -1 ||
		    read_sector(x, s, x->scratch) == -1)
			return -1;
		m = u32(x->scratch + (uint64_t)m * 4 % x->ssz);
	}
	x->st.have = x->st.size;
	x->st.mini = 1;
	return 0;
}

static int
open_stream(struct xls *x)
{
	if (x->st.size < MINI_CUTOFF)
		return load_mini(x);
	if ((x->st.buf = malloc(x->ssz)) == NULL) {
		fail(x, "out of memory");
		return -1;
	}
	return 0;
}

/* Copy n bytes of the stream into out; -1 past its end. */
static int
stream_read(struct xls *x, void *out, size_t n)
{
	struct stream	*st = &x->st;
	unsigned char	*o = out;
	size_t		 k;

	if (st->pos + n > st->size) {
		fail(x, "truncated xls file (the Workbook stream ends early)");
		return -1;
	}
	while (n > 0) {
		if (st->at == st->have) {
			if (st->mini || st->steps >= x->nsectors ||
			    (st->steps > 0 && next_sector(x, st->sector, &st->sector) == -1))
				return fail(x, "corrupt xls file (Workbook chain)"), -1;
			if (st->steps++ == 0)
				st->sector = st->start;
			if (read_sector(x, st->sector, st->buf) == -1)
				return -1;
			st->have = x->ssz;
			st->at = 0;
		}
		k = st->have - st->at < n ? st->have - st->at : n;
		memcpy(o, st->buf + st->at, k);
		st->at += k;
		st->pos += k;
		o += k;
		n -= k;
	}
	return 0;
}

/* Go to offset off of the stream (back to its start first if behind). */
static int
stream_seek(struct xls *x, uint64_t off)
{
	unsigned char	skip[512];
	uint64_t	n;

	if (off < x->st.pos) {
		x->st.pos = x->st.at = 0;
		if (!x->st.mini)
			x->st.have = x->st.steps = 0;
	}
	while (x->st.pos < off) {
		n = off - x->st.pos < sizeof(skip) ? off - x->st.pos : sizeof(skip);
		if (stream_read(x, skip, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ records -- */

/* The next record into x->type, x->len, x->data. */
static int
next_record(struct xls *x)
{
	unsigned char	h[4];

	if (x->pushback) {
		x->pushback = 0;
		x->at = 0;
		return 0;
	}
	if (stream_read(x, h, 4) == -1)
		return -1;
	x->type = u16(h);
	x->len = u16(h + 2);
	x->at = 0;
	if (x->len > RECORD_MAX) {
		fail(x, "corrupt xls file (a record of %u bytes)", x->len);
		return -1;
	}
	return stream_read(x, x->data, x->len);
}

/* The record must hold n bytes. */
static int
need(struct xls *x, size_t n)
{
	if (x->len >= n)
		return 0;
	fail(x, "corrupt xls file (record 0x%04X of %u bytes)", x->type, x->len);
	return -1;
}

/* Move into the CONTINUE record that must follow (strings and SST). */
static int
continued(struct xls *x)
{
	if (next_record(x) == -1)
		return -1;
	if (x->type != R_CONTINUE) {
		fail(x, "corrupt xls file (a string runs past its record)");
		return -1;
	}
	return 0;
}

/* n bytes at the cursor, into out (or skipped), across CONTINUE records. */
static int
take(struct xls *x, unsigned char *out, size_t n)
{
	size_t	k;

	while (n > 0) {
		if (x->at == x->len && continued(x) == -1)
			return -1;
		k = x->len - x->at < n ? x->len - x->at : n;
		if (out != NULL) {
			memcpy(out, x->data + x->at, k);
			out += k;
		}
		x->at += k;
		n -= k;
	}
	return 0;
}

/* Code point u as UTF-8, appended to b. */
static int
utf8(struct flux_buf *b, uint32_t u)
{
	unsigned char	o[4];
	size_t		n;

	if (u < 0x80) {
		o[0] = (unsigned char)u;
		n = 1;
	} else if (u < 0x800) {
		o[0] = (unsigned char)(0xC0 | u >> 6);
		o[1] = (unsigned char)(0x80 | (u & 0x3F));
		n = 2;
	} else if (u < 0x10000) {
		o[0] = (unsigned char)(0xE0 | u >> 12);
		o[1] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (u & 0x3F));
		n = 3;
	} else {
		o[0] = (unsigned char)(0xF0 | u >> 18);
		o[1] = (unsigned char)(0x80 | (u >> 12 & 0x3F));
		o[2] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
		o[3] = (unsigned char)(0x80 | (u & 0x3F));
		n = 4;
	}
	return flux_buf_add(b, o, n);
}

/*
 * One UTF-16 unit to UTF-8 in b, pairing surrogates (a half without its
 * other half becomes U+FFFD). A high half waits in x->surrogate.
 */
static int
put_unit(struct xls *x, struct flux_buf *b, uint32_t u)
{
	uint32_t	hi = x->surrogate;

	x->surrogate = 0;
	if (u >= 0xD800 && u <= 0xDBFF) {
		x->surrogate = u;
		return hi ? utf8(b, 0xFFFD) : 0;
	}
	if (u >= 0xDC00 && u <= 0xDFFF)
		return utf8(b, hi ? 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00) :
		    0xFFFD);
	if (hi != 0 && utf8(b, 0xFFFD) == -1)
		return -1;
	return utf8(b, u);
}

/* What chars() converted so far, into the shared string being built. */
static int
strtab_piece(struct xls *x)
{
	int	rc = 0;

	if (x->piece.len > 0)
		rc = flux_strtab_add(&x->sst, x->piece.ptr, x->piece.len);
	x->piece.len = 0;
	if (rc == -1)
		fail(x, "shared strings larger than %d bytes", FLUX_SHEET_STRINGS_MAX);
	return rc;
}

/*
 * cch characters at the cursor as UTF-8, appended to b (or to the shared
 * strings when b is NULL). Where the characters run into a CONTINUE
 * record, its first byte says again whether they are 8 or 16-bit
 * ([MS-XLS] 2.5.293, 2.5.296).
 */
static int
chars(struct xls *x, size_t cch, struct flux_buf *b)
{
	struct flux_buf	*o = b ? b : &x->piece;
	size_t		 w, i;
	int		 rc = 0;

	x->surrogate = 0;
	while (cch > 0 && rc == 0) {
		if (x->at == x->len) {
			if (continued(x) == -1 || need(x, 1) == -1)
				return -1;
			x->hi = x->data[x->at++] & 1;
		}
		w = x->hi ? 2 : 1;
		for (i = 0; cch > 0 && x->at + w <= x->len && rc == 0; i++, cch--) {
			rc = put_unit(x, o, w == 2 ? u16(x->data + x->at) : x->data[x->at]);
			x->at += w;
		}
		if (i == 0 && x->at < x->len) {
			fail(x, "corrupt xls file (a character split across records)");
			return -1;
		}
		if (rc == 0 && b == NULL)
			rc = strtab_piece(x);
	}
	if (rc == 0 && x->surrogate != 0) {
		x->surrogate = 0;
		rc = utf8(o, 0xFFFD);
	}
	if (rc == 0 && b == NULL)
		rc = strtab_piece(x);
	if (rc == -1 && b != NULL)
		fail(x, "out of memory");
	return rc;
}

/*
 * An XLUnicodeString at the cursor (cch of 16 bits, or 8 when short):
 * a cell's text, a format code, a sheet name. Its text replaces b's.
 */
static int
string(struct xls *x, int short_len, struct flux_buf *b)
{
	unsigned char	h[3];
	size_t		cch;

	if (take(x, h, short_len ? 2 : 3) == -1)
		return -1;
	cch = short_len ? h[0] : u16(h);
	x->hi = h[short_len ? 1 : 2] & 1;
	b->len = 0;
	if (b->ptr != NULL)
		b->ptr[0] = '\0';
	if (cch == 0 && flux_buf_add(b, "", 0) == -1)
		return fail(x, "out of memory"), -1;
	return chars(x, cch, b);
}

/* ------------------------------------------------------------ globals -- */

/*
 * SST: the shared strings, each an XLUnicodeRichExtendedString whose
 * formatting runs and phonetic data are skipped. It ends with its
 * CONTINUE records: a record of another type is handed back.
 */
static int
read_sst(struct xls *x)
{
	unsigned char	h[3], w[4];
	uint32_t	count, i, runs, ext;

	if (need(x, 8) == -1)
		return -1;
	count = u32(x->data + 4);
	x->at = 8;
	for (i = 0; i < count; i++) {
		if (x->at == x->len) {
			if (next_record(x) == -1)
				return -1;
			if (x->type != R_CONTINUE) {
				x->pushback = 1;
				return 0;
			}
		}
		if (take(x, h, 3) == -1)
			return -1;
		runs = ext = 0;
		x->hi = h[2] & 1;
		if ((h[2] & 0x08) && take(x, w, 2) == 0)
			runs = u16(w);
		if ((h[2] & 0x04) && take(x, w, 4) == 0)
			ext = u32(w);
		if (x->failed || chars(x, u16(h), NULL) == -1 ||
		    flux_strtab_end(&x->sst) == -1 ||
		    take(x, NULL, (size_t)runs * 4 + ext) == -1) {
			fail(x, "shared strings larger than %d bytes",
			    FLUX_SHEET_STRINGS_MAX);
			return -1;
		}
	}
	return 0;
}

/* BOUNDSHEET8: a sheet's name, kind and where its BOF is. */
static int
boundsheet(struct xls *x)
{
	const struct flux_sheet_spec	*sp = x->spec;
	int				 dt;
	size_t				 n = strlen(x->names);

	if (need(x, 8) == -1)
		return -1;
	dt = x->data[5];
	x->at = 6;
	if (string(x, 1, &x->text) == -1)
		return -1;
	snprintf(x->names + n, sizeof(x->names) - n, "%s'%.64s'", n ? ", " : "",
	    x->text.ptr);
	if (x->found || (sp->name != NULL ? strcmp(x->text.ptr, sp->name) != 0 :
	    dt != 0 || x->worksheets++ != sp->index))
		return 0;
	x->found = 1;
	x->sheet_pos = u32(x->data);
	x->sheet_dt = dt;
	snprintf(x->sheet_name, sizeof(x->sheet_name), "%s", x->text.ptr);
	return 0;
}

/* One record of the globals substream. */
static int
global(struct xls *x)
{
	switch (x->type) {
	case R_FILEPASS:
		fail(x, "an encrypted workbook: not read");
		return -1;
	case R_DATEMODE:
		if (need(x, 2) == -1)
			return -1;
		x->date1904 = u16(x->data) == 1;
		return 0;
	case R_FORMAT:
		if (need(x, 2) == -1)
			return -1;
		x->at = 2;
		if (string(x, 0, &x->text) == -1)
			return -1;
		flux_sheet_styles_format(&x->styles, u16(x->data), x->text.ptr,
		    x->text.len);
		return 0;
	case R_XF:
		if (need(x, 4) == -1)
			return -1;
		if (flux_sheet_styles_xf(&x->styles, u16(x->data + 2)) == -1) {
			fail(x, "more than %d cell styles", FLUX_SHEET_XF_MAX);
			return -1;
		}
		return 0;
	case R_SST:
		return read_sst(x);
	case R_BOUNDSHEET:
		return boundsheet(x);
	default:
		return 0;
	}
}

/* A BOF record of BIFF8 of kind dt. */
static int
bof(struct xls *x, int dt)
{
	if (x->type != R_BOF || x->len < 4) {
		fail(x, "not an xls workbook (no BOF record)");
		return -1;
	}
	if (u16(x->data) != BIFF8) {
		fail(x, "a workbook of BIFF version 0x%04X: only Excel 97 and later "
		    "(BIFF8) is read", u16(x->data));
		return -1;
	}
	if (u16(x->data + 2) != dt) {
		fail(x, "sheet '%.255s' is not a worksheet", x->sheet_name);
		return -1;
	}
	return 0;
}

static int
globals(struct xls *x)
{
	if (next_record(x) == -1 || bof(x, BOF_GLOBALS) == -1)
		return -1;
	while (next_record(x) == 0 && x->type != R_EOF)
		if (global(x) == -1)
			return -1;
	if (x->failed)
		return -1;
	if (!x->found && x->spec->name != NULL)
		fail(x, "no sheet named '%.255s' (the workbook has %s)", x->spec->name,
		    x->names);
	else if (!x->found)
		fail(x, "no sheet %lld: the workbook has %lld worksheets (%s)",
		    (long long)x->spec->index, (long long)x->worksheets, x->names);
	else if (x->sheet_dt != 0)
		fail(x, "sheet '%.255s' is not a worksheet", x->sheet_name);
	return x->failed ? -1 : 0;
}

/* -------------------------------------------------------------- cells -- */

/* Hand a cell to the report, ending the previous row when this is a new one. */
static int
put(struct xls *x, uint32_t rw, uint32_t col, struct flux_cell *c)
{
	uint32_t	row = rw + 1;

	x->string_due = 0;
	if (col >= COLS_MAX) {
		fail(x, "row %u: a cell beyond column %d", row, COLS_MAX);
		return -1;
	}
	if (row < x->row || (row == x->row && col < x->next_col)) {
		fail(x, "row %u: cells out of order", row);
		return -1;
	}
	if (x->row != 0 && row != x->row && flux_report_row_end(x->r, x->row) == -1)
		return -1;
	x->row = row;
	x->next_col = col + 1;
	return flux_report_cell(x->r, row, col, c);
}

/* A number cell: a date when its style shows a date (sheet.c). */
static int
number(struct xls *x, uint32_t rw, uint32_t col, uint32_t xf, double v)
{
	struct flux_cell	c = { FLUX_CELL_NUMBER, NULL, 0, v };
	char			date[FLUX_SHEET_DATE_LEN];

	if (flux_sheet_styles_is_date(&x->styles, xf) &&
	    flux_sheet_date_text(v, x->date1904, date) == 0)
		c = (struct flux_cell){ FLUX_CELL_DATE, date, strlen(date), 0 };
	return put(x, rw, col, &c);
}

static int
text(struct xls *x, uint32_t rw, uint32_t col, char *s, size_t len)
{
	struct flux_cell	c = { FLUX_CELL_TEXT, s, len, 0 };

	return put(x, rw, col, &c);
}

/* An RK number ([MS-XLS] 2.5.217): 30 bits of an integer or of a double. */
static double
rk(uint32_t v)
{
	uint64_t	bits = (uint64_t)(v & 0xFFFFFFFCu) << 32;
	double		d;

	if (v & 2)
		d = (double)((int32_t)(v & 0xFFFFFFFCu) / 4);
	else
		memcpy(&d, &bits, sizeof(d));
	return (v & 1) ? d / 100 : d;
}

/* The text Excel shows for an error value ([MS-XLS] 2.5.17). */
static const char *
error_text(unsigned code)
{
	switch (code) {
	case 0x00: return "#NULL!";
	case 0x07: return "#DIV/0!";
	case 0x0F: return "#VALUE!";
	case 0x17: return "#REF!";
	case 0x1D: return "#NAME?";
	case 0x24: return "#NUM!";
	case 0x2A: return "#N/A";
	default: return "#ERROR!";
	}
}

/* A boolean or an error, of BOOLERR or of a formula's cached value. */
static int
boolerr(struct xls *x, uint32_t rw, uint32_t col, unsigned v, int is_error)
{
	struct flux_cell	c = { FLUX_CELL_NUMBER, NULL, 0, v != 0 };
	char			e[16];

	if (!is_error)
		return put(x, rw, col, &c);
	snprintf(e, sizeof(e), "%s", error_text(v));
	return text(x, rw, col, e, strlen(e));
}

static int
mulrk(struct xls *x)
{
	uint32_t	i, n;

	if (x->len < 12 || (x->len - 6) % 6 != 0) {
		fail(x, "corrupt xls file (a MULRK record of %u bytes)", x->len);
		return -1;
	}
	n = (uint32_t)(x->len - 6) / 6;
	for (i = 0; i < n; i++)
		if (number(x, u16(x->data), u16(x->data + 2) + i,
		    u16(x->data + 4 + 6 * i), rk(u32(x->data + 6 + 6 * i))) == -1)
			return -1;
	return 0;
}

/*
 * FORMULA: its cached value ([MS-XLS] 2.5.133). A string result comes in
 * the STRING record after it; an empty string is an empty cell.
 */
static int
formula(struct xls *x)
{
	const unsigned char	*v = x->data + 6;
	double			 d;

	if (need(x, 14) == -1)
		return -1;
	if (u16(v + 6) != 0xFFFF) {
		memcpy(&d, v, sizeof(d));
		return number(x, u16(x->data), u16(x->data + 2), u16(x->data + 4), d);
	}
	if (v[0] == 1 || v[0] == 2)
		return boolerr(x, u16(x->data), u16(x->data + 2), v[2], v[0] == 2);
	if (v[0] == 0) {
		x->string_due = 1;
		x->due_row = u16(x->data);
		x->due_col = u16(x->data + 2);
	}
	return 0;
}

/* NUMBER: an IEEE double. */
static int
number_record(struct xls *x)
{
	double	v;

	if (need(x, 14) == -1)
		return -1;
	memcpy(&v, x->data + 6, sizeof(v));
	return number(x, u16(x->data), u16(x->data + 2), u16(x->data + 4), v);
}

/* A cell record of the sheet; other records are passed over. */
static int
cell(struct xls *x)
{
	const unsigned char	*d = x->data;
	size_t			 len;
	const char		*s;

	switch (x->type) {
	case R_NUMBER:
		return number_record(x);
	case R_RK:
		return need(x, 10) == -1 ? -1 :
		    number(x, u16(d), u16(d + 2), u16(d + 4), rk(u32(d + 6)));
	case R_MULRK:
		return mulrk(x);
	case R_LABELSST:
		/* Copied: the report trims the text it is given in place. */
		if (need(x, 10) == -1)
			return -1;
		if ((s = flux_strtab_get(&x->sst, u32(d + 6), &len)) == NULL) {
			fail(x, "row %u: shared string %u out of range (%zu strings)",
			    u16(d) + 1, u32(d + 6), x->sst.n);
			return -1;
		}
		x->text.len = 0;
		if (flux_buf_add(&x->text, s, len) == -1) {
			fail(x, "out of memory");
			return -1;
		}
		return text(x, u16(d), u16(d + 2), x->text.ptr, x->text.len);
	case R_LABEL:
	case R_RSTRING:
		if (need(x, 6) == -1)
			return -1;
		x->at = 6;
		return string(x, 0, &x->text) == -1 ? -1 :
		    text(x, u16(d), u16(d + 2), x->text.ptr, x->text.len);
	case R_BOOLERR:
		return need(x, 8) == -1 ? -1 :
		    boolerr(x, u16(d), u16(d + 2), d[6], d[7] != 0);
	case R_FORMULA:
		return formula(x);
	case R_STRING:
		if (!x->string_due)
			return 0;
		x->string_due = 0;
		return string(x, 0, &x->text) == -1 ? -1 :
		    text(x, x->due_row, x->due_col, x->text.ptr, x->text.len);
	case R_DIMENSIONS:
		if (need(x, 12) == -1)
			return -1;
		if (u32(d + 4) > ROWS_MAX || u16(d + 10) > COLS_MAX) {
			fail(x, "sheet dimensions of %u rows and %u columns are beyond "
			    "%d rows and %d columns", u32(d + 4), u16(d + 10), ROWS_MAX,
			    COLS_MAX);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

/*
 * The sheet's substream, BOF to EOF. Charts embedded in a sheet bring
 * their own BOF..EOF inside it; their records are not cells of ours.
 */
static int
read_cells(struct xls *x)
{
	int	depth = 0;

	if (stream_seek(x, x->sheet_pos) == -1 || next_record(x) == -1 ||
	    bof(x, BOF_WORKSHEET) == -1)
		return -1;
	while (next_record(x) == 0) {
		if (x->type == R_BOF)
			depth++;
		else if (x->type == R_EOF && depth-- == 0)
			break;
		else if (depth == 0 && cell(x) == -1)
			return -1;
	}
	if (x->failed)
		return -1;
	return (x->row != 0 && flux_report_row_end(x->r, x->row) == -1) ? -1 : 0;
}

int
flux_xls_read(const char *path, const struct flux_sheet_spec *spec,
    struct flux_report *r, char err[])
{
	struct xls	*x;
	char		 ferr[FLUX_ERRLEN];
	int		 rc = -1;

	err[0] = '\0';
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return flux_errf(err, "out of memory");
	x->spec = spec;
	x->r = r;
	x->err = err;
	x->sst.max = FLUX_SHEET_STRINGS_MAX;
	x->fat_at = NO_SECTOR;
	if ((x->fd = flux_fs_open_file(path, ferr)) == -1)
		fail(x, "%s", ferr);
	else if (read_header(x) == 0 && find_workbook(x) == 0 &&
	    open_stream(x) == 0 && globals(x) == 0 && read_cells(x) == 0)
		rc = 0;
	if (x->fd != -1)
		close(x->fd);
	if (rc == -1 && flux_report_error(r) != NULL)
		err[0] = '\0';
	flux_sheet_styles_free(&x->styles);
	flux_strtab_free(&x->sst);
	flux_buf_free(&x->text);
	flux_buf_free(&x->piece);
	free(x->difat);
	free(x->fat);
	free(x->scratch);
	free(x->st.buf);
	free(x);
	return rc;
}
