/*
 * path — what happens to one packet: the virtual router's decision, as a
 * pure function of the snapshot, the connection table and the packet.
 * router.c does the I/O around it; the unit tests call it directly.
 *
 * Order (net.h): parse; ARP; source MAC/address check; source subnet's
 * NACL out; ENI's SGs out (or a tracked flow); route (longest prefix);
 * destination subnet's NACL in; destination ENI's SGs in (or tracked);
 * then the connection table learns the flow. NACLs apply only across a
 * subnet boundary, as in AWS. Nothing is allocated; O(rules + log routes).
 */
#include "net/net_int.h"

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
	    const struct pkt_meta *m, struct verdict *v)
{
	const struct snap_nacl *n = &s->nacls[sn->s_nacl];
	struct acl_pkt p;

	acl_pkt_of(m, egress ? m->pm_dst : m->pm_src, &p);
	const struct acl_rule *r = egress ? n->n_out : n->n_in;
	int i = nacl_rules_first_match(r, egress ? n->n_nout : n->n_nin, &p);
	v->v_nacl_rule = i < 0 ? NACL_RULE_DEFAULT_DENY : r[i].ar_number;
	return i >= 0 && r[i].ar_allow;
}

static void
ct_key_of(const struct net_snapshot *s, uint32_t vpc, const struct pkt_meta *m,
	  struct ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->k_zone = s->vpcs[vpc].v_zone;
	k->k_src = m->pm_src;
	k->k_dst = m->pm_dst;
	k->k_sport = m->pm_sport;
	k->k_dport = m->pm_dport;
	k->k_proto = m->pm_proto;
}

/* Delivery to ENI d: NACL in (across subnets), SG in unless tracked. */
static bool
deliver_checks(const struct net_snapshot *s, uint32_t d, const struct pkt_meta *m,
	       bool tracked, struct verdict *v)
{
	const struct snap_eni *de = &s->enis[d];
	const struct snap_subnet *ds = &s->subnets[de->e_subnet];

	if (!cidr_contains_ip(&ds->s_cidr, m->pm_src) && !nacl_allows(s, ds, false, m, v))
		return drop(v, NET_DROP_NACL_IN);
	if (!tracked) {
		struct acl_pkt p;
		acl_pkt_of(m, m->pm_src, &p);
		if (!sg_allows(s, de, false, &p))
			return drop(v, NET_DROP_SG_INGRESS);
	}
	if (de->e_fd < 0)
		return drop(v, NET_DROP_NO_ENI);
	v->v_kind = V_TO_ENI;
	v->v_index = d;
	return true;
}

static void
ct_learn(struct conntrack *ct, struct ct_entry *e, const struct ct_key *k, bool reply,
	 const struct pkt_meta *m, uint64_t now_ms)
{
	if (!e) {
		e = ct_insert(ct, k, now_ms);
		reply = false;
	}
	ct_touch(e, reply, m->pm_tcp_flags, now_ms);
}

