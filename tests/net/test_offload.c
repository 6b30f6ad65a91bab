/*
 * test_offload — virtio_net_hdr handling: header checks, checksum
 * completion, software TSO (payload, sequence numbers, ids, flags,
 * checksums of every segment), and the router over SOCK_SEQPACKET
 * socketpairs that carry a header like a TAP with IFF_VNET_HDR: a GSO
 * frame to a header-carrying ENI goes on whole with its header, to a
 * plain ENI and to the igw port it arrives cut, complete and NATed; and
 * the engine's uplink's entry to the same code (net_offload_finish).
 * UDP trains: which datagrams may join one, and that the GSO frame a
 * train becomes cuts (as the kernel's UDP segmentation does) back into
 * exactly the datagrams that went in; through the router, a burst from
 * one instance arrives as trains, in order with the frames around them,
 * counted (udp_trains), and nothing joins a train it must not.
 * TCP trains: a burst of segments from one instance arrives as GSO TCP
 * frames that cut (gso_tcp_*) back into exactly the segments, a gap, a
 * broken checksum and another flow each breaking a train, counted
 * (tcp_trains); with them off, segment by segment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/base.h"
#include "net/net_int.h"
#include "base/csum.h"
#include "frames.h"
#include "fixture.h"

#define A_IP IP(10, 96, 0, 10)
#define B_IP IP(10, 96, 1, 20)
#define HDR 10
#define MSS 1448
#define GSO_PAYLOAD 20000

static uint8_t gso[HDR + NET_GSO_FRAME_MAX];

/* A GSO TCP frame (after HDR bytes of header) as an instance's kernel
 * hands it over: payload i % 251, checksum field holding the pseudo-header
 * sum, NEEDS_CSUM, TCPV4 with gso_size MSS. Its frame length. */
static uint32_t
gso_build(uint8_t *buf, const uint8_t *smac, uint32_t src, uint32_t dst, uint16_t sport,
	  uint16_t dport, uint32_t payload, uint8_t flags)
{
	uint8_t *f = buf + HDR;
	struct tframe t = { test_router_mac, smac, src, dst, 6, sport, dport, 0, 0, flags,
			    (uint16_t)payload };
	uint32_t len = tframe_build(f, &t);
	uint8_t *ip = f + 14, *tcp = ip + 20;

	wr16(ip + 4, 0x4000);
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
	wr32(tcp + 4, 0xfffff000);	/* the sequence number wraps inside */
	for (uint32_t i = 0; i < payload; i++)
		tcp[20 + i] = (uint8_t)(i % 251);
	uint32_t pseudo = csum_add_bytes(0, ip + 12, 8) + 6 + (len - 34);
	wr16(tcp + 16, csum_fold(pseudo));
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, payload > MSS ? VNET_GSO_TCPV4 : VNET_GSO_NONE,
			      54, MSS, 34, 16 };
	vnet_hdr_write(buf, HDR, &h);
	return len;
}

/* Checks the segments (frames, or bare IPv4 packets when l3 is 0) of
 * gso_build's frame: sizes, checksums, sequence numbers, payload. */
static void
segments_check(uint8_t *const *segs, const uint32_t *lens, unsigned n, uint32_t l3,
	       uint32_t payload, uint32_t want_src)
{
	uint32_t got = 0;

	assert_int_equal(n, (payload + MSS - 1) / MSS);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *ip = segs[i] + l3, *tcp = ip + 20;
		uint32_t plen = lens[i] - l3 - 40;
		assert_true(plen <= MSS && plen > 0);
		assert_int_equal(rd16(ip + 2), lens[i] - l3);
		assert_int_equal(rd32(ip + 12), want_src);
		assert_true(tl4_csum_ok(ip, lens[i] - l3));
		assert_int_equal(rd32(tcp + 4), (uint32_t)(0xfffff000u + got));
		bool last = i + 1 == n;
		assert_int_equal(tcp[13] & 0x09, last ? 0x09 : 0);	/* FIN|PSH on the last */
		assert_int_equal(tcp[13] & 0x80, i == 0 ? 0x80 : 0);	/* CWR on the first */
		for (uint32_t k = 0; k < plen; k++)
			if (tcp[20 + k] != (uint8_t)((got + k) % 251))
				fail_msg("segment %u byte %u", i, k);
		got += plen;
	}
	assert_int_equal(got, payload);
}

static void
test_vnet_hdr_check_and_csum(void **state)
{
	(void)state;
	struct pkt_meta m;
	struct vnet_hdr h;
	uint32_t len = gso_build(gso, test_router_mac, A_IP, B_IP, 1, 80, 1000, 0x18);

	assert_int_equal(frame_parse(gso + HDR, len, &m), FRAME_IPV4);
	vnet_hdr_read(gso, &h);
	assert_int_equal(h.vh_gso_type, VNET_GSO_NONE);
	assert_true(vnet_hdr_check(&h, &m));
	assert_false(tl4_csum_ok(gso + HDR + 14, len - 14));
	vnet_csum_complete(gso + HDR, &m, &h);
	assert_true(tl4_csum_ok(gso + HDR + 14, len - 14));

	/* what a header may not say */
	struct vnet_hdr bad = h;
	bad.vh_csum_offset = (uint16_t)(len - 34 - 1);
	assert_false(vnet_hdr_check(&bad, &m));		/* field past the end */
	bad = h;
	bad.vh_csum_start = 20;
	assert_false(vnet_hdr_check(&bad, &m));		/* inside the IPv4 header */
	bad = h;
	bad.vh_gso_type = 3;
	assert_false(vnet_hdr_check(&bad, &m));		/* UFO: never enabled */
	bad.vh_gso_type = VNET_GSO_TCPV4;
	bad.vh_gso_size = 0;
	assert_false(vnet_hdr_check(&bad, &m));
	bad.vh_gso_size = MSS;
	bad.vh_flags = 0;
	assert_false(vnet_hdr_check(&bad, &m));		/* TSO without partial checksum */
	bad.vh_flags = VNET_F_NEEDS_CSUM;
	bad.vh_gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN;
	assert_true(vnet_hdr_check(&bad, &m));
	/* TSO of a UDP packet */
	uint8_t u[NET_FRAME_MAX];
	struct tframe t = { test_router_mac, test_router_mac, A_IP, B_IP, 17, 1, 2, 0, 0, 0, 100 };
	uint32_t ulen = tframe_build(u, &t);
	assert_int_equal(frame_parse(u, ulen, &m), FRAME_IPV4);
	bad.vh_csum_start = 34;
	bad.vh_csum_offset = 6;
	assert_false(vnet_hdr_check(&bad, &m));
	/* UDP completion: 0 becomes 0xffff; fast sum equals the plain one */
	uint8_t r[999];
	for (size_t i = 0; i < sizeof(r); i++)
		r[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n < sizeof(r); n += 37)
		assert_int_equal(csum_fold(csum_add_fast(5, r, n)), csum_fold(csum_add_bytes(5, r, n)));
}

