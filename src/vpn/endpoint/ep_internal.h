/*
 * ep_internal.h — what the files of src/vpn/endpoint share: the endpoint,
 * its outside addresses, tunnels and CHILD SAs, and the data-path buffers.
 *
 * Threads: everything below is owned by the loop thread once the endpoint
 * runs (before vpn_endpoint_start(), by the caller's thread). ep->lock
 * guards the tunnel list's structure and each tunnel's `snap`, so that a
 * status query from another thread may walk the list; the loop takes it
 * only to change the list or refresh a snapshot, never per packet.
 */
#ifndef VPCD_VPN_ENDPOINT_INTERNAL_H
#define VPCD_VPN_ENDPOINT_INTERNAL_H

#include "vpn/endpoint/endpoint.h"
#include "vpn/ike/ikev2.h"
#include "base/gso.h"
#include "base/base.h"
#include "base/evloop.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

/* UDP's socket options, for C libraries whose headers lack them
 * (linux/udp.h): GSO sends (ep_datapath.c) and GRO on 4500 (ep_socket.c
 * turns it on, ep_datapath.c reads each message's segment size). */
#ifndef SOL_UDP
#define SOL_UDP		17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef UDP_GRO
#define UDP_GRO		104
#endif

#define EP_LOG		"vpn"
#define EP_BATCH	64	/* packets per recvmmsg / TUN read round */
#define EP_POOL		(EP_BATCH * 3)	/* outbound buffers: TUN packets + fragments */
#define EP_TXQ		(EP_POOL + EP_BATCH)	/* + echo replies in rx buffers */
#define EP_RX_MAX	9216	/* largest outer payload we receive whole */
#define EP_TUN_MTU_MAX	9000
#define EP_HOUSEKEEPING_MS 1000
#define EP_RCVBUF_DEFAULT (4 * 1024 * 1024)
/* A UDP GRO message: up to 64 coalesced NAT-T datagrams (the kernel's
 * UDP_GRO_CNT_MAX) of one flow, at most an IPv4 datagram's payload. */
#define EP_GRO_MSG_MAX	65536
#define EP_GRO_SLOT	(ESP_HEADROOM + EP_GRO_MSG_MAX)
/* A TUN with offloads (ep_tunoff.c): struct virtio_net_hdr before each
 * packet, and TCP super-frames of up to 64 KB. */
#define EP_VNET_HDR_LEN	10
#define EP_TUN_FRAME_MAX (EP_VNET_HDR_LEN + 65535)

/* What a watched fd is (the loop's callback argument, ep_watch_add). */
enum ep_watch_kind { EP_W_TUN, EP_W_IKE, EP_W_NATT, EP_W_ESP, EP_W_BGP, EP_W_RING };
struct ep_watch {
	enum ep_watch_kind w_kind;
	struct ep_local *w_local;	/* for the socket kinds */
	unsigned w_port;		/* EP_W_TUN, EP_W_RING: the plaintext side */
	struct vpn_endpoint *w_ep;	/* set by ep_watch_add */
};

/* One outside address: its three sockets and its inbound SA table. */
struct ep_local {
	struct ep_local *lo_next;
	uint32_t lo_ip;
	int lo_fd_ike, lo_fd_natt, lo_fd_esp;
	struct ep_watch lo_w_ike, lo_w_natt, lo_w_esp;
	struct esp_sa_table *lo_table;
	unsigned lo_refs;		/* tunnels using it */
	uint64_t lo_rx_invalid;		/* 4500 datagrams too short to be anything */
	uint64_t lo_rx_unknown_peer;	/* IKE from an address no tunnel has */
	bool lo_gro;			/* UDP GRO on the 4500 socket: messages may
					 * hold several datagrams (ep_natt_readable) */
};

/* One CHILD SA pair as installed from IKE_ACT_CHILD_SA_INSTALL. */
struct ep_child {
	struct ep_child *ch_next;	/* tunnel's list, newest first */
	struct ep_tunnel *ch_tunnel;
	uint32_t ch_spi_in, ch_spi_out;
	enum ike_encr ch_encr;
	enum ike_integ ch_integ;
	struct ike_ts ch_ts_local, ch_ts_remote;
	bool ch_udp_encap;
	uint16_t ch_encap_rport;
	uint32_t ch_soft_s, ch_hard_s, ch_replay_window;
	uint64_t ch_installed_ms;
	int64_t ch_installed_unix;
	uint64_t ch_linger_until_ms;	/* 0: live; else deleted, inbound until then */
	bool ch_rx_seen;		/* authenticated traffic since the last tick */
	bool ch_rekey_asked;		/* ike_child_sa_rekey() called: seq running out */
	bool ch_in_table;
	bool ch_for_other_logged;	/* "carries tunnel X's inside pair" said */
	bool ch_out_held;		/* not sent with while an older SA can carry
					 * the packet (install.outbound_hold_ms) */
	uint64_t ch_hold_until_ms;
	uint8_t ch_ike_version;		/* the IKE core that made it: 1 or 2 */
	uint32_t ch_inner_mtu;		/* fragment above this */
	struct sockaddr_in ch_peer;	/* where its ESP goes */
	struct esp_sa *ch_in, *ch_out;
};

