/*
 * test_engine_bgp_side — the engine's BGP side (engine_bgp_side.h) as root,
 * in-process (no helper): nothing is made for static connections; the
 * first dynamic one makes vpcd-bgp-<this pid> with bgp0 and hands it to a
 * running endpoint (a datagram BIRD's namespace sends to a customer's .2
 * is read by the endpoint, which has no tunnel for it and counts that);
 * each connection's inside .1s come and go with it, a /30 two connections
 * share stays until the last goes, addresses that are no tunnel's inside
 * .1 are never added; freeing deletes the namespace; bgp0 that cannot be
 * opened is tried again with backoff, its reason kept until it works.
 * Skipped unless root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "engine/engine_bgp_side.h"
#include "vpn/endpoint/endpoint.h"

#define NET(c, d)	(0xA9FE0000u | (uint32_t)(c) << 8 | (uint32_t)(d))	/* 169.254.c.d */

static char ns_name[40];

/* `ip -o addr show dev bgp0` in the namespace. */
static void addrs(char *out, size_t len)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ip -n %s -o -4 addr show dev bgp0 2>&1", ns_name);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	pclose(f);
}

static bool has(const char *addr)
{
	char out[4096];
	addrs(out, sizeof(out));
	char want[64];
	snprintf(want, sizeof(want), "inet %s/30 ", addr);
	return strstr(out, want) != NULL;
}

static void test_side(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		skip();	/* needs root: a namespace and a TUN */
	snprintf(ns_name, sizeof(ns_name), "vpcd-bgp-%ld", (long)getpid());
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);

	int pair[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
	struct vpn_endpoint_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.tun_name, sizeof(cfg.tun_name), "side");
	cfg.use_plain_fd = true;
	cfg.plain_fd = pair[0];
	struct vpn_endpoint *ep = vpn_endpoint_new(&cfg);
	assert_non_null(ep);
	assert_int_equal(vpn_endpoint_start(ep), 0);
	struct engine_bgp_side *s = engine_bgp_side_new(ep);

	/* a static connection: nothing made */
	assert_int_equal(engine_bgp_side_set(s, "vpn-static", NULL, 0), 0);
	assert_string_equal(engine_bgp_side_netns(s), "");
	assert_int_not_equal(access(path, F_OK), 0);

	/* the first dynamic one, from its plan: bgp0 and its two .1s */
	struct engine_vpn_plan plan;
	memset(&plan, 0, sizeof(plan));
	snprintf(plan.vp_id, sizeof(plan.vp_id), "vpn-a");
	plan.vp_tunnel[0].bgp = plan.vp_tunnel[1].bgp = true;
	plan.vp_tunnel[0].inside = (struct vpn_cidr){ NET(10, 0), 30 };
	plan.vp_tunnel[1].inside = (struct vpn_cidr){ NET(11, 4), 30 };
	assert_int_equal(engine_bgp_side_plan(s, &plan), 0);
	assert_string_equal(engine_bgp_side_netns(s), ns_name);
	assert_string_equal(engine_bgp_side_error(s), "");
	assert_true(has("169.254.10.1"));
	assert_true(has("169.254.11.5"));

	/* bgp0 is the endpoint's: what the namespace sends to a .2 reaches it
	 * (no tunnel has that /30 here: counted as such) */
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0 && nsfd >= 0);
	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
	close(nsfd);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(179),
				  .sin_addr.s_addr = htonl(NET(10, 2)) };
	assert_int_equal(sendto(u, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	close(u);
	struct vpn_endpoint_counters cnt;
	for (int t = 0; t < 40; t++) {
		vpn_endpoint_counters(ep, &cnt);
		if (cnt.drops[VPN_DROP_BGP_NO_TUNNEL])
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(cnt.drops[VPN_DROP_BGP_NO_TUNNEL], 1);

	/* a second connection shares tunnel 2's /30 (another gateway); a
	 * static tunnel's and a non-inside /30 are never added */
	uint32_t b[] = { NET(11, 4), NET(12, 8) };
	assert_int_equal(engine_bgp_side_set(s, "vpn-b", b, 2), 0);
	assert_true(has("169.254.12.9"));
	uint32_t bad[] = { 0x0A000000, NET(13, 3) };	/* 10.0.0.0, not a /30's network */
	assert_int_equal(engine_bgp_side_set(s, "vpn-bad", bad, 2), 0);
	char out[4096];
	addrs(out, sizeof(out));
	assert_null(strstr(out, "inet 10.0.0.1"));
	assert_null(strstr(out, "169.254.13."));
	/* vpn-a turns static: its own .1 goes, the shared one stays */
	plan.vp_tunnel[0].bgp = plan.vp_tunnel[1].bgp = false;
	assert_int_equal(engine_bgp_side_plan(s, &plan), 0);
	assert_false(has("169.254.10.1"));
	assert_true(has("169.254.11.5"));
	/* vpn-b's tunnel 1 moves to another /30, then vpn-b goes */
	b[1] = NET(14, 0);
	assert_int_equal(engine_bgp_side_set(s, "vpn-b", b, 2), 0);
	assert_false(has("169.254.12.9"));
	assert_true(has("169.254.14.1"));
	assert_int_equal(engine_bgp_side_set(s, "vpn-b", NULL, 0), 0);
	addrs(out, sizeof(out));
	assert_null(strstr(out, "inet "));

	/* freed: the namespace it made goes */
	engine_bgp_side_free(s);
	assert_int_not_equal(access(path, F_OK), 0);
	vpn_endpoint_free(ep);
	close(pair[1]);
}

static int sh(const char *fmt, const char *arg)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), fmt, arg);
	return system(cmd);
}

