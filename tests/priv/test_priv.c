/*
 * test_priv.c — the privileged helper's narrow protocol (priv.h): a helper
 * forked here with one outside address, a TUN name and no uplink is asked,
 * through the client's calls, for everything it must refuse (other
 * addresses, devices, TUN flags other than PRIV_TUN_OFFLOAD, interfaces,
 * namespaces that are not instances',
 * malformed ENIs, unprintable resolver text, nice values for threads not
 * ours or outside 0..19, short and unknown messages);
 * each is answered EPERM/EINVAL without being done, and the helper still
 * answers afterwards. Nothing here needs or uses root: refusals come first;
 * then, as root only, BGP's side: the namespace vpcd-bgp-<this pid> with
 * its TUN bgp0 (up, MTU, fd back, a second one refused), inside addresses
 * added and deleted (both idempotent) and carrying a packet to the fd, the
 * namespace deleted when the helper ends.
 * And the network side's seccomp filter, in a child: user and network
 * namespaces, mount, ptrace, exec, BPF refused; threads (clone3 refused,
 * glibc falls back to clone), sockets and files still work.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bgp/bgp_run.h"
#include "bgp/bgp_tun.h"

#include "priv/priv_int.h"

void priv_client_set_channel(int fd);

static pid_t helper;
static int chan = -1;

static int setup(void **state)
{
	(void)state;
	static const uint32_t outside[] = { 0xCB007101 };	/* 203.0.113.1 */
	struct priv_config cfg = { .pc_outside = outside, .pc_noutside = 1, .pc_tun = "vpcdtst0",
				   .pc_close_fd = -1 };
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	helper = fork();
	if (helper == 0) {
		close(sv[0]);
		priv_helper_main(sv[1], &cfg);
	}
	close(sv[1]);
	chan = sv[0];
	priv_client_set_channel(chan);
	return 0;
}

static char bgp_ns_path[64];

