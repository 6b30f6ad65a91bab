/*
 * engine.c — the engine's threads and queues (engine.h): the change feed
 * followed on the engine thread into its own view (a state replica),
 * connections reconciled there into endpoint tunnels and kernel routes,
 * the network plan built there for the router, tunnel status back to the
 * API thread.
 *
 * The engine thread runs a base/evloop.h loop: the API thread's commit
 * listener rings its doorbell (e_feed_since_us, an atomic: the loop is
 * woken only when it goes from silent to ringing; the work itself is in
 * the feed, so commits while it rings are one ring); its periodic jobs
 * (the tunnel detail, the data plane's counters, BIRD's poll) are the
 * loop's timers, and so is the retry of a follow that could not read the
 * feed (10 ms, doubling to 1 s, until a read works: the engine never
 * waits for another commit to catch up).
 *
 * Events (endpoint loop / engine thread -> API thread, in order) go
 * through a base/queue.h queue whose consumer is the API thread's loop
 * (engine_attach): tunnel statuses (into VgwTelemetry) and each
 * connection's _TunnelDetail (engine_vpn.h), which the engine thread
 * builds from the endpoint's snapshots every ENGINE_VPN_DETAIL_PERIOD_S
 * and at once after an UP/DOWN change (e_detail_due, an atomic flag the
 * endpoint's status callback sets), and posts only when it changed; and
 * the data plane's counters (engine_dataplane.h), read every
 * ENGINE_DP_COUNTERS_PERIOD_S and posted only when they changed. No
 * mutex: the endpoint's status callback waits for nobody, so it cannot
 * deadlock with a control call that waits for the endpoint's loop.
 *
 * Never logs a doc or a spec's key.
 */
#include "engine/engine.h"

#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "base/evloop.h"
#include "base/queue.h"
#include "base/ring.h"
#include "base/strbuf.h"
#include "engine/engine_bgp_side.h"
#include "engine/engine_bgp.h"
#include "engine/engine_bird.h"
#include "engine/engine_dataplane.h"
#include "engine/engine_net.h"
#include "engine/engine_kroute.h"
#include "engine/engine_vpn.h"
#include "model/model.h"
#include "priv/priv.h"
#include "state/resources.h"
#include "vpn/endpoint/endpoint.h"

#define ENGINE_LOG "engine"

/* A follow that cannot read the feed (SQLITE_BUSY past the store's busy
 * timeout, an I/O error) is tried again on the loop's timer, without
 * waiting for another commit: first after ENGINE_FEED_RETRY_FIRST_MS,
 * each failure doubling the wait up to ENGINE_FEED_RETRY_MAX_MS. */
#define ENGINE_FEED_RETRY_FIRST_MS	10
#define ENGINE_FEED_RETRY_MAX_MS	1000

struct engine_event {
	struct queue_node ev_node;	/* on e_events */
	char ev_tunnel[VPN_TUNNEL_ID_MAX];
	bool ev_up;
	bool ev_routes_only;		/* recount AcceptedRouteCount only */
	char ev_cause[IKE_CAUSE_MAX];
	int64_t ev_since;
	/* a _TunnelDetail event: ev_tunnel holds the connection id */
	bool ev_is_detail;
	/* the data plane's counters: ev_detail is the record */
	bool ev_is_counters;
	/* a _Bgp event: ev_tunnel holds the connection id, ev_detail the doc */
	bool ev_is_bgp;
	struct doc *ev_detail;		/* NULL: remove it */
};

/* A live connection, as the engine thread runs it. */
struct engine_conn {
	char c_id[ENGINE_VPN_ID_MAX];
	int64_t c_version;
	bool c_running[ENGINE_VPN_TUNNELS];	/* the endpoint has the tunnel */
	/* its kernel routes: static ones and each tunnel's learned ones */
	struct vpn_cidr c_routes[VPN_MAX_ROUTES * (ENGINE_VPN_TUNNELS + 1)];
	size_t c_nroutes;
	char *c_detail_sig;		/* JSON of the last _TunnelDetail posted, no times */
	int c_port;			/* its tunnels' plaintext side (plain_port) */
	struct doc *c_doc;		/* the trimmed copy it runs (keys: doc_free wipes) */
};

/* A kernel route into the TUN, shared by the connections that have it. */
struct engine_kroute_ref {
	struct vpn_cidr rr_dst;
	unsigned rr_refs;
	bool rr_ours;			/* we added it (so we delete it) */
};

/* The _ConfigVersion last reconciled, per live id (engine thread). */
struct engine_posted {
	char p_id[ENGINE_VPN_ID_MAX];
	int64_t p_version;
	bool p_dynamic;			/* BGP: handed over again when its VPC's blocks change */
	char *p_export;			/* those blocks as last handed over (JSON) */
};

struct engine {
	char e_tun[IFNAMSIZ];
	uint32_t *e_outside;		/* usable outside addresses */
	size_t e_noutside;
	bool e_kernel_routes;
	struct vpn_endpoint *e_ep;
	int e_nl_fd;
	unsigned e_tun_ifindex;

	pthread_t e_thread;
	bool e_thread_started;
	struct evloop *e_loop;			/* the engine thread's; its wakeup: any thread */
	/* the feed's doorbell: 0 silent; else time_mono_us of the first
	 * commit not yet followed (API thread sets, engine thread takes) */
	_Atomic uint64_t e_feed_since_us;
	struct queue e_events;			/* struct engine_event, to the API thread */
	atomic_bool e_detail_due;		/* an UP/DOWN change: refresh now */
	struct evloop_timer e_tm_detail;	/* the next periodic detail refresh */
	struct evloop_timer e_tm_counters;	/* the next counters read */
	struct evloop_timer e_tm_bird;		/* engine_bird_next_ms */
	/* the feed could not be read: the next try (engine thread) */
	struct evloop_timer e_tm_feed_retry;
	uint64_t e_feed_retry_ms;		/* its current wait; 0: the last follow read the feed */
	uint64_t e_feed_behind_us;		/* while retrying: the first unfollowed commit's time */

	struct engine_dataplane *e_dp;		/* NULL: no data plane */
	struct engine_bgp_side *e_bgp_side;	/* with e_ep: bgp0 and the inside addresses */
	struct engine_bird *e_bird;		/* BIRD for dynamic connections (with e_ep) */

	/* engine thread only */
	struct net_counters e_counters_last;	/* as last posted */
	bool e_counters_posted;
	struct engine_conn *e_conns;
	size_t e_nconns, e_capconns;
	struct engine_kroute_ref *e_routes;
	size_t e_nroutes, e_caproutes;
	/* With the data plane: the endpoint's plaintext sides, one per VPN
	 * gateway (its port in the router); e_port_vgw[k] is side k's VGW,
	 * "" free. e_nports 0: one side (the TUN), every tunnel on side 0. */
	size_t e_nports;
	char e_port_vgw[VPN_PLAIN_PORTS_MAX][ENGINE_VPN_ID_MAX];
	bool e_ports_full_logged;
	/* side k's rings (the router's VPN gateway port k): to the endpoint,
	 * to the router; owned here, freed after both threads stopped */
	struct ring *e_to_ep[VPN_PLAIN_PORTS_MAX], *e_to_router[VPN_PLAIN_PORTS_MAX];
	size_t e_nrings;

