/*
 * test_nat — NAT gateways and VPC peering in the virtual router, without
 * devices: the translation table (net/nat.h: mappings, ports, the remote
 * end check, expiry, bounds) and the per-packet decision (path.c) through
 * a NAT gateway to the internet gateway and back (ICMP errors about its
 * flows too), and across a peering connection.
 *
 *  vpc-1 10.20.0.0/16: subnet-pub 10.20.0.0/24 (rtb-pub: local, 0/0 igw-1),
 *  subnet-priv 10.20.1.0/24 (rtb-priv: local, 0/0 nat-1, 10.30.0.0/16
 *  pcx-1); eni-i 10.20.1.10 (sg-1: egress all, no ingress); nat-1 on
 *  eni-nat 10.20.0.4, Elastic IP 203.0.113.9.
 *  vpc-2 10.30.0.0/16: subnet-x 10.30.1.0/24 (rtb-x: local, and
 *  10.20.0.0/16 pcx-1 unless a test removes it); eni-x 10.30.1.10 (sg-2:
 *  ICMP in from sg-1, the peer VPC's group; egress all).
 *  subnet-y 10.20.5.0/24 (vpc-1, rtb-pub), which rtb-priv routes through
 *  nat-1 (a route more specific than the local one): eni-y 10.20.5.10
 *  (sg-y: SSH in from the NAT gateway's address only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_int.h"
#include "base/csum.h"
#include "frames.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define I_IP IP(10, 20, 1, 10)
#define NAT_IP IP(10, 20, 0, 4)
#define EIP IP(203, 0, 113, 9)
#define X_IP IP(10, 30, 1, 10)
#define HOST IP(198, 51, 100, 7)
#define Y_IP IP(10, 20, 5, 10)
#define SYN 0x02
#define ACK 0x10
#define FIN 0x01

static const uint8_t MAC_I[6] = { 2, 0, 10, 20, 1, 10 };
static const uint8_t MAC_NAT[6] = { 2, 0, 10, 20, 0, 4 };
static const uint8_t MAC_X[6] = { 2, 0, 10, 30, 1, 10 };
static const uint8_t MAC_Y[6] = { 2, 0, 10, 20, 5, 10 };
static uint64_t now_ms = 1000000;

struct topo {
	struct net_subnet_config subnets[4];
	struct net_route_config r_pub[2], r_priv[4], r_x[2];
	struct net_route_table_config rtbs[3];
	struct nacl_rule acl[2];
	struct net_nacl_config nacls[1];
	struct net_sg_rule_config sg1[1], sg2[2], sgy[2];
	struct net_sg_config sgs[3];
	struct net_eni_config enis[4];
	struct net_gateway_config gws[1];
	struct net_nat_config nats[1];
	struct net_peering_config pcxs[1];
	struct net_config cfg;
};

static unsigned
dummy_tx(void *arg, uint8_t *const *pkts, const uint32_t *lens, unsigned n)
{
	return n;
}

static const struct net_port_ops dummy_ops = { dummy_tx, NULL };

static void
topo_init(struct topo *t, bool route_back)
{
	memset(t, 0, sizeof(*t));
	t->subnets[0] = (struct net_subnet_config){ "subnet-pub", "vpc-1", { IP(10, 20, 0, 0), 24 }, "rtb-pub", "acl-all" };
	t->subnets[1] = (struct net_subnet_config){ "subnet-priv", "vpc-1", { IP(10, 20, 1, 0), 24 }, "rtb-priv", "acl-all" };
	t->subnets[2] = (struct net_subnet_config){ "subnet-x", "vpc-2", { IP(10, 30, 1, 0), 24 }, "rtb-x", "acl-all" };
	t->subnets[3] = (struct net_subnet_config){ "subnet-y", "vpc-1", { IP(10, 20, 5, 0), 24 }, "rtb-pub", "acl-all" };
	t->r_pub[0] = (struct net_route_config){ { IP(10, 20, 0, 0), 16 }, NET_TARGET_LOCAL, "" };
	t->r_pub[1] = (struct net_route_config){ { 0, 0 }, NET_TARGET_IGW, "igw-1" };
	t->r_priv[0] = (struct net_route_config){ { IP(10, 20, 0, 0), 16 }, NET_TARGET_LOCAL, "" };
	t->r_priv[1] = (struct net_route_config){ { 0, 0 }, NET_TARGET_NAT, "nat-1" };
	t->r_priv[2] = (struct net_route_config){ { IP(10, 30, 0, 0), 16 }, NET_TARGET_PEERING, "pcx-1" };
	t->r_priv[3] = (struct net_route_config){ { IP(10, 20, 5, 0), 24 }, NET_TARGET_NAT, "nat-1" };
	t->r_x[0] = (struct net_route_config){ { IP(10, 30, 0, 0), 16 }, NET_TARGET_LOCAL, "" };
	t->r_x[1] = (struct net_route_config){ { IP(10, 20, 0, 0), 16 }, NET_TARGET_PEERING, "pcx-1" };
	t->rtbs[0] = (struct net_route_table_config){ "rtb-pub", t->r_pub, 2 };
	t->rtbs[1] = (struct net_route_table_config){ "rtb-priv", t->r_priv, 4 };
	t->rtbs[2] = (struct net_route_table_config){ "rtb-x", t->r_x, route_back ? 2 : 1 };
	t->acl[0] = (struct nacl_rule){ 100, false, true, -1, { 0, 0 }, 0, 65535, -1, -1 };
	t->acl[1] = (struct nacl_rule){ 100, true, true, -1, { 0, 0 }, 0, 65535, -1, -1 };
	t->nacls[0] = (struct net_nacl_config){ "acl-all", t->acl, 2 };
	t->sg1[0] = (struct net_sg_rule_config){ true, -1, -1, -1, { 0, 0 }, "", "" };
	t->sg2[0] = (struct net_sg_rule_config){ false, 1, -1, -1, { 0, 0 }, "sg-1", "" };
	t->sg2[1] = (struct net_sg_rule_config){ true, -1, -1, -1, { 0, 0 }, "", "" };
	t->sgs[0] = (struct net_sg_config){ "sg-1", "vpc-1", t->sg1, 1 };
	t->sgs[1] = (struct net_sg_config){ "sg-2", "vpc-2", t->sg2, 2 };
	t->sgy[0] = (struct net_sg_rule_config){ false, 6, 22, 22, { NAT_IP, 32 }, "", "" };
	t->sgy[1] = (struct net_sg_rule_config){ true, -1, -1, -1, { 0, 0 }, "", "" };
	t->sgs[2] = (struct net_sg_config){ "sg-y", "vpc-1", t->sgy, 2 };
	t->enis[0] = (struct net_eni_config){ .id = "eni-i", .subnet_id = "subnet-priv", .ip = I_IP,
		.src_dst_check = true, .group_ids = { "sg-1" }, .n_groups = 1, .tap_fd = 100 };
	memcpy(t->enis[0].mac, MAC_I, 6);
	t->enis[1] = (struct net_eni_config){ .id = "eni-nat", .subnet_id = "subnet-pub", .ip = NAT_IP,
		.public_ip = EIP, .tap_fd = -1 };
	memcpy(t->enis[1].mac, MAC_NAT, 6);
	t->enis[2] = (struct net_eni_config){ .id = "eni-x", .subnet_id = "subnet-x", .ip = X_IP,
		.src_dst_check = true, .group_ids = { "sg-2" }, .n_groups = 1, .tap_fd = 101 };
	memcpy(t->enis[2].mac, MAC_X, 6);
	t->enis[3] = (struct net_eni_config){ .id = "eni-y", .subnet_id = "subnet-y", .ip = Y_IP,
		.src_dst_check = true, .group_ids = { "sg-y" }, .n_groups = 1, .tap_fd = 102 };
	memcpy(t->enis[3].mac, MAC_Y, 6);
	t->gws[0] = (struct net_gateway_config){ .id = "igw-1", .vpc_id = "vpc-1", .kind = NET_GW_IGW,
		.ops = &dummy_ops, .fd = -1 };
	t->nats[0] = (struct net_nat_config){ "nat-1", "eni-nat" };
	t->pcxs[0] = (struct net_peering_config){ "pcx-1", { "vpc-1", "vpc-2" } };
	t->cfg = (struct net_config){ t->subnets, 4, t->rtbs, 3, t->nacls, 1, t->sgs, 3, t->enis, 4, t->gws, 1,
				      t->nats, 1, t->pcxs, 1 };
}

struct env {
	struct topo t;
	struct net_snapshot *s;
	struct conntrack ct;
	struct nat_table nat;
};

static struct env *
env_new(bool route_back)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[160];

	topo_init(&e->t, route_back);
	e->s = net_snapshot_build(&e->t.cfg, err, sizeof(err));
	if (!e->s)
		fail_msg("snapshot: %s", err);
	assert_int_equal(ct_init(&e->ct, 1024), 0);
	assert_int_equal(nat_init(&e->nat, 256), 0);
	e->ct.ct_nat = &e->nat;
	return e;
}

static void
env_free(struct env *e)
{
	net_snapshot_free(e->s);
	ct_free(&e->ct);
	nat_free(&e->nat);
	free(e);
}

static int env_setup(void **state) { *state = env_new(true); return 0; }
static int env_teardown(void **state) { env_free(*state); return 0; }

/* The frame from ENI eni, decided and (when it passes) translated as
 * the router does; buf keeps the result. */
