/*
 * test_net — the data plane without devices: LPM, NACL evaluation (against
 * model's nacl_evaluate on random rules), security groups with connection
 * tracking, routing targets, ARP, 1:1 NAT checksums, snapshot validation,
 * and hostile frames (every truncation of valid frames, random mutations).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"
#include "net/net_int.h"
#include "vpn/esp/csum.h"
#include "frames.h"
#include "fixture.h"

static uint64_t now_ms = 1000000;

/* --- LPM ------------------------------------------------------------------- */

static void
test_lpm(void **state)
{
	(void)state;
	struct lpm_entry in[] = {
		{ IP(10, 96, 0, 0), 16, 0 }, { IP(10, 96, 1, 0), 24, 1 }, { 0, 0, 2 },
		{ IP(10, 96, 1, 128), 25, 3 }, { IP(10, 96, 1, 7), 32, 4 }, { IP(192, 168, 0, 0), 16, 5 },
	};
	struct lpm t;
	uint32_t dup = 99;

	assert_int_equal(lpm_build(&t, in, 6, &dup), 0);
	assert_int_equal(lpm_lookup(&t, IP(10, 96, 1, 7))->le_value, 4);
	assert_int_equal(lpm_lookup(&t, IP(10, 96, 1, 8))->le_value, 1);
	assert_int_equal(lpm_lookup(&t, IP(10, 96, 1, 200))->le_value, 3);
	assert_int_equal(lpm_lookup(&t, IP(10, 96, 7, 1))->le_value, 0);
	assert_int_equal(lpm_lookup(&t, IP(8, 8, 8, 8))->le_value, 2);
	assert_int_equal(lpm_lookup(&t, IP(192, 168, 255, 255))->le_value, 5);
	lpm_free(&t);

	/* without a default route: misses */
	assert_int_equal(lpm_build(&t, in, 2, NULL), 0);
	assert_null(lpm_lookup(&t, IP(11, 0, 0, 1)));
	lpm_free(&t);

	/* host bits are cleared, so 10.96.1.5/24 duplicates 10.96.1.0/24 */
	struct lpm_entry d[] = { { IP(10, 96, 1, 0), 24, 0 }, { IP(10, 96, 1, 5), 24, 1 } };
	assert_int_equal(lpm_build(&t, d, 2, &dup), -1);
	struct lpm_entry bad[] = { { 0, 33, 0 } };
	assert_int_equal(lpm_build(&t, bad, 1, NULL), -1);

	/* random tables against a linear scan */
	srand(7);
	for (int round = 0; round < 50; round++) {
		struct lpm_entry r[64];
		uint32_t n = 0;
		for (uint32_t i = 0; i < 64; i++) {
			uint8_t len = (uint8_t)(rand() % 33);
			uint32_t a = ((uint32_t)rand() << 1 ^ (uint32_t)rand()) & net_mask(len);
			bool seen = false;
			for (uint32_t j = 0; j < n; j++)
				seen |= r[j].le_len == len && r[j].le_addr == a;
			if (!seen)
				r[n++] = (struct lpm_entry){ a, len, n };
		}
		assert_int_equal(lpm_build(&t, r, n, NULL), 0);
		for (int q = 0; q < 500; q++) {
			uint32_t ip = q % 2 ? r[rand() % n].le_addr | (uint32_t)(rand() & 0xff)
					    : (uint32_t)rand() << 1 ^ (uint32_t)rand();
			int best = -1;
			for (uint32_t j = 0; j < n; j++)
				if ((ip & net_mask(r[j].le_len)) == r[j].le_addr &&
				    (best < 0 || r[j].le_len > r[best].le_len))
					best = (int)j;
			const struct lpm_entry *e = lpm_lookup(&t, ip);
			if (best < 0)
				assert_null(e);
			else
				assert_int_equal(e->le_value, r[best].le_value);
		}
		lpm_free(&t);
	}
}

/* --- NACL against the model's reference ------------------------------------ */

