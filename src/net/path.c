/*
 * path — what happens to one packet: the virtual router's decision, as a
 * pure function of the snapshot, the connection table and the packet.
 * router.c does the I/O around it; the unit tests and the trace (snapshot_trace.c)
 * call it directly.
 *
 * Order (net.h): parse; ARP; source MAC/address check; source subnet's
 * NACL out; ENI's SGs out (or a tracked flow); route (longest prefix);
 * destination subnet's NACL in; destination ENI's SGs in (or tracked);
 * then the connection table learns the flow. NACLs apply only across a
 * subnet boundary, as in AWS. A later IPv4 fragment skips the NACLs and
 * groups when its train's first fragment passed (ct_frag_*); an ICMP
 * error about a tracked flow passes the groups as part of that flow and
 * teaches the table nothing. Nothing is allocated; O(rules + log routes).
 *
 * Tracing: every stage may record a step into a net_trace_result; with
 * tr NULL (the router) each record is one predictable branch. With ct
 * NULL nothing is tracked: every packet is the first of a new flow, but
 * for a traced answer (tr->answer), which passes the groups as a tracked
 * flow's does (not one to a NAT gateway: that needs the mapping, in the
 * traced flow's own table).
 */
#include "net/net_int.h"

#include <stdio.h>
#include <string.h>

static void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->v_route = -1;
	v->v_nacl_rule = -1;
}

static bool
drop(struct verdict *v, enum net_drop why)
{
	v->v_kind = V_DROP;
	v->v_drop = why;
	return false;
}

/* Records a step; returns it (for the route and NAT details) or NULL. */
static struct net_trace_step *
step(struct net_trace_result *tr, enum net_trace_stage st, bool allowed, const char *id,
     int32_t rule)
{
	if (!tr || tr->n_steps >= NET_TRACE_STEPS_MAX)
		return NULL;
	struct net_trace_step *p = &tr->steps[tr->n_steps++];
	memset(p, 0, sizeof(*p));
	p->stage = st;
	p->allowed = allowed;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->rule = rule;
	return p;
}

static void
acl_pkt_of(const struct pkt_meta *m, uint32_t peer, struct acl_pkt *p)
{
	p->ap_peer = peer;
	p->ap_proto = m->pm_proto;
	p->ap_port = m->pm_dport;
	p->ap_icmp_type = m->pm_icmp_type;
	p->ap_icmp_code = m->pm_icmp_code;
}

/* NACL of subnet sn for the packet; true when it allows. */
static bool
nacl_allows(const struct net_snapshot *s, const struct snap_subnet *sn, bool egress,
	    const struct pkt_meta *m, struct verdict *v, struct net_trace_result *tr)
{
	const struct snap_nacl *n = &s->nacls[sn->s_nacl];
	struct acl_pkt p;

	acl_pkt_of(m, egress ? m->pm_dst : m->pm_src, &p);
	const struct acl_rule *r = egress ? n->n_out : n->n_in;
	int i = nacl_rules_first_match(r, egress ? n->n_nout : n->n_nin, &p);
	bool ok = i >= 0 && r[i].ar_allow;
	v->v_nacl_rule = i < 0 ? NACL_RULE_DEFAULT_DENY : r[i].ar_number;
	step(tr, egress ? NET_TRACE_NACL_OUT : NET_TRACE_NACL_IN, ok, n->n_id, v->v_nacl_rule);
	return ok;
}

/* The groups of ENI e; records which group and rule allowed. */
static bool
groups_allow(const struct net_snapshot *s, const struct snap_eni *e, bool egress,
	     const struct pkt_meta *m, struct net_trace_result *tr)
{
	struct acl_pkt p;
	int32_t g, rule;

	acl_pkt_of(m, egress ? m->pm_dst : m->pm_src, &p);
	bool ok = sg_match(s, e, egress, &p, &g, &rule);
	step(tr, egress ? NET_TRACE_SG_EGRESS : NET_TRACE_SG_INGRESS, ok,
	     ok ? s->sgs[g].g_id : e->e_id, rule);
	return ok;
}

