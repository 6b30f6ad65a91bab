/*
 * test_ep_ring — the endpoint's ring sides (cfg.use_plain_rings, the VPC
 * router's VPN gateway ports in the same process): endpoint A has two ring
 * sides, endpoint B a socketpair; as root in a private network namespace
 * (skipped otherwise) over 127.0.0.1 <-> 127.0.0.2. The connection key and
 * tunnel preference the router puts in a slot choose the tunnel (tunnel 2
 * preferred but without an SA: tunnel 1 carries it — failover decided once,
 * here), a key on another side goes nowhere (counted), no key falls back to
 * the side's routes and selectors, the router's facts are used as given
 * (MSS clamped on a SYN the facts call a SYN, left alone when they do not:
 * nothing is parsed again), and what B sends comes out of A's ring to the
 * router with a wakeup for a sleeping router; a burst with an echo to A's
 * inside address between two packets for the router: the echo answered,
 * the two in A's ring whole and in order (they are decrypted straight into
 * the ring's slots).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/ring.h"
#include "vpn/endpoint/endpoint.h"
#include "base/be.h"
#include "base/csum.h"

#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define KEY	0x1234abcd5678ef01ull

static uint32_t ip4(const char *s)
{
	uint32_t a = 0;
	assert_int_equal(vpn_parse_ipv4(s, &a), 0);
	return a;
}

static void spec_fill(struct vpn_tunnel_spec *s, const char *id, const char *local,
		      const char *remote)
{
	vpn_tunnel_spec_defaults(s);
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->local_ip = ip4(local);
	s->remote_ip = ip4(remote);
	memcpy(s->psk, "unit-test-psk-123", 17);
	s->psk_len = 17;
}

static bool private_netns(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
	bool ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

static bool wait_up(struct vpn_endpoint *ep, const char *id, int timeout_ms)
{
	struct vpn_tunnel_status st;
	for (int t = 0; t < timeout_ms; t += 50) {
		if (vpn_endpoint_tunnel_status(ep, id, &st) && st.up)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* An IPv4 packet src -> dst into p: UDP with 8 bytes of payload, or (syn)
 * a TCP SYN with an MSS option of mss. Its length. */
static uint32_t packet(uint8_t *p, uint32_t src, uint32_t dst, bool syn, uint16_t mss)
{
	uint32_t l4 = syn ? 24 : 16, len = 20 + l4;
	memset(p, 0, len);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)len);
	wr16(p + 4, 0x1234);
	p[8] = 64;
	p[9] = syn ? 6 : 17;
	wr32(p + 12, src);
	wr32(p + 16, dst);
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, 20)));
	uint8_t *q = p + 20;
	wr16(q, 40000);
	wr16(q + 2, syn ? 22 : 53);
	if (syn) {
		q[12] = 6 << 4;		/* data offset: 24 bytes */
		q[13] = 0x02;
		q[20] = 2;		/* MSS */
		q[21] = 4;
		wr16(q + 22, mss);
	} else {
		wr16(q + 4, 16);
	}
	return len;
}

/* An ICMP echo request src -> dst with 8 bytes of data into p; its length. */
static uint32_t echo_request(uint8_t *p, uint32_t src, uint32_t dst)
{
	uint32_t len = 20 + 8 + 8;
	memset(p, 0, len);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)len);
	p[8] = 64;
	p[9] = 1;
	wr32(p + 12, src);
	wr32(p + 16, dst);
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, 20)));
	p[20] = 8;
	wr16(p + 24, 0x4242);	/* id */
	wr16(p + 26, 7);	/* seq */
	memcpy(p + 28, "ringecho", 8);
	wr16(p + 22, csum_finish(csum_add_bytes(0, p + 20, 16)));
	return len;
}

/* One packet into ring r as the router puts it: conn, tunnel preference,
 * facts (flags; header 20). */
static void router_put(struct ring *r, const uint8_t *p, uint32_t len, uint64_t conn,
		       uint8_t tunnel, uint8_t flags)
{
	struct ring_slot *s;
	assert_int_equal(ring_reserve(r, &s, 1), 1);
	s->rs_off = RING_HEADROOM;
	s->rs_len = len;
	s->rs_meta = (struct ring_meta){ .rm_conn = conn, .rm_tunnel = tunnel, .rm_flags = flags,
					 .rm_proto = p[9], .rm_hlen = 20 };
	memcpy(s->rs_buf + RING_HEADROOM, p, len);
	ring_commit(r, 1, 0);
}

static int recv_one(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return (int)recv(fd, buf, cap, 0);
}