static void
test_nacl_matches_model(void **state)
{
	(void)state;
	srand(11);
	for (int round = 0; round < 200; round++) {
		struct nacl_rule rules[24];
		size_t n = 0;
		for (int i = 0; i < 24; i++) {
			uint16_t num = (uint16_t)(1 + rand() % 300);
			bool egress = rand() % 2;
			bool dup = false;
			for (size_t j = 0; j < n; j++)
				dup |= rules[j].nr_number == num && rules[j].nr_egress == egress;
			if (dup)
				continue;
			static const int16_t protos[] = { -1, 6, 17, 1, 47 };
			uint8_t len = (uint8_t)(rand() % 4 * 8);
			uint16_t pf = (uint16_t)(rand() % 3000), pt = (uint16_t)(pf + rand() % 100);
			rules[n] = fx_nacl(num, egress, rand() % 2, protos[rand() % 5],
					   (uint32_t)rand() & net_mask(len), len, pf, pt);
			rules[n].nr_icmp_type = (int16_t)(rand() % 3 - 1);
			rules[n].nr_icmp_code = (int16_t)(rand() % 2 - 1);
			n++;
		}
		struct net_subnet_config sn = { "subnet-x", "vpc-x", { IP(10, 0, 0, 0), 24 }, "rtb-x", "acl-x" };
		struct net_route_table_config rt = { "rtb-x", NULL, 0 };
		struct net_nacl_config nc = { "acl-x", rules, n };
		struct net_config cfg = { .subnets = &sn, .n_subnets = 1, .route_tables = &rt,
			.n_route_tables = 1, .nacls = &nc, .n_nacls = 1 };
		char err[128];
		struct net_snapshot *s = net_snapshot_build(&cfg, err, sizeof(err));
		assert_non_null(s);
		const struct snap_nacl *sn_acl = &s->nacls[0];
		for (int q = 0; q < 300; q++) {
			static const uint8_t protos[] = { 6, 17, 1, 47 };
			struct nacl_packet p = { rand() % 2, protos[rand() % 4],
				(uint32_t)rand() << 1 ^ (uint32_t)rand(), (uint16_t)(rand() % 3100),
				(uint8_t)(rand() % 2), (uint8_t)(rand() % 2) };
			if (q % 3 == 0 && n > 0)
				p.np_addr = rules[rand() % n].nr_cidr.c_addr | (uint32_t)(rand() % 256);
			int want = nacl_evaluate(rules, n, &p);
			struct acl_pkt ap = { p.np_addr, p.np_protocol, p.np_port, p.np_icmp_type, p.np_icmp_code };
			const struct acl_rule *r = p.np_egress ? sn_acl->n_out : sn_acl->n_in;
			int got = nacl_rules_first_match(r, p.np_egress ? sn_acl->n_nout : sn_acl->n_nin, &ap);
			if (want < 0) {
				assert_int_equal(got, -1);
			} else {
				assert_true(got >= 0);
				assert_int_equal(r[got].ar_number, rules[want].nr_number);
				assert_int_equal(r[got].ar_allow, rules[want].nr_allow);
			}
		}
		net_snapshot_free(s);
	}
}

/* --- the per-packet path --------------------------------------------------- */

struct env {
	struct fixture fx;
	struct net_snapshot *s;
	struct conntrack ct;
};

static int
env_setup(void **state)
{
	static const struct net_port_ops dummy = { NULL, NULL };
	struct env *e = calloc(1, sizeof(*e));
	char err[128];

	fixture_init(&e->fx, &dummy, NULL, -1);
	e->s = net_snapshot_build(&e->fx.cfg, err, sizeof(err));
	if (!e->s)
		fail_msg("snapshot: %s", err);
	assert_int_equal(ct_init(&e->ct, 1024), 0);
	*state = e;
	return 0;
}

static int
env_teardown(void **state)
{
	struct env *e = *state;
	net_snapshot_free(e->s);
	ct_free(&e->ct);
	free(e);
	return 0;
}

/* Sends a frame from ENI index eni; returns the verdict. */
static struct verdict
send_from(struct env *e, uint32_t eni, const struct tframe *t)
{
	uint8_t buf[NET_FRAME_MAX];
	struct pkt_meta m;
	struct verdict v;
	uint32_t len = tframe_build(buf, t);

	path_from_eni(e->s, &e->ct, test_router_mac, eni, buf, len, now_ms, &m, &v);
	return v;
}