/* The connection-tracking zone of a flow from subnet sn to dst: its VPC's,
 * or, when its route crosses a peering connection, the connection's (so
 * that both VPCs see one flow). One LPM lookup, only when there are
 * peering connections. */
static uint32_t
flow_zone(const struct net_snapshot *s, const struct snap_subnet *sn, uint32_t dst)
{
	if (s->n_peerings > 0) {
		const struct snap_rtb *t = &s->rtbs[sn->s_rtb];
		const struct lpm_entry *le = lpm_lookup(&t->t_lpm, dst);
		if (le && t->t_routes[le->le_value].r_target == NET_TARGET_PEERING)
			return s->peerings[t->t_routes[le->le_value].r_index].p_zone;
	}
	return s->vpcs[sn->s_vpc].v_zone;
}

static void
ct_key_of(uint32_t zone, const struct pkt_meta *m, struct ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->k_zone = zone;
	k->k_src = m->pm_src;
	k->k_dst = m->pm_dst;
	k->k_sport = m->pm_sport;
	k->k_dport = m->pm_dport;
	k->k_proto = m->pm_proto;
}

static void
frag_key_of(uint32_t zone, const struct pkt_meta *m, struct ct_frag_key *k)
{
	memset(k, 0, sizeof(*k));
	k->f_zone = zone;
	k->f_src = m->pm_src;
	k->f_dst = m->pm_dst;
	k->f_id = m->pm_ip_id;
	k->f_proto = m->pm_proto;
}

/* Is m an ICMP error about a tracked flow, going back to that flow's
 * packet's sender? (Linux conntrack's RELATED.) */
static bool
icmp_related(struct conntrack *ct, uint32_t zone, const struct pkt_meta *m, uint64_t now_ms)
{
	struct ct_key k;
	bool reply;

	if (!m->pm_inner_ok || m->pm_dst != m->pm_inner_src)
		return false;
	memset(&k, 0, sizeof(k));
	k.k_zone = zone;
	k.k_src = m->pm_inner_src;
	k.k_dst = m->pm_inner_dst;
	k.k_sport = m->pm_inner_sport;
	k.k_dport = m->pm_inner_dport;
	k.k_proto = m->pm_inner_proto;
	return ct_lookup(ct, &k, now_ms, &reply) != NULL;
}

/* The last check before ENI d gets the packet: attached. */
static bool
deliver(const struct net_snapshot *s, uint32_t d, struct verdict *v, struct net_trace_result *tr)
{
	const struct snap_eni *de = &s->enis[d];

	bool attached = de->e_fd >= 0 || (tr && tr->plan_only && de->e_nat < 0);

	step(tr, NET_TRACE_DELIVER, attached, de->e_id, -1);
	if (!attached)
		return drop(v, NET_DROP_NO_ENI);
	v->v_kind = V_TO_ENI;
	v->v_index = d;
	return true;
}

/* Delivery to ENI d: NACL in (across subnets), SG in unless tracked. */
static bool
deliver_checks(const struct net_snapshot *s, uint32_t d, const struct pkt_meta *m,
	       bool tracked, struct verdict *v, struct net_trace_result *tr)
{
	const struct snap_eni *de = &s->enis[d];
	const struct snap_subnet *ds = &s->subnets[de->e_subnet];

	if (!cidr_contains_ip(&ds->s_cidr, m->pm_src) && !nacl_allows(s, ds, false, m, v, tr))
		return drop(v, NET_DROP_NACL_IN);
	if (!tracked && !groups_allow(s, de, false, m, tr))
		return drop(v, NET_DROP_SG_INGRESS);
	return deliver(s, d, v, tr);
}

/* After a packet passed: the table learns its flow (not from an ICMP
 * error: that is about a flow, not one) and its fragment train. */
static void
ct_learn(struct conntrack *ct, struct ct_entry *e, const struct ct_key *k, bool reply,
	 const struct pkt_meta *m, uint64_t now_ms)
{
	if (!ct)
		return;
	if (m->pm_frag == PM_FRAG_FIRST) {
		struct ct_frag_key fk;
		frag_key_of(k->k_zone, m, &fk);
		ct_frag_note(ct, &fk, now_ms);
	}
	if (m->pm_icmp_error)
		return;
	if (!e) {
		e = ct_insert(ct, k, now_ms);
		reply = false;
	}
	ct_touch(e, reply, m->pm_tcp_flags, now_ms);
}

