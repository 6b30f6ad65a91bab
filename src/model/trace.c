/*
 * trace.c — a packet walked through the model (trace.h). Pure: reads the
 * caller's structs, writes the result, allocates nothing. Cost: linear
 * scans of the net per step (ENIs, tables, rules); a trace touches a few
 * dozen steps' worth of them, for a person waiting on a CLI.
 */
#include "model/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY 0

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* --- lookups ------------------------------------------------------------------ */

static const struct trace_eni *eni_by_id(const struct trace_net *n, const char *id)
{
	for (size_t i = 0; i < n->tn_nenis; i++)
		if (str_eq(n->tn_enis[i].en_id, id))
			return &n->tn_enis[i];
	return NULL;
}

static const struct trace_subnet *subnet_by_id(const struct trace_net *n, const char *id)
{
	for (size_t i = 0; i < n->tn_nsubnets; i++)
		if (str_eq(n->tn_subnets[i].su_id, id))
			return &n->tn_subnets[i];
	return NULL;
}

static const char *eni_vpc(const struct trace_net *n, const struct trace_eni *e)
{
	const struct trace_subnet *s = subnet_by_id(n, e->en_subnet);
	return s ? s->su_vpc : NULL;
}

/* The ENI with private address addr, preferring one in vpc (VPCs may overlap). */
static const struct trace_eni *eni_by_private(const struct trace_net *n, uint32_t addr, const char *vpc)
{
	const struct trace_eni *any = NULL;
	for (size_t i = 0; i < n->tn_nenis; i++) {
		const struct trace_eni *e = &n->tn_enis[i];
		if (e->en_addr != addr)
			continue;
		if (!vpc || str_eq(eni_vpc(n, e), vpc))
			return e;
		if (!any)
			any = e;
	}
	return vpc ? NULL : any;
}

static const struct trace_eni *eni_by_public(const struct trace_net *n, uint32_t addr)
{
	for (size_t i = 0; i < n->tn_nenis; i++)
		if (addr && n->tn_enis[i].en_public == addr)
			return &n->tn_enis[i];
	return NULL;
}

static const struct trace_vpc *vpc_by_id(const struct trace_net *n, const char *id)
{
	for (size_t i = 0; i < n->tn_nvpcs; i++)
		if (str_eq(n->tn_vpcs[i].vp_id, id))
			return &n->tn_vpcs[i];
	return NULL;
}

static const struct trace_vgw *vgw_by_id(const struct trace_net *n, const char *id)
{
	for (size_t i = 0; i < n->tn_nvgws; i++)
		if (str_eq(n->tn_vgws[i].vg_id, id))
			return &n->tn_vgws[i];
	return NULL;
}

static bool listed(const char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (str_eq(ids[i], id))
			return true;
	return false;
}

/* The subnet's explicit route table, else its VPC's main one. */
static const struct trace_route_table *table_for(const struct trace_net *n, const struct trace_subnet *s, bool *main)
{
	for (size_t i = 0; i < n->tn_ntables; i++)
		if (listed(n->tn_tables[i].rt_subnets, n->tn_tables[i].rt_nsubnets, s->su_id)) {
			*main = false;
			return &n->tn_tables[i];
		}
	for (size_t i = 0; i < n->tn_ntables; i++)
		if (n->tn_tables[i].rt_main && str_eq(n->tn_tables[i].rt_vpc, s->su_vpc)) {
			*main = true;
			return &n->tn_tables[i];
		}
	return NULL;
}

/* Longest prefix; "local" wins a tie. */
static const struct trace_route *route_lookup(const struct trace_route_table *t, uint32_t addr)
{
	const struct trace_route *best = NULL;
	for (size_t i = 0; t && i < t->rt_nroutes; i++) {
		const struct trace_route *r = &t->rt_routes[i];
		if (!cidr_contains_ip(&r->tr_dest, addr))
			continue;
		if (!best || r->tr_dest.c_len > best->tr_dest.c_len ||
		    (r->tr_dest.c_len == best->tr_dest.c_len && r->tr_kind == TRACE_TARGET_LOCAL))
			best = r;
	}
	return best;
}