	/* engine thread only: its view of the desired state, followed from
	 * the feed (set by engine_attach before the thread first reads it) */
	struct state_replica *e_replica;
	struct engine_posted *e_posted;
	size_t e_nposted, e_capposted;
	uint64_t e_plans;			/* network plans built and applied */

	/* API thread only (the state's owner) */
	struct state *e_state;			/* engine_attach: observed state written */
};

static void *grow(void *p, size_t *cap, size_t size)
{
	*cap = *cap ? *cap * 2 : 16;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

static void cidr_text(const struct vpn_cidr *c, char *buf)
{
	struct cidr4 m = { c->addr, c->prefix_len };
	cidr_format(&m, buf);
}

/* ---- events: endpoint loop / engine thread -> API thread ------------------ */

static void event_free(struct engine_event *ev);

/* Any thread: ev (taken) to the API thread, which is woken when it had
 * taken every event before (base/queue.h). */
static void event_queue(struct engine *e, struct engine_event *ev)
{
	if (!queue_push(&e->e_events, &ev->ev_node))	/* never closed; kept honest */
		event_free(ev);
}

static void event_post(struct engine *e, const char *tunnel_id, bool up, const char *cause,
		       int64_t since, bool routes_only)
{
	struct engine_event *ev = calloc(1, sizeof(*ev));
	if (!ev)
		abort();
	snprintf(ev->ev_tunnel, sizeof(ev->ev_tunnel), "%s", tunnel_id);
	snprintf(ev->ev_cause, sizeof(ev->ev_cause), "%s", cause ? cause : "");
	ev->ev_up = up;
	ev->ev_since = since;
	ev->ev_routes_only = routes_only;
	event_queue(e, ev);
}

/* The endpoint's status callback (its loop thread): queue and wake; the
 * engine thread refreshes the connection's _TunnelDetail at once. */
static void on_tunnel_status(void *arg, const char *tunnel_id, bool up, const char *cause,
			     int64_t since_unix)
{
	struct engine *e = arg;
	event_post(e, tunnel_id, up, cause, since_unix, false);
	if (!atomic_exchange(&e->e_detail_due, true))	/* woken already otherwise */
		evloop_wakeup(e->e_loop);
}

/* Engine thread: connection id's _TunnelDetail (NULL: remove it) to the
 * API thread, or (id NULL) the data plane's counters record, or (bgp) the
 * connection's _Bgp. Takes detail. */
static void doc_event_post(struct engine *e, const char *id, struct doc *detail, bool bgp)
{
	struct engine_event *ev = calloc(1, sizeof(*ev));
	if (!ev)
		abort();
	snprintf(ev->ev_tunnel, sizeof(ev->ev_tunnel), "%s", id ? id : "");
	ev->ev_is_bgp = bgp;
	ev->ev_is_detail = id != NULL && !bgp;
	ev->ev_is_counters = id == NULL;
	ev->ev_detail = detail;
	event_queue(e, ev);
}

static void detail_post(struct engine *e, const char *id, struct doc *detail)
{
	doc_event_post(e, id, detail, false);
}

static void event_free(struct engine_event *ev)
{
	doc_free(ev->ev_detail);
	free(ev);
}

/* API thread, inside a state change: the status into VgwTelemetry. */
static int apply_event(struct state *st, const struct engine_event *ev)
{
	char id[ENGINE_VPN_ID_MAX];
	int index;
	if (!engine_vpn_tunnel_id_parse(ev->ev_tunnel, id, &index))
		return 0;
	/* a deleted connection still shows its telemetry (its tunnels' last
	 * word is DOWN "removed"); a purged one is gone */
	struct res *r = cache_get_typed(state_cache(st), RT_VPN, id);
	if (!r)
		return 0;
	struct doc *d = doc_clone(r->r_doc);
	if (!engine_vpn_telemetry_apply(d, index, ev->ev_up, ev->ev_cause, ev->ev_since,
					ev->ev_routes_only)) {
		doc_free(d);
		return 0;
	}
	if (!ev->ev_routes_only)
		log_debug(ENGINE_LOG, "telemetry %s: %s%s%s", ev->ev_tunnel, ev->ev_up ? "UP" : "DOWN",
			  ev->ev_up ? "" : ": ", ev->ev_up ? "" : ev->ev_cause);
	return state_put(st, RT_VPN, id, d, NULL) ? 0 : -1;
}

/* API thread, inside a state change: _TunnelDetail into the connection's
 * doc (a deleted connection keeps none). */
static int apply_detail(struct state *st, const struct engine_event *ev)
{
	struct res *r = cache_get_typed(state_cache(st), RT_VPN, ev->ev_tunnel);
	if (!r || (!ev->ev_detail && !doc_get(r->r_doc, ENGINE_VPN_DETAIL_KEY)))
		return 0;
	if (ev->ev_detail && engine_vpn_is_deleted(r->r_doc))
		return 0;
	struct doc *d = doc_clone(r->r_doc);
	if (ev->ev_detail)
		doc_set(d, ENGINE_VPN_DETAIL_KEY, doc_clone(ev->ev_detail));
	else
		doc_remove(d, ENGINE_VPN_DETAIL_KEY);
	return state_put(st, RT_VPN, ev->ev_tunnel, d, NULL) ? 0 : -1;
}

/* API thread, inside a state change: _Bgp into the connection's doc, and
 * its telemetry re-derived from it (engine_vpn_bgp_apply); a deleted
 * connection keeps what it had. */
static int apply_bgp(struct state *st, const struct engine_event *ev)
{
	struct res *r = cache_get_typed(state_cache(st), RT_VPN, ev->ev_tunnel);
	if (!r || engine_vpn_is_deleted(r->r_doc))
		return 0;
	struct doc *d = doc_clone(r->r_doc);
	if (!engine_vpn_bgp_apply(d, ev->ev_detail, time_wall_s())) {
		doc_free(d);
		return 0;
	}
	return state_put(st, RT_VPN, ev->ev_tunnel, d, NULL) ? 0 : -1;
}

/* API thread, inside a state change: the data plane's counters record
 * (engine_dataplane.h). "Running": false only replaces a record there. */
static int apply_counters(struct state *st, const struct engine_event *ev)
{
	struct res *r = cache_get_typed(state_cache(st), ENGINE_DP_COUNTERS_TYPE, ENGINE_DP_COUNTERS_ID);
	if (!ev->ev_detail || (!r && !doc_get_bool(ev->ev_detail, "Running", false)))
		return 0;
	return state_put(st, ENGINE_DP_COUNTERS_TYPE, ENGINE_DP_COUNTERS_ID, doc_clone(ev->ev_detail), NULL)
		       ? 0
		       : -1;
}

#define EVENT_OF(n) QUEUE_ITEM(n, struct engine_event, ev_node)

void engine_observe(struct engine *e)
{
	struct state *st = e->e_state;
	for (struct queue_node *n = queue_take_all(&e->e_events), *next; n; n = next) {
		next = n->qn_next;
		struct engine_event *ev = EVENT_OF(n);
		const char *what = ev->ev_is_bgp ? "BGP" : ev->ev_is_counters ? "data plane counters"
							: ev->ev_is_detail ? "tunnel detail" : "tunnel status";
		if (st) {
			state_change_begin(st);
			int rc = ev->ev_is_bgp ? apply_bgp(st, ev)
				 : ev->ev_is_counters ? apply_counters(st, ev)
				 : ev->ev_is_detail ? apply_detail(st, ev) : apply_event(st, ev);
			if (state_change_end(st, rc) < 0)
				log_error(ENGINE_LOG, "%s not stored: %s", what, state_error(st));
		}
		event_free(ev);
	}
}

/* ---- following the feed (engine thread) ------------------------------------- */

static struct engine_posted *posted_find(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->e_nposted; i++)
		if (strcmp(e->e_posted[i].p_id, id) == 0)
			return &e->e_posted[i];
	return NULL;
}