enum hop { HOP_DROP, HOP_ENI, HOP_PORT, HOP_NAT };

/* The route table of subnet sn for m from ENI e (a NAT gateway's
 * interface too): the destination ENI, gateway or NAT gateway in *to, or
 * a drop in v. Sets v_route, v_nat_src. */
static enum hop
route_select(const struct net_snapshot *s, const struct snap_eni *e, const struct pkt_meta *m,
	     struct verdict *v, struct net_trace_result *tr, int32_t *to)
{
	const struct snap_subnet *sn = &s->subnets[e->e_subnet];
	const struct snap_rtb *t = &s->rtbs[sn->s_rtb];
	const struct lpm_entry *le = lpm_lookup(&t->t_lpm, m->pm_dst);

	if (!le) {
		step(tr, NET_TRACE_ROUTE, false, t->t_id, -1);
		drop(v, NET_DROP_NO_ROUTE);
		return HOP_DROP;
	}
	const struct snap_route *r = &t->t_routes[le->le_value];
	v->v_route = (int32_t)le->le_value;
	struct net_trace_step *st = step(tr, NET_TRACE_ROUTE, r->r_target != NET_TARGET_BLACKHOLE,
					 t->t_id, -1);
	if (st) {
		st->route.dest = (struct cidr4){ le->le_addr, le->le_len };
		st->route.target = r->r_target;
		if (r->r_target == NET_TARGET_ENI)
			snprintf(st->route.target_id, NET_ID_MAX, "%s", s->enis[r->r_index].e_id);
		else if (r->r_target == NET_TARGET_IGW || r->r_target == NET_TARGET_VGW)
			snprintf(st->route.target_id, NET_ID_MAX, "%s", s->gws[r->r_index].w_id);
		else if (r->r_target == NET_TARGET_NAT)
			snprintf(st->route.target_id, NET_ID_MAX, "%s", s->nats[r->r_index].n_id);
		else if (r->r_target == NET_TARGET_PEERING)
			snprintf(st->route.target_id, NET_ID_MAX, "%s", s->peerings[r->r_index].p_id);
	}
	switch (r->r_target) {
	case NET_TARGET_LOCAL:
		*to = snap_eni_by_ip(s, e->e_vpc, m->pm_dst);
		if (*to < 0) {
			step(tr, NET_TRACE_DELIVER, false, "", -1);
			drop(v, NET_DROP_NO_ENI);
			return HOP_DROP;
		}
		return HOP_ENI;
	case NET_TARGET_ENI:
		*to = r->r_index;
		if (s->enis[*to].e_src_dst_check && m->pm_dst != s->enis[*to].e_ip) {
			step(tr, NET_TRACE_DELIVER, false, s->enis[*to].e_id, -1);
			drop(v, NET_DROP_SRC_DST_CHECK);
			return HOP_DROP;
		}
		return HOP_ENI;
	case NET_TARGET_PEERING: {
		/* to the other VPC's ENI that has the address: no transit
		 * through the peer (its gateways and routes are not used) */
		const struct snap_peering *pc = &s->peerings[r->r_index];
		int32_t other = pc->p_vpc[0] == e->e_vpc ? (int32_t)pc->p_vpc[1] :
				pc->p_vpc[1] == e->e_vpc ? (int32_t)pc->p_vpc[0] : -1;
		*to = other < 0 ? -1 : snap_eni_by_ip(s, (uint32_t)other, m->pm_dst);
		if (*to < 0) {
			step(tr, NET_TRACE_DELIVER, false, "", -1);
			drop(v, NET_DROP_NO_ENI);
			return HOP_DROP;
		}
		return HOP_ENI;
	}
	case NET_TARGET_NAT:
		*to = r->r_index;
		return HOP_NAT;
	case NET_TARGET_IGW:
	case NET_TARGET_VGW: {
		const struct snap_gw *w = &s->gws[r->r_index];
		if (w->w_vpc != (int32_t)e->e_vpc || (!snap_gw_has_port(w) && !(tr && tr->plan_only))) {
			step(tr, NET_TRACE_PORT, false, w->w_id, -1);
			drop(v, NET_DROP_NO_PORT);
			return HOP_DROP;
		}
		if (r->r_target == NET_TARGET_IGW) {
			struct net_trace_step *nt = step(tr, NET_TRACE_NAT_OUT, e->e_public_ip != 0,
							 e->e_id, -1);
			if (nt)
				nt->addr = e->e_public_ip;
			if (!e->e_public_ip) {
				drop(v, NET_DROP_NO_PUBLIC_IP);
				return HOP_DROP;
			}
			v->v_nat_src = e->e_public_ip;
		}
		struct net_trace_step *pt = step(tr, NET_TRACE_PORT, true, w->w_id, -1);
		v->v_kind = V_TO_PORT;
		v->v_index = (uint32_t)r->r_index;
		if (r->r_target == NET_TARGET_VGW) {
			/* the gateway's own routes: which connection carries it */
			const struct lpm_entry *ve = lpm_lookup(&w->w_vgw_lpm, m->pm_dst);
			if (ve) {
				v->v_conn = w->w_vgw_routes[ve->le_value].vr_conn;
				v->v_tunnel = w->w_vgw_routes[ve->le_value].vr_tunnel;
			}
			if (pt)
				pt->conn_key = v->v_conn;
		}
		*to = r->r_index;
		return HOP_PORT;
	}
	case NET_TARGET_BLACKHOLE:
	default:
		drop(v, NET_DROP_BLACKHOLE);
		return HOP_DROP;
	}
}

