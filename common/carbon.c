/*
 * carbon.c - the carbon client of carbon.h.
 *
 * A delivery on a connection of its own ends with an orderly close: we
 * shut down our side and wait for carbon to close its own. Twisted closes
 * a connection when it reads our FIN, after the bytes before it, so a
 * clean EOF says carbon read the whole stream, while a reset (a frame it
 * refused, a crash) or a timeout (a carbon that stopped reading) is a
 * failure and the caller spools.
 *
 * With FLUX_CARBON_KEEP_CONNECTION a resident responder keeps its
 * connection (struct flux_carbon) and confirms each delivery by its send
 * queue draining (SIOCOUTQ at 0: every byte acknowledged by carbon's TCP
 * stack) within FLUX_CARBON_TIMEOUT_MS. On any error the connection is
 * made again and the delivery, none of which was confirmed, sent again
 * once; on a timeout the caller spools. That confirmation is weaker: the
 * kernel acknowledges bytes carbon may never read (flux(7), DELIVERY,
 * and bench/faults.sh), hence off by default.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carbon.h"
#include "pickle.h"
#include "util.h"

/* Plaintext lines are sent in chunks of about this size. */
#define PLAIN_CHUNK 65536

/*
 * A kept connection's delivery: sent at most this many times (the first,
 * and once more on a new connection after an error).
 */
#define KEPT_ATTEMPTS 2
/*
 * The wait for the send queue to drain: first look at once, then after
 * DRAIN_FIRST_US, twice as long each time up to DRAIN_MAX_US (on loopback
 * carbon's kernel acknowledges within tens of microseconds; across a
 * network, a round trip).
 */
#define DRAIN_FIRST_US 20
#define DRAIN_MAX_US 1000
/* A kept buffer larger than this is freed after its delivery. */
#define KEPT_BUF_KEEP (1024 * 1024)

static int
wait_connected(int fd, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	int		soerr = 0, n;
	socklen_t	len = sizeof(soerr);

	while ((n = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct timeval	tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int		fd, flags;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) == -1)
		return -1;
	flags = fcntl(fd, F_GETFL);
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    (errno != EINPROGRESS || wait_connected(fd, timeout_ms) == -1))
		goto fail;
	if (fcntl(fd, F_SETFL, flags) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	return fd;
fail:
	flags = errno;
	close(fd);
	errno = flags;
	return -1;
}

static int
carbon_connect(const struct flux_conf *c, char err[])
{
	struct addrinfo	 hints = { 0 }, *res, *ai;
	char		 port[8];
	int		 fd = -1, rc, saved = 0;

	snprintf(port, sizeof(port), "%lld", (long long)(c->carbon_protocol ==
	    FLUX_PROTO_PICKLE ? c->carbon_pickle_port : c->carbon_port));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(c->carbon_host, port, &hints, &res)) != 0)
		return flux_errf(err, "cannot resolve carbon host '%s': %s",
		    c->carbon_host, gai_strerror(rc));
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		if ((fd = connect_one(ai, (int)c->carbon_timeout_ms)) == -1)
			saved = errno;
	freeaddrinfo(res);
	if (fd == -1)
		flux_errf(err, "cannot connect to carbon '%s:%s': %s",
		    c->carbon_host, port, strerror(saved));
	return fd;
}

static int
send_all(int fd, const char *p, size_t n, char err[])
{
	ssize_t	w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			int saved = errno;

			if (errno == EINTR)
				continue;
			flux_errf(err, "cannot send to carbon: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
			errno = saved;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Where encoded points go: straight to a connection (fd), or kept in out
 * for a kept connection, which may have to send them again.
 */
struct sink {
	int		 fd;
	struct flux_buf	*out;
};

static int
sink_put(const struct sink *k, const char *p, size_t n, char err[])
{
	if (k->out == NULL)
		return send_all(k->fd, p, n, err);
	if (flux_buf_add(k->out, p, n) == -1)
		return flux_errf(err, "out of memory");
	return 0;
}

static int
send_pickle(const struct sink *fd, const struct flux_points *p, char err[])
{
	struct flux_buf	b = { 0 };
	size_t		i, items = 0;
	int		rc = -1;

	flux_pickle_begin(&b);
	for (i = 0; i < p->n; i++) {
		const struct flux_point *pt = &p->v[i];

		if (pt->state != FLUX_PT_ACCEPT)
			continue;
		if (items > 0 && b.len + FLUX_PICKLE_ITEM_SIZE(strlen(pt->name)) + 2 >
		    FLUX_PICKLE_FRAME_MAX) {
			if (flux_pickle_end(&b) == -1 || sink_put(fd, b.ptr, b.len, err) == -1)
				goto done;
			flux_pickle_begin(&b);
			items = 0;
		}
		if (flux_pickle_add(&b, pt->name, pt->ts, pt->value) == -1)
			goto oom;
		items++;
	}
	if (items > 0 && (flux_pickle_end(&b) == -1 ||
	    sink_put(fd, b.ptr, b.len, err) == -1))
		goto done;
	rc = 0;
	goto done;
oom:
	flux_errf(err, "out of memory");
done:
	flux_buf_free(&b);
	return rc;
}

static int
send_plain(const struct sink *fd, const struct flux_points *p, char err[])
{
	struct flux_buf	 b = { 0 };
	char		 num[FLUX_DBLLEN];
	size_t		 i;
	int		 rc = -1;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].state != FLUX_PT_ACCEPT)
			continue;
		flux_fmt_double(p->v[i].value, num);
		if (flux_buf_printf(&b, "%s %s %lld\n", p->v[i].name, num,
		    (long long)p->v[i].ts) == -1) {
			flux_errf(err, "out of memory");
			goto done;
		}
		if (b.len >= PLAIN_CHUNK) {
			if (sink_put(fd, b.ptr, b.len, err) == -1)
				goto done;
			b.len = 0;
		}
	}
	rc = (b.len > 0) ? sink_put(fd, b.ptr, b.len, err) : 0;
