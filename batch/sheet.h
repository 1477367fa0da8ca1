/*
 * sheet.h - spreadsheet reports, xlsx (xlsx.c) and xls (xls.c): the
 * readers' interface and what they share. A reader opens the workbook
 * at a path, finds the sheet info.json names (or the index-th worksheet,
 * the first by default), and hands its cells to a flux_report in reading
 * order (report.h), so that every rule after a cell is extracted (skip,
 * header, widths, dates, time zone, values, all-or-nothing) is the CSV
 * one. Memory does not grow with the number of rows: a reader keeps one
 * cell, the workbook's styles and its shared strings, which are bounded.
 */
#ifndef FLUX_SHEET_H
#define FLUX_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

/*
 * The shared strings of one workbook, text and index together (64 MiB).
 * A report's strings are its headers and a few labels; a table past this
 * is not a report, and refusing it bounds memory.
 */
#define FLUX_SHEET_STRINGS_MAX (64 * 1024 * 1024)
/* Cell styles (xlsx "s", xls XF index): both are 16-bit in practice. */
#define FLUX_SHEET_XF_MAX 65536
/* Sheets of one workbook we look through for the one asked for. */
#define FLUX_SHEET_SHEETS_MAX 4096
/* "YYYY-MM-DD HH:MM:SS" and its NUL, with room. */
#define FLUX_SHEET_DATE_LEN 32

/* Which sheet to read, and how much a workbook may inflate to. */
struct flux_sheet_spec {
	const char	*name;		/* a sheet's name, or NULL for index */
	int64_t		 index;		/* 0-based among the worksheets */
	int64_t		 max_bytes;	/* FLUX_MAX_EXTRACTED_BYTES */
};

/*
 * Read the sheet into r (cells, row ends; the caller then calls
 * flux_report_finish()). -1 when the workbook cannot be read, with err
 * set, or when r failed (flux_report_error() says why, err is "").
 */
int	flux_xlsx_read(const char *path, const struct flux_sheet_spec *spec,
	    struct flux_report *r, char err[]);
int	flux_xls_read(const char *path, const struct flux_sheet_spec *spec,
	    struct flux_report *r, char err[]);

/* Number formats, and which cell styles show a number as a date or time. */
struct flux_sheet_styles {
	unsigned char	 custom[65536 / 8];	/* ids with a format code given */
	unsigned char	 date[65536 / 8];	/* ... whose code is a date's */
	uint32_t	*xf_fmt;		/* cell style -> format id */
	size_t		 nxf, xf_cap;
};

void	flux_sheet_styles_format(struct flux_sheet_styles *st, uint32_t id,
	    const char *code, size_t len);
int	flux_sheet_styles_xf(struct flux_sheet_styles *st, uint32_t fmt);
int	flux_sheet_styles_is_date(const struct flux_sheet_styles *st,
	    uint32_t xf);
void	flux_sheet_styles_free(struct flux_sheet_styles *st);

int	flux_sheet_date_text(double serial, int date1904,
	    char out[FLUX_SHEET_DATE_LEN]);

/*
 * A table of strings added piece by piece (they arrive split across XML
 * text events or BIFF CONTINUE records), bounded by max bytes in all.
 */
struct flux_strtab {
	char		*text;		/* each string NUL-terminated */
	size_t		 len, cap;
	size_t		*off;		/* start of string i in text */
	size_t		 n, ncap;
	size_t		 max;
	int		 open;		/* a string is being added */
};

int	flux_strtab_add(struct flux_strtab *t, const char *p, size_t n);
int	flux_strtab_end(struct flux_strtab *t);
const char *flux_strtab_get(const struct flux_strtab *t, size_t i, size_t *len);
void	flux_strtab_free(struct flux_strtab *t);

#endif