/* --- NAT gateways ------------------------------------------------------------ */

/* Does the NAT gateway translate m? TCP, UDP, ICMP echo (request out,
 * reply in); no fragments (the ports of later ones are unknown). */
static bool
nat_translatable(const struct pkt_meta *m, bool out)
{
	if (m->pm_frag != PM_FRAG_NONE || m->pm_l4_off == 0)
		return false;
	if (m->pm_proto == IPPROTO_TCP_ || m->pm_proto == IPPROTO_UDP_)
		return true;
	return m->pm_proto == IPPROTO_ICMP_ && !m->pm_icmp_error && m->pm_icmp_type == (out ? 8 : 0);
}

/* The mapping key of m (as the inside sent it) at NAT gateway address
 * nat_ip; ICMP: the identifier is the port, the remote has none. */
static void
nat_flow_of(uint32_t zone, uint32_t nat_ip, const struct pkt_meta *m, struct nat_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->nf_zone = zone;
	f->nf_nat_ip = nat_ip;
	f->nf_int_ip = m->pm_src;
	f->nf_rem_ip = m->pm_dst;
	f->nf_int_port = m->pm_sport;
	f->nf_rem_port = m->pm_proto == IPPROTO_ICMP_ ? 0 : m->pm_dport;
	f->nf_proto = m->pm_proto;
}

/* m from ENI e, which its subnet routed to NAT gateway n (its NACL out and
 * e's groups passed; k/ce/reply: its flow before translation). Into the
 * gateway's subnet (NACL in), translated to the gateway's address and a
 * port of its own, then routed by that subnet's table (NACL out) to a
 * gateway port or an ENI of the VPC (NACL in, groups in, tracked as the
 * translated flow). */