static void
test_tso(void **state)
{
	(void)state;
	static uint8_t out[64][NET_FRAME_MAX];
	uint8_t *segs[64];
	uint32_t lens[64];
	struct pkt_meta m;
	struct gso_tcp_iter it;
	const uint32_t sizes[] = { GSO_PAYLOAD, MSS + 1, 2 * MSS, 60000 / 40 * 40 };

	for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
		uint32_t len = gso_build(gso, test_router_mac, A_IP, B_IP, 1, 80, sizes[s], 0x80 | 0x19);
		assert_int_equal(frame_parse(gso + HDR, len, &m), FRAME_IPV4);
		assert_true(tso_init(&it, gso + HDR, &m, MSS));
		unsigned n = 0;
		while (n < 64 && (lens[n] = gso_tcp_next(&it, out[n])) > 0) {
			segs[n] = out[n];
			assert_int_equal(rd16(out[n] + 14 + 4), (uint16_t)(0x4000 + n));
			n++;
		}
		segments_check(segs, lens, n, 14, sizes[s], A_IP);
	}
	/* a frame with no payload: one segment, the headers */
	uint32_t len = gso_build(gso, test_router_mac, A_IP, B_IP, 1, 80, 0, 0x11);
	assert_int_equal(frame_parse(gso + HDR, len, &m), FRAME_IPV4);
	assert_true(tso_init(&it, gso + HDR, &m, MSS));
	assert_int_equal(gso_tcp_next(&it, out[0]), 54);
	assert_true(tl4_csum_ok(out[0] + 14, 40));
	assert_int_equal(gso_tcp_next(&it, out[1]), 0);
	assert_false(tso_init(&it, gso + HDR, &m, 0));
}

/* --- net_offload_finish: the engine's uplink's caller ---------------------- */

/* What the uplink reads (an AF_PACKET socket with PACKET_VNET_HDR: header,
 * Ethernet, IPv4) finished into the bare IPv4 packets a port hands the
 * router, by the same code as the router's TAPs: the segments are the
 * router's own (gso_tcp_next's) without the Ethernet header; a partial TCP or
 * UDP checksum completed; a frame without offload copied without padding;
 * a header the packet contradicts dropped. Also from a bare packet
 * (l3_off 0). */
static void
test_offload_finish(void **state)
{
	(void)state;
	static uint8_t out[64][NET_PKT_MAX], frames[64][NET_FRAME_MAX];
	uint8_t *segs[64];
	uint32_t lens[64], flens[64];
	struct pkt_meta m;
	struct gso_tcp_iter it;

	for (unsigned i = 0; i < 64; i++)
		segs[i] = out[i];
	/* GSO: the router's segments, less the Ethernet header */
	uint32_t len = gso_build(gso, test_router_mac, A_IP, B_IP, 1, 80, GSO_PAYLOAD, 0x80 | 0x19);
	assert_int_equal(frame_parse(gso + HDR, len, &m), FRAME_IPV4);
	assert_true(tso_init(&it, gso + HDR, &m, MSS));
	unsigned fn = 0;
	while (fn < 64 && (flens[fn] = gso_tcp_next(&it, frames[fn])) > 0)
		fn++;
	unsigned n = net_offload_finish(gso + HDR, len, 14, gso, segs, lens, 64);
	segments_check(segs, lens, n, 0, GSO_PAYLOAD, A_IP);
	assert_int_equal(n, fn);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(lens[i], flens[i] - 14);
		assert_memory_equal(out[i], frames[i] + 14, lens[i]);
	}
	/* fewer slots than segments: as many as there is room for, in order */
	assert_int_equal(net_offload_finish(gso + HDR, len, 14, gso, segs, lens, 3), 3);
	assert_int_equal(rd32(out[2] + 24), 0xfffff000u + 2 * MSS);
	/* a bare packet (l3_off 0) gives the same */
	assert_int_equal(net_offload_finish(gso + HDR + 14, len - 14, 0, gso, segs, lens, 64), fn);
	segments_check(segs, lens, fn, 0, GSO_PAYLOAD, A_IP);
	/* gso_size above what one port packet holds: segments of NET_PKT_MAX */
	len = gso_build(gso, test_router_mac, A_IP, B_IP, 1, 80, 9000, 0x18);
	struct vnet_hdr h;
	vnet_hdr_read(gso, &h);
	h.vh_gso_size = 8000;
	vnet_hdr_write(gso, HDR, &h);
	n = net_offload_finish(gso + HDR, len, 14, gso, segs, lens, 64);
	assert_int_equal(n, (9000 + (NET_PKT_MAX - 40) - 1) / (NET_PKT_MAX - 40));
	assert_int_equal(lens[0], NET_PKT_MAX);
	for (unsigned i = 0; i < n; i++)
		assert_true(tl4_csum_ok(out[i], lens[i]));

	/* a partial TCP checksum, no GSO: completed, one packet */
	len = gso_build(gso, test_router_mac, A_IP, B_IP, 1, 80, 1000, 0x18);
	assert_false(tl4_csum_ok(gso + HDR + 14, len - 14));
	assert_int_equal(net_offload_finish(gso + HDR, len, 14, gso, segs, lens, 64), 1);
	assert_int_equal(lens[0], len - 14);
	assert_true(tl4_csum_ok(out[0], lens[0]));

	/* a partial UDP checksum (the pseudo-header sum in the field) */
	uint8_t u[HDR + NET_FRAME_MAX];
	struct tframe t = { test_router_mac, test_router_mac, A_IP, B_IP, 17, 5353, 53, 0, 0, 0, 300 };
	uint32_t ulen = tframe_build(u + HDR, &t);
	uint8_t *uip = u + HDR + 14;
	for (uint32_t i = 0; i < 300; i++)
		uip[28 + i] = (uint8_t)(i * 13 + 1);
	wr16(uip + 26, csum_fold(csum_add_bytes(0, uip + 12, 8) + 17 + (ulen - 34)));
	struct vnet_hdr uh = { VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 34, 6 };
	vnet_hdr_write(u, HDR, &uh);
	assert_false(tl4_csum_ok(uip, ulen - 14));
	assert_int_equal(net_offload_finish(u + HDR, ulen, 14, u, segs, lens, 64), 1);
	assert_int_equal(lens[0], ulen - 14);
	assert_true(tl4_csum_ok(out[0], lens[0]));
	/* GSO claimed for UDP: the header contradicts the packet, dropped */
	uh.vh_gso_type = VNET_GSO_TCPV4;
	uh.vh_gso_size = 100;
	vnet_hdr_write(u, HDR, &uh);
	assert_int_equal(net_offload_finish(u + HDR, ulen, 14, u, segs, lens, 64), 0);
	/* the checksum field inside the IPv4 header: dropped */
	uh = (struct vnet_hdr){ VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 6 };
	vnet_hdr_write(u, HDR, &uh);
	assert_int_equal(net_offload_finish(u + HDR, ulen, 14, u, segs, lens, 64), 0);
	/* an offload on a packet with a broken IPv4 header checksum: dropped */
	uh = (struct vnet_hdr){ VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 34, 6 };
	vnet_hdr_write(u, HDR, &uh);
	uip[10] ^= 0x55;
	assert_int_equal(net_offload_finish(u + HDR, ulen, 14, u, segs, lens, 64), 0);
	uip[10] ^= 0x55;

	/* no offload: copied as the total length says (the padding left),
	 * checked by the router's parse later, not here */
	uint8_t p[HDR + 64];
	memset(p, 0, sizeof(p));
	struct tframe pt = { test_router_mac, test_router_mac, A_IP, B_IP, 6, 1, 2, 0, 0, 0x10, 0 };
	uint32_t plen = tframe_build(p + HDR, &pt);
	assert_int_equal(plen, 54);
	assert_int_equal(net_offload_finish(p + HDR, 60, 14, p, segs, lens, 64), 1);
	assert_int_equal(lens[0], 40);
	assert_memory_equal(out[0], p + HDR + 14, 40);
	/* too short for an IPv4 header, a length past the frame, no room */
	assert_int_equal(net_offload_finish(p + HDR, 14 + 19, 14, p, segs, lens, 64), 0);
	wr16(p + HDR + 14 + 2, 100);
	assert_int_equal(net_offload_finish(p + HDR, 60, 14, p, segs, lens, 64), 0);
	wr16(p + HDR + 14 + 2, 40);
	assert_int_equal(net_offload_finish(p + HDR, 60, 14, p, segs, lens, 0), 0);
}

