/*
 * test_ikev2_wire — the IKEv2 parsers and proposal logic on crafted bytes:
 * every length check refuses what it must (short, overrunning, trailing,
 * looping, too many), selectors and Deletes are read exactly, and the
 * responder's choice follows RFC 7296 §3.3 (peer's order, AEAD without
 * integrity, unknown transforms skipped, INVALID_KE when only the group
 * is wrong, the offer named when nothing fits).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vpn/ike/ikev2_proposal.h"
#include "vpn/ike/ikev2_wire.h"

static void cfg_default(struct ike_tunnel_config *c)
{
	ike_tunnel_config_defaults(c);
	c->versions = IKE_V2;
}

static void test_header(void **state)
{
	uint8_t m[40] = { 0 };
	struct v2_hdr h;
	assert_int_equal(v2_hdr_parse(m, 27, &h), IKE_DROP_TOO_SHORT);
	m[17] = 0x10;
	put_be32(m + 24, 40);
	assert_int_equal(v2_hdr_parse(m, 40, &h), IKE_DROP_BAD_VERSION);
	m[17] = 0x20;
	assert_int_equal(v2_hdr_parse(m, 39, &h), IKE_DROP_BAD_LENGTH);
	assert_int_equal(v2_hdr_parse(m, 40, &h), IKE_DROP_NONE);
	assert_int_equal(ike_msg_major_version(m, 40), 2);
	m[17] = 0x10;
	assert_int_equal(ike_msg_major_version(m, 40), 1);
	assert_int_equal(ike_msg_major_version(m, 10), 0);
}

static void test_payload_chain(void **state)
{
	uint8_t p[64];
	struct v2_msg m = { .n = 0 };
	/* Nonce (np V) 8 bytes, V (np none) 4 bytes */
	memset(p, 0, sizeof(p));
	p[0] = V2_PL_V; put_be16(p + 2, 8);
	put_be16(p + 10, 4);
	assert_int_equal(v2_payloads_parse(V2_PL_NONCE, p, 12, &m), IKE_DROP_NONE);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.pl[1].type, V2_PL_V);
	/* trailing bytes after the last payload */
	m.n = 0;
	assert_int_equal(v2_payloads_parse(V2_PL_NONCE, p, 13, &m), IKE_DROP_BAD_PAYLOAD);
	/* a length below the generic header (would loop) */
	m.n = 0;
	put_be16(p + 2, 3);
	assert_int_equal(v2_payloads_parse(V2_PL_NONCE, p, 12, &m), IKE_DROP_BAD_PAYLOAD);
	/* a length past the end */
	m.n = 0;
	put_be16(p + 2, 60);
	assert_int_equal(v2_payloads_parse(V2_PL_NONCE, p, 12, &m), IKE_DROP_BAD_PAYLOAD);
	/* SK must be last */
	m.n = 0;
	put_be16(p + 2, 8);
	assert_int_equal(v2_payloads_parse(V2_PL_SK, p, 12, &m), IKE_DROP_BAD_PAYLOAD);
	m.n = 0;
	assert_int_equal(v2_payloads_parse(V2_PL_SK, p, 8, &m), IKE_DROP_NONE);
	/* a chain of 4-byte payloads longer than IKEV2_MAX_PAYLOADS */
	uint8_t q[4 * (IKEV2_MAX_PAYLOADS + 1)];
	for (size_t i = 0; i < IKEV2_MAX_PAYLOADS + 1; i++) {
		q[4 * i] = i == IKEV2_MAX_PAYLOADS ? 0 : V2_PL_V;
		q[4 * i + 1] = 0;
		put_be16(q + 4 * i + 2, 4);
	}
	m.n = 0;
	assert_int_equal(v2_payloads_parse(V2_PL_V, q, sizeof(q), &m), IKE_DROP_TOO_MANY_PAYLOADS);
	/* an unknown payload with the critical bit is reported */
	m.n = 0;
	uint8_t c[4] = { 0, 0x80, 0, 4 };
	assert_int_equal(v2_payloads_parse(99, c, 4, &m), IKE_DROP_NONE);
	assert_non_null(v2_unknown_critical(&m));
}

static struct v2_payload body(const uint8_t *b, size_t len)
{
	struct v2_payload p = { .type = 0, .raw = b, .raw_len = len, .body = b, .len = len };
	return p;
}

