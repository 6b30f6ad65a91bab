/*
 * engine_net.c — the cache's docs into a net_config and the instances to
 * run (engine_net.h). Reads the cache only; every string is copied into
 * the plan's fixed-size ids, so the plan outlives the batch that made it.
 * Cost: one pass over each resource type; ids are resolved through hash
 * maps built for the build (struct plan_build: the plan's gateways, ENIs,
 * NAT gateways, peering connections, subnets and groups; each subnet's
 * table, each group's rules, each instance's ENIs), so a build is linear
 * in the resources; a table's routes and a VPN gateway's own routes check
 * for a prefix taken before them in a prefix set (struct prefix_set).
 * O(resources) memory. Never logs.
 */
#include "engine/engine_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/idmap.h"
#include "engine/engine_vpn.h"
#include "state/resources.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* One build: the plan, the cache it reads and its indexes, each filled by
 * the step that makes what it indexes (keys borrowed from the plan's
 * arrays, which never move, or from the cache, which does not change
 * during a build). */
struct plan_build {
	struct engine_net_plan *p;
	struct cache *c;
	struct idmap b_gws, b_enis, b_nats, b_pcxs;	/* plan id -> index */
	struct idmap b_subnets, b_sgs;			/* plan id -> index */
	struct idmap b_subnet_rtb;	/* subnet id -> the first table that names it */
	struct idmap b_main_rtb;	/* VPC id -> the last main table of it */
};

static bool known(const struct idmap *m, const char *id) { return idmap_get(m, id) >= 0; }

static void *alloc_n(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		abort();
	return p;
}

/* A set of IPv4 prefixes (host bits cleared), for "is this destination
 * taken already" while one table's or one gateway's routes are listed:
 * open addressing over 64-bit keys, kept at most half full, O(1) per
 * check (a scan of the routes before was quadratic in a table's routes). */
struct prefix_set {
	uint64_t *ps_keys;	/* 0: empty; else (address << 8 | length) + 1 */
	size_t ps_cap, ps_n;
};

static uint64_t prefix_key(const struct cidr4 *d)
{
	uint32_t a = d->c_len ? d->c_addr & (~0u << (32 - d->c_len)) : 0;
	return ((uint64_t)a << 8 | d->c_len) + 1;
}

