/*
 * engine_kroute.c — add and delete one IPv4 route through rtnetlink
 * (engine_kroute.h). One request, one acknowledgement, synchronous: the
 * engine changes routes only when a connection's static routes change.
 * In a privilege-separated vpcd (priv.h) the helper does the change: the
 * "socket" here is then only a placeholder (an eventfd) to close.
 */
#include "engine/engine_kroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "priv/priv.h"

#define ROUTE_REPLY_TIMEOUT_S 2

int engine_kroute_open(void)
{
	if (priv_remote())
		return eventfd(0, EFD_CLOEXEC);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = ROUTE_REPLY_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void engine_kroute_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

int engine_kroute_change(int fd, bool add, unsigned ifindex, uint32_t addr, uint8_t prefix_len)
{
	if (priv_remote())
		return priv_route_change(add, ifindex, addr, prefix_len);
	static uint32_t seq;
	union {
		struct nlmsghdr nh;
		char buf[256];
	} req;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.nh.nlmsg_seq = ++seq;
	struct rtmsg *rtm = NLMSG_DATA(&req.nh);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = prefix_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = add ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	uint32_t dst = htonl(prefix_len ? addr & (0xffffffffu << (32 - prefix_len)) : 0);
	uint32_t oif = ifindex;
	put_attr(&req.nh, RTA_DST, &dst, sizeof(dst));
	put_attr(&req.nh, RTA_OIF, &oif, sizeof(oif));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		char reply[1024];
		ssize_t got = recv(fd, reply, sizeof(reply), 0);
		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		int len = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req.nh.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EPROTO;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error;	/* 0 or -errno */
		}
	}
}