static struct tframe
tcp(const uint8_t *smac, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
	return (struct tframe){ test_router_mac, smac, src, dst, 6, sport, dport, 0, 0, flags, 0 };
}

#define A_IP IP(10, 96, 0, 10)
#define B_IP IP(10, 96, 1, 20)
#define C_IP IP(10, 96, 0, 30)
#define SYN 0x02
#define ACK 0x10

static void
assert_drop(struct verdict v, enum net_drop why)
{
	if (v.v_kind != V_DROP || v.v_drop != why)
		fail_msg("want drop %s, got kind %d drop %s", net_drop_name(why), v.v_kind,
			 v.v_kind == V_DROP ? net_drop_name(v.v_drop) : "-");
}

static void
test_path_sg_conntrack(void **state)
{
	struct env *e = *state;
	struct tframe t;
	struct verdict v;

	/* a -> b:80 allowed (sg-web ingress from 10.96.0.0/16) */
	t = tcp(MAC_A, A_IP, B_IP, 40000, 80, SYN);
	v = send_from(e, 0, &t);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 1);
	assert_int_equal(v.v_route, 0);
	/* the reply passes a's sg-app (no ingress rule at all): tracked */
	t = tcp(MAC_B, B_IP, A_IP, 80, 40000, SYN | ACK);
	v = send_from(e, 1, &t);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 0);
	/* b opening a flow to a: b's egress allows, a's ingress does not */
	t = tcp(MAC_B, B_IP, A_IP, 5555, 22, SYN);
	assert_drop(send_from(e, 1, &t), NET_DROP_SG_INGRESS);
	/* a -> b:81: no rule */
	t = tcp(MAC_A, A_IP, B_IP, 40001, 81, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_SG_INGRESS);
	/* a -> b:23: acl-b rule 50 denies before any SG */
	t = tcp(MAC_A, A_IP, B_IP, 40002, 23, SYN);
	v = send_from(e, 0, &t);
	assert_drop(v, NET_DROP_NACL_IN);
	assert_int_equal(v.v_nacl_rule, 50);
	/* ICMP echo from a member of sg-app, and its reply */
	t = (struct tframe){ test_router_mac, MAC_A, A_IP, B_IP, 1, 77, 0, 8, 0, 0, 8 };
	assert_int_equal(send_from(e, 0, &t).v_kind, V_TO_ENI);
	t = (struct tframe){ test_router_mac, MAC_B, B_IP, A_IP, 1, 77, 0, 0, 0, 0, 8 };
	assert_int_equal(send_from(e, 1, &t).v_kind, V_TO_ENI);
	/* an echo reply with another identifier is no reply of ours */
	t = (struct tframe){ test_router_mac, MAC_B, B_IP, A_IP, 1, 78, 0, 0, 0, 0, 8 };
	assert_drop(send_from(e, 1, &t), NET_DROP_SG_INGRESS);
	/* UDP from a to b: sg-web has no UDP rule */
	t = (struct tframe){ test_router_mac, MAC_A, A_IP, B_IP, 17, 999, 53, 0, 0, 0, 4 };
	assert_drop(send_from(e, 0, &t), NET_DROP_SG_INGRESS);

	/* A rule change applies to new flows at once; tracked flows go on. */
	struct fixture f2 = e->fx;
	f2.web_rules[0].from_port = f2.web_rules[0].to_port = 8080;
	f2.sgs[1].rules = f2.web_rules;
	f2.cfg.sgs = f2.sgs;
	char err[128];
	struct net_snapshot *s2 = net_snapshot_build(&f2.cfg, err, sizeof(err));
	assert_non_null(s2);
	net_snapshot_free(e->s);
	e->s = s2;
	t = tcp(MAC_A, A_IP, B_IP, 40000, 80, ACK);
	assert_int_equal(send_from(e, 0, &t).v_kind, V_TO_ENI);
	t = tcp(MAC_A, A_IP, B_IP, 40009, 80, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_SG_INGRESS);
	t = tcp(MAC_A, A_IP, B_IP, 40010, 8080, SYN);
	assert_int_equal(send_from(e, 0, &t).v_kind, V_TO_ENI);

	/* Timeouts: a flow that never saw a reply is gone after CT_TCP_SYN_MS. */
	now_ms += CT_TCP_SYN_MS + 1;
	t = tcp(MAC_B, B_IP, A_IP, 8080, 40010, SYN | ACK);
	assert_drop(send_from(e, 1, &t), NET_DROP_SG_INGRESS);
}

