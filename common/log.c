/*
 * log.c - the logger of log.h. Messages are formatted into a bounded buffer
 * and every byte outside printable ASCII is written as \xNN, so request data
 * (metric names, raw values) can never split or fake a log line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

/* A log line longer than this is truncated; 4 KiB holds a full metric name. */
#define LOG_LINE_MAX 4096

static const char	*log_program = "flux";
static enum flux_level	 log_level = FLUX_LOG_INFO;

static const char *const level_names[] = {
	[FLUX_LOG_ERROR] = "error",
	[FLUX_LOG_WARN] = "warn",
	[FLUX_LOG_INFO] = "info",
	[FLUX_LOG_DEBUG] = "debug",
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

void
flux_log(enum flux_level level, const char *fmt, ...)
{
	char		 msg[LOG_LINE_MAX], out[LOG_LINE_MAX * 4 + 128];
	size_t		 o, i;
	va_list		 ap;
	int		 n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(out, sizeof(out), "flux %s[%ld]: %s: ", log_program,
	    (long)getpid(), level_names[level]);
	o = (n > 0) ? (size_t)n : 0;
	for (i = 0; msg[i] != '\0' && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
	}
	out[o++] = '\n';
	/* One write() per line keeps lines whole when processes share a log. */
	if (write(STDERR_FILENO, out, o) == -1)
		return;
}
