/*
 * flux-batch - the cron-run side of Flux (flux-batch(8)). With no command
 * it runs every job; "flush" replays the spool of points that carbon did
 * not take when they arrived; "populate" runs the queued populate_metric
 * jobs (populate.c); "uploads" processes uploaded reports; "check" looks
 * the configuration over (check.c); "status" tells the health of the
 * delivery path (status.c). Runs never overlap: cron wraps it in flock -n,
 * and it takes its own lock as well. After its jobs a run sends Flux's
 * self-metrics (selfmetrics.c).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "conf.h"
#include "fs.h"
#include "log.h"
#include "spool.h"
#include "store.h"
#include "util.h"

#define FLUX_VERSION "0.1.0"

/* Exit statuses: 0 all done, 1 a job failed, 2 usage or configuration. */
enum { EXIT_OK = 0, EXIT_JOB = 1, EXIT_USAGE = 2 };

struct flux_stats	batch_stats;

static int	job_flush(const struct flux_conf *, int);

/* The jobs, in the order a plain run does them; "check" only on demand. */
static const struct job {
	const char	*name;
	int		(*run)(const struct flux_conf *, int dryrun);
	int		 in_plain_run;
	const char	*what;
} jobs[] = {
	{ "flush", job_flush, 1, "replay the points spooled while carbon was "
	    "unavailable" },
	{ "populate", job_populate, 1, "run the queued populate_metric jobs" },
	{ "uploads", job_uploads, 1, "process uploaded reports" },
	{ "check", job_check, 0, "check the configuration, directories, Redis "
	    "and carbon" },
	{ "status", job_status, 0, "the health of Redis, carbon, the hold, the "
	    "spool, the populate queue and the uploads" },
};
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
usage_line(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: flux-batch [-hnV] [-c conf] [");
	for (i = 0; i < NJOBS; i++)
		fprintf(f, "%s%s", i ? " | " : "", jobs[i].name);
	fprintf(f, "]\n");
}

static void
usage(void)
{
	usage_line(stderr);
	exit(EXIT_USAGE);
}

/* --help: on stdout, and a success, as every GNU-style tool does. */
static void
help(void)
{
	size_t	i;

	usage_line(stdout);
	printf("\nWith no command: flush, populate and uploads in turn. "
	    "Commands:\n");
	for (i = 0; i < NJOBS; i++)
		printf("  %-9s %s\n", jobs[i].name, jobs[i].what);
	printf("\nOptions:\n"
	    "  -c, --config FILE  the configuration (default: $FLUX_CONF, else "
	    "%s)\n"
	    "  -n, --dry-run      say what would be done, change nothing\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      the version (also -v)\n"
	    "\nExit status: 0 done, 1 a job failed (check: a problem found), "
	    "2 usage or configuration error.\nSee flux-batch(8) and "
	    "flux.conf(5).\n", FLUX_CONF_DEFAULT);
	exit(EXIT_OK);
}

/*
 * True when flux.conf sets a key. With none, no request can have been
 * accepted and no upload can be taken: there is nothing to do, and cron's
 * entry, installed before anyone configured Flux, must stay quiet.
 */
static int
configured(const struct flux_conf *c)
{
	return (c->self_api_key != NULL && *c->self_api_key != '\0') ||
	    c->api_keys.n > 0 || c->uploads_keys.n > 0;
}

static void
flush_progress(size_t done, size_t total, size_t points, int last)
{
	batch_progress("spool", done, total, "points", points, last);
}

static int
job_flush(const struct flux_conf *c, int dryrun)
{
	char	err[FLUX_ERRLEN];
	size_t	files, points, left;
	int	rc;

	flux_spool_set_progress(flush_progress);
	rc = flux_spool_flush(c, dryrun, flux_clock_ms(CLOCK_MONOTONIC) +
	    c->flush_seconds * 1000, &files, &points, &left, err);
	if (files > 0 || rc == -1)
		flux_info("spool: %s %zu points from %zu files", dryrun ?
		    "would replay" : "replayed", points, files);
	if (!dryrun) {
		flux_stats_add(&batch_stats, FLUX_STAT_FLUSH_FILES, (int64_t)files);
		flux_stats_add(&batch_stats, FLUX_STAT_FLUSH_POINTS, (int64_t)points);
		if (rc == -1)
			flux_stats_delivery(&batch_stats, 0, err);
		else if (files > 0)
			flux_stats_delivery(&batch_stats, 1, NULL);
	}
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

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) == -1)
		return flux_errf(err, "cannot read lock file '%s': %s", path,
		    strerror(errno));
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
	    fsync(fd) == -1)
		return flux_errf(err, "cannot write lock file '%s': %s", path,
		    strerror(errno));
	return 0;
}

/* take_lock() found the lock held by another run: not a failure. */
#define LOCK_BUSY (-2)

/*
 * Where a run's lines go besides standard error (FLUX_BATCH_LOG): syslog,
 * or a file, so that they outlive cron's mail.
 */
static void
log_sink(const struct flux_conf *c)
{
	if (strcmp(c->batch_log, "none") != 0 && flux_log_to(c->batch_log) == -1)
		flux_warn("cannot open log file '%s' (FLUX_BATCH_LOG): %s",
		    c->batch_log, strerror(errno));
}

