/*
 * trace.c — api_trace(): the model's packet trace over the cache
 * (api/trace.h). Builds the plain structs of model/trace.h from the docs,
 * borrowing every string from them (valid for the call: nothing changes
 * the cache meanwhile), walks, frees. Cost: one pass over each resource
 * type, O(resources) memory for the duration of the call.
 */
#include "api/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/eni.h"
#include "api/resources.h"
#include "base/base.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define ICMP_ECHO_REQUEST 8

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Every allocation of one build, freed together. */
struct build {
	void **b_allocs;
	size_t b_n, b_cap;
};

static void *build_alloc(struct build *b, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		abort();
	if (b->b_n == b->b_cap) {
		b->b_cap = b->b_cap ? b->b_cap * 2 : 32;
		b->b_allocs = realloc(b->b_allocs, b->b_cap * sizeof(*b->b_allocs));
		if (!b->b_allocs)
			abort();
	}
	b->b_allocs[b->b_n++] = p;
	return p;
}

static void build_free(struct build *b)
{
	for (size_t i = 0; i < b->b_n; i++)
		free(b->b_allocs[i]);
	free(b->b_allocs);
}

static size_t count_children(const struct doc *list)
{
	return list ? list->d_count : 0;
}

/* --- VPN gateways: tunnels UP and the routes of connections with one --------- */

static void add_vgw_route(void *arg, const struct cidr4 *dest)
{
	struct trace_vgw *g = arg;
	((struct cidr4 *)g->vg_routes)[g->vg_nroutes++] = *dest;
}

static void build_vgws(struct build *b, struct cache *c, struct trace_net *net)
{
	size_t ng, nv;
	struct res **gws = cache_list(c, RT_VGW, &ng);
	struct res **vpns = cache_list(c, RT_VPN, &nv);
	struct trace_vgw *out = build_alloc(b, ng, sizeof(*out));
	for (size_t i = 0; i < ng; i++) {
		struct trace_vgw *g = &out[i];
		g->vg_id = gws[i]->r_id;
		for (size_t k = 0; k < nv; k++)
			if (str_eq(doc_get_str(vpns[k]->r_doc, "VpnGatewayId"), g->vg_id))
				g->vg_tunnels_up += vpn_tunnels_up(vpns[k]->r_doc);
		/* the routes it propagates (resources.h: the same as the data plane's) */
		g->vg_routes = build_alloc(b, vgw_propagated_routes(c, g->vg_id, NULL, NULL), sizeof(*g->vg_routes));
		vgw_propagated_routes(c, g->vg_id, add_vgw_route, g);
	}
	net->tn_vgws = out;
	net->tn_nvgws = ng;
}

static const struct trace_vgw *vgw_find(const struct trace_net *net, const char *id)
{
	for (size_t i = 0; i < net->tn_nvgws; i++)
		if (str_eq(net->tn_vgws[i].vg_id, id))
			return &net->tn_vgws[i];
	return NULL;
}

/* --- VPCs and subnets ---------------------------------------------------------- */

static const char *attached_gateway(struct cache *c, const char *type, const char *member, const char *vpc_id)
{
	size_t n;
	struct res **list = cache_list(c, type, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(list[i]->r_doc, member)) {
			const char *st = doc_get_str(a, "State");
			if (str_eq(doc_get_str(a, "VpcId"), vpc_id) && (!st || str_eq(st, "available") || str_eq(st, "attached")))
				return list[i]->r_id;
		}
	return NULL;
}

