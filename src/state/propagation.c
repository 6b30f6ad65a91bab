/*
 * propagation.c — route propagation from VPN gateways (state/resources.h): the
 * routes a VPN gateway puts into the route tables that list it in
 * PropagatingVgws. One definition, read by DescribeRouteTables (computed
 * at Describe time, never stored) and the builder of the router's picture
 * (engine/engine_net.c: the data plane's route tables, and the packet
 * trace's check of what a VPN connection carries).
 *
 * AWS's rules (Site-to-Site VPN "route priority"): a VPN connection's
 * static routes propagate while the connection has a tunnel UP; a dynamic
 * connection's learned routes (`_Bgp.Routes`, which the engine writes from
 * BIRD: the layout at the top of vpn.c) while the session of the tunnel that carries them
 * is Established and that tunnel is UP; between the two, for one prefix, a
 * static route of any connection of the gateway wins over a learned one; a
 * route of the table itself with the same prefix wins over a propagated
 * one (the readers' part: they add propagated routes after the table's).
 *
 * Deterministic: the gateway's static routes first (connections in
 * creation order, routes in their order), then its learned routes (same
 * order); a prefix is given once, by the first of those that has it.
 * Cost: O(r log r) in the r candidate routes of the gateway, per call.
 */
#include "state/resources.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool vpn_live(const struct doc *vpn)
{
	const char *st = doc_get_str(vpn, "State");
	return st && !str_eq(st, "deleted") && !str_eq(st, "deleting");
}

size_t vpn_tunnels_up(const struct doc *vpn)
{
	if (!vpn_live(vpn))
		return 0;
	size_t up = 0;
	doc_foreach(t, doc_get(vpn, "VgwTelemetry"))
		up += str_eq(doc_get_str(t, "Status"), "UP");
	return up;
}

static const struct doc *nth(const struct doc *list, int64_t index)
{
	int64_t i = 0;
	if (index < 0)
		return NULL;
	doc_foreach(item, list)
		if (i++ == index)
			return item;
	return NULL;
}

bool vpn_bgp_route_live(const struct doc *vpn, const struct doc *route, struct cidr4 *dest)
{
	const struct doc *bgp = doc_get(vpn, VPN_BGP_KEY);
	const struct doc *tunnel = doc_get(route, "Tunnel");
	if (!bgp || !vpn_live(vpn) || !tunnel || tunnel->d_type != DOC_INT ||
	    !cidr_parse(doc_get_str(route, "DestinationCidrBlock"), dest, NULL))
		return false;
	const struct doc *session = nth(doc_get(bgp, "Tunnels"), tunnel->d_int);
	const struct doc *tel = nth(doc_get(vpn, "VgwTelemetry"), tunnel->d_int);
	return str_eq(doc_get_str(session, "State"), "Established") && str_eq(doc_get_str(tel, "Status"), "UP");
}

/* --- the gateway's routes --------------------------------------------------- */

struct candidate {
	struct cidr4 c_dest;	/* host bits cleared */
	size_t c_seq;		/* statics first, then learned; creation order within */
};

struct candidates {
	struct candidate *cs_list;
	size_t cs_n, cs_cap;
};

static void candidate_add(struct candidates *cs, const struct cidr4 *dest)
{
	if (cs->cs_n == cs->cs_cap) {
		cs->cs_cap = cs->cs_cap ? cs->cs_cap * 2 : 16;
		cs->cs_list = realloc(cs->cs_list, cs->cs_cap * sizeof(*cs->cs_list));
		if (!cs->cs_list)
			abort();
	}
	struct candidate *c = &cs->cs_list[cs->cs_n];
	c->c_dest = *dest;
	c->c_dest.c_addr &= dest->c_len ? ~0u << (32 - dest->c_len) : 0;
	c->c_seq = cs->cs_n++;
}

static int by_prefix_then_seq(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	if (a->c_dest.c_addr != b->c_dest.c_addr)
		return a->c_dest.c_addr < b->c_dest.c_addr ? -1 : 1;
	if (a->c_dest.c_len != b->c_dest.c_len)
		return a->c_dest.c_len < b->c_dest.c_len ? -1 : 1;
	return a->c_seq < b->c_seq ? -1 : a->c_seq > b->c_seq;
}