static int teardown(void **state)
{
	(void)state;
	priv_client_set_channel(-1);
	close(chan);
	int st;
	waitpid(helper, &st, 0);
	/* the helper deletes BIRD's namespace when it ends */
	if (bgp_ns_path[0] && access(bgp_ns_path, F_OK) == 0) {
		fprintf(stderr, "%s is still there after the helper ended\n", bgp_ns_path);
		return -1;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static struct net_eni_config good_eni(void)
{
	struct net_eni_config e;
	memset(&e, 0, sizeof(e));
	strcpy(e.id, "eni-0123456789abcdef0");
	memcpy(e.mac, "\x02\x00\x00\x00\x00\x01", 6);
	e.ip = 0x0A000105;	/* 10.0.1.5 */
	return e;
}

static const struct cidr4 subnet = { 0x0A000100, 24 };

#define REFUSED(call) do { errno = 0; assert_int_equal((call), -1); assert_int_equal(errno, EPERM); } while (0)

static void test_outside_addresses_only(void **state)
{
	(void)state;
	int fds[3];
	REFUSED(priv_vpn_sockets(0xC6336402, 0, fds));		/* 198.51.100.2: not ours */
	REFUSED(priv_vpn_sockets(0, 0, fds));
	REFUSED(priv_vpn_sockets(0xCB007101, -5, fds));		/* ours, a bad buffer size */
	assert_int_equal(fds[0], -1);
}

static void test_devices_and_routes_only_the_configured(void **state)
{
	(void)state;
	char name[16] = "evil0";
	REFUSED(priv_tun_open(name, 1400, 0));
	REFUSED(priv_tun_open(name, 1400, PRIV_TUN_OFFLOAD));
	strcpy(name, "vpcdtst0");
	REFUSED(priv_tun_open(name, 100000, 0));		/* the name, an absurd MTU */
	REFUSED(priv_tun_open(name, 1400, 0x80));		/* the name, an unknown flag */
	REFUSED(priv_tun_open(name, 1400, PRIV_TUN_OFFLOAD | 0x02));
	REFUSED(priv_tun_open(name, 1400, 0x100));		/* past the byte: still refused */
	REFUSED(priv_uplink_socket("eth0"));			/* no --uplink */
	REFUSED(priv_uplink_socket(""));
	/* routes: only into the TUN (which does not exist here: none allowed) */
	assert_int_equal(priv_route_change(true, 1, 0, 0), -EPERM);
	assert_int_equal(priv_route_change(false, 1, 0x0A000000, 8), -EPERM);
}

static void test_namespaces_only_instances(void **state)
{
	(void)state;
	struct net_eni_config e = good_eni();
	int fd = -1;
	REFUSED(priv_instance_destroy("lo"));
	REFUSED(priv_instance_destroy("../../etc"));
	REFUSED(priv_instance_destroy("i-XYZ"));
	REFUSED(priv_instance_destroy("i-0123456789abcdef0/../x"));
	REFUSED(priv_instance_create("vpcdtest", &e, &subnet, &fd));
	REFUSED(priv_instance_create("i-../../x", &e, &subnet, &fd));
	REFUSED(priv_eni_attach("a/b", "eth1", &e, &subnet, false, &fd));
	REFUSED(priv_eni_attach("-n", "eth1", &e, &subnet, false, &fd));
	REFUSED(priv_eni_attach("ns1", "veth0", &e, &subnet, false, &fd));
	REFUSED(priv_eni_attach("ns1", "eth1 x", &e, &subnet, true, &fd));
	assert_int_equal(fd, -1);
}

static void test_malformed_enis(void **state)
{
	(void)state;
	int fd = -1;
	struct net_eni_config e = good_eni();
	e.mac[0] = 0x01;					/* multicast */
	REFUSED(priv_instance_create("i-0123456789abcdef0", &e, &subnet, &fd));
	e = good_eni();
	e.ip = 0x0A000205;					/* outside the subnet */
	REFUSED(priv_instance_create("i-0123456789abcdef0", &e, &subnet, &fd));
	e = good_eni();
	strcpy(e.id, "eni-;rm");
	REFUSED(priv_instance_create("i-0123456789abcdef0", &e, &subnet, &fd));
	struct cidr4 wide = { 0, 0 };
	e = good_eni();
	REFUSED(priv_instance_create("i-0123456789abcdef0", &e, &wide, &fd));
}

/* THREAD_NICE: only this process's threads, only 0..19; as root the
 * helper takes a thread to 3 and to 0 (which the thread itself,
 * unprivileged, could not), then back to where it was. */
static void test_thread_nice_only_ours(void **state)
{
	(void)state;
	pid_t self = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int base = getpriority(PRIO_PROCESS, (id_t)self);
	assert_int_equal(errno, 0);
	assert_int_equal(priv_thread_nice(1, 5), -EPERM);		/* init: not ours */
	assert_int_equal(priv_thread_nice(0, 5), -EPERM);
	assert_int_equal(priv_thread_nice(-3, 5), -EPERM);
	assert_int_equal(priv_thread_nice(self, 20), -EPERM);
	assert_int_equal(priv_thread_nice(self, -1), -EPERM);		/* never below 0 */
	assert_int_equal(priv_thread_nice(self, -20), -EPERM);
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)self), base);	/* none of that was done */
	if (geteuid() != 0)
		return;
	int other = base == 3 ? 4 : 3;
	assert_int_equal(priv_thread_nice(self, other), 0);
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)self), other);
	assert_int_equal(priv_thread_nice(self, 0), 0);
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)self), 0);
	assert_int_equal(priv_thread_nice(self, base), 0);		/* as it was (nice -n 19 make test) */
}

static void test_resolver_text_printable(void **state)
{
	(void)state;
	REFUSED(priv_set_resolv("i-0123456789abcdef0", "nameserver 10.0.0.2\n\x1b]0;x\x07"));
	REFUSED(priv_set_resolv("lo", "nameserver 10.0.0.2\n"));
}