/* --- the router with header-carrying "TAPs" ------------------------------- */

struct rig {
	int a[2], b[2], c[2], igw[2];
	struct fixture fx;
	struct net_router *r;
};

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int big = 1 << 21;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

static void
rig_apply(struct rig *g, int b_hdr)
{
	char err[128];

	g->fx.enis[0].vnet_hdr = HDR;
	g->fx.enis[1].vnet_hdr = b_hdr;
	if (net_router_apply(g->r, &g->fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
}

static int
rig_setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));

	pair(g->a);
	pair(g->b);
	pair(g->c);
	pair(g->igw);
	fixture_init(&g->fx, &net_port_fd_ops, (void *)(intptr_t)g->igw[0], g->igw[0]);
	g->fx.enis[0].tap_fd = g->a[0];
	g->fx.enis[1].tap_fd = g->b[0];
	g->fx.enis[2].tap_fd = g->c[0];
	g->r = net_router_new(NULL);
	assert_non_null(g->r);
	rig_apply(g, HDR);
	assert_int_equal(net_router_start(g->r), 0);
	*state = g;
	return 0;
}

static int
rig_teardown(void **state)
{
	struct rig *g = *state;

	net_router_free(g->r);
	int *fds[] = { g->a, g->b, g->c, g->igw };
	for (size_t i = 0; i < 4; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	free(g);
	return 0;
}

static int
recv_one(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return (int)recv(fd, buf, cap, 0);
}

static void
test_router_gso(void **state)
{
	struct rig *g = *state;
	static uint8_t got[HDR + NET_GSO_FRAME_MAX];
	static uint8_t segbuf[64][NET_FRAME_MAX];
	uint8_t *segs[64];
	uint32_t lens[64];

	/* a -> b:80, both with headers: one message, header unchanged */
	uint32_t len = gso_build(gso, MAC_A, A_IP, B_IP, 40000, 80, GSO_PAYLOAD, 0x80 | 0x19);
	assert_int_equal(write(g->a[1], gso, HDR + len), (ssize_t)(HDR + len));
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 2000), (int)(HDR + len));
	assert_memory_equal(got, gso, HDR);
	assert_memory_equal(got + HDR, MAC_B, 6);
	assert_memory_equal(got + HDR + 12, gso + HDR + 12, len - 12);

	/* b without a header: the same frame arrives cut, each complete */
	rig_apply(g, -1);
	assert_int_equal(write(g->a[1], gso, HDR + len), (ssize_t)(HDR + len));
	unsigned n = 0;
	int l;
	while (n < 64 && (l = recv_one(g->b[1], segbuf[n], NET_FRAME_MAX, n ? 200 : 2000)) > 0) {
		assert_true(l <= 1514);
		assert_memory_equal(segbuf[n], MAC_B, 6);
		segs[n] = segbuf[n];
		lens[n++] = (uint32_t)l;
	}
	segments_check(segs, lens, n, 14, GSO_PAYLOAD, A_IP);
	/* and a small partial-checksum frame arrives complete */
	uint32_t small = gso_build(gso, MAC_A, A_IP, B_IP, 40000, 80, 300, 0x18);
	assert_int_equal(write(g->a[1], gso, HDR + small), (ssize_t)(HDR + small));
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 2000), (int)small);
	assert_true(tl4_csum_ok(got + 14, small - 14));

	/* a plain b to a with a header: a zero header in front */
	struct tframe t = { test_router_mac, MAC_B, B_IP, A_IP, 6, 80, 40000, 0, 0, 0x12, 10 };
	uint8_t f[NET_FRAME_MAX];
	uint32_t fl = tframe_build(f, &t);
	assert_int_equal(write(g->b[1], f, fl), (ssize_t)fl);
	assert_int_equal(recv_one(g->a[1], got, sizeof(got), 2000), (int)(HDR + fl));
	static const uint8_t zero[HDR];
	assert_memory_equal(got, zero, HDR);
	assert_memory_equal(got + HDR + 12, f + 12, fl - 12);

	/* ARP through a header-carrying TAP */
	fl = tarp_request(f + HDR, MAC_A, A_IP, IP(10, 96, 0, 1));
	memset(f, 0, HDR);
	assert_int_equal(write(g->a[1], f, HDR + fl), (ssize_t)(HDR + fl));
	assert_int_equal(recv_one(g->a[1], got, sizeof(got), 2000), HDR + 42);
	assert_memory_equal(got + HDR + 22, test_router_mac, 6);

	/* b with a header again, to the internet through the igw: plain
	 * IPv4 segments, NATed to b's public address, checksums complete */
	rig_apply(g, HDR);
	len = gso_build(gso, MAC_B, B_IP, IP(198, 51, 100, 7), 443, 6000, GSO_PAYLOAD, 0x80 | 0x19);
	assert_int_equal(write(g->b[1], gso, HDR + len), (ssize_t)(HDR + len));
	n = 0;
	while (n < 64 && (l = recv_one(g->igw[1], segbuf[n], NET_FRAME_MAX, n ? 200 : 2000)) > 0) {
		assert_true(l <= 1500);
		segs[n] = segbuf[n];
		lens[n++] = (uint32_t)l;
	}
	segments_check(segs, lens, n, 0, GSO_PAYLOAD, IP(203, 0, 113, 20));

	/* a header that lies: dropped as bad-frame, nothing delivered */
	len = gso_build(gso, MAC_A, A_IP, B_IP, 40000, 80, GSO_PAYLOAD, 0x18);
	gso[1] = 3;	/* UFO */
	assert_int_equal(write(g->a[1], gso, HDR + len), (ssize_t)(HDR + len));
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 300), -1);
	/* shorter than the header */
	assert_int_equal(write(g->a[1], gso, 4), 4);
	struct net_counters k;
	for (int i = 0; i < 200; i++) {
		net_router_counters(g->r, &k);
		if (k.drops[NET_DROP_BAD_FRAME] == 2)
			break;
		usleep(10000);
	}
	assert_int_equal(k.drops[NET_DROP_BAD_FRAME], 2);
	assert_int_equal(k.gso_rx, 3);
	assert_int_equal(k.sw_segments, 2 * ((GSO_PAYLOAD + MSS - 1) / MSS));
	assert_int_equal(k.drops[NET_DROP_TX_ERROR], 0);
}

