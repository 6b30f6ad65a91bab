/*
 * test_endpoint — the endpoint's contract without a real router: tunnel
 * spec validation and parsing helpers (no privileges), then, as root in a
 * private network namespace (skipped otherwise), two endpoints back to
 * back over 127.0.0.1 <-> 127.0.0.2: both UP, status snapshots read from
 * this thread, in-place update, IKE update (renegotiation), adding and
 * removing a tunnel without touching the other, stop; the BGP side
 * (vpn_endpoint_set_bgp_tun) between two endpoints whose plaintext sides
 * are socketpairs: only a BGP tunnel's inside pair crosses it, each way,
 * and everything else (another tunnel's inside address, a stranger to our
 * .1, a tunnel down, no tunnel, bad frames, a closed side) is dropped with
 * its counter. The data path against strongSwan is
 * tests/interop/test_ipsec_strongswan.py (and test_bgp_side.py for vpcd's
 * BGP side).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vpn/endpoint/endpoint.h"

#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
	assert_int_equal(vpn_parse_cidr("169.254.10.0/30", &s->inside), 0);
}

static void test_spec_check(void **state)
{
	(void)state;
	struct vpn_tunnel_spec s;
	spec_fill(&s, "vpn-1#1", "203.0.113.1", "198.51.100.2");
	assert_null(vpn_tunnel_spec_check(&s));

	struct vpn_tunnel_spec b = s;
	b.ike.p2_lifetime_s = 60;	/* below AWS's 900 s ... */
	assert_non_null(vpn_tunnel_spec_check(&b));
	b.test_short_timers = true;	/* ... allowed for tests */
	b.ike.rekey_margin_s = 10;
	assert_null(vpn_tunnel_spec_check(&b));
	b.ike.p2_lifetime_s = 5;	/* even tests have a floor */
	assert_non_null(vpn_tunnel_spec_check(&b));

	b = s;
	b.ike.dpd_timeout_s = 10;
	assert_non_null(vpn_tunnel_spec_check(&b));
	b = s;
	b.ike.replay_window = 4096;
	assert_non_null(vpn_tunnel_spec_check(&b));
	b = s;
	assert_int_equal(vpn_parse_cidr("169.254.10.0/29", &b.inside), 0);
	assert_non_null(vpn_tunnel_spec_check(&b));
	b = s;
	b.psk_len = 0;
	assert_non_null(vpn_tunnel_spec_check(&b));
	b = s;
	b.id[0] = 0;
	assert_non_null(vpn_tunnel_spec_check(&b));
	b = s;
	b.ike.p2_lifetime_s = 3600;
	b.ike.p1_lifetime_s = 1800;	/* phase 2 outliving phase 1 */
	assert_non_null(vpn_tunnel_spec_check(&b));
	b = s;
	b.plain_port = VPN_PLAIN_PORTS_MAX - 1;
	assert_null(vpn_tunnel_spec_check(&b));
	b.plain_port = VPN_PLAIN_PORTS_MAX;	/* no such plaintext side */
	assert_non_null(vpn_tunnel_spec_check(&b));
}

/* More plaintext sides (one per VPN gateway): taken and closed by the
 * endpoint; too many refused (and closed). No root needed. */
static void test_plain_sides(void **state)
{
	(void)state;
	int pairs[3][2];
	for (int i = 0; i < 3; i++)
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pairs[i]), 0);
	struct vpn_endpoint_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.tun_name, sizeof(cfg.tun_name), "sides");
	cfg.use_plain_fd = true;
	cfg.plain_fd = pairs[0][0];
	cfg.more_plain_fds[cfg.n_more_plain_fds++] = pairs[1][0];
	cfg.more_plain_fds[cfg.n_more_plain_fds++] = pairs[2][0];
	struct vpn_endpoint *ep = vpn_endpoint_new(&cfg);
	assert_non_null(ep);
	vpn_endpoint_free(ep);
	for (int i = 0; i < 3; i++) {
		/* the endpoint's ends are closed: the other ends see EOF */
		char c;
		assert_int_equal(read(pairs[i][1], &c, 1), 0);
		close(pairs[i][1]);
	}

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pairs[0]), 0);
	cfg.plain_fd = pairs[0][0];
	cfg.n_more_plain_fds = VPN_PLAIN_PORTS_MAX;	/* one too many */
	for (size_t k = 0; k < VPN_PLAIN_PORTS_MAX - 1; k++)
		cfg.more_plain_fds[k] = -1;
	assert_null(vpn_endpoint_new(&cfg));
	char c;
	assert_int_equal(read(pairs[0][1], &c, 1), 0);
	close(pairs[0][1]);
}

