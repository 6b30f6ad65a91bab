/* Tests for base/gso.h, the offload finishing shared by the router and the
 * VPN endpoint: software TSO's segments byte-identical to a reference cut
 * built here from scratch (each expected segment made by the same packet
 * builder as the super-frame, with its own id, sequence number, flags and
 * payload slice, checksums by a plain RFC 1071 sum written here) for
 * several MSS, payload lengths, IPv4 and TCP options, with and without an
 * Ethernet header before the packet; every checksum verified again by
 * recomputation; partial checksum completion (TCP, UDP, the 0 -> 0xffff
 * case); the virtio_net_hdr round trip; and bad headers refused
 * (gso_vnet_check, gso_tcp_init, gso_csum_complete out of bounds).
 * TCP trains: runs of segments joined, the frame cut back by gso_tcp_*
 * byte-identical to what went in (with and without Ethernet and TCP
 * options, ids and sequence numbers wrapping, a shorter last, PSH, up to
 * GSO_TRAIN_MAX and the 64 KB bound); each rule broken keeps a segment
 * out (not eligible, or not joined, and never written). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/gso.h"

#define MAXP 70000

/* RFC 1071 by its definition: big-endian 16-bit words, odd tail padded. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static uint32_t ref_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(l4len >> 8);
	ph[11] = (uint8_t)l4len;
	return ref_sum(0, ph, 12);
}

struct shape {
	uint32_t l3;		/* 0 (TUN) or 14 (Ethernet) */
	uint32_t ipopt, tcpopt;	/* option bytes (multiples of 4) */
};

/* A TCP/IPv4 packet into out: prefix, headers, payload; both checksums
 * complete (partial: the TCP field holds the pseudo header's sum only,
 * as a sender's kernel leaves a super-frame). Its length. */
static uint32_t build(uint8_t *out, const struct shape *s, uint16_t id, uint32_t seq, uint8_t flags,
		      const uint8_t *payload, uint32_t n, int partial)
{
	uint32_t ihl = 20 + s->ipopt, thl = 20 + s->tcpopt, len = ihl + thl + n;
	for (uint32_t i = 0; i < s->l3; i++)
		out[i] = (uint8_t)(0xa0 + i);
	uint8_t *ip = out + s->l3, *t = ip + ihl;
	memset(ip, 0, ihl + thl);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0x10;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[4] = (uint8_t)(id >> 8);
	ip[5] = (uint8_t)id;
	ip[6] = 0x40;	/* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 9, 8, 7 }, 8);
	for (uint32_t i = 20; i < ihl; i++)
		ip[i] = i == 20 ? 1 : 0;	/* NOPs then EOL */
	uint16_t c = (uint16_t)~ref_sum(0, ip, ihl);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	t[0] = 0x9c; t[1] = 0x40; t[2] = 0x01; t[3] = 0xbb;
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	memcpy(t + 8, (uint8_t[]){ 0x12, 0x34, 0x56, 0x78 }, 4);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	t[14] = 0x01; t[15] = 0xf5;
	for (uint32_t i = 20; i < thl; i++)
		t[i] = (uint8_t)(i % 4 == 0 ? 1 : 0x30 + i);	/* NOP, then arbitrary bytes */
	memcpy(t + thl, payload, n);
	uint32_t ps = ref_pseudo(ip, 6, thl + n);
	c = partial ? (uint16_t)ps : (uint16_t)~ref_sum(ps, t, thl + n);
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	return s->l3 + len;
}

/* Both checksums of a segment verify (the sum over each, field
 * included, is 0xffff). */
static void assert_checksums(const uint8_t *seg, const struct shape *s, uint32_t len)
{
	const uint8_t *ip = seg + s->l3;
	uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4, l4 = len - s->l3 - ihl;
	assert_int_equal(ref_sum(0, ip, ihl), 0xffff);
	assert_int_equal(ref_sum(ref_pseudo(ip, 6, l4), ip + ihl, l4), 0xffff);
}

static uint8_t payload[MAXP], frame[MAXP + 200], seg[4096], want[4096];