static struct verdict
from_eni(struct env *e, uint32_t eni, const struct tframe *t, uint8_t *buf, uint32_t *len)
{
	struct pkt_meta m;
	struct verdict v;
	*len = tframe_build(buf, t);
	path_from_eni(e->s, &e->ct, test_router_mac, eni, buf, *len, now_ms, &m, &v);
	if (v.v_kind == V_TO_PORT || v.v_kind == V_TO_ENI) {
		if (v.v_nat_src)
			ipv4_rewrite_src(buf, &m, v.v_nat_src);
		if (v.v_nat_sport_set)
			l4_rewrite_sport(buf, &m, v.v_nat_sport);
		if (v.v_nat_dst)
			ipv4_rewrite_dst(buf, &m, v.v_nat_dst);
		if (v.v_nat_dport_set)
			l4_rewrite_dport(buf, &m, v.v_nat_dport);
	}
	return v;
}

/* The packet of t coming in through the igw (gateway 0). */
static struct verdict
from_igw(struct env *e, const struct tframe *t, uint8_t *buf, uint32_t *len)
{
	struct pkt_meta m;
	struct verdict v;
	*len = tframe_build(buf, t);
	path_from_port(e->s, &e->ct, 0, buf, *len, 14, now_ms, &m, &v);
	if (v.v_kind == V_TO_ENI) {
		if (v.v_nat_dst)
			ipv4_rewrite_dst(buf, &m, v.v_nat_dst);
		if (v.v_nat_dport_set)
			l4_rewrite_dport(buf, &m, v.v_nat_dport);
		if (v.v_nat_inner_sport_set)
			l4_rewrite_inner_sport(buf, &m, v.v_nat_inner_sport);
	}
	return v;
}

