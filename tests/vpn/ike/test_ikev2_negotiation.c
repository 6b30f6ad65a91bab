/*
 * test_ikev2_negotiation — two IKEv2 peers talking through memory:
 * every exchange (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA for new CHILD
 * SAs, CHILD SA and IKE SA rekeys, INFORMATIONAL), in both roles, with
 * lost, duplicated and crossing messages, each rekey collision of RFC 7296
 * §2.8, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, a wrong
 * PSK, NAT-T, cookies, DPD and fragments.
 *
 * After every scenario the two sides must hold matching CHILD SAs (same
 * SPIs and keys, directions crossed: v_sas_match), which is what makes ESP
 * flow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ikev2_harness.h"
#include "log_capture.h"
#include "vpn/ike/ikev2_internal.h"

static struct v_net net;

static void up_both(struct v_net *n, const struct ike_tunnel_config *ca,
		    const struct ike_tunnel_config *cb)
{
	assert_true(v_init(n, ca, cb));
	v_run(n, n->now + 1000);
	assert_true(n->s[0].up);
	assert_true(n->s[1].up);
	assert_int_equal(n->s[0].nsas, 1);
	assert_int_equal(n->s[1].nsas, 1);
	assert_true(v_sas_match(n));
}

static void test_basic(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	up_both(&net, &a, &b);
	struct ike_child_sa_install *x = &net.s[1].sas[0];
	assert_int_equal(x->encr, IKE_ENCR_AES128_CBC);
	assert_int_equal(x->integ, IKE_INTEG_SHA1);
	assert_int_equal(x->icv_len, 12);
	assert_int_equal(x->in.enc_key_len, 16);
	assert_int_equal(x->in.auth_key_len, 20);
	assert_false(x->udp_encap);
	/* selectors narrowed to the tunnel's */
	assert_int_equal(x->ts_local.first, 0x0a600000u);
	assert_int_equal(x->ts_local.last, 0x0a60ffffu);
	assert_int_equal(x->ts_remote.first, 0x0a000000u);
	assert_int_equal(x->ts_remote.last, 0x0a0000ffu);
	assert_int_equal(x->outbound_hold_ms, 0);	/* a first CHILD SA sends at once */
	/* A rekeys: B, the responder, holds the new SA's outbound until A
	 * proves it has it (make-before-break); A sends with it at once */
	assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
	v_pump(&net);
	assert_int_equal(net.s[1].installs, 2);
	assert_int_equal(net.s[1].sas[1].outbound_hold_ms, 2000);
	assert_int_equal(net.s[0].sas[1].outbound_hold_ms, 0);
	v_run(&net, net.now + 10000);
	assert_int_equal(net.s[1].nsas, 1);
	assert_true(v_sas_match(&net));
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.state, IKEV2_SA_ESTABLISHED);
	assert_false(st.initiator);
	assert_int_equal(st.dh_group, 2);
	assert_int_equal(st.prf, IKE_INTEG_SHA1);
	assert_int_equal(st.msgid_in, 4);	/* INIT, AUTH, the rekey, the old one's Delete */
	struct ike_stats s;
	ikev2_get_stats(net.s[1].ep, &s);
	assert_int_equal(s.p1_established, 1);
	assert_int_equal(s.p2_established, 2);
	/* a quiet hour with DPD: liveness checks answered, nothing else */
	v_run(&net, net.now + 600 * 1000);
	assert_true(net.s[0].up && net.s[1].up);
	ikev2_get_stats(net.s[0].ep, &s);
	assert_true(s.dpd_sent > 0);
	assert_int_equal(s.dpd_sent, s.dpd_answered);
	assert_int_equal(s.dpd_timeouts, 0);
	v_free(&net);
}