static void
test_path_checks_and_targets(void **state)
{
	struct env *e = *state;
	struct tframe t;
	struct verdict v;

	/* source/destination check: a spoofing an address, wrong MAC */
	t = tcp(MAC_A, IP(10, 96, 0, 99), B_IP, 1, 80, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_SRC_DST_CHECK);
	t = tcp(MAC_C, A_IP, B_IP, 1, 80, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_SRC_DST_CHECK);
	/* c has the check off: it may forward others' packets */
	t = tcp(MAC_C, IP(192, 168, 50, 5), B_IP, 1, 443, SYN);
	assert_int_equal(send_from(e, 2, &t).v_kind, V_TO_ENI);
	/* an eni route to c (check off) takes any address to it, where c's
	 * groups (sg-app: no ingress rule) decide */
	t = (struct tframe){ test_router_mac, MAC_A, A_IP, IP(192, 168, 50, 9), 17, 1, 2, 0, 0, 0, 0 };
	v = send_from(e, 0, &t);
	assert_drop(v, NET_DROP_SG_INGRESS);
	assert_int_equal(v.v_route, 4);
	/* ... and b's reply to what c forwarded is tracked back to c */
	t = tcp(MAC_B, B_IP, IP(192, 168, 50, 5), 443, 1, SYN | ACK);
	v = send_from(e, 1, &t);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 2);
	/* not to the router's MAC: no L2 between instances */
	t = tcp(MAC_A, A_IP, B_IP, 1, 80, SYN);
	t.dmac = MAC_B;
	assert_drop(send_from(e, 0, &t), NET_DROP_UNSUPPORTED);
	/* targets */
	t = tcp(MAC_A, A_IP, IP(10, 99, 3, 3), 1, 80, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_BLACKHOLE);
	t = tcp(MAC_A, A_IP, IP(10, 96, 7, 7), 1, 80, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_NO_ENI);
	t = tcp(MAC_A, A_IP, IP(8, 8, 8, 8), 1, 80, SYN);
	assert_drop(send_from(e, 0, &t), NET_DROP_NO_PUBLIC_IP);
	t = tcp(MAC_B, B_IP, IP(8, 8, 8, 8), 1, 80, SYN);
	v = send_from(e, 1, &t);
	assert_int_equal(v.v_kind, V_TO_PORT);
	assert_int_equal(v.v_index, 0);
	assert_int_equal(v.v_nat_src, IP(203, 0, 113, 20));
	t = tcp(MAC_B, B_IP, IP(172, 16, 1, 1), 1, 80, SYN);
	assert_drop(send_from(e, 1, &t), NET_DROP_NO_PORT);	/* vgw-1 has no port */
}

static void
test_path_from_igw(void **state)
{
	struct env *e = *state;
	uint8_t buf[NET_FRAME_MAX];
	struct pkt_meta m;
	struct verdict v;
	struct tframe t = tcp(test_router_mac, IP(198, 51, 100, 7), IP(203, 0, 113, 20), 6000, 443, SYN);
	uint32_t len = tframe_build(buf, &t);

	path_from_port(e->s, &e->ct, 0, buf, len, 14, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 1);
	assert_int_equal(v.v_nat_dst, B_IP);
	ipv4_rewrite_dst(buf, &m, v.v_nat_dst);
	assert_true(tl4_csum_ok(buf + 14, len - 14));
	/* the reply leaves through the igw, translated back */
	t = tcp(MAC_B, B_IP, IP(198, 51, 100, 7), 443, 6000, SYN | ACK);
	len = tframe_build(buf, &t);
	path_from_eni(e->s, &e->ct, test_router_mac, 1, buf, len, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_PORT);
	assert_int_equal(v.v_nat_src, IP(203, 0, 113, 20));
	/* port 80 from outside: sg-web allows it only from the VPC */
	t = tcp(test_router_mac, IP(198, 51, 100, 7), IP(203, 0, 113, 20), 6001, 80, SYN);
	len = tframe_build(buf, &t);
	path_from_port(e->s, &e->ct, 0, buf, len, 14, now_ms, &m, &v);
	assert_drop(v, NET_DROP_SG_INGRESS);
	/* a public address nobody has */
	t = tcp(test_router_mac, IP(198, 51, 100, 7), IP(203, 0, 113, 99), 6001, 443, SYN);
	len = tframe_build(buf, &t);
	path_from_port(e->s, &e->ct, 0, buf, len, 14, now_ms, &m, &v);
	assert_drop(v, NET_DROP_NO_ENI);
}