static uint32_t rd32_(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16_(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

#define assert_drop(v, why) do { assert_int_equal((v).v_kind, V_DROP); \
	assert_string_equal(net_drop_name((v).v_drop), net_drop_name(why)); } while (0)

/* --- the table ---------------------------------------------------------------- */

static struct nat_flow
flow(uint32_t int_ip, uint16_t int_port, uint32_t rem_ip, uint16_t rem_port, uint8_t proto)
{
	return (struct nat_flow){ 7, NAT_IP, int_ip, rem_ip, int_port, rem_port, proto };
}

static void
test_table_basics(void **state)
{
	struct nat_table t;
	assert_int_equal(nat_init(&t, 100), 0);
	assert_int_equal(t.nt_cap, 128);
	struct nat_flow f = flow(I_IP, 40000, HOST, 80, 6);
	assert_null(nat_lookup_out(&t, &f, now_ms));
	struct nat_entry *e = nat_create(&t, &f, now_ms);
	assert_non_null(e);
	assert_true(e->ne_ext_port >= NAT_PORT_MIN);
	assert_ptr_equal(nat_lookup_out(&t, &f, now_ms), e);
	/* in: only from the remote end the flow went to */
	assert_ptr_equal(nat_lookup_in(&t, 7, NAT_IP, 6, e->ne_ext_port, HOST, 80, now_ms), e);
	assert_null(nat_lookup_in(&t, 7, NAT_IP, 6, e->ne_ext_port, HOST, 81, now_ms));
	assert_null(nat_lookup_in(&t, 7, NAT_IP, 6, e->ne_ext_port, HOST + 1, 80, now_ms));
	assert_null(nat_lookup_in(&t, 7, NAT_IP, 17, e->ne_ext_port, HOST, 80, now_ms));
	assert_null(nat_lookup_in(&t, 8, NAT_IP, 6, e->ne_ext_port, HOST, 80, now_ms));
	/* every flow its own port */
	uint16_t ports[50];
	for (int i = 0; i < 50; i++) {
		struct nat_flow g = flow(I_IP, (uint16_t)(1000 + i), HOST, 80, 6);
		struct nat_entry *x = nat_create(&t, &g, now_ms);
		assert_non_null(x);
		ports[i] = x->ne_ext_port;
		assert_int_not_equal(ports[i], e->ne_ext_port);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ports[i], ports[j]);
	}
	assert_int_equal(t.nt_live, 51);
	nat_free(&t);
}

