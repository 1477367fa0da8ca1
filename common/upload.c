/*
 * upload.c - see upload.h.
 *
 * info.json is JSON (Skyline read it as a Python literal, so true/false/
 * null broke it: reference Q41). Each setting accepts what Skyline's
 * clients send: numbers as JSON numbers or decimal strings, booleans as
 * true/false or "true"/"false" (Skyline tested truthiness, so "false"
 * meant true: Q44). Unknown settings are ignored, as Skyline did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "date.h"
#include "metric.h"
#include "upload.h"
#include "util.h"

static const char *const archive_names[] = {
	[FLUX_AR_NONE] = "none",
	[FLUX_AR_GZ] = "gz",
	[FLUX_AR_ZIP] = "zip",
	[FLUX_AR_TAR_GZ] = "tar_gz",
};

/* The extension a data file must have for each archive kind. */
static const char *const archive_exts[] = {
	[FLUX_AR_NONE] = ".csv",
	[FLUX_AR_GZ] = ".gz",
	[FLUX_AR_ZIP] = ".zip",
	[FLUX_AR_TAR_GZ] = ".tar.gz",
};

#define NARCHIVES (sizeof(archive_names) / sizeof(archive_names[0]))

/* The formats, and the extension of a data file (or member) of each. */
static const char *const format_names[] = {
	[FLUX_FMT_CSV] = "csv",
	[FLUX_FMT_XLSX] = "xlsx",
	[FLUX_FMT_XLS] = "xls",
};

static const char *const format_exts[] = {
	[FLUX_FMT_CSV] = ".csv",
	[FLUX_FMT_XLSX] = ".xlsx",
	[FLUX_FMT_XLS] = ".xls",
};

#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

const char *
flux_upload_archive_name(enum flux_archive a)
{
	return archive_names[a];
}

const char *
flux_upload_format_name(enum flux_format f)
{
	return format_names[f];
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* [A-Za-z0-9._-]+ not starting with a dot (no hidden file, no ".."). */
static int
safe_name(const char *s, size_t max)
{
	size_t	n = strlen(s);

	return n > 0 && n <= max && s[0] != '.' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/*
 * A client file name we accept (SPEC 4.4): the safe characters and an
 * allowed extension. The name is metadata; nothing is ever opened by it
 * except inside a directory we made.
 */
int
flux_upload_name_ok(const char *name)
{
	return safe_name(name, FLUX_UPLOAD_NAME_MAX) &&
	    (flux_upload_name_is_data(name) || ends_with(name, ".json"));
}

/* A name with a data extension: csv, xlsx, xls, gz (tar.gz included) or zip. */
int
flux_upload_name_is_data(const char *name)
{
	return ends_with(name, ".csv") || ends_with(name, ".xlsx") ||
	    ends_with(name, ".xls") || ends_with(name, ".gz") ||
	    ends_with(name, ".zip");
}

/* True when name has the extension of format f (".xls" is not ".xlsx"). */
int
flux_upload_name_is_format(const char *name, enum flux_format f)
{
	return ends_with(name, format_exts[f]);
}

/*
 * True when the data file name has the extension archive a implies, and
 * without an archive the extension of format f.
 */
int
flux_upload_name_fits(const char *name, enum flux_format f, enum flux_archive a)
{
	if (a == FLUX_AR_GZ && ends_with(name, ".tar.gz"))
		return 0;
	if (a == FLUX_AR_NONE)
		return ends_with(name, format_exts[f]);
	return ends_with(name, archive_exts[a]);
}

/* An upload id is a directory name made of the safe characters. */
int
flux_upload_id_ok(const char *id)
{
	return safe_name(id, FLUX_UPLOAD_ID_MAX);
}

/*
 * True when key is FLUX_UPLOADS_KEYS[ns] (SPEC 4.4: one documented
 * direction, namespace to key, and the key always compared; Q35).
 */
int
flux_upload_key_ok(const struct flux_conf *c, const char *ns, const char *key)
{
	size_t	i;

	if (ns == NULL || key == NULL)
		return 0;
	for (i = 0; i < c->uploads_keys.n; i++)
		if (strcmp(c->uploads_keys.v[i].left, ns) == 0)
			return flux_ct_equal(key, c->uploads_keys.v[i].right);
	return 0;
}

/* ns equals an entry of BATCH_PROCESSING_NAMESPACES or is below one. */
int
flux_upload_ns_allowed(const struct flux_conf *c, const char *ns)
{
	size_t	i, n;

	for (i = 0; i < c->batch_namespaces.n; i++) {
		n = strlen(c->batch_namespaces.v[i]);
		if (strncmp(ns, c->batch_namespaces.v[i], n) == 0 &&
		    (ns[n] == '\0' || ns[n] == '.'))
			return 1;
	}
	return 0;
}

/* DATA_UPLOADS_PATH/<ns>/<id> into out (FLUX_PATH_MAX bytes). */
int
flux_upload_dir(const struct flux_conf *c, const char *ns, const char *id,
    char out[])
{
	int	n = snprintf(out, FLUX_PATH_MAX, "%s/%s/%s", c->uploads_path, ns, id);

	return (n < 0 || n >= FLUX_PATH_MAX) ? -1 : 0;
}

/* Unix seconds as ISO 8601 UTC, "2020-05-16T11:00:00Z". */
void
flux_upload_iso_time(int64_t t, char out[32])
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

/* ------------------------------------------------------------ info.json -- */

/* A string setting; *out is NULL when absent. -1 when not a string. */
static int
get_str(const cJSON *o, const char *name, const char **out, char err[])
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it))
		return flux_errf(err, "%s must be a string", name);
	*out = it->valuestring;
	return 0;
}