static int by_seq(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	return a->c_seq < b->c_seq ? -1 : a->c_seq > b->c_seq;
}

static void static_routes(const struct doc *vpn, struct candidates *cs)
{
	if (!vpn_tunnels_up(vpn))
		return;
	doc_foreach(r, doc_get(vpn, "Routes")) {
		const char *st = doc_get_str(r, "State");
		struct cidr4 dest;
		if ((!st || str_eq(st, "available")) && cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &dest, NULL))
			candidate_add(cs, &dest);
	}
}

static void learned_routes(const struct doc *vpn, struct candidates *cs)
{
	doc_foreach(r, doc_get(doc_get(vpn, VPN_BGP_KEY), "Routes")) {
		struct cidr4 dest;
		if (vpn_bgp_route_live(vpn, r, &dest))
			candidate_add(cs, &dest);
	}
}

size_t vgw_propagated_routes(struct cache *c, const char *vgw_id, vgw_route_fn fn, void *arg)
{
	if (!vgw_id || !cache_get_typed(c, RT_VGW, vgw_id))
		return 0;
	size_t nv;
	struct res **vpns = cache_list(c, RT_VPN, &nv);
	struct candidates cs = { NULL, 0, 0 };
	for (size_t i = 0; i < nv; i++)
		if (str_eq(doc_get_str(vpns[i]->r_doc, "VpnGatewayId"), vgw_id))
			static_routes(vpns[i]->r_doc, &cs);
	for (size_t i = 0; i < nv; i++)
		if (str_eq(doc_get_str(vpns[i]->r_doc, "VpnGatewayId"), vgw_id))
			learned_routes(vpns[i]->r_doc, &cs);
	/* one per prefix, the earliest (a static one before a learned one) */
	size_t kept = 0;
	if (cs.cs_n) {
		qsort(cs.cs_list, cs.cs_n, sizeof(*cs.cs_list), by_prefix_then_seq);
		for (size_t i = 0; i < cs.cs_n; i++)
			if (!kept || cs.cs_list[kept - 1].c_dest.c_addr != cs.cs_list[i].c_dest.c_addr ||
			    cs.cs_list[kept - 1].c_dest.c_len != cs.cs_list[i].c_dest.c_len)
				cs.cs_list[kept++] = cs.cs_list[i];
		qsort(cs.cs_list, kept, sizeof(*cs.cs_list), by_seq);
	}
	for (size_t i = 0; fn && i < kept; i++)
		fn(arg, &cs.cs_list[i].c_dest);
	free(cs.cs_list);
	return kept;
}

/* --- DescribeRouteTables ------------------------------------------------------ */

struct decorate_ctx {
	struct doc *dc_routes;	/* the item's Routes */
	const char *dc_vgw;
};

static bool prefix_listed(const struct doc *routes, const struct cidr4 *dest)
{
	doc_foreach(r, routes) {
		struct cidr4 have;
		if (cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &have, NULL) && have.c_addr == dest->c_addr &&
		    have.c_len == dest->c_len)
			return true;
	}
	return false;
}

static void add_propagated(void *arg, const struct cidr4 *dest)
{
	struct decorate_ctx *dc = arg;
	if (prefix_listed(dc->dc_routes, dest))
		return;	/* the table's own route (or another gateway's) wins */
	char text[CIDR_STR_MAX];
	cidr_format(dest, text);
	struct doc *route = doc_push(dc->dc_routes, doc_obj());
	doc_set_str(route, "DestinationCidrBlock", text);
	doc_set_str(route, "GatewayId", dc->dc_vgw);
	doc_set_str(route, "Origin", "EnableVgwRoutePropagation");
	doc_set_str(route, "State", "active");
}

void rtb_add_propagated(struct cache *c, struct doc *item)
{
	const struct doc *pv = doc_get(item, "PropagatingVgws");
	if (!pv || !pv->d_count)
		return;
	struct decorate_ctx dc = { doc_get_list(item, "Routes"), NULL };
	doc_foreach(p, pv) {
		dc.dc_vgw = doc_get_str(p, "GatewayId");
		vgw_propagated_routes(c, dc.dc_vgw, add_propagated, &dc);
	}
}
