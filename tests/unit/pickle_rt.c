/*
 * pickle_rt.c - the C half of the pickle round-trip test
 * (tests/pickle_roundtrip.bats): reads points as "name<TAB>ts<TAB>value"
 * lines, the value a C99 hex float so it is exact, and writes them to
 * stdout as carbon pickle frames made by common/pickle.c, a new frame
 * every FRAME_POINTS points, so carbon's own unpickler can read them back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"
#include "util.h"

/* Several frames per run, as flux_carbon_deliver sends them. */
#define FRAME_POINTS 300

static int
flush_frame(struct flux_buf *b, size_t *n)
{
	if (*n == 0)
		return 0;
	if (flux_pickle_end(b) == -1 || fwrite(b->ptr, 1, b->len, stdout) != b->len)
		return -1;
	flux_pickle_begin(b);
	*n = 0;
	return 0;
}

int
main(void)
{
	struct flux_buf	 b = { 0 };
	char		*line = NULL, *name, *ts, *val, *end, *save;
	size_t		 cap = 0, n = 0;
	int64_t		 t;
	double		 v;

	flux_pickle_begin(&b);
	while (getline(&line, &cap, stdin) != -1) {
		line[strcspn(line, "\n")] = '\0';
		name = strtok_r(line, "\t", &save);
		ts = strtok_r(NULL, "\t", &save);
		val = strtok_r(NULL, "\t", &save);
		if (name == NULL || ts == NULL || val == NULL ||
		    flux_parse_i64(ts, 0, INT64_C(1) << 53, &t) == -1 ||
		    (v = strtod(val, &end), *end != '\0')) {
			fprintf(stderr, "pickle_rt: bad input line\n");
			return 1;
		}
		if (flux_pickle_add(&b, name, t, v) == -1)
			return 1;
		if (++n == FRAME_POINTS && flush_frame(&b, &n) == -1)
			return 1;
	}
	if (flush_frame(&b, &n) == -1 || fflush(stdout) == EOF)
		return 1;
	free(line);
	flux_buf_free(&b);
	return 0;
}
