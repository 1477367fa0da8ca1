/*
 * csvcount - the baseline of bench/uploads.sh: read a CSV file with
 * libcsv, as flux-batch does, and only count fields and records. What
 * flux-batch does beyond this (dates, numbers, the spill, formatting) is
 * the cost the benchmark measures.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <csv.h>

struct counts {
	unsigned long long	fields, records;
};

static void
on_field(void *s, size_t len, void *data)
{
	(void)s;
	(void)len;
	((struct counts *)data)->fields++;
}

static void
on_record(int c, void *data)
{
	(void)c;
	((struct counts *)data)->records++;
}

int
main(int argc, char *argv[])
{
	struct csv_parser	p;
	struct counts		n = { 0, 0 };
	char			buf[262144];
	ssize_t			r;
	int			fd;

	if (argc != 2 || (fd = open(argv[1], O_RDONLY)) == -1 ||
	    csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0) {
		fprintf(stderr, "usage: csvcount FILE\n");
		return 2;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (csv_parse(&p, buf, (size_t)r, on_field, on_record, &n) != (size_t)r)
			return 1;
	csv_fini(&p, on_field, on_record, &n);
	csv_free(&p);
	printf("%llu fields %llu records\n", n.fields, n.records);
	return 0;
}
