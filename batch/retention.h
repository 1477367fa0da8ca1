/*
 * retention.h - how far back carbon keeps a metric's points, read from
 * carbon's storage-schemas.conf (FLUX_CARBON_STORAGE_SCHEMAS). Whisper
 * drops a point older than its file's longest archive without a word, so
 * flux-batch uses this to say so in an upload's status instead of
 * reporting points "submitted" that carbon threw away.
 */
#ifndef FLUX_RETENTION_H
#define FLUX_RETENTION_H

#include <stdint.h>

#include "util.h"

struct flux_retention;

/* What decided a metric's retention. */
struct flux_retention_rule {
	const char	*section;	/* "[name]" of the file, or carbon's default */
	const char	*retentions;	/* as written, e.g. "60s:1d,5m:30d" */
	int64_t		 seconds;	/* the longest archive's span */
};

struct flux_retention *flux_retention_load(const char *path, char err[]);
void	flux_retention_free(struct flux_retention *r);
void	flux_retention_of(const struct flux_retention *r, const char *metric,
	    struct flux_retention_rule *out);
const char *flux_retention_path(const struct flux_retention *r);
size_t	flux_retention_count(const struct flux_retention *r);

#endif
