/*
 * http.c — HTTP/1.1 POST with keep-alive (http.h). Parses only what it must:
 * the status line, Content-Length, Transfer-Encoding: chunked and
 * Connection. Every length is checked against the bounds before use.
 */
#include "cli/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

void http_conn_init(struct http_conn *c, const char *host, const char *port)
{
	memset(c, 0, sizeof(*c));
	c->hc_fd = -1;
	snprintf(c->hc_host, sizeof(c->hc_host), "%s", host);
	snprintf(c->hc_port, sizeof(c->hc_port), "%s", port);
}

void http_conn_tls(struct http_conn *c, const char *ca_bundle)
{
	c->hc_tls = true;
	snprintf(c->hc_ca_bundle, sizeof(c->hc_ca_bundle), "%s", ca_bundle ? ca_bundle : "");
}

void http_conn_close(struct http_conn *c)
{
	if (c->hc_ssl) {
		(void)SSL_shutdown(c->hc_ssl);	/* close_notify, not waiting for the peer's */
		SSL_free(c->hc_ssl);
		c->hc_ssl = NULL;
	}
	SSL_CTX_free(c->hc_ssl_ctx);
	c->hc_ssl_ctx = NULL;
	if (c->hc_fd >= 0)
		close(c->hc_fd);
	c->hc_fd = -1;
	c->hc_requests = 0;
}

/* The TLS handshake on c->hc_fd, the peer verified. 0, or -1 with err. */
static int tls_start(struct http_conn *c, char *err, size_t err_len)
{
	if (!c->hc_ssl_ctx) {
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
			snprintf(err, err_len, "cannot set up TLS");
			SSL_CTX_free(ctx);
			return -1;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		int ok = c->hc_ca_bundle[0] ? SSL_CTX_load_verify_locations(ctx, c->hc_ca_bundle, NULL)
					    : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			snprintf(err, err_len, "cannot load the CA bundle %s", c->hc_ca_bundle[0] ? c->hc_ca_bundle :
				 "(the system's)");
			SSL_CTX_free(ctx);
			ERR_clear_error();
			return -1;
		}
		c->hc_ssl_ctx = ctx;
	}
	SSL *ssl = SSL_new(c->hc_ssl_ctx);
	if (!ssl || !SSL_set_fd(ssl, c->hc_fd)) {
		snprintf(err, err_len, "cannot set up TLS");
		SSL_free(ssl);
		return -1;
	}
	/* the name to check: an IP address against the certificate's IP
	 * names, a host name against its DNS names (and sent as SNI) */
	struct in6_addr a;
	bool is_ip = inet_pton(AF_INET, c->hc_host, &a) == 1 || inet_pton(AF_INET6, c->hc_host, &a) == 1;
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(vp, c->hc_host)
		  : (!SSL_set1_host(ssl, c->hc_host) || !SSL_set_tlsext_host_name(ssl, c->hc_host))) {
		snprintf(err, err_len, "cannot verify the name %s", c->hc_host);
		SSL_free(ssl);
		return -1;
	}
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		unsigned long e = ERR_peek_last_error();
		char why[256];
		if (v != X509_V_OK)
			snprintf(why, sizeof(why), "certificate verify failed: %s", X509_verify_cert_error_string(v));
		else if (e)
			ERR_error_string_n(e, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "the connection was closed during the TLS handshake");
		snprintf(err, err_len, "SSL validation failed for https://%s:%s %s", c->hc_host, c->hc_port, why);
		ERR_clear_error();
		SSL_free(ssl);
		return -1;
	}
	c->hc_ssl = ssl;
	return 0;
}

void http_response_free(struct http_response *r)
{
	sb_free(&r->r_body);
}

static int http_connect(struct http_conn *c, char *err, size_t err_len)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(c->hc_host, c->hc_port, &hints, &res);
	if (rc != 0) {
		snprintf(err, err_len, "cannot resolve %s: %s", c->hc_host, gai_strerror(rc));
		return -1;
	}
	int fd = -1, last_errno = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		struct timeval tv = { HTTP_IO_TIMEOUT_S, 0 };
		int one = 1;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last_errno = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, err_len, "cannot connect to %s port %s: %s", c->hc_host, c->hc_port,
			 strerror(last_errno));
		return -1;
	}
	c->hc_fd = fd;
	c->hc_requests = 0;
	c->hc_connects++;
	if (c->hc_tls && tls_start(c, err, err_len) < 0) {
		http_conn_close(c);
		return -1;
	}
	return 0;
}