static size_t pset_slot(const struct prefix_set *ps, uint64_t key)
{
	size_t mask = ps->ps_cap - 1, i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
	while (ps->ps_keys[i] && ps->ps_keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static bool pset_has(const struct prefix_set *ps, const struct cidr4 *d)
{
	return ps->ps_cap && ps->ps_keys[pset_slot(ps, prefix_key(d))] != 0;
}

static void pset_add(struct prefix_set *ps, const struct cidr4 *d)
{
	if ((ps->ps_n + 1) * 2 > ps->ps_cap) {
		size_t cap = ps->ps_cap ? ps->ps_cap * 2 : 16;
		struct prefix_set bigger = { alloc_n(cap, sizeof(uint64_t)), cap, 0 };
		for (size_t i = 0; i < ps->ps_cap; i++)
			if (ps->ps_keys[i]) {
				bigger.ps_keys[pset_slot(&bigger, ps->ps_keys[i])] = ps->ps_keys[i];
				bigger.ps_n++;
			}
		free(ps->ps_keys);
		*ps = bigger;
	}
	uint64_t key = prefix_key(d);
	size_t i = pset_slot(ps, key);
	if (!ps->ps_keys[i]) {
		ps->ps_keys[i] = key;
		ps->ps_n++;
	}
}

static void pset_free(struct prefix_set *ps)
{
	free(ps->ps_keys);
	memset(ps, 0, sizeof(*ps));
}

/* Copies an id; false (nothing copied) when absent or too long. */
static bool id_copy(char dst[NET_ID_MAX], const char *src)
{
	if (!src || !*src || strlen(src) >= NET_ID_MAX)
		return false;
	memcpy(dst, src, strlen(src) + 1);
	return true;
}

static size_t count_children(const struct doc *list)
{
	return list ? list->d_count : 0;
}

/* The VPC a gateway is attached to (member: its attachment list), or NULL. */
static const char *gateway_vpc(const struct doc *gw, const char *member)
{
	doc_foreach(a, doc_get(gw, member)) {
		const char *st = doc_get_str(a, "State");
		if (doc_get_str(a, "VpcId") && (!st || str_eq(st, "available") || str_eq(st, "attached")))
			return doc_get_str(a, "VpcId");
	}
	return NULL;
}

static bool connection_live(const struct doc *vpn)
{
	const char *st = doc_get_str(vpn, "State");
	return st && !str_eq(st, "deleted") && !str_eq(st, "deleting");
}

/* --- gateways -------------------------------------------------------------- */

/* VPN gateway vgw's own routes into out (room for every candidate; NULL:
 * only counted, an upper bound): the static routes that are available of
 * each live connection with a tunnel UP (the prefixes its tunnels carry,
 * engine_vpn_plan), then the learned routes that propagate now
 * (vpn_bgp_route_live: the session Established, the tunnel UP) with the
 * tunnel BIRD chose, unless a route before has the prefix, then the static
 * routes of the live connections with no tunnel UP (the endpoint fails
 * over when one comes up) unless a route before has the prefix: a static
 * route wins over a learned one while its connection is UP, as in
 * propagation.c (which the trace and DescribeRouteTables read). Each named
 * by its connection's key. A prefix two connections route statically (in
 * one pass) is kept twice: net/ then leaves the choice to the endpoint. */
static size_t vgw_routes(struct res **vpns, size_t nc, const char *vgw, struct net_vgw_route *out)
{
	size_t n = 0;
	enum { STATIC_UP, LEARNED, STATIC_DOWN };
	/* the prefixes a learned route is checked against: every route
	 * before it; a static one of a connection DOWN: those of the passes
	 * before its own */
	struct prefix_set listed = { 0 };
	for (int pass = STATIC_UP; pass <= STATIC_DOWN; pass++) {
		for (size_t k = 0; k < nc; k++) {
			const struct doc *vpn = vpns[k]->r_doc;
			if (!str_eq(doc_get_str(vpn, "VpnGatewayId"), vgw) || !connection_live(vpn) ||
			    !doc_get_str(vpn, "VpnConnectionId"))
				continue;
			bool learned = pass == LEARNED;
			if (!learned && (vpn_tunnels_up(vpn) > 0) != (pass == STATIC_UP))
				continue;
			uint64_t key = engine_vpn_conn_key(doc_get_str(vpn, "VpnConnectionId"));
			const struct doc *list = learned ? doc_get(doc_get(vpn, VPN_BGP_KEY), "Routes")
							 : doc_get(vpn, "Routes");
			doc_foreach(r, list) {
				struct cidr4 dest;
				uint8_t tunnel = 0;
				if (learned) {
					if (!vpn_bgp_route_live(vpn, r, &dest))
						continue;
					tunnel = (uint8_t)(doc_get(r, "Tunnel")->d_int + 1);
					if (tunnel > 2)
						continue;
				} else {
					const char *st = doc_get_str(r, "State");
					if ((st && !str_eq(st, "available")) ||
					    !cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &dest, NULL))
						continue;
				}
				dest.c_addr &= dest.c_len ? 0xffffffffu << (32 - dest.c_len) : 0;
				if (out && pass != STATIC_UP && pset_has(&listed, &dest))
					continue;
				if (out) {
					out[n] = (struct net_vgw_route){ dest, key, tunnel };
					if (pass != STATIC_DOWN)
						pset_add(&listed, &dest);
				}
				n++;
			}
		}
	}
	pset_free(&listed);
	return n;
}

static void build_gateways(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t ni, nv, nc;
	struct res **igws = cache_list(c, RT_IGW, &ni);
	struct res **vgws = cache_list(c, RT_VGW, &nv);
	struct res **vpns = cache_list(c, RT_VPN, &nc);
	p->np_gateways = alloc_n(ni + nv, sizeof(*p->np_gateways));
	p->np_gw_port = alloc_n(ni + nv, sizeof(*p->np_gw_port));
	for (size_t i = 0; i < ni + nv; i++)
		p->np_gw_port[i] = -1;
	size_t nroutes = 0;
	for (size_t i = 0; i < nv; i++)
		nroutes += vgw_routes(vpns, nc, vgws[i]->r_id, NULL);
	p->np_vgw_routes = alloc_n(nroutes, sizeof(*p->np_vgw_routes));
	size_t used = 0;
	size_t n = 0;
	for (size_t i = 0; i < ni + nv; i++) {
		bool igw = i < ni;
		const struct res *r = igw ? igws[i] : vgws[i - ni];
		struct net_gateway_config *g = &p->np_gateways[n];
		if (!id_copy(g->id, r->r_id))
			continue;
		g->kind = igw ? NET_GW_IGW : NET_GW_VGW;
		const char *vpc = gateway_vpc(r->r_doc, igw ? "Attachments" : "VpcAttachments");
		if (vpc)
			id_copy(g->vpc_id, vpc);
		g->fd = -1;
		n++;
		if (!igw) {
			g->vgw_routes = p->np_vgw_routes + used;
			g->n_vgw_routes = vgw_routes(vpns, nc, r->r_id, p->np_vgw_routes + used);
			used += g->n_vgw_routes;
		}
		if (igw || !vpc || p->np_vgw_rx[0])
			continue;
		for (size_t k = 0; k < nc; k++)
			if (str_eq(doc_get_str(vpns[k]->r_doc, "VpnGatewayId"), r->r_id) &&
			    connection_live(vpns[k]->r_doc)) {
				id_copy(p->np_vgw_rx, r->r_id);
				break;
			}
	}
	p->np_cfg.gateways = p->np_gateways;
	p->np_cfg.n_gateways = n;
	idmap_init(&b->b_gws, n);
	for (size_t i = 0; i < n; i++)
		idmap_add(&b->b_gws, p->np_gateways[i].id, (uint32_t)i);
}

/* --- route tables ------------------------------------------------------------ */

/* The target of route doc r into out (dest untouched). */
static void route_target(const struct plan_build *b, const struct doc *r, struct net_route_config *out)
{
	const char *gw = doc_get_str(r, "GatewayId");
	const char *eni = doc_get_str(r, "NetworkInterfaceId");
	const char *nat = doc_get_str(r, "NatGatewayId");
	const char *pcx = doc_get_str(r, "VpcPeeringConnectionId");
	out->target = NET_TARGET_BLACKHOLE;
	if (str_eq(gw, "local")) {
		out->target = NET_TARGET_LOCAL;
	} else if (str_eq(doc_get_str(r, "State"), "blackhole")) {
		/* blackhole */
	} else if (gw && (strncmp(gw, "igw-", 4) == 0 || strncmp(gw, "vgw-", 4) == 0)) {
		if (known(&b->b_gws, gw) && id_copy(out->target_id, gw))
			out->target = gw[0] == 'i' ? NET_TARGET_IGW : NET_TARGET_VGW;
	} else if (nat) {
		if (known(&b->b_nats, nat) && id_copy(out->target_id, nat))
			out->target = NET_TARGET_NAT;
	} else if (pcx) {
		if (known(&b->b_pcxs, pcx) && id_copy(out->target_id, pcx))
			out->target = NET_TARGET_PEERING;
	} else if (eni && !gw) {
		if (known(&b->b_enis, eni) && id_copy(out->target_id, eni))
			out->target = NET_TARGET_ENI;
	}
	if (out->target != NET_TARGET_BLACKHOLE)
		return;
	/* the target that is gone (or not carried), for the trace to name */
	static const char *const named[] = { "GatewayId", "NatGatewayId", "VpcPeeringConnectionId",
					     "NetworkInterfaceId", "TransitGatewayId", "InstanceId",
					     "EgressOnlyInternetGatewayId", "VpcEndpointId", "LocalGatewayId",
					     "CarrierGatewayId" };
	memset(out->target_id, 0, sizeof(out->target_id));
	for (size_t i = 0; i < ARRAY_LEN(named) && !out->target_id[0]; i++)
		id_copy(out->target_id, doc_get_str(r, named[i]));
}

static bool route_from_doc(const struct plan_build *b, const struct doc *r, struct net_route_config *out)
{
	memset(out, 0, sizeof(*out));
	if (!cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &out->dest, NULL))
		return false;	/* IPv6; prefix lists: add_pl_route */
	route_target(b, r, out);
	return true;
}

