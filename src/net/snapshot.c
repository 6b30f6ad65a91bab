/*
 * snapshot — compiles the engine's plain description (net.h, struct
 * net_config) into the immutable structure the router reads: ids resolved
 * to indices, NACL rules split by direction and sorted by number, SG
 * rules compiled with referenced groups expanded to sorted member
 * addresses, one LPM per route table, address -> ENI indexes, fd -> ENI
 * or port. Control plane only: it allocates freely. Ids are resolved
 * through hash maps (base/idmap.h) keyed by the configuration's ids, which
 * outlive the build, and subnets are checked for overlap after a sort by
 * VPC and address: O(n log n) in the objects, but for a VPN gateway's own
 * routes (quadratic in one gateway's routes, hundreds at most).
 * A snapshot is never modified after net_snapshot_build() returns.
 */
#include "net/net_int.h"

#include "base/idmap.h"
#include "base/ring.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build {
	struct net_snapshot *s;
	char *err;
	size_t errlen;
	/* id -> index of what is built so far (keys: cfg's ids) */
	struct idmap b_vpcs, b_nacls, b_sgs, b_gws, b_subnets, b_rtbs, b_cfg_rtbs, b_enis, b_nats, b_pcxs;
};

/* The index of id in m, or -1. */
static int32_t
find(const struct idmap *m, const char *id)
{
	return (int32_t)idmap_get(m, id);
}

static int
fail(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct build *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err && b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* FNV-1a: a VPC's connection-tracking zone, stable across snapshots. */
static uint32_t
zone_of(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h;
}

static int32_t
vpc_index(struct build *b, const char *id, bool add)
{
	struct net_snapshot *s = b->s;

	if (!id[0])
		return -1;
	int32_t known = find(&b->b_vpcs, id);
	if (known >= 0 || !add)
		return known;
	struct snap_vpc *v = realloc(s->vpcs, sizeof(*v) * (s->n_vpcs + 1));
	if (!v)
		return -1;
	s->vpcs = v;
	snprintf(v[s->n_vpcs].v_id, NET_ID_MAX, "%s", id);
	v[s->n_vpcs].v_zone = zone_of(id);
	idmap_add(&b->b_vpcs, id, s->n_vpcs);
	return (int32_t)s->n_vpcs++;
}

static bool
id_ok(const char *id)
{
	return id[0] != '\0' && memchr(id, '\0', NET_ID_MAX) != NULL;
}

static int
acl_rule_number_cmp(const void *a, const void *b)
{
	const struct acl_rule *x = a, *y = b;

	return (int)x->ar_number - (int)y->ar_number;
}

static int
build_nacl(struct build *b, const struct net_nacl_config *c, struct snap_nacl *n)
{
	snprintf(n->n_id, NET_ID_MAX, "%s", c->id);
	n->n_out = calloc(c->n_rules + 1, sizeof(*n->n_out));
	n->n_in = calloc(c->n_rules + 1, sizeof(*n->n_in));
	if (!n->n_out || !n->n_in)
		return fail(b, "out of memory");
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct nacl_rule *r = &c->rules[i];
		if (r->nr_number < NACL_RULE_MIN || r->nr_number > NACL_RULE_MAX)
			return fail(b, "%s: rule number %u out of range", c->id, r->nr_number);
		if (r->nr_cidr.c_len > 32 || r->nr_port_from > r->nr_port_to)
			return fail(b, "%s: rule %u: bad cidr or port range", c->id, r->nr_number);
		struct acl_rule *o = r->nr_egress ? &n->n_out[n->n_nout++] : &n->n_in[n->n_nin++];
		o->ar_mask = net_mask(r->nr_cidr.c_len);
		o->ar_addr = r->nr_cidr.c_addr & o->ar_mask;
		o->ar_group = -1;
		o->ar_number = r->nr_number;
		o->ar_proto = r->nr_protocol;
		o->ar_port_from = r->nr_port_from;
		o->ar_port_to = r->nr_port_to;
		o->ar_icmp_type = r->nr_icmp_type;
		o->ar_icmp_code = r->nr_icmp_code;
		o->ar_allow = r->nr_allow;
	}
	qsort(n->n_out, n->n_nout, sizeof(*n->n_out), acl_rule_number_cmp);
	qsort(n->n_in, n->n_nin, sizeof(*n->n_in), acl_rule_number_cmp);
	for (uint32_t i = 1; i < n->n_nout; i++)
		if (n->n_out[i].ar_number == n->n_out[i - 1].ar_number)
			return fail(b, "%s: egress rule %u twice", c->id, n->n_out[i].ar_number);
	for (uint32_t i = 1; i < n->n_nin; i++)
		if (n->n_in[i].ar_number == n->n_in[i - 1].ar_number)
			return fail(b, "%s: ingress rule %u twice", c->id, n->n_in[i].ar_number);
	return 0;
}

