/*
 * guard.c — deadlines, room in the connection table and the budget of
 * unauthenticated bytes, for the API's HTTP side (guard.h). I/O thread
 * only.
 */
#include "api/guard.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/base.h"

#define GUARD_CLIENT_BUCKETS 1024	/* of the per-client byte counts */
#define GUARD_EVICT_MIN_AGE_US 500000	/* a connection this new is never evicted */
#define GUARD_SWEEP_MAX_MS 1000
/* Bodies this small are not counted: a connection has one request at a
 * time, so they hold at most max connections x 8 KiB (32 MiB at 4,096),
 * and an attacker holding the budget with large bodies cannot keep an
 * ordinary request (a few hundred bytes) out. */
#define GUARD_SMALL_BODY (8u << 10)

enum peer_state { PEER_WAITING, PEER_BODY, PEER_BUSY, PEER_CLOSING };

struct peer {
	struct peer *p_prev, *p_next;	/* in its state's list (waiting, body), oldest first */
	enum peer_state p_state;
	uint64_t p_since_us;		/* when the state began */
	struct MHD_Connection *p_conn;
	uint32_t p_addr;		/* source IPv4 address, network order; 0 other */
	size_t p_reserved;		/* unauthenticated body bytes reserved */
};

struct peer_list {
	struct peer *pl_head, *pl_tail;
};

/* Bytes reserved by the connections of one source address. */
struct client_bytes {
	uint32_t cb_addr;
	size_t cb_reserved;
	struct client_bytes *cb_next;
};

struct guard {
	struct guard_limits g_limits;
	size_t g_soft_limit;		/* above this, the longest-waiting connection gives way */
	uint64_t g_timeout_us;
	struct peer_list g_waiting, g_body;
	size_t g_connections;		/* open (libmicrohttpd's count), closing ones included */
	size_t g_closing;		/* shut down, not closed yet */
	size_t g_unverified;
	struct client_bytes *g_clients[GUARD_CLIENT_BUCKETS];
};

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct guard *guard_new(const struct guard_limits *limits)
{
	struct guard *g = calloc(1, sizeof(*g));
	if (!g)
		abort();
	g->g_limits = *limits;
	size_t room = limits->gl_max_connections / 16;
	g->g_soft_limit = limits->gl_max_connections - (room ? room : 1);
	g->g_timeout_us = (uint64_t)limits->gl_request_timeout_s * 1000000;
	return g;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < GUARD_CLIENT_BUCKETS; i++)
		for (struct client_bytes *c = g->g_clients[i], *next; c; c = next) {
			next = c->cb_next;
			free(c);
		}
	free(g);
}

static void list_remove(struct peer_list *l, struct peer *p)
{
	if (p->p_prev)
		p->p_prev->p_next = p->p_next;
	else
		l->pl_head = p->p_next;
	if (p->p_next)
		p->p_next->p_prev = p->p_prev;
	else
		l->pl_tail = p->p_prev;
	p->p_prev = p->p_next = NULL;
}

static void list_append(struct peer_list *l, struct peer *p)
{
	p->p_next = NULL;
	p->p_prev = l->pl_tail;
	if (l->pl_tail)
		l->pl_tail->p_next = p;
	else
		l->pl_head = p;
	l->pl_tail = p;
}

static struct peer_list *state_list(struct guard *g, enum peer_state s)
{
	return s == PEER_WAITING ? &g->g_waiting : s == PEER_BODY ? &g->g_body : NULL;
}

/* Moves p to state s, beginning now. A closing connection stays closing. */
static void peer_enter(struct guard *g, struct peer *p, enum peer_state s)
{
	if (p->p_state == PEER_CLOSING)
		return;
	struct peer_list *from = state_list(g, p->p_state), *to = state_list(g, s);
	if (from)
		list_remove(from, p);
	p->p_state = s;
	p->p_since_us = mono_us();
	if (to)
		list_append(to, p);
}

static struct client_bytes **client_slot(struct guard *g, uint32_t addr)
{
	struct client_bytes **c = &g->g_clients[(addr * 2654435761u) % GUARD_CLIENT_BUCKETS];
	while (*c && (*c)->cb_addr != addr)
		c = &(*c)->cb_next;
	return c;
}

static void release(struct guard *g, struct peer *p)
{
	if (!p->p_reserved)
		return;
	g->g_unverified -= p->p_reserved;
	struct client_bytes **slot = client_slot(g, p->p_addr);
	struct client_bytes *c = *slot;
	if (c) {
		c->cb_reserved -= p->p_reserved;
		if (c->cb_reserved == 0) {
			*slot = c->cb_next;
			free(c);
		}
	}
	p->p_reserved = 0;
}