void
path_from_eni(const struct net_snapshot *s, struct conntrack *ct, const uint8_t router_mac[6],
	      uint32_t eni, const uint8_t *frame, uint32_t len, uint64_t now_ms,
	      struct pkt_meta *m, struct verdict *v)
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
	if (memcmp(frame + 6, e->e_mac, 6) != 0 || (e->e_src_dst_check && m->pm_src != e->e_ip)) {
		drop(v, NET_DROP_SRC_DST_CHECK);
		return;
	}

	if (!cidr_contains_ip(&sn->s_cidr, m->pm_dst) && !nacl_allows(s, sn, true, m, v)) {
		drop(v, NET_DROP_NACL_OUT);
		return;
	}

	struct ct_key k;
	bool reply = false;
	ct_key_of(s, e->e_vpc, m, &k);
	struct ct_entry *ce = ct_lookup(ct, &k, now_ms, &reply);
	if (!ce) {
		struct acl_pkt p;
		acl_pkt_of(m, m->pm_dst, &p);
		if (!sg_allows(s, e, true, &p)) {
			drop(v, NET_DROP_SG_EGRESS);
			return;
		}
	}

	const struct snap_rtb *t = &s->rtbs[sn->s_rtb];
	const struct lpm_entry *le = lpm_lookup(&t->t_lpm, m->pm_dst);
	if (!le) {
		drop(v, NET_DROP_NO_ROUTE);
		return;
	}
	const struct snap_route *r = &t->t_routes[le->le_value];
	v->v_route = (int32_t)le->le_value;
	int32_t d;
	switch (r->r_target) {
	case NET_TARGET_LOCAL:
		d = snap_eni_by_ip(s, e->e_vpc, m->pm_dst);
		if (d < 0) {
			drop(v, NET_DROP_NO_ENI);
			return;
		}
		break;
	case NET_TARGET_ENI:
		d = r->r_index;
		if (s->enis[d].e_src_dst_check && m->pm_dst != s->enis[d].e_ip) {
			drop(v, NET_DROP_SRC_DST_CHECK);
			return;
		}
		break;
	case NET_TARGET_IGW:
	case NET_TARGET_VGW: {
		const struct snap_gw *w = &s->gws[r->r_index];
		if (w->w_vpc != (int32_t)e->e_vpc || !w->w_ops) {
			drop(v, NET_DROP_NO_PORT);
			return;
		}
		if (r->r_target == NET_TARGET_IGW) {
			if (!e->e_public_ip) {
				drop(v, NET_DROP_NO_PUBLIC_IP);
				return;
			}
			v->v_nat_src = e->e_public_ip;
		}
		v->v_kind = V_TO_PORT;
		v->v_index = (uint32_t)r->r_index;
		ct_learn(ct, ce, &k, reply, m, now_ms);
		return;
	}
	case NET_TARGET_BLACKHOLE:
	default:
		drop(v, NET_DROP_BLACKHOLE);
		return;
	}
	if (!deliver_checks(s, (uint32_t)d, m, ce != NULL, v))
		return;
	ct_learn(ct, ce, &k, reply, m, now_ms);
}

void
path_from_port(const struct net_snapshot *s, struct conntrack *ct, uint32_t gw,
	       const uint8_t *p, uint32_t len, uint32_t off, uint64_t now_ms,
	       struct pkt_meta *m, struct verdict *v)
{
	const struct snap_gw *w = &s->gws[gw];
	enum frame_kind kind = ipv4_parse(p, len, off, m);
	int32_t d;

	verdict_init(v);
	if (kind != FRAME_IPV4) {
		drop(v, kind == FRAME_BAD ? NET_DROP_BAD_FRAME : NET_DROP_UNSUPPORTED);
		return;
	}
	if (w->w_vpc < 0) {
		drop(v, NET_DROP_NO_PORT);
		return;
	}
	struct pkt_meta pm = *m;	/* as the VPC sees it: private destination */
	if (w->w_kind == NET_GW_IGW) {
		d = snap_eni_by_public(s, m->pm_dst);
		if (d < 0 || s->enis[d].e_vpc != (uint32_t)w->w_vpc) {
			drop(v, NET_DROP_NO_ENI);
			return;
		}
		v->v_nat_dst = s->enis[d].e_ip;
		pm.pm_dst = v->v_nat_dst;
	} else {
		d = snap_eni_by_ip(s, (uint32_t)w->w_vpc, m->pm_dst);
		if (d < 0) {
			drop(v, NET_DROP_NO_ENI);
			return;
		}
	}
	struct ct_key k;
	bool reply = false;
	ct_key_of(s, (uint32_t)w->w_vpc, &pm, &k);
	struct ct_entry *ce = ct_lookup(ct, &k, now_ms, &reply);
	if (!deliver_checks(s, (uint32_t)d, &pm, ce != NULL, v))
		return;
	ct_learn(ct, ce, &k, reply, &pm, now_ms);
}
