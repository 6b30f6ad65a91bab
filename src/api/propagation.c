/*
 * propagation.c — route propagation from VPN gateways (resources.h): the
 * routes a VPN gateway puts into the route tables that list it in
 * PropagatingVgws. One definition, read by DescribeRouteTables (computed
 * at Describe time, never stored), the packet trace (api/trace.c) and the
 * data plane's route builder (engine/engine_net.c).
 *
 * AWS's rule: a VPN connection's static routes propagate while the
 * connection has a tunnel UP; a route of the table itself with the same
 * destination wins over a propagated one.
 */
#include "api/resources.h"

#include <string.h>

#include "base/base.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

size_t vpn_tunnels_up(const struct doc *vpn)
{
	const char *st = doc_get_str(vpn, "State");
	if (!st || str_eq(st, "deleted") || str_eq(st, "deleting"))
		return 0;
	size_t up = 0;
	doc_foreach(t, doc_get(vpn, "VgwTelemetry"))
		up += str_eq(doc_get_str(t, "Status"), "UP");
	return up;
}

size_t vgw_propagated_routes(struct cache *c, const char *vgw_id, vgw_route_fn fn, void *arg)
{
	if (!vgw_id || !cache_get_typed(c, RT_VGW, vgw_id))
		return 0;
	size_t nv, n = 0;
	struct res **vpns = cache_list(c, RT_VPN, &nv);
	for (size_t i = 0; i < nv; i++) {
		const struct doc *vpn = vpns[i]->r_doc;
		if (!str_eq(doc_get_str(vpn, "VpnGatewayId"), vgw_id) || !vpn_tunnels_up(vpn))
			continue;
		doc_foreach(r, doc_get(vpn, "Routes")) {
			const char *st = doc_get_str(r, "State");
			struct cidr4 dest;
			if ((st && !str_eq(st, "available")) ||
			    !cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &dest, NULL))
				continue;
			if (fn)
				fn(arg, &dest);
			n++;
		}
	}
	return n;
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
		return;	/* static (or an earlier propagated route) wins */
	char text[CIDR_STR_MAX];
	cidr_format(dest, text);
	struct doc *route = doc_push(dc->dc_routes, doc_obj());
	doc_set_str(route, "DestinationCidrBlock", text);
	doc_set_str(route, "GatewayId", dc->dc_vgw);
	doc_set_str(route, "Origin", "EnableVgwRoutePropagation");
	doc_set_str(route, "State", "active");
}

void rtb_decorate_propagated(struct api_req *rq, struct doc *item)
{
	const struct doc *pv = doc_get(item, "PropagatingVgws");
	if (!pv || !pv->d_count)
		return;
	struct decorate_ctx dc = { doc_get_list(item, "Routes"), NULL };
	doc_foreach(p, pv) {
		dc.dc_vgw = doc_get_str(p, "GatewayId");
		vgw_propagated_routes(api_cache(rq), dc.dc_vgw, add_propagated, &dc);
	}
}
