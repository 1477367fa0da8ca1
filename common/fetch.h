/*
 * fetch.h - HTTP GET of a remote Graphite or Prometheus answer with libcurl
 * for populate_metric (SPEC section 7): http and https only, bounded in
 * connect time, total time and size, with optional Basic or Bearer auth.
 */
#ifndef FLUX_FETCH_H
#define FLUX_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "util.h"

/* SPEC 7: 5 s to connect, 30 s in all. */
#define FLUX_FETCH_CONNECT_MS 5000
#define FLUX_FETCH_TOTAL_MS 30000
/*
 * A year of 1-minute Graphite JSON is about 14 MB; four times that still
 * fits, while a runaway or hostile remote is cut off.
 */
#define FLUX_FETCH_MAX_BYTES (64L * 1024 * 1024)

struct flux_fetch;

/*
 * Credentials for one request; NULL members mean none. A request has one
 * Authorization header: with both a token and a user, the token wins.
 */
struct flux_fetch_auth {
	const char	*user;		/* Basic auth when set */
	const char	*password;
	const char	*token;		/* Authorization: Bearer <token> */
};

/*
 * One of the requests flux_fetch_many runs side by side. Each chunk of an
 * HTTP 200 answer goes to on_data as it arrives (returning -1 fails the
 * request, with err set); nothing of the body is kept here. on_done is
 * called once the request has ended, well or not, with the results below
 * filled in, so that what it holds can go before the others end.
 */
struct flux_fetch_req {
	const char			*url;
	const struct flux_fetch_auth	*auth;
	int	(*on_data)(void *ctx, const char *p, size_t n, char err[]);
	void	(*on_done)(void *ctx, struct flux_fetch_req *req);
	void	*ctx;
	/* results */
	int		 failed;	/* 0: a whole HTTP 200 answer */
	int		 cut;		/* failed: the deadline came first */
	int		 refused;	/* failed: on_data refused the answer */
	char		 err[FLUX_ERRLEN];
	char		 ctype[128];
	size_t		 bytes;
	double		 secs;
};

struct flux_fetch *flux_fetch_open(long connect_ms, long total_ms,
	    size_t max_bytes, int reuse, char err[]);
int	flux_fetch_many(struct flux_fetch *f, struct flux_fetch_req *reqs,
	    size_t n, size_t parallel, int64_t deadline_ms, char err[]);
void	flux_fetch_set_deadline(struct flux_fetch *f, int64_t deadline_ms);
void	flux_fetch_set_tick(struct flux_fetch *f, int (*tick)(void *),
	    void *ctx);
void	flux_fetch_no_redirects(struct flux_fetch *f);
int	flux_fetch_host_allowed(const struct flux_list *hosts, const char *url);
int	flux_fetch_get(struct flux_fetch *f, const char *url,
	    const struct flux_fetch_auth *auth, struct flux_buf *body,
	    char err[]);
void	flux_fetch_close(struct flux_fetch *f);
char	*flux_fetch_escape(const char *s);
void	flux_fetch_redact(const char *url, char *out, size_t len);

#endif