/* Engine thread: the CIDR blocks (primary, then the other associated ones)
 * of the VPC that VPN gateway vgw_id is attached to: what BGP advertises
 * for its dynamic connections. A new list, empty when it is attached to
 * none. */
static struct doc *vgw_exports(struct cache *cache, const char *vgw_id)
{
	struct doc *list = doc_list();
	struct res *g = vgw_id && cache ? cache_get_typed(cache, RT_VGW, vgw_id) : NULL;
	const char *vpc_id = NULL;
	if (g)
		doc_foreach(a, doc_get(g->r_doc, "VpcAttachments")) {
			const char *st = doc_get_str(a, "State");
			if (doc_get_str(a, "VpcId") && st && strcmp(st, "attached") == 0)
				vpc_id = doc_get_str(a, "VpcId");
		}
	struct res *v = vpc_id ? cache_get_typed(cache, RT_VPC, vpc_id) : NULL;
	if (!v)
		return list;
	const char *primary = doc_get_str(v->r_doc, "CidrBlock");
	if (primary)
		doc_push(list, doc_str(primary));
	doc_foreach(a, doc_get(v->r_doc, "CidrBlockAssociationSet")) {
		const char *cidr = doc_get_str(a, "CidrBlock");
		const char *st = doc_get_str(doc_get(a, "CidrBlockState"), "State");
		if (cidr && st && strcmp(st, "associated") == 0 && (!primary || strcmp(cidr, primary) != 0))
			doc_push(list, doc_str(cidr));
	}
	return list;
}

static bool vpn_dynamic(const struct doc *vpn)
{
	const struct doc *opts = doc_get(vpn, "Options");
	return opts && !doc_get_bool(opts, "StaticRoutesOnly", false);
}

static void reconcile(struct engine *e, const char *id, struct doc *doc);

/* Engine thread, for each VPN connection the feed says changed (doc NULL:
 * deleted; the view's doc): reconcile what moved (for a dynamic connection
 * also when its VPC's CIDR blocks did) from a trimmed copy. */
static void vpn_changed(struct engine *e, const char *id, const struct doc *doc)
{
	struct engine_posted *p = posted_find(e, id);
	if (strlen(id) >= ENGINE_VPN_ID_MAX)
		return;
	if (!doc || engine_vpn_is_deleted(doc)) {
		if (p) {
			free(p->p_export);
			*p = e->e_posted[--e->e_nposted];
			reconcile(e, id, NULL);
		}
		return;
	}
	int64_t version = doc_get_int(doc, "_ConfigVersion", 0);
	bool dynamic = vpn_dynamic(doc);
	struct doc *exports = dynamic ? vgw_exports(state_replica_cache(e->e_replica), doc_get_str(doc, "VpnGatewayId"))
				      : NULL;
	struct strbuf json = STRBUF_INIT;
	if (exports)
		doc_to_json(exports, &json);
	if (p && p->p_version == version && p->p_dynamic == dynamic &&
	    (!dynamic || (p->p_export && strcmp(p->p_export, sb_str(&json)) == 0))) {
		doc_free(exports);	/* e.g. our own telemetry update */
		sb_free(&json);
		return;
	}
	if (!p) {
		if (e->e_nposted == e->e_capposted)
			e->e_posted = grow(e->e_posted, &e->e_capposted, sizeof(*e->e_posted));
		p = &e->e_posted[e->e_nposted++];
		memset(p, 0, sizeof(*p));
		snprintf(p->p_id, sizeof(p->p_id), "%s", id);
	}
	p->p_version = version;
	p->p_dynamic = dynamic;
	free(p->p_export);
	p->p_export = dynamic ? sb_detach(&json) : NULL;
	sb_free(&json);
	struct doc *trimmed = engine_vpn_trim(doc);
	if (exports)
		doc_set(trimmed, ENGINE_BGP_EXPORT_KEY, exports);
	reconcile(e, id, trimmed);
}

/* Engine thread, after a batch that touched the network: dynamic connections
 * whose VPC CIDR blocks changed (a block associated, the gateway attached)
 * are handed over again. */
static void exports_recheck(struct engine *e, struct cache *cache)
{
	for (size_t i = 0; i < e->e_nposted; i++) {
		if (!e->e_posted[i].p_dynamic)
			continue;
		struct res *r = cache_get_typed(cache, RT_VPN, e->e_posted[i].p_id);
		if (r && !engine_vpn_is_deleted(r->r_doc))
			vpn_changed(e, r->r_id, r->r_doc);
	}
}

/* ---- kernel routes (engine thread) --------------------------------------------- */

static struct engine_kroute_ref *route_find(struct engine *e, const struct vpn_cidr *c)
{
	for (size_t i = 0; i < e->e_nroutes; i++)
		if (e->e_routes[i].rr_dst.addr == c->addr && e->e_routes[i].rr_dst.prefix_len == c->prefix_len)
			return &e->e_routes[i];
	return NULL;
}

static void route_ref(struct engine *e, const struct vpn_cidr *c)
{
	struct engine_kroute_ref *rr = route_find(e, c);
	if (rr) {
		rr->rr_refs++;
		return;
	}
	if (e->e_nroutes == e->e_caproutes)
		e->e_routes = grow(e->e_routes, &e->e_caproutes, sizeof(*e->e_routes));
	rr = &e->e_routes[e->e_nroutes++];
	*rr = (struct engine_kroute_ref){ *c, 1, false };
	if (!e->e_kernel_routes)
		return;
	char text[CIDR_STR_MAX];
	cidr_text(c, text);
	int rc = engine_kroute_change(e->e_nl_fd, true, e->e_tun_ifindex, c->addr, c->prefix_len);
	if (rc == 0) {
		rr->rr_ours = true;
		log_info(ENGINE_LOG, "route %s dev %s added", text, e->e_tun);
	} else if (rc == -EEXIST) {
		log_warn(ENGINE_LOG, "route %s exists already (not vpcd's): left as it is, so packets "
			 "to %s may not reach the VPN", text, text);
	} else {
		log_error(ENGINE_LOG, "cannot add route %s dev %s: %s", text, e->e_tun, strerror(-rc));
	}
}

static void route_unref(struct engine *e, const struct vpn_cidr *c)
{
	struct engine_kroute_ref *rr = route_find(e, c);
	if (!rr || --rr->rr_refs)
		return;
	if (rr->rr_ours) {
		char text[CIDR_STR_MAX];
		cidr_text(c, text);
		int rc = engine_kroute_change(e->e_nl_fd, false, e->e_tun_ifindex, c->addr, c->prefix_len);
		if (rc == 0 || rc == -ESRCH)
			log_info(ENGINE_LOG, "route %s dev %s removed", text, e->e_tun);
		else
			log_error(ENGINE_LOG, "cannot remove route %s dev %s: %s", text, e->e_tun,
				  strerror(-rc));
	}
	*rr = e->e_routes[--e->e_nroutes];
}

