/*
 * endpoint — the I/O side of vpcd's Site-to-Site VPN endpoint: sockets, the
 * TUN device, the event loop and the data path that join ike/ (IKEv1 and
 * IKEv2, sans-I/O) and esp/ (userspace ESP) into running tunnels. A tunnel
 * runs one IKE core per version its spec.ike.versions allows; each IKE
 * datagram goes to the core of its header's version (one the tunnel does
 * not allow is dropped, with the status "peer offered IKEv1; tunnel
 * allows ikev2 only" or the converse). This header is
 * the contract for the engine (and for the test harness, endpoint_harness.c).
 *
 * What the engine does with it
 * ----------------------------
 *   1. vpn_endpoint_new(&cfg): opens the TUN device (IFF_TUN|IFF_NO_PI),
 *      sets its MTU and brings it up (or takes cfg.plain_fd instead of a
 *      TUN, and cfg.more_plain_fds: more plaintext sides; or, for the VPC
 *      router in the same process, cfg.plain_rings_*: one pair of rings
 *      per VPN gateway; each tunnel on the side its spec.plain_port names). Addresses and routes on the TUN are
 *      the CALLER's job (the kernel routes the customer's prefixes into
 *      it, and packets the endpoint writes come out of it).
 *   2. vpn_endpoint_add_tunnel(ep, &spec) for each tunnel of each
 *      `available` VPN connection (two per connection, each on its own
 *      outside address). Sockets for the tunnel's local outside address
 *      (UDP 500, UDP 4500, raw ESP) are opened on first use and shared by
 *      every tunnel on that address.
 *   3. vpn_endpoint_start(ep): one thread runs one base/evloop.h loop (sockets,
 *      TUN, IKE timers, control requests). Tunnels may be added, updated
 *      and removed before or after start, from any thread; each call is
 *      applied by the loop between two batches and returns when done.
 *      Changing one tunnel never touches another.
 *   4. Status: a callback (cfg.on_status) called on the loop thread at
 *      every UP/DOWN change, and vpn_endpoint_tunnel_status(), safe from
 *      any thread, for the full picture (`vpcctl vpn status`): UP/DOWN,
 *      since, cause, peer address and NAT-T port, IKE counters, the ISAKMP
 *      SA (ike_get_isakmp_status: state, cookies, algorithms, remaining
 *      phase 1 lifetime), per CHILD SA
 *      the SPIs, transform, selectors, remaining lifetime,
 *      packets/bytes each way, replay window and drops by cause. Counters
 *      in the snapshot are refreshed by the loop once a second and at
 *      every SA change.
 *   5. vpn_endpoint_stop(ep) sends Delete payloads for every SA, stops
 *      the thread; vpn_endpoint_free(ep) wipes every key and closes
 *      everything.
 *
 * Data path (loop thread, batches, nothing allocated per packet)
 *   Ring side k (the VPC router's VPN gateway port): the connection the
 *   router chose (spec.conn_key) -> the first of its two tunnels with a
 *   CHILD SA covering the packet (the router's preferred one first, else
 *   tunnel 1: failover is decided here, once) -> clamp, clear DF and
 *   fragment with the facts the router parsed -> encrypted in place in
 *   the ring's slot. A packet without a connection (no VPN gateway route
 *   named one) takes the routes below.
 *   TUN (or plaintext side k: only the tunnels whose plain_port is k)
 *   -> tunnel by its routes (longest prefix; an UP tunnel preferred
 *   over a DOWN one with the same prefix, so traffic fails over to the
 *   other tunnel of a connection) -> the newest CHILD SA of that tunnel
 *   whose selectors cover the packet -> clamp TCP MSS, clear DF, fragment
 *   to the SA's inner MTU -> esp_encrypt_batch -> sendmmsg (UDP 4500 to the
 *   peer's NAT-T port when the SA is UDP-encapsulated, else raw ESP).
 *   Inbound: recvmmsg -> esp_decrypt_batch (SA table per local address)
 *   -> inner packet checked against the SA's selectors -> ICMP echo to our
 *   inside address answered back into the tunnel; on a BGP tunnel
 *   (spec.bgp), anything else from the customer's inside address (.2) to
 *   ours (.1) to the BGP side; a packet to another tunnel's inside /30
 *   dropped — unless it is the inside pair (.2 to .1) of the other tunnel
 *   of the same connection (ids "<connection>#N", same peer, same
 *   plaintext side), whose live CHILD SA covers it: taken as that
 *   tunnel's (strongSwan's libipsec sends it into the wrong tunnel after a
 *   restart); anything else to TUN (to the tunnel's plaintext side).
 *
 * The BGP side (vpn_endpoint_set_bgp_tun: bgp0 in BIRD's namespace,
 * bgp/bgp_tun.h) carries only BGP tunnels' inside pairs: a packet read
 * from it goes into the BGP tunnel whose inside /30 holds its destination,
 * only from our .1 to the customer's .2 and only while that tunnel is UP
 * (MSS clamp, DF clear, fragments, as above); everything else is dropped
 * and counted (VPN_DROP_BGP_*, VPN_DROP_INSIDE_OTHER). Nothing from the
 * BGP side reaches a plaintext side or the reverse.
 *   Rekey is make-before-break: a new CHILD SA is used as soon as it is
 *   installed; a deleted inbound SA keeps decrypting for
 *   VPN_SA_LINGER_MS so that packets in flight are not lost.
 *
 * Ownership: every spec and config is copied (PSK included) and the
 * caller may wipe its copy after the call. Secrets never reach a log line.
 */