static void build_vpcs(struct build *b, struct cache *c, struct trace_net *net)
{
	size_t n;
	struct res **vpcs = cache_list(c, RT_VPC, &n);
	struct trace_vpc *out = build_alloc(b, n, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = vpcs[i]->r_doc;
		const struct doc *assoc = doc_get(d, "CidrBlockAssociationSet");
		struct cidr4 *cidrs = build_alloc(b, count_children(assoc) + 1, sizeof(*cidrs));
		size_t k = 0;
		if (cidr_parse(doc_get_str(d, "CidrBlock"), &cidrs[k], NULL))
			k++;
		doc_foreach(a, assoc)
			if (!str_eq(doc_get_str(a, "CidrBlock"), doc_get_str(d, "CidrBlock")) &&
			    cidr_parse(doc_get_str(a, "CidrBlock"), &cidrs[k], NULL))
				k++;
		out[i] = (struct trace_vpc){ vpcs[i]->r_id, cidrs, k, attached_gateway(c, RT_IGW, "Attachments", vpcs[i]->r_id),
					     attached_gateway(c, RT_VGW, "VpcAttachments", vpcs[i]->r_id) };
	}
	net->tn_vpcs = out;
	net->tn_nvpcs = n;
	struct res **subnets = cache_list(c, RT_SUBNET, &n);
	struct trace_subnet *s = build_alloc(b, n, sizeof(*s));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (cidr_parse(doc_get_str(subnets[i]->r_doc, "CidrBlock"), &s[k].su_cidr, NULL)) {
			s[k].su_id = subnets[i]->r_id;
			s[k].su_vpc = doc_get_str(subnets[i]->r_doc, "VpcId");
			k++;
		}
	net->tn_subnets = s;
	net->tn_nsubnets = k;
}

/* --- route tables -------------------------------------------------------------------- */

/* The target of route doc r into out (tr_dest untouched). */
static void route_target_from_doc(const struct doc *r, struct trace_route *out)
{
	const char *gw = doc_get_str(r, "GatewayId");
	const char *eni = doc_get_str(r, "NetworkInterfaceId");
	out->tr_blackhole = str_eq(doc_get_str(r, "State"), "blackhole");
	if (gw && strcmp(gw, "local") == 0) {
		out->tr_kind = TRACE_TARGET_LOCAL;
		out->tr_target = gw;
	} else if (gw && strncmp(gw, "igw-", 4) == 0) {
		out->tr_kind = TRACE_TARGET_IGW;
		out->tr_target = gw;
	} else if (gw && strncmp(gw, "vgw-", 4) == 0) {
		out->tr_kind = TRACE_TARGET_VGW;
		out->tr_target = gw;
	} else if (eni) {
		out->tr_kind = TRACE_TARGET_ENI;
		out->tr_target = eni;
	} else {
		out->tr_kind = TRACE_TARGET_OTHER;
		static const char *const others[] = { "NatGatewayId", "VpcPeeringConnectionId", "TransitGatewayId",
						      "InstanceId", "EgressOnlyInternetGatewayId", "VpcEndpointId",
						      "LocalGatewayId", "CarrierGatewayId" };
		out->tr_target = gw;
		for (size_t i = 0; i < ARRAY_LEN(others) && !out->tr_target; i++)
			out->tr_target = doc_get_str(r, others[i]);
		if (!out->tr_target)
			out->tr_target = "?";
	}
}

static bool route_from_doc(const struct doc *r, struct trace_route *out)
{
	if (!cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &out->tr_dest, NULL))
		return false;	/* IPv6 is not traced; prefix lists: add_pl_route */
	route_target_from_doc(r, out);
	return true;
}

/* A route to a prefix list is one route per CIDR of the list, as the data
 * plane has it (engine_net.c). */
struct pl_route_ctx {
	struct trace_route *pr_routes;
	size_t *pr_n;
	struct trace_route pr_tmpl;
};

static void add_pl_route(void *arg, const struct cidr4 *cidr)
{
	struct pl_route_ctx *pc = arg;
	struct trace_route *r = &pc->pr_routes[(*pc->pr_n)++];
	*r = pc->pr_tmpl;
	r->tr_dest = *cidr;
}

/* A security group rule whose peer is a prefix list: one per CIDR. */
struct pl_rule_ctx {
	struct trace_sg_rule *pr_rules;
	size_t *pr_n;
	struct trace_sg_rule pr_tmpl;
};

static void add_pl_rule(void *arg, const struct cidr4 *cidr)
{
	struct pl_rule_ctx *pc = arg;
	struct trace_sg_rule *r = &pc->pr_rules[(*pc->pr_n)++];
	*r = pc->pr_tmpl;
	r->sr_cidr = *cidr;
	r->sr_has_cidr = true;
}