static int
need_str(const cJSON *o, const char *name, const char **out, char err[])
{
	if (get_str(o, name, out, err) == -1)
		return -1;
	if (*out == NULL || **out == '\0')
		return flux_errf(err, "no %s passed", name);
	return 0;
}

/* An integer in [0, max]: a JSON number or a decimal string; def if absent. */
static int
get_int(const cJSON *o, const char *name, int64_t def, int64_t max,
    int64_t *out, char err[])
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(o, name);
	char		 text[FLUX_DBLLEN + 64];

	*out = def;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble <= max &&
	    it->valuedouble == (double)(int64_t)it->valuedouble) {
		*out = (int64_t)it->valuedouble;
		return 0;
	}
	if (cJSON_IsString(it) && flux_digits_only(it->valuestring) &&
	    flux_parse_i64(it->valuestring, 0, max, out) == 0)
		return 0;
	if (cJSON_IsString(it))
		snprintf(text, sizeof(text), "%.64s", it->valuestring);
	else
		snprintf(text, sizeof(text), "%s", cJSON_IsNumber(it) ? "a number out "
		    "of range" : "not a number");
	return flux_errf(err, "invalid %s - %s", name, text);
}

/* true/false or "true"/"false"; def if absent. */
static int
get_bool(const cJSON *o, const char *name, int def, int *out, char err[])
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = def;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsBool(it)) {
		*out = cJSON_IsTrue(it);
		return 0;
	}
	if (cJSON_IsString(it) && (strcasecmp(it->valuestring, "true") == 0 ||
	    strcasecmp(it->valuestring, "false") == 0)) {
		*out = strcasecmp(it->valuestring, "true") == 0;
		return 0;
	}
	return flux_errf(err, "invalid %s - must be true or false", name);
}

static int
dup_str(char **dst, const char *src, char err[])
{
	if (src == NULL)
		return 0;
	if ((*dst = strdup(src)) == NULL)
		return flux_errf(err, "out of memory");
	return 0;
}

/* The closed sets: format, archive, date_orientation, resample_method. */
static int
parse_choices(const cJSON *o, struct flux_upload_info *info, char err[])
{
	const char	*s;
	size_t		 i;

	if (need_str(o, "format", &s, err) == -1)
		return -1;
	for (i = 0; i < NFORMATS && strcmp(s, format_names[i]) != 0; i++)
		;
	if (i == NFORMATS)
		return flux_errf(err, "format %.32s is not supported - csv, xlsx "
		    "or xls", s);
	info->format = (enum flux_format)i;
	if (need_str(o, "archive", &s, err) == -1)
		return -1;
	for (i = 0; i < NARCHIVES && strcmp(s, archive_names[i]) != 0; i++)
		;
	if (i == NARCHIVES)
		return flux_errf(err, "invalid archive - %.32s - one of none, gz, "
		    "zip, tar_gz", s);
	info->archive = (enum flux_archive)i;
	if (get_str(o, "date_orientation", &s, err) == -1)
		return -1;
	if (s != NULL && strcmp(s, "rows") != 0)
		return flux_errf(err, "date_orientation %.32s is not supported - "
		    "only rows", s);
	if (get_str(o, "resample_method", &s, err) == -1)
		return -1;
	if (s != NULL && strcmp(s, "mean") != 0 && strcmp(s, "sum") != 0)
		return flux_errf(err, "invalid resample_method - %.32s - mean or "
		    "sum", s);
	info->resample = (s != NULL && strcmp(s, "sum") == 0) ? FLUX_RS_SUM :
	    FLUX_RS_MEAN;
	return 0;
}

