/*
 * priv_client.c — the main process's side of privilege separation
 * (priv.h): each request is one message to the helper and one answer
 * back, under one lock (the engine, the endpoint and the data plane ask
 * from their own threads). Never does anything privileged itself; with no
 * helper (priv_remote() false) nobody calls it.
 */
#include "priv/priv_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"

static int channel = -1;
static pthread_mutex_t channel_lock = PTHREAD_MUTEX_INITIALIZER;

/* priv_drop.c sets it once, before any thread starts */
void priv_client_set_channel(int fd);
void priv_client_set_channel(int fd)
{
	channel = fd;
}

bool priv_remote(void)
{
	return channel >= 0;
}

/* Sends m, waits for the answer into m (and up to nfds descriptors into
 * fds, -1 where none came). Returns m->pm_rc, or -EPIPE when the helper
 * is gone (logged). */
static int call(struct priv_msg *m, int *fds, size_t nfds)
{
	for (size_t i = 0; i < nfds; i++)
		fds[i] = -1;
	pthread_mutex_lock(&channel_lock);
	uint32_t op = m->pm_op;
	ssize_t n;
	do
		n = send(channel, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		goto gone;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(PRIV_FDS_MAX * sizeof(int))];
	} ctl;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	do
		n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m) || m->pm_op != op)
		goto gone;
	size_t got = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int in[PRIV_FDS_MAX];
		memcpy(in, CMSG_DATA(c), (k < PRIV_FDS_MAX ? k : PRIV_FDS_MAX) * sizeof(int));
		for (size_t i = 0; i < k && i < PRIV_FDS_MAX; i++) {
			if (got < nfds)
				fds[got++] = in[i];
			else
				close(in[i]);	/* more than asked for: not ours to keep */
		}
	}
	pthread_mutex_unlock(&channel_lock);
	if (m->pm_rc == 0 && got < m->pm_nfds && got < nfds) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		for (size_t i = 0; i < nfds; i++)
			fds[i] = -1;
		return -EPROTO;
	}
	return m->pm_rc;
gone:
	pthread_mutex_unlock(&channel_lock);
	log_error("priv", "the privileged helper does not answer (%s): nothing privileged can be done",
		  n < 0 ? strerror(errno) : "closed");
	return -EPIPE;
}

static void msg_init(struct priv_msg *m, enum priv_op op)
{
	memset(m, 0, sizeof(*m));
	m->pm_op = (uint32_t)op;
}

static void eni_copy(struct priv_eni *pe, const struct net_eni_config *eni)
{
	snprintf(pe->pe_id, sizeof(pe->pe_id), "%s", eni->id);
	memcpy(pe->pe_mac, eni->mac, 6);
	pe->pe_ip = eni->ip;
	pe->pe_no_offload = eni->no_offload;
}

/* -errno into errno and -1, as the in-process calls report it */
static int ret(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

bool priv_dataplane_check(char *why, size_t len)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_DATAPLANE_CHECK);
	int rc = call(&m, NULL, 0);
	if (rc == 1)
		return true;
	m.pm_text[sizeof(m.pm_text) - 1] = '\0';
	snprintf(why, len, "%s", rc < 0 ? "the privileged helper does not answer" : m.pm_text);
	return false;
}

int priv_instance_create(const char *id, const struct net_eni_config *eni, const struct cidr4 *subnet,
			 int *tap_fd)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_INSTANCE_CREATE);
	snprintf(m.pm_name, sizeof(m.pm_name), "%s", id);
	eni_copy(&m.pm_eni, eni);
	m.pm_subnet = *subnet;
	return ret(call(&m, tap_fd, 1));
}

int priv_eni_attach(const char *ns, const char *ifname, const struct net_eni_config *eni,
		    const struct cidr4 *subnet, bool primary, int *tap_fd)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_ENI_ATTACH);
	snprintf(m.pm_name, sizeof(m.pm_name), "%s", ns);
	snprintf(m.pm_ifname, sizeof(m.pm_ifname), "%s", ifname);
	eni_copy(&m.pm_eni, eni);
	m.pm_subnet = *subnet;
	m.pm_flag = primary;
	return ret(call(&m, tap_fd, 1));
}

int priv_instance_destroy(const char *id)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_INSTANCE_DESTROY);
	snprintf(m.pm_name, sizeof(m.pm_name), "%s", id);
	return ret(call(&m, NULL, 0));
}