static int
build_sg_rules(struct build *b, const struct net_config *cfg, size_t gi)
{
	const struct net_sg_config *c = &cfg->sgs[gi];
	struct snap_sg *g = &b->s->sgs[gi];

	g->g_out = calloc(c->n_rules + 1, sizeof(*g->g_out));
	g->g_in = calloc(c->n_rules + 1, sizeof(*g->g_in));
	if (!g->g_out || !g->g_in)
		return fail(b, "out of memory");
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct net_sg_rule_config *r = &c->rules[i];
		struct acl_rule *o = r->egress ? &g->g_out[g->g_nout++] : &g->g_in[g->g_nin++];

		o->ar_number = (uint16_t)i;
		o->ar_allow = true;
		o->ar_proto = r->protocol;
		o->ar_group = -1;
		if (r->protocol < -1 || r->protocol > 255)
			return fail(b, "%s: rule %zu: bad protocol %d", c->id, i, r->protocol);
		if (r->group_id[0]) {
			o->ar_group = find(&b->b_sgs, r->group_id);
			if (o->ar_group < 0)
				return fail(b, "%s: rule %zu: no group %s", c->id, i, r->group_id);
		} else {
			if (r->cidr.c_len > 32)
				return fail(b, "%s: rule %zu: bad cidr", c->id, i);
			o->ar_mask = net_mask(r->cidr.c_len);
			o->ar_addr = r->cidr.c_addr & o->ar_mask;
		}
		if (r->protocol == IPPROTO_TCP_ || r->protocol == IPPROTO_UDP_) {
			if (r->from_port == -1 && (r->to_port == -1 || r->to_port == 65535)) {
				o->ar_port_from = 0;
				o->ar_port_to = 65535;
			} else if (r->from_port < 0 || r->to_port > 65535 || r->from_port > r->to_port) {
				return fail(b, "%s: rule %zu: bad port range %d-%d", c->id, i,
					    r->from_port, r->to_port);
			} else {
				o->ar_port_from = (uint16_t)r->from_port;
				o->ar_port_to = (uint16_t)r->to_port;
			}
		} else if (r->protocol == IPPROTO_ICMP_) {
			if (r->from_port < -1 || r->from_port > 255 || r->to_port < -1 || r->to_port > 255)
				return fail(b, "%s: rule %zu: bad ICMP type/code", c->id, i);
			o->ar_icmp_type = (int16_t)r->from_port;
			o->ar_icmp_code = (int16_t)r->to_port;
		}
	}
	return 0;
}