static void test_parse(void **state)
{
	(void)state;
	struct vpn_cidr c;
	uint32_t a;
	assert_int_equal(vpn_parse_cidr("10.96.0.0/16", &c), 0);
	assert_int_equal(c.addr, 0x0a600000);
	assert_int_equal(c.prefix_len, 16);
	assert_int_equal(vpn_parse_cidr("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix_len, 0);
	assert_int_equal(vpn_parse_cidr("10.0.0.0/33", &c), -1);
	assert_int_equal(vpn_parse_cidr("10.0.0.0/", &c), -1);
	assert_int_equal(vpn_parse_cidr("10.0.0.0", &c), -1);
	assert_int_equal(vpn_parse_cidr("10.0.0/8", &c), -1);
	assert_int_equal(vpn_parse_cidr("10.0.0.0/8x", &c), -1);
	assert_int_equal(vpn_parse_ipv4("198.51.100.2", &a), 0);
	assert_int_equal(a, 0xc6336402);
	assert_int_equal(vpn_parse_ipv4("198.51.100", &a), -1);
	char buf[16];
	vpn_format_ipv4(0xcb007101, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.1");
}

/* ---- two endpoints back to back (root, private netns) ---------------- */

struct events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char last[8][96];	/* "<id> UP" / "<id> DOWN <cause>", newest last */
	unsigned n;
};

static struct events ev = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { { 0 } }, 0 };

static void on_status(void *arg, const char *id, bool up, const char *cause, int64_t since)
{
	(void)arg;
	(void)since;
	pthread_mutex_lock(&ev.lock);
	if (ev.n == 8) {
		memmove(ev.last[0], ev.last[1], sizeof(ev.last[0]) * 7);
		ev.n = 7;
	}
	snprintf(ev.last[ev.n++], sizeof(ev.last[0]), "%s %s%s%s", id, up ? "UP" : "DOWN",
		 up ? "" : " ", up ? "" : cause);
	pthread_cond_broadcast(&ev.cond);
	pthread_mutex_unlock(&ev.lock);
}

/* Wait until status(id) is up (or down with cause prefix), via queries. */
static bool wait_status(struct vpn_endpoint *ep, const char *id, bool up, const char *cause,
			int timeout_ms)
{
	struct vpn_tunnel_status st;
	for (int t = 0; t < timeout_ms; t += 50) {
		if (vpn_endpoint_tunnel_status(ep, id, &st) && st.up == up &&
		    (!cause || strncmp(st.cause, cause, strlen(cause)) == 0))
			return true;
		usleep(50 * 1000);
	}
	return false;
}

static bool saw_event(const char *line)
{
	bool found = false;
	pthread_mutex_lock(&ev.lock);
	for (unsigned i = 0; i < ev.n; i++)
		found |= strcmp(ev.last[i], line) == 0;
	pthread_mutex_unlock(&ev.lock);
	return found;
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

static struct vpn_endpoint *endpoint(const char *tun)
{
	struct vpn_endpoint_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.tun_name, sizeof(cfg.tun_name), "%s", tun);
	cfg.on_status = on_status;
	struct vpn_endpoint *ep = vpn_endpoint_new(&cfg);
	assert_non_null(ep);
	return ep;
}

static void test_back_to_back(void **state)
{
	(void)state;
	if (!private_netns())
		skip();	/* needs root: TUN devices and a private network namespace */
	struct vpn_endpoint *a = endpoint("tvpa"), *b = endpoint("tvpb");
	struct vpn_tunnel_spec sa, sb;
	spec_fill(&sa, "a#1", "127.0.0.1", "127.0.0.2");
	spec_fill(&sb, "b#1", "127.0.0.2", "127.0.0.1");
	assert_int_equal(vpn_parse_cidr("10.1.0.0/16", &sa.routes[0]), 0);
	sa.n_routes = 1;
	sb.ike.startup = IKE_STARTUP_START;
	assert_int_equal(vpn_endpoint_add_tunnel(a, &sa), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(a, &sa), -1);	/* same id */
	assert_int_equal(vpn_endpoint_add_tunnel(b, &sb), 0);
	assert_int_equal(vpn_endpoint_start(a), 0);
	assert_int_equal(vpn_endpoint_start(b), 0);
	assert_int_equal(vpn_endpoint_start(a), -1);	/* already running */

	assert_true(wait_status(a, "a#1", true, NULL, 10000));
	assert_true(wait_status(b, "b#1", true, NULL, 10000));
	assert_true(saw_event("a#1 UP"));
	struct vpn_tunnel_status st_a, st_b;
	assert_true(vpn_endpoint_tunnel_status(a, "a#1", &st_a));
	assert_true(vpn_endpoint_tunnel_status(b, "b#1", &st_b));
	struct vpn_tunnel_status none;
	assert_false(vpn_endpoint_tunnel_status(a, "nope", &none));
	assert_int_equal(st_a.n_children, 1);
	assert_int_equal(st_b.n_children, 1);
	assert_int_equal(st_a.children[0].spi_in, st_b.children[0].spi_out);
	assert_int_equal(st_a.children[0].spi_out, st_b.children[0].spi_in);
	assert_false(st_a.children[0].udp_encap);	/* no NAT on loopback: raw ESP */
	assert_string_equal(st_a.children[0].transform, "esp-aes esp-sha-hmac");
	assert_int_equal(st_a.children[0].replay_window, 1024);
	assert_true(st_a.children[0].hard_remaining_s > 3500);
	assert_int_equal(st_a.ike.p1_established, 1);
	uint32_t spi = st_a.children[0].spi_in;

	/* routes only: in place, same SAs */
	assert_int_equal(vpn_parse_cidr("10.2.0.0/16", &sa.routes[1]), 0);
	sa.n_routes = 2;
	assert_int_equal(vpn_endpoint_update_tunnel(a, &sa), 0);
	assert_true(vpn_endpoint_tunnel_status(a, "a#1", &st_a));
	assert_true(st_a.up);
	assert_int_equal(st_a.children[0].spi_in, spi);

	/* another tunnel comes and goes; a#1 is untouched */
	struct vpn_tunnel_spec s2;
	spec_fill(&s2, "a#2", "127.0.0.3", "127.0.0.4");
	assert_int_equal(vpn_endpoint_add_tunnel(a, &s2), 0);
	char ids[4][VPN_TUNNEL_ID_MAX];
	assert_int_equal(vpn_endpoint_tunnel_ids(a, ids, 4), 2);
	assert_string_equal(ids[1], "a#2");
	assert_true(wait_status(a, "a#2", false, "waiting for the peer", 1000));
	assert_int_equal(vpn_endpoint_remove_tunnel(a, "a#2"), 0);
	assert_int_equal(vpn_endpoint_remove_tunnel(a, "a#2"), -1);
	assert_true(saw_event("a#2 DOWN removed"));
	assert_true(vpn_endpoint_tunnel_status(a, "a#1", &st_a));
	assert_true(st_a.up);
	assert_int_equal(st_a.children[0].spi_in, spi);

	/* an IKE option changes on b: it renegotiates, a follows */
	sb.ike.p2_lifetime_s = 1800;
	assert_int_equal(vpn_endpoint_update_tunnel(b, &sb), 0);
	assert_true(saw_event("b#1 DOWN reconfigured"));
	assert_true(wait_status(b, "b#1", true, NULL, 10000));
	assert_true(vpn_endpoint_tunnel_status(b, "b#1", &st_b));
	assert_true(st_b.children[0].hard_remaining_s <= 1800);
	assert_true(wait_status(a, "a#1", true, NULL, 10000));

	/* removing a#1 tells b */
	assert_int_equal(vpn_endpoint_remove_tunnel(a, "a#1"), 0);
	assert_true(wait_status(b, "b#1", false, NULL, 5000));
	assert_true(vpn_endpoint_tunnel_status(b, "b#1", &st_b));
	assert_string_equal(st_b.cause, "deleted by peer");

	struct vpn_endpoint_counters cnt;
	vpn_endpoint_counters(a, &cnt);
	vpn_endpoint_stop(a);
	vpn_endpoint_stop(b);
	vpn_endpoint_free(a);
	vpn_endpoint_free(b);
}

/* IKE versions: a tunnel allowing both answers IKEv2; one allowing only
 * IKEv2 refuses IKEv1 and says why (root, private netns). */
static void test_ike_versions(void **state)
{
	(void)state;
	if (!private_netns())
		skip();
	struct vpn_endpoint *a = endpoint("tvva"), *b = endpoint("tvvb");
	struct vpn_tunnel_spec sa, sb, sc, sd;
	spec_fill(&sa, "both#1", "127.0.0.1", "127.0.0.2");
	spec_fill(&sb, "v2#1", "127.0.0.2", "127.0.0.1");
	sa.ike.versions = IKE_V1 | IKE_V2;
	sb.ike.versions = IKE_V2;
	sb.ike.startup = IKE_STARTUP_START;
	sb.ike.p1_encr_n = 0;	/* AES-GCM for the IKE SA: IKEv2 only */
	sb.ike.p1_aead[sb.ike.p1_aead_n++] = IKE_ENCR_AES256_GCM16;
	sa.ike.p1_aead[sa.ike.p1_aead_n++] = IKE_ENCR_AES256_GCM16;
	spec_fill(&sc, "v2only#1", "127.0.0.3", "127.0.0.4");
	spec_fill(&sd, "v1#1", "127.0.0.4", "127.0.0.3");
	sc.ike.versions = IKE_V2;
	sd.ike.versions = IKE_V1;
	sd.ike.startup = IKE_STARTUP_START;
	assert_int_equal(vpn_endpoint_add_tunnel(a, &sa), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(a, &sc), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(b, &sb), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(b, &sd), 0);
	assert_int_equal(vpn_endpoint_start(a), 0);
	assert_int_equal(vpn_endpoint_start(b), 0);

	assert_true(wait_status(a, "both#1", true, NULL, 10000));
	assert_true(wait_status(b, "v2#1", true, NULL, 10000));
	struct vpn_tunnel_status st_a, st_b;
	assert_true(vpn_endpoint_tunnel_status(a, "both#1", &st_a));
	assert_true(vpn_endpoint_tunnel_status(b, "v2#1", &st_b));
	assert_int_equal(st_a.ike_version, 2);
	assert_int_equal(st_a.ikev2.state, IKEV2_SA_ESTABLISHED);
	assert_false(st_a.ikev2.initiator);
	assert_int_equal(st_a.ikev2.encr, IKE_ENCR_AES256_GCM16);
	assert_int_equal(st_a.isakmp.state, IKE_ISAKMP_NONE);
	assert_true(st_b.ikev2.initiator);
	assert_int_equal(st_a.n_children, 1);
	assert_int_equal(st_a.children[0].spi_in, st_b.children[0].spi_out);
	assert_int_equal(st_a.children[0].spi_out, st_b.children[0].spi_in);
	assert_int_equal(st_a.ike.p1_established, 1);

	/* IKEv1 to an IKEv2-only tunnel: refused, and the status says why */
	assert_true(wait_status(a, "v2only#1", false, "peer offered IKEv1; tunnel allows ikev2 only",
				10000));
	assert_true(vpn_endpoint_tunnel_status(a, "v2only#1", &st_a));
	assert_int_equal(st_a.n_children, 0);

	/* stopping b deletes the IKEv2 SA at a */
	vpn_endpoint_stop(b);
	assert_true(wait_status(a, "both#1", false, "peer deleted the IKE SA", 5000));
	vpn_endpoint_stop(a);
	vpn_endpoint_free(a);
	vpn_endpoint_free(b);
}

/* ---- the BGP side (root, private netns) --------------------------------- */

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 packet src -> dst of protocol proto with payload (20-byte
 * header, checksums right; ICMP: an echo request): its length. */
static size_t ip_packet(uint8_t *p, const char *src, const char *dst, uint8_t proto,
			const char *payload)
{
	size_t plen = strlen(payload), hl = proto == 1 ? 8 : 0, n = 20 + hl + plen;
	memset(p, 0, n);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[8] = 64;
	p[9] = proto;
	uint32_t s = ip4(src), d = ip4(dst);
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(s >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(d >> (24 - 8 * i));
	}
	uint16_t c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	if (proto == 1) {
		p[20] = 8;	/* echo request, id 7, seq 1 */
		p[25] = 7;
		p[27] = 1;
	}
	memcpy(p + 20 + hl, payload, plen);
	if (proto == 1) {
		c = csum(p + 20, hl + plen);
		p[22] = (uint8_t)(c >> 8);
		p[23] = (uint8_t)c;
	}
	return n;
}

/* The next packet on fd within ms (its length into *n), or false. */
static bool next_packet(int fd, uint8_t *buf, size_t cap, ssize_t *n, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	if (poll(&pfd, 1, ms) != 1)
		return false;
	*n = read(fd, buf, cap);
	return *n > 0;
}

static void send_packet(int fd, const uint8_t *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

/* p (n bytes) written to `in` arrives unchanged on `out`. */
static void crosses(int in, int out, const uint8_t *p, size_t n)
{
	uint8_t got[2048];
	ssize_t m = 0;
	send_packet(in, p, n);
	assert_true(next_packet(out, got, sizeof(got), &m, 3000));
	assert_int_equal(m, (ssize_t)n);
	assert_memory_equal(got, p, n);
}

/* Nothing arrives on any of fds within ms. */
static void silence(const int *fds, size_t nfds, int ms)
{
	uint8_t got[2048];
	ssize_t m;
	for (size_t i = 0; i < nfds; i++)
		assert_false(next_packet(fds[i], got, sizeof(got), &m, i ? 50 : ms));
}

/* Until tunnel id's drops[why] reaches want (snapshots refresh once a
 * second). */
static void wait_drops(struct vpn_endpoint *ep, const char *id, enum vpn_drop why, uint64_t want)
{
	struct vpn_tunnel_status st;
	for (int t = 0; t < 4000; t += 100) {
		if (vpn_endpoint_tunnel_status(ep, id, &st) && st.drops[why] >= want)
			return;
		usleep(100 * 1000);
	}
	assert_true(vpn_endpoint_tunnel_status(ep, id, &st));
	fail_msg("%s: drops[%s] = %llu, want %llu", id, vpn_drop_name(why),
		 (unsigned long long)st.drops[why], (unsigned long long)want);
}

static struct vpn_endpoint *endpoint_on(int plain_fd)
{
	struct vpn_endpoint_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.tun_name, sizeof(cfg.tun_name), "pair");
	cfg.use_plain_fd = true;
	cfg.plain_fd = plain_fd;
	cfg.on_status = on_status;
	struct vpn_endpoint *ep = vpn_endpoint_new(&cfg);
	assert_non_null(ep);
	return ep;
}

static void test_bgp_side(void **state)
{
	(void)state;
	if (!private_netns())
		skip();	/* needs root: a private network namespace for 127.0.0.x */
	int pa[2], pb[2], bg[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pb), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, bg), 0);
	/* a: vpcd's side, plaintext pa[0], BGP side bg[0]; b: the customer */
	struct vpn_endpoint *a = endpoint_on(pa[0]), *b = endpoint_on(pb[0]);
	assert_int_equal(vpn_endpoint_set_bgp_tun(a, bg[0]), 0);
	struct vpn_tunnel_spec s1, s2, s3, sb;
	spec_fill(&s1, "bgp#1", "127.0.0.1", "127.0.0.2");	/* inside 169.254.10.0/30 */
	spec_fill(&s2, "bgp#2", "127.0.0.3", "127.0.0.4");	/* no peer: DOWN */
	assert_int_equal(vpn_parse_cidr("169.254.11.0/30", &s2.inside), 0);
	spec_fill(&s3, "static#1", "127.0.0.5", "127.0.0.6");	/* static, DOWN */
	assert_int_equal(vpn_parse_cidr("169.254.12.0/30", &s3.inside), 0);
	s1.bgp = s2.bgp = true;
	spec_fill(&sb, "cgw#1", "127.0.0.2", "127.0.0.1");
	sb.inside = (struct vpn_cidr){ 0, 0 };
	sb.ike.startup = IKE_STARTUP_START;
	assert_int_equal(vpn_endpoint_add_tunnel(a, &s1), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(a, &s2), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(a, &s3), 0);
	assert_int_equal(vpn_endpoint_add_tunnel(b, &sb), 0);
	assert_int_equal(vpn_endpoint_start(a), 0);
	assert_int_equal(vpn_endpoint_start(b), 0);
	assert_true(wait_status(a, "bgp#1", true, NULL, 10000));
	assert_true(wait_status(b, "cgw#1", true, NULL, 10000));

	uint8_t p[256], got[2048];
	size_t n;
	ssize_t m;
	const int quiet_a[] = { bg[1], pa[1] }, quiet_b[] = { pb[1] };
	/* the customer's .2 to our .1 (BGP's TCP): to the BGP side only */
	n = ip_packet(p, "169.254.10.2", "169.254.10.1", 6, "open-179");
	crosses(pb[1], bg[1], p, n);
	silence(&pa[1], 1, 100);
	/* our .1 to the customer's .2, from the BGP side: into bgp#1 */
	n = ip_packet(p, "169.254.10.1", "169.254.10.2", 6, "keepalive");
	crosses(bg[1], pb[1], p, n);

	/* from the BGP side, dropped: a tunnel that is down, no tunnel, not
	 * our .1, not their .2 */
	n = ip_packet(p, "169.254.11.1", "169.254.11.2", 6, "to-down");
	send_packet(bg[1], p, n);
	n = ip_packet(p, "169.254.10.1", "10.0.0.5", 6, "no-tunnel");
	send_packet(bg[1], p, n);
	n = ip_packet(p, "169.254.10.5", "169.254.10.2", 6, "not-ours");
	send_packet(bg[1], p, n);
	n = ip_packet(p, "169.254.10.1", "169.254.10.3", 6, "not-theirs");
	send_packet(bg[1], p, n);
	/* bad frames: short, IPv6, a total length that lies, a header length
	 * beyond the packet */
	send_packet(bg[1], (const uint8_t *)"\x45\x00\x00", 3);
	uint8_t v6[40] = { 0x60 };
	send_packet(bg[1], v6, sizeof(v6));
	n = ip_packet(p, "169.254.10.1", "169.254.10.2", 6, "liar");
	p[3] += 40;
	send_packet(bg[1], p, n);
	n = ip_packet(p, "169.254.10.1", "169.254.10.2", 6, "");
	p[0] = 0x4f;
	send_packet(bg[1], p, n);
	silence(quiet_b, 1, 300);
	wait_drops(a, "bgp#2", VPN_DROP_BGP_DOWN, 1);
	wait_drops(a, "bgp#1", VPN_DROP_BGP_NOT_PEER, 2);
	struct vpn_endpoint_counters cnt;
	vpn_endpoint_counters(a, &cnt);
	assert_int_equal(cnt.drops[VPN_DROP_BGP_NO_TUNNEL], 1);
	assert_int_equal(cnt.drops[VPN_DROP_BAD_PACKET], 4);
	/* ... and the side still carries the inside pair */
	n = ip_packet(p, "169.254.10.1", "169.254.10.2", 6, "after-bad-frames");
	crosses(bg[1], pb[1], p, n);

	/* through bgp#1, dropped: to bgp#2's and to static#1's inside
	 * addresses; a stranger (not the customer's .2) to our .1 */
	n = ip_packet(p, "169.254.10.2", "169.254.11.1", 6, "cross");
	send_packet(pb[1], p, n);
	n = ip_packet(p, "169.254.10.2", "169.254.12.1", 17, "cross-static");
	send_packet(pb[1], p, n);
	n = ip_packet(p, "10.0.0.10", "169.254.10.1", 6, "stranger");
	send_packet(pb[1], p, n);
	silence(quiet_a, 2, 300);
	wait_drops(a, "bgp#1", VPN_DROP_INSIDE_OTHER, 2);
	wait_drops(a, "bgp#1", VPN_DROP_BGP_NOT_PEER, 3);

	/* ping to our .1 is still answered by the endpoint, not BGP's */
	n = ip_packet(p, "169.254.10.2", "169.254.10.1", 1, "ping");
	send_packet(pb[1], p, n);
	assert_true(next_packet(pb[1], got, sizeof(got), &m, 3000));
	assert_int_equal(m, (ssize_t)n);
	assert_int_equal(got[20], 0);	/* echo reply */
	assert_memory_equal(got + 12, p + 16, 4);
	silence(quiet_a, 2, 100);
	/* the VPC's traffic still goes to the plaintext side, not BGP's */
	n = ip_packet(p, "169.254.10.2", "10.96.0.5", 17, "vpc");
	crosses(pb[1], pa[1], p, n);
	silence(&bg[1], 1, 100);

	vpn_endpoint_counters(a, &cnt);
	assert_int_equal(cnt.bgp_to_side, 1);
	assert_int_equal(cnt.bgp_from_side, 2);

	/* the side closed: the inside pair is dropped, counted */
	assert_int_equal(vpn_endpoint_set_bgp_tun(a, -1), 0);
	assert_int_equal(read(bg[1], got, sizeof(got)), 0);	/* the endpoint's end is closed */
	n = ip_packet(p, "169.254.10.2", "169.254.10.1", 6, "no-side");
	send_packet(pb[1], p, n);
	wait_drops(a, "bgp#1", VPN_DROP_BGP_NO_SIDE, 1);
	silence(&pa[1], 1, 100);

	vpn_endpoint_stop(a);
	vpn_endpoint_stop(b);
	vpn_endpoint_free(a);
	vpn_endpoint_free(b);
	close(pa[1]);
	close(pb[1]);
	close(bg[1]);
}