static const struct trace_nacl *nacl_for(const struct trace_net *n, const char *subnet_id)
{
	for (size_t i = 0; i < n->tn_nnacls; i++)
		if (listed(n->tn_nacls[i].na_subnets, n->tn_nacls[i].na_nsubnets, subnet_id))
			return &n->tn_nacls[i];
	return NULL;
}

/* --- the packet in words ---------------------------------------------------------- */

struct flow {
	uint8_t f_proto;
	uint16_t f_port;		/* destination port */
	uint8_t f_icmp_type, f_icmp_code;
};

static void flow_text(const struct flow *f, char *buf, size_t len)
{
	if (f->f_proto == PROTO_TCP || f->f_proto == PROTO_UDP)
		snprintf(buf, len, "%s/%u", f->f_proto == PROTO_TCP ? "tcp" : "udp", f->f_port);
	else if (f->f_proto == PROTO_ICMP)
		snprintf(buf, len, "icmp type %u code %u", f->f_icmp_type, f->f_icmp_code);
	else
		snprintf(buf, len, "protocol %u", f->f_proto);
}

/* The reply of a flow: ports swap, an echo request is answered by a reply. */
static struct flow flow_reply(const struct flow *f, uint16_t src_port)
{
	struct flow r = *f;
	r.f_port = src_port;
	if (f->f_proto == PROTO_ICMP && f->f_icmp_type == ICMP_ECHO_REQUEST) {
		r.f_icmp_type = ICMP_ECHO_REPLY;
		r.f_icmp_code = 0;
	}
	return r;
}

/* --- steps ---------------------------------------------------------------------------- */