int priv_set_resolv(const char *id, const char *text)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_SET_RESOLV);
	snprintf(m.pm_name, sizeof(m.pm_name), "%s", id);
	if (strlen(text) >= sizeof(m.pm_text)) {
		errno = E2BIG;
		return -1;
	}
	snprintf(m.pm_text, sizeof(m.pm_text), "%s", text);
	return ret(call(&m, NULL, 0));
}

int priv_tun_open(char name[16], uint32_t mtu, unsigned flags)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_TUN_OPEN);
	snprintf(m.pm_name, sizeof(m.pm_name), "%.15s", name);
	m.pm_num = (int32_t)mtu;
	m.pm_flag = (uint8_t)(flags > UINT8_MAX ? UINT8_MAX : flags);	/* the helper checks it */
	int fd;
	int rc = call(&m, &fd, 1);
	if (rc < 0)
		return ret(rc);
	memcpy(name, m.pm_name, 15);
	name[15] = '\0';
	return fd;
}

int priv_vpn_sockets(uint32_t ip, int rcvbuf, int fds[3])
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_VPN_SOCKETS);
	m.pm_ip = ip;
	m.pm_num = rcvbuf;
	return ret(call(&m, fds, 3));
}

int priv_route_change(bool add, unsigned ifindex, uint32_t addr, uint8_t prefix_len)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_ROUTE);
	m.pm_flag = add;
	m.pm_num = (int32_t)ifindex;
	m.pm_ip = addr;
	m.pm_prefix = prefix_len;
	return call(&m, NULL, 0);	/* 0 or -errno, as engine_kroute_change */
}

int priv_thread_nice(pid_t tid, int nice)
{
	if (!priv_remote())
		return setpriority(PRIO_PROCESS, (id_t)tid, nice) < 0 ? -errno : 0;
	struct priv_msg m;
	msg_init(&m, PRIV_OP_THREAD_NICE);
	m.pm_num = (int32_t)tid;
	m.pm_prefix = (uint8_t)(nice < 0 ? 255 : nice);
	return call(&m, NULL, 0);
}

int priv_uplink_socket(const char *ifname)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_UPLINK_SOCKET);
	snprintf(m.pm_name, sizeof(m.pm_name), "%s", ifname);
	int fd;
	int rc = call(&m, &fd, 1);
	return rc < 0 ? ret(rc) : fd;
}

int priv_bgp_start(const char *netns, int *pid, int *pidfd, char *err, size_t errlen)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_BGP_START);
	snprintf(m.pm_name, sizeof(m.pm_name), "%s", netns);
	int rc = call(&m, pidfd, 1);
	if (rc < 0) {
		m.pm_text[sizeof(m.pm_text) - 1] = '\0';
		snprintf(err, errlen, "%s", m.pm_text[0] ? m.pm_text : rc == -EPIPE ?
			 "the privileged helper does not answer" : strerror(-rc));
		return ret(rc);
	}
	*pid = m.pm_num;
	return 0;
}

int priv_bgp_stop(int pid)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_BGP_STOP);
	m.pm_num = pid;
	return ret(call(&m, NULL, 0));
}

/* the helper's reason (pm_text) into why, or the channel's failure */
static void reason(const struct priv_msg *m, int rc, char *why, size_t why_len)
{
	if (!why || !why_len)
		return;
	if (rc == -EPIPE || rc == -EPROTO)
		snprintf(why, why_len, "the privileged helper does not answer");
	else if (m->pm_text[0])
		snprintf(why, why_len, "%.*s", (int)strnlen(m->pm_text, sizeof(m->pm_text)), m->pm_text);
	else
		snprintf(why, why_len, "%s", strerror(-rc));
}

int priv_bgp_tun(char netns[32], char *why, size_t why_len)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_BGP_TUN);
	int fd;
	int rc = call(&m, &fd, 1);
	if (rc < 0) {
		reason(&m, rc, why, why_len);
		return ret(rc);
	}
	snprintf(netns, 32, "%.31s", m.pm_name);
	return fd;
}

int priv_bgp_addr(bool add, uint32_t addr, uint8_t prefix_len, char *why, size_t why_len)
{
	struct priv_msg m;
	msg_init(&m, PRIV_OP_BGP_ADDR);
	m.pm_flag = add;
	m.pm_ip = addr;
	m.pm_prefix = prefix_len;
	int rc = call(&m, NULL, 0);
	if (rc < 0)
		reason(&m, rc, why, why_len);
	return ret(rc);
}