/* One table's propagated routes (vgw_propagated_routes), after its own. */
struct propagate_ctx {
	struct net_route_config *pc_routes;
	size_t *pc_n;
	const char *pc_vgw;
	struct prefix_set *pc_taken;	/* the table's destinations so far */
};

static void add_propagated(void *arg, const struct cidr4 *dest)
{
	struct propagate_ctx *pc = arg;
	if (pset_has(pc->pc_taken, dest))
		return;	/* the table's own route (or an earlier one) wins */
	pset_add(pc->pc_taken, dest);
	struct net_route_config *nr = &pc->pc_routes[(*pc->pc_n)++];
	memset(nr, 0, sizeof(*nr));
	nr->dest = *dest;
	nr->target = NET_TARGET_VGW;
	id_copy(nr->target_id, pc->pc_vgw);
}

/* A route to a prefix list: one route per CIDR of the list, each with the
 * route's target, after the table's CIDR routes (which win a tie). */
struct pl_route_ctx {
	struct net_route_config *pr_routes;
	size_t *pr_n;
	struct net_route_config pr_tmpl;
	struct prefix_set *pr_taken;	/* the table's destinations so far */
};

static void add_pl_route(void *arg, const struct cidr4 *dest)
{
	struct pl_route_ctx *pc = arg;
	if (pset_has(pc->pr_taken, dest))
		return;
	pset_add(pc->pr_taken, dest);
	struct net_route_config *nr = &pc->pr_routes[(*pc->pr_n)++];
	*nr = pc->pr_tmpl;
	nr->dest = *dest;
}

static void build_tables(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t nt;
	struct res **tables = cache_list(c, RT_ROUTE_TABLE, &nt);
	size_t max = 0;
	for (size_t i = 0; i < nt; i++) {
		max += count_children(doc_get(tables[i]->r_doc, "Routes"));
		doc_foreach(r, doc_get(tables[i]->r_doc, "Routes"))
			max += prefix_list_cidrs(c, doc_get_str(r, "DestinationPrefixListId"), NULL, NULL);
		doc_foreach(pv, doc_get(tables[i]->r_doc, "PropagatingVgws"))
			max += vgw_propagated_routes(c, doc_get_str(pv, "GatewayId"), NULL, NULL);
	}
	p->np_tables = alloc_n(nt, sizeof(*p->np_tables));
	p->np_routes = alloc_n(max, sizeof(*p->np_routes));
	size_t used = 0, n = 0;
	for (size_t i = 0; i < nt; i++) {
		const struct doc *d = tables[i]->r_doc;
		struct net_route_table_config *t = &p->np_tables[n];
		if (!id_copy(t->id, tables[i]->r_id))
			continue;
		struct net_route_config *routes = &p->np_routes[used];
		size_t k = 0;
		struct prefix_set taken = { 0 };
		doc_foreach(r, doc_get(d, "Routes"))
			if (route_from_doc(b, r, &routes[k]) && !pset_has(&taken, &routes[k].dest))
				pset_add(&taken, &routes[k++].dest);
		doc_foreach(r, doc_get(d, "Routes")) {
			const char *pl = doc_get_str(r, "DestinationPrefixListId");
			if (!pl)
				continue;
			struct pl_route_ctx pc = { .pr_routes = routes, .pr_n = &k, .pr_taken = &taken };
			route_target(b, r, &pc.pr_tmpl);
			prefix_list_cidrs(c, pl, add_pl_route, &pc);
		}
		/* propagated: after the table's own routes, which win a tie */
		doc_foreach(pv, doc_get(d, "PropagatingVgws")) {
			struct propagate_ctx pc = { routes, &k, doc_get_str(pv, "GatewayId"), &taken };
			if (pc.pc_vgw && known(&b->b_gws, pc.pc_vgw))
				vgw_propagated_routes(c, pc.pc_vgw, add_propagated, &pc);
		}
		pset_free(&taken);
		t->routes = routes;
		t->n_routes = k;
		used += k;
		n++;
	}
	p->np_cfg.route_tables = p->np_tables;
	p->np_cfg.n_route_tables = n;
}

