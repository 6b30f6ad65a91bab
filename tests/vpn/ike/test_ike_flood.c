/*
 * test_ike_flood — an IKE peer under a flood of forged Main Mode
 * message 1 (the customer gateway's address, random ports): the real
 * peer still gets in as long as it answers our message 2 before
 * IKE_HO_MAX forged ones arrived; once it answered, no number of forged
 * ones pushes it out; one source cannot begin more than its budget; our
 * own Main Mode is never refused; and the log stays short.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "ike_harness.h"
#include "base/base.h"
#include "vpn/ike/ike_internal.h"
#include "vpn/ike/ikev2.h"

/* A's first message (Main Mode 1), kept to forge copies of. */
static uint8_t mm1[4100];
static size_t mm1_len;
static uint32_t forged_seq;

/* n forged copies of A's message 1 into ep: new initiator cookie each,
 * from A's address and a port of 1024..65535 other than 4500. Answers
 * are drained and dropped (they go nowhere). */
static void forge(struct ike_peer *ep, uint64_t now, unsigned n)
{
	uint8_t copy[sizeof(mm1)];
	memcpy(copy, mm1, mm1_len);
	for (unsigned i = 0; i < n; i++) {
		uint32_t seq = ++forged_seq;
		memcpy(copy, &seq, 4);
		copy[4] = 0xf0;
		struct ike_addr from = { H_IP_A, (uint16_t)(1024 + seq % 60000) };
		if (from.port == 4500)
			from.port = 4501;
		ike_input(ep, now, &from, false, copy, mm1_len);
		struct ike_action a;
		while (ike_next_action(ep, &a))
			ike_action_wipe(&a);
	}
}

static unsigned flood_at_mm2, flood_at_mm4;

/* From A (side 0): keep its first message. From B (side 1): its first
 * message is message 2 (flood_at_mm2 forged ones arrive at B before A
 * sees it), its second is message 4 (flood_at_mm4 before that). */
static bool flood_filter(struct h_net *n, int from, struct h_pkt *p, int idx)
{
	if (from == 0 && idx == 0) {
		memcpy(mm1, p->data, p->len);
		mm1_len = p->len;
	}
	if (from == 1 && idx == 0 && flood_at_mm2)
		forge(n->s[1].ep, n->now, flood_at_mm2);
	if (from == 1 && idx == 1 && flood_at_mm4)
		forge(n->s[1].ep, n->now, flood_at_mm4);
	return true;
}

static void run_flood(struct h_net *n, unsigned at_mm2, unsigned at_mm4, uint64_t ms)
{
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	ca.startup = IKE_STARTUP_START;
	assert_true(h_init(n, &ca, &cb));
	flood_at_mm2 = at_mm2;
	flood_at_mm4 = at_mm4;
	n->filter = flood_filter;
	h_run(n, n->now + ms);
}

static void test_answer_beats_a_flood_below_the_table(void **state)
{
	(void)state;
	struct h_net n;
	/* IKE_HO_MAX - 1 forged exchanges between our message 2 and its
	 * answer: the real one is still the oldest entry left */
	run_flood(&n, IKE_HO_MAX - 1, 0, 1500);
	assert_true(n.s[0].up && n.s[1].up);
	struct ike_stats st;
	ike_get_stats(n.s[1].ep, &st);
	assert_int_equal(st.halfopen_evicted, 0);
	assert_int_equal(n.s[1].ep->ho_count, IKE_HO_MAX - 1);
	h_free(&n);
}

static void test_table_bound_is_what_it_says(void **state)
{
	(void)state;
	struct h_net n;
	/* IKE_HO_MAX forged ones: the real exchange was the oldest and is
	 * gone before A answers (the bound that IKE_HO_MAX / flood rate must
	 * keep above the peer's round trip) */
	run_flood(&n, IKE_HO_MAX, 0, 1500);
	assert_false(n.s[1].up);
	struct ike_stats st;
	ike_get_stats(n.s[1].ep, &st);
	assert_int_equal(st.halfopen_evicted, 1);
	assert_true(st.dropped[IKE_DROP_NO_SA] >= 1);	/* A's message 3 */
	h_free(&n);
}

static void test_proven_exchange_never_pushed_out(void **state)
{
	(void)state;
	struct h_net n;
	/* 4 x the table between message 3 (proof) and message 5 */
	run_flood(&n, 0, 4 * IKE_HO_MAX, 5000);
	assert_true(n.s[0].up && n.s[1].up);
	struct ike_stats st;
	ike_get_stats(n.s[1].ep, &st);
	assert_true(st.halfopen_evicted >= 2 * IKE_HO_MAX);
	assert_int_equal(st.p1_established, 1);
	assert_true(n.s[1].ep->ho_count <= IKE_HO_MAX);
	assert_true(n.s[1].ep->ho_bytes <= IKE_HO_BYTES_MAX);
	/* unanswered for a minute: gone, and the table with them */
	h_run(&n, n.now + IKE_HALF_OPEN_MS + 1000);
	assert_int_equal(n.s[1].ep->ho_count, 0);
	assert_null(n.s[1].ep->ho);
	assert_true(n.s[0].up && n.s[1].up);
	h_free(&n);
}

