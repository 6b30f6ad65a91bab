/*
 * priv_int.h — the helper's wire format (priv.h): one struct priv_msg per
 * SOCK_SEQPACKET message each way, fixed size, strings NUL-terminated by
 * the receiver before use; an answer carries up to PRIV_FDS_MAX file
 * descriptors (SCM_RIGHTS). Shared by the client and the helper only.
 */
#ifndef VPCD_PRIV_INT_H
#define VPCD_PRIV_INT_H

#include "priv/priv.h"

#define PRIV_FDS_MAX	3

enum priv_op {
	PRIV_OP_DATAPLANE_CHECK = 1,
	PRIV_OP_INSTANCE_CREATE,
	PRIV_OP_ENI_ATTACH,
	PRIV_OP_INSTANCE_DESTROY,
	PRIV_OP_SET_RESOLV,
	PRIV_OP_TUN_OPEN,
	PRIV_OP_VPN_SOCKETS,
	PRIV_OP_ROUTE,
	PRIV_OP_UPLINK_SOCKET,
	PRIV_OP_BGP_START,
	PRIV_OP_BGP_STOP,
	PRIV_OP_BGP_TUN,
	PRIV_OP_BGP_ADDR,
	PRIV_OP_THREAD_NICE,
	PRIV_OP_MAX
};

/* The part of an ENI the helper needs to make its TAP. */
struct priv_eni {
	char pe_id[NET_ID_MAX];
	uint8_t pe_mac[6];
	uint32_t pe_ip;
	bool pe_no_offload;
};

struct priv_msg {
	uint32_t pm_op;
	int32_t pm_rc;			/* answer: 0 or -errno; DATAPLANE_CHECK: 1 yes, 0 no */
	uint32_t pm_nfds;		/* answer: descriptors attached */
	uint32_t pm_ip;			/* VPN_SOCKETS: the address; ROUTE: the destination;
					 * BGP_ADDR: the inside address */
	int32_t pm_num;			/* VPN_SOCKETS: rcvbuf; TUN_OPEN: MTU; ROUTE: ifindex;
					   BGP_START answer, BGP_STOP: BIRD's pid; THREAD_NICE: tid */
	uint8_t pm_flag;		/* ROUTE, BGP_ADDR: add; ENI_ATTACH: primary;
					 * TUN_OPEN: 0 or PRIV_TUN_OFFLOAD */
	uint8_t pm_prefix;		/* ROUTE, BGP_ADDR: prefix length; THREAD_NICE: nice */
	char pm_name[NET_ID_MAX];	/* instance id, namespace (BGP_*: vpcd-bgp-<pid>), TUN or uplink interface */
	char pm_ifname[16];		/* ENI_ATTACH: eth<N> */
	struct priv_eni pm_eni;
	struct cidr4 pm_subnet;
	char pm_text[PRIV_TEXT_MAX];	/* SET_RESOLV: the text; DATAPLANE_CHECK, BGP_START, BGP_TUN
					 * and BGP_ADDR answers: why not */
};

/* The network side's seccomp filter (priv_drop.c), on every thread of
 * the calling process; 0 or -1 (logged). */
int priv_seccomp_install(void);

/* The helper's loop on fd until it closes; never returns. */
void priv_helper_main(int fd, const struct priv_config *cfg) __attribute__((noreturn));

#endif