static bool cidr_in(const struct vpn_cidr *c, const struct vpn_cidr *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].addr == c->addr && set[i].prefix_len == c->prefix_len)
			return true;
	return false;
}

/* The connection's routes become want[]: new ones first, so that a
 * prefix moving between connections never leaves the kernel. */
static void conn_routes_set(struct engine *e, struct engine_conn *c, const struct vpn_cidr *want,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!cidr_in(&want[i], c->c_routes, c->c_nroutes))
			route_ref(e, &want[i]);
	for (size_t i = 0; i < c->c_nroutes; i++)
		if (!cidr_in(&c->c_routes[i], want, n))
			route_unref(e, &c->c_routes[i]);
	if (n)
		memcpy(c->c_routes, want, n * sizeof(*want));
	c->c_nroutes = n;
}

/* ---- reconciling (engine thread) ------------------------------------------------- */

static struct engine_conn *conn_find(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->e_nconns; i++)
		if (strcmp(e->e_conns[i].c_id, id) == 0)
			return &e->e_conns[i];
	return NULL;
}

static bool outside_usable(const struct engine *e, uint32_t ip)
{
	for (size_t i = 0; i < e->e_noutside; i++)
		if (e->e_outside[i] == ip)
			return true;
	return false;
}

static void conn_stop_tunnel(struct engine *e, struct engine_conn *c, int index)
{
	if (!c->c_running[index])
		return;
	char tid[VPN_TUNNEL_ID_MAX];
	engine_vpn_tunnel_id(c->c_id, index, tid);
	vpn_endpoint_remove_tunnel(e->e_ep, tid);
	c->c_running[index] = false;
}

static void conn_remove(struct engine *e, struct engine_conn *c)
{
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++)
		conn_stop_tunnel(e, c, i);
	conn_routes_set(e, c, NULL, 0);
	engine_bgp_side_set(e->e_bgp_side, c->c_id, NULL, 0);
	if (c->c_detail_sig)
		detail_post(e, c->c_id, NULL);
	free(c->c_detail_sig);
	doc_free(c->c_doc);
	*c = e->e_conns[--e->e_nconns];
}

static void log_plan_limits(const struct engine_vpn_plan *plan)
{
	if (plan->vp_routes_dropped)
		log_warn(ENGINE_LOG, "%s: %zu static routes beyond %d are not carried (the endpoint's "
			 "limit per tunnel)", plan->vp_id, plan->vp_routes_dropped, VPN_MAX_ROUTES);
}

/* Engine thread: the plaintext side of VPN gateway vgw (given one if it
 * has none); 0 without per-gateway sides; -1 when every side is taken. */
static int vgw_port(struct engine *e, const char *vgw)
{
	if (!e->e_nports)
		return 0;
	if (!vgw || !*vgw || strlen(vgw) >= ENGINE_VPN_ID_MAX)
		return -1;
	int free_k = -1;
	for (size_t k = 0; k < e->e_nports; k++) {
		if (strcmp(e->e_port_vgw[k], vgw) == 0)
			return (int)k;
		if (free_k < 0 && !e->e_port_vgw[k][0])
			free_k = (int)k;
	}
	if (free_k < 0) {
		if (!e->e_ports_full_logged)
			log_error(ENGINE_LOG, "%s: more than %zu VPN gateways: its tunnels do not run", vgw,
				  e->e_nports);
		e->e_ports_full_logged = true;
		return -1;
	}
	snprintf(e->e_port_vgw[free_k], sizeof(e->e_port_vgw[free_k]), "%s", vgw);
	log_info(ENGINE_LOG, "%s: plaintext side %d of the VPN endpoint", vgw, free_k);
	return free_k;
}

/* Engine thread, before a plan is applied: each VPN gateway's side into
 * plan->np_gw_port; sides of gateways gone (and used by no connection)
 * are freed first. */
static void ports_assign(struct engine *e, struct engine_net_plan *plan)
{
	if (!e->e_nports)
		return;
	for (size_t k = 0; k < e->e_nports; k++) {
		if (!e->e_port_vgw[k][0])
			continue;
		bool used = false;
		for (size_t i = 0; i < plan->np_cfg.n_gateways && !used; i++)
			used = strcmp(plan->np_gateways[i].id, e->e_port_vgw[k]) == 0;
		for (size_t i = 0; i < e->e_nconns && !used; i++)
			used = e->e_conns[i].c_port == (int)k;
		if (!used) {
			e->e_port_vgw[k][0] = '\0';
			e->e_ports_full_logged = false;
		}
	}
	for (size_t i = 0; i < plan->np_cfg.n_gateways; i++)
		if (plan->np_gateways[i].kind == NET_GW_VGW)
			plan->np_gw_port[i] = vgw_port(e, plan->np_gateways[i].id);
}

/* Engine thread: BGP's learned prefixes of each tunnel of plan's
 * connection appended to its spec's routes (after the static ones, up to
 * VPN_MAX_ROUTES). */
static void plan_add_learned(struct engine *e, struct engine_vpn_plan *plan)
{
	if (!e->e_bird)
		return;
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		struct vpn_tunnel_spec *spec = &plan->vp_tunnel[i];
		spec->n_routes += engine_bird_routes(e->e_bird, plan->vp_id, (unsigned)i, spec->routes + spec->n_routes,
						     VPN_MAX_ROUTES - spec->n_routes);
	}
}

/* Kernel routes of a connection: its static routes and what its tunnels
 * learned through BGP, once each. */
static void conn_routes_apply(struct engine *e, struct engine_conn *c, const struct engine_vpn_plan *plan)
{
	struct vpn_cidr want[VPN_MAX_ROUTES * (ENGINE_VPN_TUNNELS + 1)];
	size_t n = 0;
	for (size_t k = 0; k < plan->vp_nroutes; k++)
		want[n++] = plan->vp_routes[k];
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		const struct vpn_tunnel_spec *spec = &plan->vp_tunnel[i];
		for (size_t k = 0; k < spec->n_routes; k++)
			if (!cidr_in(&spec->routes[k], want, n))
				want[n++] = spec->routes[k];
	}
	conn_routes_set(e, c, want, n);
}

/* Engine thread (engine_bird's hook): connection id's learned prefixes
 * changed: its running tunnels get them in place (the endpoint changes
 * routes without touching the SAs). */
static void on_bgp_routes(void *arg, const char *id)
{
	struct engine *e = arg;
	struct engine_conn *c = conn_find(e, id);
	struct engine_vpn_plan plan;
	char why[ENGINE_VPN_ERROR_MAX];
	if (!c || !c->c_doc || engine_vpn_plan(c->c_doc, &plan, why, sizeof(why)) < 0)
		return;
	plan_add_learned(e, &plan);
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		struct vpn_tunnel_spec *spec = &plan.vp_tunnel[i];
		if (!c->c_running[i])
			continue;
		if (c->c_port >= 0)
			spec->plain_port = (uint8_t)c->c_port;
		if (vpn_endpoint_update_tunnel(e->e_ep, spec) < 0)
			log_error(ENGINE_LOG, "%s: cannot give the tunnel its BGP routes", spec->id);
	}
	log_info(ENGINE_LOG, "%s: BGP routes into its tunnels: %zu and %zu", id, plan.vp_tunnel[0].n_routes,
		 plan.vp_tunnel[1].n_routes);
	conn_routes_apply(e, c, &plan);
	engine_vpn_plan_wipe(&plan);
}

