/*
 * Tests for bgp_run (src/bgp/bgp_run.h) with a real BIRD: started in a
 * namespace of its own (unique name per run, always deleted) with its
 * control socket in a scratch directory; asked through the socket (the
 * answers read by bgp_parse_protocols); killed and started again as a
 * supervisor does; reconfigured; stopped. Needs root (namespaces) and
 * bird2: skipped as a user, failed when bird2 is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/base.h"
#include "bgp/bgp.h"
#include "bgp/bgp_run.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static char dir[64], ns[BGP_RUN_NETNS_MAX], ctl[128];
static pid_t bird_pid = -1;

static void write_conf(size_t nconns)
{
	static const struct bgp_prefix vpc[] = { { IP(10, 0, 0, 0), 16 } };
	struct bgp_conn_desc c;
	struct bgp_conf_desc d = { &c, nconns, NULL };
	struct strbuf out = STRBUF_INIT;
	char err[256], path[128];

	memset(&c, 0, sizeof(c));
	strcpy(c.cd_vpn_id, "vpn-0a1b2c3d4e5f60718");
	strcpy(c.cd_vgw_id, "vgw-0123456789abcdef0");
	c.cd_vgw_asn = 64512;
	c.cd_cgw_asn = 65000;
	c.cd_inside_net[0] = IP(169, 254, 10, 0);
	c.cd_inside_net[1] = IP(169, 254, 20, 0);
	c.cd_export = vpc;
	c.cd_nexport = 1;
	assert_int_equal(bgp_conf_write(&d, &out, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, BGP_RUN_CONF);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(sb_str(&out), f);
	fclose(f);
	sb_free(&out);
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	strcpy(dir, "/tmp/vpcd-test-bgp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(ns, sizeof(ns), "vpcd-bgpt-%d-%04x", (int)getpid(), rand_u32() & 0xffff);
	snprintf(ctl, sizeof(ctl), "%s/%s", dir, BGP_RUN_CTL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	if (geteuid() != 0)
		return 0;
	if (bird_pid > 0)
		bgp_run_stop(bird_pid);
	bird_pid = -1;
	bgp_run_netns_delete(ns);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

/* `show protocols all` until BIRD answers (it opens its socket at start). */
static size_t ask_sessions(struct bgp_session *s, size_t max)
{
	char err[256] = "";
	size_t n = 0;

	for (int i = 0; i < 100; i++) {
		struct strbuf r = STRBUF_INIT;
		if (bgp_ctl_command(ctl, "show protocols all", 2000, &r, err, sizeof(err)) == 0) {
			if (bgp_parse_protocols(sb_str(&r), r.sb_len, s, max, &n, err, sizeof(err)) != 0)
				fail_msg("parse: %s\n%s", err, sb_str(&r));
			sb_free(&r);
			return n;
		}
		sb_free(&r);
		usleep(50 * 1000);
	}
	fail_msg("BIRD never answered on %s: %s", ctl, err);
	return 0;
}