static void test_algorithms(void **state)
{
	static const struct {
		enum ike_encr p1; enum ike_integ h; uint16_t g; enum ike_encr p2; uint16_t pfs;
	} cases[] = {
		{ IKE_ENCR_AES256_CBC, IKE_INTEG_SHA256, 14, IKE_ENCR_AES256_CBC, 0 },
		{ IKE_ENCR_AES128_GCM16, IKE_INTEG_SHA384, 19, IKE_ENCR_AES128_GCM16, 19 },
		{ IKE_ENCR_AES256_GCM16, IKE_INTEG_SHA512, 20, IKE_ENCR_AES256_GCM16, 5 },
		{ IKE_ENCR_AES128_CBC, IKE_INTEG_SHA512, 21, IKE_ENCR_AES128_GCM16, 24 },
		{ IKE_ENCR_AES256_CBC, IKE_INTEG_SHA1, 24, IKE_ENCR_AES128_CBC, 22 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ike_tunnel_config a, b;
		v_config(&a, 0);
		v_config(&b, 1);
		for (int k = 0; k < 2; k++) {
			struct ike_tunnel_config *c = k ? &b : &a;
			bool gcm = cases[i].p1 == IKE_ENCR_AES128_GCM16 || cases[i].p1 == IKE_ENCR_AES256_GCM16;
			c->p1_encr_n = c->p1_aead_n = 0;
			if (gcm)
				c->p1_aead[c->p1_aead_n++] = cases[i].p1;
			else
				c->p1_encr[c->p1_encr_n++] = cases[i].p1;
			c->p1_integ[0] = cases[i].h;
			c->p2_integ[0] = cases[i].h;
			c->p1_dh[0] = cases[i].g;
			c->p2_encr[0] = cases[i].p2;
			c->p2_dh[0] = cases[i].pfs;
			c->p2_dh_n = cases[i].pfs ? 1 : 0;
		}
		/* B also allows the defaults: it must pick what A offers */
		b.p1_encr[b.p1_encr_n++] = IKE_ENCR_AES128_CBC;
		b.p1_dh[b.p1_dh_n++] = 2;
		up_both(&net, &a, &b);
		struct ikev2_sa_status st;
		ikev2_get_sa_status(net.s[1].ep, net.now, &st);
		assert_int_equal(st.encr, cases[i].p1);
		assert_int_equal(st.prf, cases[i].h);
		assert_int_equal(st.dh_group, cases[i].g);
		assert_int_equal(net.s[1].sas[0].encr, cases[i].p2);
		/* a CHILD SA rekey with the tunnel's PFS group */
		assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
		v_run(&net, net.now + 10000);
		assert_int_equal(net.s[0].installs, 2);
		assert_int_equal(net.s[1].installs, 2);
		assert_int_equal(net.s[0].nsas, 1);
		assert_true(v_sas_match(&net));
		/* and an IKE SA rekey */
		struct v2_sa *sa = v2_current_sa(net.s[0].ep);
		sa->rekey_ms = net.now;
		v_run(&net, net.now + 10000);
		ikev2_get_sa_status(net.s[1].ep, net.now, &st);
		assert_int_equal(st.n_sas, 1);
		assert_int_equal(st.encr, cases[i].p1);
		ikev2_get_sa_status(net.s[0].ep, net.now, &st);
		assert_int_equal(st.n_sas, 1);
		assert_true(net.s[0].up && net.s[1].up);
		/* the new IKE SA carries the next rekey */
		assert_true(ikev2_child_sa_rekey(net.s[1].ep, net.s[1].sas[0].in.spi, net.now));
		v_run(&net, net.now + 10000);
		assert_int_equal(net.s[1].installs, 3);
		assert_true(v_sas_match(&net));
		v_free(&net);
	}
}

static void test_invalid_ke(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	a.p1_dh[0] = 14;
	a.p1_dh[1] = 19;
	a.p1_dh_n = 2;
	b.p1_dh[0] = 19;
	a.p2_dh[0] = 14;
	a.p2_dh[1] = 20;
	a.p2_dh_n = 2;
	b.p2_dh[0] = 20;
	up_both(&net, &a, &b);
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[0].ep, net.now, &st);
	assert_int_equal(st.dh_group, 19);
	/* CHILD SA rekey: A's KE is modp2048, B asks for ecp384 */
	assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
	v_run(&net, net.now + 10000);
	assert_int_equal(net.s[0].installs, 2);
	assert_int_equal(net.s[0].nsas, 1);
	assert_true(v_sas_match(&net));
	/* B rekeys with its own group: no retry needed */
	assert_true(ikev2_child_sa_rekey(net.s[1].ep, net.s[1].sas[0].in.spi, net.now));
	v_run(&net, net.now + 10000);
	assert_int_equal(net.s[1].installs, 3);
	assert_true(v_sas_match(&net));
	v_free(&net);
}

