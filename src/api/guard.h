/*
 * guard — the HTTP side's defences against clients that would starve the
 * API: how long a connection may take to send a request, which
 * connection gives way when the table is full, and how many bytes of
 * not-yet-authenticated bodies vpcd holds, in all and per client.
 *
 * A connection is in one of three states:
 *   waiting  for a request's head (just accepted, or kept alive after an
 *            answer): it must deliver a whole head within the request
 *            timeout; when the connection table is nearly full, the one
 *            waiting longest is closed to make room (an idle or slowloris
 *            connection, never one with a request under way);
 *   body     head in and its signature's head checked, the body coming:
 *            it must be complete within the request timeout; its bytes
 *            (announced by Content-Length) are reserved first, and
 *            refused when the reservation would pass the bounds;
 *   busy     the request complete: in the API thread or being answered
 *            (libmicrohttpd's own inactivity timeout applies).
 * A connection past its deadline is shut down (shutdown(2)); libmicrohttpd
 * sees the end of the stream and closes it.
 *
 * Everything here runs on the I/O thread (libmicrohttpd's callbacks and
 * the sweep), so nothing is locked. Cost: O(1) per event; a sweep is
 * O(connections closed) (each state's list is in deadline order).
 */
#ifndef VPCD_API_GUARD_H
#define VPCD_API_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guard_limits {
	unsigned gl_max_connections;		/* in all (libmicrohttpd's limit) */
	unsigned gl_max_client_connections;	/* per source address */
	unsigned gl_request_timeout_s;		/* head, body; idle keep-alive */
	size_t gl_unverified_max;		/* bytes of bodies not yet authenticated */
	size_t gl_client_unverified_max;	/* the same, per source address */
};

struct guard;

struct guard *guard_new(const struct guard_limits *limits);
void guard_free(struct guard *g);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard). */
void guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe);

/* A request's head is in: the connection leaves the wait for a head and
 * gets the body deadline. */
void guard_head_in(struct guard *g, struct MHD_Connection *conn);
/* Reserves n bytes of unauthenticated body for the connection's request;
 * false (nothing reserved) when that would pass either bound. Bodies of
 * at most 8 KiB are not counted (bounded by the connection limit). */
bool guard_reserve(struct guard *g, struct MHD_Connection *conn, size_t n);
/* The body is in (or none will be read): the reservation is released and
 * the connection has no deadline of the guard's until its request ends. */
void guard_body_in(struct guard *g, struct MHD_Connection *conn);
/* The request is over (answered, or failed): a kept-alive connection
 * waits for its next head. */
void guard_request_done(struct guard *g, struct MHD_Connection *conn);

/* Shuts down the connections past their deadline; returns the number of
 * milliseconds until the next deadline (at most 1000). */
int guard_sweep(struct guard *g);

/* For the log and the tests: connections open, bytes reserved. */
size_t guard_connections(const struct guard *g);
size_t guard_unverified(const struct guard *g);

#endif
