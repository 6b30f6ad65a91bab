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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"
#include "net/net_int.h"
#include "base/csum.h"
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

/* The overlap check (a sort, then neighbours) against every pair: 400
 * rounds of 40 random subnets in two VPCs, prefixes /16 to /30 in
 * 10.0.0.0/12; the pair named when one is found overlaps. */
static void
test_snapshot_overlap_vs_pairs(void **state)
{
	(void)state;
	static struct net_subnet_config sn[40];
	struct net_route_table_config rtb = { .id = "rtb-1" };
	struct net_nacl_config acl = { .id = "acl-1" };
	unsigned seed = 12345;
	size_t rejected = 0;

	for (int round = 0; round < 400; round++) {
		size_t n = 2 + (size_t)(rand_r(&seed) % 39);
		for (size_t i = 0; i < n; i++) {
			memset(&sn[i], 0, sizeof(sn[i]));
			snprintf(sn[i].id, NET_ID_MAX, "subnet-%zu", i);
			snprintf(sn[i].vpc_id, NET_ID_MAX, "vpc-%u", (unsigned)rand_r(&seed) % 2);
			strcpy(sn[i].route_table_id, "rtb-1");
			strcpy(sn[i].nacl_id, "acl-1");
			sn[i].cidr.c_len = (uint8_t)(16 + rand_r(&seed) % 15);
			sn[i].cidr.c_addr = (IP(10, 0, 0, 0) | ((uint32_t)rand_r(&seed) & 0xfffff)) &
					    (~0u << (32 - sn[i].cidr.c_len));
		}
		bool any = false;
		for (size_t i = 0; i < n && !any; i++)
			for (size_t j = 0; j < i && !any; j++)
				any = strcmp(sn[i].vpc_id, sn[j].vpc_id) == 0 && cidr_overlaps(&sn[i].cidr, &sn[j].cidr);
		struct net_config cfg = { .subnets = sn, .n_subnets = n, .route_tables = &rtb, .n_route_tables = 1,
					  .nacls = &acl, .n_nacls = 1 };
		char err[160] = "";
		struct net_snapshot *s = net_snapshot_build(&cfg, err, sizeof(err));
		assert_int_equal(s == NULL, any);
		net_snapshot_free(s);
		if (!any)
			continue;
		rejected++;
		size_t a, b;	/* "subnet-A overlaps subnet-B": A later, same VPC, overlapping */
		assert_int_equal(sscanf(err, "subnet-%zu overlaps subnet-%zu", &a, &b), 2);
		assert_true(a > b && a < n);
		assert_string_equal(sn[a].vpc_id, sn[b].vpc_id);
		assert_true(cidr_overlaps(&sn[a].cidr, &sn[b].cidr));
	}
	assert_true(rejected > 50 && rejected < 390);	/* both outcomes were tried */
}

/* --- fragments --------------------------------------------------------------- */

/* Sets the IPv4 id, MF and fragment offset (bytes, a multiple of 8) of the
 * frame f and fixes its header checksum. */
static void
set_frag(uint8_t *f, uint16_t id, bool mf, uint32_t off)
{
	uint8_t *ip = f + 14;

	wr16(ip + 4, id);
	wr16(ip + 6, (uint16_t)((mf ? 0x2000 : 0) | off / 8));
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
}

static struct verdict
send_frag(struct env *e, uint32_t eni, const struct tframe *t, uint16_t id, bool mf, uint32_t off)
{
	uint8_t buf[NET_FRAME_MAX];
	struct pkt_meta m;
	struct verdict v;
	uint32_t len = tframe_build(buf, t);

	set_frag(buf, id, mf, off);
	path_from_eni(e->s, &e->ct, test_router_mac, eni, buf, len, now_ms, &m, &v);
	return v;
}