/* One connection's two tunnels to one router: tunnel 2's inside pair sent
 * into tunnel 1's SA (strongSwan's libipsec after a restart: both inside
 * CHILD SAs get one reqid) is taken as tunnel 2's — its BGP side, its echo
 * answer; another connection's inside pair from the same router is still
 * dropped. */
static void test_inside_sibling(void **state)
{
	(void)state;
	if (!private_netns())
		skip();	/* needs root: a private network namespace for 127.0.0.x */
	int pa[2], pb[2], bg[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pb), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, bg), 0);
	struct vpn_endpoint *a = endpoint_on(pa[0]), *b = endpoint_on(pb[0]);
	assert_int_equal(vpn_endpoint_set_bgp_tun(a, bg[0]), 0);
	struct vpn_tunnel_spec s[3], r[3];
	static const char *const ids[] = { "vpn-a#1", "vpn-a#2", "vpn-b#1" };
	static const char *const ours[] = { "127.0.0.1", "127.0.0.3", "127.0.0.5" };
	static const char *const inside[] = { "169.254.10.0/30", "169.254.11.0/30", "169.254.12.0/30" };
	for (int i = 0; i < 3; i++) {
		spec_fill(&s[i], ids[i], ours[i], "127.0.0.2");
		assert_int_equal(vpn_parse_cidr(inside[i], &s[i].inside), 0);
		s[i].bgp = true;
		char id[16];
		snprintf(id, sizeof(id), "cgw#%d", i + 1);
		spec_fill(&r[i], id, "127.0.0.2", ours[i]);
		r[i].inside = (struct vpn_cidr){ 0, 0 };
		r[i].ike.startup = IKE_STARTUP_START;
		assert_int_equal(vpn_endpoint_add_tunnel(a, &s[i]), 0);
	}
	/* the router sends every inside address into tunnel 1 */
	assert_int_equal(vpn_parse_cidr("169.254.0.0/16", &r[0].routes[0]), 0);
	r[0].n_routes = 1;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vpn_endpoint_add_tunnel(b, &r[i]), 0);
	assert_int_equal(vpn_endpoint_start(a), 0);
	assert_int_equal(vpn_endpoint_start(b), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(wait_status(a, ids[i], true, NULL, 10000));
		char id[16];
		snprintf(id, sizeof(id), "cgw#%d", i + 1);
		assert_true(wait_status(b, id, true, NULL, 10000));
	}
	uint8_t p[256], got[2048];
	ssize_t m;
	/* tunnel 2's BGP packet through tunnel 1: to the BGP side */
	size_t n = ip_packet(p, "169.254.11.2", "169.254.11.1", 6, "open-179");
	crosses(pb[1], bg[1], p, n);
	silence(&pa[1], 1, 100);
	/* tunnel 2's ping through tunnel 1: answered (back through tunnel 2) */
	n = ip_packet(p, "169.254.11.2", "169.254.11.1", 1, "ping");
	send_packet(pb[1], p, n);
	assert_true(next_packet(pb[1], got, sizeof(got), &m, 3000));
	assert_int_equal(m, (ssize_t)n);
	assert_int_equal(got[20], 0);	/* echo reply */
	assert_memory_equal(got + 12, p + 16, 4);
	struct vpn_endpoint_counters cnt;
	vpn_endpoint_counters(a, &cnt);
	assert_int_equal(cnt.inside_sibling, 2);
	assert_int_equal(cnt.bgp_to_side, 1);
	/* counted on the tunnel they arrived on (its status is a snapshot) */
	struct vpn_tunnel_status st;
	for (int t = 0; t < 4000; t += 100) {
		if (vpn_endpoint_tunnel_status(a, "vpn-a#1", &st) && st.for_other_tunnel >= 2)
			break;
		usleep(100 * 1000);
	}
	assert_true(vpn_endpoint_tunnel_status(a, "vpn-a#1", &st));
	assert_int_equal(st.for_other_tunnel, 2);
	assert_int_equal(st.drops[VPN_DROP_SELECTOR], 0);
	assert_true(vpn_endpoint_tunnel_status(a, "vpn-a#2", &st));
	assert_int_equal(st.for_other_tunnel, 0);
	/* the other connection's inside pair from the same router: dropped */
	n = ip_packet(p, "169.254.12.2", "169.254.12.1", 6, "other-connection");
	send_packet(pb[1], p, n);
	const int quiet[] = { bg[1], pa[1] };
	silence(quiet, 2, 300);
	wait_drops(a, "vpn-a#1", VPN_DROP_INSIDE_OTHER, 1);
	vpn_endpoint_counters(a, &cnt);
	assert_int_equal(cnt.inside_sibling, 2);

	vpn_endpoint_stop(a);
	vpn_endpoint_stop(b);
	vpn_endpoint_free(a);
	vpn_endpoint_free(b);
	close(pa[1]);
	close(pb[1]);
	close(bg[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_check),
		cmocka_unit_test(test_plain_sides),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_ike_versions),
		cmocka_unit_test(test_bgp_side),
		cmocka_unit_test(test_inside_sibling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