/* Engine thread (engine_bird's hook, at each of its polls): bgp0 tried
 * again when it could not be opened and its backoff is over; then why the
 * endpoint's BGP side cannot run, "" when it can. */
static const char *on_bgp_side_error(void *arg)
{
	struct engine *e = arg;
	engine_bgp_side_retry(e->e_bgp_side, time_mono_ms());
	return engine_bgp_side_error(e->e_bgp_side);
}

/* Engine thread (engine_bird's hook): a connection's _Bgp to the API thread. */
static void on_bgp_post(void *arg, const char *id, struct doc *bgp)
{
	doc_event_post(arg, id, bgp, true);
}

/* Takes doc (kept as the connection's c_doc, or freed). */
static void reconcile(struct engine *e, const char *id, struct doc *doc)
{
	struct engine_conn *c = conn_find(e, id);
	if (e->e_bird)
		engine_bird_conn_set(e->e_bird, id, doc);
	if (!doc || engine_vpn_is_deleted(doc)) {
		if (c) {
			log_info(ENGINE_LOG, "%s: deleted; removing its tunnels", id);
			conn_remove(e, c);
		}
		doc_free(doc);
		return;
	}
	struct engine_vpn_plan plan;
	char why[ENGINE_VPN_ERROR_MAX];
	if (engine_vpn_plan(doc, &plan, why, sizeof(why)) < 0) {
		log_error(ENGINE_LOG, "%s: cannot run this connection: %s", id, why);
		if (c)
			conn_remove(e, c);
		char cause[IKE_CAUSE_MAX], tid[VPN_TUNNEL_ID_MAX];
		snprintf(cause, sizeof(cause), "vpcd cannot run this connection: %s", why);
		for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
			engine_vpn_tunnel_id(id, i, tid);
			event_post(e, tid, false, cause, time_wall_s(), false);
		}
		engine_vpn_plan_wipe(&plan);
		doc_free(doc);
		return;
	}
	if (c && c->c_version == plan.vp_version) {
		doc_free(c->c_doc);	/* the same, perhaps with other VPC blocks */
		c->c_doc = doc;
		engine_vpn_plan_wipe(&plan);
		return;
	}
	log_info(ENGINE_LOG, "%s: configuration %lld: reconciling its tunnels", id,
		 (long long)plan.vp_version);
	if (!c) {
		if (e->e_nconns == e->e_capconns)
			e->e_conns = grow(e->e_conns, &e->e_capconns, sizeof(*e->e_conns));
		c = &e->e_conns[e->e_nconns++];
		memset(c, 0, sizeof(*c));
		snprintf(c->c_id, sizeof(c->c_id), "%s", id);
		log_plan_limits(&plan);	/* once: they rarely change */
	}
	c->c_version = plan.vp_version;
	doc_free(c->c_doc);
	c->c_doc = doc;
	int port = vgw_port(e, doc_get_str(doc, "VpnGatewayId"));
	c->c_port = port;
	plan_add_learned(e, &plan);
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		struct vpn_tunnel_spec *spec = &plan.vp_tunnel[i];
		char cause[IKE_CAUSE_MAX] = "";
		if (port >= 0)
			spec->plain_port = (uint8_t)port;
		if (plan.vp_error[i][0]) {
			snprintf(cause, sizeof(cause), "vpcd cannot run this tunnel: %s", plan.vp_error[i]);
		} else if (port < 0) {
			snprintf(cause, sizeof(cause), "vpcd cannot run this tunnel: more than %d VPN "
				 "gateways have connections", VPN_PLAIN_PORTS_MAX);
		} else if (!outside_usable(e, spec->local_ip)) {
			char ip[IP4_STR_MAX];
			ip4_format(spec->local_ip, ip);
			snprintf(cause, sizeof(cause), "vpcd cannot run this tunnel: outside address %s "
				 "is not an address of this host", ip);
		}
		if (cause[0]) {
			conn_stop_tunnel(e, c, i);
			log_error(ENGINE_LOG, "%s: %s", spec->id, cause);
			event_post(e, spec->id, false, cause, time_wall_s(), false);
			continue;
		}
		if (c->c_running[i]) {
			if (vpn_endpoint_update_tunnel(e->e_ep, spec) == 0) {
				/* the static routes may have changed: recount */
				event_post(e, spec->id, false, "", 0, true);
				continue;
			}
			conn_stop_tunnel(e, c, i);	/* refused: start it afresh */
		}
		if (vpn_endpoint_add_tunnel(e->e_ep, spec) == 0) {
			c->c_running[i] = true;
		} else {
			event_post(e, spec->id, false, "vpcd could not start this tunnel (see vpcd's log)",
				   time_wall_s(), false);
		}
	}
	conn_routes_apply(e, c, &plan);
	engine_bgp_side_plan(e->e_bgp_side, &plan);
	engine_vpn_plan_wipe(&plan);
}

/* Engine thread: each running connection's _TunnelDetail, posted when
 * something but the times changed since the last one. */
static void detail_refresh(struct engine *e)
{
	struct vpn_tunnel_status *snap = calloc(ENGINE_VPN_TUNNELS, sizeof(*snap));
	if (!snap)
		abort();
	int64_t now = time_wall_s();
	for (size_t k = 0; k < e->e_nconns; k++) {
		struct engine_conn *c = &e->e_conns[k];
		const struct vpn_tunnel_status *st[ENGINE_VPN_TUNNELS];
		for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
			char tid[VPN_TUNNEL_ID_MAX];
			engine_vpn_tunnel_id(c->c_id, i, tid);
			st[i] = c->c_running[i] && vpn_endpoint_tunnel_status(e->e_ep, tid, &snap[i])
					? &snap[i] : NULL;
		}
		struct doc *sig = engine_vpn_detail(st, now, false);
		struct strbuf json = STRBUF_INIT;
		doc_to_json(sig, &json);
		doc_free(sig);
		if (c->c_detail_sig && strcmp(c->c_detail_sig, sb_str(&json)) == 0) {
			sb_free(&json);
			continue;
		}
		free(c->c_detail_sig);
		c->c_detail_sig = strdup(sb_str(&json));
		sb_free(&json);
		if (!c->c_detail_sig)
			abort();
		detail_post(e, c->c_id, engine_vpn_detail(st, now, true));
	}
	free(snap);
}

/* Engine thread: the data plane's counters, posted when they changed
 * since the last post. */
static void counters_refresh(struct engine *e)
{
	struct net_counters c;
	if (!engine_dataplane_counters(e->e_dp, &c))
		return;
	if (e->e_counters_posted && memcmp(&c, &e->e_counters_last, sizeof(c)) == 0)
		return;
	e->e_counters_last = c;
	e->e_counters_posted = true;
	detail_post(e, NULL, engine_dataplane_counters_doc(&c, time_wall_s(), (int64_t)getpid()));
}

/* ---- the engine thread's loop ---------------------------------------------- */

/* Timer: the tunnel detail, every ENGINE_VPN_DETAIL_PERIOD_S (and at once
 * after an UP/DOWN change, which starts the period again). */
