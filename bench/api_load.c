/*
 * api_load — a load generator for the EC2 Query API: one event loop
 * (epoll) drives --threads concurrent HTTP/1.1 keep-alive connections,
 * every request SigV4-signed (the Python clients cannot sign fast enough
 * to load vpcd). A closed loop: each connection sends its next request
 * when the answer to the last one is in. One thread and non-blocking
 * sockets rather than a thread per connection, so that the load generator
 * spends little of the machine's CPU on waking threads: the server under
 * test shares the machine with it. Prints one line:
 *   requests=N errors=E seconds=S rps=R p50_ms=A p99_ms=B
 *
 *   api_load --port P --threads C --requests N --key K --secret S [--close] BODY
 * --threads C: C connections in flight (the name is from when each had a
 * thread). --close opens a connection per request (for servers without
 * keep-alive). BODY is the form body; "{n}" in it is replaced by the
 * request's global sequence number, "{a}" by --octet and "{b}"/"{c}" by
 * the low bytes of 16*(n + --offset), so that 10.{a}.{b}.{c}/28 names a
 * new /28 each time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/sigv4.h"

static int port, nconns = 4, nrequests = 1000, octet = 0, offset = 0, close_each = 0;
static const char *key = "", *secret = "", *body_template = "";
static int next_request, errors, done_requests;
static double *latencies;
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A non-blocking connection to the server, being set up. */
static int connect_local(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void render_body(int n, char *out, size_t len)
{
	unsigned v = (unsigned)(n + offset) * 16;
	char a[8], b[8], c[8], ns[16];
	snprintf(a, sizeof(a), "%u", (unsigned)octet);
	snprintf(b, sizeof(b), "%u", (v >> 8) & 255);
	snprintf(c, sizeof(c), "%u", v & 255);
	snprintf(ns, sizeof(ns), "%d", n);
	size_t o = 0;
	for (const char *p = body_template; *p && o + 16 < len;) {
		const char *rep = NULL;
		if (strncmp(p, "{n}", 3) == 0) rep = ns;
		else if (strncmp(p, "{a}", 3) == 0) rep = a;
		else if (strncmp(p, "{b}", 3) == 0) rep = b;
		else if (strncmp(p, "{c}", 3) == 0) rep = c;
		if (rep) {
			o += (size_t)snprintf(out + o, len - o, "%s", rep);
			p += 3;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

struct conn {
	int fd;
	int n;			/* the request in flight; -1 when none */
	double t0;
	char req[16384];
	size_t req_len, req_sent;
	char hdr[65536];	/* the answer's head (and whatever body came with it) */
	size_t hdr_len;
	bool in_body;
	int status;
	size_t body_left;
};

static void conn_open(int ep, struct conn *c)
{
	c->fd = connect_local();
	/* edge-triggered: reads go on until EAGAIN, and a socket that stays
	 * writable does not wake the loop again and again */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

/* Takes the next request for c; false when all are taken. */
static bool conn_next(struct conn *c)
{
	if (next_request >= nrequests)
		return false;
	c->n = next_request++;
	char body[8192];
	render_body(c->n, body, sizeof(body));
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char amz[20], auth[512], host[32];
	strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	sigv4_sign_post(key, secret, "us-east-1", host, amz, body, strlen(body), auth, sizeof(auth));
	int len = snprintf(c->req, sizeof(c->req),
			   "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n"
			   "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
			   "Content-Length: %zu\r\n%s\r\n%s", host, amz, auth, strlen(body),
			   close_each ? "Connection: close\r\n" : "", body);
	c->req_len = (size_t)len;
	c->req_sent = 0;
	c->hdr_len = 0;
	c->in_body = false;
	c->t0 = now_s();
	return true;
}

/* The answer to c's request is in (or failed: status < 0). */
static void conn_finish(int ep, struct conn *c, int status)
{
	latencies[c->n] = now_s() - c->t0;
	done_requests++;
	if (status != 200)
		errors++;
	c->n = -1;
	if (close_each || status < 0) {
		conn_close(ep, c);
		if (next_request < nrequests)
			conn_open(ep, c);
		else
			return;
	}
	if (conn_next(c) && !close_each && c->fd >= 0) {
		/* keep-alive: send at once, the socket is writable */
		ssize_t w = write(c->fd, c->req, c->req_len);
		if (w > 0)
			c->req_sent = (size_t)w;
	} else if (c->n < 0 && c->fd >= 0) {
		conn_close(ep, c);
	}
}

/* Parses what the head buffer holds; true once the whole answer is in. */
static bool conn_head(struct conn *c)
{
	c->hdr[c->hdr_len] = '\0';
	char *end = strstr(c->hdr, "\r\n\r\n");
	if (!end)
		return false;
	c->status = atoi(c->hdr + 9);
	const char *cl = strcasestr(c->hdr, "content-length:");
	size_t clen = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
	size_t have = c->hdr_len - (size_t)(end + 4 - c->hdr);
	c->in_body = true;
	c->body_left = clen > have ? clen - have : 0;
	return c->body_left == 0;
}

static void conn_io(int ep, struct conn *c, uint32_t events)
{
	if (c->n < 0)
		return;
	if (c->req_sent < c->req_len && (events & EPOLLOUT)) {
		ssize_t w = write(c->fd, c->req + c->req_sent, c->req_len - c->req_sent);
		if (w < 0 && errno != EAGAIN) {
			conn_finish(ep, c, -1);
			return;
		}
		if (w > 0)
			c->req_sent += (size_t)w;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
		return;
	for (;;) {
		ssize_t r;
		if (!c->in_body) {
			if (c->hdr_len + 1 >= sizeof(c->hdr)) {
				conn_finish(ep, c, -1);
				return;
			}
			r = read(c->fd, c->hdr + c->hdr_len, sizeof(c->hdr) - c->hdr_len - 1);
			if (r > 0) {
				c->hdr_len += (size_t)r;
				if (conn_head(c)) {
					conn_finish(ep, c, c->status);
					return;
				}
				continue;
			}
		} else {
			static char sink[1 << 20];
			r = read(c->fd, sink, c->body_left < sizeof(sink) ? c->body_left : sizeof(sink));
			if (r > 0) {
				c->body_left -= (size_t)r;
				if (!c->body_left) {
					conn_finish(ep, c, c->status);
					return;
				}
				continue;
			}
		}
		if (r < 0 && errno == EAGAIN)
			return;
		conn_finish(ep, c, -1);	/* closed or failed mid-answer */
		return;
	}
}

static void run(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct conn *conns = calloc((size_t)nconns, sizeof(*conns));
	if (ep < 0 || !conns) {
		perror("epoll");
		exit(1);
	}
	for (int i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].n = -1;
		if (conn_next(&conns[i]))
			conn_open(ep, &conns[i]);
	}
	struct epoll_event evs[256];
	while (done_requests < nrequests) {
		int k = epoll_wait(ep, evs, 256, 900 * 1000);	/* moto takes 40 s for one big answer */
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "api_load: no progress for 900 s (%d of %d answered)\n", done_requests, nrequests);
			exit(1);
		}
		for (int i = 0; i < k; i++)
			conn_io(ep, evs[i].data.ptr, evs[i].events);
	}
	for (int i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	close(ep);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' }, { "threads", required_argument, NULL, 't' },
		{ "requests", required_argument, NULL, 'n' }, { "key", required_argument, NULL, 'k' },
		{ "secret", required_argument, NULL, 's' }, { "octet", required_argument, NULL, 'o' },
		{ "offset", required_argument, NULL, 'O' },
		{ "close", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 't': nconns = atoi(optarg); break;
		case 'n': nrequests = atoi(optarg); break;
		case 'k': key = optarg; break;
		case 's': secret = optarg; break;
		case 'o': octet = atoi(optarg); break;
		case 'O': offset = atoi(optarg); break;
		case 'C': close_each = 1; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || port <= 0 || nrequests <= 0 || nconns <= 0) {
		fprintf(stderr, "usage: api_load --port P [--threads T] [--requests N] --key K --secret S BODY\n");
		return 2;
	}
	body_template = argv[optind];
	latencies = calloc((size_t)nrequests, sizeof(double));
	if (nconns > nrequests)
		nconns = nrequests;
	double t0 = now_s();
	run();
	double secs = now_s() - t0;
	qsort(latencies, (size_t)nrequests, sizeof(double), cmp_double);
	printf("requests=%d errors=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f\n", nrequests,
	       errors, secs, nrequests / secs, latencies[nrequests / 2] * 1e3,
	       latencies[(size_t)(nrequests * 0.99)] * 1e3);
	free(latencies);
	return 0;
}