#ifndef VPCD_VPN_ENDPOINT_H
#define VPCD_VPN_ENDPOINT_H

#include "model/tunnel_limits.h"
#include "vpn/esp/esp.h"
#include "vpn/ike/ike.h"
#include "vpn/ike/ikev2.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;	/* base/ring.h */

#define VPN_TUNNEL_ID_MAX	64
#define VPN_MAX_ROUTES		128	/* per tunnel: static routes, and up to 100 learned through BGP */
#define VPN_MAX_CHILDREN	8	/* CHILD SAs shown per tunnel */
#define VPN_MAX_TUNNELS		256
#define VPN_SA_LINGER_MS	5000	/* deleted inbound SA still decrypts */
#define VPN_OUTER_MTU_DEFAULT	1500
#define VPN_TCP_MSS_DEFAULT	TUNNEL_TCP_MSS_DEFAULT
#define VPN_PLAIN_PORTS_MAX	16	/* plaintext sides: plain_fd + more_plain_fds */

/* The limits AWS applies to tunnel options are model/tunnel_limits.h's
 * (TUNNEL_*); a spec outside them is refused unless spec.test_short_timers
 * is set (tests only), which lowers these minimums: */
#define VPN_TEST_LIFETIME_MIN	10
#define VPN_TEST_DPD_TIMEOUT_MIN 3

/* A CIDR, host byte order. */
struct vpn_cidr {
	uint32_t addr;
	uint8_t prefix_len;
};

struct vpn_tunnel_spec {
	char id[VPN_TUNNEL_ID_MAX];	/* e.g. "vpn-0123abcd#1"; unique */
	uint32_t local_ip;		/* our outside address (on this host) */
	uint32_t remote_ip;		/* customer gateway */
	uint8_t psk[IKE_PSK_MAX];
	size_t psk_len;
	struct vpn_cidr inside;		/* /30: ours = .1, router = .2 */

	/* Tunnel options in force. Algorithm lists, lifetimes, rekey
	 * margin/fuzz, replay window, DPD, startup action and the traffic
	 * selector bounds (local_ts = VPC side, remote_ts = customer side)
	 * are given as ike/ takes them; name/addresses/psk are filled from
	 * the fields above. */
	struct ike_tunnel_config ike;
	uint16_t tcp_mss;		/* 0 = VPN_TCP_MSS_DEFAULT */
	uint32_t outer_mtu;		/* 0 = VPN_OUTER_MTU_DEFAULT */

	/* Customer-side prefixes routed into this tunnel. */
	struct vpn_cidr routes[VPN_MAX_ROUTES];
	size_t n_routes;

	bool test_short_timers;		/* TEST ONLY: lifts the AWS minimums */

	/* The plaintext side this tunnel belongs to: 0 = the TUN (or
	 * cfg.plain_fd), k = cfg.more_plain_fds[k - 1]. Decrypted packets are
	 * written to that side; a packet read from a side is routed only
	 * among the tunnels of that side (e.g. one side per VPN gateway, each
	 * into its own VPC). Changes in place on update. */
	uint8_t plain_port;

