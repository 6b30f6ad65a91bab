/*
 * test_router — the router thread end to end, with SOCK_SEQPACKET
 * socketpairs standing in for TAP devices and for an igw port (one frame
 * or packet per message, like a TAP or TUN fd), so no root is needed:
 * ARP, forwarding with MAC rewrite, 1:1 NAT through a port, drop
 * counters, and snapshots swapped while traffic flows. A VPN gateway as a
 * ring port (base/ring.h): each packet carries the connection the
 * gateway's own routes chose and the facts the router parsed; packets the
 * endpoint puts in the other ring reach the ENI; a full ring drops and
 * counts. Bursts from two instances at once, with TAP frames batched
 * through io_uring and one system call per frame: all delivered, in
 * order, the instances served by turns of one batch. An ENI an apply
 * removes is not read while it is out; put back, or after the router
 * stopped and started again, its frames are served.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <linux/io_uring.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"
#include "base/ring.h"
#include "net/net_int.h"
#include "base/csum.h"
#include "frames.h"
#include "fixture.h"

#define A_IP IP(10, 96, 0, 10)
#define B_IP IP(10, 96, 1, 20)

struct rig {
	int a[2], b[2], c[2], igw[2];	/* [0] the router's, [1] the test's */
	struct fixture fx;
	struct net_router *r;
};

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static int
rig_setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));
	char err[128];

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
	if (net_router_apply(g->r, &g->fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
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

/* One message from fd within timeout_ms; its length, or -1. */
static int
recv_one(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return (int)recv(fd, buf, cap, 0);
}

static void
test_arp_and_forward(void **state)
{
	struct rig *g = *state;
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];
	struct net_counters k;

	/* ARP for the router: answered with the router MAC */
	uint32_t len = tarp_request(f, MAC_A, A_IP, IP(10, 96, 0, 1));
	assert_int_equal(write(g->a[1], f, len), (ssize_t)len);
	assert_int_equal(recv_one(g->a[1], got, sizeof(got), 2000), 42);
	assert_memory_equal(got, MAC_A, 6);
	assert_memory_equal(got + 6, test_router_mac, 6);
	assert_memory_equal(got + 22, test_router_mac, 6);
	/* ARP for b: nothing, anywhere */
	len = tarp_request(f, MAC_A, A_IP, B_IP);
	assert_int_equal(write(g->a[1], f, len), (ssize_t)len);
	assert_int_equal(recv_one(g->a[1], got, sizeof(got), 200), -1);
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 0), -1);

	/* a -> b:80: delivered to b's "TAP", MACs rewritten, rest intact */
	struct tframe t = { test_router_mac, MAC_A, A_IP, B_IP, 6, 40000, 80, 0, 0, 0x02, 100 };
	len = tframe_build(f, &t);
	assert_int_equal(write(g->a[1], f, len), (ssize_t)len);
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 2000), (int)len);
	assert_memory_equal(got, MAC_B, 6);
	assert_memory_equal(got + 6, test_router_mac, 6);
	assert_memory_equal(got + 12, f + 12, len - 12);

	/* a -> b:23: acl-b denies it; counted */
	t.dport = 23;
	len = tframe_build(f, &t);
	assert_int_equal(write(g->a[1], f, len), (ssize_t)len);
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 200), -1);
	net_router_counters(g->r, &k);
	assert_int_equal(k.drops[NET_DROP_NACL_IN], 1);
	assert_int_equal(k.rx_frames, 4);
	assert_int_equal(k.tx_frames, 1);
	assert_int_equal(k.arp_replies, 1);
	assert_int_equal(k.arp_ignored, 1);
	assert_int_equal(k.snapshots, 1);
}

static void
test_igw_nat(void **state)
{
	struct rig *g = *state;
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];

	/* from outside to b's public address: b gets it on its private one */
	struct tframe t = { test_router_mac, MAC_A, IP(198, 51, 100, 7), IP(203, 0, 113, 20), 6,
		6000, 443, 0, 0, 0x02, 10 };
	uint32_t len = tframe_build(f, &t);
	assert_int_equal(write(g->igw[1], f + 14, len - 14), (ssize_t)(len - 14));
	assert_int_equal(recv_one(g->b[1], got, sizeof(got), 2000), (int)len);
	assert_memory_equal(got, MAC_B, 6);
	assert_int_equal(rd32(got + 14 + 16), B_IP);
	assert_true(tl4_csum_ok(got + 14, len - 14));
	/* b's reply leaves with the public address as its source */
	t = (struct tframe){ test_router_mac, MAC_B, B_IP, IP(198, 51, 100, 7), 6, 443, 6000, 0, 0, 0x12, 10 };
	len = tframe_build(f, &t);
	assert_int_equal(write(g->b[1], f, len), (ssize_t)len);
	assert_int_equal(recv_one(g->igw[1], got, sizeof(got), 2000), (int)(len - 14));
	assert_int_equal(rd32(got + 12), IP(203, 0, 113, 20));
	assert_true(tl4_csum_ok(got, len - 14));
	struct net_counters k;
	/* counters are published after the batch that wrote the packet */
	for (int i = 0; i < 200; i++) {
		net_router_counters(g->r, &k);
		if (k.port_tx == 1)
			break;
		usleep(10000);
	}
	assert_int_equal(k.port_rx, 1);
	assert_int_equal(k.port_tx, 1);
}