static void detail_due(void *arg, uint64_t now)
{
	struct engine *e = arg;
	detail_refresh(e);
	evloop_timer_set(e->e_loop, &e->e_tm_detail, now + ENGINE_VPN_DETAIL_PERIOD_S * 1000,
			 detail_due, e);
}

/* Timer: the data plane's counters, every ENGINE_DP_COUNTERS_PERIOD_S. */
static void counters_due(void *arg, uint64_t now)
{
	struct engine *e = arg;
	counters_refresh(e);
	evloop_timer_set(e->e_loop, &e->e_tm_counters, now + ENGINE_DP_COUNTERS_PERIOD_S * 1000,
			 counters_due, e);
}

static void bird_due(void *arg, uint64_t now)
{
	struct engine *e = arg;
	engine_bird_run(e->e_bird, now);
}

/* Prepare hook: BIRD's next deadline, which its runs and the work of the
 * round may have moved, as the loop's timer. */
static bool engine_prepare(void *arg)
{
	struct engine *e = arg;
	uint64_t next = e->e_bird ? engine_bird_next_ms(e->e_bird) : UINT64_MAX;
	if (next == UINT64_MAX)
		evloop_timer_cancel(e->e_loop, &e->e_tm_bird);
	else
		evloop_timer_set(e->e_loop, &e->e_tm_bird, next, bird_due, e);
	return true;
}

static bool feed_follow(struct engine *e, uint64_t commit_us);

static void feed_retry_due(void *arg, uint64_t now);

/* Engine thread: one follow of the feed, commit_us the first unfollowed
 * commit's time. A follow that cannot read the feed starts a spell of
 * retries on e_tm_feed_retry (the replica logs its first failure and the
 * read that ends it, not each retry); a follow that reads it, whether the
 * doorbell's or the timer's, ends the spell. A doorbell during a spell
 * follows at once as usual and leaves the timer's wait as it is. */
static void feed_try(struct engine *e, uint64_t commit_us, uint64_t now)
{
	if (e->e_feed_retry_ms && e->e_feed_behind_us < commit_us)
		commit_us = e->e_feed_behind_us;	/* behind since then */
	if (feed_follow(e, commit_us)) {
		if (e->e_feed_retry_ms)
			evloop_timer_cancel(e->e_loop, &e->e_tm_feed_retry);
		e->e_feed_retry_ms = 0;
		return;
	}
	if (!e->e_feed_retry_ms) {
		e->e_feed_retry_ms = ENGINE_FEED_RETRY_FIRST_MS;
		e->e_feed_behind_us = commit_us;
		evloop_timer_set(e->e_loop, &e->e_tm_feed_retry, now + e->e_feed_retry_ms, feed_retry_due, e);
	}
}

/* Timer: the feed tried again after e_feed_retry_ms; another failure
 * doubles the wait, up to ENGINE_FEED_RETRY_MAX_MS. */
static void feed_retry_due(void *arg, uint64_t now)
{
	struct engine *e = arg;
	if (feed_follow(e, e->e_feed_behind_us)) {
		e->e_feed_retry_ms = 0;
		return;
	}
	e->e_feed_retry_ms *= 2;
	if (e->e_feed_retry_ms > ENGINE_FEED_RETRY_MAX_MS)
		e->e_feed_retry_ms = ENGINE_FEED_RETRY_MAX_MS;
	evloop_timer_set(e->e_loop, &e->e_tm_feed_retry, now + e->e_feed_retry_ms, feed_retry_due, e);
}

/* Wakeup: the feed followed while its doorbell rings (batches committed
 * while the engine works are read together), then, after an UP/DOWN
 * change, the detail at once. Stops between follows when the engine
 * stops. */
static void engine_woken(void *arg, uint64_t now)
{
	struct engine *e = arg;
	while (!evloop_stopping(e->e_loop)) {
		/* silent again before the follow: a commit during it rings anew */
		uint64_t commit_us = atomic_exchange(&e->e_feed_since_us, 0);
		if (!commit_us)
			break;
		feed_try(e, commit_us, now);
	}
	bool detail_now = atomic_exchange(&e->e_detail_due, false) && e->e_ep;
	if (detail_now && !evloop_stopping(e->e_loop))
		detail_due(e, now);
}

static void *engine_main(void *arg)
{
	struct engine *e = arg;
	uint64_t now = time_mono_ms();
	if (e->e_ep)	/* the first of each at once */
		evloop_timer_set(e->e_loop, &e->e_tm_detail, now, detail_due, e);
	if (e->e_dp)
		evloop_timer_set(e->e_loop, &e->e_tm_counters, now, counters_due, e);
	if (evloop_run(e->e_loop) < 0)
		log_error(ENGINE_LOG, "engine loop: %s; the engine thread stops", strerror(errno));
	return NULL;
}

/* ---- life ---------------------------------------------------------------------- */

/* An address of this host is one a UDP socket can bind to. */
static int address_check(uint32_t ip)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(ip) };
	int rc = bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? -errno : 0;
	close(s);
	return rc;
}

/* The data plane needs CAP_NET_ADMIN (TAPs, addresses, routes) and
 * CAP_SYS_ADMIN (network namespaces, setns) in the effective set (of the
 * privileged helper, when vpcd is privilege-separated). */
bool engine_dataplane_capable(char *why, size_t len)
{
	if (priv_remote())
		return priv_dataplane_check(why, len);
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(why, len, "capget: %s", strerror(errno));
		return false;
	}
	bool net_admin = data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
	bool sys_admin = data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
	if (!net_admin || !sys_admin) {
		snprintf(why, len, "vpcd runs without %s%s%s (run it as root)", net_admin ? "" : "CAP_NET_ADMIN",
			 !net_admin && !sys_admin ? " and " : "", sys_admin ? "" : "CAP_SYS_ADMIN");
		return false;
	}
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		snprintf(why, len, "/dev/net/tun: %s", strerror(errno));
		return false;
	}
	return true;
}

/* Slots per ring: 1,024 packets of one MTU each way per VPN gateway
 * (2.4 MB; pages touched only as a gateway's traffic uses them), about
 * 11 ms at 1 Gbit/s of 1,400-byte packets before the producer drops. */
#define ENGINE_RING_SLOTS 1024

/* The VPN half: usable outside addresses, the endpoint (its plaintext side
 * the TUN, or one per VPN gateway: the ring pairs e_to_ep/e_to_router,
 * nrings of them). false: no tunnel runs (logged). */