static int
addr_cmp(const void *a, const void *b)
{
	const struct snap_addr *x = a, *y = b;

	if (x->a_vpc != y->a_vpc)
		return x->a_vpc < y->a_vpc ? -1 : 1;
	if (x->a_ip != y->a_ip)
		return x->a_ip < y->a_ip ? -1 : 1;
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
build_enis(struct build *b, const struct net_config *cfg)
{
	struct net_snapshot *s = b->s;

	for (size_t i = 0; i < cfg->n_enis; i++) {
		const struct net_eni_config *c = &cfg->enis[i];
		struct snap_eni *e = &s->enis[i];

		if (!id_ok(c->id))
			return fail(b, "ENI %zu: bad id", i);
		if (!idmap_add(&b->b_enis, c->id, (uint32_t)i))
			return fail(b, "%s: duplicate ENI id", c->id);
		snprintf(e->e_id, NET_ID_MAX, "%s", c->id);
		int32_t sn = find(&b->b_subnets, c->subnet_id);
		if (sn < 0)
			return fail(b, "%s: no subnet %s", c->id, c->subnet_id);
		if (!cidr_contains_ip(&s->subnets[sn].s_cidr, c->ip))
			return fail(b, "%s: address outside %s", c->id, c->subnet_id);
		e->e_subnet = (uint32_t)sn;
		e->e_vpc = s->subnets[sn].s_vpc;
		memcpy(e->e_mac, c->mac, 6);
		if ((c->mac[0] & 1) || !(c->mac[0] | c->mac[1] | c->mac[2] | c->mac[3] | c->mac[4] | c->mac[5]))
			return fail(b, "%s: MAC must be unicast and not zero", c->id);
		e->e_ip = c->ip;
		e->e_public_ip = c->public_ip;
		e->e_src_dst_check = c->src_dst_check;
		e->e_fd = c->tap_fd;
		e->e_nat = -1;
		if (c->n_groups > NET_ENI_MAX_GROUPS)
			return fail(b, "%s: more than %d groups", c->id, NET_ENI_MAX_GROUPS);
		for (size_t g = 0; g < c->n_groups; g++) {
			int32_t gi = find(&b->b_sgs, c->group_ids[g]);
			if (gi < 0)
				return fail(b, "%s: no security group %s", c->id, c->group_ids[g]);
			if (s->sgs[gi].g_vpc != e->e_vpc)
				return fail(b, "%s: group %s is in another VPC", c->id, c->group_ids[g]);
			e->e_groups[e->e_ngroups++] = (uint32_t)gi;
			s->sgs[gi].g_nmembers++;	/* counted here, filled below */
		}
		s->by_ip[i] = (struct snap_addr){ e->e_vpc, c->ip, (uint32_t)i };
		if (c->public_ip)
			s->by_public[s->n_public++] = (struct snap_addr){ 0, c->public_ip, (uint32_t)i };
	}
	/* each group's members, in ENI order, then sorted */
	for (uint32_t g = 0; g < s->n_sgs; g++) {
		if (!s->sgs[g].g_nmembers)
			continue;
		s->sgs[g].g_members = calloc(s->sgs[g].g_nmembers, sizeof(uint32_t));
		if (!s->sgs[g].g_members)
			return fail(b, "out of memory");
		s->sgs[g].g_nmembers = 0;
	}
	for (uint32_t i = 0; i < s->n_enis; i++)
		for (uint32_t g = 0; g < s->enis[i].e_ngroups; g++) {
			struct snap_sg *sg = &s->sgs[s->enis[i].e_groups[g]];
			sg->g_members[sg->g_nmembers++] = s->enis[i].e_ip;
		}
	qsort(s->by_ip, s->n_enis, sizeof(*s->by_ip), addr_cmp);
	for (uint32_t i = 1; i < s->n_enis; i++)
		if (addr_cmp(&s->by_ip[i - 1], &s->by_ip[i]) == 0)
			return fail(b, "%s and %s have the same address",
				    s->enis[s->by_ip[i - 1].a_eni].e_id, s->enis[s->by_ip[i].a_eni].e_id);
	qsort(s->by_public, s->n_public, sizeof(*s->by_public), addr_cmp);
	for (uint32_t i = 1; i < s->n_public; i++)
		if (s->by_public[i - 1].a_ip == s->by_public[i].a_ip)
			return fail(b, "two ENIs have the same public address");
	for (uint32_t g = 0; g < s->n_sgs; g++)
		if (s->sgs[g].g_nmembers > 1)	/* a group without members has no array (qsort: not NULL) */
			qsort(s->sgs[g].g_members, s->sgs[g].g_nmembers, sizeof(uint32_t), u32_cmp);
	return 0;
}

/* NAT gateways (each on an ENI without a TAP, none shared) and peering
 * connections (two different VPCs); after the ENIs, before the routes. */
static int
build_nats_peerings(struct build *b, const struct net_config *cfg)
{
	struct net_snapshot *s = b->s;

	for (size_t i = 0; i < cfg->n_nats; i++, s->n_nats++) {
		const struct net_nat_config *c = &cfg->nats[i];
		struct snap_nat *n = &s->nats[i];
		if (!id_ok(c->id) || !idmap_add(&b->b_nats, c->id, (uint32_t)i))
			return fail(b, "NAT gateway %zu: bad or duplicate id", i);
		int32_t e = find(&b->b_enis, c->eni_id);
		if (e < 0)
			return fail(b, "%s: no interface %s", c->id, c->eni_id);
		if (s->enis[e].e_nat >= 0 || s->enis[e].e_fd >= 0)
			return fail(b, "%s: interface %s is another NAT gateway's or an instance's", c->id, c->eni_id);
		snprintf(n->n_id, NET_ID_MAX, "%s", c->id);
		n->n_eni = (uint32_t)e;
		s->enis[e].e_nat = (int32_t)i;
	}
	for (size_t i = 0; i < cfg->n_peerings; i++, s->n_peerings++) {
		const struct net_peering_config *c = &cfg->peerings[i];
		struct snap_peering *p = &s->peerings[i];
		if (!id_ok(c->id) || !idmap_add(&b->b_pcxs, c->id, (uint32_t)i))
			return fail(b, "peering connection %zu: bad or duplicate id", i);
		int32_t v0 = vpc_index(b, c->vpc_ids[0], true), v1 = vpc_index(b, c->vpc_ids[1], true);
		if (v0 < 0 || v1 < 0 || v0 == v1)
			return fail(b, "%s: needs two different VPCs", c->id);
		snprintf(p->p_id, NET_ID_MAX, "%s", c->id);
		p->p_vpc[0] = (uint32_t)v0;
		p->p_vpc[1] = (uint32_t)v1;
		p->p_zone = zone_of(c->id);
	}
	return 0;
}

/* A VPN gateway's own routes into an LPM. A prefix two connections both
 * route keeps one entry with no connection (vr_conn 0: the endpoint
 * chooses among the gateway's tunnels, as it did before the router
 * chose). O(n^2) in the gateway's routes (hundreds at most), once per
 * snapshot. */
static int
build_vgw_routes(struct build *b, const struct net_gateway_config *c, struct snap_gw *w)
{
	size_t n = c->kind == NET_GW_VGW ? c->n_vgw_routes : 0;
	struct lpm_entry *le = calloc(n + 1, sizeof(*le));
	uint32_t k = 0;

	w->w_vgw_routes = calloc(n + 1, sizeof(*w->w_vgw_routes));
	if (!le || !w->w_vgw_routes) {
		free(le);
		return fail(b, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const struct net_vgw_route *r = &c->vgw_routes[i];
		if (r->dest.c_len > 32 || !r->conn_key || r->tunnel > 2) {
			free(le);
			return fail(b, "%s: VPN gateway route %zu: bad prefix, key or tunnel", c->id, i);
		}
		uint32_t addr = r->dest.c_addr & net_mask(r->dest.c_len);
		uint32_t j;
		for (j = 0; j < k; j++)
			if (le[j].le_addr == addr && le[j].le_len == r->dest.c_len)
				break;
		if (j < k) {
			/* the same prefix again: another connection's means no choice */
			struct snap_vgw_route *o = &w->w_vgw_routes[le[j].le_value];
			if (o->vr_conn != r->conn_key)
				o->vr_conn = 0, o->vr_tunnel = 0;
			continue;
		}
		w->w_vgw_routes[k] = (struct snap_vgw_route){ r->conn_key, r->tunnel };
		le[k] = (struct lpm_entry){ addr, r->dest.c_len, k };
		k++;
	}
	uint32_t dup = 0;
	int rc = lpm_build(&w->w_vgw_lpm, le, k, &dup);
	free(le);
	if (rc < 0)
		return fail(b, "%s: VPN gateway routes: out of memory", c->id);
	return 0;
}

static int
build_rtb(struct build *b, const struct net_route_table_config *c, struct snap_rtb *t)
{
	struct net_snapshot *s = b->s;
	struct lpm_entry *le = calloc(c->n_routes + 1, sizeof(*le));
	uint32_t dup = 0;

	snprintf(t->t_id, NET_ID_MAX, "%s", c->id);
	t->t_routes = calloc(c->n_routes + 1, sizeof(*t->t_routes));
	if (!le || !t->t_routes) {
		free(le);
		return fail(b, "out of memory");
	}
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct net_route_config *r = &c->routes[i];
		struct snap_route *o = &t->t_routes[i];

		o->r_target = r->target;
		o->r_index = -1;
		switch (r->target) {
		case NET_TARGET_LOCAL:
		case NET_TARGET_BLACKHOLE:
			break;
		case NET_TARGET_ENI:
			o->r_index = find(&b->b_enis, r->target_id);
			if (o->r_index < 0) {
				free(le);
				return fail(b, "%s: route target %s: no such ENI", c->id, r->target_id);
			}
			break;
		case NET_TARGET_IGW:
		case NET_TARGET_VGW:
			o->r_index = find(&b->b_gws, r->target_id);
			if (o->r_index < 0 || s->gws[o->r_index].w_kind !=
			    (r->target == NET_TARGET_IGW ? NET_GW_IGW : NET_GW_VGW)) {
				free(le);
				return fail(b, "%s: route target %s: no such gateway", c->id, r->target_id);
			}
			break;
		case NET_TARGET_NAT:
			o->r_index = find(&b->b_nats, r->target_id);
			if (o->r_index < 0) {
				free(le);
				return fail(b, "%s: route target %s: no such NAT gateway", c->id, r->target_id);
			}
			break;
		case NET_TARGET_PEERING:
			o->r_index = find(&b->b_pcxs, r->target_id);
			if (o->r_index < 0) {
				free(le);
				return fail(b, "%s: route target %s: no such peering connection", c->id, r->target_id);
			}
			break;
		default:
			free(le);
			return fail(b, "%s: route %zu: bad target", c->id, i);
		}
		le[i] = (struct lpm_entry){ r->dest.c_addr, r->dest.c_len, (uint32_t)i };
	}
	t->t_n = (uint32_t)c->n_routes;
	int rc = lpm_build(&t->t_lpm, le, (uint32_t)c->n_routes, &dup);
	free(le);
	if (rc < 0)
		return fail(b, "%s: route %u: duplicate or bad destination", c->id, dup);
	return 0;
}

static void
build_maps_free(struct build *b)
{
	struct idmap *maps[] = { &b->b_vpcs, &b->b_nacls, &b->b_sgs, &b->b_gws, &b->b_subnets, &b->b_rtbs,
				 &b->b_cfg_rtbs, &b->b_enis, &b->b_nats, &b->b_pcxs };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		idmap_free(maps[i]);
}

/* Subnet indices sorted by VPC, then address, then prefix length. */
static const struct snap_subnet *overlap_subnets;

static int
subnet_order_cmp(const void *a, const void *b)
{
	const struct snap_subnet *x = &overlap_subnets[*(const uint32_t *)a];
	const struct snap_subnet *y = &overlap_subnets[*(const uint32_t *)b];

	if (x->s_vpc != y->s_vpc)
		return x->s_vpc < y->s_vpc ? -1 : 1;
	if (x->s_cidr.c_addr != y->s_cidr.c_addr)
		return x->s_cidr.c_addr < y->s_cidr.c_addr ? -1 : 1;
	if (x->s_cidr.c_len != y->s_cidr.c_len)
		return x->s_cidr.c_len < y->s_cidr.c_len ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : *(const uint32_t *)a > *(const uint32_t *)b;
}

/* No two subnets of a VPC overlap. Sorted by (VPC, start, length), a
 * subnet that overlaps any other overlaps the one right after it: two
 * CIDR blocks overlap only when one holds the other, and whatever sorts
 * between a block and one it holds starts inside it. The pair is named as
 * before, the later one in the configuration first. O(n log n). */
static int
subnets_overlap(struct build *b)
{
	struct net_snapshot *s = b->s;
	uint32_t *order = calloc(s->n_subnets + 1, sizeof(*order));

	if (!order)
		return fail(b, "out of memory");
	for (uint32_t i = 0; i < s->n_subnets; i++)
		order[i] = i;
	overlap_subnets = s->subnets;	/* qsort has no context argument */
	qsort(order, s->n_subnets, sizeof(*order), subnet_order_cmp);
	overlap_subnets = NULL;
	for (uint32_t k = 1; k < s->n_subnets; k++) {
		const struct snap_subnet *x = &s->subnets[order[k - 1]], *y = &s->subnets[order[k]];
		if (x->s_vpc == y->s_vpc && cidr_overlaps(&x->s_cidr, &y->s_cidr)) {
			uint32_t later = order[k] > order[k - 1] ? order[k] : order[k - 1];
			uint32_t earlier = order[k] > order[k - 1] ? order[k - 1] : order[k];
			free(order);
			return fail(b, "%s overlaps %s", s->subnets[later].s_id, s->subnets[earlier].s_id);
		}
	}
	free(order);
	return 0;
}

static int
fd_claim(struct build *b, int fd, enum fd_kind kind, uint32_t index)
{
	struct net_snapshot *s = b->s;

	if (fd < 0)
		return 0;
	if ((uint32_t)fd >= s->n_fds) {
		uint32_t n = (uint32_t)fd + 16;
		struct snap_fd *f = realloc(s->fds, sizeof(*f) * n);
		if (!f)
			return fail(b, "out of memory");
		memset(f + s->n_fds, 0, sizeof(*f) * (n - s->n_fds));
		s->fds = f;
		s->n_fds = n;
	}
	if (s->fds[fd].f_kind != FD_NONE)
		return fail(b, "fd %d given twice", fd);
	s->fds[fd] = (struct snap_fd){ (uint8_t)kind, index };
	return 0;
}

struct net_snapshot *
net_snapshot_build(const struct net_config *cfg, char *err, size_t errlen)
{
	struct build b = { .s = calloc(1, sizeof(struct net_snapshot)), .err = err, .errlen = errlen };
	struct net_snapshot *s = b.s;

	if (err && errlen)
		err[0] = '\0';
	if (!s)
		return NULL;
	idmap_init(&b.b_vpcs, cfg->n_subnets / 4);
	idmap_init(&b.b_nacls, cfg->n_nacls);
	idmap_init(&b.b_sgs, cfg->n_sgs);
	idmap_init(&b.b_gws, cfg->n_gateways);
	idmap_init(&b.b_subnets, cfg->n_subnets);
	idmap_init(&b.b_rtbs, cfg->n_route_tables);
	idmap_init(&b.b_cfg_rtbs, cfg->n_route_tables);
	for (size_t i = 0; i < cfg->n_route_tables; i++)
		idmap_add(&b.b_cfg_rtbs, cfg->route_tables[i].id, (uint32_t)i);
	idmap_init(&b.b_enis, cfg->n_enis);
	idmap_init(&b.b_nats, cfg->n_nats);
	idmap_init(&b.b_pcxs, cfg->n_peerings);
	s->subnets = calloc(cfg->n_subnets + 1, sizeof(*s->subnets));
	s->rtbs = calloc(cfg->n_route_tables + 1, sizeof(*s->rtbs));
	s->nacls = calloc(cfg->n_nacls + 1, sizeof(*s->nacls));
	s->sgs = calloc(cfg->n_sgs + 1, sizeof(*s->sgs));
	s->enis = calloc(cfg->n_enis + 1, sizeof(*s->enis));
	s->gws = calloc(cfg->n_gateways + 1, sizeof(*s->gws));
	s->by_ip = calloc(cfg->n_enis + 1, sizeof(*s->by_ip));
	s->by_public = calloc(cfg->n_enis + 1, sizeof(*s->by_public));
	s->nats = calloc(cfg->n_nats + 1, sizeof(*s->nats));
	s->peerings = calloc(cfg->n_peerings + 1, sizeof(*s->peerings));
	if (!s->subnets || !s->rtbs || !s->nacls || !s->sgs || !s->enis || !s->gws ||
	    !s->by_ip || !s->by_public || !s->nats || !s->peerings) {
		fail(&b, "out of memory");
		goto err;
	}

	/* Objects without references first, then what refers to them. */
	for (size_t i = 0; i < cfg->n_nacls; i++, s->n_nacls++) {
		if (!id_ok(cfg->nacls[i].id) || !idmap_add(&b.b_nacls, cfg->nacls[i].id, (uint32_t)i)) {
			fail(&b, "NACL %zu: bad or duplicate id", i);
			goto err;
		}
		if (build_nacl(&b, &cfg->nacls[i], &s->nacls[i]) < 0) {
			s->n_nacls++;
			goto err;
		}
	}
	for (size_t i = 0; i < cfg->n_sgs; i++, s->n_sgs++) {
		const struct net_sg_config *c = &cfg->sgs[i];
		if (!id_ok(c->id) || !idmap_add(&b.b_sgs, c->id, (uint32_t)i)) {
			fail(&b, "security group %zu: bad or duplicate id", i);
			goto err;
		}
		snprintf(s->sgs[i].g_id, NET_ID_MAX, "%s", c->id);
		int32_t v = vpc_index(&b, c->vpc_id, true);
		if (v < 0) {
			fail(&b, "%s: no VPC", c->id);
			goto err;
		}
		s->sgs[i].g_vpc = (uint32_t)v;
	}
	for (size_t i = 0; i < cfg->n_sgs; i++)
		if (build_sg_rules(&b, cfg, i) < 0)
			goto err;
	for (size_t i = 0; i < cfg->n_gateways; i++, s->n_gws++) {
		const struct net_gateway_config *c = &cfg->gateways[i];
		struct snap_gw *w = &s->gws[i];
		if (!id_ok(c->id) || !idmap_add(&b.b_gws, c->id, (uint32_t)i)) {
			fail(&b, "gateway %zu: bad or duplicate id", i);
			goto err;
		}
		snprintf(w->w_id, NET_ID_MAX, "%s", c->id);
		w->w_kind = c->kind;
		w->w_vpc = vpc_index(&b, c->vpc_id, true);
		w->w_ops = c->ring_out ? NULL : c->ops;
		w->w_arg = c->arg;
		w->w_fd = c->ring_out && c->ring_in ? ring_wake_fd(c->ring_in) : c->ops ? c->fd : -1;
		w->w_ring_out = c->ring_out;
		w->w_ring_in = c->ring_out ? c->ring_in : NULL;
		if (build_vgw_routes(&b, c, w) < 0) {
			s->n_gws++;
			goto err;
		}
	}
	for (size_t i = 0; i < cfg->n_subnets; i++, s->n_subnets++) {
		const struct net_subnet_config *c = &cfg->subnets[i];
		struct snap_subnet *sn = &s->subnets[i];
		if (!id_ok(c->id) || !idmap_add(&b.b_subnets, c->id, (uint32_t)i)) {
			fail(&b, "subnet %zu: bad or duplicate id", i);
			goto err;
		}
		snprintf(sn->s_id, NET_ID_MAX, "%s", c->id);
		int32_t v = vpc_index(&b, c->vpc_id, true);
		int32_t n = find(&b.b_nacls, c->nacl_id);
		int32_t t = find(&b.b_cfg_rtbs, c->route_table_id);
		if (v < 0 || n < 0 || t < 0 || c->cidr.c_len > 30) {
			fail(&b, "%s: no VPC, NACL %s or route table %s, or bad CIDR", c->id,
			     c->nacl_id, c->route_table_id);
			goto err;
		}
		sn->s_vpc = (uint32_t)v;
		sn->s_cidr = c->cidr;
		sn->s_cidr.c_addr &= net_mask(c->cidr.c_len);
		sn->s_router_ip = sn->s_cidr.c_addr + 1;
		sn->s_nacl = (uint32_t)n;
		sn->s_rtb = (uint32_t)t;
	}
	if (subnets_overlap(&b) < 0)
		goto err;
	s->n_enis = (uint32_t)cfg->n_enis;
	if (build_enis(&b, cfg) < 0)
		goto err;
	if (build_nats_peerings(&b, cfg) < 0)
		goto err;
	for (size_t i = 0; i < cfg->n_route_tables; i++, s->n_rtbs++) {
		if (!id_ok(cfg->route_tables[i].id) ||
		    !idmap_add(&b.b_rtbs, cfg->route_tables[i].id, (uint32_t)i)) {
			fail(&b, "route table %zu: bad or duplicate id", i);
			goto err;
		}
		if (build_rtb(&b, &cfg->route_tables[i], &s->rtbs[i]) < 0) {
			s->n_rtbs++;
			goto err;
		}
	}
	for (uint32_t i = 0; i < s->n_enis; i++)
		if (fd_claim(&b, s->enis[i].e_fd, FD_ENI, i) < 0)
			goto err;
	for (uint32_t i = 0; i < s->n_gws; i++)
		if (fd_claim(&b, s->gws[i].w_fd, FD_PORT, i) < 0)
			goto err;
	s->ring_gws = calloc(s->n_gws + 1, sizeof(*s->ring_gws));
	if (!s->ring_gws) {
		fail(&b, "out of memory");
		goto err;
	}
	for (uint32_t i = 0; i < s->n_gws; i++)
		if (s->gws[i].w_ring_in)
			s->ring_gws[s->n_ring_gws++] = i;
	build_maps_free(&b);
	return s;
err:
	build_maps_free(&b);
	net_snapshot_free(s);
	return NULL;
}

void
net_snapshot_free(struct net_snapshot *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_nacls; i++) {
		free(s->nacls[i].n_out);
		free(s->nacls[i].n_in);
	}
	for (uint32_t i = 0; i < s->n_sgs; i++) {
		free(s->sgs[i].g_out);
		free(s->sgs[i].g_in);
		free(s->sgs[i].g_members);
	}
	for (uint32_t i = 0; i < s->n_rtbs; i++) {
		lpm_free(&s->rtbs[i].t_lpm);
		free(s->rtbs[i].t_routes);
	}
	for (uint32_t i = 0; i < s->n_gws; i++) {
		lpm_free(&s->gws[i].w_vgw_lpm);
		free(s->gws[i].w_vgw_routes);
	}
	free(s->vpcs);
	free(s->subnets);
	free(s->rtbs);
	free(s->nacls);
	free(s->sgs);
	free(s->enis);
	free(s->gws);
	free(s->by_ip);
	free(s->by_public);
	free(s->fds);
	free(s->nats);
	free(s->peerings);
	free(s->ring_gws);
	free(s);
}

static int32_t
addr_search(const struct snap_addr *a, uint32_t n, uint32_t vpc, uint32_t ip)
{
	uint32_t lo = 0, hi = n;
	struct snap_addr key = { vpc, ip, 0 };

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&a[mid], &key);
		if (c == 0)
			return (int32_t)a[mid].a_eni;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int32_t
snap_eni_by_ip(const struct net_snapshot *s, uint32_t vpc, uint32_t ip)
{
	return addr_search(s->by_ip, s->n_enis, vpc, ip);
}

int32_t
snap_eni_by_public(const struct net_snapshot *s, uint32_t public_ip)
{
	return addr_search(s->by_public, s->n_public, 0, public_ip);
}
