/*
 * gencsv - write a report for bench/uploads.sh: a header, then ROWS rows
 * of a date ("%Y-%m-%d %H:%M:%S", one minute apart from 2020-01-01, UTC)
 * and 9 values with two decimals. Deterministic, so runs compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char *argv[])
{
	unsigned long long	rows, i;
	unsigned int		x = 12345, c;
	time_t			t = 1577836800;
	struct tm		tm;
	char			date[32];
	char			*end;

	if (argc != 2 || (rows = strtoull(argv[1], &end, 10)) == 0 || *end != '\0') {
		fprintf(stderr, "usage: gencsv ROWS\n");
		return 2;
	}
	puts("date,c1,c2,c3,c4,c5,c6,c7,c8,c9");
	for (i = 0; i < rows; i++, t += 60) {
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
		fputs(date, stdout);
		for (c = 0; c < 9; c++) {
			x = x * 1103515245u + 12345u;
			printf(",%u.%02u", (x >> 16) % 1000, (x >> 8) % 100);
		}
		putchar('\n');
	}
	return 0;
}