static void test_short_and_unknown_messages(void **state)
{
	(void)state;
	struct priv_msg m;
	assert_int_equal(send(chan, "abc", 3, 0), 3);
	assert_int_equal(recv(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(m.pm_rc, -EINVAL);
	assert_int_equal(m.pm_nfds, 0);
	memset(&m, 0, sizeof(m));
	m.pm_op = 99;
	assert_int_equal(send(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(recv(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(m.pm_rc, -EPERM);
	/* strings without their NUL are cut, not read past */
	memset(&m, 'a', sizeof(m));
	m.pm_op = 4;	/* PRIV_OP_INSTANCE_DESTROY */
	assert_int_equal(send(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(recv(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(m.pm_rc, -EPERM);
}

static void test_helper_still_answers(void **state)
{
	(void)state;
	char why[256] = "";
	/* true as root with /dev/net/tun; else false with a reason: either
	 * way an answer, not a dead channel */
	if (!priv_dataplane_check(why, sizeof(why)))
		assert_true(why[0] != '\0' && strstr(why, "does not answer") == NULL);
}

static void test_bgp_addresses_only_inside_dot1(void **state)
{
	(void)state;
	char why[256];
	/* 169.254.10.1/30 is the one kind allowed; everything else is refused */
	REFUSED(priv_bgp_addr(true, 0xA9FE0A02, 30, why, sizeof(why)));	/* .2: the customer's */
	REFUSED(priv_bgp_addr(true, 0xA9FE0A00, 30, why, sizeof(why)));	/* the network */
	REFUSED(priv_bgp_addr(true, 0xA9FE0A01, 29, why, sizeof(why)));	/* not a /30 */
	REFUSED(priv_bgp_addr(true, 0xA9FE0A01, 32, why, sizeof(why)));
	REFUSED(priv_bgp_addr(false, 0x0A000001, 30, why, sizeof(why)));	/* 10.0.0.1 */
	REFUSED(priv_bgp_addr(true, 0xA9FF0A01, 30, why, sizeof(why)));	/* 169.255.10.1 */
	REFUSED(priv_bgp_addr(true, 0xC0A80001, 30, why, sizeof(why)));	/* 192.168.0.1 */
	/* a flag that is neither add nor delete */
	struct priv_msg m;
	memset(&m, 0, sizeof(m));
	m.pm_op = PRIV_OP_BGP_ADDR;
	m.pm_flag = 7;
	m.pm_ip = 0xA9FE0A01;
	m.pm_prefix = 30;
	assert_int_equal(send(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(recv(chan, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	assert_int_equal(m.pm_rc, -EPERM);
	/* the right kind, but before the helper made bgp0 */
	REFUSED(priv_bgp_addr(true, 0xA9FE0A01, 30, why, sizeof(why)));
}

/* The output of an ip command, for checking what the helper did. */
static void command_output(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	pclose(f);
}

/* A UDP socket opened inside the namespace at path (this thread goes in
 * and comes back). */
static int socket_in(const char *path)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0 && ns >= 0);
	assert_int_equal(setns(ns, CLONE_NEWNET), 0);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
	close(ns);
	assert_true(s >= 0);
	return s;
}

static void test_bgp_tun_as_root(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		skip();	/* needs root: a namespace and a TUN */
	char ns[32] = "", why[256] = "", want[32], cmd[256], out[4096];
	snprintf(want, sizeof(want), "vpcd-bgp-%ld", (long)getpid());	/* the helper's parent */
	snprintf(bgp_ns_path, sizeof(bgp_ns_path), "/run/netns/%s", want);
	int fd = priv_bgp_tun(ns, why, sizeof(why));
	if (fd < 0)
		fail_msg("bgp-tun: %s", why);
	assert_string_equal(ns, want);
	assert_int_equal(access(bgp_ns_path, F_OK), 0);
	/* bgp0 is held: a second one is refused, with the kernel's reason */
	errno = 0;
	assert_int_equal(priv_bgp_tun(ns, why, sizeof(why)), -1);
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(why, "bgp0"));

	/* add (twice: fine), and the kernel's /30 route with it */
	assert_int_equal(priv_bgp_addr(true, 0xA9FE0A01, 30, why, sizeof(why)), 0);
	assert_int_equal(priv_bgp_addr(true, 0xA9FE0A01, 30, why, sizeof(why)), 0);
	assert_int_equal(priv_bgp_addr(true, 0xA9FE0B05, 30, why, sizeof(why)), 0);
	snprintf(cmd, sizeof(cmd), "ip -n %s -o addr show dev bgp0; ip -n %s -o link show dev bgp0; "
		 "ip -n %s -o link show dev lo", want, want, want);
	command_output(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "inet 169.254.10.1/30"));
	assert_non_null(strstr(out, "inet 169.254.11.5/30"));
	assert_null(strstr(out, "inet6"));		/* IPv4 only */
	assert_non_null(strstr(out, "mtu 1400"));
	assert_non_null(strstr(out, "bgp0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP>"));
	assert_non_null(strstr(out, "lo: <LOOPBACK,UP,LOWER_UP>"));

	/* a datagram to the customer's .2 comes out of the fd */
	int s = socket_in(bgp_ns_path);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(179),
				  .sin_addr.s_addr = htonl(0xA9FE0A02) };
	assert_int_equal(sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	close(s);
	struct pollfd pfd = { fd, POLLIN, 0 };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	uint8_t pkt[2048];
	ssize_t n = read(fd, pkt, sizeof(pkt));
	assert_int_equal(n, 20 + 8 + 5);
	assert_int_equal(pkt[0], 0x45);
	assert_int_equal(pkt[9], 17);
	assert_memory_equal(pkt + 12, "\xa9\xfe\x0a\x01", 4);	/* from our .1 */
	assert_memory_equal(pkt + 16, "\xa9\xfe\x0a\x02", 4);	/* to the customer's .2 */

	/* delete (twice: fine) */
	assert_int_equal(priv_bgp_addr(false, 0xA9FE0A01, 30, why, sizeof(why)), 0);
	assert_int_equal(priv_bgp_addr(false, 0xA9FE0A01, 30, why, sizeof(why)), 0);
	snprintf(cmd, sizeof(cmd), "ip -n %s -o addr show dev bgp0", want);
	command_output(cmd, out, sizeof(out));
	assert_null(strstr(out, "169.254.10.1"));
	assert_non_null(strstr(out, "inet 169.254.11.5/30"));
	close(fd);
}

static void *thread_main(void *arg)
{
	return arg;
}

/* In the filtered child: 0 when every expectation holds, else the line
 * (1..250: an exit status must not wrap to 0). */
#define FAILED_AT (__LINE__ % 250 + 1)
static int filtered_child(void)
{
	if (priv_seccomp_install() < 0)
		return FAILED_AT;
	if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
		return FAILED_AT;
	if (unshare(CLONE_NEWNET) != -1 || errno != EPERM)
		return FAILED_AT;
	if (syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM)
		return FAILED_AT;
	if (mount("none", "/tmp", "tmpfs", 0, NULL) != -1 || errno != EPERM)
		return FAILED_AT;
	if (syscall(SYS_bpf, BPF_PROG_LOAD, NULL, 0) != -1 || errno != EPERM)
		return FAILED_AT;
#if !defined(__SANITIZE_ADDRESS__)
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) != -1 || errno != EPERM)
		return FAILED_AT;
	char *const argv[] = { "true", NULL }, *const envp[] = { NULL };
	if (execve("/bin/true", argv, envp) != -1 || errno != EPERM)
		return FAILED_AT;
#endif
	/* what vpcd does all day still works */
	pthread_t t;
	void *out;
	if (pthread_create(&t, NULL, thread_main, (void *)7) != 0 || pthread_join(t, &out) != 0 || out != (void *)7)
		return FAILED_AT;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s < 0 || f < 0)
		return FAILED_AT;
	close(s);
	close(f);
	pid_t p = fork();	/* a plain fork is a clone without namespace flags */
	if (p == 0)
		_exit(0);
	int st;
	if (p < 0 || waitpid(p, &st, 0) != p)
		return FAILED_AT;
	return 0;
}

static void test_seccomp_filter(void **state)
{
	(void)state;
	pid_t p = fork();
	if (p == 0)
		_exit(filtered_child());
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st))
		fail_msg("the filtered child failed at test_priv.c line %d (mod 250, + 1)", WEXITSTATUS(st));
}

/* BIRD: only this vpcd's namespace (vpcd-bgp-<the helper's parent>), only
 * with a BGP directory, only the BIRD the helper started is stopped. */
static void test_bgp_only_this_vpcds(void **state)
{
	(void)state;
	char err[256] = "", mine[BGP_RUN_NETNS_MAX];
	int pid = -1, pidfd = -1;
	bgp_run_netns_name(getpid(), mine);
	REFUSED(priv_bgp_start("vpcd-bgp-1", &pid, &pidfd, err, sizeof(err)));
	assert_non_null(strstr(err, "only this vpcd's BGP namespace"));
	REFUSED(priv_bgp_start("../../etc", &pid, &pidfd, err, sizeof(err)));
	REFUSED(priv_bgp_start("", &pid, &pidfd, err, sizeof(err)));
	/* this helper was started without a data dir */
	REFUSED(priv_bgp_start(mine, &pid, &pidfd, err, sizeof(err)));
	assert_string_equal(err, "no BGP directory in the data dir");
	assert_int_equal(pidfd, -1);
	assert_int_equal(pid, -1);
	REFUSED(priv_bgp_stop(1));
	REFUSED(priv_bgp_stop(getpid()));
	REFUSED(priv_bgp_stop(0));
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", mine);
	assert_int_equal(access(path, F_OK), -1);	/* nothing made */
}

/* The data dir's bgp/ must be a private directory of a user that is not
 * root: BIRD runs as its owner. A link, an open directory, root's: refused
 * before anything is started or made. */
static void test_bgp_directory_checked(void **state)
{
	(void)state;
	char dir[] = "/tmp/vpcd-test-priv-XXXXXX", bgp[64], cmd[128], err[256] = "", mine[BGP_RUN_NETNS_MAX];
	assert_non_null(mkdtemp(dir));
	snprintf(bgp, sizeof(bgp), "%s/bgp", dir);
	bgp_run_netns_name(getpid(), mine);
	struct priv_config cfg = { .pc_data_dir = dir, .pc_close_fd = -1 };
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t h2 = fork();
	if (h2 == 0) {
		close(sv[0]);
		priv_helper_main(sv[1], &cfg);
	}
	close(sv[1]);
	priv_client_set_channel(sv[0]);
	int pid = -1, pidfd = -1;

	assert_int_equal(symlink("/etc", bgp), 0);		/* a link */
	REFUSED(priv_bgp_start(mine, &pid, &pidfd, err, sizeof(err)));
	assert_string_equal(err, "the data dir's bgp/ must be a private directory of vpcd's user");
	assert_int_equal(unlink(bgp), 0);
	assert_int_equal(mkdir(bgp, 0755), 0);			/* open to others */
	REFUSED(priv_bgp_start(mine, &pid, &pidfd, err, sizeof(err)));
	assert_string_equal(err, "the data dir's bgp/ must be a private directory of vpcd's user");
	if (geteuid() == 0) {					/* root's */
		assert_int_equal(chmod(bgp, 0700), 0);
		REFUSED(priv_bgp_start(mine, &pid, &pidfd, err, sizeof(err)));
		assert_string_equal(err, "the data dir's bgp/ must be a private directory of vpcd's user");
	}
	assert_int_equal(pidfd, -1);
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", mine);
	assert_int_equal(access(path, F_OK), -1);

	priv_client_set_channel(chan);
	close(sv[0]);
	int st;
	waitpid(h2, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outside_addresses_only),
		cmocka_unit_test(test_devices_and_routes_only_the_configured),
		cmocka_unit_test(test_namespaces_only_instances),
		cmocka_unit_test(test_malformed_enis),
		cmocka_unit_test(test_resolver_text_printable),
		cmocka_unit_test(test_thread_nice_only_ours),
		cmocka_unit_test(test_short_and_unknown_messages),
		cmocka_unit_test(test_bgp_only_this_vpcds),
		cmocka_unit_test(test_bgp_directory_checked),
		cmocka_unit_test(test_helper_still_answers),
		cmocka_unit_test(test_bgp_addresses_only_inside_dot1),
		cmocka_unit_test(test_bgp_tun_as_root),
		cmocka_unit_test(test_seccomp_filter),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