static void cut_and_compare(const struct shape *s, uint32_t plen, uint16_t mss, uint8_t flags)
{
	const uint16_t id0 = 0xfff0;	/* ids wrap past 0xffff */
	const uint32_t seq0 = 0xfffff000;	/* so do sequence numbers */
	uint32_t flen = build(frame, s, id0, seq0, flags, payload, plen, 1);
	uint32_t hl = s->l3 + 40 + s->ipopt + s->tcpopt;
	struct gso_tcp_iter it;
	assert_true(gso_tcp_init(&it, frame, s->l3, s->l3 + 20 + s->ipopt, flen, mss, sizeof(seg)));
	uint32_t off = 0, k = 0, len;
	while (gso_tcp_more(&it)) {
		len = gso_tcp_next(&it, seg);
		uint32_t n = plen - off < mss ? plen - off : mss;
		bool last = off + n >= plen;
		uint8_t fl = flags;
		if (!last)
			fl &= (uint8_t)~0x09;
		if (k)
			fl &= (uint8_t)~0x80;
		uint32_t wl = build(want, s, (uint16_t)(id0 + k), seq0 + off, fl, payload + off, n, 0);
		assert_int_equal(len, wl);
		assert_int_equal(len, hl + n);
		assert_memory_equal(seg, want, wl);
		assert_checksums(seg, s, len);
		off += n;
		k++;
	}
	assert_int_equal(gso_tcp_next(&it, seg), 0);
	assert_int_equal(off, plen);
	assert_int_equal(k, plen ? (plen + mss - 1) / mss : 1);
}

static void test_tso_matches_reference(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < MAXP; i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
	static const struct shape shapes[] = {
		{ 0, 0, 0 }, { 14, 0, 0 }, { 0, 0, 12 }, { 14, 4, 12 }, { 0, 40, 40 },
	};
	static const uint16_t msses[] = { 1, 7, 536, 1448, 1460 };
	static const uint32_t lens[] = { 0, 1, 535, 1447, 1448, 1449, 2896, 20000, 65000 };
	for (size_t a = 0; a < sizeof(shapes) / sizeof(shapes[0]); a++)
		for (size_t b = 0; b < sizeof(msses) / sizeof(msses[0]); b++)
			for (size_t c = 0; c < sizeof(lens) / sizeof(lens[0]); c++) {
				if (msses[b] < 8 && lens[c] > 3000)
					continue;	/* thousands of 1-byte segments: no more shown */
				if (lens[c] + 20 + 20 + shapes[a].ipopt + shapes[a].tcpopt > 65535)
					continue;
				cut_and_compare(&shapes[a], lens[c], msses[b], 0x10 | 0x08 | 0x01 | 0x80);
				cut_and_compare(&shapes[a], lens[c], msses[b], 0x10);
			}
}

/* An mss the room cannot hold is cut to it; room for headers only: no. */
static void test_tso_room(void **state)
{
	(void)state;
	struct shape s = { 14, 0, 12 };
	uint32_t flen = build(frame, &s, 1, 1, 0x10, payload, 5000, 1);
	struct gso_tcp_iter it;
	assert_true(gso_tcp_init(&it, frame, 14, 34, flen, 9000, 1514));
	uint32_t total = 0, len;
	while ((len = gso_tcp_next(&it, seg)) > 0) {
		assert_true(len <= 1514);
		total += len - 66;
	}
	assert_int_equal(total, 5000);
	assert_false(gso_tcp_init(&it, frame, 14, 34, flen, 1448, 66));
	assert_false(gso_tcp_more(&it));
	assert_int_equal(gso_tcp_next(&it, seg), 0);
}

static void test_tso_refuses(void **state)
{
	(void)state;
	struct shape s = { 0, 0, 0 };
	uint32_t flen = build(frame, &s, 1, 1, 0x10, payload, 3000, 1);
	struct gso_tcp_iter it;
	assert_false(gso_tcp_init(&it, frame, 0, 20, flen, 0, 4096));		/* mss 0 */
	assert_false(gso_tcp_init(&it, frame, 0, 16, flen, 1448, 4096));	/* L4 inside IPv4's 20 */
	assert_false(gso_tcp_init(&it, frame, 0, 20, 39, 1448, 4096));		/* TCP header cut */
	frame[32] = 0x40;	/* data offset 16 bytes */
	assert_false(gso_tcp_init(&it, frame, 0, 20, flen, 1448, 4096));
	frame[32] = 0xf0;	/* 60 bytes of TCP header past a 50-byte packet */
	assert_false(gso_tcp_init(&it, frame, 0, 20, 50, 1448, 4096));
	assert_false(gso_tcp_more(&it));
}