static void
test_fragments(void **state)
{
	struct env *e = *state;
	struct tframe echo = { test_router_mac, MAC_A, A_IP, B_IP, 1, 77, 0, 8, 0, 0, 64 };
	struct verdict v;

	/* ping -s 3000: the first fragment (ICMP header) is judged, the
	 * later ones follow it to b */
	v = send_frag(e, 0, &echo, 0x1234, true, 0);
	assert_int_equal(v.v_kind, V_TO_ENI);
	v = send_frag(e, 0, &echo, 0x1234, true, 1480);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 1);
	v = send_frag(e, 0, &echo, 0x1234, false, 2960);
	assert_int_equal(v.v_kind, V_TO_ENI);
	/* after the last, stragglers have CT_FRAG_TAIL_MS */
	now_ms += CT_FRAG_TAIL_MS / 2;
	assert_int_equal(send_frag(e, 0, &echo, 0x1234, true, 1480).v_kind, V_TO_ENI);
	now_ms += CT_FRAG_TAIL_MS;
	assert_drop(send_frag(e, 0, &echo, 0x1234, true, 1480), NET_DROP_FRAGMENT);
	/* a later fragment of a train never started */
	assert_drop(send_frag(e, 0, &echo, 0x9999, false, 1480), NET_DROP_FRAGMENT);

	/* a first fragment that is refused takes its train with it */
	struct tframe t = tcp(MAC_A, A_IP, B_IP, 40001, 81, SYN);
	assert_drop(send_frag(e, 0, &t, 0x2222, true, 0), NET_DROP_SG_INGRESS);
	assert_drop(send_frag(e, 0, &t, 0x2222, false, 24), NET_DROP_FRAGMENT);
	/* an allowed one: its later fragments pass, but none may overlap
	 * the TCP header the first was judged by (RFC 1858) */
	t.dport = 80;
	assert_int_equal(send_frag(e, 0, &t, 0x3333, true, 0).v_kind, V_TO_ENI);
	assert_drop(send_frag(e, 0, &t, 0x3333, true, 8), NET_DROP_BAD_FRAME);
	assert_int_equal(send_frag(e, 0, &t, 0x3333, false, 24).v_kind, V_TO_ENI);
	/* the same id from another source is another train */
	struct tframe tc = tcp(MAC_C, C_IP, B_IP, 40001, 80, SYN);
	assert_drop(send_frag(e, 2, &tc, 0x3333, false, 24), NET_DROP_FRAGMENT);
	/* a train lasts CT_FRAG_TRAIN_MS without its last fragment */
	assert_int_equal(send_frag(e, 0, &t, 0x4444, true, 0).v_kind, V_TO_ENI);
	now_ms += CT_FRAG_TRAIN_MS + 1;
	assert_drop(send_frag(e, 0, &t, 0x4444, true, 1480), NET_DROP_FRAGMENT);

	/* from the igw: the later fragments follow the first, NATed too */
	uint8_t buf[NET_FRAME_MAX];
	struct pkt_meta m;
	t = tcp(test_router_mac, IP(198, 51, 100, 7), IP(203, 0, 113, 20), 6000, 443, SYN);
	uint32_t len = tframe_build(buf, &t);
	set_frag(buf, 0x5555, true, 0);
	path_from_port(e->s, &e->ct, 0, buf, len, 14, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_ENI);
	set_frag(buf, 0x5555, false, 1480);
	path_from_port(e->s, &e->ct, 0, buf, len, 14, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 1);
	assert_int_equal(v.v_nat_dst, B_IP);
	ipv4_rewrite_dst(buf, &m, v.v_nat_dst);
	assert_int_equal(csum_fold(csum_add_bytes(0, buf + 14, 20)), 0xffff);
	len = tframe_build(buf, &t);
	set_frag(buf, 0x5556, false, 1480);
	path_from_port(e->s, &e->ct, 0, buf, len, 14, now_ms, &m, &v);
	assert_drop(v, NET_DROP_FRAGMENT);
}

static void
test_frag_table_bounds(void **state)
{
	(void)state;
	struct conntrack ct;

	assert_int_equal(ct_init(&ct, 64), 0);
	/* many more trains than slots: evictions, never growth */
	for (uint32_t i = 0; i < 20000; i++) {
		struct ct_frag_key k = { 1, IP(10, 0, 0, 1), IP(10, 0, 1, 1), (uint16_t)i, 17 };
		ct_frag_note(&ct, &k, 1000);
	}
	assert_true(ct.ct_frag_evictions >= 20000 - CT_FRAG_BUCKETS * CT_BUCKET);
	struct ct_frag_key k = { 1, IP(10, 0, 0, 1), IP(10, 0, 1, 1), 19999, 17 };
	assert_true(ct_frag_follows(&ct, &k, false, 1000));
	k.f_zone = 2;
	assert_false(ct_frag_follows(&ct, &k, false, 1000));
	ct_free(&ct);
}

/* --- ICMP errors --------------------------------------------------------------- */

/* An ICMP error src -> dst (type/code) quoting the IPv4 header and the
 * first 8 bytes of a TCP (or UDP) packet isrc:sport -> idst:dport. */