static bool same_netns(pid_t pid, const char *name)
{
	struct stat a, b;
	char p[128];

	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	if (stat(p, &a) < 0)
		return false;
	snprintf(p, sizeof(p), "/run/netns/%s", name);
	if (stat(p, &b) < 0)
		return false;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void test_start_crash_restart_reconfigure_stop(void **state)
{
	struct bgp_run_config c = { dir, ns, NULL };
	struct bgp_session s[4];
	char err[256] = "";
	int pidfd = -1, st;

	(void)state;
	if (geteuid() != 0)
		skip();
	if (access(BGP_RUN_BIRD_DEFAULT, X_OK) != 0)
		fail_msg("bird2 is not installed (scripts/install-deps.sh)");
	write_conf(1);
	if (bgp_run_start(&c, &bird_pid, &pidfd, err, sizeof(err)) != 0)
		fail_msg("start: %s", err);
	/* its sessions, through its socket: configured, no peer yet; it
	 * answers from its namespace (checked once it answers: setns runs in
	 * the child after fork) */
	assert_int_equal(ask_sessions(s, 4), 2);
	assert_true(same_netns(bird_pid, ns));
	assert_string_equal(s[0].bs_protocol, "vpn_0a1b2c3d4e5f60718_t1");
	assert_string_equal(s[1].bs_protocol, "vpn_0a1b2c3d4e5f60718_t2");
	assert_int_equal(s[0].bs_local_as, 64512);
	assert_int_equal(s[0].bs_neighbor_as, 65000);
	assert_int_equal(s[1].bs_neighbor, IP(169, 254, 20, 2));
	assert_int_not_equal(s[0].bs_state, BGP_FSM_ESTABLISHED);

	/* a crash: the pidfd says so, the exit is reaped, BIRD starts again */
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(bgp_run_reap(bird_pid, &st), 0);
	assert_int_equal(kill(bird_pid, SIGKILL), 0);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(bgp_run_reap(bird_pid, &st), 1);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(pidfd);
	bird_pid = -1;
	if (bgp_run_start(&c, &bird_pid, &pidfd, err, sizeof(err)) != 0)
		fail_msg("restart (the dead BIRD's socket is still there): %s", err);
	assert_int_equal(ask_sessions(s, 4), 2);
	assert_true(same_netns(bird_pid, ns));

	/* the connection removed: `configure` drops its sessions */
	write_conf(0);
	struct strbuf r = STRBUF_INIT;
	if (bgp_ctl_command(ctl, "configure", 5000, &r, err, sizeof(err)) != 0)
		fail_msg("configure: %s", err);
	/* "0003 Reconfigured", or 0004 while the removed sessions shut down */
	if (!strstr(sb_str(&r), "0003 Reconfigured") && !strstr(sb_str(&r), "0004 Reconfiguration in progress"))
		fail_msg("configure answered: %s", sb_str(&r));
	sb_free(&r);
	for (int i = 0; i < 100 && ask_sessions(s, 4) != 0; i++)
		usleep(50 * 1000);
	assert_int_equal(ask_sessions(s, 4), 0);

	/* BIRD's error answers are replies, which the parser names */
	struct strbuf e = STRBUF_INIT;
	size_t n;
	assert_int_equal(bgp_ctl_command(ctl, "show route protocol nosuch", 2000, &e, err, sizeof(err)), 0);
	assert_int_equal(bgp_parse_protocols(sb_str(&e), e.sb_len, s, 4, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "BIRD: syntax error"));
	sb_free(&e);

	/* stopped: gone, and its socket answers no more */
	pid_t old = bird_pid;
	assert_int_equal(bgp_run_stop(bird_pid), 0);
	bird_pid = -1;
	assert_int_equal(kill(old, 0), -1);
	close(pidfd);
	struct strbuf none = STRBUF_INIT;
	assert_int_equal(bgp_ctl_command(ctl, "show protocols", 500, &none, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot reach BIRD"));
	sb_free(&none);
	assert_int_equal(bgp_run_netns_delete(ns), 0);
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	assert_int_equal(access(path, F_OK), -1);
}

/* Refusals with their cause, before anything is started. */
static void test_refusals(void **state)
{
	char err[256] = "";
	pid_t pid;
	int pidfd;

	(void)state;
	if (geteuid() != 0)
		skip();
	write_conf(1);
	struct bgp_run_config missing = { dir, ns, "/nonexistent/bird" };
	assert_int_equal(bgp_run_start(&missing, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "bird2 is not installed (/nonexistent/bird not found)");
	struct bgp_run_config badns = { dir, "a/b", NULL };
	assert_int_equal(bgp_run_start(&badns, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "bad namespace name");
	struct bgp_run_config noconf = { "/nonexistent", ns, NULL };
	assert_int_equal(bgp_run_start(&noconf, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "no /nonexistent/bird.conf");
	struct strbuf r = STRBUF_INIT;
	assert_int_equal(bgp_ctl_command(ctl, "show\nprotocols", 100, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "bad socket path or command");
	sb_free(&r);
}

static void test_restart_delay(void **state)
{
	(void)state;
	assert_int_equal(bgp_run_restart_delay_ms(0), 1000);
	assert_int_equal(bgp_run_restart_delay_ms(1), 1000);
	assert_int_equal(bgp_run_restart_delay_ms(2), 2000);
	assert_int_equal(bgp_run_restart_delay_ms(6), 32000);
	assert_int_equal(bgp_run_restart_delay_ms(1000), 32000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_crash_restart_reconfigure_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test(test_restart_delay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