static void test_vnet_hdr_round_trip(void **state)
{
	(void)state;
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4 | VNET_GSO_ECN, 66, 1448, 34, 16 }, r;
	uint8_t b[16];
	memset(b, 0xee, sizeof(b));
	vnet_hdr_write(b, 12, &h);
	assert_int_equal(b[10], 0);
	assert_int_equal(b[11], 0);
	assert_int_equal(b[12], 0xee);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 0x81);
	vnet_hdr_read(b, &r);
	assert_memory_equal(&r, &h, sizeof(h));
}

static void test_vnet_check(void **state)
{
	(void)state;
	struct gso_pkt tcp = { 34, 1514, 6, false };
	struct vnet_hdr ok = { VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 66, 1448, 34, 16 }, h;
	assert_true(gso_vnet_check(&ok, &tcp));
	h = ok;
	h.vh_gso_type |= VNET_GSO_ECN;
	assert_true(gso_vnet_check(&h, &tcp));
	h = ok;
	h.vh_gso_type = VNET_GSO_NONE;
	assert_true(gso_vnet_check(&h, &tcp));
	h.vh_flags = 0;
	assert_true(gso_vnet_check(&h, &tcp));		/* nothing asked */
	h = ok;
	h.vh_flags = 0;
	assert_false(gso_vnet_check(&h, &tcp));		/* TSO without a partial checksum */
	h = ok;
	h.vh_gso_size = 0;
	assert_false(gso_vnet_check(&h, &tcp));
	h = ok;
	h.vh_gso_type = 3;				/* UFO */
	assert_false(gso_vnet_check(&h, &tcp));
	h.vh_gso_type = 4;				/* TCPv6 */
	assert_false(gso_vnet_check(&h, &tcp));
	h.vh_gso_type = VNET_GSO_UDP_L4;		/* USO: written, never taken */
	assert_false(gso_vnet_check(&h, &tcp));
	h = ok;
	h.vh_csum_offset = 1479;			/* field's end past the packet */
	assert_false(gso_vnet_check(&h, &tcp));
	h.vh_csum_offset = 1478;
	assert_true(gso_vnet_check(&h, &tcp));
	h = ok;
	h.vh_csum_start = 24;				/* inside the IPv4 header */
	assert_false(gso_vnet_check(&h, &tcp));
	h = ok;
	h.vh_csum_start = 0xffff;
	h.vh_csum_offset = 0xffff;			/* no wrap */
	assert_false(gso_vnet_check(&h, &tcp));
	struct gso_pkt frag = { 34, 1514, 6, true }, udp = { 34, 1514, 17, false },
		       nol4 = { 0, 1514, 6, true };
	assert_false(gso_vnet_check(&ok, &frag));
	assert_false(gso_vnet_check(&ok, &udp));
	assert_false(gso_vnet_check(&ok, &nol4));
	h = ok;
	h.vh_gso_type = VNET_GSO_NONE;
	assert_false(gso_vnet_check(&h, &nol4));	/* a checksum with no L4 header */
}