/*
 * sheet (xlsx and xls): a JSON number is a 0-based index among the
 * worksheets, a JSON string a sheet's name; absent, the first sheet. As
 * with pandas' sheet_name, "0" is the sheet named 0, not an index.
 */
static int
parse_sheet(const cJSON *o, struct flux_upload_info *info, char err[])
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(o, "sheet");
	size_t		 n;

	info->sheet_index = 0;
	if (it == NULL || cJSON_IsNull(it) || cJSON_IsNumber(it))
		return get_int(o, "sheet", 0, FLUX_UPLOAD_SHEET_INDEX_MAX,
		    &info->sheet_index, err);
	n = cJSON_IsString(it) ? strlen(it->valuestring) : 0;
	if (n == 0 || n > FLUX_UPLOAD_SHEET_NAME_MAX)
		return flux_errf(err, "invalid sheet - a name of 1 to %d bytes "
		    "or an index from 0", FLUX_UPLOAD_SHEET_NAME_MAX);
	return dup_str(&info->sheet_name, it->valuestring, err);
}

/* skip_rows: "none", absent or an integer; 0 means none. */
static int
parse_skip_rows(const cJSON *o, struct flux_upload_info *info, char err[])
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(o, "skip_rows");

	if (cJSON_IsString(it) && strcasecmp(it->valuestring, "none") == 0) {
		info->skip_rows = 0;
		return 0;
	}
	return get_int(o, "skip_rows", 0, INT32_MAX, &info->skip_rows, err);
}

/* Split columns_to_metrics at commas into trimmed names (new array). */
static char **
split_columns(const char *s, size_t *n)
{
	char	**v = NULL, **nv;
	size_t	  len;

	for (*n = 0;; s++) {
		while (*s == ' ' || *s == '\t')
			s++;
		len = strcspn(s, ",");
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (*n == FLUX_UPLOAD_COLUMNS_MAX ||
		    (nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[*n] = strndup(s, len)) == NULL)
			break;
		(*n)++;
		s += strcspn(s, ",");
		if (*s == '\0')
			return v;
	}
	while (*n > 0)
		free(v[--*n]);
	free(v);
	return NULL;
}

/* Is name already the metric of a column before i? */
static int
seen_metric(const struct flux_upload_info *info, size_t i, const char *name)
{
	size_t	j;

	for (j = 0; j < i; j++)
		if (info->metrics[j] != NULL && strcmp(info->metrics[j], name) == 0)
			return 1;
	return 0;
}

/*
 * One column: "date", or a metric "<ns>.<name>" normalised and checked as
 * every metric name is (SPEC 3 and 8).
 */
static int
column_metric(struct flux_upload_info *info, size_t i, const char *col,
    int *dates, char err[])
{
	struct flux_buf	 b = { 0 };
	const char	*why;

	if (strcmp(col, "date") == 0) {
		info->date_column = i;
		(*dates)++;
		return 0;
	}
	if (*col == '\0')
		return flux_errf(err, "columns_to_metrics - column %zu has no name",
		    i + 1);
	if (flux_buf_printf(&b, "%s.%s", info->ns, col) == -1)
		return flux_errf(err, "out of memory");
	flux_metric_normalise(b.ptr);
	info->metrics[i] = b.ptr;
	if ((why = flux_metric_invalid(b.ptr)) != NULL)
		return flux_errf(err, "columns_to_metrics - invalid metric - "
		    "%.512s - %s", b.ptr, why);
	if (seen_metric(info, i, b.ptr))
		return flux_errf(err, "columns_to_metrics - %.512s named twice",
		    b.ptr);
	return 0;
}

