/*
 * pickle.h - carbon's pickle protocol: a 4-byte big-endian length, then a
 * protocol-2 pickle of [(name, (ts, value)), ...] (reference/ecosystem.md
 * section 1.2). Only BINUNICODE, BININT and BINFLOAT carry data, which both
 * Python carbon and go-carbon accept.
 */
#ifndef FLUX_PICKLE_H
#define FLUX_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * Carbon closes the connection on a frame over PICKLE_RECEIVER_MAX_LENGTH
 * (1 MiB by default); staying under 1,000,000 bytes leaves a margin.
 */
#define FLUX_PICKLE_FRAME_MAX 1000000

/* Most bytes one item adds: 'X' len name, ts as 'J' or 'G', 'G' value, TUPLE2 x2. */
#define FLUX_PICKLE_ITEM_SIZE(namelen) (1 + 4 + (namelen) + 1 + 8 + 1 + 8 + 2)

void	flux_pickle_begin(struct flux_buf *b);
int	flux_pickle_add(struct flux_buf *b, const char *name, int64_t ts,
	    double value);
int	flux_pickle_end(struct flux_buf *b);

#endif
