/*
 * priv — privilege separation, as OpenBSD's iked and bgpd do it: what
 * needs root is done by a small helper process that keeps it; everything
 * that faces the network (HTTP, SigV4, the handlers, IKE, ESP, the virtual
 * router) runs in vpcd's main process, which gives up root and every
 * capability once the helper is forked.
 *
 *   vpcd (main, the started PID) ── socketpair (SOCK_SEQPACKET) ──▶ helper
 *     uid vpcd or nobody, no capabilities,   one request, one answer;    root, capabilities
 *     no_new_privs, no way back to root      file descriptors handed     kept; runs `ip`,
 *                                            back with SCM_RIGHTS        nothing else
 *
 * The helper is the main process's child (so that the PID a supervisor or
 * a test started stays the daemon clients talk to, and its signals, RSS
 * and exit status are the daemon's); it dies with it (PR_SET_PDEATHSIG
 * SIGKILL), ignores SIGINT/SIGTERM (the main process still needs it to
 * delete namespaces while it stops) and exits when the socket closes.
 *
 * What the helper does, and only that (each request validated first):
 *   DATAPLANE_CHECK   may the data plane run (capabilities, /dev/net/tun)
 *   INSTANCE_CREATE   netns i-<hex> with its TAP eth0: the TAP's fd back
 *   ENI_ATTACH        a TAP eth<N> in an existing namespace: its fd back
 *   INSTANCE_DESTROY  delete netns i-<hex> (and its /etc/netns files)
 *   SET_RESOLV        /etc/netns/i-<hex>/resolv.conf (printable text)
 *   TUN_OPEN          the --vpn-tun device (only that name), with
 *                     IFF_VNET_HDR and TSO4/checksum offloads when asked
 *                     (PRIV_TUN_OFFLOAD; no other flag): its fd back
 *   VPN_SOCKETS       UDP 500, UDP 4500, raw ESP bound to one of the
 *                     --vpn-outside-addresses (only those): 3 fds back
 *   ROUTE             add/delete a route into the --vpn-tun device only
 *   UPLINK_SOCKET     AF_PACKET socket on the --uplink interface only
 *   BGP_START         (re)start BIRD (bgp/bgp_run.h) in this vpcd's BGP
 *                     namespace vpcd-bgp-<main pid> (only that name; made
 *                     when missing), working in DATA/bgp (a directory of
 *                     the main process's user, not a link), as that user
 *                     with only its network capabilities: its pid and a
 *                     pidfd back. The helper is BIRD's parent and reaps it;
 *                     BIRD dies with the helper (PR_SET_PDEATHSIG).
 *   BGP_STOP          stop that BIRD (only the pid it started)
 *   BGP_TUN           BIRD's namespace vpcd-bgp-<main pid> (the helper names
 *                     it; made when missing, lo up) and the TUN bgp0 in it
 *                     (bgp/bgp_tun.h): its fd back
 *   BGP_ADDR          add/delete a 169.254.x.1/30 (only the .1 of a /30 of
 *                     169.254.0.0/16) on that bgp0, once BGP_TUN made it
 *   THREAD_NICE       set a nice value 0..19 on a thread of the main process
 *                     (only its threads): the router's overload shedding
 *                     takes back the lower nice value it started with,
 *                     which an unprivileged thread may not (net.h, shed_nice)
 * When the main process closes the channel (vpcd stops), the helper stops
 * BIRD and deletes the BGP namespace; at its start it deletes the BGP
 * namespaces of vpcds that are gone (bgp_run_netns_sweep: a SIGKILLed
 * vpcd's helper dies before it can).
 * A malformed or refused request is answered EPERM/EINVAL and logged; the
 * helper never dies of one.
 *
 * Without root (make run as a user, the API tests as a user) there is no
 * helper and no change of user: every call below runs in-process as
 * before. As root with neither --dataplane nor --vpn-outside-addresses,
 * nothing privileged is needed: vpcd drops privileges with no helper.
 *
 * The user: --user NAME, else "vpcd" when such a user exists, else
 * "nobody". The data dir and every file in it are chowned to it (0700 /
 * 0600 stay), and the main process works from inside the data dir (its
 * parents need not be open to that user).
 */