static void test_no_proposal(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	b.p1_encr[0] = IKE_ENCR_AES256_CBC;
	b.p1_integ[0] = IKE_INTEG_SHA256;
	assert_true(v_init(&net, &a, &b));
	v_run(&net, net.now + 5000);
	assert_false(net.s[0].up);
	assert_false(net.s[1].up);
	assert_non_null(strstr(net.s[0].cause, "proposal mismatch"));
	assert_non_null(strstr(net.s[1].cause, "proposal mismatch (IKE SA): peer offered aes128-sha1-prfsha1-modp1024"));
	assert_non_null(strstr(net.s[1].cause, "tunnel allows aes256-sha256"));
	struct ike_stats s;
	ikev2_get_stats(net.s[1].ep, &s);
	assert_int_equal(s.proposal_mismatches, 1);
	v_free(&net);

	/* the CHILD SA's proposal: the IKE SA comes up, the tunnel does not */
	v_config(&a, 0);
	v_config(&b, 1);
	b.p2_encr[0] = IKE_ENCR_AES256_GCM16;
	assert_true(v_init(&net, &a, &b));
	v_run(&net, net.now + 5000);
	assert_false(net.s[0].up);
	assert_false(net.s[1].up);
	assert_non_null(strstr(net.s[0].cause, "NO_PROPOSAL_CHOSEN"));
	assert_non_null(strstr(net.s[1].cause, "proposal mismatch (CHILD SA): peer offered aes128-sha1"));
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.state, IKEV2_SA_ESTABLISHED);
	v_free(&net);
}

static void test_ts_unacceptable(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	a.local_ts = (struct ike_subnet){ 0xac100000u, 24 };	/* 172.16.0.0/24 */
	assert_true(v_init(&net, &a, &b));
	v_run(&net, net.now + 5000);
	assert_false(net.s[0].up);
	assert_non_null(strstr(net.s[0].cause, "TS_UNACCEPTABLE"));
	assert_non_null(strstr(net.s[1].cause, "TS_UNACCEPTABLE"));
	v_free(&net);

	/* wider selectors are narrowed to B's bounds */
	v_config(&a, 0);
	v_config(&b, 1);
	a.local_ts = (struct ike_subnet){ 0, 0 };
	a.remote_ts = (struct ike_subnet){ 0, 0 };
	assert_true(v_init(&net, &a, &b));
	v_run(&net, net.now + 5000);
	assert_true(net.s[0].up);
	assert_int_equal(net.s[0].sas[0].ts_local.first, 0x0a000000u);
	assert_int_equal(net.s[0].sas[0].ts_local.last, 0x0a0000ffu);
	assert_int_equal(net.s[0].sas[0].ts_remote.last, 0x0a60ffffu);
	assert_true(v_sas_match(&net));
	v_free(&net);
}

static void test_wrong_psk(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	b.psk[0] ^= 1;
	assert_true(v_init(&net, &a, &b));
	v_run(&net, net.now + 5000);
	assert_false(net.s[0].up || net.s[1].up);
	assert_int_equal(net.s[0].installs + net.s[1].installs, 0);
	assert_non_null(strstr(net.s[1].cause, "authentication failed"));
	assert_non_null(strstr(net.s[0].cause, "authentication failed"));
	struct ike_stats s;
	ikev2_get_stats(net.s[1].ep, &s);
	assert_int_equal(s.auth_failures, 1);
	ikev2_get_stats(net.s[0].ep, &s);
	assert_int_equal(s.auth_failures, 1);
	/* A (startup start) tries again later, and fails the same way */
	v_run(&net, net.now + 40000);
	ikev2_get_stats(net.s[0].ep, &s);
	assert_int_equal(s.auth_failures, 2);
	v_free(&net);
}

static bool drop_first_two(struct v_net *n, int from, struct v_pkt *p, int idx)
{
	return idx >= 2;	/* each side loses its first two datagrams */
}

static void test_lost_and_duplicated(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	assert_true(v_init(&net, &a, &b));
	net.filter = drop_first_two;
	v_run(&net, net.now + 30000);
	assert_true(net.s[0].up && net.s[1].up);
	assert_true(v_sas_match(&net));
	struct ike_stats s;
	ikev2_get_stats(net.s[0].ep, &s);
	assert_true(s.retransmits >= 2);
	ikev2_get_stats(net.s[1].ep, &s);
	assert_true(s.duplicates_answered >= 1);
	v_free(&net);

	/* every datagram delivered twice, through a rekey of each kind */
	v_config(&a, 0);
	v_config(&b, 1);
	assert_true(v_init(&net, &a, &b));
	net.dup = 1;
	v_run(&net, net.now + 5000);
	assert_true(net.s[0].up && net.s[1].up);
	assert_true(ikev2_child_sa_rekey(net.s[1].ep, net.s[1].sas[0].in.spi, net.now));
	v_run(&net, net.now + 10000);
	v2_current_sa(net.s[1].ep)->rekey_ms = net.now;
	v_run(&net, net.now + 10000);
	assert_int_equal(net.s[0].nsas, 1);
	assert_int_equal(net.s[0].installs, 2);
	assert_true(v_sas_match(&net));
	ikev2_get_stats(net.s[0].ep, &s);
	assert_true(s.duplicates_answered >= 3);
	assert_true(net.s[0].up && net.s[1].up);
	assert_int_equal(net.s[0].statuses, 1);	/* never went down */
	assert_int_equal(net.s[1].statuses, 1);
	v_free(&net);
}