static void
nat_out(const struct net_snapshot *s, struct conntrack *ct, const struct snap_eni *e, uint32_t n,
	const struct pkt_meta *m, const struct ct_key *k, struct ct_entry *ce, bool reply,
	uint64_t now_ms, struct verdict *v, struct net_trace_result *tr)
{
	const struct snap_nat *nat = &s->nats[n];
	const struct snap_eni *ne = &s->enis[nat->n_eni];
	const struct snap_subnet *nsn = &s->subnets[ne->e_subnet];

	if (ne->e_vpc != e->e_vpc) {
		drop(v, NET_DROP_BLACKHOLE);
		return;
	}
	if (!cidr_contains_ip(&nsn->s_cidr, m->pm_src) && !nacl_allows(s, nsn, false, m, v, tr)) {
		drop(v, NET_DROP_NACL_IN);
		return;
	}
	struct net_trace_step *nt = step(tr, NET_TRACE_NAT_GATEWAY, nat_translatable(m, true), nat->n_id, -1);
	if (nt)
		nt->addr = ne->e_ip;
	if (!nat_translatable(m, true)) {
		drop(v, NET_DROP_NAT_REFUSED);
		return;
	}
	struct nat_flow f;
	nat_flow_of(s->vpcs[e->e_vpc].v_zone, ne->e_ip, m, &f);
	struct nat_entry *ne_map = ct && ct->ct_nat ? nat_lookup_out(ct->ct_nat, &f, now_ms) : NULL;

	/* the packet as the gateway sends it */
	struct pkt_meta pm = *m;
	pm.pm_src = ne->e_ip;
	if (!cidr_contains_ip(&nsn->s_cidr, pm.pm_dst) && !nacl_allows(s, nsn, true, &pm, v, tr)) {
		drop(v, NET_DROP_NACL_OUT);
		return;
	}
	int32_t to;
	enum hop hop = route_select(s, ne, &pm, v, tr, &to);
	if (hop == HOP_DROP)
		return;
	if (hop == HOP_NAT || (hop == HOP_ENI && s->enis[to].e_nat >= 0)) {
		drop(v, NET_DROP_BLACKHOLE);	/* one NAT gateway per path */
		return;
	}
	if (ct && ct->ct_nat && !ne_map && !(ne_map = nat_create(ct->ct_nat, &f, now_ms))) {
		drop(v, NET_DROP_NAT_REFUSED);
		return;
	}
	if (ne_map) {
		pm.pm_sport = ne_map->ne_ext_port;
		if (pm.pm_proto == IPPROTO_ICMP_)
			pm.pm_dport = ne_map->ne_ext_port;
		if (nt)
			nt->port = ne_map->ne_ext_port;
	}
	if (hop == HOP_ENI) {
		struct ct_key k2;
		struct ct_entry *ce2 = NULL;
		bool reply2 = false;
		ct_key_of(flow_zone(s, nsn, pm.pm_dst), &pm, &k2);
		if (ct)
			ce2 = ct_lookup(ct, &k2, now_ms, &reply2);
		if (!deliver_checks(s, (uint32_t)to, &pm, ce2 != NULL, v, tr))
			return;
		ct_learn(ct, ce2, &k2, reply2, &pm, now_ms);
		if (!v->v_nat_src)
			v->v_nat_src = ne->e_ip;
	} else if (!v->v_nat_src) {
		v->v_nat_src = ne->e_ip;	/* a VPN gateway: the private address */
	}
	v->v_nat_sport_set = true;
	v->v_nat_sport = pm.pm_sport;
	if (ne_map)
		nat_touch(ne_map, false, m->pm_tcp_flags, now_ms);
	ct_learn(ct, ce, k, reply, m, now_ms);
}

/* m arrived for NAT gateway n's private address (from its gateway port,
 * after the igw's 1:1 NAT, or from an ENI of the VPC): an answer to a
 * translated flow goes on to the ENI that started it (the gateway's
 * subnet's NACL in and out, then the ENI's subnet's NACL in and its
 * groups, tracked as the flow before translation); anything else is
 * unsolicited. */