static void step(struct trace_result *out, enum trace_step_kind kind, bool ok, const char *component,
		 const char *rule, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void step(struct trace_result *out, enum trace_step_kind kind, bool ok, const char *component,
		 const char *rule, const char *fmt, ...)
{
	if (out->tr_nsteps == TRACE_STEPS_MAX)
		return;	/* a walk has at most a dozen steps; this only bounds it */
	struct trace_step *s = &out->tr_steps[out->tr_nsteps++];
	s->ts_kind = kind;
	s->ts_ok = ok;
	snprintf(s->ts_component, sizeof(s->ts_component), "%s", component ? component : "");
	snprintf(s->ts_rule, sizeof(s->ts_rule), "%s", rule ? rule : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->ts_detail, sizeof(s->ts_detail), fmt, ap);
	va_end(ap);
}

static bool drop(struct trace_result *out, enum trace_cause cause)
{
	out->tr_reachable = false;
	out->tr_cause = cause;
	return false;
}

/* --- network ACLs ---------------------------------------------------------------------- */

/* Evaluates the subnet's ACL; adds a step; false when it denies. */
static bool nacl_step(const struct trace_net *n, struct trace_result *out, enum trace_step_kind kind,
		      enum trace_cause cause, const struct trace_subnet *s, bool egress, uint32_t remote,
		      const struct flow *f)
{
	char ip[IP4_STR_MAX], what[48];
	ip4_format(remote, ip);
	flow_text(f, what, sizeof(what));
	const char *dir = egress ? "to" : "from";
	const struct trace_nacl *acl = nacl_for(n, s->su_id);
	if (!acl) {
		step(out, kind, false, s->su_id, "", "subnet %s has no network ACL: nothing passes", s->su_id);
		return drop(out, cause);
	}
	struct nacl_packet p = { egress, f->f_proto, remote, f->f_port, f->f_icmp_type, f->f_icmp_code };
	int i = nacl_evaluate(acl->na_rules, acl->na_nrules, &p);
	if (i < 0) {
		step(out, kind, false, acl->na_id, "*", "%s (%s) rule * denies %s %s %s: no rule matches", acl->na_id,
		     egress ? "outbound" : "inbound", what, dir, ip);
		return drop(out, cause);
	}
	const struct nacl_rule *r = &acl->na_rules[i];
	char num[8];
	snprintf(num, sizeof(num), "%u", r->nr_number);
	step(out, kind, r->nr_allow, acl->na_id, num, "%s (%s) rule %u %s %s %s %s", acl->na_id,
	     egress ? "outbound" : "inbound", r->nr_number, r->nr_allow ? "allows" : "denies", what, dir, ip);
	return r->nr_allow ? true : drop(out, cause);
}

/* --- security groups -------------------------------------------------------------------- */

static const struct trace_sg *sg_by_id(const struct trace_net *n, const char *id)
{
	for (size_t i = 0; i < n->tn_nsgs; i++)
		if (str_eq(n->tn_sgs[i].sg_id, id))
			return &n->tn_sgs[i];
	return NULL;
}

static bool sg_rule_matches(const struct trace_net *n, const struct trace_sg_rule *r, bool egress, uint32_t peer,
			    const char *peer_vpc, const struct flow *f)
{
	if (r->sr_egress != egress)
		return false;
	if (r->sr_protocol != -1) {
		if (r->sr_protocol != f->f_proto)
			return false;
		if (f->f_proto == PROTO_TCP || f->f_proto == PROTO_UDP) {
			if ((int32_t)f->f_port < r->sr_from || (int32_t)f->f_port > r->sr_to)
				return false;
		} else if (f->f_proto == PROTO_ICMP) {
			if ((r->sr_from != -1 && r->sr_from != f->f_icmp_type) ||
			    (r->sr_to != -1 && r->sr_to != f->f_icmp_code))
				return false;
		}
	}
	if (r->sr_has_cidr)
		return cidr_contains_ip(&r->sr_cidr, peer);
	/* a referenced group: the peer is an ENI of the VPC that has it */
	const struct trace_eni *e = peer_vpc ? eni_by_private(n, peer, peer_vpc) : NULL;
	return e && listed(e->en_groups, e->en_ngroups, r->sr_group);
}

static bool sg_step(const struct trace_net *n, struct trace_result *out, enum trace_step_kind kind,
		    enum trace_cause cause, const struct trace_eni *eni, bool egress, uint32_t peer,
		    const char *peer_vpc, const struct flow *f)
{
	char ip[IP4_STR_MAX], what[48], groups[TRACE_DETAIL_MAX / 2] = "";
	ip4_format(peer, ip);
	flow_text(f, what, sizeof(what));
	const char *dir = egress ? "to" : "from";
	size_t used = 0;
	for (size_t g = 0; g < eni->en_ngroups; g++) {
		used += (size_t)snprintf(groups + used, sizeof(groups) - used, "%s%s", g ? ", " : "", eni->en_groups[g]);
		if (used >= sizeof(groups))
			break;
		const struct trace_sg *sg = sg_by_id(n, eni->en_groups[g]);
		for (size_t i = 0; sg && i < sg->sg_nrules; i++) {
			const struct trace_sg_rule *r = &sg->sg_rules[i];
			if (!sg_rule_matches(n, r, egress, peer, peer_vpc, f))
				continue;
			char peer_text[64];
			if (r->sr_has_cidr)
				cidr_format(&r->sr_cidr, peer_text);
			else
				snprintf(peer_text, sizeof(peer_text), "members of %s", r->sr_group);
			step(out, kind, true, sg->sg_id, r->sr_id, "%s rule %s allows %s %s %s (%s)", sg->sg_id,
			     r->sr_id ? r->sr_id : "?", what, dir, ip, peer_text);
			return true;
		}
	}
	step(out, kind, false, eni->en_id, "", "no %s rule of %s (%s) allows %s %s %s", egress ? "egress" : "ingress",
	     eni->en_id, eni->en_ngroups ? groups : "no groups", what, dir, ip);
	return drop(out, cause);
}

/* --- the walks --------------------------------------------------------------------------- */

static const char *target_word(enum trace_target k)
{
	switch (k) {
	case TRACE_TARGET_LOCAL: return "local";
	case TRACE_TARGET_IGW: return "internet gateway";
	case TRACE_TARGET_VGW: return "VPN gateway";
	case TRACE_TARGET_ENI: return "network interface";
	case TRACE_TARGET_OTHER: break;
	}
	return "target";
}

/* The route step for addr from subnet s; NULL (after the drop) when none is usable. */
static const struct trace_route *route_step(const struct trace_net *n, struct trace_result *out,
					    enum trace_step_kind kind, enum trace_cause no_route,
					    const struct trace_subnet *s, uint32_t addr)
{
	char ip[IP4_STR_MAX], dest[CIDR_STR_MAX], rule[TRACE_NAME_MAX];
	ip4_format(addr, ip);
	bool main = false;
	const struct trace_route_table *t = table_for(n, s, &main);
	if (!t) {
		step(out, kind, false, s->su_id, "", "subnet %s has no route table", s->su_id);
		drop(out, no_route);
		return NULL;
	}
	const struct trace_route *r = route_lookup(t, addr);
	if (!r) {
		step(out, kind, false, t->rt_id, "", "%s (%s of %s) has no route to %s", t->rt_id,
		     main ? "main table" : "explicitly associated", s->su_id, ip);
		drop(out, no_route);
		return NULL;
	}
	cidr_format(&r->tr_dest, dest);
	snprintf(rule, sizeof(rule), "%s -> %.24s", dest, r->tr_target ? r->tr_target : "?");
	if (r->tr_blackhole) {
		step(out, kind, false, t->rt_id, rule, "%s (%s of %s): route %s -> %s is a blackhole (the target is gone)",
		     t->rt_id, main ? "main table" : "explicitly associated", s->su_id, dest, r->tr_target);
		drop(out, TRACE_BLACKHOLE);
		return NULL;
	}
	step(out, kind, true, t->rt_id, rule, "%s (%s of %s): %s matches route %s -> %s (%s)", t->rt_id,
	     main ? "main table" : "explicitly associated", s->su_id, ip, dest, r->tr_target, target_word(r->tr_kind));
	return r;
}

/* Through a VPN gateway: a tunnel UP and, when routes are known, one covering addr. */
static bool vgw_step(const struct trace_net *n, struct trace_result *out, const char *vgw_id, uint32_t addr,
		     bool inbound)
{
	char ip[IP4_STR_MAX];
	ip4_format(addr, ip);
	const struct trace_vgw *g = vgw_by_id(n, vgw_id);
	if (g && g->vg_tunnels_up == 0) {
		step(out, TRACE_STEP_GATEWAY, false, vgw_id, "", "%s has no VPN tunnel UP", vgw_id);
		return drop(out, TRACE_VPN_DOWN);
	}
	if (g && !inbound && g->vg_nroutes) {
		bool covered = false;
		for (size_t i = 0; i < g->vg_nroutes && !covered; i++)
			covered = cidr_contains_ip(&g->vg_routes[i], addr);
		if (!covered) {
			step(out, TRACE_STEP_GATEWAY, false, vgw_id, "", "%s: no route of its VPN connections covers %s", vgw_id, ip);
			return drop(out, TRACE_VPN_DOWN);
		}
	}
	if (g)
		step(out, TRACE_STEP_GATEWAY, true, vgw_id, "", "%s: %s a VPN tunnel (%zu UP)", vgw_id,
		     inbound ? "arrives from" : "leaves through", g->vg_tunnels_up);
	else
		step(out, TRACE_STEP_GATEWAY, true, vgw_id, "", "%s: %s the VPN (tunnel state unknown)", vgw_id,
		     inbound ? "arrives from" : "leaves through");
	return true;
}

static bool walk_local(const struct trace_net *n, struct trace_result *out, const struct trace_eni *src,
		       const struct trace_subnet *ssub, const struct trace_eni *dst, const struct flow *f,
		       uint16_t src_port)
{
	char ip[IP4_STR_MAX];
	const char *vpc = ssub->su_vpc;
	const struct trace_subnet *dsub = subnet_by_id(n, dst->en_subnet);
	if (!dsub) {
		step(out, TRACE_STEP_DESTINATION, false, dst->en_id, "", "%s has no subnet", dst->en_id);
		return drop(out, TRACE_NO_DESTINATION);
	}
	bool cross = !str_eq(dsub->su_id, ssub->su_id);
	struct flow back = flow_reply(f, src_port);
	if (cross && !nacl_step(n, out, TRACE_STEP_NACL_OUT, TRACE_NACL_OUT, ssub, true, dst->en_addr, f))
		return false;
	if (cross && !nacl_step(n, out, TRACE_STEP_NACL_IN, TRACE_NACL_IN, dsub, false, src->en_addr, f))
		return false;
	if (!sg_step(n, out, TRACE_STEP_SG_INGRESS, TRACE_SG_INGRESS, dst, false, src->en_addr, vpc, f))
		return false;
	if (cross && !nacl_step(n, out, TRACE_STEP_REPLY_NACL_OUT, TRACE_REPLY_NACL_OUT, dsub, true, src->en_addr, &back))
		return false;
	if (cross && !nacl_step(n, out, TRACE_STEP_REPLY_NACL_IN, TRACE_REPLY_NACL_IN, ssub, false, dst->en_addr, &back))
		return false;
	ip4_format(dst->en_addr, ip);
	step(out, TRACE_STEP_DESTINATION, true, dst->en_id, "", "delivered to %s (%s%s%s) in %s%s", dst->en_id, ip,
	     dst->en_instance ? ", " : "", dst->en_instance ? dst->en_instance : "", dsub->su_id,
	     cross ? "" : "; same subnet: network ACLs do not apply");
	return true;
}

static bool walk_from_eni(const struct trace_net *n, struct trace_result *out, const struct trace_eni *src,
			  const struct trace_packet *pkt, const struct flow *f, uint16_t src_port)
{
	char ip[IP4_STR_MAX], dip[IP4_STR_MAX], pub[IP4_STR_MAX];
	const struct trace_subnet *ssub = subnet_by_id(n, src->en_subnet);
	ip4_format(src->en_addr, ip);
	if (!ssub) {
		step(out, TRACE_STEP_SOURCE, false, src->en_id, "", "%s has no subnet", src->en_id);
		return drop(out, TRACE_NO_SOURCE);
	}
	step(out, TRACE_STEP_SOURCE, true, src->en_id, "", "%s%s%s%s (%s) in %s", src->en_id,
	     src->en_instance ? " (" : "", src->en_instance ? src->en_instance : "", src->en_instance ? ")" : "", ip,
	     ssub->su_id);
	const char *vpc = ssub->su_vpc;
	/* where to: an ENI of this VPC by its private address, else an address */
	const struct trace_eni *dst = NULL;
	uint32_t daddr = pkt->tp_to.te_addr;
	if (pkt->tp_to.te_eni) {
		dst = eni_by_id(n, pkt->tp_to.te_eni);
		daddr = dst->en_addr;
		if (!str_eq(eni_vpc(n, dst), vpc)) {
			/* another VPC: only its public address reaches it */
			daddr = dst->en_public;
			dst = NULL;
			if (!daddr) {
				step(out, TRACE_STEP_DESTINATION, false, pkt->tp_to.te_eni, "",
				     "%s is in another VPC and has no public address", pkt->tp_to.te_eni);
				return drop(out, TRACE_NO_ROUTE);
			}
		}
	}
	ip4_format(daddr, dip);
	if (!sg_step(n, out, TRACE_STEP_SG_EGRESS, TRACE_SG_EGRESS, src, true, daddr, vpc, f))
		return false;
	const struct trace_route *r = route_step(n, out, TRACE_STEP_ROUTE, TRACE_NO_ROUTE, ssub, daddr);
	if (!r)
		return false;
	struct flow back = flow_reply(f, src_port);
	switch (r->tr_kind) {
	case TRACE_TARGET_LOCAL:
		if (!dst)
			dst = eni_by_private(n, daddr, vpc);
		if (!dst) {
			step(out, TRACE_STEP_DESTINATION, false, "", "", "no network interface of %s has %s", vpc, dip);
			return drop(out, TRACE_NO_DESTINATION);
		}
		return walk_local(n, out, src, ssub, dst, f, src_port);
	case TRACE_TARGET_IGW:
		if (!nacl_step(n, out, TRACE_STEP_NACL_OUT, TRACE_NACL_OUT, ssub, true, daddr, f))
			return false;
		if (!src->en_public) {
			step(out, TRACE_STEP_GATEWAY, false, r->tr_target, "",
			     "%s: %s has no public address, so the internet gateway cannot translate %s", r->tr_target,
			     src->en_id, ip);
			return drop(out, TRACE_NO_PUBLIC_IP);
		}
		ip4_format(src->en_public, pub);
		step(out, TRACE_STEP_GATEWAY, true, r->tr_target, "", "%s translates %s to %s", r->tr_target, ip, pub);
		if (!nacl_step(n, out, TRACE_STEP_REPLY_NACL_IN, TRACE_REPLY_NACL_IN, ssub, false, daddr, &back))
			return false;
		step(out, TRACE_STEP_DESTINATION, true, "", "", "delivered to %s on the internet", dip);
		return true;
	case TRACE_TARGET_VGW:
		if (!nacl_step(n, out, TRACE_STEP_NACL_OUT, TRACE_NACL_OUT, ssub, true, daddr, f))
			return false;
		if (!vgw_step(n, out, r->tr_target, daddr, false))
			return false;
		if (!nacl_step(n, out, TRACE_STEP_REPLY_NACL_IN, TRACE_REPLY_NACL_IN, ssub, false, daddr, &back))
			return false;
		step(out, TRACE_STEP_DESTINATION, true, "", "", "delivered to %s through the VPN", dip);
		return true;
	case TRACE_TARGET_ENI: {
		const struct trace_eni *app = eni_by_id(n, r->tr_target);
		if (!app) {
			step(out, TRACE_STEP_GATEWAY, false, r->tr_target, "", "%s is not known", r->tr_target);
			return drop(out, TRACE_BLACKHOLE);
		}
		const struct trace_subnet *asub = subnet_by_id(n, app->en_subnet);
		bool cross = asub && !str_eq(asub->su_id, ssub->su_id);
		if (cross && !nacl_step(n, out, TRACE_STEP_NACL_OUT, TRACE_NACL_OUT, ssub, true, daddr, f))
			return false;
		if (cross && !nacl_step(n, out, TRACE_STEP_NACL_IN, TRACE_NACL_IN, asub, false, src->en_addr, f))
			return false;
		if (!sg_step(n, out, TRACE_STEP_SG_INGRESS, TRACE_SG_INGRESS, app, false, src->en_addr, vpc, f))
			return false;
		if (app->en_source_dest_check) {
			step(out, TRACE_STEP_SOURCE_DEST_CHECK, false, app->en_id, "",
			     "%s has the source/destination check on: it drops packets for %s", app->en_id, dip);
			return drop(out, TRACE_SOURCE_DEST_CHECK);
		}
		step(out, TRACE_STEP_GATEWAY, true, app->en_id, "", "handed to the appliance %s (source/destination check off)",
		     app->en_id);
		step(out, TRACE_STEP_DESTINATION, true, app->en_id, "",
		     "delivered to %s, which forwards it; trace on from it to follow", app->en_id);
		return true;
	}
	case TRACE_TARGET_OTHER:
		break;
	}
	step(out, TRACE_STEP_GATEWAY, false, r->tr_target, "", "%s: vpcd does not follow this kind of target", r->tr_target);
	return drop(out, TRACE_UNSUPPORTED_TARGET);
}

/* From outside the VPC: through the internet gateway to a public address,
 * or through the VPN gateway to a private one; the reply must route back
 * the same way. */
static bool walk_from_outside(const struct trace_net *n, struct trace_result *out, const struct trace_packet *pkt,
			      const struct flow *f, uint16_t src_port)
{
	uint32_t saddr = pkt->tp_from.te_addr;
	char sip[IP4_STR_MAX], dip[IP4_STR_MAX], pub[IP4_STR_MAX];
	ip4_format(saddr, sip);
	step(out, TRACE_STEP_SOURCE, true, "", "", "%s, outside the VPC", sip);
	const struct trace_eni *dst = NULL;
	bool via_igw = false;
	if (pkt->tp_to.te_eni) {
		dst = eni_by_id(n, pkt->tp_to.te_eni);
	} else if ((dst = eni_by_public(n, pkt->tp_to.te_addr))) {
		via_igw = true;
	} else {
		dst = eni_by_private(n, pkt->tp_to.te_addr, NULL);
	}
	if (!dst) {
		ip4_format(pkt->tp_to.te_addr, dip);
		step(out, TRACE_STEP_DESTINATION, false, "", "", "no network interface has the address %s", dip);
		return drop(out, TRACE_NO_DESTINATION);
	}
	const struct trace_subnet *dsub = subnet_by_id(n, dst->en_subnet);
	const struct trace_vpc *vpc = dsub ? vpc_by_id(n, dsub->su_vpc) : NULL;
	if (!dsub || !vpc) {
		step(out, TRACE_STEP_DESTINATION, false, dst->en_id, "", "%s has no subnet or VPC", dst->en_id);
		return drop(out, TRACE_NO_DESTINATION);
	}
	if (pkt->tp_to.te_eni && dst->en_public) {
		/* named by id: the way in is the way its subnet routes the source back */
		bool main;
		const struct trace_route *back = route_lookup(table_for(n, dsub, &main), saddr);
		via_igw = back && back->tr_kind == TRACE_TARGET_IGW;
	}
	ip4_format(dst->en_addr, dip);
	const char *gw;
	if (via_igw) {
		gw = vpc->vp_igw;
		if (!gw) {
			step(out, TRACE_STEP_GATEWAY, false, vpc->vp_id, "", "%s has no internet gateway attached", vpc->vp_id);
			return drop(out, TRACE_NO_GATEWAY);
		}
		if (!dst->en_public) {
			step(out, TRACE_STEP_GATEWAY, false, gw, "", "%s has no public address", dst->en_id);
			return drop(out, TRACE_NO_PUBLIC_IP);
		}
		ip4_format(dst->en_public, pub);
		step(out, TRACE_STEP_GATEWAY, true, gw, "", "%s translates %s to %s", gw, pub, dip);
	} else {
		gw = vpc->vp_vgw;
		if (!gw) {
			step(out, TRACE_STEP_GATEWAY, false, vpc->vp_id, "",
			     "%s has no VPN gateway attached: its private addresses are not reachable from %s", vpc->vp_id, sip);
			return drop(out, TRACE_NO_GATEWAY);
		}
		if (!vgw_step(n, out, gw, saddr, true))
			return false;
	}
	struct flow back = flow_reply(f, src_port);
	if (!nacl_step(n, out, TRACE_STEP_NACL_IN, TRACE_NACL_IN, dsub, false, saddr, f))
		return false;
	if (!sg_step(n, out, TRACE_STEP_SG_INGRESS, TRACE_SG_INGRESS, dst, false, saddr, NULL, f))
		return false;
	/* the reply's way back */
	const struct trace_route *r = route_step(n, out, TRACE_STEP_REPLY_ROUTE, TRACE_REPLY_NO_ROUTE, dsub, saddr);
	if (!r)
		return false;
	enum trace_target want = via_igw ? TRACE_TARGET_IGW : TRACE_TARGET_VGW;
	if (r->tr_kind != want || !str_eq(r->tr_target, gw)) {
		/* the route step said ok; it is the reply that goes astray */
		struct trace_step *last = &out->tr_steps[out->tr_nsteps - 1];
		char rule[TRACE_NAME_MAX];
		memcpy(rule, last->ts_rule, sizeof(rule));
		last->ts_ok = false;
		snprintf(last->ts_detail, sizeof(last->ts_detail), "the reply to %s takes route %s, not back through %s",
			 sip, rule, gw);
		return drop(out, TRACE_REPLY_NO_ROUTE);
	}
	if (!nacl_step(n, out, TRACE_STEP_REPLY_NACL_OUT, TRACE_REPLY_NACL_OUT, dsub, true, saddr, &back))
		return false;
	step(out, TRACE_STEP_DESTINATION, true, dst->en_id, "", "delivered to %s (%s%s%s) in %s", dst->en_id, dip,
	     dst->en_instance ? ", " : "", dst->en_instance ? dst->en_instance : "", dsub->su_id);
	return true;
}

int trace_walk(const struct trace_net *n, const struct trace_packet *pkt, struct trace_result *out)
{
	memset(out, 0, sizeof(*out));
	struct flow f = { pkt->tp_protocol, pkt->tp_port, pkt->tp_icmp_type, pkt->tp_icmp_code };
	uint16_t src_port = pkt->tp_src_port ? pkt->tp_src_port : TRACE_EPHEMERAL_PORT_DEFAULT;
	const struct trace_eni *src = NULL;
	if (pkt->tp_from.te_eni) {
		if (!(src = eni_by_id(n, pkt->tp_from.te_eni))) {
			step(out, TRACE_STEP_SOURCE, false, pkt->tp_from.te_eni, "", "%s is not a known network interface",
			     pkt->tp_from.te_eni);
			drop(out, TRACE_NO_SOURCE);
			return -1;
		}
	} else {
		src = eni_by_private(n, pkt->tp_from.te_addr, NULL);	/* an address of an ENI is that ENI */
	}
	if (pkt->tp_to.te_eni && !eni_by_id(n, pkt->tp_to.te_eni)) {
		step(out, TRACE_STEP_DESTINATION, false, pkt->tp_to.te_eni, "", "%s is not a known network interface",
		     pkt->tp_to.te_eni);
		drop(out, TRACE_NO_DESTINATION);
		return -1;
	}
	out->tr_reachable = src ? walk_from_eni(n, out, src, pkt, &f, src_port) : walk_from_outside(n, out, pkt, &f, src_port);
	if (out->tr_reachable)
		out->tr_cause = TRACE_OK;
	return 0;
}

const char *trace_cause_name(enum trace_cause c)
{
	static const char *const names[TRACE_CAUSE_COUNT] = {
		[TRACE_OK] = "ok",
		[TRACE_NO_SOURCE] = "no-source",
		[TRACE_NO_ROUTE] = "no-route",
		[TRACE_BLACKHOLE] = "blackhole",
		[TRACE_NACL_OUT] = "nacl-out",
		[TRACE_NACL_IN] = "nacl-in",
		[TRACE_SG_EGRESS] = "sg-egress",
		[TRACE_SG_INGRESS] = "sg-ingress",
		[TRACE_NO_PUBLIC_IP] = "no-public-ip",
		[TRACE_NO_GATEWAY] = "no-gateway",
		[TRACE_VPN_DOWN] = "vpn-down",
		[TRACE_NO_DESTINATION] = "no-destination",
		[TRACE_SOURCE_DEST_CHECK] = "source-dest-check",
		[TRACE_UNSUPPORTED_TARGET] = "unsupported-target",
		[TRACE_REPLY_NO_ROUTE] = "reply-no-route",
		[TRACE_REPLY_NACL_OUT] = "reply-nacl-out",
		[TRACE_REPLY_NACL_IN] = "reply-nacl-in",
	};
	return (unsigned)c < TRACE_CAUSE_COUNT ? names[c] : "unknown";
}

const char *trace_step_name(enum trace_step_kind k)
{
	switch (k) {
	case TRACE_STEP_SOURCE: return "source";
	case TRACE_STEP_SG_EGRESS: return "security-group-egress";
	case TRACE_STEP_ROUTE: return "route";
	case TRACE_STEP_NACL_OUT: return "network-acl-outbound";
	case TRACE_STEP_GATEWAY: return "gateway";
	case TRACE_STEP_NACL_IN: return "network-acl-inbound";
	case TRACE_STEP_SG_INGRESS: return "security-group-ingress";
	case TRACE_STEP_SOURCE_DEST_CHECK: return "source-dest-check";
	case TRACE_STEP_REPLY_NACL_OUT: return "reply-network-acl-outbound";
	case TRACE_STEP_REPLY_ROUTE: return "reply-route";
	case TRACE_STEP_REPLY_NACL_IN: return "reply-network-acl-inbound";
	case TRACE_STEP_DESTINATION: return "destination";
	}
	return "step";
}

void trace_format(const struct trace_result *r, struct strbuf *out)
{
	for (size_t i = 0; i < r->tr_nsteps; i++) {
		const struct trace_step *s = &r->tr_steps[i];
		sb_printf(out, "%2zu. %-4s  %-26s %s\n", i + 1, s->ts_ok ? "ok" : "DROP", trace_step_name(s->ts_kind),
			  s->ts_detail);
	}
	if (r->tr_reachable)
		sb_printf(out, "=> reachable\n");
	else
		sb_printf(out, "=> dropped: %s\n", trace_cause_name(r->tr_cause));
}
