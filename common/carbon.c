/*
 * carbon.c - the carbon client of carbon.h.
 *
 * Delivery ends with an orderly close: we shut down our side and wait for
 * carbon to close its own. Twisted closes a connection when it reads our
 * FIN, after the bytes before it, so a clean EOF says carbon read the whole
 * stream, while a reset (a frame it refused, a crash) or a timeout (a
 * carbon that stopped reading) is a failure and the caller spools.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "carbon.h"
#include "pickle.h"
#include "util.h"

/* Plaintext lines are sent in chunks of about this size. */
#define PLAIN_CHUNK 65536

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
			if (errno == EINTR)
				continue;
			return flux_errf(err, "cannot send to carbon: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_pickle(int fd, const struct flux_points *p, char err[])
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
			if (flux_pickle_end(&b) == -1 || send_all(fd, b.ptr, b.len, err) == -1)
				goto done;
			flux_pickle_begin(&b);
			items = 0;
		}
		if (flux_pickle_add(&b, pt->name, pt->ts, pt->value) == -1)
			goto oom;
		items++;
	}
	if (items > 0 && (flux_pickle_end(&b) == -1 ||
	    send_all(fd, b.ptr, b.len, err) == -1))
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
send_plain(int fd, const struct flux_points *p, char err[])
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
			if (send_all(fd, b.ptr, b.len, err) == -1)
				goto done;
			b.len = 0;
		}
	}
	rc = (b.len > 0) ? send_all(fd, b.ptr, b.len, err) : 0;
done:
	flux_buf_free(&b);
	return rc;
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
	int	fd, rc;

	if (flux_points_count(p, FLUX_PT_ACCEPT) == 0)
		return 0;
	if ((fd = carbon_connect(c, err)) == -1)
		return -1;
	if (c->carbon_protocol == FLUX_PROTO_PICKLE)
		rc = send_pickle(fd, p, err);
	else
		rc = send_plain(fd, p, err);
	if (rc == 0)
		rc = close_checked(fd, err);
	close(fd);
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
