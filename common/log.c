/*
 * log.c - the logger of log.h. Messages are formatted into a bounded buffer
 * and every byte outside printable ASCII is written as \xNN, so request data
 * (metric names, raw values) can never split or fake a log line.
 *
 * Each line carries its own time stamp: under mod_cgid and mod_fcgid a
 * program's standard error goes to Apache's error log as it is, with no
 * time of Apache's; and the client's address, REMOTE_ADDR, while a request
 * is served.
 */
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* A log line longer than this is truncated; 4 KiB holds a full metric name. */
#define LOG_LINE_MAX 4096
/* An address as REMOTE_ADDR holds it: IPv6 text is at most 45 bytes. */
#define CLIENT_MAX 64

static const char	*log_program = "flux";
static enum flux_level	 log_level = FLUX_LOG_INFO;
static char		 log_client[CLIENT_MAX];
static int		 log_fd = -1;		/* a file besides stderr */
static int		 log_syslog;		/* syslog(3) besides stderr */

static const char *const level_names[] = {
	[FLUX_LOG_ERROR] = "error",
	[FLUX_LOG_WARN] = "warn",
	[FLUX_LOG_INFO] = "info",
	[FLUX_LOG_DEBUG] = "debug",
};

static const int syslog_levels[] = {
	[FLUX_LOG_ERROR] = LOG_ERR,
	[FLUX_LOG_WARN] = LOG_WARNING,
	[FLUX_LOG_INFO] = LOG_INFO,
	[FLUX_LOG_DEBUG] = LOG_DEBUG,
};

void
flux_log_init(const char *program)
{
	const char	*slash = strrchr(program, '/');

	log_program = slash ? slash + 1 : program;
}

void
flux_log_set_level(enum flux_level level)
{
	log_level = level;
}

int
flux_log_parse_level(const char *s, enum flux_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum flux_level)i;
			return 0;
		}
	return -1;
}

/* The client of the request being served (REMOTE_ADDR), or NULL after it. */
void
flux_log_client(const char *addr)
{
	snprintf(log_client, sizeof(log_client), "%s", addr ? addr : "");
}

/*
 * Log to syslog(3) (where "syslog"), or append to the file where (a path),
 * as well as to standard error: flux-batch's lines then outlive cron's
 * mail. -1 with errno when the file cannot be opened.
 */
int
flux_log_to(const char *where)
{
	if (strcmp(where, "syslog") == 0) {
		openlog(log_program, LOG_PID, LOG_DAEMON);
		log_syslog = 1;
		return 0;
	}
	if (log_fd != -1)
		close(log_fd);
	log_fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	return log_fd == -1 ? -1 : 0;
}

/* "2026-12-03T10:11:12.345Z": UTC, to the millisecond. */
static size_t
stamp(char *out, size_t len)
{
	struct timeval	tv;
	struct tm	tm;
	size_t		n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n > 0 && n + 6 < len)
		n += (size_t)snprintf(out + n, len - n, ".%03ldZ",
		    (long)(tv.tv_usec / 1000));
	return n;
}

/* Copy msg into out from o on, escaped; returns the new length. */
static size_t
escape(char *out, size_t o, size_t size, const char *msg)
{
	size_t	i;

	for (i = 0; msg[i] != '\0' && o + 5 < size; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
	}
	return o;
}

void
flux_log(enum flux_level level, const char *fmt, ...)
{
	char		 msg[LOG_LINE_MAX], out[LOG_LINE_MAX * 4 + 256], ts[40];
	size_t		 o, head;
	va_list		 ap;
	int		 n, saved = errno;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stamp(ts, sizeof(ts));
	n = snprintf(out, sizeof(out), "%s flux %s[%ld]: ", ts, log_program,
	    (long)getpid());
	head = o = (n > 0) ? (size_t)n : 0;
	if (log_client[0] != '\0') {
		o = escape(out, o, sizeof(out), log_client);
		out[o++] = ':';
		out[o++] = ' ';
	}
	n = snprintf(out + o, sizeof(out) - o, "%s: ", level_names[level]);
	o += (n > 0) ? (size_t)n : 0;
	o = escape(out, o, sizeof(out), msg);
	out[o++] = '\n';
	/* One write() per line keeps lines whole when processes share a log. */
	if (write(STDERR_FILENO, out, o) == -1)
		errno = saved;
	if (log_fd != -1 && write(log_fd, out, o) == -1)
		errno = saved;
	/* syslog stamps, names and levels lines itself. */
	if (log_syslog) {
		out[o - 1] = '\0';
		syslog(syslog_levels[level], "%s", out + head);
	}
	errno = saved;
}
