/*
 * log.h - one line per event on stderr (the web server's error log, or cron
 * mail), and for flux-batch also to syslog or a file:
 * "<UTC time> flux <program>[<pid>]: [<client address>: ]<level>: <message>".
 * Request data inside a message is escaped by the logger, so a client
 * cannot forge log lines.
 */
#ifndef FLUX_LOG_H
#define FLUX_LOG_H

enum flux_level {
	FLUX_LOG_ERROR,
	FLUX_LOG_WARN,
	FLUX_LOG_INFO,
	FLUX_LOG_DEBUG
};

void	flux_log_init(const char *program);
void	flux_log_set_level(enum flux_level level);
int	flux_log_parse_level(const char *s, enum flux_level *out);
void	flux_log_client(const char *addr);
int	flux_log_to(const char *where);
void	flux_log(enum flux_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define flux_err(...)	flux_log(FLUX_LOG_ERROR, __VA_ARGS__)
#define flux_warn(...)	flux_log(FLUX_LOG_WARN, __VA_ARGS__)
#define flux_info(...)	flux_log(FLUX_LOG_INFO, __VA_ARGS__)
#define flux_debug(...)	flux_log(FLUX_LOG_DEBUG, __VA_ARGS__)

#endif
