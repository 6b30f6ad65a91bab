/*
 * priv_helper.c — the privileged helper (priv.h): a loop that reads one
 * request, checks it against what vpcd was started with, does it through
 * the same functions an unseparated vpcd calls (net/instance.c,
 * vpn/endpoint's sockets and TUN, engine's routes, uplink socket, port
 * pair) and answers, with file descriptors where the request makes some.
 *
 * It holds no key, parses no network input, and runs nothing but `ip`
 * and BIRD (with a fixed environment; BIRD as the main process's user,
 * see bgp_start). Every refusal is logged and answered; none
 * ends the loop. Single-threaded: requests are served in arrival order.
 */
#include "priv/priv_int.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "bgp/bgp_run.h"
#include "bgp/bgp_tun.h"
#include "engine/engine.h"
#include "engine/engine_kroute.h"
#include "engine/engine_uplink.h"
#include "net/net.h"
#include "vpn/endpoint/endpoint.h"

#define PRIV_LOG "priv"

struct helper {
	int h_fd;
	uint32_t *h_outside;
	size_t h_noutside;
	char h_tun[IF_NAMESIZE];
	char h_uplink[IF_NAMESIZE];
	unsigned long h_served, h_refused;
	/* BGP: this vpcd's namespace (vpcd-bgp-<main pid>, named once at
	 * start: the parent may be gone when the helper cleans up), BIRD's
	 * directory (absolute; "" without a data dir) and the BIRD we run */
	char h_bgp_netns[BGP_RUN_NETNS_MAX];
	char h_bgp_dir[PATH_MAX];
	char h_data_dir[PATH_MAX];
	pid_t h_bird;
	pid_t h_main;			/* the main process (THREAD_NICE: its threads only) */
	bool h_bgp_tun;			/* bgp0 made (BGP_TUN): BGP_ADDR may follow */
};

static const char *const op_names[PRIV_OP_MAX] = {
	[PRIV_OP_DATAPLANE_CHECK] = "dataplane-check", [PRIV_OP_INSTANCE_CREATE] = "instance-create",
	[PRIV_OP_ENI_ATTACH] = "eni-attach", [PRIV_OP_INSTANCE_DESTROY] = "instance-destroy",
	[PRIV_OP_SET_RESOLV] = "set-resolv", [PRIV_OP_TUN_OPEN] = "tun-open",
	[PRIV_OP_VPN_SOCKETS] = "vpn-sockets", [PRIV_OP_ROUTE] = "route",
	[PRIV_OP_UPLINK_SOCKET] = "uplink-socket", [PRIV_OP_THREAD_NICE] = "thread-nice",
	[PRIV_OP_BGP_START] = "bgp-start", [PRIV_OP_BGP_STOP] = "bgp-stop",
	[PRIV_OP_BGP_TUN] = "bgp-tun", [PRIV_OP_BGP_ADDR] = "bgp-addr",
};

/* i-<8..17 lower-case hex>: the instances vpcd names its namespaces after */
static bool instance_id_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 10 && n <= 19 && s[0] == 'i' && s[1] == '-' && strspn(s + 2, "0123456789abcdef") == n - 2;
}

/* an existing namespace's name (vpcd:netns): what /run/netns/ may hold */
static bool netns_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < NET_ID_MAX && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* eth0..eth999 */
static bool eni_ifname_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 4 && n <= 6 && !strncmp(s, "eth", 3) && strspn(s + 3, "0123456789") == n - 3;
}

static bool eni_ok(const struct priv_msg *m)
{
	const struct priv_eni *e = &m->pm_eni;
	size_t n = strlen(e->pe_id);
	return n > 4 && !strncmp(e->pe_id, "eni-", 4) && strspn(e->pe_id + 4, "0123456789abcdef") == n - 4 &&
	       !(e->pe_mac[0] & 1) && m->pm_subnet.c_len >= 1 && m->pm_subnet.c_len <= 30 &&
	       cidr_contains_ip(&m->pm_subnet, e->pe_ip);
}

