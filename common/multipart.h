/*
 * multipart.h - a streaming multipart/form-data parser (RFC 7578, on the
 * framing of RFC 2046 section 5.1.1). Bytes are fed as they arrive and a
 * part's content goes to a callback as it arrives, so a file part never
 * has to fit in memory. What the parser keeps is bounded: the boundary,
 * one part's header block, a count of parts.
 */
#ifndef FLUX_MULTIPART_H
#define FLUX_MULTIPART_H

#include <stddef.h>

/* RFC 2046 section 5.1.1: a boundary is 1 to 70 characters. */
#define FLUX_MP_BOUNDARY_MAX 70
/* One part's header block; curl sends about 150 bytes. */
#define FLUX_MP_HEADER_MAX 8192
/* A name or filename parameter; longer ones are refused, not cut. */
#define FLUX_MP_NAME_MAX 255
/* Skyline's form has 15 fields; more parts than this is not a client of ours. */
#define FLUX_MP_PARTS_MAX 64

struct flux_mp;

/* What a part's Content-Disposition said. */
struct flux_mp_part {
	char	name[FLUX_MP_NAME_MAX + 1];
	char	filename[FLUX_MP_NAME_MAX + 1];
	int	has_filename;	/* a file part, even when filename is "" */
};

/*
 * Called for each part: begin with its disposition, data zero or more
 * times with its content, end once it is complete. A callback returning
 * -1 stops the parser (flux_mp_feed() then returns -1 with "aborted").
 */
struct flux_mp_cb {
	int	(*begin)(void *ctx, const struct flux_mp_part *part);
	int	(*data)(void *ctx, const char *buf, size_t n);
	int	(*end)(void *ctx);
	void	*ctx;
};

int	flux_mp_boundary(const char *content_type,
	    char out[FLUX_MP_BOUNDARY_MAX + 1]);
struct flux_mp *flux_mp_new(const char *boundary, const struct flux_mp_cb *cb);
int	flux_mp_feed(struct flux_mp *mp, const char *buf, size_t n, char err[]);
int	flux_mp_finish(struct flux_mp *mp, char err[]);
void	flux_mp_free(struct flux_mp *mp);

#endif