static void
nat_in(const struct net_snapshot *s, struct conntrack *ct, uint32_t n, const struct pkt_meta *m,
       uint64_t now_ms, struct verdict *v, struct net_trace_result *tr)
{
	const struct snap_nat *nat = &s->nats[n];
	const struct snap_eni *ne = &s->enis[nat->n_eni];
	const struct snap_subnet *nsn = &s->subnets[ne->e_subnet];

	if (!cidr_contains_ip(&nsn->s_cidr, m->pm_src) && !nacl_allows(s, nsn, false, m, v, tr)) {
		drop(v, NET_DROP_NACL_IN);
		return;
	}
	/* an answer, or an ICMP error about a packet the gateway sent
	 * (unreachable, fragmentation needed...): the quoted packet names
	 * the mapping */
	bool err = m->pm_icmp_error;
	struct nat_entry *map = NULL;
	if (ct && ct->ct_nat && err && m->pm_inner_ok && m->pm_inner_src == ne->e_ip)
		map = nat_lookup_in(ct->ct_nat, s->vpcs[ne->e_vpc].v_zone, ne->e_ip, m->pm_inner_proto,
				    m->pm_inner_sport, m->pm_inner_dst,
				    m->pm_inner_proto == IPPROTO_ICMP_ ? 0 : m->pm_inner_dport, now_ms);
	else if (ct && ct->ct_nat && !err && nat_translatable(m, false))
		map = nat_lookup_in(ct->ct_nat, s->vpcs[ne->e_vpc].v_zone, ne->e_ip, m->pm_proto, m->pm_dport,
				    m->pm_src, m->pm_proto == IPPROTO_ICMP_ ? 0 : m->pm_sport, now_ms);
	struct net_trace_step *nt = step(tr, NET_TRACE_NAT_GATEWAY, map != NULL, nat->n_id, -1);
	if (!map) {
		drop(v, NET_DROP_NAT_NO_MAPPING);
		return;
	}
	if (nt) {
		nt->addr = map->ne_flow.nf_int_ip;
		nt->port = map->ne_flow.nf_int_port;
	}
	struct pkt_meta pm = *m;
	pm.pm_dst = map->ne_flow.nf_int_ip;
	if (err) {
		pm.pm_inner_src = map->ne_flow.nf_int_ip;
		pm.pm_inner_sport = map->ne_flow.nf_int_port;
		if (pm.pm_inner_proto == IPPROTO_ICMP_)
			pm.pm_inner_dport = pm.pm_inner_sport;
	} else {
		pm.pm_dport = map->ne_flow.nf_int_port;
		if (pm.pm_proto == IPPROTO_ICMP_)
			pm.pm_sport = pm.pm_dport;
	}
	if (!cidr_contains_ip(&nsn->s_cidr, pm.pm_dst) && !nacl_allows(s, nsn, true, &pm, v, tr)) {
		drop(v, NET_DROP_NACL_OUT);
		return;
	}
	int32_t d = snap_eni_by_ip(s, ne->e_vpc, pm.pm_dst);
	if (d < 0) {
		step(tr, NET_TRACE_DELIVER, false, "", -1);
		drop(v, NET_DROP_NO_ENI);
		return;
	}
	uint32_t zone = s->vpcs[ne->e_vpc].v_zone;
	struct ct_key k;
	bool reply = false;
	ct_key_of(zone, &pm, &k);
	struct ct_entry *ce = NULL;
	bool tracked;
	if (err) {
		tracked = icmp_related(ct, zone, &pm, now_ms);	/* about the instance's flow */
	} else {
		ce = ct_lookup(ct, &k, now_ms, &reply);
		tracked = ce != NULL;
	}
	if (!deliver_checks(s, (uint32_t)d, &pm, tracked, v, tr))
		return;
	v->v_nat_dst = pm.pm_dst;
	if (err) {
		v->v_nat_inner_sport_set = true;
		v->v_nat_inner_sport = pm.pm_inner_sport;
		return;		/* an error refreshes nothing */
	}
	nat_touch(map, true, m->pm_tcp_flags, now_ms);
	ct_learn(ct, ce, &k, reply, &pm, now_ms);
	v->v_nat_dport_set = true;
	v->v_nat_dport = pm.pm_dport;
}

/* --- the two ways in ---------------------------------------------------------- */

void
path_from_eni_traced(const struct net_snapshot *s, struct conntrack *ct,
		     const uint8_t router_mac[6], uint32_t eni, const uint8_t *frame,
		     uint32_t len, uint64_t now_ms, struct pkt_meta *m, struct verdict *v,
		     struct net_trace_result *tr)
{
	const struct snap_eni *e = &s->enis[eni];
	const struct snap_subnet *sn = &s->subnets[e->e_subnet];
	enum frame_kind kind = frame_parse(frame, len, m);