/* Both sides' CHILD SA always share an SA pair: no packet is lost. */
static bool always_matching;
static bool check_overlap(struct v_net *n, int from, struct v_pkt *p, int idx)
{
	for (int i = 0; i < 2; i++) {
		if (!n->s[i].nsas)
			continue;
		/* the SA side i sends on (newest) is installed inbound on the other */
		uint32_t out = n->s[i].sas[n->s[i].nsas - 1].out.spi;
		bool found = false;
		for (size_t k = 0; k < n->s[!i].nsas; k++)
			found |= n->s[!i].sas[k].in.spi == out;
		if (!found)
			always_matching = false;
	}
	return true;
}

static void test_lifetime_rekeys(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	for (int k = 0; k < 2; k++) {
		struct ike_tunnel_config *c = k ? &b : &a;
		c->p1_lifetime_s = 90;
		c->p2_lifetime_s = 40;
		c->rekey_margin_s = 15;
		c->p2_dh[0] = 14;
	}
	up_both(&net, &a, &b);
	always_matching = true;
	net.filter = check_overlap;
	v_run(&net, net.now + 600 * 1000);
	assert_true(always_matching);
	assert_true(net.s[0].up && net.s[1].up);
	assert_int_equal(net.s[0].statuses, 1);
	assert_int_equal(net.s[1].statuses, 1);
	assert_true(net.s[0].installs >= 600 / 40);
	assert_true(net.s[0].nsas <= 2);
	assert_true(v_sas_match(&net));
	struct ike_stats s;
	ikev2_get_stats(net.s[1].ep, &s);
	assert_true(s.p1_established >= 600 / 90);
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_true(st.n_sas <= 2);
	v_free(&net);
}

static void test_child_rekey_collision(void **state)
{
	for (int round = 0; round < 6; round++) {
		struct ike_tunnel_config a, b;
		v_config(&a, 0);
		v_config(&b, 1);
		up_both(&net, &a, &b);
		/* both sides rekey the same CHILD SA before either hears the other */
		assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
		assert_true(ikev2_child_sa_rekey(net.s[1].ep, net.s[1].sas[0].in.spi, net.now));
		if (round & 1) {
			/* and one side's answer is late: the other's request
			 * arrives after its own rekey completed */
			v_pump(&net);
		}
		v_pump(&net);
		/* three SAs exist for a moment; the nonce rule removes two */
		v_run(&net, net.now + 20000);
		assert_int_equal(net.s[0].installs, 3);
		assert_int_equal(net.s[1].installs, 3);
		assert_int_equal(net.s[0].nsas, 1);
		assert_int_equal(net.s[1].nsas, 1);
		assert_true(v_sas_match(&net));
		assert_true(net.s[0].up && net.s[1].up);
		assert_int_equal(net.s[0].statuses, 1);
		v_free(&net);
	}
}

static void test_ike_rekey_collision(void **state)
{
	for (int round = 0; round < 6; round++) {
		struct ike_tunnel_config a, b;
		v_config(&a, 0);
		v_config(&b, 1);
		up_both(&net, &a, &b);
		v2_current_sa(net.s[0].ep)->rekey_ms = net.now;
		v2_current_sa(net.s[1].ep)->rekey_ms = net.now;
		ikev2_tick(net.s[0].ep, net.now);
		ikev2_tick(net.s[1].ep, net.now);
		v_run(&net, net.now + 20000);
		struct ikev2_sa_status sa0, sa1;
		ikev2_get_sa_status(net.s[0].ep, net.now, &sa0);
		ikev2_get_sa_status(net.s[1].ep, net.now, &sa1);
		assert_int_equal(sa0.n_sas, 1);
		assert_int_equal(sa1.n_sas, 1);
		assert_memory_equal(sa0.spi_i, sa1.spi_i, 8);
		assert_memory_equal(sa0.spi_r, sa1.spi_r, 8);
		assert_int_equal(sa0.state, IKEV2_SA_ESTABLISHED);
		/* the surviving IKE SA works: a CHILD SA rekey over it */
		assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
		v_run(&net, net.now + 10000);
		assert_int_equal(net.s[0].installs, 2);
		assert_int_equal(net.s[0].nsas, 1);
		assert_true(v_sas_match(&net));
		assert_true(net.s[0].up && net.s[1].up);
		assert_int_equal(net.s[1].statuses, 1);
		v_free(&net);
	}
}

