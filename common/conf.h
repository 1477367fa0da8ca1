/*
 * conf.h - flux.conf: "NAME = value" lines with Skyline's setting names
 * (SPEC section 2). Loading is strict: an unknown name, a repeated name or a
 * bad value is an error naming the file and the line.
 */
#ifndef FLUX_CONF_H
#define FLUX_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "util.h"

#define FLUX_CONF_DEFAULT "/etc/flux/flux.conf"

/* An API key is exactly this many ASCII alphanumerics (Skyline's rule). */
#define FLUX_KEY_LEN 32

enum flux_proto {
	FLUX_PROTO_PICKLE,
	FLUX_PROTO_PLAINTEXT
};

/* One "left:right" entry of a map setting. */
struct flux_pair {
	char	*left;
	char	*right;
};

struct flux_map {
	struct flux_pair	*v;
	size_t			 n;
};

struct flux_conf {
	char			*path;
	dev_t			 dev;	/* identity of the file loaded, for reloads */
	ino_t			 ino;
	struct timespec		 mtime;
	struct timespec		 ctime;	/* a chmod changes only this */
	off_t			 size;
	char			*self_api_key;
	struct flux_map		 api_keys;	/* left key, right prefix */
	int64_t			 max_age;
	int64_t			 max_future;
	int			 check_last_timestamp;
	int64_t			 max_metrics_per_post;
	int64_t			 max_body_bytes;
	int64_t			 max_inflated_bytes;
	int			 send_to_carbon;
	char			*carbon_host;
	int64_t			 carbon_port;
	int64_t			 carbon_pickle_port;
	enum flux_proto		 carbon_protocol;
	int64_t			 carbon_timeout_ms;
	int			 carbon_keep;	/* a resident keeps its connection */
	char			*carbon_storage_schemas;	/* "" unknown */
	char			*spool_path;
	char			*redis_socket_path;
	char			*redis_host;
	int64_t			 redis_port;
	char			*redis_password;
	int64_t			 redis_timeout_ms;
	struct flux_list	 redis_sentinels;	/* host:port; empty: none */
	char			*redis_sentinel_master;
	char			*redis_sentinel_password;
	int64_t			 redis_sentinel_wait_ms;
	char			*graphite_host;
	char			*graphite_protocol;
	int64_t			 graphite_port;
	char			*graphite_render_uri;
	int			 vista_no_current_minute;
	int			 process_uploads;
	int			 accept_uploads;
	char			*uploads_path;
	struct flux_map		 uploads_keys;	/* left namespace, right key */
	int			 batch_processing;
	struct flux_list	 batch_namespaces;
	int			 save_uploads;
	char			*save_uploads_path;
	int64_t			 max_upload_bytes;	/* upload_data body */
	int64_t			 body_min_rate;		/* bytes/s; 0: no floor */
	int64_t			 body_rate_window;	/* seconds */
	int64_t			 flush_seconds;		/* flux-batch budgets */
	int64_t			 populate_seconds;
	int64_t			 uploads_seconds;
	int64_t			 populate_parallel;	/* URLs of a job at once */
	int64_t			 populate_max_per_key;	/* jobs queued per key */
	int64_t			 batch_lease_seconds;	/* a job's or upload's lease */
	struct flux_list	 populate_hosts;	/* empty: any host */
	int64_t			 max_extracted_bytes;	/* one archive, unpacked */
	int			 log_level;
	char			*batch_log;	/* "syslog", "none" or a file */
	int			 self_metrics;	/* flux-batch sends them */
	char			*self_metrics_ns;	/* "": skyline.flux.<host> */
};

int	flux_conf_load(const char *path, struct flux_conf *conf,
	    char err[]);
void	flux_conf_free(struct flux_conf *conf);
const char *flux_conf_path(void);
int	flux_conf_setting(size_t i, const char **name, const char **def);
int	flux_conf_changed(const struct flux_conf *conf);
int	flux_conf_hostport(const char *item, char *host, size_t len, int *port);

#endif
