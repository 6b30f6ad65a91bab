/*
 * test_endpoint — the endpoint's contract without a real router: tunnel
 * spec validation and parsing helpers (no privileges), then, as root in a
 * private network namespace (skipped otherwise), two endpoints back to
 * back over 127.0.0.1 <-> 127.0.0.2: both UP, status snapshots read from
 * this thread, in-place update, IKE update (renegotiation), adding and
 * removing a tunnel without touching the other, stop. The data path
 * against strongSwan is tests/interop/test_ipsec_strongswan.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vpn/endpoint/endpoint.h"

#include <net/if.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_check),
		cmocka_unit_test(test_plain_sides),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_ike_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