/* One batch from b: a GSO frame to the internet (cut into segments that
 * wait for the igw port's flush) and then one to a plain ENI (cut and
 * written at once): each destination gets its own segments, whole. The
 * second cut must not reuse the buffers the first one's segments wait in
 * (they would leave by the igw carrying the other flow's bytes). */
static void
test_router_gso_two_cuts(void **state)
{
	struct rig *g = *state;
	static uint8_t segbuf[64][NET_FRAME_MAX];
	uint8_t *segs[64];
	uint32_t lens[64];
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX + HDR];
	char err[128];

	g->fx.enis[0].vnet_hdr = -1;	/* a plain */
	g->fx.enis[1].vnet_hdr = HDR;
	if (net_router_apply(g->r, &g->fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	/* a -> b:80 first, so that b's answers to a are tracked */
	struct tframe t = { test_router_mac, MAC_A, A_IP, B_IP, 6, 40000, 80, 0, 0, 0x02, 0 };
	uint32_t fl = tframe_build(f, &t);
	assert_int_equal(write(g->a[1], f, fl), (ssize_t)fl);
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 2000), (int)(HDR + fl));

	net_router_stop(g->r);
	uint32_t len = gso_build(gso, MAC_B, B_IP, IP(198, 51, 100, 7), 443, 6000, GSO_PAYLOAD, 0x80 | 0x19);
	assert_int_equal(write(g->b[1], gso, HDR + len), (ssize_t)(HDR + len));
	len = gso_build(gso, MAC_B, B_IP, A_IP, 80, 40000, GSO_PAYLOAD, 0x80 | 0x19);
	assert_int_equal(write(g->b[1], gso, HDR + len), (ssize_t)(HDR + len));
	assert_int_equal(net_router_start(g->r), 0);

	unsigned n = 0;
	int l;
	while (n < 64 && (l = recv_one(g->igw[1], segbuf[n], NET_FRAME_MAX, n ? 200 : 2000)) > 0) {
		segs[n] = segbuf[n];
		lens[n++] = (uint32_t)l;
	}
	segments_check(segs, lens, n, 0, GSO_PAYLOAD, IP(203, 0, 113, 20));
	n = 0;
	while (n < 64 && (l = recv_one(g->a[1], segbuf[n], NET_FRAME_MAX, n ? 200 : 2000)) > 0) {
		assert_memory_equal(segbuf[n], MAC_A, 6);
		segs[n] = segbuf[n];
		lens[n++] = (uint32_t)l;
	}
	segments_check(segs, lens, n, 14, GSO_PAYLOAD, B_IP);
}

/* --- UDP trains ----------------------------------------------------------- */

#define UPORT 5299

/* A UDP datagram a -> b:UPORT (after HDR bytes of header) as an
 * instance's kernel with checksum offload hands it over: DF, IPv4 id id,
 * payload bytes fill + i, the checksum field holding the pseudo-header
 * sum, NEEDS_CSUM at UDP's field. Its frame length. */