static int
parse_columns(const cJSON *o, struct flux_upload_info *info, char err[])
{
	const char	*s;
	char		**cols;
	size_t		  n, i;
	int		  dates = 0, rc = 0;

	if (need_str(o, "columns_to_metrics", &s, err) == -1)
		return -1;
	if ((cols = split_columns(s, &n)) == NULL)
		return flux_errf(err, "columns_to_metrics - more than %d columns",
		    FLUX_UPLOAD_COLUMNS_MAX);
	if ((info->metrics = calloc(n, sizeof(*info->metrics))) == NULL) {
		flux_errf(err, "out of memory");
		rc = -1;
	}
	info->ncolumns = info->metrics ? n : 0;
	for (i = 0; i < n && rc == 0; i++)
		rc = column_metric(info, i, cols[i], &dates, err);
	if (rc == 0 && dates != 1) {
		flux_errf(err, "columns_to_metrics - %s", dates ?
		    "more than one column named date" : "no column named date");
		rc = -1;
	}
	for (i = 0; i < n; i++)
		free(cols[i]);
	free(cols);
	return rc;
}

static int
parse_strings(const cJSON *o, struct flux_upload_info *info, char err[])
{
	const char	*ns, *tz, *fmt, *data, *key;

	if (need_str(o, "parent_metric_namespace", &ns, err) == -1)
		return -1;
	if (strlen(ns) > FLUX_NAME_MAX || flux_metric_invalid(ns) != NULL)
		return flux_errf(err, "invalid parent_metric_namespace - %.512s - %s",
		    ns, strlen(ns) > FLUX_NAME_MAX ? "too long" : flux_metric_invalid(ns));
	if (need_str(o, "timezone", &tz, err) == -1)
		return -1;
	if (!flux_date_tz_valid(tz))
		return flux_errf(err, "invalid timezone - %.128s", tz);
	if (get_str(o, "date_format", &fmt, err) == -1 ||
	    get_str(o, "data_filename", &data, err) == -1 ||
	    get_str(o, "key", &key, err) == -1)
		return -1;
	if (fmt != NULL && (*fmt == '\0' || strlen(fmt) > FLUX_DATE_FORMAT_MAX))
		return flux_errf(err, "invalid date_format - empty or longer "
		    "than %d bytes", FLUX_DATE_FORMAT_MAX);
	if (data != NULL && !flux_upload_name_ok(data))
		return flux_errf(err, "invalid data_filename - %.255s", data);
	return (dup_str(&info->ns, ns, err) == -1 ||
	    dup_str(&info->timezone, tz, err) == -1 ||
	    dup_str(&info->date_format, fmt, err) == -1 ||
	    dup_str(&info->data_filename, data, err) == -1 ||
	    dup_str(&info->key, key, err) == -1) ? -1 : 0;
}

/*
 * Check the settings of an info.json object into info. On failure err
 * says which setting and why, and info is freed. The caller frees info
 * with flux_upload_info_free().
 */
int
flux_upload_info_parse(const cJSON *o, struct flux_upload_info *info,
    char err[])
{
	memset(info, 0, sizeof(*info));
	if (!cJSON_IsObject(o))
		return flux_errf(err, "info is not a JSON object");
	if (parse_strings(o, info, err) == -1 || parse_choices(o, info, err) == -1 ||
	    get_int(o, "header_row", -1, INT32_MAX, &info->header_row, err) == -1 ||
	    parse_skip_rows(o, info, err) == -1 || parse_sheet(o, info, err) == -1 ||
	    get_bool(o, "ignore_submitted_timestamps", 0, &info->ignore_submitted,
	    err) == -1 || get_bool(o, "dryrun", 0, &info->dryrun, err) == -1 ||
	    parse_columns(o, info, err) == -1) {
		flux_upload_info_free(info);
		return -1;
	}
	if (info->header_row < 0) {
		flux_errf(err, "no header_row passed");
		flux_upload_info_free(info);
		return -1;
	}
	return 0;
}

void
flux_upload_info_free(struct flux_upload_info *info)
{
	size_t	i;

	for (i = 0; i < info->ncolumns; i++)
		free(info->metrics[i]);
	free(info->metrics);
	free(info->ns);
	free(info->timezone);
	free(info->date_format);
	free(info->sheet_name);
	free(info->data_filename);
	free(info->key);
	memset(info, 0, sizeof(*info));
}