static void
test_arp(void **state)
{
	struct env *e = *state;
	uint8_t buf[64];
	struct pkt_meta m;
	struct verdict v;

	uint32_t len = tarp_request(buf, MAC_A, A_IP, IP(10, 96, 0, 1));
	path_from_eni(e->s, &e->ct, test_router_mac, 0, buf, len, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_ARP_REPLY);
	assert_int_equal(arp_build_reply(buf, test_router_mac, m.pm_dst, buf + 22, m.pm_src), 42);
	static const uint8_t want[42] = {
		2, 0, 10, 96, 0, 10, 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 2,
		0x0e, 0x76, 0x70, 0x63, 0x64, 0x01, 10, 96, 0, 1,
		2, 0, 10, 96, 0, 10, 10, 96, 0, 10,
	};
	assert_memory_equal(buf, want, 42);
	/* anything but the subnet's router: unanswered */
	uint32_t others[] = { B_IP, C_IP, IP(10, 96, 1, 1), IP(10, 96, 0, 2), IP(8, 8, 8, 8) };
	for (size_t i = 0; i < ARRAY_LEN(others); i++) {
		len = tarp_request(buf, MAC_A, A_IP, others[i]);
		path_from_eni(e->s, &e->ct, test_router_mac, 0, buf, len, now_ms, &m, &v);
		assert_int_equal(v.v_kind, V_IGNORE);
	}
}

static void
test_nat_checksums(void **state)
{
	(void)state;
	uint8_t buf[NET_FRAME_MAX];
	struct pkt_meta m;
	const uint8_t protos[] = { 6, 17, 1 };

	for (size_t i = 0; i < 3; i++) {
		for (uint16_t pl = 0; pl < 9; pl++) {
			struct tframe t = { test_router_mac, MAC_A, A_IP, IP(1, 2, 3, 4), protos[i],
				1234, 80, 8, 0, 0, pl };
			uint32_t len = tframe_build(buf, &t);
			assert_int_equal(frame_parse(buf, len, &m), FRAME_IPV4);
			assert_true(tl4_csum_ok(buf + 14, len - 14));
			ipv4_rewrite_src(buf, &m, IP(203, 0, 113, 250));
			assert_true(tl4_csum_ok(buf + 14, len - 14));
			ipv4_rewrite_dst(buf, &m, IP(255, 0, 0, 1));
			assert_true(tl4_csum_ok(buf + 14, len - 14));
			assert_int_equal(frame_parse(buf, len, &m), FRAME_IPV4);
			assert_int_equal(m.pm_src, IP(203, 0, 113, 250));
		}
	}
}

/* --- hostile frames -------------------------------------------------------- */

static void
replay_hostile(struct env *e, const uint8_t *frame, uint32_t len, bool truncations_are_bad)
{
	uint8_t *buf = malloc(len ? len : 1);	/* exact size: ASan sees overreads */
	struct pkt_meta m;
	struct verdict v;

	for (uint32_t l = 0; l < len; l++) {
		memcpy(buf, frame, l);
		path_from_eni(e->s, &e->ct, test_router_mac, 0, buf, l, now_ms, &m, &v);
		if (truncations_are_bad && l >= 14)
			assert_drop(v, NET_DROP_BAD_FRAME);
		else
			assert_true(v.v_kind == V_DROP || v.v_kind == V_IGNORE);
	}
	free(buf);
}