struct ep_tunnel {
	struct ep_tunnel *t_next;
	struct vpn_tunnel_spec t_spec;	/* holds the PSK: wiped when freed */
	struct ike_peer *t_ike;	/* IKEv1 core, when the tunnel allows IKEv1 */
	struct ikev2_peer *t_ikev2;	/* IKEv2 core, when it allows IKEv2 */
	uint8_t t_ike_version;		/* the core whose status stands: 1, 2, 0 = none yet */
	bool t_core_up[3];		/* per version: its last status was UP */
	bool t_refused_reported;	/* "peer offered IKEv1; ..." said once */
	struct ep_local *t_local;
	struct ep_child *t_children;
	uint32_t t_inside_ours;		/* 0 when no inside CIDR */
	uint16_t t_peer_port;
	bool t_up;
	bool t_removing;		/* swallow IKE's "stopped" while removing */
	int64_t t_since_unix;
	char t_cause[IKE_CAUSE_MAX];
	uint64_t t_drops[VPN_DROP_MAX];
	uint64_t t_for_other;		/* decrypted here, the other tunnel's */
	struct vpn_tunnel_status t_snap;	/* under ep->lock */
	struct log_limit t_log_send;	/* IKE send failures (a flood's answers) */
};

enum ep_req_kind { EP_REQ_ADD, EP_REQ_UPDATE, EP_REQ_REMOVE, EP_REQ_STOP, EP_REQ_REKEY,
		   EP_REQ_BGP_TUN };

struct ep_request {
	enum ep_req_kind r_kind;
	const struct vpn_tunnel_spec *r_spec;
	const char *r_id;
	unsigned r_what;		/* EP_REQ_REKEY: VPN_REKEY_* */
	int r_fd;			/* EP_REQ_BGP_TUN: the new side (owned), -1: none */
	int r_result;
	bool r_done;
};

/* Outbound queue entry: a packet and the CHILD SA that will carry it. */
struct ep_txq {
	struct esp_pkt q_pkts[EP_TXQ];
	struct ep_child *q_child[EP_TXQ];
	unsigned q_n;
	unsigned q_pool_used;		/* pool buffers taken since the last flush */
};

struct vpn_endpoint {
	struct vpn_endpoint_config cfg;
	int tun_fd;			/* plaintext side 0 (== tun_fds[0]) */
	int tun_fds[VPN_PLAIN_PORTS_MAX];	/* side k: the TUN / plain fds */
	unsigned n_ports;		/* sides open */
	struct ep_watch w_ports[VPN_PLAIN_PORTS_MAX];
	int bgp_fd;			/* the BGP side (vpn_endpoint_set_bgp_tun), -1: none */
	struct ep_watch w_bgp;
	struct evloop *loop;		/* the endpoint thread's; control calls come through it */
	struct evloop_timer tm_deadline;	/* the earliest IKE deadline or housekeeping */
	struct ep_local *locals;
	struct ep_tunnel *tunnels;	/* in the order they were added */

	pthread_mutex_t lock;		/* tunnel list structure + snapshots */
	pthread_mutex_t ctl_lock;	/* serialises control callers */
	pthread_t thread;
	bool running;			/* thread started and not joined */
	atomic_bool quit;