	verdict_init(v);
	switch (kind) {
	case FRAME_BAD:
		drop(v, NET_DROP_BAD_FRAME);
		return;
	case FRAME_UNSUPPORTED:
		drop(v, NET_DROP_UNSUPPORTED);
		return;
	case FRAME_ARP_OTHER:
		v->v_kind = V_IGNORE;
		return;
	case FRAME_ARP_REQUEST:
		/* The router's address and nothing else: no flooding. */
		v->v_kind = m->pm_dst == sn->s_router_ip ? V_ARP_REPLY : V_IGNORE;
		return;
	case FRAME_IPV4:
		break;
	}

	/* To the router's MAC, from the ENI's MAC and (unless the check is
	 * off) from its address. */
	if (memcmp(frame, router_mac, 6) != 0) {
		drop(v, NET_DROP_UNSUPPORTED);	/* broadcast, multicast, another MAC */
		return;
	}
	bool src_ok = memcmp(frame + 6, e->e_mac, 6) == 0 &&
		      (!e->e_src_dst_check || m->pm_src == e->e_ip);
	step(tr, NET_TRACE_SOURCE, src_ok, e->e_id, -1);
	if (!src_ok) {
		drop(v, NET_DROP_SRC_DST_CHECK);
		return;
	}

	uint32_t zone = flow_zone(s, sn, m->pm_dst);
	int32_t to;
	if (m->pm_frag == PM_FRAG_LATER) {
		/* The first fragment's verdict, routed like it. */
		struct ct_frag_key fk;
		frag_key_of(zone, m, &fk);
		if (!ct || !ct_frag_follows(ct, &fk, !m->pm_more_frags, now_ms)) {
			drop(v, NET_DROP_FRAGMENT);
			return;
		}
		switch (route_select(s, e, m, v, tr, &to)) {
		case HOP_ENI:
			deliver(s, (uint32_t)to, v, tr);
			break;
		case HOP_NAT:
			drop(v, NET_DROP_FRAGMENT);	/* not translated (nat_translatable) */
			break;
		default:
			break;
		}
		return;
	}

	if (!cidr_contains_ip(&sn->s_cidr, m->pm_dst) && !nacl_allows(s, sn, true, m, v, tr)) {
		drop(v, NET_DROP_NACL_OUT);
		return;
	}

	struct ct_key k;
	struct ct_entry *ce = NULL;
	bool reply = false, related = false;
	ct_key_of(zone, m, &k);
	if (ct && m->pm_icmp_error)
		related = icmp_related(ct, zone, m, now_ms);
	else if (ct)
		ce = ct_lookup(ct, &k, now_ms, &reply);
	bool tracked = ce != NULL || related || (tr && tr->answer);
	if (!tracked && !groups_allow(s, e, true, m, tr)) {
		drop(v, NET_DROP_SG_EGRESS);
		return;
	}

	switch (route_select(s, e, m, v, tr, &to)) {
	case HOP_DROP:
		return;
	case HOP_PORT:
		ct_learn(ct, ce, &k, reply, m, now_ms);
		return;
	case HOP_NAT:
		nat_out(s, ct, e, (uint32_t)to, m, &k, ce, reply, now_ms, v, tr);
		return;
	case HOP_ENI:
		break;
	}
	if (s->enis[to].e_nat >= 0 && s->enis[to].e_vpc == e->e_vpc) {
		/* an answer to a private NAT gateway's flow, from inside */
		nat_in(s, ct, (uint32_t)s->enis[to].e_nat, m, now_ms, v, tr);
		if (v->v_kind == V_TO_ENI)
			ct_learn(ct, ce, &k, reply, m, now_ms);
		return;
	}
	if (!deliver_checks(s, (uint32_t)to, m, tracked, v, tr))
		return;
	ct_learn(ct, ce, &k, reply, m, now_ms);
}