/* Each subnet's table, indexed: the first table (in creation order) whose
 * Associations name the subnet, else the last main table of its VPC. */
static void index_tables(struct plan_build *b, struct res **tables, size_t n)
{
	idmap_init(&b->b_subnet_rtb, n);
	idmap_init(&b->b_main_rtb, 16);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(tables[i]->r_doc, "Associations")) {
			const char *sn = doc_get_str(a, "SubnetId");
			if (sn)
				idmap_add(&b->b_subnet_rtb, sn, (uint32_t)i);
			const char *vpc = doc_get_str(tables[i]->r_doc, "VpcId");
			if (doc_get_bool(a, "Main", false) && vpc)
				idmap_set(&b->b_main_rtb, vpc, (uint32_t)i);
		}
}

/* The table of subnet_id: its explicit association, else its VPC's main. */
static const char *subnet_table(const struct plan_build *b, struct res **tables, const char *subnet_id,
				const char *vpc_id)
{
	int64_t k = idmap_get(&b->b_subnet_rtb, subnet_id);
	if (k < 0)
		k = idmap_get(&b->b_main_rtb, vpc_id);
	return k < 0 ? NULL : tables[k]->r_id;
}

static void build_subnets(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t n, nt;
	struct res **subnets = cache_list(c, RT_SUBNET, &n);
	struct res **tables = cache_list(c, RT_ROUTE_TABLE, &nt);
	index_tables(b, tables, nt);
	p->np_subnets = alloc_n(n, sizeof(*p->np_subnets));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = subnets[i]->r_doc;
		struct net_subnet_config *s = &p->np_subnets[k];
		const char *vpc = doc_get_str(d, "VpcId");
		if (!id_copy(s->id, subnets[i]->r_id) || !id_copy(s->vpc_id, vpc) ||
		    !cidr_parse(doc_get_str(d, "CidrBlock"), &s->cidr, NULL) ||
		    !id_copy(s->route_table_id, subnet_table(b, tables, subnets[i]->r_id, vpc)) ||
		    !id_copy(s->nacl_id, subnet_nacl_id(d)))
			continue;
		k++;
	}
	p->np_cfg.subnets = p->np_subnets;
	p->np_cfg.n_subnets = k;
	idmap_init(&b->b_subnets, k);
	for (size_t i = 0; i < k; i++)
		idmap_add(&b->b_subnets, p->np_subnets[i].id, (uint32_t)i);
}

/* --- network ACLs and security groups ------------------------------------------ */

static void build_nacls(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t n, max = 0;
	struct res **acls = cache_list(c, RT_NACL, &n);
	for (size_t i = 0; i < n; i++)
		max += count_children(doc_get(acls[i]->r_doc, "Entries"));
	p->np_nacls = alloc_n(n, sizeof(*p->np_nacls));
	p->np_nacl_rules = alloc_n(max, sizeof(*p->np_nacl_rules));
	size_t used = 0, k = 0;
	for (size_t i = 0; i < n; i++) {
		struct net_nacl_config *a = &p->np_nacls[k];
		if (!id_copy(a->id, acls[i]->r_id))
			continue;
		struct nacl_rule *rules = &p->np_nacl_rules[used];
		size_t m = 0;
		doc_foreach(e, doc_get(acls[i]->r_doc, "Entries")) {
			struct nacl_rule *r = &rules[m];
			int64_t number = doc_get_int(e, "RuleNumber", 0);
			int proto = protocol_parse(doc_get_str(e, "Protocol"));
			memset(r, 0, sizeof(*r));
			if (number < NACL_RULE_MIN || number > NACL_RULE_MAX || proto == -2 ||
			    !cidr_parse(doc_get_str(e, "CidrBlock"), &r->nr_cidr, NULL))
				continue;	/* "*" is implicit; IPv6 entries are not carried */
			r->nr_number = (uint16_t)number;
			r->nr_egress = doc_get_bool(e, "Egress", false);
			r->nr_allow = str_eq(doc_get_str(e, "RuleAction"), "allow");
			r->nr_protocol = (int16_t)proto;
			const struct doc *pr = doc_get(e, "PortRange");
			r->nr_port_from = (uint16_t)doc_get_int(pr, "From", 0);
			r->nr_port_to = (uint16_t)doc_get_int(pr, "To", 65535);
			const struct doc *ic = doc_get(e, "IcmpTypeCode");
			r->nr_icmp_type = (int16_t)doc_get_int(ic, "Type", -1);
			r->nr_icmp_code = (int16_t)doc_get_int(ic, "Code", -1);
			m++;
		}
		a->rules = rules;
		a->n_rules = m;
		used += m;
		k++;
	}
	p->np_cfg.nacls = p->np_nacls;
	p->np_cfg.n_nacls = k;
}