	/* A dynamic (BGP) connection's tunnel: its inside pair (our .1, the
	 * customer's .2) is BGP's, carried to and from the BGP side. Changes in
	 * place on update. */
	bool bgp;
	/* The connection this tunnel is one of, as the VPC router names it on
	 * a ring side (struct ring_meta.rm_conn: the key the router's VPN
	 * gateway routes chose) and which of its tunnels it is (1 or 2).
	 * 0: the router never names it (a TUN side; routes decide). Changes
	 * in place on update. */
	uint64_t conn_key;
	uint8_t conn_tunnel;
};

/* AWS's default tunnel options (ike_tunnel_config_defaults), MSS 1379,
 * MTU 1500, no routes. */
void vpn_tunnel_spec_defaults(struct vpn_tunnel_spec *spec);
/* NULL if the spec is acceptable, else why not (static string). */
const char *vpn_tunnel_spec_check(const struct vpn_tunnel_spec *spec);

/* Drops the endpoint counts itself (ESP's are per SA, by esp_status). */
enum vpn_drop {
	VPN_DROP_NO_ROUTE,	/* TUN packet matched no tunnel's routes */
	VPN_DROP_NO_SA,		/* tunnel has no CHILD SA covering it */
	VPN_DROP_BAD_PACKET,	/* not IPv4 / truncated / too big */
	VPN_DROP_FRAGMENT,	/* could not fragment */
	VPN_DROP_ENCRYPT,	/* esp_encrypt_batch refused it */
	VPN_DROP_SEND,		/* sendmmsg failed */
	VPN_DROP_SELECTOR,	/* decrypted inner packet outside the SA's selectors */
	VPN_DROP_TUN_WRITE,	/* write to TUN failed (or no such plaintext side) */
	VPN_DROP_INSIDE_OTHER,	/* decrypted, to another tunnel's inside /30 */
	VPN_DROP_BGP_NOT_PEER,	/* BGP side: not between our .1 and the customer's .2 */
	VPN_DROP_BGP_NO_SIDE,	/* for the BGP side, which is not open */
	VPN_DROP_BGP_NO_TUNNEL,	/* from the BGP side: no BGP tunnel's inside /30 */
	VPN_DROP_BGP_DOWN,	/* from the BGP side: its tunnel is down (no SA) */
	VPN_DROP_MAX
};
const char *vpn_drop_name(enum vpn_drop why);

struct vpn_child_status {
	uint32_t spi_in, spi_out;
	enum ike_encr encr;
	enum ike_integ integ;
	char transform[48];		/* "esp-aes esp-sha-hmac" style */
	struct ike_ts ts_local, ts_remote;
	bool udp_encap;
	uint16_t encap_remote_port;
	bool lingering;			/* deleted, inbound still accepted */
	int64_t installed_unix;
	uint32_t soft_remaining_s, hard_remaining_s;
	uint32_t replay_window;
	uint64_t pkts_in, bytes_in, pkts_out, bytes_out;
	uint64_t drops_in[ESP_STATUS_COUNT], drops_out[ESP_STATUS_COUNT];
	uint32_t seq_out, seq_in;
};

struct vpn_tunnel_status {
	char id[VPN_TUNNEL_ID_MAX];
	uint32_t local_ip, remote_ip;
	uint16_t remote_port;		/* peer's IKE port, 0 when unknown */
	bool up;
	int64_t since_unix;		/* last UP/DOWN change (or creation) */
	char cause[IKE_CAUSE_MAX];	/* "" when up */
	struct ike_stats ike;
	struct ike_isakmp_status isakmp;	/* IKEv1; state NONE when there is none */
	unsigned ike_version;		/* 1 or 2: the core whose status stands (0: a
					 * tunnel allowing both that heard nothing yet) */
	struct ikev2_sa_status ikev2;	/* IKEv2; state NONE when there is none */
	size_t n_children;		/* CHILD SAs, newest first */
	struct vpn_child_status children[VPN_MAX_CHILDREN];
	uint64_t drops[VPN_DROP_MAX];
	/* The other tunnel's inside pair (.2 to .1) decrypted on this
	 * tunnel's SAs and taken as that tunnel's (ep_datapath.c,
	 * inside_sibling; the endpoint's total is counters.inside_sibling). */
	uint64_t for_other_tunnel;
};