static int write_all(struct http_conn *c, const char *p, size_t n)
{
	while (n) {
		if (c->hc_ssl) {
			size_t w;
			if (SSL_write_ex(c->hc_ssl, p, n, &w) != 1) {
				ERR_clear_error();
				return -1;
			}
			p += w;
			n -= w;
			continue;
		}
		ssize_t w = send(c->hc_fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* What has been read from the socket and not yet consumed. */
struct reader {
	int rd_fd;
	SSL *rd_ssl;		/* NULL: plain */
	char *rd_buf;
	size_t rd_len, rd_pos, rd_cap;
	size_t rd_total;	/* bytes received in all */
};

/* Reads more bytes; 1 read, 0 EOF, -1 error. */
static int fill(struct reader *r)
{
	if (r->rd_pos > 0 && r->rd_pos == r->rd_len)
		r->rd_pos = r->rd_len = 0;
	if (r->rd_len == r->rd_cap) {
		size_t cap = r->rd_cap ? r->rd_cap * 2 : 16384;
		char *b = realloc(r->rd_buf, cap);
		if (!b)
			abort();
		r->rd_buf = b;
		r->rd_cap = cap;
	}
	if (r->rd_ssl) {
		size_t n;
		if (SSL_read_ex(r->rd_ssl, r->rd_buf + r->rd_len, r->rd_cap - r->rd_len, &n) != 1) {
			int e = SSL_get_error(r->rd_ssl, 0);
			ERR_clear_error();
			return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		}
		r->rd_len += n;
		r->rd_total += n;
		return 1;
	}
	for (;;) {
		ssize_t n = recv(r->rd_fd, r->rd_buf + r->rd_len, r->rd_cap - r->rd_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		r->rd_len += (size_t)n;
		r->rd_total += (size_t)n;
		return 1;
	}
}

/* One line ending in CRLF (without it) into line; -1 on EOF or overlong. */
static int read_line(struct reader *r, char *line, size_t line_len)
{
	for (;;) {
		char *nl = r->rd_len > r->rd_pos ? memchr(r->rd_buf + r->rd_pos, '\n', r->rd_len - r->rd_pos) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - (r->rd_buf + r->rd_pos));
			if (n > 0 && nl[-1] == '\r')
				n--;
			if (n >= line_len)
				return -1;
			memcpy(line, r->rd_buf + r->rd_pos, n);
			line[n] = '\0';
			r->rd_pos = (size_t)(nl - r->rd_buf) + 1;
			return 0;
		}
		if (r->rd_len - r->rd_pos >= line_len)
			return -1;
		if (fill(r) <= 0)
			return -1;
	}
}

/* Exactly n body bytes into body. */
static int read_exact(struct reader *r, size_t n, struct strbuf *body)
{
	while (n) {
		if (r->rd_pos == r->rd_len && fill(r) <= 0)
			return -1;
		size_t take = r->rd_len - r->rd_pos < n ? r->rd_len - r->rd_pos : n;
		sb_append(body, r->rd_buf + r->rd_pos, take);
		r->rd_pos += take;
		n -= take;
	}
	return 0;
}

static int read_response(struct reader *r, struct http_response *resp, char *err, size_t err_len)
{
	char line[8192];
	size_t header_bytes = 0;
	if (read_line(r, line, sizeof(line)) < 0) {
		snprintf(err, err_len, "no HTTP answer (connection closed or timed out)");
		return -1;
	}
	int minor = 0;
	if (sscanf(line, "HTTP/1.%d %d", &minor, &resp->r_status) != 2 || resp->r_status < 100 ||
	    resp->r_status > 999) {
		snprintf(err, err_len, "not an HTTP/1.x status line: '%.60s'", line);
		return -1;
	}
	resp->r_close = minor == 0;
	long long content_length = -1;
	bool chunked = false;
	for (;;) {
		if (read_line(r, line, sizeof(line)) < 0) {
			snprintf(err, err_len, "HTTP headers cut short or a header line too long");
			return -1;
		}
		header_bytes += strlen(line) + 2;
		if (header_bytes > HTTP_HEADER_MAX) {
			snprintf(err, err_len, "HTTP headers larger than %d bytes", HTTP_HEADER_MAX);
			return -1;
		}
		if (!line[0])
			break;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Content-Length") == 0) {
			char *end;
			content_length = strtoll(v, &end, 10);
			if (end == v || content_length < 0 || content_length > (long long)HTTP_BODY_MAX) {
				snprintf(err, err_len, "bad or too large Content-Length '%.30s'", v);
				return -1;
			}
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			chunked = strcasestr(v, "chunked") != NULL;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (strcasestr(v, "close"))
				resp->r_close = true;
			else if (strcasestr(v, "keep-alive"))
				resp->r_close = false;
		}
	}
	if (resp->r_status == 100)	/* an interim answer: the real one follows */
		return read_response(r, resp, err, err_len);
	if (chunked) {
		for (;;) {
			if (read_line(r, line, sizeof(line)) < 0)
				goto cut;
			char *end;
			unsigned long long n = strtoull(line, &end, 16);
			if (end == line || n > HTTP_BODY_MAX || resp->r_body.sb_len + n > HTTP_BODY_MAX) {
				snprintf(err, err_len, "bad or too large chunk size '%.30s'", line);
				return -1;
			}
			if (n == 0)
				break;
			if (read_exact(r, (size_t)n, &resp->r_body) < 0 || read_line(r, line, sizeof(line)) < 0)
				goto cut;
		}
		do {	/* trailers up to the empty line */
			if (read_line(r, line, sizeof(line)) < 0)
				goto cut;
		} while (line[0]);
	} else if (content_length >= 0) {
		if (read_exact(r, (size_t)content_length, &resp->r_body) < 0)
			goto cut;
	} else {
		resp->r_close = true;	/* the body runs to the end of the connection */
		for (;;) {
			sb_append(&resp->r_body, r->rd_buf + r->rd_pos, r->rd_len - r->rd_pos);
			r->rd_pos = r->rd_len;
			if (resp->r_body.sb_len > HTTP_BODY_MAX) {
				snprintf(err, err_len, "HTTP body larger than %u bytes", HTTP_BODY_MAX);
				return -1;
			}
			int f = fill(r);
			if (f == 0)
				break;
			if (f < 0)
				goto cut;
		}
	}
	sb_str(&resp->r_body);	/* never NULL, always NUL-terminated */
	return 0;
cut:
	snprintf(err, err_len, "HTTP answer cut short");
	return -1;
}

int http_post(struct http_conn *c, const char *netloc, const char *path, const struct http_header *headers,
	      size_t nheaders, const void *body, size_t body_len, struct http_response *resp, char *err,
	      size_t err_len)
{
	struct strbuf req = STRBUF_INIT;
	sb_printf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, netloc);
	for (size_t i = 0; i < nheaders; i++)
		sb_printf(&req, "%s: %s\r\n", headers[i].h_name, headers[i].h_value);
	sb_printf(&req, "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n", body_len);
	sb_append(&req, body, body_len);

	int rc = -1;
	memset(resp, 0, sizeof(*resp));
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = c->hc_fd >= 0 && c->hc_requests > 0;
		if (c->hc_fd < 0 && http_connect(c, err, err_len) < 0)
			break;
		struct reader r = { c->hc_fd, c->hc_ssl, NULL, 0, 0, 0, 0 };
		c->hc_requests++;
		if (write_all(c, req.sb_data, req.sb_len) < 0) {
			snprintf(err, err_len, "cannot send to %s port %s: %s", c->hc_host, c->hc_port, strerror(errno));
			http_conn_close(c);
			if (reused)
				continue;
			break;
		}
		rc = read_response(&r, resp, err, err_len);
		size_t got = r.rd_total;
		free(r.rd_buf);
		if (rc == 0) {
			if (resp->r_close)
				http_conn_close(c);
			break;
		}
		http_response_free(resp);
		memset(resp, 0, sizeof(*resp));
		http_conn_close(c);
		if (!(reused && got == 0))
			break;	/* only a kept-alive connection that died idle is retried */
	}
	sb_free(&req);
	return rc;
}