static void
test_table_expiry_and_bounds(void **state)
{
	struct nat_table t;
	assert_int_equal(nat_init(&t, 64), 0);
	/* a TCP flow nobody answered goes after NAT_TCP_SYN_MS */
	struct nat_flow f = flow(I_IP, 40000, HOST, 80, 6);
	struct nat_entry *e = nat_create(&t, &f, now_ms);
	assert_non_null(e);
	assert_non_null(nat_lookup_out(&t, &f, now_ms + NAT_TCP_SYN_MS - 1));
	assert_null(nat_lookup_out(&t, &f, now_ms + NAT_TCP_SYN_MS));
	assert_int_equal(t.nt_live, 0);	/* reclaimed when met */
	/* answered: the 350 s idle timeout; after a FIN, sooner */
	e = nat_create(&t, &f, now_ms);
	nat_touch(e, true, SYN | ACK, now_ms);
	assert_non_null(nat_lookup_out(&t, &f, now_ms + NAT_IDLE_MS - 1));
	nat_touch(e, false, FIN | ACK, now_ms);
	assert_null(nat_lookup_out(&t, &f, now_ms + NAT_TCP_CLOSING_MS));
	/* full: new flows are refused, live ones keep their ports */
	unsigned made = 0;
	for (int i = 0; i < 200; i++) {
		struct nat_flow g = flow(I_IP, (uint16_t)(2000 + i), HOST, 53, 17);
		if (nat_create(&t, &g, now_ms))
			made++;
	}
	assert_true(made <= 64);
	assert_true(t.nt_refused >= 200 - 64);
	assert_true(t.nt_live <= t.nt_cap);
	struct nat_flow first = flow(I_IP, 2000, HOST, 53, 17);
	struct nat_entry *kept = nat_lookup_out(&t, &first, now_ms + 1);
	assert_non_null(kept);
	/* once they expire, the sweep gives their entries to new flows */
	uint64_t later = now_ms + NAT_IDLE_MS + 1;
	struct nat_flow g = flow(I_IP, 9999, HOST, 53, 17);
	unsigned got = 0;
	for (int i = 0; i < 64 && got < 10; i++) {
		g.nf_int_port = (uint16_t)(9000 + i);
		if (nat_create(&t, &g, later))
			got++;
	}
	assert_int_equal(got, 10);
	nat_free(&t);
}