static bool vpn_start(struct engine *e, const struct engine_config *cfg, size_t nrings)
{
	for (size_t i = 0; i < cfg->ec_noutside; i++) {
		char ip[IP4_STR_MAX];
		ip4_format(cfg->ec_outside[i], ip);
		int rc = address_check(cfg->ec_outside[i]);
		if (rc == 0)
			e->e_outside[e->e_noutside++] = cfg->ec_outside[i];
		else
			log_error(ENGINE_LOG, "outside address %s: %s; tunnels on it stay DOWN (add the "
				  "address to an interface and restart vpcd)", ip,
				  rc == -EADDRNOTAVAIL ? "not an address of this host" : strerror(-rc));
	}
	if (!e->e_noutside) {
		log_error(ENGINE_LOG, "none of the --vpn-outside-addresses is an address of this host: "
			  "no tunnel runs; the API serves as usual");
		return false;
	}
	struct vpn_endpoint_config epc = { .on_status = on_tunnel_status, .on_status_arg = e };
	if (nrings) {
		epc.use_plain_rings = true;
		epc.n_plain_rings = nrings;
		for (size_t k = 0; k < nrings; k++) {
			epc.plain_rings_in[k] = e->e_to_ep[k];
			epc.plain_rings_out[k] = e->e_to_router[k];
		}
		snprintf(epc.tun_name, sizeof(epc.tun_name), "vgw-port");
		e->e_kernel_routes = false;	/* the router routes, not the host */
	} else {
		snprintf(epc.tun_name, sizeof(epc.tun_name), "%s", e->e_tun);
		epc.tun_offload = true;	/* TSO super-frames in, TCP trains out (ep_tunoff.c) */
	}
	e->e_ep = vpn_endpoint_new(&epc);
	if (!e->e_ep) {
		if (nrings)
			log_error(ENGINE_LOG, "the VPN endpoint cannot start: no tunnel runs; the API serves as usual");
		else
			log_error(ENGINE_LOG, "the VPN endpoint cannot start (TUN %s: root or CAP_NET_ADMIN is "
				  "needed): no tunnel runs; the API serves as usual", e->e_tun);
		return false;
	}
	if (nrings) {
		e->e_nports = nrings;
		return true;
	}
	e->e_tun_ifindex = if_nametoindex(e->e_tun);
	if (e->e_kernel_routes && (!e->e_tun_ifindex || (e->e_nl_fd = engine_kroute_open()) < 0)) {
		log_error(ENGINE_LOG, "cannot manage routes into %s (%s): add the static routes with "
			  "'ip route add PREFIX dev %s' yourself", e->e_tun, strerror(errno), e->e_tun);
		e->e_kernel_routes = false;
	}
	return true;
}

struct engine *engine_new(const struct engine_config *cfg)
{
	const char *tun = cfg->ec_tun_name ? cfg->ec_tun_name : ENGINE_TUN_DEFAULT;
	if (!*tun || strlen(tun) >= IFNAMSIZ) {
		log_error(ENGINE_LOG, "--vpn-tun '%s': a device name of 1 to %d characters", tun, IFNAMSIZ - 1);
		return NULL;
	}
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	snprintf(e->e_tun, sizeof(e->e_tun), "%s", tun);
	e->e_kernel_routes = cfg->ec_kernel_routes;
	e->e_nl_fd = -1;
	queue_init(&e->e_events, NULL);	/* its consumer: engine_attach */
	atomic_init(&e->e_feed_since_us, 0);
	atomic_init(&e->e_detail_due, false);
	e->e_outside = calloc(cfg->ec_noutside ? cfg->ec_noutside : 1, sizeof(*e->e_outside));
	if (!e->e_outside)
		abort();
	e->e_loop = evloop_new(engine_woken, e);
	if (!e->e_loop) {
		log_error(ENGINE_LOG, "event loop: %s", strerror(errno));
		goto fail;
	}
	evloop_set_hooks(e->e_loop, engine_prepare, NULL, e);
	bool dataplane = false;
	if (cfg->ec_dataplane) {
		char why[160];
		dataplane = engine_dataplane_capable(why, sizeof(why));
		if (!dataplane)
			log_error(ENGINE_LOG, "--dataplane: %s; no instance gets a network, the API serves "
				  "as usual", why);
	}
	/* one plaintext side per VPN gateway: a ring each way, in process */
	size_t nsides = 0;
	while (dataplane && cfg->ec_noutside && nsides < VPN_PLAIN_PORTS_MAX) {
		e->e_to_ep[nsides] = ring_new(ENGINE_RING_SLOTS);
		e->e_to_router[nsides] = ring_new(ENGINE_RING_SLOTS);
		e->e_nrings = nsides + 1;
		if (!e->e_to_ep[nsides] || !e->e_to_router[nsides]) {
			log_error(ENGINE_LOG, "the VPN gateway ports' rings: %s; no data plane", strerror(errno));
			nsides = 0;
			dataplane = false;
			break;
		}
		nsides++;
	}
	if (cfg->ec_noutside && !vpn_start(e, cfg, nsides))
		nsides = 0;
	if (dataplane && !(e->e_dp = engine_dataplane_new(e->e_to_ep, e->e_to_router, nsides)))
		log_error(ENGINE_LOG, "--dataplane: the virtual router cannot start; the API serves as usual");
	if (!e->e_ep && !e->e_dp)
		goto fail;
	if (e->e_ep)
		e->e_bgp_side = engine_bgp_side_new(e->e_ep);
	if (e->e_ep && vpn_endpoint_start(e->e_ep) < 0)
		goto fail;
	if (e->e_ep) {
		struct engine_bird_hooks hooks = { on_bgp_post, on_bgp_routes, on_bgp_side_error, e };
		e->e_bird = engine_bird_new(cfg->ec_data_dir ? cfg->ec_data_dir : ".", &hooks);
	}
	if (pthread_create(&e->e_thread, NULL, engine_main, e) != 0) {
		log_error(ENGINE_LOG, "cannot start the engine thread");
		goto fail;
	}
	e->e_thread_started = true;
	if (e->e_ep)
		log_info(ENGINE_LOG, "VPN engine running: %s%s, %zu outside address(es)%s",
			 e->e_dp ? "plaintext into the virtual router's VPN gateway port" : "TUN ",
			 e->e_dp ? "" : e->e_tun, e->e_noutside,
			 e->e_kernel_routes ? ", static routes into the TUN" : "");
	if (e->e_dp)
		log_info(ENGINE_LOG, "data plane running: instances are network namespaces, the virtual "
			 "router routes between them%s", e->e_ep ? " and the VPN tunnels" : "");
	return e;
fail:
	engine_free(e);
	return NULL;
}

/* Types whose change rebuilds the network (the batch hook). */
static const char *const net_types[] = {
	RT_VPC, RT_SUBNET, RT_ROUTE_TABLE, RT_NACL, RT_SG, RT_SG_RULE, RT_ENI, RT_INSTANCE, RT_EIP,
	RT_IGW, RT_VGW, RT_VPN, RT_PREFIX_LIST, RT_NATGW, RT_PCX, NULL,
};

/* Engine thread: the network as its view has it, built into a plan and
 * applied (namespaces, the router's snapshot); dynamic connections whose
 * VPC blocks moved reconciled again first. */
static void net_changed(struct engine *e, struct cache *view, uint64_t commit_us)
{
	if (e->e_ep)
		exports_recheck(e, view);
	if (!e->e_dp)
		return;
	struct engine_net_plan *plan = engine_net_plan_build(view);
	ports_assign(e, plan);
	engine_dataplane_apply(e->e_dp, plan);	/* takes the plan */
	/* the latency from a commit to the router's picture (vpcd --debug) */
	log_debug(ENGINE_LOG, "network plan %llu applied %llu us after the commit", (unsigned long long)++e->e_plans,
		  (unsigned long long)(time_mono_us() - commit_us));
}

/* Engine thread: every VPN connection of the view reconciled (at the
 * first load, and after a resync: one the engine runs that the view no
 * longer holds is gone). */