#ifndef VPCD_PRIV_H
#define VPCD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "net/net.h"

#define PRIV_USER_DEFAULT	"vpcd"		/* if it exists; else PRIV_USER_FALLBACK */
#define PRIV_USER_FALLBACK	"nobody"
#define PRIV_TEXT_MAX		1024		/* resolv.conf text, reasons */

/* What the helper allows: copied at priv_separate. */
struct priv_config {
	const char *pc_user;		/* --user, or NULL for the default */
	const char *pc_data_dir;
	bool pc_helper;			/* something privileged will be asked for */
	const uint32_t *pc_outside;	/* --vpn-outside-addresses (host order) */
	size_t pc_noutside;
	const char *pc_tun;		/* --vpn-tun */
	const char *pc_uplink_ifname;	/* --uplink's interface, or NULL */
	/* memory the helper must not keep (the root key, the TLS key): wiped
	 * in the helper right after the fork */
	void *pc_wipe[4];
	size_t pc_wipe_len[4];
	int pc_close_fd;		/* the API's listening socket: closed in the helper */
};

/* As root: forks the helper (when pc_helper) and enters the data dir;
 * *data_dir_out is then "." (else the given dir). Then the caller opens
 * what it must open as root by path (the SQLite store: SQLite checks every
 * component of the path, whose parents need not be open to the user) and
 * calls priv_drop(), which gives the data dir to the user and makes this
 * process that user with no capabilities and no_new_privs. Not as root:
 * both do nothing. 0, or -1 (logged: vpcd must not go on). Call both
 * before any thread is started. */
int priv_separate(const struct priv_config *cfg, const char **data_dir_out);
int priv_drop(void);
/* Closes the channel and waits for the helper (at exit). */
void priv_finish(void);
/* true in the unprivileged main process when a helper does the work. */
bool priv_remote(void);
/* The user the main process runs as ("" when unchanged). */
const char *priv_user(void);

/* --- the requests (main process; each blocks until the answer) --------- */

bool priv_dataplane_check(char *why, size_t len);
int priv_instance_create(const char *id, const struct net_eni_config *eni, const struct cidr4 *subnet,
			 int *tap_fd);
int priv_eni_attach(const char *ns, const char *ifname, const struct net_eni_config *eni,
		    const struct cidr4 *subnet, bool primary, int *tap_fd);
int priv_instance_destroy(const char *id);
int priv_set_resolv(const char *id, const char *text);
/* name: in/out (the device's name as the kernel gave it); flags: 0 or
 * PRIV_TUN_OFFLOAD (IFF_VNET_HDR, TUNSETOFFLOAD CSUM|TSO4, as
 * vpn_tun_create's offload); any other bit is refused (EPERM). */
#define PRIV_TUN_OFFLOAD	0x01u
int priv_tun_open(char name[16], uint32_t mtu, unsigned flags);
int priv_vpn_sockets(uint32_t ip, int rcvbuf, int fds[3]);
int priv_route_change(bool add, unsigned ifindex, uint32_t addr, uint8_t prefix_len);
int priv_uplink_socket(const char *ifname);
/* 0 or -errno; without a helper, setpriority(2) in-process. */
int priv_thread_nice(pid_t tid, int nice);
/* BIRD (see BGP_START above): 0 with *pid and *pidfd (the caller's to
 * close); -1 with errno and the cause in err ("bird2 is not installed
 * (/usr/sbin/bird not found)", ...). */
int priv_bgp_start(const char *netns, int *pid, int *pidfd, char *err, size_t errlen);
int priv_bgp_stop(int pid);
/* bgp0's fd, or -1 with errno and the helper's reason in why; netns: the
 * namespace's name (BGP_RUN_NETNS_MAX = 32 bytes). */
int priv_bgp_tun(char netns[32], char *why, size_t why_len);
/* 0, or -1 with errno and why. */
int priv_bgp_addr(bool add, uint32_t addr, uint8_t prefix_len, char *why, size_t why_len);

#endif