/* bgp0 cannot be opened (the name is taken in BIRD's namespace by a
 * device that is no TUN): the reason is kept and bgp0 tried again with a
 * doubling backoff, not only at vpcd's restart; once the name is free
 * the retry opens it and adds the /30s wanted meanwhile. */
static void test_side_retry(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		skip();	/* needs root: a namespace and a TUN */
	snprintf(ns_name, sizeof(ns_name), "vpcd-bgp-%ld", (long)getpid());
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	assert_int_equal(sh("ip netns add %s", ns_name), 0);
	assert_int_equal(sh("ip -n %s link add bgp0 type veth peer name bgp0-peer", ns_name), 0);

	int pair[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
	struct vpn_endpoint_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.tun_name, sizeof(cfg.tun_name), "side");
	cfg.use_plain_fd = true;
	cfg.plain_fd = pair[0];
	struct vpn_endpoint *ep = vpn_endpoint_new(&cfg);
	assert_non_null(ep);
	assert_int_equal(vpn_endpoint_start(ep), 0);
	struct engine_bgp_side *s = engine_bgp_side_new(ep);

	/* nothing wanted: nothing to retry */
	assert_false(engine_bgp_side_retry(s, UINT64_MAX));
	uint32_t a[] = { NET(10, 0) };
	uint64_t t0 = time_mono_ms();
	assert_int_equal(engine_bgp_side_set(s, "vpn-a", a, 1), -1);
	assert_non_null(strstr(engine_bgp_side_error(s), "BGP unavailable: cannot create TUN bgp0"));
	assert_string_equal(engine_bgp_side_netns(s), "");
	/* not yet due; then due but still failing: the reason stays */
	assert_false(engine_bgp_side_retry(s, t0));
	uint64_t t1 = time_mono_ms() + ENGINE_BGP_SIDE_RETRY_MIN_MS;
	assert_false(engine_bgp_side_retry(s, t1));
	assert_non_null(strstr(engine_bgp_side_error(s), "cannot create TUN bgp0"));
	/* a second connection meanwhile is kept too */
	uint32_t b[] = { NET(12, 8) };
	assert_int_equal(engine_bgp_side_set(s, "vpn-b", b, 1), -1);

	/* the name freed: the next retry, after the doubled wait, works */
	assert_int_equal(sh("ip -n %s link del bgp0", ns_name), 0);
	assert_false(engine_bgp_side_retry(s, t1 + 2 * ENGINE_BGP_SIDE_RETRY_MIN_MS - 1));
	assert_true(engine_bgp_side_retry(s, t1 + 2 * ENGINE_BGP_SIDE_RETRY_MIN_MS));
	assert_string_equal(engine_bgp_side_error(s), "");
	assert_string_equal(engine_bgp_side_netns(s), ns_name);
	assert_true(has("169.254.10.1"));
	assert_true(has("169.254.12.9"));
	assert_false(engine_bgp_side_retry(s, UINT64_MAX));	/* open: nothing to do */
	/* and it runs as usual from then on */
	assert_int_equal(engine_bgp_side_set(s, "vpn-b", NULL, 0), 0);
	assert_false(has("169.254.12.9"));

	engine_bgp_side_free(s);
	assert_int_not_equal(access(path, F_OK), 0);
	vpn_endpoint_free(ep);
	close(pair[1]);
}

/* A failed test_side_retry leaves no namespace behind. */
static int ns_cleanup(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	if (ns_name[0] && access(path, F_OK) == 0)
		(void)sh("ip netns del %s 2>/dev/null", ns_name);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_side),
		cmocka_unit_test_teardown(test_side_retry, ns_cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