static void vpn_all(struct engine *e, struct cache *view)
{
	for (size_t i = e->e_nposted; i-- > 0;)
		if (!cache_get_typed(view, RT_VPN, e->e_posted[i].p_id)) {
			char id[ENGINE_VPN_ID_MAX];
			snprintf(id, sizeof(id), "%s", e->e_posted[i].p_id);
			vpn_changed(e, id, NULL);
		}
	size_t n, live = 0;
	struct res **list = cache_list_all(view, RT_VPN, &n);
	for (size_t i = 0; i < n; i++) {
		live += !engine_vpn_is_deleted(list[i]->r_doc);
		vpn_changed(e, list[i]->r_id, list[i]->r_doc);
	}
	log_info(ENGINE_LOG, "%zu VPN connection(s) in the state to run (read whole at change %llu)", live,
		 (unsigned long long)state_replica_seq(e->e_replica));
}

struct follow_ctx {
	struct engine *fc_engine;
	bool fc_net;		/* a change of a net_types resource */
};

static void feed_change(void *arg, uint64_t seq, const char *type, const char *id, const struct doc *doc)
{
	struct follow_ctx *fc = arg;
	if (fc->fc_engine->e_ep && strcmp(type, RT_VPN) == 0)
		vpn_changed(fc->fc_engine, id, doc);
	for (const char *const *t = net_types; *t && !fc->fc_net; t++)
		fc->fc_net = strcmp(type, *t) == 0;
}

/* Engine thread, woken by a commit (or retrying, feed_try): what the
 * feed has after the view's cursor, applied to the view, then reconciled
 * — each changed connection, and the network when a type of it changed
 * (the whole view after a resync). Observed state the engine posted comes
 * back this way too, as any change: a connection whose _ConfigVersion
 * and VPC blocks did not move is not reconciled again, and a rebuilt plan
 * posts nothing, so nothing loops. false: the feed could not be read
 * (the view as it was; feed_try tries again). */
static bool feed_follow(struct engine *e, uint64_t commit_us)
{
	if (!e->e_replica)
		return true;
	struct follow_ctx fc = { e, false };
	int rc = state_replica_follow(e->e_replica, feed_change, &fc);
	if (rc < 0 && rc != STATE_RESYNC)
		return false;
	struct cache *view = state_replica_cache(e->e_replica);
	if (rc == STATE_RESYNC) {
		if (e->e_ep)
			vpn_all(e, view);
		fc.fc_net = true;
	}
	if (fc.fc_net && (e->e_ep || e->e_dp))
		net_changed(e, view, commit_us);
	return true;
}

/* Any thread: the doorbell rung; the engine thread is woken when it was
 * silent (it takes the ring before it follows, so a commit during a
 * follow wakes it again; one while it rings already is read with it). */
static void feed_ring(struct engine *e)
{
	uint64_t silent = 0, since = time_mono_us();
	if (atomic_compare_exchange_strong(&e->e_feed_since_us, &silent, since ? since : 1))
		evloop_wakeup(e->e_loop);
}

/* The state's commit listener (API thread): rings the engine thread's
 * doorbell and nothing else (the engine reads the feed itself). */
static void on_committed(void *arg, struct state *st)
{
	(void)st;
	feed_ring(arg);
}

/* API thread, before the API serves and before the engine follows the
 * feed: the stored connections' tunnels DOWN as of now (see
 * engine_vpn_telemetry_restart) and their _TunnelDetail gone
 * (engine_vpn_detail_restart: it showed the earlier process's SAs until
 * this one's first detail, up to ENGINE_VPN_DETAIL_PERIOD_S later) in one
 * change, committed. Without it a
 * DescribeVpnConnections in the first moments after a restart answered
 * an earlier vpcd's UP while the endpoint had not yet added the tunnels:
 * a client that waited for UP went on with no IKE SA (test_seed_story
 * pinged the office -> instance path into nothing). */
static void telemetry_restart(struct state *st)
{
	size_t n;
	struct res **list = cache_list_all(state_cache(st), RT_VPN, &n);
	int64_t now = time_wall_s();
	int rc = 0;
	state_change_begin(st);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct doc *d = doc_clone(list[i]->r_doc);
		bool changed = engine_vpn_telemetry_restart(d, now);
		changed |= engine_vpn_detail_restart(d);
		if (!changed) {
			doc_free(d);
			continue;
		}
		if (!state_put(st, RT_VPN, list[i]->r_id, d, NULL))
			rc = -1;
	}
	if (state_change_end(st, rc) < 0 || state_commit(st) < 0) {
		log_error(ENGINE_LOG, "tunnels' telemetry not reset at start: %s", state_error(st));
		state_abort(st);
	}
}

void engine_attach(struct engine *e, struct state *st, struct state_replica *r, struct evloop *observer)
{
	e->e_state = st;
	telemetry_restart(st);
	if (!r)
		log_error(ENGINE_LOG, "the engine has no view of its own of the state: no tunnel runs and no "
			  "instance gets a network");
	/* before the ring (a seq_cst store, which the engine thread's
	 * exchange reads): nothing rang before, so it reads none earlier */
	e->e_replica = r;
	queue_set_consumer(&e->e_events, observer);
	feed_ring(e);	/* the first follow reads the whole state */
	state_on_commit(st, on_committed, e);
}

bool engine_vpn_tunnel_status(struct engine *e, const char *vpn_id, int index,
			      struct vpn_tunnel_status *out)
{
	char tid[VPN_TUNNEL_ID_MAX];
	if (!e || !e->e_ep || index < 0 || index >= ENGINE_VPN_TUNNELS || strlen(vpn_id) >= ENGINE_VPN_ID_MAX)
		return false;
	engine_vpn_tunnel_id(vpn_id, index, tid);
	return vpn_endpoint_tunnel_status(e->e_ep, tid, out);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	queue_set_consumer(&e->e_events, NULL);	/* the API's loop may be gone */
	if (e->e_state)
		state_unlisten(e->e_state, on_committed, e);
	if (e->e_thread_started) {
		evloop_stop(e->e_loop);
		pthread_join(e->e_thread, NULL);
	}
	/* BIRD stops (the helper deletes its namespace when vpcd stops) */
	engine_bird_free(e->e_bird);
	/* Delete payloads for every SA; the TUN and its routes go away */
	vpn_endpoint_free(e->e_ep);
	engine_bgp_side_free(e->e_bgp_side);
	engine_kroute_close(e->e_nl_fd);
	/* the router stops; the instances' namespaces are deleted */
	engine_dataplane_free(e->e_dp);
	/* neither thread uses the gateway ports' rings any more */
	for (size_t k = 0; k < e->e_nrings; k++) {
		ring_free(e->e_to_ep[k]);
		ring_free(e->e_to_router[k]);
	}
	state_replica_free(e->e_replica);
	/* neither thread posts any more */
	for (struct queue_node *n = queue_close(&e->e_events), *next; n; n = next) {
		next = n->qn_next;
		event_free(EVENT_OF(n));
	}
	evloop_free(e->e_loop);
	for (size_t i = 0; i < e->e_nconns; i++) {
		free(e->e_conns[i].c_detail_sig);
		doc_free(e->e_conns[i].c_doc);
	}
	for (size_t i = 0; i < e->e_nposted; i++)
		free(e->e_posted[i].p_export);
	free(e->e_conns);
	free(e->e_routes);
	free(e->e_posted);
	free(e->e_outside);
	free(e);
}