static void build_tables(struct build *b, struct cache *c, struct trace_net *net)
{
	size_t n;
	struct res **tables = cache_list(c, RT_ROUTE_TABLE, &n);
	struct trace_route_table *out = build_alloc(b, n, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = tables[i]->r_doc;
		struct trace_route_table *t = &out[i];
		t->rt_id = tables[i]->r_id;
		t->rt_vpc = doc_get_str(d, "VpcId");
		const struct doc *assocs = doc_get(d, "Associations");
		const char **subnets = build_alloc(b, count_children(assocs), sizeof(*subnets));
		doc_foreach(a, assocs) {
			if (doc_get_bool(a, "Main", false))
				t->rt_main = true;
			else if (doc_get_str(a, "SubnetId"))
				subnets[t->rt_nsubnets++] = doc_get_str(a, "SubnetId");
		}
		t->rt_subnets = subnets;
		/* the table's routes, then the routes its propagating VPN gateways
		 * learn while a tunnel is UP (after: static wins a tie) */
		size_t max = count_children(doc_get(d, "Routes"));
		doc_foreach(r, doc_get(d, "Routes"))
			max += prefix_list_cidrs(c, doc_get_str(r, "DestinationPrefixListId"), NULL, NULL);
		doc_foreach(p, doc_get(d, "PropagatingVgws")) {
			const struct trace_vgw *g = vgw_find(net, doc_get_str(p, "GatewayId"));
			max += g ? g->vg_nroutes : 0;
		}
		struct trace_route *routes = build_alloc(b, max, sizeof(*routes));
		doc_foreach(r, doc_get(d, "Routes"))
			if (route_from_doc(r, &routes[t->rt_nroutes]))
				t->rt_nroutes++;
		doc_foreach(r, doc_get(d, "Routes")) {
			const char *pl = doc_get_str(r, "DestinationPrefixListId");
			if (!pl)
				continue;
			struct pl_route_ctx pc = { .pr_routes = routes, .pr_n = &t->rt_nroutes };
			pc.pr_tmpl.tr_blackhole = str_eq(doc_get_str(r, "State"), "blackhole");
			route_target_from_doc(r, &pc.pr_tmpl);
			prefix_list_cidrs(c, pl, add_pl_route, &pc);
		}
		doc_foreach(p, doc_get(d, "PropagatingVgws")) {
			const struct trace_vgw *g = vgw_find(net, doc_get_str(p, "GatewayId"));
			for (size_t k = 0; g && k < g->vg_nroutes; k++)
				routes[t->rt_nroutes++] = (struct trace_route){ g->vg_routes[k], TRACE_TARGET_VGW, g->vg_id, false };
		}
		t->rt_routes = routes;
	}
	net->tn_tables = out;
	net->tn_ntables = n;
}

/* --- network ACLs ----------------------------------------------------------------------- */

static void build_nacls(struct build *b, struct cache *c, struct trace_net *net)
{
	size_t n;
	struct res **acls = cache_list(c, RT_NACL, &n);
	size_t ns;
	struct res **subs = cache_list(c, RT_SUBNET, &ns);
	struct trace_nacl *out = build_alloc(b, n, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = acls[i]->r_doc;
		struct trace_nacl *a = &out[i];
		a->na_id = acls[i]->r_id;
		size_t count = 0;
		for (size_t k = 0; k < ns; k++)
			if (str_eq(subnet_nacl_id(subs[k]->r_doc), a->na_id))
				count++;
		const char **subnets = build_alloc(b, count, sizeof(*subnets));
		for (size_t k = 0; k < ns; k++)
			if (str_eq(subnet_nacl_id(subs[k]->r_doc), a->na_id))
				subnets[a->na_nsubnets++] = subs[k]->r_id;
		a->na_subnets = subnets;
		const struct doc *entries = doc_get(d, "Entries");
		struct nacl_rule *rules = build_alloc(b, count_children(entries), sizeof(*rules));
		doc_foreach(e, entries) {
			struct nacl_rule *r = &rules[a->na_nrules];
			int64_t number = doc_get_int(e, "RuleNumber", 0);
			int proto = protocol_parse(doc_get_str(e, "Protocol"));
			if (number < NACL_RULE_MIN || number > NACL_RULE_MAX || proto == -2 ||
			    !cidr_parse(doc_get_str(e, "CidrBlock"), &r->nr_cidr, NULL))
				continue;	/* the "*" rule is implicit; IPv6 entries are not traced */
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
			a->na_nrules++;
		}
		a->na_rules = rules;
	}
	net->tn_nacls = out;
	net->tn_nnacls = n;
}