/* A rule whose peer is a prefix list: one rule per CIDR of the list. */
struct pl_rule_ctx {
	struct net_sg_rule_config *pr_rules;
	size_t *pr_n;
	struct net_sg_rule_config pr_tmpl;
};

static void add_pl_rule(void *arg, const struct cidr4 *cidr)
{
	struct pl_rule_ctx *pc = arg;
	struct net_sg_rule_config *r = &pc->pr_rules[(*pc->pr_n)++];
	*r = pc->pr_tmpl;
	r->cidr = *cidr;
}

static void build_sgs(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t ng, nr;
	struct res **groups = cache_list(c, RT_SG, &ng);
	struct res **rules = cache_list(c, RT_SG_RULE, &nr);
	size_t max = nr;	/* a prefix list's rule becomes one per CIDR */
	for (size_t j = 0; j < nr; j++)
		max += prefix_list_cidrs(c, doc_get_str(rules[j]->r_doc, "PrefixListId"), NULL, NULL);
	/* each group's rules, in creation order: a counting sort by group
	 * (group i's are by_group[first[i] .. first[i + 1])) */
	struct idmap gi;
	idmap_init(&gi, ng);
	for (size_t i = 0; i < ng; i++)
		idmap_add(&gi, groups[i]->r_id, (uint32_t)i);
	size_t *first = alloc_n(ng + 1, sizeof(*first)), *fill = alloc_n(ng + 1, sizeof(*fill));
	size_t *by_group = alloc_n(nr, sizeof(*by_group));
	for (size_t j = 0; j < nr; j++) {
		int64_t g = idmap_get(&gi, doc_get_str(rules[j]->r_doc, "GroupId"));
		if (g >= 0)
			first[g + 1]++;
	}
	for (size_t i = 0; i < ng; i++)
		fill[i] = first[i + 1] += first[i];
	for (size_t i = ng; i-- > 0;)
		fill[i] = first[i];
	for (size_t j = 0; j < nr; j++) {
		int64_t g = idmap_get(&gi, doc_get_str(rules[j]->r_doc, "GroupId"));
		if (g >= 0)
			by_group[fill[g]++] = j;
	}
	idmap_free(&gi);
	p->np_sgs = alloc_n(ng, sizeof(*p->np_sgs));
	p->np_sg_rules = alloc_n(max, sizeof(*p->np_sg_rules));
	size_t used = 0, k = 0;
	for (size_t i = 0; i < ng; i++) {
		struct net_sg_config *g = &p->np_sgs[k];
		if (!id_copy(g->id, groups[i]->r_id) || !id_copy(g->vpc_id, doc_get_str(groups[i]->r_doc, "VpcId")))
			continue;
		struct net_sg_rule_config *out = &p->np_sg_rules[used];
		size_t m = 0;
		for (size_t q = first[i]; q < first[i + 1]; q++) {
			size_t j = by_group[q];
			const struct doc *d = rules[j]->r_doc;
			struct net_sg_rule_config *r = &out[m];
			memset(r, 0, sizeof(*r));
			int proto = protocol_parse(doc_get_str(d, "IpProtocol"));
			if (proto == -2)
				continue;
			r->egress = doc_get_bool(d, "IsEgress", false);
			r->protocol = (int16_t)proto;
			r->from_port = (int32_t)doc_get_int(d, "FromPort", -1);
			r->to_port = (int32_t)doc_get_int(d, "ToPort", -1);
			id_copy(r->rule_id, rules[j]->r_id);
			if (doc_get_str(d, "CidrIpv4")) {
				if (!cidr_parse(doc_get_str(d, "CidrIpv4"), &r->cidr, NULL))
					continue;
			} else if (doc_get_str(d, "PrefixListId")) {
				struct pl_rule_ctx pc = { out, &m, *r };
				prefix_list_cidrs(c, doc_get_str(d, "PrefixListId"), add_pl_rule, &pc);
				continue;
			} else if (!id_copy(r->group_id, doc_get_str(doc_get(d, "ReferencedGroupInfo"), "GroupId"))) {
				continue;	/* IPv6 */
			}
			m++;
		}
		g->rules = out;
		g->n_rules = m;
		used += m;
		k++;
	}
	p->np_cfg.sgs = p->np_sgs;
	p->np_cfg.n_sgs = k;
	free(first);
	free(fill);
	free(by_group);
	idmap_init(&b->b_sgs, k);
	for (size_t i = 0; i < k; i++)
		idmap_add(&b->b_sgs, p->np_sgs[i].id, (uint32_t)i);
}