static void
test_rewrite_checksums(void **state)
{
	uint8_t buf[NET_FRAME_MAX];
	struct pkt_meta m;
	static const uint8_t protos[] = { 6, 17, 1 };
	for (size_t i = 0; i < sizeof(protos); i++) {
		struct tframe t = { test_router_mac, MAC_I, I_IP, HOST, protos[i], 40000, 80, 8, 0, SYN, 32 };
		uint32_t len = tframe_build(buf, &t);
		assert_int_equal(frame_parse(buf, len, &m), FRAME_IPV4);
		ipv4_rewrite_src(buf, &m, EIP);
		l4_rewrite_sport(buf, &m, 4242);
		assert_true(tl4_csum_ok(buf + 14, len - 14));
		assert_int_equal(rd32_(buf + 14 + 12), EIP);
		assert_int_equal(rd16_(buf + 14 + 20 + (protos[i] == 1 ? 4 : 0)), 4242);
		l4_rewrite_dport(buf, &m, 8080);
		assert_true(tl4_csum_ok(buf + 14, len - 14));
	}
}

/* --- the path ------------------------------------------------------------------ */

static void
test_nat_tcp_out_and_back(void **state)
{
	struct env *e = *state;
	uint8_t buf[NET_FRAME_MAX];
	uint32_t len;
	struct tframe t = { test_router_mac, MAC_I, I_IP, HOST, 6, 40000, 80, 0, 0, SYN, 0 };
	struct verdict v = from_eni(e, 0, &t, buf, &len);
	assert_int_equal(v.v_kind, V_TO_PORT);
	assert_int_equal(v.v_index, 0);			/* igw-1 */
	assert_int_equal(v.v_nat_src, EIP);		/* the gateway's address, 1:1 at the igw */
	assert_true(v.v_nat_sport_set);
	uint16_t ext = v.v_nat_sport;
	assert_true(ext >= NAT_PORT_MIN);
	assert_int_equal(rd32_(buf + 14 + 12), EIP);
	assert_int_equal(rd16_(buf + 34), ext);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	assert_int_equal(e->nat.nt_live, 1);
	/* the same flow keeps its port */
	t.tcp_flags = ACK;
	v = from_eni(e, 0, &t, buf, &len);
	assert_int_equal(v.v_nat_sport, ext);
	/* the answer comes back to the instance, untranslated, though sg-1
	 * admits nothing in: it is the instance's flow */
	struct tframe r = { test_router_mac, test_router_mac, HOST, EIP, 6, 80, ext, 0, 0, SYN | ACK, 0 };
	v = from_igw(e, &r, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 0);
	assert_int_equal(v.v_nat_dst, I_IP);
	assert_int_equal(rd32_(buf + 14 + 16), I_IP);
	assert_int_equal(rd16_(buf + 36), 40000);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	/* another remote port, another address, another external port: unsolicited */
	r.sport = 81;
	assert_drop(from_igw(e, &r, buf, &len), NET_DROP_NAT_NO_MAPPING);
	r.sport = 80;
	r.src = HOST + 1;
	assert_drop(from_igw(e, &r, buf, &len), NET_DROP_NAT_NO_MAPPING);
	r.src = HOST;
	r.dport = (uint16_t)(ext + 1);
	assert_drop(from_igw(e, &r, buf, &len), NET_DROP_NAT_NO_MAPPING);
	/* a connection opened from outside to the Elastic IP */
	struct tframe in = { test_router_mac, test_router_mac, HOST, EIP, 6, 5555, 22, 0, 0, SYN, 0 };
	assert_drop(from_igw(e, &in, buf, &len), NET_DROP_NAT_NO_MAPPING);
}