/* Shuts the connection down: libmicrohttpd reads the end of the stream and
 * closes it (guard_on_connection frees the peer then). */
static void peer_close(struct guard *g, struct peer *p, const char *why)
{
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(p->p_conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct peer_list *from = state_list(g, p->p_state);
	if (from)
		list_remove(from, p);
	p->p_state = PEER_CLOSING;
	g->g_closing++;
	release(g, p);
	char addr[16];
	uint32_t a = ntohl(p->p_addr);
	snprintf(addr, sizeof(addr), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	log_debug("api", "closing a connection from %s: %s", addr, why);
	if (fd)
		shutdown(fd->connect_fd, SHUT_RDWR);
}

static struct peer *peer_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *i = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

/* Nearly full: the connections waiting longest for a head give way (idle
 * or slow), so that a new client finds room. libmicrohttpd refuses a
 * connection once the table is full, before the guard hears of it: so
 * this runs both when a connection comes and in the sweep after a burst. */
static void make_room(struct guard *g)
{
	uint64_t now = mono_us();
	struct peer *old;
	while (g->g_connections - g->g_closing > g->g_soft_limit && (old = g->g_waiting.pl_head) &&
	       now - old->p_since_us >= GUARD_EVICT_MIN_AGE_US)
		peer_close(g, old, "the connection table is nearly full and it was waiting longest");
}

void guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	struct guard *g = cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct peer *p = *socket_context;
		if (!p)
			return;
		struct peer_list *from = state_list(g, p->p_state);
		if (from)
			list_remove(from, p);
		release(g, p);
		g->g_connections--;
		if (p->p_state == PEER_CLOSING)
			g->g_closing--;
		free(p);
		*socket_context = NULL;
		return;
	}
	struct peer *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->p_conn = conn;
	p->p_state = PEER_BUSY;		/* so that peer_enter lists it */
	const union MHD_ConnectionInfo *ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET)
		p->p_addr = ((const struct sockaddr_in *)ai->client_addr)->sin_addr.s_addr;
	*socket_context = p;
	g->g_connections++;
	peer_enter(g, p, PEER_WAITING);
	make_room(g);
}

void guard_head_in(struct guard *g, struct MHD_Connection *conn)
{
	struct peer *p = peer_of(conn);
	if (p)
		peer_enter(g, p, PEER_BODY);
}

bool guard_reserve(struct guard *g, struct MHD_Connection *conn, size_t n)
{
	struct peer *p = peer_of(conn);
	if (!p || n <= GUARD_SMALL_BODY)
		return true;
	struct client_bytes **slot = client_slot(g, p->p_addr);
	size_t client = *slot ? (*slot)->cb_reserved : 0;
	if (g->g_unverified + n > g->g_limits.gl_unverified_max ||
	    client + n > g->g_limits.gl_client_unverified_max)
		return false;
	if (!*slot) {
		*slot = calloc(1, sizeof(**slot));
		if (!*slot)
			abort();
		(*slot)->cb_addr = p->p_addr;
	}
	(*slot)->cb_reserved += n;
	g->g_unverified += n;
	p->p_reserved += n;
	return true;
}

void guard_body_in(struct guard *g, struct MHD_Connection *conn)
{
	struct peer *p = peer_of(conn);
	if (!p)
		return;
	release(g, p);
	peer_enter(g, p, PEER_BUSY);
}

void guard_request_done(struct guard *g, struct MHD_Connection *conn)
{
	struct peer *p = peer_of(conn);
	if (!p)
		return;
	release(g, p);
	peer_enter(g, p, PEER_WAITING);
}

int guard_sweep(struct guard *g)
{
	make_room(g);
	uint64_t now = mono_us(), next = now + (uint64_t)GUARD_SWEEP_MAX_MS * 1000;
	struct peer_list *lists[2] = { &g->g_waiting, &g->g_body };
	static const char *const why[2] = { "no complete request head within the request timeout",
					     "the body did not arrive within the request timeout" };
	for (int i = 0; i < 2; i++) {
		struct peer *p;
		while ((p = lists[i]->pl_head) && now - p->p_since_us >= g->g_timeout_us)
			peer_close(g, p, why[i]);
		if (p && p->p_since_us + g->g_timeout_us < next)
			next = p->p_since_us + g->g_timeout_us;
	}
	return (int)((next - now + 999) / 1000);
}

size_t guard_connections(const struct guard *g) { return g->g_connections; }
size_t guard_unverified(const struct guard *g) { return g->g_unverified; }
