/*
 * flux-batch - the cron-run side of Flux (SPEC section 8). With no command
 * it runs every job; "flush" replays the spool of points that carbon did
 * not take when they arrived; "populate" runs the queued populate_metric
 * jobs (populate.c); "uploads" processes uploaded reports. Runs never
 * overlap: cron wraps it in
 * flock -n, and it takes its own lock as well.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "conf.h"
#include "log.h"
#include "spool.h"
#include "store.h"
#include "util.h"

#define FLUX_VERSION "0.1.0"

/* Exit statuses: 0 all done, 1 a job failed, 2 usage or configuration. */
enum { EXIT_OK = 0, EXIT_JOB = 1, EXIT_USAGE = 2 };

static int	job_flush(const struct flux_conf *, int);

/* The jobs, in the order a plain run does them. */
static const struct job {
	const char	*name;
	int		(*run)(const struct flux_conf *, int dryrun);
} jobs[] = {
	{ "flush", job_flush },
	{ "populate", job_populate },
	{ "uploads", job_uploads },
};
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))

static void
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: flux-batch [-hnv] [-c conf] [");
	for (i = 0; i < NJOBS; i++)
		fprintf(stderr, "%s%s", i ? " | " : "", jobs[i].name);
	fprintf(stderr, "]\n");
	exit(EXIT_USAGE);
}

static int
job_flush(const struct flux_conf *c, int dryrun)
{
	char	err[FLUX_ERRLEN];
	size_t	files, points, left;
	int	rc;

	rc = flux_spool_flush(c, dryrun, flux_clock_ms(CLOCK_MONOTONIC) +
	    c->flush_seconds * 1000, &files, &points, &left, err);
	if (files > 0 || rc == -1)
		flux_info("spool: %s %zu points from %zu files", dryrun ?
		    "would replay" : "replayed", points, files);
	if (left > 0)
		flux_warn("spool: FLUX_BATCH_FLUSH_SECONDS (%lld s) spent; %zu files "
		    "wait for the next run", (long long)c->flush_seconds, left);
	if (rc == -1)
		flux_err("spool: %s", err);
	return rc;
}

/* This node's id (batch.h), read from the lock file once it is held. */
static char	node_id[2 * BATCH_NODE_BYTES + 1];

const char *
batch_node(void)
{
	return node_id;
}

/*
 * Renew a job's or an upload's lease l when it is due (cheap to call
 * often): -1 once it is lost (*lost set), when this run stalled past it
 * and another node took the work; then this run stops working on it. A
 * renewal Redis refused (a fail-over under way) is tried again at the
 * next call. what names the work in messages ("upload <id>").
 */
int
batch_lease_keep(struct flux_store *s, struct flux_store_lease *l, int *lost,
    const char *what)
{
	char	err[FLUX_ERRLEN];
	int	rc;

	if (l == NULL || *lost)
		return *lost ? -1 : 0;
	if ((rc = flux_store_lease_keep(s, l, err)) == -1)
		flux_warn("%s: lease not renewed: %s", what, err);
	else if (rc == 1) {
		*lost = 1;
		flux_warn("%s: its lease ran out and another run took it; leaving "
		    "it to that run", what);
		return -1;
	}
	return 0;
}

/*
 * The node's id in the lock file fd (held): the one written there by an
 * earlier run, else a new one, written and synced before any lease names
 * it. 0, or -1 with err.
 */
static int
read_node_id(int fd, const char *path, char err[])
{
	char	buf[2 * BATCH_NODE_BYTES + 2];
	ssize_t	n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) == -1) {
		snprintf(err, FLUX_ERRLEN, "cannot read lock file '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	if (n >= 2 * BATCH_NODE_BYTES &&
	    strspn(buf, "0123456789abcdef") == 2 * BATCH_NODE_BYTES) {
		memcpy(node_id, buf, 2 * BATCH_NODE_BYTES);
		node_id[2 * BATCH_NODE_BYTES] = '\0';
		return 0;
	}
	flux_random_hex(node_id, BATCH_NODE_BYTES);
	snprintf(buf, sizeof(buf), "%s\n", node_id);
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf) ||
	    fsync(fd) == -1) {
		snprintf(err, FLUX_ERRLEN, "cannot write lock file '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Hold an exclusive lock for the life of the process; -1 when it is taken.
 * The lock file is never reached through a symbolic link (one planted in
 * the spool would make us create the file it names), and must be a
 * regular file. It holds the node's id.
 */
static int
take_lock(const struct flux_conf *c)
{
	struct stat	st;
	char		path[FLUX_PATH_MAX], err[FLUX_ERRLEN];
	int		fd;

	snprintf(path, sizeof(path), "%s/.flux-batch.lock", c->spool_path);
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0640)) == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		flux_err("cannot open lock file '%s': %s", path, fd == -1 ?
		    strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		errno = EINVAL;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		flux_info("another flux-batch holds '%s'; nothing to do", path);
		close(fd);
		return -1;
	}
	if (read_node_id(fd, path, err) == -1) {
		flux_err("%s", err);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/*
 * Run as root, flux-batch opens what the users who can write its
 * directories put there: it refuses unless each directory it uses that
 * exists is root's. 0, or -1 with the one-line reason in msg.
 */
static int
root_check(const struct flux_conf *c, char *msg, size_t len)
{
	const char	*dirs[] = { c->spool_path, c->uploads_path,
	    c->save_uploads_path };
	struct stat	 st;
	size_t		 i;

	if (geteuid() != 0)
		return 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (stat(dirs[i], &st) == 0 && st.st_uid != 0) {
			snprintf(msg, len, "refusing to run as root: '%s' belongs to uid "
			    "%lu; run flux-batch as that user", dirs[i],
			    (unsigned long)st.st_uid);
			return -1;
		}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct flux_conf	 conf;
	const char		*path = NULL, *cmd;
	char			 err[FLUX_ERRLEN], hold[FLUX_PATH_MAX];
	int			 ch, dryrun = 0, rc = EXIT_OK, lock;
	size_t			 i = 0;

	flux_log_init("flux-batch");
	while ((ch = getopt(argc, argv, "c:hnv")) != -1)
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'v':
			printf("flux-batch %s\n", FLUX_VERSION);
			return EXIT_OK;
		default:
			usage();
		}
	if (argc - optind > 1)
		usage();
	cmd = (optind < argc) ? argv[optind] : NULL;
	for (i = 0; cmd != NULL && i < NJOBS; i++)
		if (strcmp(cmd, jobs[i].name) == 0)
			break;
	if (i == NJOBS)
		usage();
	if (flux_conf_load(path ? path : flux_conf_path(), &conf, err) == -1) {
		fprintf(stderr, "flux-batch: %s\n", err);
		return EXIT_USAGE;
	}
	flux_log_set_level((enum flux_level)conf.log_level);
	if (root_check(&conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "flux-batch: %s\n", err);
		flux_conf_free(&conf);
		return EXIT_USAGE;
	}
	if ((lock = take_lock(&conf)) == -1)
		rc = (errno == EWOULDBLOCK) ? EXIT_OK : EXIT_JOB;
	else if (flux_spool_held(&conf, hold, sizeof(hold)))
		/* Every job sends to carbon: none runs while delivery is held. */
		flux_info("delivery held by %s; no job run", hold);
	else
		for (i = 0; i < NJOBS; i++)
			if ((cmd == NULL || strcmp(cmd, jobs[i].name) == 0) &&
			    jobs[i].run(&conf, dryrun) == -1)
				rc = EXIT_JOB;
	if (lock != -1)
		close(lock);
	flux_conf_free(&conf);
	return rc;
}