static void
test_nat_udp_icmp(void **state)
{
	struct env *e = *state;
	uint8_t buf[NET_FRAME_MAX];
	uint32_t len;
	struct tframe t = { test_router_mac, MAC_I, I_IP, HOST, 17, 5353, 53, 0, 0, 0, 20 };
	struct verdict v = from_eni(e, 0, &t, buf, &len);
	assert_int_equal(v.v_kind, V_TO_PORT);
	uint16_t ext = v.v_nat_sport;
	struct tframe r = { test_router_mac, test_router_mac, HOST, EIP, 17, 53, ext, 0, 0, 0, 20 };
	v = from_igw(e, &r, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(rd16_(buf + 36), 5353);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	/* ping: the echo identifier is translated */
	struct tframe p = { test_router_mac, MAC_I, I_IP, HOST, 1, 77, 77, 8, 0, 0, 16 };
	v = from_eni(e, 0, &p, buf, &len);
	assert_int_equal(v.v_kind, V_TO_PORT);
	uint16_t id = v.v_nat_sport;
	assert_int_equal(rd16_(buf + 38), id);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	struct tframe pr = { test_router_mac, test_router_mac, HOST, EIP, 1, id, id, 0, 0, 0, 16 };
	v = from_igw(e, &pr, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_nat_dst, I_IP);
	assert_int_equal(rd16_(buf + 38), 77);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	/* an echo request to the Elastic IP is not an answer */
	struct tframe ping_in = { test_router_mac, test_router_mac, HOST, EIP, 1, id, id, 8, 0, 0, 16 };
	assert_drop(from_igw(e, &ping_in, buf, &len), NET_DROP_NAT_NO_MAPPING);
	/* other protocols are not translated */
	struct tframe gre = { test_router_mac, MAC_I, I_IP, HOST, 47, 0, 0, 0, 0, 0, 8 };
	assert_drop(from_eni(e, 0, &gre, buf, &len), NET_DROP_NAT_REFUSED);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An ICMP error src -> dst (type/code) quoting the IPv4 header and 8
 * bytes of a TCP packet isrc:sport -> idst:dport, through the igw. */
static struct verdict
icmp_error_in(struct env *e, uint8_t *f, uint32_t *len, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	      uint32_t isrc, uint32_t idst, uint16_t sport, uint16_t dport)
{
	struct tframe t = { test_router_mac, test_router_mac, src, dst, 1, 0, 0, type, code, 0, 28 + 12 };
	*len = tframe_build(f, &t);
	uint8_t *icmp = f + 14 + 20, *in = icmp + 8;
	memset(icmp + 4, 0, 4);
	if (type == 3 && code == 4)
		wr16(icmp + 6, 1400);
	in[0] = 0x45;
	wr16(in + 2, 1500);
	in[8] = 63;
	in[9] = 6;
	put32(in + 12, isrc);
	put32(in + 16, idst);
	wr16(in + 10, 0);
	wr16(in + 10, csum_finish(csum_add_bytes(0, in, 20)));
	wr16(in + 20, sport);
	wr16(in + 22, dport);
	put32(in + 24, 0x01020304);
	wr16(icmp + 2, 0);
	wr16(icmp + 2, csum_finish(csum_add_bytes(0, icmp, *len - 14 - 20)));
	struct pkt_meta m;
	struct verdict v;
	path_from_port(e->s, &e->ct, 0, f, *len, 14, now_ms, &m, &v);
	if (v.v_kind == V_TO_ENI) {
		ipv4_rewrite_dst(f, &m, v.v_nat_dst);
		if (v.v_nat_inner_sport_set)
			l4_rewrite_inner_sport(f, &m, v.v_nat_inner_sport);
	}
	return v;
}

static void
test_nat_icmp_errors(void **state)
{
	struct env *e = *state;
	uint8_t buf[NET_FRAME_MAX];
	uint32_t len;
	struct tframe t = { test_router_mac, MAC_I, I_IP, HOST, 6, 40000, 80, 0, 0, SYN, 0 };
	struct verdict v = from_eni(e, 0, &t, buf, &len);
	assert_int_equal(v.v_kind, V_TO_PORT);
	uint16_t ext = v.v_nat_sport;
	/* a router out there: fragmentation needed, quoting what the gateway
	 * sent (from the Elastic IP and its port): the instance gets it with
	 * the quote translated back to its own address and port */
	v = icmp_error_in(e, buf, &len, IP(192, 0, 2, 1), EIP, 3, 4, EIP, HOST, ext, 80);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 0);
	assert_int_equal(rd32_(buf + 14 + 16), I_IP);
	assert_int_equal(rd32_(buf + 14 + 28 + 12), I_IP);
	assert_int_equal(rd16_(buf + 14 + 28 + 20), 40000);
	assert_int_equal(csum_fold(csum_add_bytes(0, buf + 14 + 28, 20)), 0xffff);	/* quoted header */
	assert_int_equal(csum_fold(csum_add_bytes(0, buf + 14 + 20, len - 14 - 20)), 0xffff);	/* ICMP */
	assert_int_equal(e->nat.nt_live, 1);
	/* about a port the gateway never gave out, or another remote end */
	assert_drop(icmp_error_in(e, buf, &len, IP(192, 0, 2, 1), EIP, 3, 4, EIP, HOST, (uint16_t)(ext + 1), 80),
		    NET_DROP_NAT_NO_MAPPING);
	assert_drop(icmp_error_in(e, buf, &len, IP(192, 0, 2, 1), EIP, 3, 3, EIP, HOST + 1, ext, 80),
		    NET_DROP_NAT_NO_MAPPING);
}

/* The gateway's translation towards an ENI of its own VPC (what a
 * private NAT gateway does): eni-y's group sees the gateway's address,
 * its answer to that address goes back to eni-i. */
static void
test_nat_to_an_eni(void **state)
{
	struct env *e = *state;
	uint8_t buf[NET_FRAME_MAX];
	uint32_t len;
	struct tframe t = { test_router_mac, MAC_I, I_IP, Y_IP, 6, 41000, 22, 0, 0, SYN, 0 };
	struct verdict v = from_eni(e, 0, &t, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 3);
	assert_int_equal(v.v_nat_src, NAT_IP);
	uint16_t ext = v.v_nat_sport;
	assert_int_equal(rd32_(buf + 14 + 12), NAT_IP);
	assert_int_equal(rd16_(buf + 34), ext);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	/* eni-y answers the gateway; eni-i gets it from eni-y, its own port */
	struct tframe r = { test_router_mac, MAC_Y, Y_IP, NAT_IP, 6, 22, ext, 0, 0, SYN | ACK, 0 };
	v = from_eni(e, 3, &r, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 0);
	assert_int_equal(rd32_(buf + 14 + 16), I_IP);
	assert_int_equal(rd16_(buf + 36), 41000);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	/* eni-y opening a connection to the gateway's address: unsolicited */
	struct tframe in = { test_router_mac, MAC_Y, Y_IP, NAT_IP, 6, 5000, 80, 0, 0, SYN, 0 };
	assert_drop(from_eni(e, 3, &in, buf, &len), NET_DROP_NAT_NO_MAPPING);
	/* the trace agrees: through nat-1, SSH reaches eni-y (sg-y admits the
	 * gateway's address, not eni-i's) */
	struct net_trace_query q = { .from_id = "eni-i", .dst = Y_IP, .proto = 6, .dport = 22 };
	struct net_trace_result tr;
	char err[128];
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &tr, err, sizeof(err)), 0);
	assert_true(tr.delivered);
}