static uint32_t
udp_build(uint8_t *buf, uint16_t sport, uint16_t id, uint16_t payload, uint8_t fill)
{
	uint8_t *f = buf + HDR;
	struct tframe t = { test_router_mac, MAC_A, A_IP, B_IP, 17, sport, UPORT, 0, 0, 0, payload };
	uint32_t len = tframe_build(f, &t);
	uint8_t *ip = f + 14, *udp = ip + 20;

	wr16(ip + 4, id);
	wr16(ip + 6, 0x4000);
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
	for (uint32_t i = 0; i < payload; i++)
		udp[8 + i] = (uint8_t)(fill + i);
	wr16(udp + 6, csum_fold(csum_pseudo_ipv4(ip, 17, 8u + payload)));
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 42, 0, 34, 6 };
	vnet_hdr_write(buf, HDR, &h);
	return len;
}

/* Cuts a GSO UDP frame (header h) as the receiving kernel does
 * (__udp_gso_segment, inet_gso_segment): segment i has the headers with
 * the id + i, its own lengths, the IPv4 checksum and the pseudo-header
 * sum for its length; the payload's next gso_size bytes. Compares each
 * with want[i] (frames of want_len[i] bytes). */
static void
train_cut_check(const uint8_t *gf, uint32_t glen, const struct vnet_hdr *h, uint8_t *const *want,
		const uint32_t *want_len, unsigned n)
{
	uint8_t seg[NET_FRAME_MAX];
	uint32_t hl = 42, pos = hl;

	assert_int_equal(h->vh_flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h->vh_gso_type, VNET_GSO_UDP_L4);
	assert_int_equal(h->vh_hdr_len, hl);
	assert_int_equal(h->vh_csum_start, 34);
	assert_int_equal(h->vh_csum_offset, 6);
	assert_int_equal(rd16(gf + 14 + 2), glen - 14);
	assert_int_equal(csum_fold(csum_add_bytes(0, gf + 14, 20)), 0xffff);
	assert_int_equal(rd16(gf + 34 + 4), glen - 34);
	assert_int_equal(rd16(gf + 34 + 6), csum_fold(csum_pseudo_ipv4(gf + 14, 17, glen - 34)));
	for (unsigned i = 0; i < n; i++) {
		uint32_t plen = glen - pos < h->vh_gso_size ? glen - pos : h->vh_gso_size;
		uint8_t *ip = seg + 14, *udp = seg + 34;
		memcpy(seg, gf, hl);
		memcpy(seg + hl, gf + pos, plen);
		wr16(ip + 2, (uint16_t)(20 + 8 + plen));
		wr16(ip + 4, (uint16_t)(rd16(gf + 14 + 4) + i));
		wr16(ip + 10, 0);
		wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
		wr16(udp + 4, (uint16_t)(8 + plen));
		wr16(udp + 6, csum_fold(csum_pseudo_ipv4(ip, 17, 8 + plen)));
		assert_int_equal(hl + plen, want_len[i]);
		if (memcmp(seg, want[i], want_len[i]) != 0)
			fail_msg("segment %u differs from the datagram that went in", i);
		pos += plen;
	}
	assert_int_equal(pos, glen);
}

static void
test_udp_train(void **state)
{
	(void)state;
	static uint8_t bufs[UDP_TRAIN_MAX + 2][HDR + NET_GSO_FRAME_MAX];
	static uint8_t orig[UDP_TRAIN_MAX + 2][NET_FRAME_MAX];
	uint8_t *want[UDP_TRAIN_MAX + 2];
	uint32_t lens[UDP_TRAIN_MAX + 2];
	struct pkt_meta m[UDP_TRAIN_MAX + 2];
	struct vnet_hdr h;
	struct udp_train t;

	/* 10 of 100 bytes, one of 37: a train of 11 */
	for (unsigned i = 0; i < 11; i++) {
		lens[i] = udp_build(bufs[i], 40000, (uint16_t)(0xfffa + i), i < 10 ? 100 : 37,
				    (uint8_t)(i * 11));
		memcpy(orig[i], bufs[i] + HDR, lens[i]);
		want[i] = orig[i];
		assert_int_equal(frame_parse(bufs[i] + HDR, lens[i], &m[i]), FRAME_IPV4);
		vnet_hdr_read(bufs[i], &h);
		assert_true(udp_train_eligible(bufs[i] + HDR, &m[i], &h));
	}
	udp_train_start(&t, bufs[0] + HDR, &m[0]);
	for (unsigned i = 1; i < 11; i++)
		assert_true(udp_train_append(&t, bufs[i] + HDR, &m[i]));	/* the id wraps inside */
	assert_int_equal(t.ut_segs, 11);
	/* after a shorter one nothing follows, not even one of its size */
	uint8_t more[HDR + NET_FRAME_MAX];
	struct pkt_meta mm;
	uint32_t ml = udp_build(more, 40000, (uint16_t)(0xfffa + 11), 37, 0);
	assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
	assert_false(udp_train_append(&t, more + HDR, &mm));
	udp_train_finish(&t, &h);
	train_cut_check(bufs[0] + HDR, t.ut_len, &h, want, lens, 11);

	/* what may not join a train of 100-byte datagrams */
	for (unsigned i = 0; i < 2; i++) {
		lens[i] = udp_build(bufs[i], 40000, (uint16_t)(7 + i), 100, 0);
		assert_int_equal(frame_parse(bufs[i] + HDR, lens[i], &m[i]), FRAME_IPV4);
	}
	udp_train_start(&t, bufs[0] + HDR, &m[0]);
	struct { uint16_t sport, id, payload; int ip_byte; uint8_t ip_val; } no[] = {
		{ 40000, 9, 100, -1, 0 },	/* an id that is not the next */
		{ 40001, 8, 100, -1, 0 },	/* another flow */
		{ 40000, 8, 101, -1, 0 },	/* longer than the first */
		{ 40000, 8, 100, 8, 63 },	/* another TTL */
		{ 40000, 8, 100, 1, 0x04 },	/* another TOS (ECN) */
		{ 40000, 8, 100, 6, 0x00 },	/* without DF */
	};
	for (size_t k = 0; k < ARRAY_LEN(no); k++) {
		ml = udp_build(more, no[k].sport, no[k].id, no[k].payload, 0);
		uint8_t *ip = more + HDR + 14;
		if (no[k].ip_byte >= 0) {
			ip[no[k].ip_byte] = no[k].ip_val;
			wr16(ip + 10, 0);
			wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
		}
		assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
		if (udp_train_append(&t, more + HDR, &mm))
			fail_msg("case %zu joined the train", k);
	}
	assert_int_equal(t.ut_segs, 1);
	assert_true(udp_train_append(&t, bufs[1] + HDR, &m[1]));
	/* at most UDP_TRAIN_MAX */
	udp_train_start(&t, bufs[0] + HDR, &m[0]);
	for (unsigned i = 1; i <= UDP_TRAIN_MAX; i++) {
		ml = udp_build(more, 40000, (uint16_t)(7 + i), 100, 0);
		assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
		assert_int_equal(udp_train_append(&t, more + HDR, &mm), i < UDP_TRAIN_MAX);
	}

	/* what cannot be in a train at all */
	ml = udp_build(more, 40000, 1, 100, 0);
	assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
	vnet_hdr_read(more, &h);
	struct vnet_hdr bad = h;
	bad.vh_flags = 0;
	assert_false(udp_train_eligible(more + HDR, &mm, &bad));	/* checksum complete */
	bad = h;
	bad.vh_csum_offset = 4;
	assert_false(udp_train_eligible(more + HDR, &mm, &bad));
	wr16(more + HDR + 34 + 6, (uint16_t)(rd16(more + HDR + 34 + 6) + 1));
	assert_false(udp_train_eligible(more + HDR, &mm, &h));	/* not the pseudo-header sum */
	ml = udp_build(more, 40000, 1, 0, 0);
	assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
	assert_false(udp_train_eligible(more + HDR, &mm, &h));	/* no payload */
	ml = udp_build(more, 40000, 1, 100, 0);
	wr16(more + HDR + 34 + 4, 100);				/* bytes after the datagram */
	wr16(more + HDR + 34 + 6, csum_fold(csum_pseudo_ipv4(more + HDR + 14, 17, 100)));
	assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
	assert_false(udp_train_eligible(more + HDR, &mm, &h));
	struct tframe tcp = { test_router_mac, MAC_A, A_IP, B_IP, 6, 1, 2, 0, 0, 0x10, 100 };
	ml = tframe_build(more + HDR, &tcp);
	assert_int_equal(frame_parse(more + HDR, ml, &mm), FRAME_IPV4);
	bad = h;
	bad.vh_csum_offset = 16;
	assert_false(udp_train_eligible(more + HDR, &mm, &bad));	/* TCP */

	/* which kernels' TAPs take them: 6.2 on */
	assert_false(udp_trains_supported("6.1.0-18-amd64"));
	assert_false(udp_trains_supported("5.10.0"));
	assert_true(udp_trains_supported("6.2.0"));
	assert_true(udp_trains_supported("6.18.44-fc-v1300"));
	assert_true(udp_trains_supported("7.0"));
	assert_false(udp_trains_supported("linux"));
	assert_false(udp_trains_supported(""));
}

