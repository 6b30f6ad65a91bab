/*
 * http — the smallest HTTP/1.1 client vpcctl needs: POST over one TCP
 * connection kept alive between requests, answers framed by Content-Length
 * or chunked encoding. A kept-alive connection that the server closed in
 * the meantime is reopened once, transparently (POSTs to the EC2 API are
 * only resent when not a byte of the answer came back).
 *
 * HTTPS (http_conn_tls): OpenSSL, TLS 1.2 or later, the server's
 * certificate verified against a CA bundle file (or the system's store)
 * and its name or IP address against the host connected to.
 *
 * Blocking I/O with a timeout per read and write (HTTP_IO_TIMEOUT_S).
 * Bounds: headers HTTP_HEADER_MAX bytes, body HTTP_BODY_MAX bytes.
 */
#ifndef VPCD_CLI_HTTP_H
#define VPCD_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "base/strbuf.h"

#define HTTP_IO_TIMEOUT_S 60
#define HTTP_HEADER_MAX (64 * 1024)
#define HTTP_BODY_MAX (64u << 20)

struct http_conn {
	int hc_fd;		/* -1 when not connected */
	char hc_host[256];
	char hc_port[8];
	unsigned hc_requests;	/* sent on the current connection */
	unsigned hc_connects;	/* connections opened, for tests of keep-alive */
	bool hc_tls;		/* https: every connection is TLS */
	char hc_ca_bundle[1024];	/* "": the system's CA store */
	SSL_CTX *hc_ssl_ctx;	/* made at the first TLS connection */
	SSL *hc_ssl;		/* the current connection's, or NULL */
};

struct http_header {
	const char *h_name;
	const char *h_value;
};

struct http_response {
	int r_status;
	struct strbuf r_body;	/* owned; free with http_response_free */
	bool r_close;		/* the server said Connection: close */
};

void http_conn_init(struct http_conn *c, const char *host, const char *port);
/* Every connection of c from now on is TLS, verified against ca_bundle (a
 * PEM file; NULL or "" for the system's CA store). */
void http_conn_tls(struct http_conn *c, const char *ca_bundle);
/* Sends POST path with the headers (Host, Content-Length and Connection are
 * added) and reads the answer. Returns 0, or -1 with a message. */
int http_post(struct http_conn *c, const char *netloc, const char *path, const struct http_header *headers,
	      size_t nheaders, const void *body, size_t body_len, struct http_response *resp, char *err,
	      size_t err_len);
void http_response_free(struct http_response *r);
/* Closes the connection (and frees the TLS context; made again if c is
 * used again). */
void http_conn_close(struct http_conn *c);

#endif