done:
	flux_buf_free(&b);
	return rc;
}

/* The points of p in carbon's protocol, to k. */
static int
encode(const struct sink *k, const struct flux_conf *c,
    const struct flux_points *p, char err[])
{
	if (c->carbon_protocol == FLUX_PROTO_PICKLE)
		return send_pickle(k, p, err);
	return send_plain(k, p, err);
}

/* Orderly close: see the comment at the top of this file. */
static int
close_checked(int fd, char err[])
{
	char	buf[256];
	ssize_t	n;

	if (shutdown(fd, SHUT_WR) == -1)
		return flux_errf(err, "cannot shut down carbon connection: %s",
		    strerror(errno));
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return flux_errf(err, "carbon did not confirm the data: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
	}
}

/*
 * Send every point of p in state FLUX_PT_ACCEPT. Returns 0 when carbon
 * took all of them, -1 with err set otherwise (some may have arrived:
 * carbon keeps the last value per timestamp, so a resend is harmless).
 */
int
flux_carbon_deliver(const struct flux_conf *c, const struct flux_points *p,
    char err[])
{
	struct sink	k = { -1, NULL };
	int		rc;

	if (flux_points_count(p, FLUX_PT_ACCEPT) == 0)
		return 0;
	if ((k.fd = carbon_connect(c, err)) == -1)
		return -1;
	rc = encode(&k, c, p, err);
	if (rc == 0)
		rc = close_checked(k.fd, err);
	close(k.fd);
	return rc;
}

/*
 * Connect to carbon and close at once, as a delivery would but with no
 * data (flux-batch check): 0 when carbon accepted and closed cleanly.
 */
int
flux_carbon_probe(const struct flux_conf *c, char err[])
{
	int	fd, rc;

	if ((fd = carbon_connect(c, err)) == -1)
		return -1;
	rc = close_checked(fd, err);
	close(fd);
	return rc;
}

/* A resident responder's connection to carbon (carbon.h). */
struct flux_carbon {
	int		 fd;		/* -1: none */
	char		*host;		/* what fd is connected to */
	int64_t		 port;
	int		 protocol;
	struct flux_buf	 out;		/* the delivery under way, encoded */
};

struct flux_carbon *
flux_carbon_new(void)
{
	struct flux_carbon	*k;

	if ((k = calloc(1, sizeof(*k))) != NULL)
		k->fd = -1;
	return k;
}

static void
kept_drop(struct flux_carbon *k)
{
	if (k->fd != -1)
		close(k->fd);
	k->fd = -1;
	free(k->host);
	k->host = NULL;
}

void
flux_carbon_free(struct flux_carbon *k)
{
	if (k == NULL)
		return;
	kept_drop(k);
	flux_buf_free(&k->out);
	free(k);
}

static int64_t
port_of(const struct flux_conf *c)
{
	return c->carbon_protocol == FLUX_PROTO_PICKLE ? c->carbon_pickle_port :
	    c->carbon_port;
}

/* Whether k's connection goes where c says (a resident sees edits). */
static int
kept_for(const struct flux_carbon *k, const struct flux_conf *c)
{
	return k->host != NULL && strcmp(k->host, c->carbon_host) == 0 &&
	    k->port == port_of(c) && k->protocol == (int)c->carbon_protocol;
}