static void test_csum_complete(void **state)
{
	(void)state;
	struct shape s = { 14, 4, 12 };
	uint32_t flen = build(frame, &s, 9, 100, 0x18, payload, 1001, 1);
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 38, 16 };
	assert_true(gso_csum_complete(frame, flen, &h));
	uint32_t wl = build(want, &s, 9, 100, 0x18, payload, 1001, 0);
	assert_memory_equal(frame, want, wl);
	assert_checksums(frame, &s, flen);

	/* UDP: the pseudo header's sum in the field, completed */
	uint8_t u[20 + 8 + 33];
	memset(u, 0, sizeof(u));
	u[0] = 0x45;
	u[3] = sizeof(u);
	u[8] = 64;
	u[9] = 17;
	memcpy(u + 12, (uint8_t[]){ 192, 0, 2, 1, 198, 51, 100, 2 }, 8);
	u[21] = 53; u[23] = 99; u[25] = 41;
	for (unsigned i = 28; i < sizeof(u); i++)
		u[i] = (uint8_t)(i * 13);
	uint16_t p = gso_csum_partial(u, 17, 41);
	assert_int_equal(p, ref_pseudo(u, 17, 41));
	u[26] = (uint8_t)(p >> 8);
	u[27] = (uint8_t)p;
	h = (struct vnet_hdr){ VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 6 };
	assert_true(gso_csum_complete(u, sizeof(u), &h));
	assert_int_equal(ref_sum(ref_pseudo(u, 17, 41), u + 20, 41), 0xffff);

	/* a datagram whose checksum comes out 0 gets 0xffff: the word at
	 * u[58] (an even offset from the UDP header) tuned so that the
	 * region, the partial field included, sums to 0xffff */
	u[26] = (uint8_t)(p >> 8);
	u[27] = (uint8_t)p;
	u[58] = 0;
	u[59] = 0;
	uint16_t need = (uint16_t)(0xffff - ref_sum(0, u + 20, 41));
	u[58] = (uint8_t)(need >> 8);
	u[59] = (uint8_t)need;
	assert_int_equal(ref_sum(0, u + 20, 41), 0xffff);
	assert_true(gso_csum_complete(u, sizeof(u), &h));
	assert_int_equal(u[26], 0xff);
	assert_int_equal(u[27], 0xff);
	assert_int_equal(ref_sum(ref_pseudo(u, 17, 41), u + 20, 41), 0xffff);

	/* nothing asked: nothing written */
	memcpy(want, u, sizeof(u));
	h.vh_flags = 0;
	assert_true(gso_csum_complete(u, sizeof(u), &h));
	assert_memory_equal(u, want, sizeof(u));

	/* outside the packet: refused, nothing written */
	h = (struct vnet_hdr){ VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 40 };
	assert_false(gso_csum_complete(u, sizeof(u), &h));
	h.vh_csum_start = sizeof(u);
	h.vh_csum_offset = 0;
	assert_false(gso_csum_complete(u, sizeof(u), &h));
	h.vh_csum_start = 0xffff;
	h.vh_csum_offset = 0xffff;
	assert_false(gso_csum_complete(u, sizeof(u), &h));
	assert_memory_equal(u, want, sizeof(u));
}


/* ---- TCP trains -------------------------------------------------------------- */

#define TR_MSS 1448
static uint8_t tr_seg[GSO_TRAIN_MAX + 2][1600], tr_buf[14 + 65535], tr_cut[4096];
static uint32_t tr_len[GSO_TRAIN_MAX + 2];

/* Both checksums of the packet (IPv4 at l3, len bytes from p) again,
 * complete, after a test changed a header byte. */
static void fix_csums(uint8_t *p, uint32_t l3, uint32_t len)
{
	uint8_t *ip = p + l3;
	uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4, l4 = len - l3 - ihl;
	uint8_t *t = ip + ihl;
	ip[10] = ip[11] = 0;
	uint16_t c = (uint16_t)~ref_sum(0, ip, ihl);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	t[16] = t[17] = 0;
	c = (uint16_t)~ref_sum(ref_pseudo(ip, 6, l4), t, l4);
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
}

/* n segments of one flow into tr_seg: TR_MSS each but the last (last
 * bytes), ids from 0xfffe and sequence numbers from 0xfffffa00 (both
 * wrap), ACK (PSH on the last when psh), checksums complete. */
static void tr_make(const struct shape *s, unsigned n, uint32_t last, bool psh)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t pl = i + 1 == n ? last : TR_MSS;
		uint8_t fl = (uint8_t)(0x10 | (psh && i + 1 == n ? 0x08 : 0));
		tr_len[i] = build(tr_seg[i], s, (uint16_t)(0xfffe + i), 0xfffffa00u + i * TR_MSS, fl,
				  payload + (i * TR_MSS) % (MAXP - TR_MSS), pl, 0);
	}
}

/* The frame a train finished into, cut by gso_tcp_* as the kernel's TSO
 * would: exactly the n segments that went in, byte for byte. */