/* --- ENIs and instances ------------------------------------------------------------ */

static bool mac_parse(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return true;
}

static bool subnet_cidr(const struct plan_build *b, const char *subnet_id, struct cidr4 *out)
{
	int64_t i = idmap_get(&b->b_subnets, subnet_id);
	if (i < 0)
		return false;
	*out = b->p->np_subnets[i].cidr;
	return true;
}

static const char *subnet_vpc(const struct plan_build *b, const char *subnet_id)
{
	int64_t i = idmap_get(&b->b_subnets, subnet_id);
	return i < 0 ? "" : b->p->np_subnets[i].vpc_id;
}

static void build_enis(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t n;
	struct res **enis = cache_list(c, RT_ENI, &n);
	p->np_enis = alloc_n(n, sizeof(*p->np_enis));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = enis[i]->r_doc;
		struct net_eni_config *e = &p->np_enis[k];
		struct cidr4 sn;
		memset(e, 0, sizeof(*e));
		if (!id_copy(e->id, enis[i]->r_id) || !id_copy(e->subnet_id, doc_get_str(d, "SubnetId")) ||
		    !subnet_cidr(b, e->subnet_id, &sn) || !ip4_parse(doc_get_str(d, "PrivateIpAddress"), &e->ip) ||
		    !cidr_contains_ip(&sn, e->ip) || !mac_parse(doc_get_str(d, "MacAddress"), e->mac))
			continue;
		if (!ip4_parse(doc_get_str(doc_get(d, "Association"), "PublicIp"), &e->public_ip))
			e->public_ip = 0;
		e->src_dst_check = doc_get_bool(d, "SourceDestCheck", true);
		doc_foreach(g, doc_get(d, "Groups")) {
			const char *gid = doc_get_str(g, "GroupId");
			if (e->n_groups < NET_ENI_MAX_GROUPS && known(&b->b_sgs, gid) && id_copy(e->group_ids[e->n_groups], gid))
				e->n_groups++;
		}
		e->tap_fd = -1;
		k++;
	}
	p->np_cfg.enis = p->np_enis;
	p->np_cfg.n_enis = k;
	idmap_init(&b->b_enis, k);
	for (size_t i = 0; i < k; i++)
		idmap_add(&b->b_enis, p->np_enis[i].id, (uint32_t)i);
}

/* --- NAT gateways and peering connections ------------------------------------ */

static void build_nats_peerings(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t nn, np;
	struct res **nats = cache_list(c, RT_NATGW, &nn);
	struct res **pcxs = cache_list(c, RT_PCX, &np);
	p->np_nats = alloc_n(nn, sizeof(*p->np_nats));
	p->np_peerings = alloc_n(np, sizeof(*p->np_peerings));
	size_t k = 0;
	for (size_t i = 0; i < nn; i++) {
		const struct doc *d = nats[i]->r_doc;
		struct net_nat_config *n = &p->np_nats[k];
		const char *eni = NULL;
		doc_foreach(a, doc_get(d, "NatGatewayAddresses"))
			if (!eni)
				eni = doc_get_str(a, "NetworkInterfaceId");
		if (!natgw_is_live(d) || !known(&b->b_enis, eni) || !id_copy(n->id, nats[i]->r_id) || !id_copy(n->eni_id, eni))
			continue;
		k++;
	}
	p->np_cfg.nats = p->np_nats;
	p->np_cfg.n_nats = k;
	k = 0;
	for (size_t i = 0; i < np; i++) {
		const struct doc *d = pcxs[i]->r_doc;
		struct net_peering_config *pc = &p->np_peerings[k];
		if (!pcx_is_active(d) || !id_copy(pc->id, pcxs[i]->r_id) ||
		    !id_copy(pc->vpc_ids[0], doc_get_str(doc_get(d, "RequesterVpcInfo"), "VpcId")) ||
		    !id_copy(pc->vpc_ids[1], doc_get_str(doc_get(d, "AccepterVpcInfo"), "VpcId")))
			continue;
		k++;
	}
	p->np_cfg.peerings = p->np_peerings;
	p->np_cfg.n_peerings = k;
	idmap_init(&b->b_nats, p->np_cfg.n_nats);
	for (size_t i = 0; i < p->np_cfg.n_nats; i++)
		idmap_add(&b->b_nats, p->np_nats[i].id, (uint32_t)i);
	idmap_init(&b->b_pcxs, k);
	for (size_t i = 0; i < k; i++)
		idmap_add(&b->b_pcxs, p->np_peerings[i].id, (uint32_t)i);
}

static const char *tag_value(const struct doc *d, const char *key)
{
	doc_foreach(t, doc_get(d, "Tags"))
		if (str_eq(doc_get_str(t, "Key"), key))
			return doc_get_str(t, "Value");
	return NULL;
}

/* Each instance's ENIs in the plan, indexed: for instance list[i], its
 * primary (the first plan ENI attached with DeviceIndex 0, -1 none) and
 * its secondaries (DeviceIndex 1..ENGINE_DEV_MAX, in plan order) as
 * sec[sec_first[i] .. sec_first[i + 1]], plan ENI indices. */
