/*
 * bgp_tun — bgp0 and its inside addresses in BIRD's namespace (bgp_tun.h).
 * The TUN is born inside the namespace (the calling thread enters it for
 * the open, as net/instance.c does for a TAP); addresses go through an
 * rtnetlink socket opened there. Runs no program; logs nothing (the
 * caller logs err).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/base.h"
#include "bgp/bgp_run.h"
#include "bgp/bgp_tun.h"

#define INSIDE_BASE	0xa9fe0000u	/* 169.254.0.0/16 */
#define NL_TIMEOUT_S	2

bool bgp_tun_addr_ok(uint32_t addr, unsigned prefix_len)
{
	return prefix_len == BGP_TUN_PREFIX && (addr & 0xffff0000u) == INSIDE_BASE && (addr & 3u) == 1;
}

/* The calling thread into /run/netns/name; *self: where it comes back to. */
static int netns_enter(const char *name, int *self, char *err, size_t errlen)
{
	char path[64 + BGP_RUN_NETNS_MAX];
	size_t n = strnlen(name, BGP_RUN_NETNS_MAX);

	*self = -1;
	if (n == 0 || n >= BGP_RUN_NETNS_MAX || name[0] == '.' || strchr(name, '/')) {
		err_set(err, errlen, "bad namespace name");
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		err_set(err, errlen, "namespace %s: %s", name, strerror(errno));
		return -1;
	}
	*self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*self < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		err_set(err, errlen, "cannot enter namespace %s: %s", name, strerror(errno));
		close(nsfd);
		if (*self >= 0)
			close(*self);
		*self = -1;
		return -1;
	}
	close(nsfd);
	return 0;
}

static void netns_leave(int self)
{
	if (setns(self, CLONE_NEWNET) < 0)
		abort();	/* this thread would go on in BIRD's namespace */
	close(self);
}

/* In the namespace: bgp0 made, IPv6 off, MTU set, up. */
static int tun_create_here(char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		err_set(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", BGP_TUN_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err_set(err, errlen, "cannot create TUN %s: %s", BGP_TUN_NAME, strerror(errno));
		close(fd);
		return -1;
	}
	/* no IPv6 (link-local address, router solicitations) on BGP's side:
	 * nothing but the inside addresses' IPv4 */
	int v6 = open("/proc/sys/net/ipv6/conf/" BGP_TUN_NAME "/disable_ipv6", O_WRONLY | O_CLOEXEC);
	if (v6 >= 0) {
		if (write(v6, "1", 1) != 1) {
			/* a kernel without IPv6 in this namespace: nothing to turn off */
		}
		close(v6);
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		err_set(err, errlen, "socket: %s", strerror(errno));
		close(fd);
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", BGP_TUN_NAME);
	ifr.ifr_mtu = BGP_TUN_MTU;
	bool ok = ioctl(s, SIOCSIFMTU, &ifr) == 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", BGP_TUN_NAME);
	ok = ok && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	if (!ok) {
		err_set(err, errlen, "%s: cannot set MTU %d and bring it up: %s", BGP_TUN_NAME, BGP_TUN_MTU,
			strerror(errno));
		close(s);
		close(fd);
		return -1;
	}
	close(s);
	return fd;
}

int bgp_tun_create(const char *netns, char *err, size_t errlen)
{
	int self;

	if (bgp_run_netns_ensure(netns, err, errlen) < 0 || netns_enter(netns, &self, err, errlen) < 0)
		return -1;
	int fd = tun_create_here(err, errlen);
	netns_leave(self);
	return fd;
}

static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* One RTM_NEWADDR/RTM_DELADDR on nl: 0 or -errno (the kernel's). */
static int addr_change(int nl, bool add, unsigned ifindex, uint32_t addr)
{
	static uint32_t seq;
	union {
		struct nlmsghdr nh;
		char buf[256];
	} req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	req.nh.nlmsg_seq = ++seq;
	struct ifaddrmsg *ifa = NLMSG_DATA(&req.nh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = BGP_TUN_PREFIX;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	uint32_t a = htonl(addr);
	put_attr(&req.nh, IFA_LOCAL, &a, sizeof(a));
	put_attr(&req.nh, IFA_ADDRESS, &a, sizeof(a));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(nl, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		char reply[1024];
		ssize_t got = recv(nl, reply, sizeof(reply), 0);
		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		int len = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req.nh.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EPROTO;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error;
		}
	}
}

int bgp_tun_addr(const char *netns, bool add, uint32_t addr, char *err, size_t errlen)
{
	char text[INET_ADDRSTRLEN];
	struct in_addr ia = { htonl(addr) };
	int self;

	inet_ntop(AF_INET, &ia, text, sizeof(text));
	if (!bgp_tun_addr_ok(addr, BGP_TUN_PREFIX)) {
		err_set(err, errlen, "%s/%d is not the .1 of a /30 of 169.254.0.0/16", text, BGP_TUN_PREFIX);
		return -1;
	}
	if (netns_enter(netns, &self, err, errlen) < 0)
		return -1;
	/* both opened inside: the socket speaks to this namespace's kernel */
	unsigned ifindex = if_nametoindex(BGP_TUN_NAME);
	int e_index = errno;
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int e_nl = errno;
	netns_leave(self);
	if (!ifindex || nl < 0) {
		err_set(err, errlen, "%s in namespace %s: %s", ifindex ? "netlink" : BGP_TUN_NAME, netns,
			strerror(ifindex ? e_nl : e_index));
		if (nl >= 0)
			close(nl);
		return -1;
	}
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int rc = addr_change(nl, add, ifindex, addr);
	close(nl);
	if (!add && rc == -EADDRNOTAVAIL)
		rc = 0;	/* not there: what was asked */
	if (rc < 0) {
		err_set(err, errlen, "cannot %s %s/%d %s %s: %s", add ? "add" : "delete", text, BGP_TUN_PREFIX,
			add ? "to" : "from", BGP_TUN_NAME, strerror(-rc));
		return -1;
	}
	return 0;
}