static void tr_cut_compare(const struct shape *s, const uint8_t *f, uint32_t flen,
			   const struct vnet_hdr *h, unsigned n)
{
	const uint8_t *ip = f + s->l3;
	assert_int_equal(h->vh_gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h->vh_flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h->vh_gso_size, TR_MSS);
	assert_int_equal(h->vh_hdr_len, s->l3 + 40 + s->tcpopt);
	assert_int_equal(h->vh_csum_start, s->l3 + 20);
	assert_int_equal(h->vh_csum_offset, 16);
	assert_int_equal(ref_sum(0, ip, 20), 0xffff);			/* IPv4's complete */
	assert_int_equal((ip[20 + 16] << 8) | ip[20 + 17],		/* TCP's partial */
			 ref_pseudo(ip, 6, flen - s->l3 - 20));
	assert_int_equal((ip[2] << 8) | ip[3], flen - s->l3);
	/* the kernel completes the partial sum before it cuts */
	static uint8_t whole[14 + 65535];
	memcpy(whole, f, flen);
	assert_true(gso_csum_complete(whole, flen, h));
	struct gso_tcp_iter it;
	assert_true(gso_tcp_init(&it, whole, s->l3, s->l3 + 20, flen, h->vh_gso_size,
				 sizeof(tr_cut)));
	unsigned k = 0;
	uint32_t l;
	while ((l = gso_tcp_next(&it, tr_cut)) > 0) {
		assert_true(k < n);
		assert_int_equal(l, tr_len[k]);
		assert_memory_equal(tr_cut, tr_seg[k], l);
		k++;
	}
	assert_int_equal(k, n);
}

static void test_tcp_train_round_trip(void **state)
{
	(void)state;
	static const struct shape shapes[] = { { 0, 0, 0 }, { 14, 0, 0 }, { 14, 0, 12 }, { 0, 0, 12 } };
	static const unsigned counts[] = { 2, 3, 17, GSO_TRAIN_MAX };
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
		const struct shape *s = &shapes[si];
		for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
			unsigned n = counts[ci];
			for (int v = 0; v < 3; v++) {
				/* the last: whole; shorter; shorter with PSH */
				uint32_t last = v == 0 ? TR_MSS : 1 + 97 * v;
				if (n == GSO_TRAIN_MAX && s->tcpopt)
					last = 1;	/* 64 x 1460 > 64 KB: fewer fit */
				tr_make(s, n, last, v == 2);
				struct gso_tcp_train t = { 0 };
				unsigned fit = n;
				for (unsigned i = 0; i < n; i++)
					assert_true(gso_tcp_train_eligible(tr_seg[i], s->l3, tr_len[i], false));
				gso_tcp_train_start(&t, tr_buf, tr_seg[0], s->l3, tr_len[0]);
				for (unsigned i = 1; i < n; i++) {
					if (!gso_tcp_train_append(&t, tr_seg[i], s->l3, tr_len[i])) {
						/* only the 64 KB bound may stop it */
						assert_true(s->l3 + 65535 < t.gtt_len + TR_MSS + 1);
						fit = i;
						break;
					}
				}
				assert_int_equal(t.gtt_n, fit);
				struct vnet_hdr h;
				uint32_t flen;
				const uint8_t *f = gso_tcp_train_finish(&t, &flen, &h);
				assert_ptr_equal(f, tr_buf);
				tr_cut_compare(s, f, flen, &h, fit);
				/* finished: empty, nothing joins */
				assert_int_equal(t.gtt_len, 0);
				assert_false(gso_tcp_train_append(&t, tr_seg[1], s->l3, tr_len[1]));
				assert_null(gso_tcp_train_finish(&t, &flen, &h));
			}
		}
	}
	/* a train of one: the packet itself, where it was, no header */
	const struct shape e = { 14, 0, 0 };
	tr_make(&e, 1, 100, false);
	struct gso_tcp_train t = { 0 };
	gso_tcp_train_start(&t, tr_buf, tr_seg[0], 14, tr_len[0]);
	struct vnet_hdr h = { 1, 1, 1, 1, 1, 1 };
	uint32_t flen;
	assert_ptr_equal(gso_tcp_train_finish(&t, &flen, &h), tr_seg[0]);
	assert_int_equal(flen, tr_len[0]);
	assert_int_equal(h.vh_gso_type | h.vh_flags | h.vh_gso_size | h.vh_hdr_len, 0);
}

/* Each rule broken: the packet is not eligible, or does not join. */
enum tr_break {
	TB_NONE, TB_TOS, TB_TTL, TB_DF, TB_SRC, TB_DST, TB_PROTO_SPORT, TB_DPORT, TB_SEQ, TB_ID,
	TB_ACK, TB_WINDOW, TB_URGPTR, TB_OPTION, TB_PREFIX, TB_LONGER, TB_MAX
};