struct pump {
	struct rig *g;
	atomic_bool stop;
	uint64_t sent, received;
};

static void *
pump_run(void *arg)
{
	struct pump *p = arg;
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];
	struct tframe t = { test_router_mac, MAC_A, A_IP, B_IP, 17, 1000, 80, 0, 0, 0, 32 };

	while (!atomic_load(&p->stop)) {
		t.sport = (uint16_t)(1000 + p->sent % 60000);	/* a new flow each time */
		uint32_t len = tframe_build(f, &t);
		if (write(p->g->a[1], f, len) == (ssize_t)len)
			p->sent++;
		while (recv(p->g->b[1], got, sizeof(got), MSG_DONTWAIT) > 0)
			p->received++;
	}
	for (int i = 0; i < 50; i++)
		while (recv_one(p->g->b[1], got, sizeof(got), 10) > 0)
			p->received++;
	return NULL;
}

/* UDP a -> b allowed or not by turns (sg-web gains and loses a UDP rule),
 * swapped 300 times while a thread sends: no crash, no frame lost
 * outside the counters, every swap waited for. */
static void
test_swap_under_traffic(void **state)
{
	struct rig *g = *state;
	struct pump p = { .g = g };
	pthread_t th;
	char err[128];
	struct fixture f2 = g->fx;
	struct net_sg_rule_config rules[5];

	memcpy(rules, g->fx.web_rules, sizeof(g->fx.web_rules));
	rules[4] = (struct net_sg_rule_config){ false, 17, 0, 65535, { IP(10, 96, 0, 0), 16 }, "", "" };
	f2.sgs[1].rules = rules;
	f2.sgs[1].n_rules = 5;
	f2.cfg.sgs = f2.sgs;
	assert_int_equal(pthread_create(&th, NULL, pump_run, &p), 0);
	for (int i = 0; i < 300; i++) {
		const struct net_config *c = i % 2 ? &g->fx.cfg : &f2.cfg;
		if (net_router_apply(g->r, c, err, sizeof(err)) < 0)
			fail_msg("apply: %s", err);
		usleep(300);
	}
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);

	struct net_counters k;
	net_router_counters(g->r, &k);
	assert_int_equal(k.snapshots, 301);
	print_message("sent %llu received %llu sg-ingress %llu tx-error %llu\n",
		      (unsigned long long)p.sent, (unsigned long long)p.received,
		      (unsigned long long)k.drops[NET_DROP_SG_INGRESS],
		      (unsigned long long)k.drops[NET_DROP_TX_ERROR]);
	assert_true(p.received > 0);
	assert_true(k.drops[NET_DROP_SG_INGRESS] > 0 || p.received == p.sent);
	assert_int_equal(k.rx_frames, p.sent);
	assert_int_equal(k.tx_frames, p.received);
	assert_int_equal(k.rx_frames, k.tx_frames + k.drops[NET_DROP_SG_INGRESS] +
			 k.drops[NET_DROP_TX_ERROR]);
}

/* Whether an ARP request from a for the router is answered within ms. */
static bool
arp_answered(struct rig *g, int ms)
{
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];
	uint32_t len = tarp_request(f, MAC_A, A_IP, IP(10, 96, 0, 1));

	assert_int_equal(write(g->a[1], f, len), (ssize_t)len);
	return recv_one(g->a[1], got, sizeof(got), ms) == 42;
}

/* The loop watches exactly the published snapshot's fds: an ENI an apply
 * removed is not read (its request waits in the socket), an apply that
 * puts it back serves what waited, and so does a router stopped and
 * started again (its watches made afresh at the start). */