/* resolv.conf text: printable ASCII lines */
static bool text_ok(const char *s)
{
	for (; *s; s++)
		if (!(*s == '\n' || (*s >= 0x20 && *s < 0x7f)))
			return false;
	return true;
}

static void eni_config(const struct priv_msg *m, struct net_eni_config *eni)
{
	memset(eni, 0, sizeof(*eni));
	snprintf(eni->id, sizeof(eni->id), "%s", m->pm_eni.pe_id);
	memcpy(eni->mac, m->pm_eni.pe_mac, 6);
	eni->ip = m->pm_eni.pe_ip;
	eni->no_offload = m->pm_eni.pe_no_offload;
	eni->tap_fd = -1;
}

static bool outside_ok(const struct helper *h, uint32_t ip)
{
	for (size_t i = 0; i < h->h_noutside; i++)
		if (h->h_outside[i] == ip)
			return true;
	return false;
}

/* Answers m with its pm_rc and the fds (closed here once sent). */
static void answer(struct helper *h, struct priv_msg *m, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(PRIV_FDS_MAX * sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	m->pm_nfds = (uint32_t)nfds;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(h->h_fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (n < 0)
		_exit(0);	/* the main process is gone */
}

static int refuse(struct helper *h, const struct priv_msg *m, const char *why)
{
	h->h_refused++;
	/* the name as the request gave it, but printable only: a log line
	 * must not carry a compromised process's control characters */
	char name[NET_ID_MAX];
	size_t n = 0;
	for (; m->pm_name[n] && n < sizeof(name) - 1; n++)
		name[n] = m->pm_name[n] >= 0x20 && m->pm_name[n] < 0x7f ? m->pm_name[n] : '?';
	name[n] = '\0';
	log_error(PRIV_LOG, "refused %s%s%s: %s", m->pm_op < PRIV_OP_MAX && op_names[m->pm_op] ?
		  op_names[m->pm_op] : "an unknown request", n ? " " : "", name, why);
	return -EPERM;
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* ---- BGP ------------------------------------------------------------------ */

/* This vpcd's BGP namespace, vpcd-bgp-<main pid> (BGP-CONTRACT.md), made
 * with lo up when missing. The one place it is made: BGP_START and the
 * BGP TUN's request both call it. 0, or -1 with err. */
static int bgp_netns_ensure(struct helper *h, char *err, size_t errlen)
{
	return bgp_run_netns_ensure(h->h_bgp_netns, err, errlen);
}

/* A BGP request names this vpcd's namespace and nothing else. */
static bool bgp_netns_ok(const struct helper *h, const char *name)
{
	return h->h_bgp_netns[0] && strcmp(name, h->h_bgp_netns) == 0;
}

/* The BIRD we started has exited: reap it (it stays a zombie until then). */
static void bgp_reap(struct helper *h)
{
	int st;
	if (h->h_bird > 0 && bgp_run_reap(h->h_bird, &st) != 0)
		h->h_bird = -1;
}

static void bgp_stop(struct helper *h)
{
	bgp_reap(h);
	if (h->h_bird > 0)
		bgp_run_stop(h->h_bird);
	h->h_bird = -1;
}

/* BIRD's user is the one the main process runs as: the owner of the data
 * dir (priv_drop gave it) and of DATA/bgp (the main process made it), a
 * real directory (not a link), never root. */
static int bgp_user(const struct helper *h, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct stat d, b;
	if (!h->h_bgp_dir[0] || lstat(h->h_data_dir, &d) < 0 || lstat(h->h_bgp_dir, &b) < 0) {
		snprintf(err, errlen, "no BGP directory in the data dir");
		return -1;
	}
	if (!S_ISDIR(b.st_mode) || b.st_uid == 0 || b.st_uid != d.st_uid || (b.st_mode & 077)) {
		snprintf(err, errlen, "the data dir's bgp/ must be a private directory of vpcd's user");
		return -1;
	}
	*uid = b.st_uid;
	*gid = b.st_gid;
	return 0;
}

static int bgp_start(struct helper *h, struct priv_msg *m, int *fds, size_t *nfds)
{
	struct bgp_run_config c = { .br_dir = h->h_bgp_dir, .br_netns = h->h_bgp_netns, .br_drop = true,
				    .br_log = true };
	char err[PRIV_TEXT_MAX] = "";
	pid_t pid;
	if (bgp_user(h, &c.br_uid, &c.br_gid, err, sizeof(err)) < 0) {
		snprintf(m->pm_text, sizeof(m->pm_text), "%s", err);
		return refuse(h, m, err);
	}
	if (bgp_netns_ensure(h, err, sizeof(err)) < 0) {
		snprintf(m->pm_text, sizeof(m->pm_text), "%s", err);
		return -EIO;
	}
	bgp_stop(h);	/* a restart: the old one (exited, or not) goes first */
	if (bgp_run_start(&c, &pid, &fds[0], err, sizeof(err)) < 0) {
		snprintf(m->pm_text, sizeof(m->pm_text), "%s", err);
		return strstr(err, "not installed") ? -ENOENT : -EIO;
	}
	h->h_bird = pid;
	m->pm_num = (int32_t)pid;
	*nfds = 1;
	return 0;
}

/* Does m; fds/nfds: what goes back. Returns pm_rc. */
static int serve(struct helper *h, struct priv_msg *m, int *fds, size_t *nfds)
{
	struct net_eni_config eni;
	*nfds = 0;
	switch (m->pm_op) {
	case PRIV_OP_DATAPLANE_CHECK: {
		bool ok = engine_dataplane_capable(m->pm_text, sizeof(m->pm_text));
		return ok ? 1 : 0;
	}
	case PRIV_OP_INSTANCE_CREATE:
		if (!instance_id_ok(m->pm_name) || !eni_ok(m))
			return refuse(h, m, "not an instance id, or a malformed ENI");
		eni_config(m, &eni);
		errno = 0;
		if (net_instance_create(m->pm_name, &eni, &m->pm_subnet, &fds[0]) < 0)
			return neg_errno();
		*nfds = 1;
		return 0;
	case PRIV_OP_ENI_ATTACH:
		if (!netns_name_ok(m->pm_name) || !eni_ifname_ok(m->pm_ifname) || !eni_ok(m))
			return refuse(h, m, "a malformed namespace, interface or ENI");
		eni_config(m, &eni);
		errno = 0;
		if ((m->pm_flag ? net_eni_attach_netns(m->pm_name, m->pm_ifname, &eni, &m->pm_subnet, &fds[0])
				: net_eni_attach_secondary(m->pm_name, m->pm_ifname, &eni, &m->pm_subnet, &fds[0])) < 0)
			return neg_errno();
		*nfds = 1;
		return 0;
	case PRIV_OP_INSTANCE_DESTROY:
		if (!instance_id_ok(m->pm_name))
			return refuse(h, m, "only an instance's namespace (i-<hex>) is deleted");
		errno = 0;
		return net_instance_destroy(m->pm_name, -1) < 0 ? neg_errno() : 0;
	case PRIV_OP_SET_RESOLV:
		if (!instance_id_ok(m->pm_name) || !text_ok(m->pm_text))
			return refuse(h, m, "not an instance id, or not printable text");
		errno = 0;
		return net_instance_set_resolv(m->pm_name, m->pm_text) < 0 ? neg_errno() : 0;
	case PRIV_OP_TUN_OPEN: {
		char name[IF_NAMESIZE];
		if (strlen(m->pm_name) >= sizeof(name))
			return refuse(h, m, "only the --vpn-tun device");
		memcpy(name, m->pm_name, strlen(m->pm_name) + 1);
		if (!h->h_tun[0] || strcmp(name, h->h_tun) != 0 || m->pm_num < 0 || m->pm_num > 9000)
			return refuse(h, m, "only the --vpn-tun device, MTU up to 9000");
		if (m->pm_flag & ~PRIV_TUN_OFFLOAD)
			return refuse(h, m, "a TUN flag other than PRIV_TUN_OFFLOAD");
		errno = 0;
		int fd = vpn_tun_create(name, (uint32_t)m->pm_num, m->pm_flag & PRIV_TUN_OFFLOAD);
		if (fd < 0)
			return neg_errno();
		snprintf(m->pm_name, sizeof(m->pm_name), "%s", name);
		fds[0] = fd;
		*nfds = 1;
		return 0;
	}
	case PRIV_OP_VPN_SOCKETS:
		if (!outside_ok(h, m->pm_ip) || m->pm_num < 0 || m->pm_num > (64 << 20))
			return refuse(h, m, "not one of the --vpn-outside-addresses");
		errno = 0;
		if (vpn_outside_sockets(m->pm_ip, m->pm_num, fds) < 0)
			return neg_errno();
		*nfds = 3;
		return 0;
	case PRIV_OP_ROUTE: {
		unsigned tun = h->h_tun[0] ? if_nametoindex(h->h_tun) : 0;
		if (!tun || (unsigned)m->pm_num != tun || m->pm_prefix > 32)
			return refuse(h, m, "routes go into the --vpn-tun device only");
		int nl = engine_kroute_open();
		if (nl < 0)
			return neg_errno();
		int rc = engine_kroute_change(nl, m->pm_flag, tun, m->pm_ip, m->pm_prefix);
		engine_kroute_close(nl);
		return rc;
	}
	case PRIV_OP_THREAD_NICE: {
		/* a thread of the main process (its /proc/MAIN/task/TID), nice
		 * 0..19: nothing the main process could not do to itself but
		 * take back the 0 it gave up (RLIMIT_NICE may not be raisable) */
		char task[64];
		struct stat st;
		snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)h->h_main, (int)m->pm_num);
		if (m->pm_num <= 0 || m->pm_prefix > 19 || stat(task, &st) < 0)
			return refuse(h, m, "a nice value 0..19 for a thread of vpcd's main process only");
		if (setpriority(PRIO_PROCESS, (id_t)m->pm_num, m->pm_prefix) < 0)
			return neg_errno();
		return 0;
	}
	case PRIV_OP_UPLINK_SOCKET:
		if (!h->h_uplink[0] || strcmp(m->pm_name, h->h_uplink) != 0)
			return refuse(h, m, "only the --uplink interface");
		errno = 0;
		if ((fds[0] = engine_uplink_socket(m->pm_name)) < 0)
			return neg_errno();
		*nfds = 1;
		return 0;
	case PRIV_OP_BGP_START:
		if (!bgp_netns_ok(h, m->pm_name)) {
			snprintf(m->pm_text, sizeof(m->pm_text), "only this vpcd's BGP namespace (%s)",
				 h->h_bgp_netns);
			return refuse(h, m, "only this vpcd's BGP namespace");
		}
		return bgp_start(h, m, fds, nfds);
	case PRIV_OP_BGP_STOP:
		bgp_reap(h);
		if (h->h_bird <= 0 || m->pm_num != (int32_t)h->h_bird)
			return refuse(h, m, "only the BIRD the helper started");
		bgp_stop(h);
		return 0;
	case PRIV_OP_BGP_TUN: {
		/* the namespace is named after the main process (this one's
		 * parent), never after anything the request says */
		errno = 0;
		int fd = bgp_tun_create(h->h_bgp_netns, m->pm_text, sizeof(m->pm_text));
		if (fd < 0) {
			log_error(PRIV_LOG, "bgp-tun: %s", m->pm_text);
			return neg_errno();
		}
		h->h_bgp_tun = true;
		snprintf(m->pm_name, sizeof(m->pm_name), "%s", h->h_bgp_netns);
		fds[0] = fd;
		*nfds = 1;
		return 0;
	}
	case PRIV_OP_BGP_ADDR:
		if (m->pm_flag > 1 || !bgp_tun_addr_ok(m->pm_ip, m->pm_prefix))
			return refuse(h, m, "only the .1 of a /30 of 169.254.0.0/16");
		if (!h->h_bgp_tun)
			return refuse(h, m, "no bgp0 yet (bgp-tun first)");
		errno = 0;
		if (bgp_tun_addr(h->h_bgp_netns, m->pm_flag, m->pm_ip, m->pm_text, sizeof(m->pm_text)) < 0) {
			log_error(PRIV_LOG, "bgp-addr: %s", m->pm_text);
			return errno ? -errno : -EIO;
		}
		return 0;
	default:
		return refuse(h, m, "unknown");
	}
}

void priv_helper_main(int fd, const struct priv_config *cfg)
{
	struct helper h = { .h_fd = fd };
	h.h_noutside = cfg->pc_noutside;
	h.h_outside = calloc(cfg->pc_noutside ? cfg->pc_noutside : 1, sizeof(*h.h_outside));
	if (!h.h_outside)
		abort();
	if (cfg->pc_noutside)
		memcpy(h.h_outside, cfg->pc_outside, cfg->pc_noutside * sizeof(*h.h_outside));
	snprintf(h.h_tun, sizeof(h.h_tun), "%s", cfg->pc_tun ? cfg->pc_tun : "");
	snprintf(h.h_uplink, sizeof(h.h_uplink), "%s", cfg->pc_uplink_ifname ? cfg->pc_uplink_ifname : "");
	h.h_bird = -1;
	h.h_main = getppid();
	bgp_run_netns_name(h.h_main, h.h_bgp_netns);
	/* what a SIGKILLed vpcd left (its helper and BIRD died with it) */
	if (cfg->pc_data_dir && geteuid() == 0)
		bgp_run_netns_sweep();
	/* absolute now: the helper's working directory is where vpcd started */
	if (cfg->pc_data_dir && realpath(cfg->pc_data_dir, h.h_data_dir) &&
	    strlen(h.h_data_dir) + sizeof("/bgp") <= sizeof(h.h_bgp_dir)) {
		/* the length is checked: memcpy, not a snprintf gcc -O0 doubts */
		size_t n = strlen(h.h_data_dir);
		memcpy(h.h_bgp_dir, h.h_data_dir, n);
		memcpy(h.h_bgp_dir + n, "/bgp", sizeof("/bgp"));
	}
	for (;;) {
		struct priv_msg m;
		ssize_t n = recv(fd, &m, sizeof(m), 0);
		if (n == 0)
			break;		/* the main process closed its end: done */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error(PRIV_LOG, "helper: recv: %s", strerror(errno));
			break;
		}
		int fds[PRIV_FDS_MAX] = { -1, -1, -1 };
		size_t nfds = 0;
		if (n != (ssize_t)sizeof(m)) {
			memset(&m, 0, sizeof(m));
			h.h_refused++;
			log_error(PRIV_LOG, "refused a request of %zd bytes (expected %zu)", n, sizeof(m));
			m.pm_rc = -EINVAL;
		} else {
			m.pm_name[sizeof(m.pm_name) - 1] = '\0';
			m.pm_ifname[sizeof(m.pm_ifname) - 1] = '\0';
			m.pm_eni.pe_id[sizeof(m.pm_eni.pe_id) - 1] = '\0';
			m.pm_text[sizeof(m.pm_text) - 1] = '\0';
			m.pm_rc = serve(&h, &m, fds, &nfds);
			if (m.pm_rc < 0 || nfds > PRIV_FDS_MAX)
				nfds = 0;
			h.h_served++;
		}
		answer(&h, &m, fds, nfds);
		bgp_reap(&h);
	}
	/* vpcd stops: BIRD and its namespace go */
	bgp_stop(&h);
	bgp_run_netns_delete(h.h_bgp_netns);
	log_info(PRIV_LOG, "helper done: %lu requests served, %lu refused", h.h_served, h.h_refused);
	free(h.h_outside);
	_exit(0);
}