	/* data path, allocated once */
	uint32_t buf_size;
	uint8_t *pool;			/* EP_POOL outbound buffers */
	uint8_t *rxbuf;			/* EP_BATCH receive buffers */
	struct esp_pkt rx_pkts[EP_BATCH];
	struct sockaddr_in rx_from[EP_BATCH];
	struct sockaddr_in rx_from_esp[EP_BATCH];	/* from of rx_pkts[i] */
	struct mmsghdr rx_msgs[EP_BATCH];
	struct iovec rx_iov[EP_BATCH];
	struct ep_txq txq;
	struct mmsghdr tx_msgs[EP_TXQ];
	struct iovec tx_iov[EP_TXQ];
	int tx_fd[EP_TXQ];
	struct ep_child *tx_child[EP_TXQ];
	struct ep_child *rx_cache;	/* last child found for an inbound SA */
	/* rx_pkts[i] is one of several datagrams packed in one GRO message:
	 * no headroom or tailroom of its own (an echo reply is copied out) */
	bool rx_packed[EP_BATCH];
	uint8_t *rxgro;			/* EP_BATCH GRO messages (EP_GRO_SLOT each) */
	unsigned rx_gro_msgs;		/* GRO messages per recvmmsg: EP_BATCH, 0
					 * when rxgro could not be had */
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rx_ctl[EP_BATCH];		/* each message's UDP_GRO segment size */
	bool tun_vnet;			/* side 0 is a TUN with IFF_VNET_HDR and
					 * offloads (cfg.tun_offload, ep_tunoff.c) */
	uint8_t *tun_frame;		/* its reads: EP_TUN_FRAME_MAX bytes */
	uint64_t tun_tso_reads;		/* super-frames read and cut */
	uint64_t tun_tso_segments;	/* the packets cut from them */
	uint8_t *tun_train;		/* the TCP train being written (ep_tunoff.c):
					 * virtio_net_hdr + up to 64 KB */
	struct gso_tcp_train tun_tt;	/* its state (base/gso.h), in tun_train */
	uint64_t tun_gro_writes;	/* trains written as one GSO frame */
	uint64_t tun_gro_segments;	/* the segments they carried */
	uint64_t gro_receives;		/* GRO messages with several datagrams */
	uint64_t gro_datagrams;		/* the datagrams they held */
	bool gso_off;			/* the kernel refused UDP GSO: sendmmsg only */
	uint64_t gso_sends;		/* UDP GSO sendmsg calls that went out */

	uint64_t drops[VPN_DROP_MAX];	/* packets no tunnel took */
	uint64_t bgp_to_side, bgp_from_side;	/* vpn_endpoint_counters */
	uint64_t inside_sibling;		/* vpn_endpoint_counters */
	uint64_t next_housekeeping_ms;

	/* Ring sides (cfg.use_plain_rings, ep_ring.c): side k's rings (NULL
	 * for fd sides), the slots reserved in ring_out and not yet
	 * published, and the packets that found none; the connections the
	 * router names, sorted by key (rebuilt on every tunnel change). */
	struct ring *ring_in[VPN_PLAIN_PORTS_MAX], *ring_out[VPN_PLAIN_PORTS_MAX];
	unsigned ring_out_pending[VPN_PLAIN_PORTS_MAX];
	unsigned ring_out_dropped[VPN_PLAIN_PORTS_MAX];
	struct ep_conn *conns;
	size_t n_conns, cap_conns;
};

/* A connection as the router names it: its key and its tunnels (index
 * conn_tunnel - 1; NULL when absent). */
struct ep_conn {
	uint64_t cn_key;
	struct ep_tunnel *cn_tunnel[2];
};

/* ep_socket.c */
int ep_tun_open(struct vpn_endpoint *ep);
struct ep_local *ep_local_get(struct vpn_endpoint *ep, uint32_t ip);
void ep_local_put(struct vpn_endpoint *ep, struct ep_local *lo);

/* ep_tunnel.c */
int ep_tunnel_add(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec, uint64_t now);
int ep_tunnel_update(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec, uint64_t now);
int ep_tunnel_remove(struct vpn_endpoint *ep, const char *id, uint64_t now);
int ep_tunnel_rekey(struct vpn_endpoint *ep, const char *id, unsigned what, uint64_t now);
void ep_tunnel_stop_all(struct vpn_endpoint *ep, uint64_t now);
void ep_tunnel_start_all(struct vpn_endpoint *ep, uint64_t now);
struct ep_tunnel *ep_tunnel_find(struct vpn_endpoint *ep, const char *id);
struct ep_tunnel *ep_tunnel_by_peer(struct vpn_endpoint *ep, uint32_t local, uint32_t remote);
void ep_ike_drain(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now);
/* A datagram for t's IKE: to the core of its header's version, or
 * refused with a status when the tunnel does not allow that version. */
void ep_ike_input(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now,
		  const struct ike_addr *from, bool natt, const uint8_t *p, size_t len);