/* --- security groups ----------------------------------------------------------------------- */

static void build_sgs(struct build *b, struct cache *c, struct trace_net *net)
{
	size_t ng, nr;
	struct res **groups = cache_list(c, RT_SG, &ng);
	struct res **rules = cache_list(c, RT_SG_RULE, &nr);
	struct trace_sg *out = build_alloc(b, ng, sizeof(*out));
	size_t max = nr;	/* a prefix list's rule is one per CIDR */
	for (size_t k = 0; k < nr; k++)
		max += prefix_list_cidrs(c, doc_get_str(rules[k]->r_doc, "PrefixListId"), NULL, NULL);
	struct trace_sg_rule *all = build_alloc(b, max, sizeof(*all));
	size_t used = 0;
	for (size_t i = 0; i < ng; i++) {
		struct trace_sg *g = &out[i];
		g->sg_id = groups[i]->r_id;
		g->sg_rules = &all[used];
		for (size_t k = 0; k < nr; k++) {
			const struct doc *d = rules[k]->r_doc;
			if (!str_eq(doc_get_str(d, "GroupId"), g->sg_id))
				continue;
			struct trace_sg_rule *r = &all[used];
			memset(r, 0, sizeof(*r));
			int proto = protocol_parse(doc_get_str(d, "IpProtocol"));
			if (proto == -2)
				continue;
			r->sr_id = rules[k]->r_id;
			r->sr_egress = doc_get_bool(d, "IsEgress", false);
			r->sr_protocol = (int16_t)proto;
			r->sr_from = (int32_t)doc_get_int(d, "FromPort", -1);
			r->sr_to = (int32_t)doc_get_int(d, "ToPort", -1);
			if (doc_get_str(d, "CidrIpv4")) {
				if (!cidr_parse(doc_get_str(d, "CidrIpv4"), &r->sr_cidr, NULL))
					continue;
				r->sr_has_cidr = true;
			} else if (doc_get_str(d, "PrefixListId")) {
				struct pl_rule_ctx pc = { .pr_rules = all, .pr_n = &used, .pr_tmpl = *r };
				size_t before = used;
				prefix_list_cidrs(c, doc_get_str(d, "PrefixListId"), add_pl_rule, &pc);
				g->sg_nrules += used - before;
				continue;
			} else if (!(r->sr_group = doc_get_str(doc_get(d, "ReferencedGroupInfo"), "GroupId"))) {
				continue;	/* IPv6 is not traced */
			}
			used++;
			g->sg_nrules++;
		}
	}
	net->tn_sgs = out;
	net->tn_nsgs = ng;
}

/* --- ENIs --------------------------------------------------------------------------------- */

static void build_enis(struct build *b, struct cache *c, struct trace_net *net)
{
	size_t n;
	struct res **enis = cache_list(c, RT_ENI, &n);
	struct trace_eni *out = build_alloc(b, n, sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = enis[i]->r_doc;
		struct trace_eni *e = &out[k];
		if (!ip4_parse(doc_get_str(d, "PrivateIpAddress"), &e->en_addr))
			continue;
		e->en_id = enis[i]->r_id;
		e->en_instance = doc_get_str(doc_get(d, "Attachment"), "InstanceId");
		e->en_subnet = doc_get_str(d, "SubnetId");
		if (!ip4_parse(doc_get_str(doc_get(d, "Association"), "PublicIp"), &e->en_public))
			e->en_public = 0;
		e->en_source_dest_check = doc_get_bool(d, "SourceDestCheck", true);
		const struct doc *groups = doc_get(d, "Groups");
		const char **ids = build_alloc(b, count_children(groups), sizeof(*ids));
		doc_foreach(g, groups)
			if (doc_get_str(g, "GroupId"))
				ids[e->en_ngroups++] = doc_get_str(g, "GroupId");
		e->en_groups = ids;
		k++;
	}
	net->tn_enis = out;
	net->tn_nenis = k;
}