/* Called on the loop thread (or the caller's, before start) at every
 * UP/DOWN change. Must not call back into the endpoint's control API. */
typedef void (*vpn_status_cb)(void *arg, const char *tunnel_id, bool up,
			      const char *cause, int64_t since_unix);

struct vpn_endpoint_config {
	char tun_name[16];		/* IFNAMSIZ; created if it does not exist */
	/* Instead of a TUN: plain_fd carries the plaintext side, one IPv4
	 * packet per read/write (one end of a SOCK_SEQPACKET socketpair, a TUN
	 * fd opened elsewhere with IFF_NO_PI). The endpoint owns it from
	 * vpn_endpoint_new() on (closed by vpn_endpoint_free(), also when
	 * vpn_endpoint_new() fails) and sets O_NONBLOCK; tun_name is then
	 * only a name for the log. */
	bool use_plain_fd;
	int plain_fd;
	/* More plaintext sides (only with use_plain_fd): port k (k >= 1) is
	 * more_plain_fds[k - 1], taken as plain_fd is (owned, O_NONBLOCK,
	 * closed by vpn_endpoint_free(), also when vpn_endpoint_new() fails).
	 * A tunnel names its side by spec.plain_port. */
	size_t n_more_plain_fds;	/* at most VPN_PLAIN_PORTS_MAX - 1 */
	int more_plain_fds[VPN_PLAIN_PORTS_MAX - 1];
	/* Instead of a TUN or fds: the plaintext sides are ports of the VPC
	 * router in this process, side k a pair of SPSC rings (base/ring.h):
	 * plain_rings_in[k] from the router (the endpoint its only consumer;
	 * each packet with the connection the router chose and the facts it
	 * parsed, so the endpoint neither looks the route up again nor parses:
	 * it only chooses between the connection's two tunnels),
	 * plain_rings_out[k] to the router (the endpoint its only producer).
	 * Not owned: the caller frees them after vpn_endpoint_free(). */
	bool use_plain_rings;
	size_t n_plain_rings;		/* 1..VPN_PLAIN_PORTS_MAX */
	struct ring *plain_rings_in[VPN_PLAIN_PORTS_MAX];
	struct ring *plain_rings_out[VPN_PLAIN_PORTS_MAX];
	uint32_t tun_mtu;		/* 0 = 1500; at most 9000 */
	int rcvbuf_bytes;		/* 0 = 4 MiB (SO_RCVBUFFORCE, else SO_RCVBUF) */
	bool tun_offload;		/* the TUN with IFF_VNET_HDR, checksum and
					 * TCP segmentation offloads (read as 64 KB
					 * super-frames, cut here); a TUN this
					 * process creates itself only (not through
					 * priv/); refused: a plain TUN */
	bool no_udp_gro;		/* receive NAT-T one datagram per message
					 * (tests, benches); else UDP GRO where
					 * the kernel takes it */
	vpn_status_cb on_status;
	void *on_status_arg;
};

struct vpn_endpoint;

/* NULL on failure (logged): TUN cannot be created, bad config. */
struct vpn_endpoint *vpn_endpoint_new(const struct vpn_endpoint_config *cfg);
/* Stops if running, wipes every key, closes every fd. NULL is fine. */
void vpn_endpoint_free(struct vpn_endpoint *ep);

/* 0, or -1 (logged) when the spec is invalid, the id exists, or the
 * outside address's sockets cannot be opened. */
int vpn_endpoint_add_tunnel(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec);
/* Same id: routes, MSS and MTU change in place; anything else restarts
 * that tunnel's IKE (its SAs are deleted and negotiated again). -1 when
 * no such tunnel or the spec is invalid. */
int vpn_endpoint_update_tunnel(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec);
/* Sends Delete payloads, removes its SAs, reports DOWN "removed". */
int vpn_endpoint_remove_tunnel(struct vpn_endpoint *ep, const char *id);