static void
test_nat_trace(void **state)
{
	struct env *e = *state;
	struct net_trace_query q = { .from_id = "eni-i", .dst = HOST, .proto = 6, .dport = 443 };
	struct net_trace_result r;
	char err[128];
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	bool saw_nat = false;
	for (size_t i = 0; i < r.n_steps; i++)
		if (r.steps[i].stage == NET_TRACE_NAT_GATEWAY) {
			saw_nat = true;
			assert_string_equal(r.steps[i].id, "nat-1");
			assert_int_equal(r.steps[i].addr, NAT_IP);
		}
	assert_true(saw_nat);
	assert_int_equal(r.steps[r.n_steps - 1].stage, NET_TRACE_PORT);
	assert_string_equal(r.steps[r.n_steps - 1].id, "igw-1");
}

static void
test_peering(void **state)
{
	struct env *e = *state;
	uint8_t buf[NET_FRAME_MAX];
	uint32_t len;
	/* ping across: sg-2 admits ICMP from sg-1, the peer VPC's group */
	struct tframe p = { test_router_mac, MAC_I, I_IP, X_IP, 1, 9, 9, 8, 0, 0, 16 };
	struct verdict v = from_eni(e, 0, &p, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 2);
	assert_int_equal(v.v_nat_src, 0);		/* no translation */
	/* the reply, by rtb-x's route back; sg-1 admits nothing in, but
	 * it is the answer to the flow */
	struct tframe r = { test_router_mac, MAC_X, X_IP, I_IP, 1, 9, 9, 0, 0, 0, 16 };
	v = from_eni(e, 2, &r, buf, &len);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 0);
	/* SSH is not allowed by sg-2 */
	struct tframe ssh = { test_router_mac, MAC_I, I_IP, X_IP, 6, 40000, 22, 0, 0, SYN, 0 };
	assert_drop(from_eni(e, 0, &ssh, buf, &len), NET_DROP_SG_INGRESS);
	/* from vpc-2 to an address vpc-1 does not have */
	struct tframe nowhere = { test_router_mac, MAC_X, X_IP, IP(10, 20, 9, 9), 1, 9, 9, 8, 0, 0, 16 };
	assert_drop(from_eni(e, 2, &nowhere, buf, &len), NET_DROP_NO_ENI);
	/* no transit: vpc-1's NAT gateway is not vpc-2's way out */
	struct tframe out = { test_router_mac, MAC_X, X_IP, HOST, 1, 9, 9, 8, 0, 0, 16 };
	assert_drop(from_eni(e, 2, &out, buf, &len), NET_DROP_NO_ROUTE);
}