static bool
kernel_takes_trains(void)
{
	struct utsname u;

	return uname(&u) == 0 && udp_trains_supported(u.release);
}

/* Through the router: a burst from a, queued before the router starts
 * (one read batch): 30 datagrams and a shorter one (a train of 31), 9
 * more (a train of 9; none may join after the shorter one), a TCP
 * segment, 5 more (a train of 5: the TCP frame ended the one before, and
 * stays between them), one after a gap in the ids and one of another
 * flow (each alone, as they came). */
#define BURST_FRAMES 47
static uint8_t burst_in[BURST_FRAMES][HDR + NET_FRAME_MAX];
static uint8_t *burst_want[BURST_FRAMES];
static uint32_t burst_lens[BURST_FRAMES];

/* Writes the burst into a's test end; burst_want[i] (burst_lens[i]
 * bytes) is frame i as it must reach b (MACs rewritten). */
static void
burst_queue(int a_test)
{
	unsigned n = 0;
	uint16_t id = 100;
	uint8_t **want = burst_want;
	uint32_t *lens = burst_lens;
	uint8_t (*in)[HDR + NET_FRAME_MAX] = burst_in;

	for (unsigned i = 0; i < BURST_FRAMES; i++) {
		if (i == 40) {		/* the TCP segment */
			struct tframe t = { test_router_mac, MAC_A, A_IP, B_IP, 6, 40000, 80, 0, 0, 0x10, 10 };
			memset(in[n], 0, HDR);
			lens[n] = tframe_build(in[n] + HDR, &t);
		} else {
			uint16_t payload = i == 30 ? 50 : 100;
			if (i == 45)
				id++;	/* a gap */
			lens[n] = udp_build(in[n], i == 46 ? 40001 : 40000, id++, payload, (uint8_t)i);
		}
		assert_int_equal(write(a_test, in[n], HDR + lens[n]), (ssize_t)(HDR + lens[n]));
		/* as it must arrive: MACs rewritten */
		memcpy(in[n] + HDR, MAC_B, 6);
		memcpy(in[n] + HDR + 6, test_router_mac, 6);
		want[n] = in[n] + HDR;
		n++;
	}
}

/* The rig of the train tests: a and b with headers, b taking UDP UPORT;
 * UDP trains on or off, TCP trains off or on (tcp). */