static void tr_break_second(enum tr_break b, const struct shape *s)
{
	uint8_t *p = tr_seg[1], *ip = p + s->l3, *t = ip + 20;
	switch (b) {
	case TB_NONE: break;
	case TB_TOS: ip[1] ^= 0x04; break;
	case TB_TTL: ip[8]--; break;
	case TB_DF: ip[6] &= (uint8_t)~0x40; break;
	case TB_SRC: ip[15]++; break;
	case TB_DST: ip[19]++; break;
	case TB_PROTO_SPORT: t[1]++; break;
	case TB_DPORT: t[3]++; break;
	case TB_SEQ: t[7]++; break;
	case TB_ID: ip[5]++; break;
	case TB_ACK: t[11]++; break;
	case TB_WINDOW: t[15]++; break;
	case TB_URGPTR: t[19] = 1; break;
	case TB_OPTION: t[23]++; break;
	case TB_PREFIX: p[0] ^= 1; break;
	case TB_LONGER: break;
	case TB_MAX: break;
	}
	fix_csums(p, s->l3, tr_len[1]);
}

static void test_tcp_train_rules(void **state)
{
	(void)state;
	const struct shape s = { 14, 0, 12 };
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	/* continuing: each header difference keeps the second out */
	for (int b = TB_NONE; b < TB_MAX; b++) {
		tr_make(&s, 2, TR_MSS, false);
		if (b == TB_LONGER) {
			/* a first shorter than the second */
			tr_len[0] = build(tr_seg[0], &s, 0xfffe, 0xfffffa00u, 0x10, payload, 1000, 0);
			tr_len[1] = build(tr_seg[1], &s, 0xffff, 0xfffffa00u + 1000, 0x10, payload + 1000,
					  TR_MSS, 0);
		}
		tr_break_second((enum tr_break)b, &s);
		assert_true(gso_tcp_train_eligible(tr_seg[1], s.l3, tr_len[1], false));
		struct gso_tcp_train t = { 0 };
		gso_tcp_train_start(&t, tr_buf, tr_seg[0], s.l3, tr_len[0]);
		uint8_t before[1600];
		memcpy(before, tr_seg[1], tr_len[1]);
		bool joined = gso_tcp_train_append(&t, tr_seg[1], s.l3, tr_len[1]);
		assert_int_equal(joined, b == TB_NONE);
		assert_memory_equal(before, tr_seg[1], tr_len[1]);	/* never written */
		assert_int_equal(t.gtt_n, b == TB_NONE ? 2 : 1);
	}
	/* nothing after a shorter one, nor after PSH; other options' length */
	tr_make(&s, 3, TR_MSS, false);
	tr_len[1] = build(tr_seg[1], &s, 0xffff, 0xfffffa00u + TR_MSS, 0x10, payload + TR_MSS, 500, 0);
	tr_len[2] = build(tr_seg[2], &s, 0, 0xfffffa00u + TR_MSS + 500, 0x10, payload + TR_MSS + 500, 500, 0);
	struct gso_tcp_train t = { 0 };
	gso_tcp_train_start(&t, tr_buf, tr_seg[0], s.l3, tr_len[0]);
	assert_true(gso_tcp_train_append(&t, tr_seg[1], s.l3, tr_len[1]));
	assert_false(gso_tcp_train_append(&t, tr_seg[2], s.l3, tr_len[2]));
	tr_make(&s, 3, TR_MSS, false);
	tr_len[1] = build(tr_seg[1], &s, 0xffff, 0xfffffa00u + TR_MSS, 0x18, payload + TR_MSS, TR_MSS, 0);
	gso_tcp_train_start(&t, tr_buf, tr_seg[0], s.l3, tr_len[0]);
	assert_true(gso_tcp_train_append(&t, tr_seg[1], s.l3, tr_len[1]));	/* PSH: the last */
	assert_false(gso_tcp_train_append(&t, tr_seg[2], s.l3, tr_len[2]));
	tr_make(&s, 1, TR_MSS, true);
	gso_tcp_train_start(&t, tr_buf, tr_seg[0], s.l3, tr_len[0]);	/* a first with PSH */
	tr_make(&s, 2, TR_MSS, false);
	assert_false(gso_tcp_train_append(&t, tr_seg[1], s.l3, tr_len[1]));
	const struct shape s8 = { 14, 0, 8 };
	tr_make(&s, 1, TR_MSS, false);
	gso_tcp_train_start(&t, tr_buf, tr_seg[0], s.l3, tr_len[0]);
	tr_len[1] = build(tr_seg[1], &s8, 0xffff, 0xfffffa00u + TR_MSS, 0x10, payload, TR_MSS - 4, 0);
	assert_true(gso_tcp_train_eligible(tr_seg[1], s.l3, tr_len[1], false));
	assert_false(gso_tcp_train_append(&t, tr_seg[1], s.l3, tr_len[1]));
	/* GSO_TRAIN_MAX segments at most (1-byte payloads: 64 KB is far) */
	const struct shape s0 = { 0, 0, 0 };
	for (unsigned i = 0; i < GSO_TRAIN_MAX + 1; i++)
		tr_len[i] = build(tr_seg[i], &s0, (uint16_t)i, 77 + i, 0x10, payload + i, 1, 0);
	gso_tcp_train_start(&t, tr_buf, tr_seg[0], 0, tr_len[0]);
	for (unsigned i = 1; i < GSO_TRAIN_MAX; i++)
		assert_true(gso_tcp_train_append(&t, tr_seg[i], 0, tr_len[i]));
	assert_false(gso_tcp_train_append(&t, tr_seg[GSO_TRAIN_MAX], 0, tr_len[GSO_TRAIN_MAX]));

	/* eligible: each broken rule refused */
	uint8_t *p = tr_seg[0], *ip = p + 14, *tc = ip + 20;
#define ELIGIBLE_AFTER(change) do { \
		tr_make(&s, 1, TR_MSS, false); \
		change; \
		fix_csums(p, 14, tr_len[0]); \
		assert_false(gso_tcp_train_eligible(p, 14, tr_len[0], false)); \
	} while (0)
	tr_make(&s, 1, TR_MSS, false);
	assert_true(gso_tcp_train_eligible(p, 14, tr_len[0], false));
	ELIGIBLE_AFTER(ip[6] |= 0x20);				/* MF: a fragment */
	ELIGIBLE_AFTER(ip[7] = 8);				/* an offset */
	ELIGIBLE_AFTER(tc[13] = 0x11);				/* FIN */
	ELIGIBLE_AFTER(tc[13] = 0x12);				/* SYN */
	ELIGIBLE_AFTER(tc[13] = 0x14);				/* RST */
	ELIGIBLE_AFTER(tc[13] = 0x30);				/* URG */
	ELIGIBLE_AFTER(tc[13] = 0x50);				/* ECE */
	ELIGIBLE_AFTER(tc[13] = 0x90);				/* CWR */
	ELIGIBLE_AFTER(tc[13] = 0x08);				/* no ACK */
	ELIGIBLE_AFTER(ip[9] = 17);				/* not TCP */
	ELIGIBLE_AFTER(ip[3]--);				/* a byte after the IPv4 packet */