static void
test_peering_needs_routes_both_ways(void **state)
{
	struct env *e = env_new(false);	/* rtb-x without its route back */
	uint8_t buf[NET_FRAME_MAX];
	uint32_t len;
	struct tframe p = { test_router_mac, MAC_I, I_IP, X_IP, 1, 9, 9, 8, 0, 0, 16 };
	assert_int_equal(from_eni(e, 0, &p, buf, &len).v_kind, V_TO_ENI);
	struct tframe r = { test_router_mac, MAC_X, X_IP, I_IP, 1, 9, 9, 0, 0, 0, 16 };
	assert_drop(from_eni(e, 2, &r, buf, &len), NET_DROP_NO_ROUTE);
	env_free(e);
	/* without the connection in the picture, its routes cannot be built */
	struct topo t;
	char err[160];
	topo_init(&t, true);
	t.cfg.n_peerings = 0;
	assert_null(net_snapshot_build(&t.cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "pcx-1"));
	/* a NAT gateway's interface must not be an instance's */
	topo_init(&t, true);
	t.enis[1].tap_fd = 200;
	assert_null(net_snapshot_build(&t.cfg, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_basics),
		cmocka_unit_test(test_table_expiry_and_bounds),
		cmocka_unit_test(test_rewrite_checksums),
		cmocka_unit_test_setup_teardown(test_nat_tcp_out_and_back, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_nat_udp_icmp, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_nat_icmp_errors, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_nat_to_an_eni, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_nat_trace, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_peering, env_setup, env_teardown),
		cmocka_unit_test(test_peering_needs_routes_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