struct instance_enis {
	long *ie_primary;
	size_t *ie_sec_first;
	size_t *ie_sec;
};

static void index_instance_enis(const struct plan_build *b, struct res **list, size_t n, struct instance_enis *ie)
{
	const struct engine_net_plan *p = b->p;
	size_t ne = p->np_cfg.n_enis;
	struct idmap by_id;
	idmap_init(&by_id, n);
	for (size_t i = 0; i < n; i++)
		idmap_add(&by_id, list[i]->r_id, (uint32_t)i);
	ie->ie_primary = alloc_n(n, sizeof(*ie->ie_primary));
	ie->ie_sec_first = alloc_n(n + 1, sizeof(*ie->ie_sec_first));
	ie->ie_sec = alloc_n(ne, sizeof(*ie->ie_sec));
	for (size_t i = 0; i < n; i++)
		ie->ie_primary[i] = -1;
	int64_t *owner = alloc_n(ne, sizeof(*owner));	/* the instance of a secondary, -1 */
	for (size_t k = 0; k < ne; k++) {
		const struct res *r = cache_get_typed(b->c, RT_ENI, p->np_enis[k].id);
		const struct doc *a = r ? doc_get(r->r_doc, "Attachment") : NULL;
		int64_t i = idmap_get(&by_id, doc_get_str(a, "InstanceId"));
		int64_t dev = doc_get_int(a, "DeviceIndex", -1);
		owner[k] = -1;
		if (i < 0)
			continue;
		if (dev == 0 && ie->ie_primary[i] < 0)
			ie->ie_primary[i] = (long)k;
		else if (dev >= 1 && dev <= ENGINE_DEV_MAX) {
			owner[k] = i;
			ie->ie_sec_first[i + 1]++;
		}
	}
	for (size_t i = 0; i < n; i++)
		ie->ie_sec_first[i + 1] += ie->ie_sec_first[i];
	size_t *fill = alloc_n(n + 1, sizeof(*fill));
	memcpy(fill, ie->ie_sec_first, (n + 1) * sizeof(*fill));
	for (size_t k = 0; k < ne; k++)
		if (owner[k] >= 0)
			ie->ie_sec[fill[owner[k]]++] = k;
	free(fill);
	free(owner);
	idmap_free(&by_id);
}

/* The secondary ENIs (DeviceIndex 1..ENGINE_DEV_MAX) of the running
 * instance in (list index i), after its primary was placed. */
static void add_secondaries(struct plan_build *b, const struct instance_enis *ie, size_t i,
			    const struct engine_net_instance *in)
{
	struct engine_net_plan *p = b->p;
	for (size_t q = ie->ie_sec_first[i]; q < ie->ie_sec_first[i + 1]; q++) {
		size_t k = ie->ie_sec[q];
		const struct res *r = cache_get_typed(b->c, RT_ENI, p->np_enis[k].id);
		struct engine_net_instance *s = &p->np_secondary[p->np_nsecondary];
		*s = *in;
		s->ni_eni = k;
		s->ni_dev = (int)doc_get_int(doc_get(r->r_doc, "Attachment"), "DeviceIndex", -1);
		if (subnet_cidr(b, p->np_enis[k].subnet_id, &s->ni_subnet))
			p->np_nsecondary++;
	}
}

static void build_instances(struct plan_build *b)
{
	struct engine_net_plan *p = b->p;
	struct cache *c = b->c;
	size_t n;
	struct res **list = cache_list(c, RT_INSTANCE, &n);
	struct instance_enis ie;
	index_instance_enis(b, list, n, &ie);
	p->np_secondary = alloc_n(p->np_cfg.n_enis, sizeof(*p->np_secondary));
	p->np_instances = alloc_n(n, sizeof(*p->np_instances));
	p->np_stopped = alloc_n(n, sizeof(*p->np_stopped));
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = list[i]->r_doc;
		const char *image = doc_get_str(d, "ImageId");
		bool linux_ns = str_eq(image, ENGINE_IMAGE_LINUX);
		bool join = str_eq(image, ENGINE_IMAGE_JOIN);
		bool running = str_eq(doc_get_str(doc_get(d, "State"), "Name"), "running");
		struct engine_net_instance *in = &p->np_instances[p->np_ninstances];
		memset(in, 0, sizeof(*in));
		if (!id_copy(in->ni_id, list[i]->r_id) || (!linux_ns && !join))
			continue;
		if (!running) {
			if (linux_ns)
				id_copy(p->np_stopped[p->np_nstopped++], list[i]->r_id);
			continue;
		}
		long e = ie.ie_primary[i];
		if (e < 0 || !subnet_cidr(b, p->np_enis[e].subnet_id, &in->ni_subnet))
			continue;
		if (join && !id_copy(in->ni_join, tag_value(d, ENGINE_NETNS_TAG)))
			continue;	/* no namespace named: nothing to join */
		in->ni_eni = (size_t)e;
		if (linux_ns)
			vpc_resolv_conf(c, subnet_vpc(b, p->np_enis[e].subnet_id), in->ni_resolv, sizeof(in->ni_resolv));
		p->np_ninstances++;
		add_secondaries(b, &ie, i, in);
	}
	free(ie.ie_primary);
	free(ie.ie_sec_first);
	free(ie.ie_sec);
}