static int
kept_connect(struct flux_carbon *k, const struct flux_conf *c, char err[])
{
	if ((k->fd = carbon_connect(c, err)) == -1)
		return -1;
	if ((k->host = strdup(c->carbon_host)) == NULL) {
		kept_drop(k);
		return flux_errf(err, "out of memory");
	}
	k->port = port_of(c);
	k->protocol = (int)c->carbon_protocol;
	return 0;
}

/*
 * Whether carbon ended the connection (it never sends: anything to read
 * is its FIN or a reset) or the socket failed; err says which.
 */
static int
peer_gone(const struct pollfd *pfd, char err[])
{
	int		soerr = 0;
	socklen_t	len = sizeof(soerr);

	if (pfd->revents == 0)
		return 0;
	if (getsockopt(pfd->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	flux_errf(err, "carbon closed the connection: %s",
	    soerr != 0 ? strerror(soerr) : "end of file");
	return 1;
}

/*
 * Wait until carbon's TCP stack has acknowledged every byte sent on fd
 * (SIOCOUTQ, the bytes not yet acknowledged, at 0): 0. -1 with err when
 * carbon closes or resets the connection first, or when deadline (ms,
 * monotonic) passes, which sets *timed_out.
 */
static int
drained(int fd, int64_t deadline, int *timed_out, char err[])
{
	struct pollfd	pfd = { fd, POLLIN | POLLRDHUP, 0 };
	struct timespec	ts = { 0, 0 };
	int64_t		pause = DRAIN_FIRST_US, left;
	int		queued, n;

	for (;;) {
		pfd.revents = 0;
		if ((n = ppoll(&pfd, 1, &ts, NULL)) == -1 && errno != EINTR)
			return flux_errf(err, "cannot poll carbon connection: %s",
			    strerror(errno));
		if (n > 0 && peer_gone(&pfd, err))
			return -1;
		if (ioctl(fd, SIOCOUTQ, &queued) == -1)
			return flux_errf(err, "cannot read carbon's send queue: %s",
			    strerror(errno));
		if (queued == 0)
			return 0;
		if ((left = deadline - flux_clock_ms(CLOCK_MONOTONIC)) <= 0) {
			*timed_out = 1;
			return flux_errf(err, "carbon did not confirm the data: "
			    "timed out (%d bytes unacknowledged)", queued);
		}
		if (pause > left * 1000)
			pause = left * 1000;
		ts.tv_sec = (time_t)(pause / 1000000);
		ts.tv_nsec = (long)(pause % 1000000) * 1000;
		pause = pause * 2 > DRAIN_MAX_US ? DRAIN_MAX_US : pause * 2;
	}
}

/* Whether carbon closed the idle kept connection since the last delivery. */
static int
kept_stale(const struct flux_carbon *k)
{
	struct pollfd	pfd = { k->fd, POLLIN | POLLRDHUP, 0 };
	char		err[FLUX_ERRLEN];
	int		n;

	while ((n = poll(&pfd, 1, 0)) == -1 && errno == EINTR)
		;
	return n == -1 || (n > 0 && peer_gone(&pfd, err));
}

/*
 * Deliver the accepted points of p on k's connection, made (again) when
 * there is none, carbon closed it, or the settings moved. 0 when carbon's
 * TCP stack acknowledged all of them within FLUX_CARBON_TIMEOUT_MS. On an
 * error (a reset, a closed connection) none of them counts as confirmed:
 * they go again, once, on a new connection. -1 with err when that fails
 * too, on a timeout (a stalled carbon: the caller spools, no resend) or
 * when carbon cannot be reached.
 */
int
flux_carbon_send(struct flux_carbon *k, const struct flux_conf *c,
    const struct flux_points *p, char err[])
{
	struct sink	out = { -1, &k->out };
	int64_t		deadline;
	int		attempt, timed_out = 0, rc = -1;

	if (flux_points_count(p, FLUX_PT_ACCEPT) == 0)
		return 0;
	k->out.len = 0;
	if (encode(&out, c, p, err) == -1)
		goto done;
	if (k->fd != -1 && (!kept_for(k, c) || kept_stale(k)))
		kept_drop(k);
	deadline = flux_clock_ms(CLOCK_MONOTONIC) + c->carbon_timeout_ms;
	for (attempt = 0; attempt < KEPT_ATTEMPTS && !timed_out; attempt++) {
		if (k->fd == -1 && kept_connect(k, c, err) == -1)
			break;
		if (send_all(k->fd, k->out.ptr, k->out.len, err) == -1)
			timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
		else if (drained(k->fd, deadline, &timed_out, err) == 0) {
			rc = 0;
			break;
		}
		kept_drop(k);
	}
done:
	if (k->out.cap > KEPT_BUF_KEEP)
		flux_buf_free(&k->out);
	return rc;
}
