/*
 * uploads.h - what the two halves of "flux-batch uploads" share:
 * uploads.c takes upload directories through their life (scan, checks,
 * status, unpacking, moving away) and upfile.c turns one report file of
 * an upload into delivered points. upfile.c calls nothing of uploads.c:
 * up_file() returns its failures, and uploads.c records them.
 */
#ifndef FLUX_UPLOADS_H
#define FLUX_UPLOADS_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "deliver.h"
#include "retention.h"
#include "store.h"
#include "upload.h"
#include "util.h"

/* One run of the uploads job. */
struct up_job {
	const struct flux_conf	*conf;
	struct flux_store	*store;		/* NULL while Redis is unreachable */
	int			 dryrun;	/* -n: print, change nothing */
	int64_t			 now;
	int			 tty;		/* progress on stderr */
	struct flux_delivery	 delivery;	/* the whole run's: see deliver.h */
	struct flux_retention	*retention;	/* carbon's, NULL when unknown */
	const char		*node;		/* this node's id (batch.h) */
};

/* One upload being processed. */
struct up_upload {
	struct up_job		*job;
	char			 ns[FLUX_PATH_MAX];
	char			 id[FLUX_UPLOAD_ID_MAX + 1];
	char			 id_key[FLUX_PATH_MAX];
	char			 who[FLUX_PATH_MAX + 8];	/* "upload <id_key>" */
	char			 dir[FLUX_PATH_MAX];
	char			 nsdir[FLUX_PATH_MAX];	/* the dir's parent */
	char			 work[FLUX_PATH_MAX];	/* unpacked archive, or "" */
	struct flux_upload_info	 info;
	cJSON			*status;
	int64_t			 submitted;	/* points delivered or spooled */
	int			 failures;	/* files and columns that failed */
	int			 successes;	/* columns that completed */
	int			 dry;		/* -n, or "dryrun" in info.json */
	struct flux_store_lease	*lease;		/* NULL: none (a dry run) */
	int			 lost;		/* another node took the upload */
};

int	up_file(struct up_upload *u, const char *path, const char *name,
	    char why[]);
int	up_keep(struct up_upload *u);

#endif
