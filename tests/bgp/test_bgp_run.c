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
#include <pwd.h>
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
	struct bgp_run_config c = { .br_dir = dir, .br_netns = ns };
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
	struct bgp_run_config missing = { .br_dir = dir, .br_netns = ns, .br_bird = "/nonexistent/bird" };
	assert_int_equal(bgp_run_start(&missing, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "bird2 is not installed (/nonexistent/bird not found)");
	struct bgp_run_config badns = { .br_dir = dir, .br_netns = "a/b" };
	assert_int_equal(bgp_run_start(&badns, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "bad namespace name");
	struct bgp_run_config noconf = { .br_dir = "/nonexistent", .br_netns = ns };
	assert_int_equal(bgp_run_start(&noconf, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "no /nonexistent/bird.conf");
	struct strbuf r = STRBUF_INIT;
	assert_int_equal(bgp_ctl_command(ctl, "show\nprotocols", 100, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "bad socket path or command");
	sb_free(&r);
}

/* 'S', 'Z', ... of /proc/PID/stat, or 0 when there is no such process. */
static char proc_state(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* The line of /proc/PID/status that starts with key ("Uid:"), its value. */
static bool proc_status(pid_t pid, const char *key, char *out, size_t size)
{
	char p[64], line[256];
	bool found = false;
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			snprintf(out, size, "%s", line + strlen(key) + strspn(line + strlen(key), " \t"));
			out[strcspn(out, "\n")] = '\0';
			found = true;
		}
	fclose(f);
	return found;
}

/* As vpcd's helper runs it: as an unprivileged user with only the network
 * capabilities (its socket that user's, so vpcd's unprivileged main
 * process can talk to it), its stderr in bird.log; and it dies with the
 * process that started it, which BIRD's own -u would not do (its change of
 * user clears the death signal). */
static void test_as_user_dies_with_its_starter(void **state)
{
	char err[256] = "", path[160], v[128];
	int pfd[2];

	(void)state;
	if (geteuid() != 0)
		skip();
	if (access(BGP_RUN_BIRD_DEFAULT, X_OK) != 0)
		fail_msg("bird2 is not installed (scripts/install-deps.sh)");
	struct passwd *pw = getpwnam("nobody");
	assert_non_null(pw);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	write_conf(1);
	snprintf(path, sizeof(path), "%s/%s", dir, BGP_RUN_CONF);
	assert_int_equal(chown(dir, uid, gid), 0);
	assert_int_equal(chown(path, uid, gid), 0);
	struct bgp_run_config root_c = { .br_dir = dir, .br_netns = ns, .br_drop = true };
	pid_t pid;
	int pidfd;
	assert_int_equal(bgp_run_start(&root_c, &pid, &pidfd, err, sizeof(err)), -1);
	assert_string_equal(err, "BIRD's user must not be root");

	assert_int_equal(pipe(pfd), 0);
	pid_t starter = fork();
	assert_true(starter >= 0);
	if (starter == 0) {
		struct bgp_run_config c = { .br_dir = dir, .br_netns = ns, .br_drop = true,
					    .br_uid = uid, .br_gid = gid, .br_log = true };
		int32_t got = -1;
		if (bgp_run_start(&c, &pid, &pidfd, err, sizeof(err)) == 0)
			got = (int32_t)pid;
		if (write(pfd[1], &got, sizeof(got)) != sizeof(got))
			_exit(1);
		pause();
		_exit(0);
	}
	int32_t got;
	assert_int_equal(read(pfd[0], &got, sizeof(got)), (ssize_t)sizeof(got));
	close(pfd[0]);
	close(pfd[1]);
	if (got <= 0) {
		kill(starter, SIGKILL);
		waitpid(starter, NULL, 0);
		fail_msg("BIRD did not start as nobody");
	}
	pid_t bird = (pid_t)got;
	struct bgp_session s[4];
	assert_int_equal(ask_sessions(s, 4), 2);
	assert_true(same_netns(bird, ns));
	struct stat st;
	assert_int_equal(stat(ctl, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_true(proc_status(bird, "Uid:", v, sizeof(v)));
	char want[64];
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)uid, (unsigned)uid, (unsigned)uid, (unsigned)uid);
	assert_string_equal(v, want);
	/* CAP_NET_BIND_SERVICE (10), _BROADCAST (11), _ADMIN (12), _RAW (13) */
	assert_true(proc_status(bird, "CapEff:", v, sizeof(v)));
	assert_string_equal(v, "0000000000003c00");
	snprintf(path, sizeof(path), "%s/%s", dir, BGP_RUN_PIDFILE);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, BGP_RUN_LOG);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, uid);

	/* the starter killed: BIRD goes too (gone, or a zombie of init's) */
	assert_int_equal(kill(starter, SIGKILL), 0);
	waitpid(starter, NULL, 0);
	char state_ch = 'S';
	for (int i = 0; i < 100 && (state_ch = proc_state(bird)) != 0 && state_ch != 'Z'; i++)
		usleep(20 * 1000);
	if (state_ch != 0 && state_ch != 'Z') {
		kill(bird, SIGKILL);	/* ours: started above */
		fail_msg("BIRD (pid %d) outlived the process that started it", (int)bird);
	}
}

/* Namespaces of vpcds that are gone are deleted; a live one's stays. */
static void test_sweep(void **state)
{
	char dead[BGP_RUN_NETNS_MAX], live[BGP_RUN_NETNS_MAX], err[256], path[64];

	(void)state;
	if (geteuid() != 0)
		skip();
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);		/* a pid nobody has now */
	bgp_run_netns_name(child, dead);
	bgp_run_netns_name(getpid(), live);	/* ours: alive */
	assert_int_equal(bgp_run_netns_ensure(dead, err, sizeof(err)), 0);
	assert_int_equal(bgp_run_netns_ensure(live, err, sizeof(err)), 0);
	assert_true(bgp_run_netns_sweep() >= 1);
	snprintf(path, sizeof(path), "/run/netns/%s", dead);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "/run/netns/%s", live);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(bgp_run_netns_delete(live), 0);
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
		cmocka_unit_test_setup_teardown(test_as_user_dies_with_its_starter, setup, teardown),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_restart_delay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
