/*
 * upload.h - what an upload is (SPEC 4.4 and 8): the file names a client
 * may give, the settings info.json carries, the keys and namespaces that
 * may upload, and where an upload lives under DATA_UPLOADS_PATH. Shared by
 * upload_data, upload_status and flux-batch, so the CGI refuses up front
 * exactly what the batch would fail later.
 */
#ifndef FLUX_UPLOAD_H
#define FLUX_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conf.h"

/* An upload directory's name (an upload id). */
#define FLUX_UPLOAD_ID_MAX 128
/* A client's file name, and an archive member's. */
#define FLUX_UPLOAD_NAME_MAX 255
/* Columns of one report; a sanity bound, far above any real report. */
#define FLUX_UPLOAD_COLUMNS_MAX 10000
/* info.json and upload.json are small; anything larger is not ours. */
#define FLUX_UPLOAD_JSON_MAX 1048576
/* Status records live 30 days, as Skyline's. */
#define FLUX_UPLOAD_STATUS_TTL 2592000

/* The files of an upload directory besides the data. */
#define FLUX_UPLOAD_INFO "info.json"
#define FLUX_UPLOAD_META "upload.json"
#define FLUX_UPLOAD_STATUS "status.json"
/* Where failed uploads are kept, and the prefix of the CGI's temporary dirs. */
#define FLUX_UPLOAD_FAILED_DIR ".failed"
#define FLUX_UPLOAD_TMP_PREFIX ".tmp."

enum flux_archive {
	FLUX_AR_NONE,
	FLUX_AR_GZ,
	FLUX_AR_ZIP,
	FLUX_AR_TAR_GZ
};

/* format in info.json: what kind of report the data file is. */
enum flux_format {
	FLUX_FMT_CSV,
	FLUX_FMT_XLSX,
	FLUX_FMT_XLS
};

/* A sheet name in info.json; Excel's own limit is 31 characters. */
#define FLUX_UPLOAD_SHEET_NAME_MAX 255
/* A sheet index in info.json; no workbook has more sheets. */
#define FLUX_UPLOAD_SHEET_INDEX_MAX 65535

enum flux_resample {
	FLUX_RS_MEAN,
	FLUX_RS_SUM
};

/* The settings of info.json, checked. Strings are owned by the struct. */
struct flux_upload_info {
	char			*ns;		/* parent_metric_namespace */
	char			*timezone;
	enum flux_archive	 archive;
	enum flux_format	 format;
	char			*sheet_name;	/* "sheet" as a name, or NULL */
	int64_t			 sheet_index;	/* "sheet" as an index; 0 by default */
	int64_t			 skip_rows;
	int64_t			 header_row;
	char			**metrics;	/* per column: "<ns>.<name>"; NULL for date */
	size_t			 ncolumns;
	size_t			 date_column;
	char			*date_format;	/* NULL: the built-in layouts */
	int			 ignore_submitted;
	enum flux_resample	 resample;
	int			 dryrun;
	char			*data_filename;	/* NULL unless given */
	char			*key;		/* dropped-in uploads; NULL otherwise */
};

int	flux_upload_info_parse(const cJSON *o, struct flux_upload_info *info,
	    char err[]);
void	flux_upload_info_free(struct flux_upload_info *info);
const char *flux_upload_archive_name(enum flux_archive a);
const char *flux_upload_format_name(enum flux_format f);

int	flux_upload_name_ok(const char *name);
int	flux_upload_name_is_data(const char *name);
int	flux_upload_name_fits(const char *name, enum flux_format f,
	    enum flux_archive a);
int	flux_upload_name_is_format(const char *name, enum flux_format f);
int	flux_upload_id_ok(const char *id);

int	flux_upload_key_ok(const struct flux_conf *c, const char *ns,
	    const char *key);
int	flux_upload_ns_allowed(const struct flux_conf *c, const char *ns);
int	flux_upload_dir(const struct flux_conf *c, const char *ns,
	    const char *id, char out[]);

void	flux_upload_iso_time(int64_t t, char out[32]);

#endif