/* --- the query ----------------------------------------------------------------------------- */

/* "i-…" (its primary ENI), "eni-…" or an address into an endpoint. */
static int endpoint_parse(struct cache *c, const char *what, const char *text, struct trace_endpoint *out, char *err,
			  size_t errlen)
{
	memset(out, 0, sizeof(*out));
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
				out->te_eni = enis[i]->r_id;
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
		out->te_eni = r->r_id;
		return 0;
	}
	if (!ip4_parse(text, &out->te_addr)) {
		snprintf(err, errlen, "%s: '%.64s' is neither an instance id, a network interface id nor an IPv4 address", what,
			 text);
		return -1;
	}
	return 0;
}

int api_trace_packet(struct cache *c, const struct api_trace_query *q, struct trace_packet *out, char *err,
		     size_t errlen)
{
	struct trace_packet pkt;
	memset(&pkt, 0, sizeof(pkt));
	if (endpoint_parse(c, "from", q->aq_from, &pkt.tp_from, err, errlen) < 0 ||
	    endpoint_parse(c, "to", q->aq_to, &pkt.tp_to, err, errlen) < 0)
		return -1;
	int proto = protocol_parse(q->aq_proto);
	if (proto < 0) {
		snprintf(err, errlen, "--proto: '%.32s' is not tcp, udp, icmp or a protocol number", q->aq_proto ? q->aq_proto : "");
		return -1;
	}
	pkt.tp_protocol = (uint8_t)proto;
	if (proto == PROTO_TCP || proto == PROTO_UDP) {
		if (q->aq_port < 0 || q->aq_port > 65535 || (q->aq_port == 0 && proto == PROTO_TCP)) {
			snprintf(err, errlen, "--port: %s needs a destination port 1-65535", proto == PROTO_TCP ? "tcp" : "udp");
			return -1;
		}
		if (q->aq_src_port < 0 || q->aq_src_port > 65535) {
			snprintf(err, errlen, "--source-port: 1-65535");
			return -1;
		}
		pkt.tp_port = (uint16_t)q->aq_port;
		pkt.tp_src_port = (uint16_t)q->aq_src_port;
	} else if (proto == PROTO_ICMP) {
		if (q->aq_port > 255) {
			snprintf(err, errlen, "--port: for icmp, the ICMP type 0-255");
			return -1;
		}
		pkt.tp_icmp_type = q->aq_port < 0 ? ICMP_ECHO_REQUEST : (uint8_t)q->aq_port;
	}
	*out = pkt;
	return 0;
}

int api_trace(struct cache *c, const struct api_trace_query *q, struct trace_result *out, char *err, size_t errlen)
{
	struct trace_packet pkt;
	if (api_trace_packet(c, q, &pkt, err, errlen) < 0)
		return -1;
	struct build b = { 0 };
	struct trace_net net;
	memset(&net, 0, sizeof(net));
	build_vgws(&b, c, &net);	/* before the tables: they take propagated routes from it */
	build_vpcs(&b, c, &net);
	build_tables(&b, c, &net);
	build_nacls(&b, c, &net);
	build_sgs(&b, c, &net);
	build_enis(&b, c, &net);
	trace_walk(&net, &pkt, out);
	build_free(&b);
	return 0;
}

struct doc *api_trace_doc(const struct trace_result *r)
{
	struct doc *d = doc_obj();
	doc_set_bool(d, "Reachable", r->tr_reachable);
	doc_set_str(d, "Cause", trace_cause_name(r->tr_cause));
	struct doc *steps = doc_get_list(d, "Steps");
	for (size_t i = 0; i < r->tr_nsteps; i++) {
		const struct trace_step *s = &r->tr_steps[i];
		struct doc *o = doc_push(steps, doc_obj());
		doc_set_str(o, "Step", trace_step_name(s->ts_kind));
		doc_set_bool(o, "Ok", s->ts_ok);
		doc_set_str(o, "Component", s->ts_component);
		doc_set_str(o, "Rule", s->ts_rule);
		doc_set_str(o, "Detail", s->ts_detail);
	}
	return d;
}