static void test_bodies(void **state)
{
	struct v2_ts_list l;
	/* two selectors: IPv6 (skipped), IPv4 10.0.0.0-10.0.0.255 TCP port 22 */
	uint8_t ts[4 + 40 + 16] = { 2, 0, 0, 0 };
	ts[4] = V2_TS_IPV6_ADDR_RANGE; put_be16(ts + 6, 40);
	uint8_t *s = ts + 44;
	s[0] = V2_TS_IPV4_ADDR_RANGE; s[1] = 6; put_be16(s + 2, 16);
	put_be16(s + 4, 22); put_be16(s + 6, 22);
	put_be32(s + 8, 0x0a000000); put_be32(s + 12, 0x0a0000ff);
	struct v2_payload p = body(ts, sizeof(ts));
	assert_true(v2_parse_ts(&p, &l));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ts[0].protocol, 6);
	assert_int_equal(l.ts[0].port, 22);
	assert_false(l.ranged[0]);
	put_be16(s + 6, 23);	/* a port range we cannot hold */
	assert_true(v2_parse_ts(&p, &l));
	assert_true(l.ranged[0]);
	put_be32(s + 8, 0x0b000000);	/* start above end */
	assert_false(v2_parse_ts(&p, &l));
	put_be32(s + 8, 0x0a000000);
	p.len--;	/* the selector overruns */
	assert_false(v2_parse_ts(&p, &l));
	ts[0] = 0;	/* no selector at all */
	p.len++;
	assert_false(v2_parse_ts(&p, &l));

	struct v2_delete d;
	uint8_t del[12] = { V2_PROTO_ESP, 4, 0, 2, 0, 0, 1, 0, 0, 0, 2, 0 };
	p = body(del, sizeof(del));
	assert_true(v2_parse_delete(&p, &d));
	assert_int_equal(d.n_spis, 2);
	assert_int_equal(d.spis[1], 0x200);
	del[3] = 3;	/* three SPIs claimed, two present */
	assert_false(v2_parse_delete(&p, &d));
	uint8_t del_ike[4] = { V2_PROTO_IKE, 0, 0, 0 };
	p = body(del_ike, 4);
	assert_true(v2_parse_delete(&p, &d));
	del_ike[1] = 8;
	assert_false(v2_parse_delete(&p, &d));

	struct v2_notify n;
	uint8_t no[8] = { V2_PROTO_ESP, 4, 0x40, 0x09, 1, 2, 3, 4 };	/* REKEY_SA */
	p = body(no, 8);
	assert_true(v2_parse_notify(&p, &n));
	assert_int_equal(n.type, V2N_REKEY_SA);
	assert_int_equal(n.spi_len, 4);
	assert_int_equal(n.len, 0);
	no[1] = 5;	/* the SPI overruns */
	assert_false(v2_parse_notify(&p, &n));

	uint16_t num, total;
	uint8_t skf[4] = { 0, 3, 0, 2 };	/* fragment 3 of 2 */
	p = body(skf, 4);
	assert_false(v2_parse_skf(&p, &num, &total));
}

/* The body of an SA payload built by the builder. */
static size_t sa_body(struct isakmp_buf *b, uint8_t *out)
{
	size_t len = b->len - 1 - 4;	/* v2_buf_inner's type byte, generic header */
	memcpy(out, b->b + 5, len);
	return len;
}

