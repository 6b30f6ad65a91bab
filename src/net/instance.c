/*
 * instance — an instance's network: a network namespace named after the
 * instance id whose eth0 is a TAP device held by vpcd, with the ENI's MAC,
 * its private address and a default route via the subnet router (.1).
 *
 * Control plane only: this runs `ip` (iproute2) and switches the calling
 * thread's network namespace for a moment (setns is per thread, and
 * allowed in a threaded process for CLONE_NEWNET), so that the TAP is
 * born inside the namespace. Never called per packet.
 *
 * In a privilege-separated vpcd (priv.h) the main process has no right to
 * any of this: each public function here hands its request to the
 * privileged helper, which calls the same function there.
 */
#include "net/net_int.h"

#include "base/base.h"
#include "priv/priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if_arp.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The environment of every program vpcd runs: nothing of vpcd's own (which
 * may hold VPCD_SECRET_ACCESS_KEY or the like), only a fixed PATH. */
static char *const child_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };

/* `ip netns exec NS` bind-mounts /etc/netns/NS/<file> over /etc/<file>. */
#define NETNS_ETC "/etc/netns"

/* argv[0] found in child_env's PATH (not the caller's) into path. */
static bool
find_program(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/* Runs argv (no shell, child_env as its environment); 0 when it exits 0. */
static int
run(const char *const argv[])
{
	pid_t pid;
	int st;
	char path[64];

	if (!find_program(argv[0], path, sizeof(path))) {
		log_error("net", "cannot run %s: not found in /usr/sbin, /usr/bin, /sbin, /bin", argv[0]);
		return -1;
	}
	int err = posix_spawn(&pid, path, NULL, NULL, (char *const *)argv, child_env);
	if (err != 0) {
		log_error("net", "cannot run %s: %s", path, strerror(err));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char line[256] = "";
		size_t o = 0;
		for (size_t i = 0; argv[i] && o < sizeof(line) - 1; i++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s ", argv[i]);
		log_error("net", "failed: %s", line);
		return -1;
	}
	return 0;
}

static bool
name_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n >= max || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || s[i] == '.' ||
		      (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static void
write_proc(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;		/* no IPv6 in this kernel: nothing to turn off */
	if (write(fd, value, strlen(value)) < 0)
		log_warn("net", "%s: %s", path, strerror(errno));
	close(fd);
}

/* The offloads the router takes from an instance: partial checksums and
 * TSO over IPv4 (with ECN). Not TSO6 (IPv6 is off in instances and not
 * carried), not UFO/USO (UDP goes as it is sent). */
#define TAP_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)

/* In the namespace (this thread is in it): the TAP, its MAC, IPv6 off;
 * with offload, a virtio_net_hdr before each frame and TSO/checksum
 * offloads, so the instance's stack hands over 64 KB GSO frames. */
static int
tap_create_here(const char *ifname, const uint8_t mac[6], bool offload)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		log_error("net", "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		log_error("net", "TUNSETIFF %s: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	int hdr = (int)sizeof(struct virtio_net_hdr);
	if (offload && (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
			ioctl(fd, TUNSETOFFLOAD, (unsigned long)TAP_OFFLOADS) < 0)) {
		log_error("net", "%s: TAP offloads: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr.ifr_hwaddr, 0, sizeof(ifr.ifr_hwaddr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (s < 0 || ioctl(s, SIOCSIFHWADDR, &ifr) < 0) {
		log_error("net", "set MAC of %s: %s", ifname, strerror(errno));
		if (s >= 0)
			close(s);
		close(fd);
		return -1;
	}
	close(s);
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	write_proc(path, "1");
	return fd;
}

/* primary: the default route via the router; otherwise (a secondary ENI)
 * only a route to its subnet via its router, at metric 100, so that an
 * ENI of the primary's subnet does not clash with the primary's routes. */
static int
attach_in(const char *ns_name, const char *ifname, const struct net_eni_config *eni,
	  const struct cidr4 *subnet_cidr, bool primary, int *tap_fd)
{
	char path[64 + NET_ID_MAX];
	int fd = -1;

	*tap_fd = -1;
	if (!name_ok(ns_name, NET_ID_MAX) || !name_ok(ifname, IFNAMSIZ) ||
	    !cidr_contains_ip(subnet_cidr, eni->ip)) {
		log_error("net", "attach %s: bad namespace/interface name or address", eni->id);
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || self < 0) {
		log_error("net", "%s: %s", nsfd < 0 ? path : "own namespace", strerror(errno));
		goto out;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		log_error("net", "setns %s: %s", ns_name, strerror(errno));
		goto out;
	}
	fd = tap_create_here(ifname, eni->mac, !eni->no_offload);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* This thread would go on in the instance's namespace. */
		log_error("net", "cannot return from namespace %s: %s", ns_name, strerror(errno));
		abort();
	}
	if (fd < 0)
		goto out;

	char ip[IP4_STR_MAX], addr[IP4_STR_MAX + 8], router[IP4_STR_MAX];
	ip4_format(eni->ip, ip);
	snprintf(addr, sizeof(addr), "%s/%u", ip, subnet_cidr->c_len);
	ip4_format(subnet_router_address(subnet_cidr), router);
	char net[IP4_STR_MAX + 8], netaddr[IP4_STR_MAX];
	uint32_t mask = subnet_cidr->c_len ? ~0u << (32 - subnet_cidr->c_len) : 0;
	ip4_format(subnet_cidr->c_addr & mask, netaddr);
	snprintf(net, sizeof(net), "%s/%u", netaddr, subnet_cidr->c_len);
	const char *const steps[][14] = {
		{ "ip", "-n", ns_name, "link", "set", "lo", "up", NULL },
		{ "ip", "-n", ns_name, "link", "set", ifname, "up", NULL },
		/* no on-link subnet route: every packet goes to the router */
		{ "ip", "-n", ns_name, "addr", "add", addr, "dev", ifname, "noprefixroute", NULL },
		{ "ip", "-n", ns_name, "route", "add", router, "dev", ifname, "scope", "link", NULL },
		{ "ip", "-n", ns_name, "route", "replace", "default", "via", router, "dev", ifname, NULL },
	};
	const char *const secondary[][14] = {
		{ "ip", "-n", ns_name, "link", "set", ifname, "up", NULL },
		{ "ip", "-n", ns_name, "addr", "add", addr, "dev", ifname, "noprefixroute", NULL },
		{ "ip", "-n", ns_name, "route", "add", router, "dev", ifname, "scope", "link", "metric", "100", NULL },
		{ "ip", "-n", ns_name, "route", "add", net, "via", router, "dev", ifname, "metric", "100", NULL },
	};
	size_t nsteps = primary ? ARRAY_LEN(steps) : ARRAY_LEN(secondary);
	for (size_t i = 0; i < nsteps; i++)
		if (run(primary ? steps[i] : secondary[i]) < 0) {
			close(fd);
			fd = -1;
			goto out;
		}
	*tap_fd = fd;
	log_info("net", "%s: %s in namespace %s, %s via %s%s", eni->id, ifname, ns_name, addr, router,
		 primary ? "" : " (secondary: its subnet only)");
out:
	if (nsfd >= 0)
		close(nsfd);
	if (self >= 0)
		close(self);
	return fd >= 0 ? 0 : -1;
}

int
net_eni_attach_netns(const char *ns_name, const char *ifname, const struct net_eni_config *eni,
		     const struct cidr4 *subnet_cidr, int *tap_fd)
{
	if (priv_remote())
		return priv_eni_attach(ns_name, ifname, eni, subnet_cidr, true, tap_fd);
	return attach_in(ns_name, ifname, eni, subnet_cidr, true, tap_fd);
}

int
net_eni_attach_secondary(const char *ns_name, const char *ifname, const struct net_eni_config *eni,
			 const struct cidr4 *subnet_cidr, int *tap_fd)
{
	if (priv_remote())
		return priv_eni_attach(ns_name, ifname, eni, subnet_cidr, false, tap_fd);
	return attach_in(ns_name, ifname, eni, subnet_cidr, false, tap_fd);
}

int
net_instance_create(const char *id, const struct net_eni_config *eni,
		    const struct cidr4 *subnet_cidr, int *tap_fd)
{
	*tap_fd = -1;
	if (priv_remote())
		return priv_instance_create(id, eni, subnet_cidr, tap_fd);
	if (!name_ok(id, NET_ID_MAX)) {
		log_error("net", "instance id not usable as a namespace name");
		return -1;
	}
	const char *const add[] = { "ip", "netns", "add", id, NULL };
	if (run(add) < 0)
		return -1;
	if (net_eni_attach_netns(id, "eth0", eni, subnet_cidr, tap_fd) < 0) {
		const char *const del[] = { "ip", "netns", "del", id, NULL };
		(void)run(del);
		return -1;
	}
	return 0;
}

int
net_instance_destroy(const char *id, int tap_fd)
{
	if (tap_fd >= 0)
		close(tap_fd);
	if (priv_remote())
		return priv_instance_destroy(id);
	if (!name_ok(id, NET_ID_MAX))
		return -1;
	const char *const del[] = { "ip", "netns", "del", id, NULL };
	int rc = run(del);
	/* the namespace's own /etc files (net_instance_set_resolv) */
	char path[64 + NET_ID_MAX];
	snprintf(path, sizeof(path), NETNS_ETC "/%s/resolv.conf", id);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("net", "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), NETNS_ETC "/%s", id);
	if (rmdir(path) < 0 && errno != ENOENT)
		log_warn("net", "%s: %s", path, strerror(errno));
	return rc;
}

int
net_instance_set_resolv(const char *id, const char *text)
{
	if (priv_remote())
		return priv_set_resolv(id, text);
	if (!name_ok(id, NET_ID_MAX))
		return -1;
	char dir[64 + NET_ID_MAX], path[96 + NET_ID_MAX], tmp[112 + NET_ID_MAX];
	snprintf(dir, sizeof(dir), NETNS_ETC "/%s", id);
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	snprintf(tmp, sizeof(tmp), "%s/.resolv.conf.vpcd", dir);
	/* vpcd's umask is 077: a resolver configuration is for everyone to read */
	if ((mkdir(NETNS_ETC, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
	    chmod(dir, 0755) < 0) {
		log_error("net", "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* written aside and renamed: `ip netns exec` bind-mounts a whole file */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 && fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		log_error("net", "%s: %s", tmp, strerror(errno));
		return -1;
	}
	bool ok = fputs(text, f) >= 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) < 0) {
		log_error("net", "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