static void test_rekey_crossing_delete(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	up_both(&net, &a, &b);
	/* A rekeys the CHILD SA while B deletes it */
	assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
	struct v2_child *c = v2_child_by_in(net.s[1].ep, net.s[1].sas[0].in.spi);
	assert_non_null(c);
	c->delete_ms = net.now;
	ikev2_tick(net.s[1].ep, net.now);
	v_run(&net, net.now + 60000);
	/* A wants the tunnel (startup start): it ends with one CHILD SA */
	assert_int_equal(net.s[0].nsas, 1);
	assert_int_equal(net.s[1].nsas, 1);
	assert_true(v_sas_match(&net));
	assert_true(net.s[0].up && net.s[1].up);
	v_free(&net);
}

static void test_rekey_during_liveness(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	up_both(&net, &a, &b);
	/* A's liveness check and B's IKE SA rekey cross */
	net.now += 10000;
	v2_current_sa(net.s[1].ep)->rekey_ms = net.now;
	v2_current_sa(net.s[1].ep)->last_rx_ms = net.now;
	ikev2_tick(net.s[0].ep, net.now);
	ikev2_tick(net.s[1].ep, net.now);
	struct ike_stats s;
	ikev2_get_stats(net.s[0].ep, &s);
	assert_int_equal(s.dpd_sent, 1);
	v_run(&net, net.now + 120000);
	ikev2_get_stats(net.s[0].ep, &s);
	assert_int_equal(s.dpd_timeouts, 0);
	assert_true(s.p1_established >= 2);
	assert_true(net.s[0].up && net.s[1].up);
	assert_int_equal(net.s[0].statuses, 1);
	assert_true(v_sas_match(&net));
	v_free(&net);
}

static void test_dpd(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	a.dpd_action = IKE_DPD_RESTART;
	b.dpd_action = IKE_DPD_CLEAR;
	up_both(&net, &a, &b);
	net.blackhole = true;
	uint64_t cut = net.now;
	/* the last sign of life was at most 1 s before the cut */
	v_run(&net, cut + 28000);
	assert_true(net.s[1].up);	/* not before the timeout */
	v_run(&net, cut + 35000);
	assert_false(net.s[0].up);
	assert_false(net.s[1].up);
	assert_non_null(strstr(net.s[1].cause, "DPD"));
	assert_int_equal(net.s[1].nsas, 0);
	struct ike_stats s;
	ikev2_get_stats(net.s[1].ep, &s);
	assert_int_equal(s.dpd_timeouts, 1);
	/* the path heals: A (restart) brings the tunnel back by itself */
	net.blackhole = false;
	v_run(&net, net.now + 120000);
	assert_true(net.s[0].up && net.s[1].up);
	assert_int_equal(net.s[1].nsas, 1);
	assert_true(v_sas_match(&net));
	v_free(&net);

	/* action none: SAs kept */
	v_config(&a, 0);
	v_config(&b, 1);
	b.dpd_action = IKE_DPD_NONE;
	up_both(&net, &a, &b);
	net.blackhole = true;
	v_run(&net, net.now + 60000);
	assert_true(net.s[1].up);
	assert_int_equal(net.s[1].nsas, 1);
	ikev2_get_stats(net.s[1].ep, &s);
	assert_true(s.dpd_timeouts >= 1);
	v_free(&net);
}

/* force_encap (strongSwan's encap = yes) without any NAT: the side that
 * sets it fakes its NAT-D, so both see a NAT in front of it and every
 * CHILD SA is UDP-encapsulated on 4500 both ways; as initiator and as
 * responder. Without it (test_basic) the same peers use raw ESP. */
static void test_force_encap(void **state)
{
	struct ike_tunnel_config a, b;
	for (int forcer = 0; forcer < 2; forcer++) {
		v_config(&a, 0);
		v_config(&b, 1);
		(forcer ? &b : &a)->force_encap = true;
		up_both(&net, &a, &b);
		for (int i = 0; i < 2; i++) {
			assert_true(net.s[i].sas[0].udp_encap);
			assert_int_equal(net.s[i].sas[0].encap_remote_port, 4500);
			struct ikev2_sa_status st;
			ikev2_get_sa_status(net.s[i].ep, net.now, &st);
			assert_int_equal(st.nat_local, i == forcer);
			assert_int_equal(st.nat_peer, i != forcer);
			assert_int_equal(st.local.port, 4500);
			assert_int_equal(st.peer.port, 4500);
		}
		v_free(&net);
	}
	(void)state;
}