static uint32_t
icmp_error_build(uint8_t *f, const uint8_t *smac, uint32_t src, uint32_t dst, uint8_t type,
		 uint8_t code, uint8_t iproto, uint32_t isrc, uint32_t idst, uint16_t sport,
		 uint16_t dport)
{
	struct tframe t = { test_router_mac, smac, src, dst, 1, 0, 0, type, code, 0, 28 + 12 };
	uint32_t len = tframe_build(f, &t);
	uint8_t *icmp = f + 14 + 20, *in = icmp + 8;

	memset(icmp + 4, 0, 4);
	if (type == 3 && code == 4)
		wr16(icmp + 6, 1400);	/* next-hop MTU */
	in[0] = 0x45;
	wr16(in + 2, 1500);
	in[8] = 63;
	in[9] = iproto;
	wr32(in + 12, isrc);
	wr32(in + 16, idst);
	wr16(in + 10, csum_finish(csum_add_bytes(0, in, 20)));
	wr16(in + 20, sport);
	wr16(in + 22, dport);
	wr32(in + 24, 0x01020304);	/* TCP: sequence number; UDP: length, checksum */
	if (iproto == 17)
		wr16(in + 26, 0);
	wr16(icmp + 2, 0);
	wr16(icmp + 2, csum_finish(csum_add_bytes(0, icmp, len - 14 - 20)));
	return len;
}

static void
test_icmp_errors(void **state)
{
	struct env *e = *state;
	uint8_t f[NET_FRAME_MAX];
	struct pkt_meta m;
	struct verdict v;
	uint32_t len;

	/* a -> b:80, tracked */
	struct tframe t = tcp(MAC_A, A_IP, B_IP, 40000, 80, SYN);
	assert_int_equal(send_from(e, 0, &t).v_kind, V_TO_ENI);
	uint64_t live = e->ct.ct_live;
	/* b's port unreachable and fragmentation needed about it reach a,
	 * whose sg-app has no ingress rule at all */
	const uint8_t codes[][2] = { { 3, 3 }, { 3, 4 }, { 11, 0 } };
	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		len = icmp_error_build(f, MAC_B, B_IP, A_IP, codes[i][0], codes[i][1], 6,
				       A_IP, B_IP, 40000, 80);
		path_from_eni(e->s, &e->ct, test_router_mac, 1, f, len, now_ms, &m, &v);
		assert_true(m.pm_icmp_error && m.pm_inner_ok);
		assert_int_equal(v.v_kind, V_TO_ENI);
		assert_int_equal(v.v_index, 0);
	}
	assert_int_equal(e->ct.ct_live, live);	/* errors are no flows */
	/* about a flow nobody opened: judged as ICMP of its own (refused) */
	len = icmp_error_build(f, MAC_B, B_IP, A_IP, 3, 3, 6, A_IP, B_IP, 40001, 80);
	path_from_eni(e->s, &e->ct, test_router_mac, 1, f, len, now_ms, &m, &v);
	assert_drop(v, NET_DROP_SG_INGRESS);
	/* about a's flow, but to someone who did not send it */
	len = icmp_error_build(f, MAC_B, B_IP, C_IP, 3, 3, 6, A_IP, B_IP, 40000, 80);
	path_from_eni(e->s, &e->ct, test_router_mac, 1, f, len, now_ms, &m, &v);
	assert_drop(v, NET_DROP_SG_INGRESS);
	/* a quote cut short: no ports, nothing related */
	len = icmp_error_build(f, MAC_B, B_IP, A_IP, 3, 3, 6, A_IP, B_IP, 40000, 80);
	wr16(f + 14 + 2, 20 + 8 + 20 + 4);
	wr16(f + 14 + 10, 0);
	wr16(f + 14 + 10, csum_finish(csum_add_bytes(0, f + 14, 20)));
	path_from_eni(e->s, &e->ct, test_router_mac, 1, f, 14 + 20 + 8 + 20 + 4, now_ms, &m, &v);
	assert_true(m.pm_icmp_error);
	assert_false(m.pm_inner_ok);
	assert_drop(v, NET_DROP_SG_INGRESS);

	/* Through the igw: b -> 8.8.8.8:80 leaves as 203.0.113.20 ... */
	t = tcp(MAC_B, B_IP, IP(8, 8, 8, 8), 5555, 80, SYN);
	assert_int_equal(send_from(e, 1, &t).v_kind, V_TO_PORT);
	/* ... a router out there says fragmentation needed, quoting the
	 * public address: b gets it with the quote translated back */
	len = icmp_error_build(f, MAC_A, IP(192, 0, 2, 1), IP(203, 0, 113, 20), 3, 4, 6,
			       IP(203, 0, 113, 20), IP(8, 8, 8, 8), 5555, 80);
	path_from_port(e->s, &e->ct, 0, f, len, 14, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_ENI);
	assert_int_equal(v.v_index, 1);
	ipv4_rewrite_dst(f, &m, v.v_nat_dst);
	assert_int_equal(rd32(f + 14 + 16), B_IP);
	assert_int_equal(rd32(f + 14 + 28 + 12), B_IP);
	assert_true(tl4_csum_ok(f + 14, len - 14));
	assert_int_equal(csum_fold(csum_add_bytes(0, f + 14 + 28, 20)), 0xffff);
	/* an error from outside about a flow b never had: refused */
	len = icmp_error_build(f, MAC_A, IP(192, 0, 2, 1), IP(203, 0, 113, 20), 3, 4, 6,
			       IP(203, 0, 113, 20), IP(8, 8, 8, 8), 5556, 80);
	path_from_port(e->s, &e->ct, 0, f, len, 14, now_ms, &m, &v);
	assert_drop(v, NET_DROP_SG_INGRESS);
	/* b's port unreachable to a UDP sender outside (flow from the igw
	 * first) leaves with its quote's destination public again */
	struct tframe u = { test_router_mac, MAC_A, IP(198, 51, 100, 7), IP(203, 0, 113, 20), 17,
			    7000, 443, 0, 0, 0, 4 };
	len = tframe_build(f, &u);
	path_from_port(e->s, &e->ct, 0, f, len, 14, now_ms, &m, &v);
	assert_drop(v, NET_DROP_SG_INGRESS);	/* sg-web: no UDP; the quote below is TCP */
	t = tcp(test_router_mac, IP(198, 51, 100, 7), IP(203, 0, 113, 20), 7000, 443, SYN);
	len = tframe_build(f, &t);
	path_from_port(e->s, &e->ct, 0, f, len, 14, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_ENI);
	len = icmp_error_build(f, MAC_B, B_IP, IP(198, 51, 100, 7), 3, 3, 6,
			       IP(198, 51, 100, 7), B_IP, 7000, 443);
	path_from_eni(e->s, &e->ct, test_router_mac, 1, f, len, now_ms, &m, &v);
	assert_int_equal(v.v_kind, V_TO_PORT);
	ipv4_rewrite_src(f, &m, v.v_nat_src);
	assert_int_equal(rd32(f + 14 + 28 + 16), IP(203, 0, 113, 20));
	assert_true(tl4_csum_ok(f + 14, len - 14));
	assert_int_equal(csum_fold(csum_add_bytes(0, f + 14 + 28, 20)), 0xffff);
}