uint64_t ep_ike_deadline(const struct ep_tunnel *t);
void ep_ike_tick(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now);
void ep_housekeeping(struct vpn_endpoint *ep, uint64_t now);
void ep_snapshot(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now);
void ep_tunnel_free_all(struct vpn_endpoint *ep);

/* ep_datapath.c */
void ep_tun_readable(struct vpn_endpoint *ep, unsigned port, uint64_t now);
void ep_bgp_readable(struct vpn_endpoint *ep, uint64_t now);
void ep_natt_readable(struct vpn_endpoint *ep, struct ep_local *lo, uint64_t now);
void ep_esp_readable(struct vpn_endpoint *ep, struct ep_local *lo, uint64_t now);
void ep_ike_readable(struct vpn_endpoint *ep, struct ep_local *lo, uint64_t now);
void ep_datapath_forget_child(struct vpn_endpoint *ep, struct ep_child *c);

/* for ep_ring.c: the TUN side's route choice, the SA choice, and the
 * outbound queue, as the TUN side uses them */
struct inner_facts;
struct ep_child *ep_route_packet(struct vpn_endpoint *ep, unsigned port, const uint8_t *p,
				 uint32_t len, struct ep_tunnel **t_out);
struct ep_child *ep_child_for(struct ep_tunnel *t, const uint8_t *p, uint32_t len);
void ep_tx_enqueue(struct vpn_endpoint *ep, struct esp_pkt *pkt, struct ep_child *c,
		   struct inner_facts *f);
bool ep_tx_room(const struct vpn_endpoint *ep);
void ep_tx_flush(struct vpn_endpoint *ep);
/* The next free outbound pool buffer, taken (call ep_tx_room first). */
uint8_t *ep_tx_pool_take(struct vpn_endpoint *ep);
/* A packet of len bytes read from plaintext side port at buf + ESP_HEADROOM
 * (a pool buffer taken for it): parsed, routed, queued or counted. */
void ep_tun_packet(struct vpn_endpoint *ep, unsigned port, uint8_t *buf, uint32_t len);

/* ep_tunoff.c: one read of a TUN with offloads (virtio_net_hdr first):
 * its checksum completed or its segments cut, each to ep_tun_packet. */
void ep_tun_offload_frame(struct vpn_endpoint *ep, unsigned port, uint8_t *frame, uint32_t len);
/* A decrypted packet for that TUN: joined to the TCP train, or the train
 * written and the packet alone after it; false: a write failed. */
bool ep_tun_offload_write(struct vpn_endpoint *ep, const uint8_t *p, uint32_t len);
/* The train written (end of a receive batch); false: the write failed. */
bool ep_tun_offload_flush(struct vpn_endpoint *ep);

/* ep_ring.c: ring sides */
int ep_rings_open(struct vpn_endpoint *ep);
void ep_rings_free(struct vpn_endpoint *ep);
/* endpoint.c: the loop watches fd (EPOLLIN) and calls back with w (kept
 * by the caller until ep_watch_del); 0, or -1 with errno (logged). */
int ep_watch_add(struct vpn_endpoint *ep, int fd, struct ep_watch *w);
/* Before the caller closes fd. */
void ep_watch_del(struct vpn_endpoint *ep, int fd);

/* Right before the loop waits: false when a ring has packets (do not block). */
bool ep_rings_sleep(struct vpn_endpoint *ep);
/* After it: every ring side with packets is served. */
void ep_rings_poll(struct vpn_endpoint *ep, uint64_t now);
void ep_ring_woken(struct vpn_endpoint *ep, unsigned port);
/* Rebuilds ep->conns from the tunnels (loop thread, after each change). */
void ep_conns_rebuild(struct vpn_endpoint *ep);
/* A decrypted packet to plaintext side port (fd or ring); false: dropped.
 * Ring sides publish at ep_plain_flush(). */
bool ep_plain_write(struct vpn_endpoint *ep, unsigned port, const uint8_t *p, uint32_t len);
void ep_plain_flush(struct vpn_endpoint *ep);
/* Where a packet of up to len bytes may be decrypted so that it is the
 * k-th packet after those already written to ring side port in this batch
 * (ep_plain_write then copies nothing); NULL: an fd side, too long, or no
 * room (then decrypted in place and written as before). */
uint8_t *ep_plain_slot(struct vpn_endpoint *ep, unsigned port, unsigned k, uint32_t len);

bool ep_cidr_contains(const struct vpn_cidr *c, uint32_t ip);
bool ep_ts_covers(const struct ike_ts *ts, uint32_t ip);

#endif