static void test_source_budget(void **state)
{
	(void)state;
	struct h_net n;
	run_flood(&n, 0, 0, 5000);	/* a normal run, to capture A's message 1 */
	assert_true(n.s[1].up);
	struct ike_peer *ep = n.s[1].ep;
	struct ike_stats before, after;
	ike_get_stats(ep, &before);
	uint8_t copy[sizeof(mm1)];
	memcpy(copy, mm1, mm1_len);
	/* initiator cookies of our own (byte 0 varies below): none may be
	 * A's, whose exchange is established (and would drop them) */
	memset(copy + 1, 0xa5, 7);
	struct ike_addr from = { H_IP_A, 7777 };
	unsigned answered = 0;
	for (unsigned i = 0; i < 20; i++) {
		copy[0] = (uint8_t)(0x80 + i);
		ike_input(ep, n.now, &from, false, copy, mm1_len);
		struct ike_action a;
		while (ike_next_action(ep, &a))
			answered += a.kind == IKE_ACT_SEND && a.send.dst.port == 7777;
	}
	assert_int_equal(answered, IKE_SRC_BURST);
	ike_get_stats(ep, &after);
	assert_int_equal(after.dropped[IKE_DROP_SOURCE_LIMIT] - before.dropped[IKE_DROP_SOURCE_LIMIT],
			 20 - IKE_SRC_BURST);
	/* a second later, one more; another source is not affected */
	copy[0] = 0xc0;
	ike_input(ep, n.now + 1000, &from, false, copy, mm1_len);
	struct ike_addr other = { H_IP_A, 7778 };
	copy[0] = 0xc1;
	ike_input(ep, n.now + 1000, &other, false, copy, mm1_len);
	answered = 0;
	struct ike_action a;
	while (ike_next_action(ep, &a))
		answered += a.kind == IKE_ACT_SEND;
	assert_int_equal(answered, 2);
	/* a repeated message 1 is answered from the table, whatever the budget */
	copy[0] = 0x80;
	ike_input(ep, n.now + 1000, &from, false, copy, mm1_len);
	answered = 0;
	while (ike_next_action(ep, &a))
		answered += a.kind == IKE_ACT_SEND;
	assert_int_equal(answered, 1);
	h_free(&n);
}

static void test_own_initiation_during_flood(void **state)
{
	(void)state;
	struct h_net n;
	run_flood(&n, 0, 0, 5000);
	h_free(&n);
	/* now B initiates, with its table full of forged exchanges */
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	assert_true(h_init(&n, &ca, &cb));
	forge(n.s[1].ep, n.now, 2 * IKE_HO_MAX);
	ike_start(n.s[1].ep, n.now);
	h_run(&n, n.now + 5000);
	assert_true(n.s[0].up && n.s[1].up);
	struct ike_isakmp_status is;
	ike_get_isakmp_status(n.s[1].ep, n.now, &is);
	assert_true(is.initiator);
	h_free(&n);
}

/* Forged message 1 offering DH groups we do not allow, a different one
 * each time: every offer is answered NO-PROPOSAL-CHOSEN, but the tunnel's
 * status (which names the offer) changes a few times per log interval at
 * most. */