/*
 * Progress of a long job on a terminal (never under cron, whose mail
 * would get it): "job: done/total, count unit, rate unit/s", on one line
 * redrawn at most twice a second, ended by the last call.
 */
void
batch_progress(const char *job, size_t done, size_t total, const char *unit,
    uint64_t count, int last)
{
	static int		tty = -1;
	static struct timeval	started, shown;
	struct timeval		now;
	double			secs;

	if (tty == -1)
		tty = isatty(STDERR_FILENO);
	if (!tty)
		return;
	gettimeofday(&now, NULL);
	if (done == 0 && count == 0)
		started = shown = now;
	if (!last && (double)(now.tv_sec - shown.tv_sec) +
	    (double)(now.tv_usec - shown.tv_usec) / 1e6 < 0.5)
		return;
	shown = now;
	secs = (double)(now.tv_sec - started.tv_sec) +
	    (double)(now.tv_usec - started.tv_usec) / 1e6;
	fprintf(stderr, "\r%s: %zu/%zu, %llu %s, %.0f %s/s ", job, done, total,
	    (unsigned long long)count, unit, secs > 0 ? (double)count / secs : 0.0,
	    unit);
	if (last)
		fputc('\n', stderr);
}

/*
 * Hold an exclusive lock for the life of the process: the descriptor,
 * LOCK_BUSY when another run holds it, or -1. The lock file is never
 * reached through a symbolic link (one planted in the spool would make us
 * create the file it names), and must be a regular file. It holds the
 * node's id.
 */
static int
take_lock(const struct flux_conf *c)
{
	struct stat	st;
	char		path[FLUX_PATH_MAX], err[FLUX_ERRLEN];
	int		fd, busy;

	if (flux_fs_join(path, sizeof(path), c->spool_path, ".flux-batch.lock") == -1) {
		flux_err("cannot open lock file '%s/.flux-batch.lock': path too long",
		    c->spool_path);
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0640)) == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		flux_err("cannot open lock file '%s': %s", path, fd == -1 ?
		    strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		/* Decided before logging and close(), which may change errno. */
		busy = errno == EWOULDBLOCK;
		flux_info("another flux-batch holds '%s'; nothing to do", path);
		close(fd);
		return busy ? LOCK_BUSY : -1;
	}
	if (read_node_id(fd, path, err) == -1) {
		flux_err("%s", err);
		close(fd);
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

/* Run the job cmd names, or every plain job; the exit status. */
static int
run_jobs(const struct flux_conf *c, const char *cmd, int dryrun)
{
	char	hold[FLUX_PATH_MAX];
	size_t	i;
	int	lock, rc = EXIT_OK;

	if ((lock = take_lock(c)) < 0)
		return lock == LOCK_BUSY ? EXIT_OK : EXIT_JOB;
	if (flux_spool_held(c, hold, sizeof(hold)))
		/* Every job sends to carbon: none runs while delivery is held. */
		flux_info("delivery held by %s; no job run", hold);
	else {
		for (i = 0; i < NJOBS; i++)
			if ((cmd == NULL ? jobs[i].in_plain_run :
			    strcmp(cmd, jobs[i].name) == 0) &&
			    jobs[i].run(c, dryrun) == -1)
				rc = EXIT_JOB;
		/* After the jobs, whatever they did: never a job's failure. */
		if (!dryrun)
			batch_selfmetrics(c, &batch_stats, 1);
	}
	close(lock);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct flux_conf	 conf;
	const char		*path = NULL, *cmd;
	char			 err[FLUX_ERRLEN];
	int			 ch, dryrun = 0, rc;
	size_t			 i = 0;

	flux_log_init("flux-batch");
	while ((ch = getopt_long(argc, argv, "c:hnVv", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'h':
			help();
			break;
		case 'V':
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
		/* For check, a configuration that does not load is its finding. */
		if (cmd != NULL && strcmp(cmd, "check") == 0) {
			printf("error: %s\n1 problem found\n", err);
			return EXIT_JOB;
		}
		fprintf(stderr, "flux-batch: %s\n", err);
		return EXIT_USAGE;
	}
	flux_log_set_level((enum flux_level)conf.log_level);
	flux_stats_begin(&batch_stats, "batch");
	if (cmd != NULL && strcmp(cmd, "check") == 0)
		rc = job_check(&conf, dryrun) == -1 ? EXIT_JOB : EXIT_OK;
	else if (cmd != NULL && strcmp(cmd, "status") == 0)
		rc = job_status(&conf, dryrun) == -1 ? EXIT_JOB : EXIT_OK;
	else if (!configured(&conf)) {
		/* Said only to a person: cron mails whatever is written. */
		if (isatty(STDERR_FILENO))
			flux_info("no key is set in '%s': nothing to do", conf.path);
		rc = EXIT_OK;
	} else if (root_check(&conf, err, sizeof(err)) == -1) {
		/* A job, not check: check only reads, and says what it finds. */
		fprintf(stderr, "flux-batch: %s\n", err);
		rc = EXIT_USAGE;
	} else {
		log_sink(&conf);
		rc = run_jobs(&conf, cmd, dryrun);
	}
	flux_conf_free(&conf);
	return rc;
}
