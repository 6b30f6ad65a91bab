/*
 * api_load — a small load generator for the EC2 Query API: C threads, one
 * keep-alive HTTP/1.1 connection each, every request SigV4-signed (the
 * Python clients cannot sign fast enough to load vpcd). Prints one line:
 *   requests=N errors=E seconds=S rps=R p50_ms=A p99_ms=B
 *
 *   api_load --port P --threads T --requests N --key K --secret S [--close] BODY
 * --close opens a connection per request (for servers without keep-alive).
 * BODY is the form body; "{n}" in it is replaced by the request's global
 * sequence number, "{a}" by --octet and "{b}"/"{c}" by the low bytes of
 * 16*(n + --offset), so that 10.{a}.{b}.{c}/28 names a new /28 each time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/sigv4.h"

static int port, nthreads = 4, nrequests = 1000, octet = 0, offset = 0, close_each = 0;
static const char *key = "", *secret = "", *body_template = "";
static atomic_int next_request, errors;
static double *latencies;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_local(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("connect");
		exit(1);
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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

/* Reads one response; returns the status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *hdr_end = NULL;
	while (!hdr_end) {
		ssize_t r = read(fd, buf + have, cap - have - 1);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end && have + 1 >= cap)
			return -1;
	}
	int status = atoi(buf + 9);
	const char *cl = strcasestr(buf, "content-length:");
	size_t clen = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
	size_t body_have = have - (size_t)(hdr_end + 4 - buf);
	while (body_have < clen) {
		char tmp[65536];
		size_t want = clen - body_have < sizeof(tmp) ? clen - body_have : sizeof(tmp);
		ssize_t r = read(fd, tmp, want);
		if (r <= 0)
			return -1;
		body_have += (size_t)r;
	}
	return status;
}

static void *worker(void *arg)
{
	(void)arg;
	int fd = connect_local();
	static __thread char body[8192], req[16384], resp[1 << 16];
	for (;;) {
		int n = atomic_fetch_add(&next_request, 1);
		if (n >= nrequests)
			break;
		render_body(n, body, sizeof(body));
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		char amz[20], auth[512], host[32];
		strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(host, sizeof(host), "127.0.0.1:%d", port);
		sigv4_sign_post(key, secret, "us-east-1", host, amz, body, strlen(body), auth, sizeof(auth));
		int len = snprintf(req, sizeof(req),
				   "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n"
				   "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
				   "Content-Length: %zu\r\n%s\r\n%s", host, amz, auth, strlen(body),
				   close_each ? "Connection: close\r\n" : "", body);
		double t0 = now_s();
		if (write(fd, req, (size_t)len) != len) {
			atomic_fetch_add(&errors, 1);
			close(fd);
			fd = connect_local();
			continue;
		}
		int status = read_response(fd, resp, sizeof(resp));
		latencies[n] = now_s() - t0;
		if (close_each) {
			/* for servers without keep-alive (moto's development server) */
			close(fd);
			fd = connect_local();
		}
		if (status != 200) {
			atomic_fetch_add(&errors, 1);
			if (status < 0) {
				close(fd);
				fd = connect_local();
			}
		}
	}
	close(fd);
	return NULL;
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
		case 't': nthreads = atoi(optarg); break;
		case 'n': nrequests = atoi(optarg); break;
		case 'k': key = optarg; break;
		case 's': secret = optarg; break;
		case 'o': octet = atoi(optarg); break;
		case 'O': offset = atoi(optarg); break;
		case 'C': close_each = 1; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || port <= 0 || nrequests <= 0 || nthreads <= 0) {
		fprintf(stderr, "usage: api_load --port P [--threads T] [--requests N] --key K --secret S BODY\n");
		return 2;
	}
	body_template = argv[optind];
	latencies = calloc((size_t)nrequests, sizeof(double));
	pthread_t th[256];
	if (nthreads > 256)
		nthreads = 256;
	double t0 = now_s();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	double secs = now_s() - t0;
	qsort(latencies, (size_t)nrequests, sizeof(double), cmp_double);
	printf("requests=%d errors=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f\n", nrequests,
	       atomic_load(&errors), secs, nrequests / secs, latencies[nrequests / 2] * 1e3,
	       latencies[(size_t)(nrequests * 0.99)] * 1e3);
	free(latencies);
	return 0;
}