static void
test_apply_watches(void **state)
{
	struct rig *g = *state;
	struct fixture f2 = g->fx;
	char err[128];
	struct net_counters k0, k1;

	assert_true(arp_answered(g, 2000));
	f2.enis[0].tap_fd = -1;
	f2.cfg.enis = f2.enis;
	if (net_router_apply(g->r, &f2.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	net_router_counters(g->r, &k0);
	assert_false(arp_answered(g, 300));
	net_router_counters(g->r, &k1);
	assert_int_equal(k1.rx_frames, k0.rx_frames);	/* not read at all */
	if (net_router_apply(g->r, &g->fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	uint8_t got[NET_FRAME_MAX];
	assert_int_equal(recv_one(g->a[1], got, sizeof(got), 2000), 42);	/* the one that waited */
	assert_true(arp_answered(g, 2000));
	net_router_stop(g->r);
	assert_int_equal(net_router_start(g->r), 0);
	assert_true(arp_answered(g, 2000));
	/* removed while stopped: still not read once started */
	net_router_stop(g->r);
	if (net_router_apply(g->r, &f2.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	assert_int_equal(net_router_start(g->r), 0);
	assert_false(arp_answered(g, 300));
	if (net_router_apply(g->r, &g->fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	assert_int_equal(recv_one(g->a[1], got, sizeof(got), 2000), 42);
}

/* The router with vgw-1 as a ring port (ring_out of out_slots): its own
 * routes 172.16.0.0/16 -> connection 7, 172.16.5.0/24 -> 9 (tunnel 2
 * first), 172.17.0.0/16 -> both 7 and 9 (no choice). */
struct ring_rig {
	int a[2];
	struct fixture fx;
	struct net_vgw_route vr[4];
	struct ring *out, *in;
	struct net_router *r;
};

static void
ring_rig_start(struct ring_rig *g, uint32_t out_slots)
{
	char err[128];

	pair(g->a);
	fixture_init(&g->fx, NULL, NULL, -1);
	g->fx.enis[0].tap_fd = g->a[0];
	g->fx.enis[1].tap_fd = -1;
	g->fx.enis[2].tap_fd = -1;
	g->out = ring_new(out_slots);
	g->in = ring_new(64);
	assert_non_null(g->out);
	assert_non_null(g->in);
	g->vr[0] = (struct net_vgw_route){ { IP(172, 16, 0, 0), 16 }, 7, 0 };
	g->vr[1] = (struct net_vgw_route){ { IP(172, 16, 5, 0), 24 }, 9, 2 };
	g->vr[2] = (struct net_vgw_route){ { IP(172, 17, 0, 0), 16 }, 7, 0 };
	g->vr[3] = (struct net_vgw_route){ { IP(172, 17, 0, 0), 16 }, 9, 1 };
	g->fx.gws[1].ring_out = g->out;
	g->fx.gws[1].ring_in = g->in;
	g->fx.gws[1].vgw_routes = g->vr;
	g->fx.gws[1].n_vgw_routes = 4;
	g->r = net_router_new(NULL);
	assert_non_null(g->r);
	if (net_router_apply(g->r, &g->fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	assert_int_equal(net_router_start(g->r), 0);
}

static void
ring_rig_stop(struct ring_rig *g)
{
	net_router_free(g->r);
	ring_free(g->out);
	ring_free(g->in);
	close(g->a[0]);
	close(g->a[1]);
}

/* The next packet in ring r within timeout_ms, or NULL; released by the
 * caller (ring_release(r, 1)). */
static struct ring_slot *
ring_wait(struct ring *r, int timeout_ms)
{
	struct ring_slot *s;
	for (int i = 0; i < timeout_ms; i++) {
		if (ring_peek(r, &s, 1) == 1)
			return s;
		usleep(1000);
	}
	return NULL;
}

static void
test_vgw_ring_port(void **state)
{
	(void)state;
	struct ring_rig g;
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];
	static const struct { uint32_t dst; uint64_t conn; uint8_t tunnel; } cases[] = {
		{ IP(172, 16, 1, 1), 7, 0 },	/* the connection's route */
		{ IP(172, 16, 5, 9), 9, 2 },	/* a longer one: the other connection */
		{ IP(172, 17, 0, 1), 0, 0 },	/* two connections route it: no choice */
		{ IP(172, 18, 0, 1), 0, 0 },	/* the gateway has no route for it */
	};

	memset(&g, 0, sizeof(g));
	ring_rig_start(&g, 64);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		/* a SYN from eni-a: the ring slot holds the IPv4 packet as sent,
		 * the router's choice and what it parsed */
		struct tframe t = { test_router_mac, MAC_A, A_IP, cases[i].dst, 6, 40000, 22, 0, 0,
				    0x02, (uint16_t)(10 * i) };
		uint32_t len = tframe_build(f, &t);
		f[14 + 6] |= 0x40;	/* DF, as Linux sends TCP */
		f[14 + 10] = f[14 + 11] = 0;
		wr16(f + 14 + 10, csum_finish(csum_add_bytes(0, f + 14, 20)));
		assert_int_equal(write(g.a[1], f, len), (ssize_t)len);
		struct ring_slot *sl = ring_wait(g.out, 2000);
		assert_non_null(sl);
		assert_int_equal(sl->rs_off, RING_HEADROOM);
		assert_int_equal(sl->rs_len, len - 14);
		assert_memory_equal(sl->rs_buf + sl->rs_off, f + 14, len - 14);
		assert_int_equal(sl->rs_meta.rm_conn, cases[i].conn);
		assert_int_equal(sl->rs_meta.rm_tunnel, cases[i].tunnel);
		assert_int_equal(sl->rs_meta.rm_proto, 6);
		assert_int_equal(sl->rs_meta.rm_hlen, 20);
		assert_int_equal(sl->rs_meta.rm_flags, RING_F_PARSED | RING_F_DF | RING_F_TCP_SYN);
		ring_release(g.out, 1);
	}
	/* an ACK: no SYN fact */
	struct tframe t = { test_router_mac, MAC_A, A_IP, IP(172, 16, 1, 1), 6, 40000, 22, 0, 0, 0x10, 0 };
	uint32_t len = tframe_build(f, &t);
	assert_int_equal(write(g.a[1], f, len), (ssize_t)len);
	struct ring_slot *sl = ring_wait(g.out, 2000);
	assert_non_null(sl);
	assert_int_equal(sl->rs_meta.rm_flags, RING_F_PARSED);
	ring_release(g.out, 1);

	/* the endpoint's side: the answer put in the other ring reaches
	 * eni-a (a tracked flow: sg-app has no ingress rule), from a
	 * sleeping router, woken once */
	usleep(100 * 1000);
	struct ring_stats st0, st1;
	ring_stats(g.in, &st0);
	t = (struct tframe){ test_router_mac, MAC_A, IP(172, 16, 1, 1), A_IP, 6, 22, 40000, 0, 0, 0x12, 5 };
	len = tframe_build(f, &t);
	struct ring_slot *in;
	assert_int_equal(ring_reserve(g.in, &in, 1), 1);
	in->rs_off = RING_HEADROOM;
	in->rs_len = len - 14;
	in->rs_meta = (struct ring_meta){ 0 };
	memcpy(in->rs_buf + RING_HEADROOM, f + 14, len - 14);
	ring_commit(g.in, 1, 0);
	assert_int_equal(recv_one(g.a[1], got, sizeof(got), 2000), (int)len);
	assert_memory_equal(got, MAC_A, 6);
	assert_memory_equal(got + 14, f + 14, len - 14);
	for (int i = 0; i < 200; i++) {	/* handed back after the batch */
		ring_stats(g.in, &st1);
		if (st1.queued == 0)
			break;
		usleep(10000);
	}
	assert_int_equal(st1.wakeups, st0.wakeups + 1);
	assert_int_equal(st1.queued, 0);

	struct net_counters k;
	for (int i = 0; i < 200; i++) {
		net_router_counters(g.r, &k);
		if (k.port_rx == 1)
			break;
		usleep(10000);
	}
	assert_int_equal(k.port_tx, 5);
	assert_int_equal(k.port_rx, 1);
	assert_int_equal(k.drops[NET_DROP_PORT_FULL], 0);
	ring_rig_stop(&g);
}

/* Nobody takes from a ring of 8: the ninth packet on is dropped and
 * counted (port-full), memory does not grow. */
static void
test_vgw_ring_full(void **state)
{
	(void)state;
	struct ring_rig g;
	uint8_t f[NET_FRAME_MAX];

	memset(&g, 0, sizeof(g));
	ring_rig_start(&g, 8);
	for (int i = 0; i < 20; i++) {
		struct tframe t = { test_router_mac, MAC_A, A_IP, IP(172, 16, 1, 1), 17,
				    (uint16_t)(5000 + i), 53, 0, 0, 0, 30 };
		uint32_t len = tframe_build(f, &t);
		assert_int_equal(write(g.a[1], f, len), (ssize_t)len);
	}
	struct net_counters k;
	for (int i = 0; i < 300; i++) {
		net_router_counters(g.r, &k);
		if (k.rx_frames == 20 && k.port_tx + k.drops[NET_DROP_PORT_FULL] == 20)
			break;
		usleep(10000);
	}
	assert_int_equal(k.port_tx, 8);
	assert_int_equal(k.drops[NET_DROP_PORT_FULL], 12);
	struct ring_stats st;
	ring_stats(g.out, &st);
	assert_int_equal(st.produced, 8);
	assert_int_equal(st.dropped, 12);
	assert_int_equal(st.queued, 8);
	ring_rig_stop(&g);
}

/* --- batched TAP I/O -------------------------------------------------------- */

#define BURST	130	/* frames per source: more than two batches */

/* Does this kernel let us set up an io_uring (else the router falls back
 * to a system call per frame, and counts no batches)? */
static bool
uring_available(void)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Two instances each queue a burst for a third before the router runs:
 * every frame arrives, each source's in order, the sources alternate by
 * batches (one busy TAP does not hold the router beyond NET_BATCH frames
 * while another waits), and with io_uring many frames go per system call. */
static void
burst_run(bool syscall_io)
{
	int a[2], b[2], c[2];
	struct fixture fx;
	char err[128];
	uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];
	struct net_router_config rc = { .syscall_io = syscall_io };
	struct net_counters k;

	pair(a);
	pair(b);
	pair(c);
	fixture_init(&fx, NULL, NULL, -1);
	fx.enis[0].tap_fd = a[0];
	fx.enis[1].tap_fd = b[0];
	fx.enis[2].tap_fd = c[0];
	struct net_router *r = net_router_new(&rc);
	assert_non_null(r);
	if (net_router_apply(r, &fx.cfg, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	/* a's frames have payloads 0..BURST-1, c's the same: the length
	 * tells the place in the burst, the source address the source */
	for (uint16_t i = 0; i < BURST; i++) {
		struct tframe ta = { test_router_mac, MAC_A, A_IP, B_IP, 6, 40000, 80, 0, 0, 0x10, i };
		struct tframe tc = { test_router_mac, MAC_C, IP(10, 96, 0, 30), B_IP, 6, 40001, 80, 0, 0,
				     0x10, i };
		uint32_t len = tframe_build(f, &ta);
		assert_int_equal(write(a[1], f, len), (ssize_t)len);
		len = tframe_build(f, &tc);
		assert_int_equal(write(c[1], f, len), (ssize_t)len);
	}
	assert_int_equal(net_router_start(r), 0);

	int next[2] = { 0, 0 };		/* the next place expected from a, from c */
	int in_first[2] = { 0, 0 };	/* of the first 2 * NET_BATCH frames */
	for (int n = 0; n < 2 * BURST; n++) {
		int len = recv_one(b[1], got, sizeof(got), 2000);
		if (len < 0)
			fail_msg("frame %d of %d did not arrive", n, 2 * BURST);
		int from = rd32(got + 26) == A_IP ? 0 : 1;
		assert_int_equal(len - (14 + 20 + 20), next[from]);	/* in order */
		next[from]++;
		if (n < 2 * NET_BATCH)
			in_first[from]++;
	}
	assert_int_equal(next[0], BURST);
	assert_int_equal(next[1], BURST);
	assert_int_equal(in_first[0], NET_BATCH);
	assert_int_equal(in_first[1], NET_BATCH);

	/* the counters are published when the batch that sent the last
	 * frame has ended, a moment after the frame arrived */
	for (int i = 0; i < 2000; i++) {
		net_router_counters(r, &k);
		if (k.tx_frames == 2 * BURST)
			break;
		usleep(1000);
	}
	assert_int_equal(k.rx_frames, 2 * BURST);
	assert_int_equal(k.tx_frames, 2 * BURST);
	assert_int_equal(k.drops[NET_DROP_TX_ERROR], 0);
	if (syscall_io || !uring_available()) {
		assert_int_equal(k.tap_batches, 0);
	} else {
		/* 2 * BURST frames read and written: a few calls per batch of
		 * NET_BATCH each way, not one per frame */
		assert_true(k.tap_batches > 0);
		assert_true(k.tap_batches <= 2 * BURST / 8);
	}
	net_router_free(r);
	int *fds[] = { a, b, c };
	for (size_t i = 0; i < 3; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

static void
test_burst_batched(void **state)
{
	(void)state;
	burst_run(false);
}

static void
test_burst_syscalls(void **state)
{
	(void)state;
	burst_run(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_and_forward, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_igw_nat, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_swap_under_traffic, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_apply_watches, rig_setup, rig_teardown),
		cmocka_unit_test(test_vgw_ring_port),
		cmocka_unit_test(test_vgw_ring_full),
		cmocka_unit_test(test_burst_batched),
		cmocka_unit_test(test_burst_syscalls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