void
path_from_eni(const struct net_snapshot *s, struct conntrack *ct, const uint8_t router_mac[6],
	      uint32_t eni, const uint8_t *frame, uint32_t len, uint64_t now_ms,
	      struct pkt_meta *m, struct verdict *v)
{
	path_from_eni_traced(s, ct, router_mac, eni, frame, len, now_ms, m, v, NULL);
}

void
path_from_port_traced(const struct net_snapshot *s, struct conntrack *ct, uint32_t gw,
		      const uint8_t *p, uint32_t len, uint32_t off, uint64_t now_ms,
		      struct pkt_meta *m, struct verdict *v, struct net_trace_result *tr)
{
	const struct snap_gw *w = &s->gws[gw];
	enum frame_kind kind = ipv4_parse(p, len, off, m);
	int32_t d;

	verdict_init(v);
	if (kind != FRAME_IPV4) {
		drop(v, kind == FRAME_BAD ? NET_DROP_BAD_FRAME : NET_DROP_UNSUPPORTED);
		return;
	}
	step(tr, NET_TRACE_GATEWAY_IN, w->w_vpc >= 0, w->w_id, -1);
	if (w->w_vpc < 0) {
		drop(v, NET_DROP_NO_PORT);
		return;
	}
	uint32_t vpc = (uint32_t)w->w_vpc;
	uint32_t zone = s->vpcs[vpc].v_zone;
	struct pkt_meta pm = *m;	/* as the VPC sees it: private destination */
	if (w->w_kind == NET_GW_IGW) {
		d = snap_eni_by_public(s, m->pm_dst);
		bool ok = d >= 0 && s->enis[d].e_vpc == vpc;
		struct net_trace_step *nt = step(tr, NET_TRACE_NAT_IN, ok, ok ? s->enis[d].e_id : "", -1);
		if (!ok) {
			drop(v, NET_DROP_NO_ENI);
			return;
		}
		if (nt)
			nt->addr = s->enis[d].e_ip;
		v->v_nat_dst = s->enis[d].e_ip;
		pm.pm_dst = v->v_nat_dst;
		/* an error about what the ENI sent quotes its public address */
		if (pm.pm_inner_ok && pm.pm_inner_src == m->pm_dst)
			pm.pm_inner_src = v->v_nat_dst;
	} else {
		d = snap_eni_by_ip(s, vpc, m->pm_dst);
		if (d < 0) {
			step(tr, NET_TRACE_DELIVER, false, "", -1);
			drop(v, NET_DROP_NO_ENI);
			return;
		}
	}
	if (s->enis[d].e_nat >= 0) {
		/* to a NAT gateway: an answer to a flow it translated, or nothing */
		nat_in(s, ct, (uint32_t)s->enis[d].e_nat, &pm, now_ms, v, tr);
		return;
	}
	if (pm.pm_frag == PM_FRAG_LATER) {
		struct ct_frag_key fk;
		frag_key_of(zone, &pm, &fk);
		if (!ct || !ct_frag_follows(ct, &fk, !pm.pm_more_frags, now_ms)) {
			drop(v, NET_DROP_FRAGMENT);
			return;
		}
		deliver(s, (uint32_t)d, v, tr);
		return;
	}
	struct ct_key k;
	struct ct_entry *ce = NULL;
	bool reply = false, related = false;
	ct_key_of(zone, &pm, &k);
	if (ct && pm.pm_icmp_error)
		related = icmp_related(ct, zone, &pm, now_ms);
	else if (ct)
		ce = ct_lookup(ct, &k, now_ms, &reply);
	if (!deliver_checks(s, (uint32_t)d, &pm, ce != NULL || related || (tr && tr->answer), v, tr))
		return;
	ct_learn(ct, ce, &k, reply, &pm, now_ms);
}

void
path_from_port(const struct net_snapshot *s, struct conntrack *ct, uint32_t gw,
	       const uint8_t *p, uint32_t len, uint32_t off, uint64_t now_ms,
	       struct pkt_meta *m, struct verdict *v)
{
	path_from_port_traced(s, ct, gw, p, len, off, now_ms, m, v, NULL);
}