static void test_ring_sides(void **state)
{
	(void)state;
	if (!private_netns())
		skip();	/* needs root: a private network namespace, raw ESP sockets */
	struct ring *in[2], *out[2];
	for (int k = 0; k < 2; k++) {
		in[k] = ring_new(64);
		out[k] = ring_new(64);
		assert_non_null(in[k]);
		assert_non_null(out[k]);
	}
	struct vpn_endpoint_config ca;
	memset(&ca, 0, sizeof(ca));
	snprintf(ca.tun_name, sizeof(ca.tun_name), "rings");
	ca.use_plain_rings = true;
	ca.n_plain_rings = 2;
	for (int k = 0; k < 2; k++) {
		ca.plain_rings_in[k] = in[k];
		ca.plain_rings_out[k] = out[k];
	}
	struct vpn_endpoint *a = vpn_endpoint_new(&ca);
	assert_non_null(a);
	int bside[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, bside), 0);
	struct vpn_endpoint_config cb;
	memset(&cb, 0, sizeof(cb));
	snprintf(cb.tun_name, sizeof(cb.tun_name), "bside");
	cb.use_plain_fd = true;
	cb.plain_fd = bside[0];
	struct vpn_endpoint *b = vpn_endpoint_new(&cb);
	assert_non_null(b);

	/* A: connection KEY on side 0, tunnel 1 to B, tunnel 2 to nobody */
	struct vpn_tunnel_spec t1, t2, sb;
	spec_fill(&t1, "vpn-1#1", "127.0.0.1", "127.0.0.2");
	spec_fill(&t2, "vpn-1#2", "127.0.0.3", "127.0.0.4");
	assert_int_equal(vpn_parse_cidr("169.254.10.0/30", &t1.inside), 0);
	t1.conn_key = t2.conn_key = KEY;
	t1.conn_tunnel = 1;
	t2.conn_tunnel = 2;
	spec_fill(&sb, "b#1", "127.0.0.2", "127.0.0.1");
	assert_int_equal(vpn_parse_cidr("10.96.0.0/16", &sb.routes[0]), 0);
	assert_int_equal(vpn_parse_cidr("169.254.10.0/30", &sb.routes[1]), 0);
	sb.n_routes = 2;
	sb.tcp_mss = 1460;	/* B's own inbound clamp leaves 1460 alone */
	sb.ike.startup = IKE_STARTUP_START;
	assert_int_equal(vpn_endpoint_add_tunnel(a, &t1), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(a, &t2), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(b, &sb), 0);
	assert_int_equal(vpn_endpoint_start(a), 0);
	assert_int_equal(vpn_endpoint_start(b), 0);
	assert_true(wait_up(a, "vpn-1#1", 10000));
	assert_true(wait_up(b, "b#1", 10000));

	uint8_t p[128], got[2048];
	uint32_t vpc = ip4("10.96.1.4"), office = ip4("10.0.0.10");
	uint32_t len = packet(p, vpc, office, false, 0);

	/* the connection the router chose, either tunnel: tunnel 1 */
	router_put(in[0], p, len, KEY, 0, RING_F_PARSED);
	assert_int_equal(recv_one(bside[1], got, sizeof(got), 3000), (int)len);
	assert_memory_equal(got, p, len);
	/* tunnel 2 preferred but without an SA: tunnel 1 carries it */
	router_put(in[0], p, len, KEY, 2, RING_F_PARSED);
	assert_int_equal(recv_one(bside[1], got, sizeof(got), 3000), (int)len);
	struct vpn_tunnel_status st;
	assert_true(vpn_endpoint_tunnel_status(a, "vpn-1#2", &st));
	assert_false(st.up);
	/* the same key arriving on side 1 (another gateway): nowhere */
	struct vpn_endpoint_counters c0, c1;
	vpn_endpoint_counters(a, &c0);
	router_put(in[1], p, len, KEY, 0, RING_F_PARSED);
	assert_int_equal(recv_one(bside[1], got, sizeof(got), 300), -1);
	vpn_endpoint_counters(a, &c1);
	assert_int_equal(c1.drops[VPN_DROP_NO_ROUTE], c0.drops[VPN_DROP_NO_ROUTE] + 1);
	/* no key (no gateway route named one): the side's routes, then the
	 * selectors (policy-based: 0.0.0.0/0 here) */
	router_put(in[0], p, len, 0, 0, 0);
	assert_int_equal(recv_one(bside[1], got, sizeof(got), 3000), (int)len);

	/* the router's facts are used as they are: a SYN they call a SYN is
	 * clamped (MSS 1379, AWS's), one they do not is left alone */
	len = packet(p, vpc, office, true, 1460);
	p[6] |= 0x40;	/* DF */
	p[10] = p[11] = 0;
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, 20)));
	router_put(in[0], p, len, KEY, 0, RING_F_PARSED | RING_F_TCP_SYN | RING_F_DF);
	assert_int_equal(recv_one(bside[1], got, sizeof(got), 3000), (int)len);
	assert_int_equal(rd16(got + 20 + 22), VPN_TCP_MSS_DEFAULT);
	assert_int_equal(got[6] & 0x40, 0);	/* DF cleared */
	assert_int_equal(csum_fold(csum_add_bytes(0, got, 20)), 0xffff);
	router_put(in[0], p, len, KEY, 0, RING_F_PARSED);
	assert_int_equal(recv_one(bside[1], got, sizeof(got), 3000), (int)len);
	assert_int_equal(rd16(got + 20 + 22), 1460);

	/* B -> A: decrypted into side 0's ring to the router, at its
	 * headroom, waking it once if it said it sleeps */
	assert_true(ring_sleep_prepare(out[0]));
	len = packet(p, office, vpc, false, 0);
	assert_int_equal(write(bside[1], p, len), (ssize_t)len);
	struct pollfd pf = { ring_wake_fd(out[0]), POLLIN, 0 };
	assert_int_equal(poll(&pf, 1, 3000), 1);
	ring_wake_clear(out[0]);
	struct ring_slot *s;
	assert_int_equal(ring_peek(out[0], &s, 1), 1);
	assert_int_equal(s->rs_off, RING_HEADROOM);
	assert_int_equal(s->rs_len, len);
	assert_memory_equal(s->rs_buf + s->rs_off, p, len);
	assert_int_equal(s->rs_meta.rm_conn, 0);
	ring_release(out[0], 1);
	struct ring_stats rs;
	ring_stats(out[0], &rs);
	assert_int_equal(rs.wakeups, 1);
	assert_int_equal(rs.dropped, 0);
	ring_stats(in[0], &rs);
	assert_int_equal(rs.queued, 0);	/* A handed every slot back */

	/* a burst B -> A: data, an echo to A's inside address, data. Each is
	 * decrypted into the slot it would leave in; the echo does not take
	 * its slot (answered from the receive buffer), so the packet after it
	 * moves down: the router gets both, whole and in order, B the answer */
	uint8_t burst[3][128];
	uint32_t blen[3];
	blen[0] = packet(burst[0], office, vpc, false, 0);
	blen[1] = echo_request(burst[1], ip4("169.254.10.2"), ip4("169.254.10.1"));
	blen[2] = packet(burst[2], office, ip4("10.96.1.5"), true, 1200);
	for (int i = 0; i < 3; i++)
		assert_int_equal(write(bside[1], burst[i], blen[i]), (ssize_t)blen[i]);
	int n = recv_one(bside[1], got, sizeof(got), 3000);
	assert_int_equal(n, (int)blen[1]);
	assert_int_equal(got[20], 0);	/* echo reply */
	assert_int_equal(rd32(got + 12), ip4("169.254.10.1"));
	assert_int_equal(rd32(got + 16), ip4("169.254.10.2"));
	assert_memory_equal(got + 24, burst[1] + 24, blen[1] - 24);	/* id, seq, data */
	struct ring_slot *two[2];
	for (int t = 0; t < 300 && ring_peek(out[0], two, 2) < 2; t++)
		usleep(10 * 1000);
	assert_int_equal(ring_peek(out[0], two, 2), 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *want = burst[i * 2];
		assert_int_equal(two[i]->rs_off, RING_HEADROOM);
		assert_int_equal(two[i]->rs_len, blen[i * 2]);
		assert_memory_equal(two[i]->rs_buf + RING_HEADROOM, want, blen[i * 2]);
	}
	ring_release(out[0], 2);
	ring_stats(out[0], &rs);
	assert_int_equal(rs.dropped, 0);

	vpn_endpoint_stop(a);
	vpn_endpoint_stop(b);
	vpn_endpoint_free(a);
	vpn_endpoint_free(b);
	close(bside[1]);
	for (int k = 0; k < 2; k++) {
		ring_free(in[k]);
		ring_free(out[k]);
	}
}

/* A ring side without its rings, or rings beside a plain fd: refused. */
static void test_ring_config(void **state)
{
	(void)state;
	struct vpn_endpoint_config c;
	memset(&c, 0, sizeof(c));
	snprintf(c.tun_name, sizeof(c.tun_name), "rings");
	c.use_plain_rings = true;
	c.n_plain_rings = 1;
	assert_null(vpn_endpoint_new(&c));	/* no rings given */
	c.n_plain_rings = 0;
	assert_null(vpn_endpoint_new(&c));
	struct ring *r = ring_new(4);
	c.n_plain_rings = 1;
	c.plain_rings_in[0] = c.plain_rings_out[0] = r;
	c.use_plain_fd = true;
	c.plain_fd = -1;
	assert_null(vpn_endpoint_new(&c));
	ring_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_config),
		cmocka_unit_test(test_ring_sides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