/* Rekey every live CHILD SA of the tunnel now, as at its soft lifetime,
 * or with VPN_REKEY_IKE its IKEv2 SA (operators, and tests that make
 * rekeys collide). -1: no such tunnel. */
#define VPN_REKEY_CHILD	1
#define VPN_REKEY_IKE	2
int vpn_endpoint_rekey_tunnel(struct vpn_endpoint *ep, const char *id, unsigned what);

/* 0, or -1 if the thread cannot start or is already running. */
int vpn_endpoint_start(struct vpn_endpoint *ep);
/* Deletes every SA (Delete payloads sent) and joins the thread. */
void vpn_endpoint_stop(struct vpn_endpoint *ep);

/* Thread-safe snapshot. false when no such tunnel. */
bool vpn_endpoint_tunnel_status(struct vpn_endpoint *ep, const char *id,
				struct vpn_tunnel_status *out);
/* Packets that reached no tunnel (drops[VPN_DROP_NO_ROUTE], not IPv4),
 * datagrams that were nothing on 4500/ESP, IKE from unknown peers. Read
 * without a lock: each value is whole, the set is not one snapshot. */
struct vpn_endpoint_counters {
	uint64_t drops[VPN_DROP_MAX];
	uint64_t rx_invalid;
	uint64_t rx_unknown_peer;
	uint64_t bgp_to_side;		/* packets written to the BGP side */
	uint64_t inside_sibling;	/* a tunnel's inside pair taken from the other
					 * tunnel of its connection (libipsec's reqid) */
	uint64_t bgp_from_side;		/* packets from the BGP side into tunnels */
	uint64_t gso_sends;		/* UDP GSO sends: several NAT-T datagrams each */
	uint64_t gro_receives;		/* NAT-T messages that held several datagrams
					 * (UDP GRO: coalesced by the kernel) */
	uint64_t gro_datagrams;		/* the datagrams those messages held */
	uint64_t tun_tso_reads;		/* TUN super-frames read (tun_offload) */
	uint64_t tun_tso_segments;	/* the packets cut from them */
	uint64_t tun_gro_writes;	/* TCP trains written to that TUN as one
					 * GSO frame each */
	uint64_t tun_gro_segments;	/* the segments they carried */
};
void vpn_endpoint_counters(struct vpn_endpoint *ep, struct vpn_endpoint_counters *out);

/* The BGP side: bgp0's fd (bgp/bgp_tun.h), or any fd carrying one IPv4
 * packet per read/write (one end of a SOCK_SEQPACKET socketpair). The
 * endpoint owns it from the call on (also when it fails), sets
 * O_NONBLOCK, closes the one it replaces and closes it in
 * vpn_endpoint_free(); fd -1 closes the side. Any thread, before or after
 * start. 0, or -1 (logged) when the loop cannot watch it. */
int vpn_endpoint_set_bgp_tun(struct vpn_endpoint *ep, int fd);

/* Ids of all tunnels, up to max; returns the total count. */
size_t vpn_endpoint_tunnel_ids(struct vpn_endpoint *ep, char (*ids)[VPN_TUNNEL_ID_MAX],
			       size_t max);

/* Parsing helpers for configuration front ends (driver, engine). */
int vpn_parse_ipv4(const char *s, uint32_t *out);
int vpn_parse_cidr(const char *s, struct vpn_cidr *out);
void vpn_format_ipv4(uint32_t ip, char *buf, size_t len);

/* The privileged steps, also for priv/'s helper. The TUN device name
 * (created if missing; name gets the kernel's), IFF_TUN|IFF_NO_PI,
 * O_NONBLOCK, MTU set and up: its fd, or -1 (logged). offload: also
 * IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4) (the fd then
 * reads and writes a virtio_net_hdr first, ep_tunoff.c); -1 when the
 * kernel refuses either (logged at info; the caller may open a plain one).
 * Under privilege separation the helper opens it (priv_tun_open). */
int vpn_tun_create(char name[16], uint32_t mtu, bool offload);
/* UDP 500, UDP 4500 and raw ESP bound to ip (host order; IP_FREEBIND,
 * never DF), rcvbuf bytes of buffer on the last two: fds[0..2], or -1
 * (logged) with none open. */
int vpn_outside_sockets(uint32_t ip, int rcvbuf, int fds[3]);

#endif