struct engine_net_plan *engine_net_plan_build(struct cache *c)
{
	struct plan_build b = { .p = alloc_n(1, sizeof(struct engine_net_plan)), .c = c };
	/* order matters: ENIs check subnets and groups; NAT gateways their
	 * ENIs; routes check gateways, ENIs, NAT gateways and peering
	 * connections; instances look for their ENIs */
	build_gateways(&b);
	build_subnets(&b);
	build_nacls(&b);
	build_sgs(&b);
	build_enis(&b);
	build_nats_peerings(&b);
	build_tables(&b);
	build_instances(&b);
	struct idmap *maps[] = { &b.b_gws, &b.b_enis, &b.b_nats, &b.b_pcxs, &b.b_subnets, &b.b_sgs,
				 &b.b_subnet_rtb, &b.b_main_rtb };
	for (size_t i = 0; i < ARRAY_LEN(maps); i++)
		idmap_free(maps[i]);
	return b.p;
}

const char *engine_net_sg_rule_id(const struct engine_net_plan *p, const char *group_id, int32_t index)
{
	for (size_t i = 0; i < p->np_cfg.n_sgs; i++)
		if (str_eq(p->np_sgs[i].id, group_id))
			return index >= 0 && (size_t)index < p->np_sgs[i].n_rules ? p->np_sgs[i].rules[index].rule_id : NULL;
	return NULL;
}

/* --- the packet trace's reads ---------------------------------------------- */

int engine_net_trace_endpoint(struct cache *c, const char *what, const char *text, const char **eni, uint32_t *addr,
			      char *err, size_t errlen)
{
	*eni = NULL;
	*addr = 0;
	if (!text || !*text) {
		snprintf(err, errlen, "--%s is required: an instance id, a network interface id or an IPv4 address", what);
		return -1;
	}
	if (strncmp(text, "i-", 2) == 0) {
		size_t n;
		struct res **enis = cache_list(c, RT_ENI, &n);
		for (size_t i = 0; i < n; i++) {
			const struct doc *a = doc_get(enis[i]->r_doc, "Attachment");
			if (str_eq(doc_get_str(a, "InstanceId"), text) && doc_get_int(a, "DeviceIndex", -1) == 0) {
				*eni = enis[i]->r_id;
				return 0;
			}
		}
		snprintf(err, errlen, "%s: the instance %.64s %s", what, text,
			 cache_get_typed(c, RT_INSTANCE, text) ? "has no network interface (stopped or terminated?)"
							       : "does not exist");
		return -1;
	}
	if (strncmp(text, "eni-", 4) == 0) {
		struct res *r = cache_get_typed(c, RT_ENI, text);
		if (!r) {
			snprintf(err, errlen, "%s: the network interface %.64s does not exist", what, text);
			return -1;
		}
		*eni = r->r_id;
		return 0;
	}
	if (!ip4_parse(text, addr)) {
		snprintf(err, errlen, "%s: '%.64s' is neither an instance id, a network interface id nor an IPv4 address", what,
			 text);
		return -1;
	}
	return 0;
}

const char *engine_net_eni_instance(struct cache *c, const char *eni_id)
{
	const struct res *r = cache_get_typed(c, RT_ENI, eni_id);
	return r ? doc_get_str(doc_get(r->r_doc, "Attachment"), "InstanceId") : NULL;
}

struct covers {
	uint32_t cv_addr;
	bool cv_yes;
};

static void covers_add(void *arg, const struct cidr4 *dest)
{
	struct covers *cv = arg;
	if (cidr_contains_ip(dest, cv->cv_addr))
		cv->cv_yes = true;
}

bool engine_net_vgw_carries(struct cache *c, const char *vgw_id, uint32_t addr)
{
	struct covers cv = { addr, false };
	vgw_propagated_routes(c, vgw_id, covers_add, &cv);
	return cv.cv_yes;
}

const char *engine_net_conn_of_key(struct cache *c, uint64_t key, size_t *up)
{
	size_t n;
	struct res **vpns = cache_list(c, RT_VPN, &n);
	*up = 0;
	for (size_t i = 0; key && i < n; i++)
		if (engine_vpn_conn_key(vpns[i]->r_id) == key) {
			*up = vpn_tunnels_up(vpns[i]->r_doc);
			return vpns[i]->r_id;
		}
	return NULL;
}

void engine_net_plan_free(struct engine_net_plan *p)
{
	if (!p)
		return;
	free(p->np_subnets);
	free(p->np_tables);
	free(p->np_routes);
	free(p->np_nacls);
	free(p->np_nacl_rules);
	free(p->np_sgs);
	free(p->np_sg_rules);
	free(p->np_enis);
	free(p->np_gateways);
	free(p->np_vgw_routes);
	free(p->np_nats);
	free(p->np_peerings);
	free(p->np_gw_port);
	free(p->np_instances);
	free(p->np_secondary);
	free(p->np_stopped);
	free(p);
}