static void test_mismatch_flood_bounded(void **state)
{
	(void)state;
	struct h_net n;
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	assert_true(h_init(&n, &ca, &cb));
	/* A's message 1, without running the exchange */
	ike_start(n.s[0].ep, n.now);
	struct ike_action a;
	mm1_len = 0;
	while (ike_next_action(n.s[0].ep, &a))
		if (a.kind == IKE_ACT_SEND && !mm1_len) {
			memcpy(mm1, a.send.data, a.send.len);
			mm1_len = a.send.len;
		}
	size_t g = 0;
	for (size_t i = 28; i + 4 <= mm1_len; i++)
		if (mm1[i] == 0x80 && mm1[i + 1] == 4 && mm1[i + 2] == 0 && mm1[i + 3] == 2)
			g = i;	/* the group attribute: TV, type 4, group 2 */
	assert_true(g != 0);
	static const uint16_t groups[] = { 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
	int before = n.s[1].statuses, notifies = 0;
	for (unsigned i = 0; i < 2000; i++) {
		mm1[g + 3] = (uint8_t)groups[i % ARRAY_LEN(groups)];
		memcpy(mm1, &i, sizeof(i));
		struct ike_addr from = { H_IP_A, (uint16_t)(2000 + i) };
		ike_input(n.s[1].ep, n.now + i, &from, false, mm1, mm1_len);
		while (ike_next_action(n.s[1].ep, &a)) {
			if (a.kind == IKE_ACT_STATUS)
				n.s[1].statuses++;
			notifies += a.kind == IKE_ACT_SEND;
		}
	}
	assert_int_equal(notifies, 2000);
	assert_true(n.s[1].statuses - before <= IKE_LOG_BURST);
	struct ike_stats st;
	ike_get_stats(n.s[1].ep, &st);
	assert_int_equal(st.proposal_mismatches, 2000);
	h_free(&n);
}

static void flood_quietly(void)
{
	struct h_net n;
	run_flood(&n, 0, 4 * IKE_HO_MAX, 5000);
	/* garbage too: bad versions, short packets, unknown cookies */
	uint8_t junk[64] = { 0 };
	struct ike_addr from = { H_IP_A, 500 };
	for (int i = 0; i < 20000; i++) {
		junk[0] = (uint8_t)i;
		junk[17] = (uint8_t)(i & 1 ? 0x10 : 0x20);
		junk[18] = 2;
		junk[27] = 28;
		ike_input(n.s[1].ep, n.now, &from, false, junk, (size_t)(i % 3 ? 28 : 10));
	}
	/* a tick after the window: the counts are reported once */
	h_run(&n, n.now + IKE_LOG_INTERVAL_MS + 1000);
	h_free(&n);
}

/* IKEv2 beside IKEv1: forged IKE_SA_INIT requests (a real one's bytes with
 * a new initiator SPI each, from the peer's address and random ports) and
 * junk with version 2.0 must not write a line each either. */
static void flood_v2_quietly(void)
{
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	struct ikev2_peer *a = ikev2_peer_new(&ca), *b = ikev2_peer_new(&cb);
	assert_non_null(a);
	assert_non_null(b);
	uint64_t now = 1000;
	ikev2_start(a, now);
	static uint8_t init[4100];
	size_t init_len = 0;
	struct ike_action act;
	while (ikev2_next_action(a, &act))
		if (act.kind == IKE_ACT_SEND && !init_len && act.send.len <= sizeof(init)) {
			memcpy(init, act.send.data, act.send.len);
			init_len = act.send.len;
		}
	assert_true(init_len > 28);
	for (uint32_t i = 0; i < 20000; i++) {
		memcpy(init, &i, sizeof(i));		/* the initiator's SPI */
		struct ike_addr from = { H_IP_A, (uint16_t)(1024 + i % 60000) };
		ikev2_input(b, now, &from, false, init, init_len);
		uint8_t junk[40] = { 0 };
		memcpy(junk, &i, sizeof(i));
		junk[8] = 0xee;			/* a responder SPI nobody has */
		junk[17] = 0x20;		/* version 2.0 */
		junk[18] = 37;			/* INFORMATIONAL */
		junk[27] = sizeof(junk);
		ikev2_input(b, now, &from, false, junk, sizeof(junk));
		while (ikev2_next_action(b, &act))
			ike_action_wipe(&act);
		now += 1;
	}
	ikev2_tick(b, now + IKE_LOG_INTERVAL_MS + 1000);
	ikev2_peer_free(a);
	ikev2_peer_free(b);
}

static void test_v2_log_stays_short(void **state)
{
	(void)state;
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(2);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	flood_v2_quietly();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long size = ftell(tmp);
	fclose(tmp);
	/* 40,000 packets */
	assert_true(size < 16 * 1024);
}

static void test_log_stays_short(void **state)
{
	(void)state;
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(2);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	flood_quietly();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long size = ftell(tmp);
	rewind(tmp);
	static char text[1 << 20];
	size_t got = fread(text, 1, sizeof(text) - 1, tmp);
	text[got] = 0;
	fclose(tmp);
	/* 40,000 packets, each of which used to log a line or two */
	assert_true(size < 16 * 1024);
	assert_non_null(strstr(text, "similar messages suppressed"));
	assert_non_null(strstr(text, "B: dropped message: "));
	assert_non_null(strstr(text, "tunnel UP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_beats_a_flood_below_the_table),
		cmocka_unit_test(test_table_bound_is_what_it_says),
		cmocka_unit_test(test_proven_exchange_never_pushed_out),
		cmocka_unit_test(test_source_budget),
		cmocka_unit_test(test_own_initiation_during_flood),
		cmocka_unit_test(test_log_stays_short),
		cmocka_unit_test(test_mismatch_flood_bounded),
		cmocka_unit_test(test_v2_log_stays_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
