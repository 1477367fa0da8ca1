/*
 * util.h - small helpers every Flux module uses: the error formatter,
 * string lists, strict number parsing, growable byte buffers,
 * constant-time comparison, Python-compatible float formatting and UTF-8
 * sanitising for text that is echoed back.
 */
#ifndef FLUX_UTIL_H
#define FLUX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Longest file path we build (Linux PATH_MAX). */
#define FLUX_PATH_MAX 4096

/* Room for one error message: a whole path, a host and a syscall error fit. */
#define FLUX_ERRLEN (FLUX_PATH_MAX + 512)

/* Longest message we answer or log: a 4096-byte name and room to spare. */
#define FLUX_MSG_MAX 8448

/* Room for a double printed by flux_fmt_double(): at most 24 bytes are used. */
#define FLUX_DBLLEN 48

/* A list of strings, each owned by the list (flux_list_free frees them). */
struct flux_list {
	char	**v;
	size_t	  n;
};

/* A growable byte buffer. Always NUL-terminated past len when ptr != NULL. */
struct flux_buf {
	char	*ptr;
	size_t	 len;
	size_t	 cap;
};

int	flux_errf(char err[], const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	flux_msgf(char msg[], const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

int	flux_list_add(struct flux_list *l, const char *s);
int	flux_list_take(struct flux_list *l, char *s);
void	flux_list_free(struct flux_list *l);

int	flux_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int	flux_parse_double(const char *s, double *out);
int	flux_digits_only(const char *s);
int	flux_hexval(char c);

int	flux_buf_grow(struct flux_buf *b, size_t more);
int	flux_buf_add(struct flux_buf *b, const void *p, size_t n);
int	flux_buf_adds(struct flux_buf *b, const char *s);
int	flux_buf_printf(struct flux_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	flux_buf_free(struct flux_buf *b);

int	flux_ct_equal(const char *a, const char *b);
void	flux_fmt_double(double v, char out[FLUX_DBLLEN]);
char	*flux_utf8_clean(const char *s, size_t len);
int	flux_utf8_valid(const char *s, size_t len);
int64_t	flux_now(void);
int64_t	flux_clock_ms(clockid_t id);
void	flux_sleep_ms(int64_t ms);
void	flux_random_hex(char *out, size_t n);
int64_t	flux_now_from(const char *s);
int	flux_write_all(int fd, const void *p, size_t n);

#endif