static void test_nat(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	assert_true(v_init(&net, &a, &b));
	net.nat = true;
	/* B knows its peer by the NAT's address */
	b.remote_ip = V_IP_NAT;
	b.remote_id = V_IP_A;
	ikev2_peer_free(net.s[1].ep);
	net.s[1].ep = ikev2_peer_new(&b);
	v_run(&net, net.now + 5000);
	assert_true(net.s[0].up && net.s[1].up);
	assert_true(net.s[1].sas[0].udp_encap);
	assert_int_equal(net.s[1].sas[0].encap_remote_port, 40001);
	assert_true(net.s[0].sas[0].udp_encap);
	assert_int_equal(net.s[0].sas[0].encap_remote_port, 4500);
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_true(st.nat_peer);
	assert_int_equal(st.local.port, 4500);
	ikev2_get_sa_status(net.s[0].ep, net.now, &st);
	assert_true(st.nat_local);
	assert_int_equal(st.peer.port, 4500);
	assert_true(ikev2_child_sa_rekey(net.s[1].ep, net.s[1].sas[0].in.spi, net.now));
	v_run(&net, net.now + 10000);
	assert_true(net.s[1].sas[0].udp_encap);
	assert_true(v_sas_match(&net));
	/* A, behind the NAT, keeps its mapping alive: 0xFF every 20 s */
	struct ike_stats s0, s1;
	ikev2_get_stats(net.s[1].ep, &s0);
	v_run(&net, net.now + 61000);
	ikev2_get_stats(net.s[1].ep, &s1);
	assert_int_equal(s1.rx_keepalives - s0.rx_keepalives, 3);
	ikev2_get_stats(net.s[0].ep, &s1);
	assert_int_equal(s1.rx_keepalives, 0);	/* B is not behind a NAT: it sends none */
	v_free(&net);
}

static bool only_from_b(struct v_net *n, int from, struct v_pkt *p, int idx)
{
	return from == 1;	/* A's half-open attempts: B's answers lost */
}

static bool only_from_a(struct v_net *n, int from, struct v_pkt *p, int idx)
{
	return from == 0;	/* B's answers lost */
}

static void test_cookies(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	assert_true(v_init(&net, &a, &b));
	/* IKEV2_COOKIE_THRESHOLD initiators that never finish */
	net.filter = only_from_b;
	struct ikev2_peer *real_a = net.s[0].ep;
	for (int i = 0; i < IKEV2_COOKIE_THRESHOLD; i++) {
		struct ikev2_peer *x = ikev2_peer_new(&a);
		net.s[0].ep = x;
		ikev2_tick(x, net.now);
		struct ike_action act;
		while (ikev2_next_action(x, &act))
			if (act.kind == IKE_ACT_SEND) {
				struct ike_addr from = { V_IP_A, 500 };
				ikev2_input(net.s[1].ep, net.now, &from, false, act.send.data,
					    act.send.len);
			}
		ikev2_peer_free(x);
	}
	net.s[0].ep = real_a;
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.n_sas, IKEV2_COOKIE_THRESHOLD);
	net.filter = NULL;
	v_run(&net, net.now + 5000);
	/* B asked for a cookie and kept no state for the first try */
	assert_true(net.s[0].up && net.s[1].up);
	assert_true(v_sas_match(&net));
	/* A's INITIAL_CONTACT cleared the half-open ones of the same peer */
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.n_sas, 1);
	v_free(&net);

	/* without INITIAL_CONTACT, half-open IKE SAs expire by themselves */
	v_config(&a, 0);
	v_config(&b, 1);
	assert_true(v_init(&net, &a, &b));
	net.filter = only_from_a;
	v_run(&net, net.now + 1000);
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.n_sas, 1);
	assert_int_equal(st.state, IKEV2_SA_CONNECTING);
	net.blackhole = true;
	v_run(&net, net.now + 31000);
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.n_sas, 0);
	v_free(&net);
}

static int fragments_seen;
static bool count_fragments(struct v_net *n, int from, struct v_pkt *p, int idx)
{
	size_t off = p->natt ? 4 : 0;
	if (p->len > off + 28 && p->data[off + 16] == V2_PL_SKF)
		fragments_seen++;
	return true;
}