static struct net_router *
trains_rig_tcp(struct fixture *fx, int a, int b, int c, bool trains, bool tcp)
{
	char err[128];
	struct net_router_config rc = { .no_udp_trains = !trains, .no_tcp_trains = !tcp };

	fixture_init(fx, NULL, NULL, -1);
	fx->web_rules[1] = (struct net_sg_rule_config){ false, 17, UPORT, UPORT, { 0, 0 }, "", "" };
	fx->enis[0].tap_fd = a;
	fx->enis[1].tap_fd = b;
	fx->enis[2].tap_fd = c;
	fx->enis[0].vnet_hdr = HDR;
	fx->enis[1].vnet_hdr = HDR;
	struct net_router *r = net_router_new(&rc);
	assert_non_null(r);
	if (net_router_apply(r, &fx->cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	return r;
}

static struct net_router *
trains_rig(struct fixture *fx, int a, int b, int c, bool trains)
{
	return trains_rig_tcp(fx, a, b, c, trains, true);
}

/* The counters once tx_frames + tx-error reach want. */
static void
counters_when(struct net_router *r, uint64_t want, struct net_counters *k)
{
	for (int i = 0; i < 2000; i++) {
		net_router_counters(r, k);
		if (k->tx_frames + k->drops[NET_DROP_TX_ERROR] >= want)
			return;
		usleep(1000);
	}
}

/* The burst arrives at b as single frames, in order, as they were sent. */
static void
burst_expect_singles(int b_test)
{
	static uint8_t got[HDR + NET_GSO_FRAME_MAX];

	for (unsigned i = 0; i < BURST_FRAMES; i++) {
		int l = recv_one(b_test, got, sizeof(got), 2000);
		if (l < HDR)
			fail_msg("frame %u did not arrive", i);
		struct vnet_hdr h;
		vnet_hdr_read(got, &h);
		assert_int_equal(h.vh_gso_type, VNET_GSO_NONE);
		assert_int_equal(l - HDR, burst_lens[i]);
		assert_memory_equal(got + HDR, burst_want[i], burst_lens[i]);
	}
	assert_int_equal(recv_one(b_test, got, sizeof(got), 200), -1);
}

static void
test_router_udp_trains(void **state)
{
	(void)state;
	int a[2], b[2], c[2];
	struct fixture fx;
	static uint8_t got[HDR + NET_GSO_FRAME_MAX];
	uint8_t **want = burst_want;
	uint32_t *lens = burst_lens;
	struct net_counters k;

	if (!kernel_takes_trains())
		skip();		/* the router keeps them off there (test_router_udp_trains_off) */
	pair(a);
	pair(b);
	pair(c);
	struct net_router *r = trains_rig(&fx, a[0], b[0], c[0], true);
	burst_queue(a[1]);
	assert_int_equal(net_router_start(r), 0);

	/* (frames in, GSO or not) in the order they must arrive */
	const struct { unsigned first, count; bool gso; } out[] = {
		{ 0, 31, true }, { 31, 9, true }, { 40, 1, false }, { 41, 4, true }, { 45, 1, false },
		{ 46, 1, false },
	};
	for (size_t o = 0; o < ARRAY_LEN(out); o++) {
		int l = recv_one(b[1], got, sizeof(got), 2000);
		if (l < HDR)
			fail_msg("write %zu of %zu did not arrive", o, ARRAY_LEN(out));
		struct vnet_hdr h;
		vnet_hdr_read(got, &h);
		if (out[o].gso) {
			train_cut_check(got + HDR, (uint32_t)l - HDR, &h, want + out[o].first,
					lens + out[o].first, out[o].count);
		} else {
			assert_int_equal(h.vh_gso_type, VNET_GSO_NONE);
			assert_int_equal(l - HDR, lens[out[o].first]);
			assert_memory_equal(got + HDR, want[out[o].first], lens[out[o].first]);
		}
	}
	assert_int_equal(recv_one(b[1], got, sizeof(got), 200), -1);
	counters_when(r, 47, &k);
	assert_int_equal(k.rx_frames, 47);
	assert_int_equal(k.tx_frames, 47);	/* each datagram of a train counts */
	assert_int_equal(k.udp_trains, 3);
	assert_int_equal(k.udp_train_frames, 31 + 9 + 4);
	assert_int_equal(k.drops[NET_DROP_TX_ERROR], 0);
	net_router_free(r);
	int *fds[] = { a, b, c };
	for (size_t i = 0; i < 3; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

/* Trains off: by configuration, the same burst arrives datagram by
 * datagram; and a TAP that refuses a train (here an eventfd: EINVAL for
 * any write that is not 8 bytes, as a TAP before 6.2 answers a UDP GSO
 * frame) turns them off for good: the next burst, to a working fd, comes
 * whole datagram by datagram, no train counted. */
static void
test_router_udp_trains_off(void **state)
{
	(void)state;
	int a[2], b[2], c[2];
	struct fixture fx;
	struct net_counters k;
	char err[128];

	pair(a);
	pair(b);
	pair(c);
	struct net_router *r = trains_rig(&fx, a[0], b[0], c[0], false);
	burst_queue(a[1]);
	assert_int_equal(net_router_start(r), 0);
	burst_expect_singles(b[1]);
	counters_when(r, BURST_FRAMES, &k);
	assert_int_equal(k.tx_frames, BURST_FRAMES);
	assert_int_equal(k.udp_trains, 0);
	assert_int_equal(k.udp_train_frames, 0);
	net_router_free(r);

	int refusing = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(refusing >= 0);
	r = trains_rig(&fx, a[0], refusing, c[0], true);
	burst_queue(a[1]);
	assert_int_equal(net_router_start(r), 0);
	counters_when(r, BURST_FRAMES, &k);
	assert_int_equal(k.drops[NET_DROP_TX_ERROR], BURST_FRAMES);
	assert_int_equal(k.udp_trains, 0);
	net_router_stop(r);
	fx.enis[1].tap_fd = b[0];
	if (net_router_apply(r, &fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	burst_queue(a[1]);
	assert_int_equal(net_router_start(r), 0);
	burst_expect_singles(b[1]);
	counters_when(r, 2 * BURST_FRAMES, &k);
	assert_int_equal(k.tx_frames, BURST_FRAMES);
	assert_int_equal(k.udp_trains, 0);
	net_router_free(r);
	close(refusing);
	int *fds[] = { a, b, c };
	for (size_t i = 0; i < 3; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

/* TCP trains through the router. A burst from a to b (port 80), queued
 * before the router starts (one read batch), each segment with a zero
 * header and complete checksums (as from a port's ring, or a TAP
 * without offloads): 20 of one flow in a row (a train of 20), a gap in
 * the sequence numbers (the 4 from there: a train of 4), one whose
 * checksum does not verify (alone, as it came), a full one and a shorter
 * last (a train of 2), one of another flow (alone). */
#define TBURST 28
static uint8_t tburst_in[TBURST][HDR + NET_FRAME_MAX];
static uint8_t *tburst_want[TBURST];
static uint32_t tburst_lens[TBURST];

static void
tburst_queue(int a_test)
{
	uint32_t seq = 0xfffff000;	/* wraps inside the first train */
	uint16_t id = 0xfff8;		/* so does the id */

	for (unsigned i = 0; i < TBURST; i++) {
		uint16_t payload = i == 26 ? 500 : MSS;
		struct tframe t = { test_router_mac, MAC_A, A_IP, B_IP, 6, i == 27 ? 40001 : 40000, 80,
				    0, 0, 0x10, payload };
		uint8_t *f = tburst_in[i] + HDR, *ip = f + 14, *tcp = ip + 20;
		memset(tburst_in[i], 0, HDR);
		tburst_lens[i] = tframe_build(f, &t);
		if (i == 20)
			seq += 7 * MSS;	/* a gap */
		wr16(ip + 4, id++);
		wr16(ip + 6, 0x4000);
		wr16(ip + 10, 0);
		wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
		wr32(tcp + 4, seq);
		wr32(tcp + 8, 0x01020304);
		seq += payload;
		for (uint32_t k = 0; k < payload; k++)
			tcp[20 + k] = (uint8_t)(i * 13 + k);
		wr16(tcp + 16, 0);
		uint32_t l4 = tburst_lens[i] - 34;
		wr16(tcp + 16, csum_finish(csum_add_bytes(csum_pseudo_ipv4(ip, 6, l4), tcp, l4)));
		if (i == 24)
			tcp[17] ^= 0x5a;	/* broken: must not join, goes as it is */
		assert_int_equal(write(a_test, tburst_in[i], HDR + tburst_lens[i]),
				 (ssize_t)(HDR + tburst_lens[i]));
		memcpy(f, MAC_B, 6);
		memcpy(f + 6, test_router_mac, 6);
		tburst_want[i] = f;
	}
}

/* A TCP GSO frame (header h) cut as the kernel's TSO does (gso_tcp_*,
 * after the partial checksum is completed): exactly want[0..n). */
static void
tcp_train_cut_check(uint8_t *gf, uint32_t glen, const struct vnet_hdr *h, uint8_t *const *want,
		    const uint32_t *want_len, unsigned n)
{
	uint8_t seg[NET_FRAME_MAX];
	struct gso_tcp_iter it;
	unsigned k = 0;
	uint32_t l;

	assert_int_equal(h->vh_gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h->vh_flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h->vh_hdr_len, 54);
	assert_int_equal(h->vh_gso_size, MSS);
	assert_int_equal(h->vh_csum_start, 34);
	assert_int_equal(h->vh_csum_offset, 16);
	assert_int_equal(rd16(gf + 14 + 2), glen - 14);
	assert_int_equal(csum_fold(csum_add_bytes(0, gf + 14, 20)), 0xffff);
	assert_true(gso_csum_complete(gf, glen, h));
	assert_true(gso_tcp_init(&it, gf, 14, 34, glen, h->vh_gso_size, sizeof(seg)));
	while ((l = gso_tcp_next(&it, seg)) > 0) {
		assert_true(k < n);
		assert_int_equal(l, want_len[k]);
		if (memcmp(seg, want[k], l) != 0)
			fail_msg("segment %u differs from the one that went in", k);
		k++;
	}
	assert_int_equal(k, n);
}

static void
test_router_tcp_trains(void **state)
{
	(void)state;
	int a[2], b[2], c[2];
	struct fixture fx;
	static uint8_t got[HDR + NET_GSO_FRAME_MAX];
	struct net_counters k;

	pair(a);
	pair(b);
	pair(c);
	struct net_router *r = trains_rig_tcp(&fx, a[0], b[0], c[0], true, true);
	tburst_queue(a[1]);
	assert_int_equal(net_router_start(r), 0);
	const struct { unsigned first, count; bool gso; } out[] = {
		{ 0, 20, true }, { 20, 4, true }, { 24, 1, false }, { 25, 2, true }, { 27, 1, false },
	};
	for (size_t o = 0; o < ARRAY_LEN(out); o++) {
		int l = recv_one(b[1], got, sizeof(got), 2000);
		if (l < HDR)
			fail_msg("write %zu of %zu did not arrive", o, ARRAY_LEN(out));
		struct vnet_hdr h;
		vnet_hdr_read(got, &h);
		if (out[o].gso) {
			tcp_train_cut_check(got + HDR, (uint32_t)l - HDR, &h, tburst_want + out[o].first,
					    tburst_lens + out[o].first, out[o].count);
		} else {
			assert_int_equal(h.vh_gso_type, VNET_GSO_NONE);
			assert_int_equal(h.vh_flags, 0);
			assert_int_equal(l - HDR, tburst_lens[out[o].first]);
			assert_memory_equal(got + HDR, tburst_want[out[o].first], l - HDR);
		}
	}
	assert_int_equal(recv_one(b[1], got, sizeof(got), 200), -1);
	counters_when(r, TBURST, &k);
	assert_int_equal(k.rx_frames, TBURST);
	assert_int_equal(k.tx_frames, TBURST);	/* each segment of a train counts */
	assert_int_equal(k.tcp_trains, 3);
	assert_int_equal(k.tcp_train_segments, 20 + 4 + 2);
	assert_int_equal(k.drops[NET_DROP_TX_ERROR], 0);
	net_router_free(r);

	/* off: the same burst segment by segment, as it came */
	r = trains_rig_tcp(&fx, a[0], b[0], c[0], true, false);
	tburst_queue(a[1]);
	assert_int_equal(net_router_start(r), 0);
	for (unsigned i = 0; i < TBURST; i++) {
		int l = recv_one(b[1], got, sizeof(got), 2000);
		if (l < HDR)
			fail_msg("segment %u did not arrive", i);
		assert_int_equal(l - HDR, tburst_lens[i]);
		assert_memory_equal(got + HDR, tburst_want[i], tburst_lens[i]);
	}
	counters_when(r, TBURST, &k);
	assert_int_equal(k.tcp_trains, 0);
	net_router_free(r);
	int *fds[] = { a, b, c };
	for (size_t i = 0; i < 3; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet_hdr_check_and_csum),
		cmocka_unit_test(test_tso),
		cmocka_unit_test(test_offload_finish),
		cmocka_unit_test_setup_teardown(test_router_gso, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_router_gso_two_cuts, rig_setup, rig_teardown),
		cmocka_unit_test(test_udp_train),
		cmocka_unit_test(test_router_udp_trains),
		cmocka_unit_test(test_router_udp_trains_off),
		cmocka_unit_test(test_router_tcp_trains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
