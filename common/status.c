/*
 * status.c - the status record of status.h. The record carries exactly
 * the fields of SPEC 8 step 5; values that are not known yet are null.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "status.h"
#include "upload.h"
#include "util.h"

/*
 * A pending record for an upload whose data file is file (NULL when not
 * known yet). The caller deletes it with cJSON_Delete().
 */
cJSON *
flux_status_new(const char *ns, const char *id_key, const char *file)
{
	cJSON	*st = cJSON_CreateObject(), *files = cJSON_CreateObject();

	if (st == NULL || files == NULL ||
	    cJSON_AddStringToObject(st, "upload_id_key", id_key) == NULL ||
	    cJSON_AddStringToObject(st, "parent_metric_namespace", ns) == NULL ||
	    cJSON_AddStringToObject(st, "status", "pending") == NULL ||
	    cJSON_AddNullToObject(st, "error") == NULL ||
	    (file != NULL && cJSON_AddStringToObject(files, file, "pending") == NULL) ||
	    !cJSON_AddItemToObject(st, "files", files) ||
	    cJSON_AddObjectToObject(st, "columns") == NULL ||
	    cJSON_AddNumberToObject(st, "points_submitted", 0) == NULL ||
	    cJSON_AddNullToObject(st, "started_at") == NULL ||
	    cJSON_AddNullToObject(st, "finished_at") == NULL) {
		if (!cJSON_IsObject(cJSON_GetObjectItem(st, "files")))
			cJSON_Delete(files);
		cJSON_Delete(st);
		return NULL;
	}
	return st;
}

/* Replace a top-level field with a string (NULL: null), keeping its place. */
int
flux_status_set(cJSON *st, const char *field, const char *value)
{
	cJSON	*v = value ? cJSON_CreateString(value) : cJSON_CreateNull();

	if (v == NULL)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(st, field) != NULL)
		return cJSON_ReplaceItemInObjectCaseSensitive(st, field, v) ? 0 : -1;
	if (!cJSON_AddItemToObject(st, field, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

/* Set name to value in the "files" or "columns" map of the record. */
int
flux_status_set_in(cJSON *st, const char *map, const char *name,
    const char *value)
{
	cJSON	*m = cJSON_GetObjectItemCaseSensitive(st, map);

	if (m == NULL && (m = cJSON_AddObjectToObject(st, map)) == NULL)
		return -1;
	return flux_status_set(m, name, value);
}

/*
 * Write the record to dir/status.json (when dir is not NULL) and to Redis
 * (when s is not NULL). Both are attempted; -1 with err when either
 * failed.
 */
int
flux_status_save(struct flux_store *s, const char *dir, const cJSON *st,
    char err[])
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(st, "upload_id_key");
	char		*text = cJSON_PrintUnformatted(st);
	struct flux_buf	 key = { 0 };
	char		 e2[FLUX_ERRLEN];
	int		 rc = 0;

	if (text == NULL || !cJSON_IsString(id) ||
	    flux_buf_printf(&key, FLUX_STATUS_PREFIX "%s", id->valuestring) == -1) {
		flux_errf(err, "out of memory");
		rc = -1;
		goto done;
	}
	if (dir != NULL && flux_fs_write_atomic(dir, FLUX_UPLOAD_STATUS, text,
	    strlen(text), err) == -1)
		rc = -1;
	/* The first failure is the one reported. */
	if (s != NULL && flux_store_setex(s, key.ptr, text, FLUX_UPLOAD_STATUS_TTL,
	    rc == 0 ? err : e2) == -1)
		rc = -1;
done:
	flux_buf_free(&key);
	free(text);
	return rc;
}

/*
 * The first Redis record of a new upload, which also joins the list of
 * recent uploads (FLUX_STATUS_RECENT), in the one round trip its record
 * took before.
 */
int
flux_status_publish(struct flux_store *s, const cJSON *st, char err[])
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(st, "upload_id_key");
	char		*text = cJSON_PrintUnformatted(st);
	struct flux_buf	 key = { 0 };
	int		 rc = -1;

	if (text == NULL || !cJSON_IsString(id) ||
	    flux_buf_printf(&key, FLUX_STATUS_PREFIX "%s", id->valuestring) == -1)
		flux_errf(err, "out of memory");
	else
		rc = flux_store_upload_new(s, key.ptr, text, FLUX_UPLOAD_STATUS_TTL,
		    FLUX_STATUS_RECENT, id->valuestring, FLUX_STATUS_RECENT_KEEP, err);
	flux_buf_free(&key);
	free(text);
	return rc;
}

/* Remove the Redis record of an upload that never came to be. */
int
flux_status_forget(struct flux_store *s, const char *id_key, char err[])
{
	struct flux_buf	k = { 0 };
	int		rc;

	if (flux_buf_printf(&k, FLUX_STATUS_PREFIX "%s", id_key) == -1)
		return flux_errf(err, "out of memory");
	rc = flux_store_del(s, k.ptr, err);
	flux_buf_free(&k);
	return rc;
}