static void test_fragments(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	/* AWS's widest phase 2 lists and a modp8192 KE make CREATE_CHILD_SA
	 * exceed 1280 bytes */
	static const uint16_t groups[] = { 18, 2, 5, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24 };
	for (int k = 0; k < 2; k++) {
		struct ike_tunnel_config *c = k ? &b : &a;
		for (int i = 0; i < 4; i++) {
			c->p2_encr[i] = (enum ike_encr)(IKE_ENCR_AES128_CBC + i);
			c->p2_integ[i] = (enum ike_integ)(IKE_INTEG_SHA1 + i);
		}
		c->p2_encr_n = c->p2_integ_n = 4;
		memcpy(c->p2_dh, groups, sizeof(groups));
		c->p2_dh_n = 13;
	}
	up_both(&net, &a, &b);
	fragments_seen = 0;
	net.filter = count_fragments;
	assert_true(ikev2_child_sa_rekey(net.s[0].ep, net.s[0].sas[0].in.spi, net.now));
	v_run(&net, net.now + 10000);
	assert_int_equal(fragments_seen, 2);	/* the request; the answer fits whole */
	assert_int_equal(net.s[0].installs, 2);
	assert_int_equal(net.s[0].nsas, 1);
	assert_true(v_sas_match(&net));
	v_free(&net);
}

static void test_stop_and_initial_contact(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	up_both(&net, &a, &b);
	/* A restarts without telling B: its new IKE SA carries
	 * INITIAL_CONTACT, and B drops the old SAs */
	ikev2_peer_free(net.s[0].ep);
	net.s[0].ep = ikev2_peer_new(&a);
	net.s[0].nsas = 0;
	v_run(&net, net.now + 5000);
	assert_int_equal(net.s[1].nsas, 1);
	assert_true(v_sas_match(&net));
	struct ikev2_sa_status st;
	ikev2_get_sa_status(net.s[1].ep, net.now, &st);
	assert_int_equal(st.n_sas, 1);
	/* a clean stop deletes everything on both sides */
	ikev2_stop(net.s[0].ep, net.now);
	v_run(&net, net.now + 1000);
	assert_false(net.s[1].up);
	assert_non_null(strstr(net.s[1].cause, "peer deleted the IKE SA"));
	assert_int_equal(net.s[1].nsas, 0);
	assert_int_equal(net.s[0].nsas, 0);
	assert_string_equal(net.s[0].cause, "stopped");
	v_free(&net);
}

static void test_malformed(void **state)
{
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	up_both(&net, &a, &b);
	struct ike_addr from = { V_IP_A, 500 };
	struct v2_sa *sa = v2_current_sa(net.s[1].ep);
	uint8_t m[64];
	memset(m, 0, sizeof(m));
	memcpy(m, sa->spi_i, 8);
	memcpy(m + 8, sa->spi_r, 8);
	m[16] = V2_PL_SK;
	m[17] = 0x20;
	m[18] = V2_INFORMATIONAL;
	m[19] = V2_FLAG_I;
	put_be32(m + 20, sa->peer_msgid);
	struct ike_stats before, after;
	ikev2_get_stats(net.s[1].ep, &before);
	ikev2_input(net.s[1].ep, net.now, &from, false, m, 20);	/* short */
	put_be32(m + 24, 64);
	ikev2_input(net.s[1].ep, net.now, &from, false, m, 60);	/* length lies */
	m[17] = 0x10;
	ikev2_input(net.s[1].ep, net.now, &from, false, m, 64);	/* version 1 */
	m[17] = 0x20;
	put_be16(m + 30, 2);
	ikev2_input(net.s[1].ep, net.now, &from, false, m, 64);	/* payload length 2 */
	put_be16(m + 30, 36);
	ikev2_input(net.s[1].ep, net.now, &from, false, m, 64);	/* SK that does not verify */
	ikev2_get_stats(net.s[1].ep, &after);
	assert_int_equal(after.dropped[IKE_DROP_TOO_SHORT], before.dropped[IKE_DROP_TOO_SHORT] + 1);
	assert_int_equal(after.dropped[IKE_DROP_BAD_LENGTH], before.dropped[IKE_DROP_BAD_LENGTH] + 1);
	assert_int_equal(after.dropped[IKE_DROP_BAD_VERSION], before.dropped[IKE_DROP_BAD_VERSION] + 1);
	assert_int_equal(after.dropped[IKE_DROP_BAD_PAYLOAD], before.dropped[IKE_DROP_BAD_PAYLOAD] + 1);
	assert_int_equal(after.dropped[IKE_DROP_BAD_HASH], before.dropped[IKE_DROP_BAD_HASH] + 1);
	/* nothing changed */
	v_run(&net, net.now + 5000);
	assert_true(net.s[1].up);
	assert_int_equal(net.s[1].statuses, 1);
	v_free(&net);
}

/* Every IKE SA and CHILD SA state change is one line: the tunnel, the SA,
 * old -> new, the cause; never the key. A peer that drives changes fast
 * (here: 25 CHILD SA rekeys in 5 s, 100 lines of A's) gets them
 * rate-limited, and the count of those left out is logged. */
