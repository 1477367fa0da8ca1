/*
 * telegraf.h - the names of Telegraf's JSON batch (SPEC 4.2), as
 * Skyline's Flux gave them: "[P.]host.<other tag values in key order>.
 * <name>.<field>", with '.' -> '_' and '/' -> '-' inside every part. An
 * object without a host tag, and a field whose value is not a number, is
 * dropped; its name is still made, to be shown. Nothing here has a side
 * effect: the caller decides what each name becomes.
 */
#ifndef FLUX_TELEGRAF_H
#define FLUX_TELEGRAF_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util.h"

/* The fields of one telegraf object, named one at a time. */
struct flux_telegraf {
	const cJSON	*field;		/* the next field, or NULL */
	const char	*host;		/* NULL: every field is dropped */
	struct flux_buf	 base;		/* "[P.]host.<tag values>.<name>" */
	struct flux_buf	 name;		/* the current field's */
};

int	flux_telegraf_is_metric(const cJSON *obj);
size_t	flux_telegraf_count(const cJSON *metrics);
int	flux_telegraf_open(struct flux_telegraf *t, const cJSON *obj,
	    const char *prefix);
int	flux_telegraf_next(struct flux_telegraf *t, const char **name,
	    const cJSON **value);
void	flux_telegraf_close(struct flux_telegraf *t);

#endif