static void
test_hostile_frames(void **state)
{
	struct env *e = *state;
	uint8_t f[NET_FRAME_MAX];
	struct tframe ts[] = {
		tcp(MAC_A, A_IP, B_IP, 40000, 80, SYN),
		{ test_router_mac, MAC_A, A_IP, B_IP, 17, 1, 53, 0, 0, 0, 12 },
		{ test_router_mac, MAC_A, A_IP, B_IP, 1, 9, 0, 8, 0, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_LEN(ts); i++) {
		uint32_t len = tframe_build(f, &ts[i]);
		replay_hostile(e, f, len, true);
	}
	uint32_t alen = tarp_request(f, MAC_A, A_IP, IP(10, 96, 0, 1));
	replay_hostile(e, f, alen, true);

	/* Header fields that lie: IHL, total length, UDP length, TCP offset. */
	uint32_t len = tframe_build(f, &ts[0]);
	uint8_t g[NET_FRAME_MAX];
	struct pkt_meta m;
	struct verdict v;
	for (int field = 0; field < 4; field++) {
		for (int val = 0; val < 256; val++) {
			memcpy(g, f, len);
			switch (field) {
			case 0: g[14] = (uint8_t)val; break;		/* version/IHL */
			case 1: g[16] = (uint8_t)val; break;		/* total length, high */
			case 2: g[17] = (uint8_t)val; break;		/* total length, low */
			case 3: g[14 + 20 + 12] = (uint8_t)val; break;	/* TCP data offset */
			}
			uint8_t *exact = malloc(len);
			memcpy(exact, g, len);
			path_from_eni(e->s, &e->ct, test_router_mac, 0, exact, len, now_ms, &m, &v);
			free(exact);
		}
	}
	/* Random mutations of valid frames: never a crash or an overread. */
	srand(3);
	for (int round = 0; round < 20000; round++) {
		uint32_t l = tframe_build(f, &ts[round % 3]);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			f[rand() % l] = (uint8_t)rand();
		l = (uint32_t)(rand() % 4 == 0 ? rand() % (int)(l + 1) : (int)l);
		uint8_t *exact = malloc(l ? l : 1);
		memcpy(exact, f, l);
		path_from_eni(e->s, &e->ct, test_router_mac, (uint32_t)(round % 3), exact, l, now_ms, &m, &v);
		free(exact);
		if (round % 5 == 0 && l >= 14) {	/* the same bytes from a port */
			exact = malloc(l);
			memcpy(exact, f, l);
			path_from_port(e->s, &e->ct, 0, exact, l, 14, now_ms, &m, &v);
			free(exact);
		}
	}
	/* A later fragment whose first was never seen: dropped (fragment). */
	len = tframe_build(f, &ts[1]);
	f[14 + 6] = 0x00;
	f[14 + 7] = 0x10;
	f[14 + 10] = f[14 + 11] = 0;
	uint32_t sum = 0;
	for (int k = 0; k < 20; k += 2)
		sum += (uint32_t)f[14 + k] << 8 | f[14 + k + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[14 + 10] = (uint8_t)(~sum >> 8);
	f[14 + 11] = (uint8_t)~sum;
	path_from_eni(e->s, &e->ct, test_router_mac, 0, f, len, now_ms, &m, &v);
	assert_drop(v, NET_DROP_FRAGMENT);
	/* IPv6 */
	f[12] = 0x86;
	f[13] = 0xdd;
	path_from_eni(e->s, &e->ct, test_router_mac, 0, f, len, now_ms, &m, &v);
	assert_drop(v, NET_DROP_UNSUPPORTED);
}

/* --- connection table ------------------------------------------------------ */

static void
test_conntrack_bounds(void **state)
{
	(void)state;
	struct conntrack ct;
	bool reply;

	assert_int_equal(ct_init(&ct, 64), 0);
	assert_int_equal(ct.ct_nbuckets * CT_BUCKET, 64);
	/* 1000 flows into 64 entries: evictions, never more live than slots */
	for (uint32_t i = 0; i < 1000; i++) {
		struct ct_key k = { 1, IP(10, 0, 0, 1), IP(10, 0, 1, 1), (uint16_t)i, 80, 6 };
		if (!ct_lookup(&ct, &k, 1000, &reply))
			ct_touch(ct_insert(&ct, &k, 1000), false, SYN, 1000);
		assert_true(ct.ct_live <= 64);
	}
	assert_true(ct.ct_evictions >= 1000 - 64);
	/* the newest flow is still there, both ways */
	struct ct_key k = { 1, IP(10, 0, 0, 1), IP(10, 0, 1, 1), 999, 80, 6 };
	struct ct_key r = { 1, IP(10, 0, 1, 1), IP(10, 0, 0, 1), 80, 999, 6 };
	assert_non_null(ct_lookup(&ct, &k, 1000, &reply));
	assert_false(reply);
	assert_non_null(ct_lookup(&ct, &r, 1000, &reply));
	assert_true(reply);
	/* another zone (VPC) is another flow */
	r.k_zone = 2;
	assert_null(ct_lookup(&ct, &r, 1000, &reply));
	/* everything expires */
	assert_null(ct_lookup(&ct, &k, 1000 + CT_TCP_SYN_MS, &reply));
	ct_free(&ct);
}

/* --- snapshot validation --------------------------------------------------- */

static void
test_snapshot_rejects(void **state)
{
	(void)state;
	struct fixture f;
	char err[160];

#define REJECT(mutate, needle) do { \
		fixture_init(&f, NULL, NULL, -1); \
		mutate; \
		struct net_snapshot *s_ = net_snapshot_build(&f.cfg, err, sizeof(err)); \
		if (s_) { net_snapshot_free(s_); fail_msg("accepted: %s", #mutate); } \
		if (!strstr(err, needle)) fail_msg("%s: error '%s' lacks '%s'", #mutate, err, needle); \
	} while (0)

	REJECT(strcpy(f.enis[1].subnet_id, "subnet-z"), "no subnet");
	REJECT(f.enis[2].ip = A_IP, "same address");
	REJECT(f.enis[1].ip = IP(10, 96, 2, 1), "outside");
	REJECT(strcpy(f.enis[0].group_ids[0], "sg-nope"), "no security group");
	REJECT(strcpy(f.routes[4].target_id, "eni-z"), "no such ENI");
	REJECT(strcpy(f.routes[2].target_id, "vgw-1"), "no such gateway");
	REJECT(f.routes[1].dest = f.routes[0].dest, "duplicate");
	REJECT(f.acl_b[1].nr_number = 100, "twice");
	REJECT(strcpy(f.web_rules[2].group_id, "sg-zz"), "no group");
	REJECT(f.web_rules[0].from_port = 90, "port range");
	REJECT(f.enis[2].tap_fd = 100, "fd 100 given twice");
	REJECT(strcpy(f.enis[2].id, "eni-a"), "duplicate ENI");
	REJECT(f.enis[0].mac[0] = 1, "unicast");
	REJECT((f.subnets[1].cidr.c_addr = IP(10, 96, 0, 128), f.subnets[1].cidr.c_len = 25), "overlaps");

	fixture_init(&f, NULL, NULL, -1);
	struct net_snapshot *s = net_snapshot_build(&f.cfg, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(snap_eni_by_ip(s, 0, B_IP), 1);
	assert_int_equal(snap_eni_by_public(s, IP(203, 0, 113, 20)), 1);
	assert_int_equal(snap_eni_by_ip(s, 0, IP(10, 96, 1, 21)), -1);
	assert_int_equal(s->sgs[0].g_nmembers, 2);	/* sg-app: a and c */
	net_snapshot_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lpm),
		cmocka_unit_test(test_nacl_matches_model),
		cmocka_unit_test_setup_teardown(test_path_sg_conntrack, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_path_checks_and_targets, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_path_from_igw, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_arp, env_setup, env_teardown),
		cmocka_unit_test(test_nat_checksums),
		cmocka_unit_test_setup_teardown(test_hostile_frames, env_setup, env_teardown),
		cmocka_unit_test(test_conntrack_bounds),
		cmocka_unit_test(test_snapshot_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
