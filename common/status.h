/*
 * status.h - the status record of an upload (SPEC 4.4 and 8 step 5): one
 * JSON object kept in Redis as flux.upload_status.<upload_id_key> (30-day
 * TTL) and as status.json in the upload directory, so it can be read
 * while Redis is down and travels with the upload when it is moved.
 */
#ifndef FLUX_STATUS_H
#define FLUX_STATUS_H

#include <cjson/cJSON.h>

#include "store.h"

#define FLUX_STATUS_PREFIX "flux.upload_status."
/* The ids of the last uploads accepted, newest first (the status page). */
#define FLUX_STATUS_RECENT "flux.uploads.recent"
#define FLUX_STATUS_RECENT_KEEP 20

cJSON	*flux_status_new(const char *ns, const char *id_key, const char *file);
int	 flux_status_set(cJSON *st, const char *field, const char *value);
int	 flux_status_set_in(cJSON *st, const char *map, const char *name,
	    const char *value);
int	 flux_status_save(struct flux_store *s, const char *dir, const cJSON *st,
	    char err[]);
int	 flux_status_publish(struct flux_store *s, const cJSON *st, char err[]);
int	 flux_status_forget(struct flux_store *s, const char *id_key, char err[]);

#endif