static void test_selection(void **state)
{
	struct ike_tunnel_config a, b;
	cfg_default(&a);
	cfg_default(&b);
	/* A offers AES-128/256 CBC and AES-256-GCM, SHA1/SHA256, groups 14, 19 */
	a.p1_encr[1] = IKE_ENCR_AES256_CBC; a.p1_encr_n = 2;
	a.p1_aead[0] = IKE_ENCR_AES256_GCM16; a.p1_aead_n = 1;
	a.p1_integ[1] = IKE_INTEG_SHA256; a.p1_integ_n = 2;
	a.p1_dh[0] = 14; a.p1_dh[1] = 19; a.p1_dh_n = 2;
	struct isakmp_buf buf;
	uint8_t sa[2048];
	v2_buf_inner(&buf);
	v2_sa_build_ike(&buf, &a, 14, NULL);
	assert_false(buf.overflow);
	size_t len = sa_body(&buf, sa);
	struct v2_choice c;
	char offered[IKEV2_OFFERED_MAX];
	/* B allows only GCM-256, SHA256 PRF, group 19: the second proposal, and
	 * INVALID_KE since the KE is group 14 */
	b.p1_encr_n = 0;
	b.p1_aead[0] = IKE_ENCR_AES256_GCM16; b.p1_aead_n = 1;
	b.p1_integ[0] = IKE_INTEG_SHA256;
	b.p1_dh[0] = 19;
	assert_int_equal(v2_sa_select(sa, len, &b, V2_PROTO_IKE, V2_DH_KE, 14, &c, offered,
				      sizeof(offered)), IKE_DROP_BAD_KE);
	assert_int_equal(c.group, 19);
	assert_int_equal(v2_sa_select(sa, len, &b, V2_PROTO_IKE, V2_DH_KE, 19, &c, offered,
				      sizeof(offered)), IKE_DROP_NONE);
	assert_int_equal(c.encr, IKE_ENCR_AES256_GCM16);
	assert_int_equal(c.integ, IKE_INTEG_NONE);
	assert_int_equal(c.prf, IKE_INTEG_SHA256);
	assert_int_equal(c.prop_num, 2);
	/* the answer is accepted by A, and only with the group it sent */
	v2_buf_inner(&buf);
	v2_sa_build_reply(&buf, &c, NULL, 0);
	uint8_t reply[512];
	size_t rlen = sa_body(&buf, reply);
	struct v2_choice back;
	assert_int_equal(v2_sa_check_reply(reply, rlen, &a, V2_PROTO_IKE, V2_DH_KE, 19, &back),
			 IKE_DROP_NONE);
	assert_int_equal(back.encr, IKE_ENCR_AES256_GCM16);
	assert_int_equal(v2_sa_check_reply(reply, rlen, &a, V2_PROTO_IKE, V2_DH_KE, 14, &back),
			 IKE_DROP_NO_PROPOSAL);
	/* an answer holding A's whole offer (several transforms) is refused */
	assert_int_equal(v2_sa_check_reply(sa, len, &a, V2_PROTO_IKE, V2_DH_KE, 14, &back),
			 IKE_DROP_NO_PROPOSAL);
	/* nothing fits: NO_PROPOSAL, with the offer named */
	b.p1_aead[0] = IKE_ENCR_AES128_GCM16;
	assert_int_equal(v2_sa_select(sa, len, &b, V2_PROTO_IKE, V2_DH_KE, 19, &c, offered,
				      sizeof(offered)), IKE_DROP_NO_PROPOSAL);
	assert_string_equal(offered, "aes128/aes256-sha1/sha256-prfsha1/prfsha256-modp2048/ecp256, "
			    "aes256gcm16-prfsha1/prfsha256-modp2048/ecp256");
	/* a broken proposal structure is malformed, not "no proposal" */
	sa[2] = 0xff;
	assert_int_equal(v2_sa_select(sa, len, &b, V2_PROTO_IKE, V2_DH_KE, 19, &c, offered,
				      sizeof(offered)), IKE_DROP_BAD_PROPOSAL);
	assert_int_equal(v2_sa_select(sa, 7, &b, V2_PROTO_IKE, V2_DH_KE, 19, &c, offered,
				      sizeof(offered)), IKE_DROP_BAD_PROPOSAL);
}

static void test_esp_selection(void **state)
{
	struct ike_tunnel_config a;
	cfg_default(&a);
	a.p2_encr[1] = IKE_ENCR_AES128_GCM16; a.p2_encr_n = 2;
	struct isakmp_buf buf;
	uint8_t sa[1024];
	struct v2_choice c;
	char offered[IKEV2_OFFERED_MAX];
	/* with PFS group 2: DH transforms present; without KE it must fail */
	v2_buf_inner(&buf);
	v2_sa_build_esp(&buf, &a, 0x11223344, 2);
	size_t len = sa_body(&buf, sa);
	assert_int_equal(v2_sa_select(sa, len, &a, V2_PROTO_ESP, V2_DH_KE, 2, &c, offered,
				      sizeof(offered)), IKE_DROP_NONE);
	assert_int_equal(c.encr, IKE_ENCR_AES128_CBC);
	assert_int_equal(c.group, 2);
	assert_int_equal(get_be32(c.spi), 0x11223344);
	assert_int_equal(v2_sa_select(sa, len, &a, V2_PROTO_ESP, V2_DH_NONE, 0, &c, offered,
				      sizeof(offered)), IKE_DROP_NO_PROPOSAL);
	/* IKE_AUTH: DH does not apply */
	assert_int_equal(v2_sa_select(sa, len, &a, V2_PROTO_ESP, V2_DH_IGNORE, 0, &c, offered,
				      sizeof(offered)), IKE_DROP_NONE);
	assert_int_equal(c.group, 0);
	/* an IKE proposal is not an ESP one */
	assert_int_equal(v2_sa_select(sa, len, &a, V2_PROTO_IKE, V2_DH_IGNORE, 0, &c, offered,
				      sizeof(offered)), IKE_DROP_NO_PROPOSAL);
	/* the GCM proposal is chosen when CBC is not allowed */
	struct ike_tunnel_config g = a;
	g.p2_encr[0] = IKE_ENCR_AES128_GCM16; g.p2_encr_n = 1;
	assert_int_equal(v2_sa_select(sa, len, &g, V2_PROTO_ESP, V2_DH_KE, 2, &c, offered,
				      sizeof(offered)), IKE_DROP_NONE);
	assert_int_equal(c.encr, IKE_ENCR_AES128_GCM16);
	assert_int_equal(c.integ, IKE_INTEG_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_payload_chain),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_esp_selection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