static void test_state_changes_logged(void **state)
{
	(void)state;
	static char log[1 << 18];
	struct log_capture cap;
	struct ike_tunnel_config a, b;
	v_config(&a, 0);
	v_config(&b, 1);
	log_capture_begin(&cap);
	up_both(&net, &a, &b);
	uint32_t spi = net.s[0].sas[0].in.spi, out = net.s[0].sas[0].out.spi;
	assert_true(ikev2_child_sa_rekey(net.s[0].ep, spi, net.now));
	v_run(&net, net.now + 10000);
	log_capture_end(&cap, log, sizeof(log));
	v_free(&net);
	static const char *const want[] = {
		"A: IKE SA #1 NONE -> INIT_I: we send IKE_SA_INIT\n",
		"A: IKE SA #1 INIT_I -> AUTH_I: peer's IKE_SA_INIT answer accepted, IKE_AUTH sent\n",
		"A: IKE SA #1 AUTH_I -> ESTABLISHED: peer's IKE_AUTH answer authenticated\n",
		"B: IKE SA #1 NONE -> INIT_R: peer's IKE_SA_INIT\n",
		"B: IKE SA #1 INIT_R -> ESTABLISHED: peer's IKE_AUTH authenticated, answered\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		if (!strstr(log, want[i]))
			fail_msg("not logged: %s", want[i]);
	char line[160];
	snprintf(line, sizeof(line), "A: CHILD SA %08x/%08x NONE -> INSTALLED: our CREATE_CHILD_SA or IKE_AUTH answered",
		 spi, out);
	assert_non_null(strstr(log, line));
	snprintf(line, sizeof(line), "A: CHILD SA %08x/%08x INSTALLED -> REKEYING: we rekey it", spi, out);
	assert_non_null(strstr(log, line));
	snprintf(line, sizeof(line), "A: CHILD SA %08x/%08x REKEYING -> REPLACED: our rekey made its successor",
		 spi, out);
	assert_non_null(strstr(log, line));
	snprintf(line, sizeof(line), "A: CHILD SA %08x/%08x REPLACED -> DELETED: we delete it", spi, out);
	assert_non_null(strstr(log, line));
	snprintf(line, sizeof(line), "B: CHILD SA %08x/%08x INSTALLED -> REPLACED: the peer's rekey made its successor",
		 out, spi);
	assert_non_null(strstr(log, line));
	snprintf(line, sizeof(line), "B: CHILD SA %08x/%08x REPLACED -> DELETED: deleted by the peer", out, spi);
	assert_non_null(strstr(log, line));
	assert_int_equal(log_count(log, "A: CHILD SA "), 5);	/* 4 of the first, 1 of its successor */
	assert_null(strstr(log, "xyzxyz"));	/* the PSK */

	v_config(&a, 0);
	v_config(&b, 1);
	log_capture_begin(&cap);
	up_both(&net, &a, &b);
	uint32_t seen[32];
	size_t nseen = 0;
	for (int i = 0; i < 25; i++) {
		/* the newest CHILD SA: the one not rekeyed before */
		uint32_t cur = 0;
		for (size_t k = 0; k < net.s[0].nsas && !cur; k++) {
			cur = net.s[0].sas[k].in.spi;
			for (size_t j = 0; j < nseen && cur; j++)
				if (seen[j] == cur)
					cur = 0;
		}
		if (!cur)
			break;
		seen[nseen++] = cur;
		assert_true(ikev2_child_sa_rekey(net.s[0].ep, cur, net.now));
		v_run(&net, net.now + 200);
	}
	int installs = net.s[0].installs;
	v_run(&net, net.now + 15000);
	log_capture_end(&cap, log, sizeof(log));
	v_free(&net);
	assert_int_equal(installs, 26);
	/* 6 lines coming up and 4 per rekey (about 106) in 5 s; 40 a window */
	size_t lines_a = log_count(log, "A: CHILD SA ") + log_count(log, "A: IKE SA #");
	assert_in_range(lines_a, 40, 60);
	assert_non_null(strstr(log, "similar messages suppressed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_invalid_ke),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_ts_unacceptable),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_lost_and_duplicated),
		cmocka_unit_test(test_lifetime_rekeys),
		cmocka_unit_test(test_child_rekey_collision),
		cmocka_unit_test(test_ike_rekey_collision),
		cmocka_unit_test(test_rekey_crossing_delete),
		cmocka_unit_test(test_rekey_during_liveness),
		cmocka_unit_test(test_dpd),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_force_encap),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_stop_and_initial_contact),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_state_changes_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