#undef ELIGIBLE_AFTER
	/* no payload */
	tr_len[0] = build(tr_seg[0], &s, 1, 1, 0x10, payload, 0, 0);
	assert_false(gso_tcp_train_eligible(tr_seg[0], 14, tr_len[0], false));
	/* IPv4 options */
	const struct shape so = { 14, 4, 0 };
	tr_len[0] = build(tr_seg[0], &so, 1, 1, 0x10, payload, 100, 0);
	assert_false(gso_tcp_train_eligible(tr_seg[0], 14, tr_len[0], false));
	/* a checksum that does not verify; a partial one: only as csum_good */
	tr_make(&s, 1, TR_MSS, false);
	tr_seg[0][14 + 20 + 40] ^= 1;
	assert_false(gso_tcp_train_eligible(tr_seg[0], 14, tr_len[0], false));
	tr_len[0] = build(tr_seg[0], &s, 1, 1, 0x10, payload, 100, 1);
	assert_false(gso_tcp_train_eligible(tr_seg[0], 14, tr_len[0], false));
	assert_true(gso_tcp_train_eligible(tr_seg[0], 14, tr_len[0], true));
	tr_len[0] = build(tr_seg[0], &s, 1, 1, 0x10, payload, 100, 0);
	assert_false(gso_tcp_train_eligible(tr_seg[0], 14, tr_len[0], true));	/* complete, not partial */
	/* too short for the headers */
	assert_false(gso_tcp_train_eligible(tr_seg[0], 14, 14 + 39, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tso_matches_reference),
		cmocka_unit_test(test_tso_room),
		cmocka_unit_test(test_tso_refuses),
		cmocka_unit_test(test_vnet_hdr_round_trip),
		cmocka_unit_test(test_vnet_check),
		cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_tcp_train_round_trip),
		cmocka_unit_test(test_tcp_train_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
