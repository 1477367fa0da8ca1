/*
 * cgi.h - the request and response of one HTTP request (RFC 3875), and the
 * entry point every program shares. An endpoint is a function over a
 * request struct that fills a response struct, so the one-shot CGI and the
 * resident FastCGI loop run the same code.
 */
#ifndef FLUX_CGI_H
#define FLUX_CGI_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "stats.h"
#include "util.h"

/* Room for a refusal's message in the log line: a metric name's worth. */
#define FLUX_REASON_MAX 512

struct flux_store;

/* How bytes come in and go out: stdin/stdout for CGI, FCGX streams for FastCGI. */
struct flux_io {
	long	(*read)(void *ctx, char *buf, size_t n);
	int	(*write)(void *ctx, const char *buf, size_t n);
	/* 1 when input is ready within ms, 0 when not, -1 on error; NULL
	 * when the transport cannot tell (FastCGI: the server buffers). */
	int	(*wait)(void *ctx, int64_t ms);
	void	 *ctx;
	char	**envp;
};

struct flux_req {
	char		**envp;
	const char	*method;
	const char	*query;
	char		*body;		/* after gzip decoding; NUL-terminated */
	size_t		 body_len;
	int		 body_status;	/* 0, or the HTTP status the body earns */
	const char	*body_error;	/* message for body_status */
	int64_t		 now;
	/*
	 * The raw body as it arrives. A streaming handler
	 * (flux_cgi_main_stream) gets body == NULL and reads it with
	 * flux_req_read(); what it leaves is drained after it returns, before
	 * the answer is written. Otherwise it is already read into body.
	 */
	const struct flux_io *io;
	long long	 body_left;	/* CONTENT_LENGTH bytes unread; -1: to EOF */
	int		 body_eof;	/* the body has been read to its end */
	/* The floor on the body's rate: min_rate bytes/s over each window. */
	int64_t		 min_rate;	/* 0: none */
	int64_t		 window_ms;
	int64_t		 window_end;	/* monotonic ms */
	int64_t		 window_bytes;
};

struct flux_resp {
	int		 status;
	const char	*allow;		/* Allow: header of a 405 */
	const char	*content_type;
	struct flux_buf	 body;
	char		 message[FLUX_REASON_MAX];	/* of an error, for the log */
	char		*metric;	/* the metric it was about, or NULL */
	int		 no_store;	/* Cache-Control: no-store (pages) */
};

/* What a handler may use besides the request: config and connections. */
struct flux_env {
	struct flux_conf	 conf;
	int			 conf_ok;
	struct flux_store	*store;
	int			 store_failed;	/* no new connection this request */
	int			 store_retry;	/* one more connection may be tried */
	const char		*program;
	struct flux_stats	 stats;		/* what this request did */
	/* A resident responder's carbon connection (used under
	 * FLUX_CARBON_KEEP_CONNECTION); NULL in a plain CGI. */
	struct flux_carbon	*carbon;
	/* The request's claim ends after its answer (flux_ingest). */
	int			 confirm_due;
};

typedef void (*flux_handler)(struct flux_env *, struct flux_req *,
	    struct flux_resp *);

const char *flux_req_env(const struct flux_req *r, const char *name);
int	flux_req_read_body(struct flux_req *r, const struct flux_conf *c,
	    const struct flux_io *io);
long	flux_req_read(struct flux_req *r, char *buf, size_t n);
void	flux_resp_error(struct flux_resp *resp, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	flux_req_accept(const struct flux_req *req, struct flux_resp *resp,
	    const char *method);
void	flux_resp_metric(struct flux_resp *resp, const char *metric);
void	flux_resp_html(struct flux_resp *resp, int status, struct flux_buf *html);
void	*flux_req_json(const struct flux_req *req, struct flux_resp *resp);
void	flux_resp_raw(struct flux_resp *resp, int status, const char *json);
void	flux_resp_json(struct flux_resp *resp, int status, void *cjson);
struct flux_store *flux_env_store(struct flux_env *e);
struct flux_store *flux_env_store_retry(struct flux_env *e);
int	flux_cgi_main(const char *program, flux_handler h);
int	flux_cgi_main_stream(const char *program, flux_handler h);

#endif
