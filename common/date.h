/*
 * date.h - the dates of uploaded reports (SPEC 8 step 3): 10-digit Unix
 * seconds, five fixed layouts each with an optional UTC offset, or an
 * explicit strptime format; naive wall-clock times are read in an IANA
 * zone, DST-correct, and a time the zone skips or repeats is an error
 * rather than a guess.
 */
#ifndef FLUX_DATE_H
#define FLUX_DATE_H

#include <stdint.h>

/* Longest zone name accepted; the tz database's longest is 32 bytes. */
#define FLUX_TZ_NAME_MAX 128
/* Longest explicit date_format accepted. */
#define FLUX_DATE_FORMAT_MAX 64

/*
 * One file's date reader. Naive times are converted in the zone of the
 * process (flux_date_set_tz()); the UTC offset of the last wall-clock
 * minute converted is kept, since rows of a report mostly share it.
 */
struct flux_date {
	const char	*format;	/* explicit strptime format, or NULL */
	int64_t		 cache_minute;	/* wall-clock minute last converted */
	int64_t		 cache_offset;	/* its UTC offset in seconds */
	int		 cache_ok;
};

int	flux_date_tz_valid(const char *name);
int	flux_date_set_tz(const char *name, char err[]);
void	flux_date_init(struct flux_date *d, const char *format);
int	flux_date_parse(struct flux_date *d, const char *s, int64_t *out,
	    const char **why);

#endif