/* --- trace ------------------------------------------------------------------- */

static void
assert_step(const struct net_trace_result *r, size_t i, enum net_trace_stage st, bool ok,
	    const char *id, int32_t rule)
{
	if (i >= r->n_steps)
		fail_msg("step %zu missing (%zu steps)", i, r->n_steps);
	const struct net_trace_step *p = &r->steps[i];
	if (p->stage != st || p->allowed != ok || strcmp(p->id, id) != 0 || p->rule != rule)
		fail_msg("step %zu: got %s %s %s %d, want %s %s %s %d", i,
			 net_trace_stage_name(p->stage), p->allowed ? "allow" : "deny", p->id, p->rule,
			 net_trace_stage_name(st), ok ? "allow" : "deny", id, rule);
}

static void
test_trace(void **state)
{
	struct env *e = *state;
	struct net_trace_result r;
	struct net_trace_query q;
	char err[128];

	/* a -> b:80 TCP: every stage, and delivered */
	q = (struct net_trace_query){ .from_id = "eni-a", .dst = B_IP, .proto = 6, .dport = 80 };
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	assert_int_equal(r.n_steps, 7);
	assert_step(&r, 0, NET_TRACE_SOURCE, true, "eni-a", -1);
	assert_step(&r, 1, NET_TRACE_NACL_OUT, true, "acl-a", 100);
	assert_step(&r, 2, NET_TRACE_SG_EGRESS, true, "sg-app", 0);
	assert_step(&r, 3, NET_TRACE_ROUTE, true, "rtb-1", -1);
	assert_int_equal(r.steps[3].route.dest.c_addr, IP(10, 96, 0, 0));
	assert_int_equal(r.steps[3].route.dest.c_len, 16);
	assert_int_equal(r.steps[3].route.target, NET_TARGET_LOCAL);
	assert_step(&r, 4, NET_TRACE_NACL_IN, true, "acl-b", 100);
	assert_step(&r, 5, NET_TRACE_SG_INGRESS, true, "sg-web", 0);
	assert_step(&r, 6, NET_TRACE_DELIVER, true, "eni-b", -1);
	/* the trace learned nothing: b's "reply" to a is still refused */
	struct tframe t = tcp(MAC_B, B_IP, A_IP, 80, 49152, SYN | ACK);
	assert_drop(send_from(e, 1, &t), NET_DROP_SG_INGRESS);

	/* port 23: acl-b's rule 50 */
	q.dport = 23;
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_false(r.delivered);
	assert_int_equal(r.drop, NET_DROP_NACL_IN);
	assert_step(&r, r.n_steps - 1, NET_TRACE_NACL_IN, false, "acl-b", 50);
	/* port 81: no rule in sg-web; the step names the ENI */
	q.dport = 81;
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_SG_INGRESS);
	assert_step(&r, r.n_steps - 1, NET_TRACE_SG_INGRESS, false, "eni-b", -1);
	/* ICMP echo from a: sg-web's rule 2 (members of sg-app) */
	q = (struct net_trace_query){ .from_id = "eni-a", .dst = B_IP, .proto = 1 };
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	assert_step(&r, 5, NET_TRACE_SG_INGRESS, true, "sg-web", 2);
	/* a spoofed source */
	q.src = IP(10, 96, 0, 99);
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_SRC_DST_CHECK);
	assert_step(&r, 0, NET_TRACE_SOURCE, false, "eni-a", -1);
	/* to the internet without a public address: route to igw-1, then NAT */
	q = (struct net_trace_query){ .from_id = "eni-a", .dst = IP(8, 8, 8, 8), .proto = 17, .dport = 53 };
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_NO_PUBLIC_IP);
	assert_step(&r, 3, NET_TRACE_ROUTE, true, "rtb-1", -1);
	assert_int_equal(r.steps[3].route.target, NET_TARGET_IGW);
	assert_string_equal(r.steps[3].route.target_id, "igw-1");
	assert_step(&r, 4, NET_TRACE_NAT_OUT, false, "eni-a", -1);
	/* b has one: it leaves through igw-1's port as 203.0.113.20 */
	q.from_id[4] = 'b';
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	assert_step(&r, r.n_steps - 2, NET_TRACE_NAT_OUT, true, "eni-b", -1);
	assert_int_equal(r.steps[r.n_steps - 2].addr, IP(203, 0, 113, 20));
	assert_step(&r, r.n_steps - 1, NET_TRACE_PORT, true, "igw-1", -1);
	/* blackhole and no route */
	q.dst = IP(10, 99, 1, 1);
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_BLACKHOLE);
	assert_step(&r, r.n_steps - 1, NET_TRACE_ROUTE, false, "rtb-1", -1);
	/* inbound from the internet, to b's public address on 443 */
	q = (struct net_trace_query){ .from_id = "igw-1", .src = IP(198, 51, 100, 7),
		.dst = IP(203, 0, 113, 20), .proto = 6, .dport = 443 };
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	assert_step(&r, 0, NET_TRACE_GATEWAY_IN, true, "igw-1", -1);
	assert_step(&r, 1, NET_TRACE_NAT_IN, true, "eni-b", -1);
	assert_int_equal(r.steps[1].addr, B_IP);
	assert_step(&r, 2, NET_TRACE_NACL_IN, true, "acl-b", 100);
	assert_step(&r, 3, NET_TRACE_SG_INGRESS, true, "sg-web", 1);
	assert_step(&r, 4, NET_TRACE_DELIVER, true, "eni-b", -1);
	/* errors: unknown origin, gateway without a source */
	q.src = 0;
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "source"));
	strcpy(q.from_id, "eni-zz");
	assert_int_equal(net_snapshot_trace(e->s, test_router_mac, &q, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "eni-zz"));
	assert_string_equal(net_trace_stage_name(NET_TRACE_SG_INGRESS), "sg-ingress");
	assert_string_equal(net_drop_name(NET_DROP_FRAGMENT), "fragment");
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
		cmocka_unit_test(test_snapshot_overlap_vs_pairs),
		cmocka_unit_test_setup_teardown(test_fragments, env_setup, env_teardown),
		cmocka_unit_test(test_frag_table_bounds),
		cmocka_unit_test_setup_teardown(test_icmp_errors, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_trace, env_setup, env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
